#include "shared/model_plan_1d.h"

#include <algorithm>
#include <initializer_list>
#include <limits>

namespace cloudbook {

namespace {

constexpr char kSequenceHint[] = "; add a reshape such as [28, 28] before it";

// Sizes come from files others wrote (DU files): bounding the window parameters keeps every
// product below (kernel - 1) * dilation, (out - 1) * stride free of overflow.
constexpr int64_t kMaxWindow = int64_t{1} << 30;
constexpr char kTooLarge[] = "steps, filters, kernel, pool, stride and dilation must be below 2^30";

bool TooLarge(std::initializer_list<int64_t> values) {
  for (int64_t v : values) {
    if (v >= kMaxWindow) return true;
  }
  return false;
}

std::string Got(const std::vector<int64_t>& shape) {
  return " (input shape " + ShapeToString(shape) + ")";
}

double Size(const std::vector<int64_t>& shape) {
  double size = 1;
  for (int64_t d : shape) size *= static_cast<double>(d);
  return size;
}

// Output length of a window sliding over `in` cells (after padding).
int64_t SlidingLength(int64_t in, int64_t span, int64_t stride) { return (in - span) / stride + 1; }

// conv1d: Keras Conv1D (keras/src/layers/convolutional/conv1d.py; tf.keras
// tensorflow/python/keras/layers/convolutional.py): kernel (k, in, filters) + bias (filters).
std::string PlanConv1d(std::vector<int64_t>* shape, PlannedLayer* planned) {
  const LayerSpec& layer = planned->spec;
  if (shape->size() != 2) return "needs a sequence (steps, channels)" + Got(*shape) + kSequenceHint;
  const int64_t filters = LayerInt(layer, "filters", 0);
  const int64_t kernel = LayerInt(layer, "kernel", 0);
  const int64_t stride = LayerInt(layer, "stride", 1);
  const int64_t dilation = LayerInt(layer, "dilation", 1);
  const std::string padding = LayerWord(layer, "padding", "valid");
  if (filters <= 0 || kernel <= 0 || stride <= 0 || dilation <= 0) {
    return "filters, kernel, stride and dilation must be positive";
  }
  if (TooLarge({(*shape)[0], filters, kernel, stride, dilation})) return kTooLarge;
  // Keras: "Specifying any stride value != 1 is incompatible with specifying any
  // dilation_rate value != 1."
  if (stride > 1 && dilation > 1) return "stride > 1 together with dilation > 1 (Keras refuses it)";
  const int64_t steps = (*shape)[0], channels = (*shape)[1];
  const int64_t span = (kernel - 1) * dilation + 1;
  int64_t before = 0, after = 0;
  if (padding == "same") {
    const auto pads = SamePadding(steps, kernel, stride, dilation);
    before = pads[0];
    after = pads[1];
  } else if (padding == "causal") {
    before = span - 1;  // Keras: left-pad dilation * (kernel - 1), then 'valid'
  } else if (span > steps) {
    return "kernel span " + std::to_string(span) + " is longer than the sequence" + Got(*shape);
  }
  const int64_t out = SlidingLength(steps + before + after, span, stride);
  planned->pads = {before, after};
  // Saturates at INT64_MAX like model_plan.cc (channels come from earlier layers).
  int64_t weights = 0;
  if (__builtin_mul_overflow(kernel * filters, channels, &weights) ||
      __builtin_add_overflow(weights, filters, &planned->parameters)) {
    planned->parameters = std::numeric_limits<int64_t>::max();
  }
  planned->flops = 2.0 * static_cast<double>(out) * static_cast<double>(filters) *
                   static_cast<double>(kernel) * static_cast<double>(channels);
  *shape = {out, filters};
  return "";
}

// maxpool1d / avgpool1d: Keras MaxPooling1D, AveragePooling1D
// (keras/src/layers/pooling/max_pooling1d.py, average_pooling1d.py): stride defaults to the
// pool; 'same' pads as TF and the padding never counts (max ignores it, the average divides by
// the real cells).
std::string PlanPool1d(std::vector<int64_t>* shape, PlannedLayer* planned) {
  const LayerSpec& layer = planned->spec;
  if (shape->size() != 2) return "needs a sequence (steps, channels)" + Got(*shape) + kSequenceHint;
  const int64_t pool = LayerInt(layer, "pool", 2);
  const int64_t stride = LayerInt(layer, "stride", pool);
  if (pool <= 0 || stride <= 0) return "pool and stride must be positive";
  if (TooLarge({(*shape)[0], pool, stride})) return kTooLarge;
  const int64_t steps = (*shape)[0];
  int64_t out = 0;
  if (LayerWord(layer, "padding", "valid") == "same") {
    planned->pads = SamePadding(steps, pool, stride, 1);
    out = SlidingLength(steps + planned->pads[0] + planned->pads[1], pool, stride);
  } else {
    if (pool > steps)
      return "pool " + std::to_string(pool) + " is longer than the sequence" + Got(*shape);
    planned->pads = {0, 0};
    out = SlidingLength(steps, pool, stride);
  }
  planned->flops =
      static_cast<double>(out) * static_cast<double>((*shape)[1]) * static_cast<double>(pool);
  (*shape)[0] = out;
  return "";
}

// normalization: Keras Normalization adapted on the training x
// (keras/src/layers/preprocessing/normalization.py). Its statistics come from the raw training
// x, so only layers that keep the values as they are may precede it.
std::string PlanNormalization(const std::vector<PlannedLayer>& previous,
                              const std::vector<int64_t>& shape, PlannedLayer* planned) {
  for (const PlannedLayer& before : previous) {
    if (before.spec.type != "reshape" && before.spec.type != "flatten") {
      return "adapts to the training x, so only reshape and flatten may come before it (found " +
             before.spec.type + ")";
    }
  }
  planned->flops = 2.0 * Size(shape);  // subtract, divide
  return "";
}

}  // namespace

bool IsLayer1dType(const std::string& type) {
  return type == "conv1d" || type == "maxpool1d" || type == "avgpool1d" ||
         type == "global_avgpool1d" || type == "global_maxpool1d" || type == "global_maxpool2d" ||
         type == "normalization" || type == "activation";
}

std::vector<int64_t> SamePadding(int64_t in, int64_t window, int64_t stride, int64_t dilation) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + (window - 1) * dilation + 1 - in, 0);
  return {total / 2, total - total / 2};
}

int64_t NormalizationChannels(const std::vector<int64_t>& input_shape) {
  if (input_shape.empty()) return 1;
  return input_shape.size() == 3 ? input_shape[0] : input_shape.back();
}

std::string PlanLayer1d(const std::vector<PlannedLayer>& previous, std::vector<int64_t>* shape,
                        PlannedLayer* planned) {
  const std::string& type = planned->spec.type;
  if (type == "conv1d") return PlanConv1d(shape, planned);
  if (type == "maxpool1d" || type == "avgpool1d") return PlanPool1d(shape, planned);
  if (type == "global_avgpool1d" || type == "global_maxpool1d") {
    if (shape->size() != 2) return "needs a sequence (steps, channels)" + Got(*shape);
    planned->flops = Size(*shape);
    *shape = {(*shape)[1]};
    return "";
  }
  if (type == "global_maxpool2d") {
    if (shape->size() != 3) return "needs an image input" + Got(*shape);
    planned->flops = Size(*shape);
    *shape = {(*shape)[0]};
    return "";
  }
  if (type == "normalization") return PlanNormalization(previous, *shape, planned);
  if (type == "activation") return "";  // weights none; like every activation, no FLOPs counted
  return "unknown layer type";
}

}  // namespace cloudbook
