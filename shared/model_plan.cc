#include "shared/model_plan.h"

#include <limits>
#include <numeric>
#include <sstream>

#include "shared/model_dag.h"
#include "shared/model_plan_1d.h"
#include "shared/model_plan_blocks.h"

namespace cloudbook {

namespace {

// Saturating: sizes come from files others wrote (DU files), so a product of absurd sizes
// must not overflow (undefined behaviour); INT64_MAX fails every later size check instead.
int64_t Mul(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<int64_t>::max();
  return product;
}

int64_t Add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::numeric_limits<int64_t>::max();
  return sum;
}

int64_t Product(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, Mul);
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Pool2dShape {
  int64_t out_h, out_w;
};

}  // namespace

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

int64_t LayerInt(const LayerSpec& layer, const std::string& key, int64_t fallback) {
  auto it = layer.numbers.find(key);
  if (it == layer.numbers.end() || it->second.empty()) return fallback;
  return static_cast<int64_t>(it->second[0].value);
}

double LayerNumber(const LayerSpec& layer, const std::string& key, double fallback) {
  auto it = layer.numbers.find(key);
  if (it == layer.numbers.end() || it->second.empty()) return fallback;
  return it->second[0].value;
}

std::vector<int64_t> LayerPair(const LayerSpec& layer, const std::string& key,
                               std::vector<int64_t> fallback) {
  auto it = layer.numbers.find(key);
  if (it == layer.numbers.end() || it->second.empty()) return fallback;
  const auto& values = it->second;
  if (values.size() == 1) {
    const auto v = static_cast<int64_t>(values[0].value);
    return {v, v};
  }
  return {static_cast<int64_t>(values[0].value), static_cast<int64_t>(values[1].value)};
}

std::string LayerWord(const LayerSpec& layer, const std::string& key, const std::string& fallback) {
  auto it = layer.words.find(key);
  return it == layer.words.end() ? fallback : it->second;
}

Result<ModelPlan> PlanModel(const ModelSpec& resolved, const std::string& source) {
  ModelPlan plan;
  plan.int64_input = resolved.input_dtype == "int64";
  std::vector<int64_t> shape = resolved.input_shape;
  if (shape.empty() || Product(shape) <= 0) {
    return Status::InvalidArgument(source + ": model.input: shape " + ShapeToString(shape) +
                                   " must list positive sizes");
  }
  if (shape.size() == 3) {  // H, W, C -> C, H, W
    plan.input_channels_last = true;
    shape = {shape[2], shape[0], shape[1]};
  }
  plan.input_shape = shape;
  CB_ASSIGN_OR_RETURN(const auto dag, ResolveLayerInputs(resolved, source));
  plan.plain_list = IsPlainList(dag);

  for (size_t index = 0; index < resolved.layers.size(); ++index) {
    const LayerSpec& layer = resolved.layers[index];
    PlannedLayer planned;
    planned.spec = layer;
    planned.inputs = dag[index];
    for (int from : dag[index]) {
      planned.input_shapes.push_back(from == kDagModelInputIndex ? plan.input_shape
                                                                 : plan.layers[from].output_shape);
    }
    shape = planned.input_shapes[0];
    planned.input_shape = shape;
    const std::string& type = layer.type;
    auto fail = [&](const std::string& what) { return LayerError(source, index, layer, what); };
    const std::string got = " (input shape " + ShapeToString(shape) + ")";

    if (type != "dense" && type != "flatten" && type != "reshape" && type != "dropout" &&
        type != "batchnorm" && type != "normalization" && type != "activation") {
      plan.dense_only = false;
    }
    const bool reads_input = dag[index][0] == kDagModelInputIndex;
    if (plan.int64_input && reads_input && !ReadsTokenIds(type)) {
      return fail("integer (token id) input needs an embedding as the first layer");
    }

    if (type == "dense") {
      const int64_t units = LayerInt(layer, "units", 0);
      if (units <= 0) return fail("units must be positive");
      if (shape.size() == 3) {
        return fail("dense on an image" + got +
                    " is not supported; add flatten or global_avgpool2d before it");
      }
      const int64_t in = shape.back();
      const int64_t rows = Product(shape) / in;
      planned.parameters = Add(Mul(in, units), units);
      planned.flops =
          2.0 * static_cast<double>(rows) * static_cast<double>(in) * static_cast<double>(units);
      shape.back() = units;
    } else if (type == "conv2d" || type == "maxpool2d" || type == "avgpool2d") {
      if (shape.size() != 3) {
        return fail("needs an image input (height, width, channels)" + got +
                    "; add a reshape such as [28, 28, 1] before it");
      }
      const bool conv = type == "conv2d";
      const auto kernel =
          conv ? LayerPair(layer, "kernel", {0, 0}) : LayerPair(layer, "pool", {2, 2});
      const auto stride =
          conv ? LayerPair(layer, "stride", {1, 1}) : LayerPair(layer, "stride", kernel);
      const std::string padding = LayerWord(layer, "padding", "valid");
      if (kernel[0] <= 0 || kernel[1] <= 0 || stride[0] <= 0 || stride[1] <= 0) {
        return fail("kernel, pool and stride must be positive");
      }
      const int64_t in_h = shape[1], in_w = shape[2];
      int64_t out_h = 0, out_w = 0;
      if (padding == "same") {
        out_h = CeilDiv(in_h, stride[0]);
        out_w = CeilDiv(in_w, stride[1]);
        if (conv) {
          const int64_t pad_h = std::max<int64_t>((out_h - 1) * stride[0] + kernel[0] - in_h, 0);
          const int64_t pad_w = std::max<int64_t>((out_w - 1) * stride[1] + kernel[1] - in_w, 0);
          planned.pads = {pad_h / 2, pad_h - pad_h / 2, pad_w / 2, pad_w - pad_w / 2};
        } else if (CeilDiv(std::max<int64_t>(in_h - kernel[0], 0), stride[0]) + 1 != out_h ||
                   CeilDiv(std::max<int64_t>(in_w - kernel[1], 0), stride[1]) + 1 != out_w) {
          return fail("padding 'same' is supported for pools whose stride equals the pool size");
        }
      } else {
        if (kernel[0] > in_h || kernel[1] > in_w) {
          return fail("window " + ShapeToString(kernel) + " is larger than the image" + got);
        }
        out_h = (in_h - kernel[0]) / stride[0] + 1;
        out_w = (in_w - kernel[1]) / stride[1] + 1;
      }
      const int64_t channels = shape[0];
      const int64_t out_channels = conv ? LayerInt(layer, "filters", 0) : channels;
      if (out_channels <= 0) return fail("filters must be positive");
      if (conv) {
        planned.parameters =
            Add(Mul(Mul(Mul(kernel[0], kernel[1]), channels), out_channels), out_channels);
        planned.flops = 2.0 * static_cast<double>(Product({out_h, out_w, out_channels})) *
                        static_cast<double>(Product({kernel[0], kernel[1], channels}));
      } else {
        planned.flops =
            static_cast<double>(Product({out_h, out_w, channels, kernel[0], kernel[1]}));
      }
      shape = {out_channels, out_h, out_w};
    } else if (type == "global_avgpool2d") {
      if (shape.size() != 3) return fail("needs an image input" + got);
      planned.flops = static_cast<double>(Product(shape));
      shape = {shape[0]};
    } else if (type == "flatten") {
      shape = {Product(shape)};
    } else if (type == "reshape") {
      auto it = layer.numbers.find("shape");
      if (it == layer.numbers.end() || it->second.empty()) return fail("shape is required");
      std::vector<int64_t> target;
      int64_t known = 1;
      int unknown = -1;
      for (size_t i = 0; i < it->second.size(); ++i) {
        const auto v = static_cast<int64_t>(it->second[i].value);
        if (v == -1 && unknown < 0) {
          unknown = static_cast<int>(i);
        } else if (v <= 0) {
          return fail("shape sizes must be positive (one -1 allowed)");
        } else {
          known = Mul(known, v);
        }
        target.push_back(v);
      }
      const int64_t total = Product(shape);
      if (unknown >= 0) {
        if (total % known != 0)
          return fail("cannot reshape " + ShapeToString(shape) + " into " + ShapeToString(target));
        target[unknown] = total / known;
      }
      if (Product(target) != total) {
        return fail("cannot reshape " + ShapeToString(shape) + " (" + std::to_string(total) +
                    " values) into " + ShapeToString(target));
      }
      if (target.size() == 3) {
        planned.to_channels_first = true;
        target = {target[2], target[0], target[1]};
      }
      shape = target;
    } else if (type == "dropout") {
      const double rate = LayerNumber(layer, "rate", 0);
      if (rate < 0 || rate >= 1) return fail("rate must be in [0, 1)");
    } else if (type == "batchnorm") {
      const int64_t features = shape.size() == 3 ? shape[0] : shape.back();
      planned.parameters = Mul(2, features);
      planned.flops = 4.0 * static_cast<double>(Product(shape));
    } else if (type == "embedding") {
      if (!plan.int64_input) return fail("needs integer input: set model.input_dtype: int64");
      if (shape.size() != 1) return fail("needs a sequence of token ids" + got);
      const int64_t vocabulary = LayerInt(layer, "input_dim", 0);
      const int64_t width = LayerInt(layer, "output_dim", 0);
      if (vocabulary <= 0 || width <= 0) return fail("input_dim and output_dim must be positive");
      planned.parameters = Mul(vocabulary, width);
      shape = {shape[0], width};
    } else if (type == "gru" || type == "lstm") {
      if (shape.size() != 2) {
        return fail("needs a sequence (steps, features)" + got +
                    "; use an embedding or a reshape such as [28, 28] before it");
      }
      const int64_t units = LayerInt(layer, "units", 0);
      if (units <= 0) return fail("units must be positive");
      const int64_t gates = type == "gru" ? 3 : 4;
      const int64_t steps = shape[0], in = shape[1];
      planned.parameters = Mul(gates, Add(Add(Mul(in, units), Mul(units, units)), Mul(2, units)));
      planned.flops = 2.0 * static_cast<double>(steps) * static_cast<double>(gates) *
                      (static_cast<double>(in) + static_cast<double>(units)) *
                      static_cast<double>(units);
      const bool sequences = LayerWord(layer, "return_sequences", "false") == "true";
      shape = sequences ? std::vector<int64_t>{steps, units} : std::vector<int64_t>{units};
    } else if (IsBlockLayer(type)) {
      auto output =
          PlanBlockLayer(layer, planned.input_shapes, plan.int64_input && reads_input, &planned);
      if (!output.ok()) return fail(output.status().message());
      shape = std::move(output).value();
    } else if (IsLayer1dType(type)) {
      const std::string problem = PlanLayer1d(plan.layers, &shape, &planned);
      if (!problem.empty()) return fail(problem);
    } else {
      return fail("unknown layer type");
    }
    planned.output_shape = shape;
    plan.parameters = Add(plan.parameters, planned.parameters);
    plan.forward_flops += planned.flops;
    plan.layers.push_back(std::move(planned));
  }
  if (plan.layers.empty()) return Status::InvalidArgument(source + ": model.layers is empty");
  plan.output_shape = shape;
  return plan;
}

}  // namespace cloudbook
