#include "shared/model_plan_blocks.h"

#include <algorithm>
#include <limits>

namespace cloudbook {
namespace {

using Shape = std::vector<int64_t>;

// Saturating, like model_plan.cc: sizes may come from DU files others wrote.
int64_t Mul(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<int64_t>::max();
  return product;
}
int64_t Sum(std::initializer_list<int64_t> terms) {
  int64_t total = 0;
  for (int64_t term : terms) {
    if (__builtin_add_overflow(total, term, &total)) return std::numeric_limits<int64_t>::max();
  }
  return total;
}
double D(int64_t v) { return static_cast<double>(v); }

// FLOPs per value of a layer normalisation: mean, variance, normalise, scale and shift.
constexpr double kLayerNormFlopsPerValue = 8;
// FLOPs per attention score of the softmax: max, exp, sum, divide.
constexpr double kSoftmaxFlopsPerScore = 4;

Status Problem(const std::string& what) { return Status::InvalidArgument(what); }

std::string Got(const Shape& shape) { return " (input shape " + ShapeToString(shape) + ")"; }

// A sequence (steps, features): what attention, layernorm and the encoders act on.
Status NeedSequence(const Shape& shape, const std::string& what) {
  if (shape.size() == 2) return Status::Ok();
  return Problem("needs a sequence (steps, features)" + Got(shape) + what);
}

Result<int64_t> Positive(const LayerSpec& layer, const std::string& key) {
  const int64_t value = LayerInt(layer, key, 0);
  if (value <= 0) return Problem(key + " must be a positive integer");
  return value;
}

Status CheckRate(const LayerSpec& layer, const std::string& key) {
  const double rate = LayerNumber(layer, key, 0);
  if (!(rate >= 0 && rate < 1)) return Problem(key + " must be in [0, 1)");
  return Status::Ok();
}

Result<double> Epsilon(const LayerSpec& layer, double fallback) {
  const double epsilon = LayerNumber(layer, "epsilon", fallback);
  if (!(epsilon > 0)) return Problem("epsilon must be > 0");
  return epsilon;
}

Result<Shape> PlanAdd(const std::vector<Shape>& inputs, PlannedLayer* planned) {
  for (const Shape& shape : inputs) {
    if (shape == inputs[0]) continue;
    std::string shapes;
    for (const Shape& s : inputs) shapes += (shapes.empty() ? "" : " and ") + ShapeToString(s);
    return Problem("adds tensors of the same shape, got " + shapes +
                   "; when widths are tagged, the added layers need the same tagged variable "
                   "so that reducing them by F keeps them equal (literal widths and the model "
                   "input are never reduced)");
  }
  int64_t values = 1;
  for (int64_t size : inputs[0]) values = Mul(values, size);
  planned->flops = D(values) * D(static_cast<int64_t>(inputs.size()) - 1);
  return inputs[0];
}

Result<Shape> PlanAttention(const LayerSpec& layer, const std::vector<Shape>& inputs,
                            PlannedLayer* planned) {
  // Keras: call(query, value, key=value); self-attention when one input is given.
  const Shape& query = inputs[0];
  const Shape& value = inputs.size() > 1 ? inputs[1] : inputs[0];
  const Shape& key = inputs.size() > 2 ? inputs[2] : value;
  for (const Shape* shape : {&query, &value, &key}) {
    CB_RETURN_IF_ERROR(NeedSequence(*shape, ""));
  }
  if (key[0] != value[0]) {
    return Problem("key and value must have the same number of steps, got key " +
                   ShapeToString(key) + " and value " + ShapeToString(value));
  }
  AttentionSizes sizes;
  CB_ASSIGN_OR_RETURN(sizes.heads, Positive(layer, "heads"));
  CB_ASSIGN_OR_RETURN(sizes.key_dim, Positive(layer, "key_dim"));
  sizes.value_dim = LayerInt(layer, "value_dim", sizes.key_dim);  // Keras: None -> key_dim
  if (sizes.value_dim <= 0) return Problem("value_dim must be a positive integer");
  CB_RETURN_IF_ERROR(CheckRate(layer, "dropout"));
  sizes.use_bias = LayerWord(layer, "use_bias", "true") == "true";
  sizes.query_steps = query[0];
  sizes.value_steps = value[0];
  sizes.d_query = query[1];
  sizes.d_value = value[1];
  sizes.d_key = key[1];
  planned->parameters = sizes.Parameters();
  planned->flops = sizes.Flops();
  planned->inner_values = sizes.Scores();
  return query;  // Keras output_shape=None: the query's width
}

Result<Shape> PlanTransformerBlock(const LayerSpec& layer, const Shape& input,
                                   PlannedLayer* planned) {
  CB_RETURN_IF_ERROR(NeedSequence(input,
                                  "; use token_position_embedding or patch_encoder "
                                  "before it"));
  CB_ASSIGN_OR_RETURN(const int64_t heads, Positive(layer, "heads"));
  CB_ASSIGN_OR_RETURN(const int64_t ff_dim, Positive(layer, "ff_dim"));
  CB_RETURN_IF_ERROR(CheckRate(layer, "rate"));
  CB_RETURN_IF_ERROR(Epsilon(layer, 1e-6).status());
  const int64_t steps = input[0], width = input[1];
  // keras.io TransformerBlock: MultiHeadAttention(num_heads, key_dim=embed_dim).
  AttentionSizes attention;
  attention.heads = heads;
  attention.key_dim = attention.value_dim = width;
  attention.query_steps = attention.value_steps = steps;
  attention.d_query = attention.d_value = attention.d_key = width;
  const int64_t ffn = Sum({Mul(width, ff_dim), ff_dim, Mul(ff_dim, width), width});
  planned->parameters = Sum({attention.Parameters(), ffn, Mul(4, width)});
  planned->inner_values = std::max(attention.Scores(), Mul(steps, ff_dim));
  planned->flops = attention.Flops() + 4.0 * D(steps) * D(width) * D(ff_dim) +
                   D(steps) * D(width) * (2 * kLayerNormFlopsPerValue + 2) + D(steps) * D(ff_dim);
  return input;
}

Result<Shape> PlanTokenPositionEmbedding(const LayerSpec& layer, const Shape& input,
                                         bool token_input, PlannedLayer* planned) {
  if (!token_input || input.size() != 1) {
    return Problem("needs the model input as token ids, (steps) with model.input_dtype: int64" +
                   Got(input));
  }
  CB_ASSIGN_OR_RETURN(const int64_t maxlen, Positive(layer, "maxlen"));
  CB_ASSIGN_OR_RETURN(const int64_t vocabulary, Positive(layer, "vocab_size"));
  CB_ASSIGN_OR_RETURN(const int64_t width, Positive(layer, "embed_dim"));
  // Positions come from the input length; the table has maxlen rows (keras.io
  // TokenAndPositionEmbedding), so a longer input would look up rows it does not have.
  if (input[0] > maxlen) {
    return Problem("the input has " + std::to_string(input[0]) + " steps, more than maxlen " +
                   std::to_string(maxlen) + " positions");
  }
  planned->parameters = Sum({Mul(vocabulary, width), Mul(maxlen, width)});
  planned->flops = D(input[0]) * D(width);
  return Shape{input[0], width};
}

Result<Shape> PlanPatches(const LayerSpec& layer, const Shape& input) {
  if (input.size() != 3) {
    return Problem("needs an image input (height, width, channels)" + Got(input) +
                   "; add a reshape such as [28, 28, 1] before it");
  }
  CB_ASSIGN_OR_RETURN(const int64_t size, Positive(layer, "size"));
  const int64_t channels = input[0], height = input[1], width = input[2];
  if (size > height || size > width) {
    return Problem("patch size " + std::to_string(size) + " is larger than the image" + Got(input));
  }
  // tf.image.extract_patches, padding VALID: partial patches at the edges are dropped.
  return Shape{(height / size) * (width / size), Mul(Mul(size, size), channels)};
}

Result<Shape> PlanPatchEncoder(const LayerSpec& layer, const Shape& input, PlannedLayer* planned) {
  CB_RETURN_IF_ERROR(NeedSequence(input, "; use patches before it"));
  CB_ASSIGN_OR_RETURN(const int64_t patches, Positive(layer, "num_patches"));
  CB_ASSIGN_OR_RETURN(const int64_t width, Positive(layer, "projection_dim"));
  if (patches != input[0]) {
    return Problem("num_patches is " + std::to_string(patches) + " but the input has " +
                   std::to_string(input[0]) + " patches");
  }
  planned->parameters = Sum({Mul(input[1], width), width, Mul(patches, width)});
  planned->flops = 2.0 * D(patches) * D(input[1]) * D(width) + 2.0 * D(patches) * D(width);
  return Shape{patches, width};
}

Result<Shape> PlanLayerNorm(const LayerSpec& layer, const Shape& input, PlannedLayer* planned) {
  if (input.size() == 3) {
    return Problem("layernorm on an image" + Got(input) +
                   " is not supported; flatten or reshape it first");
  }
  CB_RETURN_IF_ERROR(Epsilon(layer, 1e-3).status());
  int64_t values = 1;
  for (int64_t size : input) values = Mul(values, size);
  planned->parameters = Mul(2, input.back());
  planned->flops = kLayerNormFlopsPerValue * D(values);
  return input;
}

}  // namespace

bool IsBlockLayer(const std::string& type) {
  return type == "add" || type == "multihead_attention" || type == "layernorm" ||
         type == "transformer_block" || type == "token_position_embedding" || type == "patches" ||
         type == "patch_encoder";
}

bool ReadsTokenIds(const std::string& type) {
  return type == "embedding" || type == "token_position_embedding";
}

int64_t AttentionSizes::Parameters() const {
  const int64_t bias = use_bias ? 1 : 0;
  const int64_t projected = Mul(heads, key_dim), projected_value = Mul(heads, value_dim);
  return Sum({Mul(d_query, projected), Mul(d_key, projected), Mul(d_value, projected_value),
              Mul(projected_value, d_query),
              Mul(bias, Sum({projected, projected, projected_value, d_query}))});
}

int64_t AttentionSizes::Scores() const { return Mul(Mul(heads, query_steps), value_steps); }

double AttentionSizes::Flops() const {
  const double t = D(query_steps), s = D(value_steps), n = D(heads);
  const double h = D(key_dim), hv = D(value_dim);
  return 2.0 * t * D(d_query) * n * h + 2.0 * s * D(d_key) * n * h + 2.0 * s * D(d_value) * n * hv +
         2.0 * t * s * n * h + kSoftmaxFlopsPerScore * t * s * n + 2.0 * t * s * n * hv +
         2.0 * t * n * hv * D(d_query);
}

Result<std::vector<int64_t>> PlanBlockLayer(const LayerSpec& layer,
                                            const std::vector<std::vector<int64_t>>& input_shapes,
                                            bool token_input, PlannedLayer* planned) {
  const std::string& type = layer.type;
  const Shape& input = input_shapes.at(0);
  if (type == "add") return PlanAdd(input_shapes, planned);
  if (type == "multihead_attention") return PlanAttention(layer, input_shapes, planned);
  if (type == "layernorm") return PlanLayerNorm(layer, input, planned);
  if (type == "transformer_block") return PlanTransformerBlock(layer, input, planned);
  if (type == "token_position_embedding") {
    return PlanTokenPositionEmbedding(layer, input, token_input, planned);
  }
  if (type == "patches") return PlanPatches(layer, input);
  if (type == "patch_encoder") return PlanPatchEncoder(layer, input, planned);
  return Problem("unknown layer type");
}

}  // namespace cloudbook
