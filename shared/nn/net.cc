#include "shared/nn/net.h"

#include <ATen/CPUGeneratorImpl.h>

#include "shared/model_plan_blocks.h"
#include "shared/model_plan_1d.h"
#include "shared/nn/keras_init.h"
#include "shared/seeded_random.h"

namespace cloudbook {

NetImpl::NetImpl(const ModelPlan& plan, uint64_t generator_seed)
    : input_channels_last_(plan.input_channels_last),
      dropout_generator_(at::detail::createCPUGenerator(generator_seed)) {
  if (!plan.plain_list) kept_.assign(plan.layers.size() + 1, false);
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const PlannedLayer& planned = plan.layers[i];
    const LayerSpec& layer = planned.spec;
    Step step;
    step.type = layer.type;
    step.activation = LayerWord(layer, "activation", "linear");
    step.input_rank = static_cast<int>(planned.input_shape.size());
    const std::string name = layer.type + std::to_string(i);
    if (!plan.plain_list) {
      for (int from : planned.inputs) {
        step.reads.push_back(static_cast<size_t>(from + 1));
        kept_[step.reads.back()] = true;
      }
    }
    if (IsBlockLayer(layer.type)) {
      step.block = register_module(name, MakeBlockLayer(planned));
    } else if (layer.type == "dense") {
      step.linear = register_module(
          name, torch::nn::Linear(planned.input_shape.back(), LayerInt(layer, "units", 1)));
    } else if (layer.type == "conv2d") {
      const auto kernel = LayerPair(layer, "kernel", {1, 1});
      step.stride = LayerPair(layer, "stride", {1, 1});
      step.pads = planned.pads;
      step.conv = register_module(
          name, torch::nn::Conv2d(torch::nn::Conv2dOptions(planned.input_shape[0],
                                                           LayerInt(layer, "filters", 1),
                                                           {kernel[0], kernel[1]})
                                      .stride({step.stride[0], step.stride[1]})));
    } else if (layer.type == "maxpool2d" || layer.type == "avgpool2d") {
      step.window = LayerPair(layer, "pool", {2, 2});
      step.stride = LayerPair(layer, "stride", step.window);
      step.ceil_mode = LayerWord(layer, "padding", "valid") == "same";
    } else if (layer.type == "batchnorm") {
      // Keras momentum m keeps m of the running average; torch's momentum is the new part.
      const double momentum = 1.0 - LayerNumber(layer, "momentum", 0.99);
      const double epsilon = LayerNumber(layer, "epsilon", 1e-3);
      if (planned.input_shape.size() == 3) {
        step.norm2d = register_module(
            name, torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(planned.input_shape[0])
                                             .momentum(momentum)
                                             .eps(epsilon)));
      } else {
        step.norm1d = register_module(
            name, torch::nn::BatchNorm1d(torch::nn::BatchNormOptions(planned.input_shape.back())
                                             .momentum(momentum)
                                             .eps(epsilon)));
      }
    } else if (layer.type == "embedding") {
      step.embedding = register_module(
          name,
          torch::nn::Embedding(LayerInt(layer, "input_dim", 1), LayerInt(layer, "output_dim", 1)));
    } else if (layer.type == "gru") {
      step.return_sequences = LayerWord(layer, "return_sequences", "false") == "true";
      step.gru = register_module(
          name,
          torch::nn::GRU(torch::nn::GRUOptions(planned.input_shape[1], LayerInt(layer, "units", 1))
                             .batch_first(true)));
    } else if (layer.type == "lstm") {
      step.return_sequences = LayerWord(layer, "return_sequences", "false") == "true";
      step.lstm =
          register_module(name, torch::nn::LSTM(torch::nn::LSTMOptions(planned.input_shape[1],
                                                                       LayerInt(layer, "units", 1))
                                                    .batch_first(true)));
    } else if (layer.type == "reshape") {
      step.target_shape = planned.output_shape;  // internal layout
      step.to_channels_first = planned.to_channels_first;
      if (step.to_channels_first) {  // reshape in Keras order (H, W, C), then permute
        step.target_shape = {planned.output_shape[1], planned.output_shape[2],
                             planned.output_shape[0]};
      }
    } else if (layer.type == "dropout") {
      step.rate = LayerNumber(layer, "rate", 0);
    } else if (IsLayer1dType(layer.type)) {
      step.layer1d = BuildLayer1d(*this, planned, name);
    }
    steps_.push_back(std::move(step));
  }
  InitializeKerasWeights(*this, SeededRandom::Derive(generator_seed, 0x1A17));
  softmax_output_ = !steps_.empty() && steps_.back().activation == "softmax";
}

torch::Tensor NetImpl::Activate(const torch::Tensor& x, const std::string& activation) const {
  if (activation == "relu") return torch::relu(x);
  if (activation == "sigmoid") return torch::sigmoid(x);
  if (activation == "tanh") return torch::tanh(x);
  if (activation == "softmax") return torch::softmax(x, -1);
  if (activation == "elu") return torch::elu(x);
  if (activation == "leaky_relu") return torch::leaky_relu(x, 0.2);  // keras.activations slope
  if (activation == "gelu") return torch::gelu(x);
  if (activation == "relu6") return torch::clamp(x, 0, 6);
  if (activation == "softplus") return torch::softplus(x);
  if (activation == "softsign") return x / (x.abs() + 1);
  if (activation == "selu") return torch::selu(x);  // Keras' alpha and scale
  if (activation == "swish" || activation == "silu") return torch::silu(x);
  return x;  // linear
}

torch::Tensor NetImpl::forward(torch::Tensor x) {
  if (input_channels_last_) x = x.permute({0, 3, 1, 2}).contiguous();
  // A DAG keeps the outputs later layers read (0 = the model input); a plain list keeps none.
  std::vector<torch::Tensor> kept(kept_.size());
  if (!kept.empty() && kept_[0]) kept[0] = x;
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& step = steps_[i];
    const bool last = i + 1 == steps_.size();
    if (!step.reads.empty()) x = kept[step.reads[0]];
    if (step.block) {
      std::vector<torch::Tensor> inputs{x};
      for (size_t k = 1; k < step.reads.size(); ++k) inputs.push_back(kept[step.reads[k]]);
      x = step.block->Forward(inputs, dropout_generator_);
    } else if (step.type == "dense") {
      x = step.linear->forward(x);
    } else if (step.type == "conv2d") {
      if (!step.pads.empty() && (step.pads[0] || step.pads[1] || step.pads[2] || step.pads[3])) {
        // F.pad takes (left, right, top, bottom) for the last two dimensions.
        x = torch::constant_pad_nd(x, {step.pads[2], step.pads[3], step.pads[0], step.pads[1]});
      }
      x = step.conv->forward(x);
    } else if (step.type == "maxpool2d") {
      x = torch::max_pool2d(x, step.window, step.stride, 0, 1, step.ceil_mode);
    } else if (step.type == "avgpool2d") {
      x = torch::avg_pool2d(x, step.window, step.stride, 0, step.ceil_mode,
                            /*count_include_pad=*/false);
    } else if (step.type == "global_avgpool2d") {
      x = x.mean({2, 3});
    } else if (step.type == "flatten") {
      x = x.flatten(1);
    } else if (step.type == "reshape") {
      std::vector<int64_t> shape = {x.size(0)};
      shape.insert(shape.end(), step.target_shape.begin(), step.target_shape.end());
      x = x.reshape(shape);
      if (step.to_channels_first) x = x.permute({0, 3, 1, 2}).contiguous();
    } else if (step.type == "dropout") {
      if (is_training() && step.rate > 0) {
        const double keep = 1.0 - step.rate;
        auto mask = torch::bernoulli(torch::full_like(x, keep), dropout_generator_);
        x = x * mask / keep;
      }
    } else if (step.type == "batchnorm") {
      if (step.norm2d) {
        x = step.norm2d->forward(x);
      } else if (x.dim() == 2) {
        x = step.norm1d->forward(x);
      } else {  // [B, T, D]: normalise the last axis, as Keras does
        const auto sizes = x.sizes().vec();
        x = step.norm1d->forward(x.reshape({-1, sizes.back()})).reshape(sizes);
      }
    } else if (step.type == "embedding") {
      x = step.embedding->forward(x.to(torch::kLong));
    } else if (step.type == "gru") {
      auto output = std::get<0>(step.gru->forward(x));
      x = step.return_sequences ? output : output.select(1, output.size(1) - 1);
    } else if (step.type == "lstm") {
      auto output = std::get<0>(step.lstm->forward(x));
      x = step.return_sequences ? output : output.select(1, output.size(1) - 1);
    } else if (IsLayer1dType(step.type)) {
      x = ForwardLayer1d(step.type, step.layer1d, x);
    }
    if (last && softmax_output_) break;  // logits out; the loss applies log-softmax
    x = Activate(x, step.activation);
    if (!kept.empty() && kept_[i + 1]) kept[i + 1] = x;
  }
  return x;
}

}  // namespace cloudbook
