#include "shared/nn/layers_1d.h"

#include <limits>

#include "shared/model_plan_1d.h"

namespace cloudbook {

namespace {

// backend.epsilon(): Normalization divides by max(sqrt(variance), 1e-7).
constexpr double kNormalizationEpsilon = 1e-7;

bool Padded(const std::vector<int64_t>& pads) {
  return !pads.empty() && (pads[0] != 0 || pads[1] != 0);
}

torch::Tensor Pad(const torch::Tensor& channels_first, const std::vector<int64_t>& pads,
                  double value) {
  return Padded(pads) ? torch::constant_pad_nd(channels_first, {pads[0], pads[1]}, value)
                      : channels_first;
}

// Keras AveragePooling1D with padding: the padding is not counted (TF's avg_pool divides by
// the real cells). torch's count_include_pad=false needs symmetric padding, so: window sums
// of zero-padded values divided by window counts of real cells.
torch::Tensor AveragePool(const torch::Tensor& x, const Layer1dStep& step) {
  const torch::Tensor sums = torch::avg_pool1d(Pad(x, step.pads, 0), step.window, step.stride);
  if (!Padded(step.pads)) return sums;
  const torch::Tensor cells = torch::ones({1, 1, x.size(2)}, x.options());
  return sums / torch::avg_pool1d(Pad(cells, step.pads, 0), step.window, step.stride);
}

}  // namespace

Layer1dStep BuildLayer1d(torch::nn::Module& owner, const PlannedLayer& planned,
                         const std::string& name) {
  const LayerSpec& layer = planned.spec;
  Layer1dStep step;
  step.pads = planned.pads;
  if (layer.type == "conv1d") {
    const int64_t channels = planned.input_shape[1];
    step.conv = owner.register_module(
        name, torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, LayerInt(layer, "filters", 1),
                                                         LayerInt(layer, "kernel", 1))
                                    .stride(LayerInt(layer, "stride", 1))
                                    .dilation(LayerInt(layer, "dilation", 1))));
  } else if (layer.type == "maxpool1d" || layer.type == "avgpool1d") {
    step.window = LayerInt(layer, "pool", 2);
    step.stride = LayerInt(layer, "stride", step.window);
  } else if (layer.type == "normalization") {
    const int64_t channels = NormalizationChannels(planned.input_shape);
    step.mean = owner.register_buffer(name + "_mean", torch::zeros({channels}));
    step.variance = owner.register_buffer(name + "_variance", torch::ones({channels}));
  }
  return step;
}

torch::Tensor ForwardLayer1d(const std::string& type, Layer1dStep& step, torch::Tensor x) {
  if (type == "conv1d") {  // [B, L, C] -> [B, C, L] for torch, and back
    return step.conv->forward(Pad(x.transpose(1, 2), step.pads, 0)).transpose(1, 2);
  }
  if (type == "maxpool1d") {  // -inf padding: max ignores it
    const auto padded = Pad(x.transpose(1, 2), step.pads, -std::numeric_limits<double>::infinity());
    return torch::max_pool1d(padded, step.window, step.stride).transpose(1, 2);
  }
  if (type == "avgpool1d") return AveragePool(x.transpose(1, 2), step).transpose(1, 2);
  if (type == "global_avgpool1d") return x.mean(1);
  if (type == "global_maxpool1d") return x.amax(1);
  if (type == "global_maxpool2d") return x.amax({2, 3});
  if (type == "normalization") {
    const torch::Tensor scale = step.variance.sqrt().clamp_min(kNormalizationEpsilon);
    if (x.dim() == 4) {  // [B, C, H, W]: statistics per channel
      return (x - step.mean.view({1, -1, 1, 1})) / scale.view({1, -1, 1, 1});
    }
    return (x - step.mean) / scale;
  }
  return x;  // activation: the caller activates
}

ChannelMoments ComputeChannelMoments(const std::vector<const Array*>& parts, int64_t channels) {
  ChannelMoments moments;
  moments.mean.assign(static_cast<size_t>(channels), 0.0);
  moments.variance.assign(static_cast<size_t>(channels), 0.0);
  std::vector<int64_t> counts(static_cast<size_t>(channels), 0);
  for (const Array* part : parts) {
    for (size_t j = 0; j < part->values.size(); ++j) {
      const size_t c = j % static_cast<size_t>(channels);
      moments.mean[c] += part->values[j];
      ++counts[c];
    }
  }
  for (size_t c = 0; c < moments.mean.size(); ++c) {
    if (counts[c] > 0) moments.mean[c] /= static_cast<double>(counts[c]);
  }
  for (const Array* part : parts) {  // two passes: no cancellation in E[x^2] - E[x]^2
    for (size_t j = 0; j < part->values.size(); ++j) {
      const size_t c = j % static_cast<size_t>(channels);
      const double d = part->values[j] - moments.mean[c];
      moments.variance[c] += d * d;
    }
  }
  for (size_t c = 0; c < moments.variance.size(); ++c) {
    if (counts[c] > 0) moments.variance[c] /= static_cast<double>(counts[c]);
  }
  return moments;
}

void AdaptNormalization(torch::nn::Module& net, const ModelPlan& plan,
                        const std::vector<const Array*>& parts) {
  torch::NoGradGuard no_grad;
  auto buffers = net.named_buffers(/*recurse=*/false);
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const PlannedLayer& planned = plan.layers[i];
    if (planned.spec.type != "normalization") continue;
    const int64_t channels = NormalizationChannels(planned.input_shape);
    const ChannelMoments moments = ComputeChannelMoments(parts, channels);
    const std::string name = planned.spec.type + std::to_string(i);
    auto as_tensor = [](const std::vector<double>& values) {
      return torch::tensor(values, torch::kDouble).to(torch::kFloat);
    };
    buffers[name + "_mean"].copy_(as_tensor(moments.mean));
    buffers[name + "_variance"].copy_(as_tensor(moments.variance));
  }
}

}  // namespace cloudbook
