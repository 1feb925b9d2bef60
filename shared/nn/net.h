// A libtorch network built from a ModelPlan (shared/model_plan.h): the layer list in order
// (each layer reading the one above, or the outputs its `inputs` name), with Keras semantics
// (channels-last images converted once to channels-first). The final softmax is left out of
// forward() so training uses the stable log-softmax loss; Predict applies it.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "shared/model_plan.h"
#include "shared/nn/transformer_layers.h"
#include "shared/nn/layers_1d.h"

namespace cloudbook {

class NetImpl : public torch::nn::Module {
 public:
  // `generator_seed` seeds the network's own dropout generator and, derived from it, the
  // Keras initialisers (shared/nn/keras_init.h).
  NetImpl(const ModelPlan& plan, uint64_t generator_seed);
  // Returns logits when the last layer's activation is softmax, else the activated output.
  torch::Tensor forward(torch::Tensor x);
  bool softmax_output() const { return softmax_output_; }
  // The dropout generator, so a checkpoint can save and restore its state (resuming must
  // draw the same masks as an uninterrupted run).
  at::Generator& dropout_generator() { return dropout_generator_; }

 private:
  struct Step {
    std::string type;
    std::string activation;
    torch::nn::Linear linear{nullptr};
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm1d norm1d{nullptr};
    torch::nn::BatchNorm2d norm2d{nullptr};
    torch::nn::Embedding embedding{nullptr};
    torch::nn::GRU gru{nullptr};
    torch::nn::LSTM lstm{nullptr};
    std::shared_ptr<BlockLayerImpl> block;  // add, attention, transformer and ViT layers
    // The DAG: the outputs this layer reads (0 = the model input, i + 1 = layer i); empty in
    // a plain list, where each layer reads the one above.
    std::vector<size_t> reads;
    std::vector<int64_t> window, stride, pads, target_shape;
    bool to_channels_first = false;
    bool ceil_mode = false;
    bool return_sequences = false;
    int input_rank = 0;
    double rate = 0;
    Layer1dStep layer1d;  // the types of shared/model_plan_1d.h
  };

  torch::Tensor Activate(const torch::Tensor& x, const std::string& activation) const;

  std::vector<Step> steps_;
  std::vector<bool> kept_;  // outputs (0 = the model input) a DAG layer reads later
  bool input_channels_last_ = false;
  bool softmax_output_ = false;
  at::Generator dropout_generator_;
};
TORCH_MODULE(Net);

}  // namespace cloudbook
