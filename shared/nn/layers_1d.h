// The libtorch side of the layers planned in shared/model_plan_1d.h: conv1d, maxpool1d,
// avgpool1d, global_avgpool1d, global_maxpool1d, global_maxpool2d, normalization and the
// standalone activation, with Keras semantics (docs/design/keras-semantics.md 2.6-2.9).
// NetImpl (shared/nn/net.h) builds and runs them through these functions. Not thread-safe
// beyond what a torch module is (one network per thread).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/model_plan.h"

namespace cloudbook {

// What forward() needs of one such layer. Sequences are [B, steps, channels] (Keras order).
struct Layer1dStep {
  torch::nn::Conv1d conv{nullptr};
  int64_t window = 0, stride = 1;
  std::vector<int64_t> pads;     // before, after ('same' or 'causal')
  torch::Tensor mean, variance;  // normalization: buffers registered on the network
};

// Registers the layer's modules and buffers on `owner` under `name` (normalization:
// "<name>_mean", "<name>_variance", 0 and 1 until AdaptNormalization) and returns its step.
Layer1dStep BuildLayer1d(torch::nn::Module& owner, const PlannedLayer& planned,
                         const std::string& name);

// Runs the layer of type `type` (the activation itself is applied by the caller).
torch::Tensor ForwardLayer1d(const std::string& type, Layer1dStep& step, torch::Tensor x);

// Per-channel mean and population variance (numpy's np.mean / np.var, ddof 0) of the rows of
// `parts` taken together, channel = flat index modulo `channels` (the Keras last axis).
// Computed in double in a fixed order: the same numbers on every machine.
struct ChannelMoments {
  std::vector<double> mean, variance;
};
ChannelMoments ComputeChannelMoments(const std::vector<const Array*>& parts, int64_t channels);

// Sets every normalization layer of `net` (built from `plan`, buffer names as BuildLayer1d
// registers them with NetImpl's names "<type><index>") to the moments of `parts`: the
// program's whole training x (Keras' adapt(x_train)).
void AdaptNormalization(torch::nn::Module& net, const ModelPlan& plan,
                        const std::vector<const Array*>& parts);

}  // namespace cloudbook
