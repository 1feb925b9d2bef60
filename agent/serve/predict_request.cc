#include "agent/serve/predict_request.h"

#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include "agent/serve/fast_instances.h"
#include "shared/data/image_decode.h"
#include "shared/data/image_resize.h"

namespace cloudbook {
namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

int64_t Product(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

std::vector<int64_t> WithoutOnes(const std::vector<int64_t>& shape) {
  std::vector<int64_t> kept;
  for (int64_t size : shape) {
    if (size != 1) kept.push_back(size);
  }
  return kept;
}

// Deepest nesting of [ and { outside strings; stops counting past `limit`. Checked before
// parsing: a deep document would cost the parser and the destructor their stack.
int NestingDepth(const std::string& body, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const char* JsonKind(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "a list";
    default:
      return "a number";
  }
}

// The sizes of a nested list, read down its first elements (Flatten checks the rest).
std::vector<int64_t> FirstPathShape(const Json& value) {
  std::vector<int64_t> shape;
  for (const Json* level = &value; level->is_array(); level = &(*level)[0]) {
    shape.push_back(static_cast<int64_t>(level->size()));
    if (level->empty()) break;
  }
  return shape;
}

// Appends the numbers of a nested list of `shape` to `values`.
Status Flatten(const Json& value, size_t level, const std::vector<int64_t>& shape, double scale,
               std::vector<float>* values, const std::string& where) {
  if (value.is_number()) {
    if (level != shape.size()) {
      return Status::InvalidArgument(where + ": a number where a list was expected (ragged list)");
    }
    const double number = value.get<double>();
    if (!std::isfinite(number)) return Status::InvalidArgument(where + ": a number out of range");
    values->push_back(static_cast<float>(number / scale));  // as the data readers divide
    return Status::Ok();
  }
  if (!value.is_array()) {
    return Status::InvalidArgument(where + ": " + JsonKind(value) +
                                   " where the model takes numbers");
  }
  if (value.empty()) return Status::InvalidArgument(where + ": an empty list");
  if (level >= shape.size() || static_cast<int64_t>(value.size()) != shape[level]) {
    return Status::InvalidArgument(where + ": a ragged list (lists of one level differ in size)");
  }
  for (const Json& element : value) {
    CB_RETURN_IF_ERROR(Flatten(element, level + 1, shape, scale, values, where));
  }
  return Status::Ok();
}

// An image-shaped input: [H, W] (one channel) or [H, W, C] with C 1 or 3.
bool ImageShape(const std::vector<int64_t>& input, int64_t* height, int64_t* width,
                int64_t* channels) {
  if (input.size() == 2 || (input.size() == 3 && (input[2] == 1 || input[2] == 3))) {
    *height = input[0];
    *width = input[1];
    *channels = input.size() == 3 ? input[2] : 1;
    return true;
  }
  return false;
}

Status AppendImage(const RunModel& model, const Json& b64, double scale, const std::string& where,
                   const PredictRequestLimits& limits, std::vector<float>* values) {
  int64_t height = 0, width = 0, channels = 0;
  if (!ImageShape(model.input_shape, &height, &width, &channels)) {
    return Status::InvalidArgument(where +
                                   ": {\"b64\": ...} is for image inputs; this model takes " +
                                   ShapeString(model.input_shape) + " numbers per sample");
  }
  if (!b64.is_string()) {
    return Status::InvalidArgument(where + ": \"b64\" must be a base64 string of a PNG or JPEG");
  }
  std::string bytes;
  if (!DecodeBase64(b64.get<std::string>(), &bytes)) {
    return Status::InvalidArgument(where + ": \"b64\" is not valid base64");
  }
  Result<DecodedImage> image = DecodeImage(bytes, channels, where, limits.max_image_side);
  if (!image.ok()) return image.status();
  const size_t start = values->size();
  values->resize(start + static_cast<size_t>(height * width * channels));
  ResizeBilinearHalfPixel(image->pixels.data(), image->height, image->width, channels,
                          values->data() + start, height, width);
  for (size_t i = start; i < values->size(); ++i) {
    (*values)[i] = static_cast<float>((*values)[i] / scale);  // as image folders divide
  }
  return Status::Ok();
}

// One instance's raw values appended to `values`.
Status AppendInstance(const RunModel& model, const Json& instance, double scale,
                      const std::string& where, const PredictRequestLimits& limits,
                      std::vector<float>* values) {
  const Json* value = &instance;
  if (value->is_object()) {
    if (value->size() != 1) {
      return Status::InvalidArgument(
          where +
          ": an object instance holds one input ({\"input\": [...]}) or an image "
          "({\"b64\": \"...\"})");
    }
    if (value->contains("b64"))
      return AppendImage(model, (*value)["b64"], scale, where, limits, values);
    value = &value->begin().value();  // a named input: the model has one
    if (value->is_object() && value->size() == 1 && value->contains("b64")) {
      return AppendImage(model, (*value)["b64"], scale, where, limits, values);
    }
  }
  const int64_t per_sample = Product(model.input_shape);
  const std::vector<int64_t> shape = FirstPathShape(*value);
  const size_t start = values->size();
  CB_RETURN_IF_ERROR(Flatten(*value, 0, shape, scale, values, where));
  const int64_t count = static_cast<int64_t>(values->size() - start);
  const bool fits = count == per_sample && (shape == model.input_shape || shape.size() <= 1 ||
                                            WithoutOnes(shape) == WithoutOnes(model.input_shape));
  if (!fits) {
    return Status::InvalidArgument(where + ": shape " + ShapeString(shape) + ", the model takes " +
                                   ShapeString(model.input_shape) + " (or " +
                                   std::to_string(per_sample) + " numbers flat)");
  }
  return Status::Ok();
}

}  // namespace

bool DecodeBase64(const std::string& text, std::string* bytes) {
  bytes->clear();
  bytes->reserve(text.size() / 4 * 3);
  uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (const char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      value = 62;
    } else if (c == '/' || c == '_') {
      value = 63;
    } else if (c == '=') {
      padding = true;
      continue;
    } else if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      continue;
    }
    if (value < 0 || padding) return false;  // a stray character, or data after padding
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes->push_back(static_cast<char>((buffer >> bits) & 0xffU));
    }
  }
  return true;
}

Result<PredictRequest> ParsePredictRequest(const RunModel& model, double input_scale,
                                           const std::string& body,
                                           const PredictRequestLimits& limits) {
  if (NestingDepth(body, limits.max_json_depth) > limits.max_json_depth) {
    return Status::InvalidArgument("the JSON body nests deeper than " +
                                   std::to_string(limits.max_json_depth) + " levels");
  }
  PredictRequest plain;  // the common form, read without a JSON tree (fast_instances.h)
  if (ParsePlainInstances(body, model, input_scale, limits.max_instances, &plain.x)) return plain;
  Json json;
  try {
    json = Json::parse(body);
  } catch (const Json::exception& error) {
    return Status::InvalidArgument(std::string("invalid JSON: ") + error.what());
  }
  if (!json.is_object()) {
    return Status::InvalidArgument(
        "the body must be a JSON object: {\"instances\": [...]} or {\"inputs\": [...]}");
  }
  const bool rows = json.contains("instances"), columns = json.contains("inputs");
  if (rows == columns) {
    return Status::InvalidArgument(rows ? "give either \"instances\" or \"inputs\", not both"
                                        : "missing \"instances\" (or \"inputs\") in the body");
  }
  PredictRequest request;
  request.columnar = columns;
  const Json* list = &json[rows ? "instances" : "inputs"];
  // Columnar with the model's one input named: {"inputs": {"input": [...]}}.
  if (columns && list->is_object() && list->size() == 1) list = &list->begin().value();
  if (!list->is_array()) {
    return Status::InvalidArgument(std::string("\"") + (rows ? "instances" : "inputs") +
                                   "\" must be a list of samples");
  }
  if (list->empty()) return Status::InvalidArgument("no instances to predict");
  if (static_cast<int64_t>(list->size()) > limits.max_instances) {
    return Status::InvalidArgument(std::to_string(list->size()) + " instances in one request; " +
                                   "at most " + std::to_string(limits.max_instances));
  }
  const int64_t samples = static_cast<int64_t>(list->size());
  std::vector<float> values;
  values.reserve(static_cast<size_t>(samples * Product(model.input_shape)));
  for (int64_t i = 0; i < samples; ++i) {
    CB_RETURN_IF_ERROR(AppendInstance(model, (*list)[static_cast<size_t>(i)], input_scale,
                                      "instance " + std::to_string(i), limits, &values));
  }
  request.x.shape = {samples};
  request.x.shape.insert(request.x.shape.end(), model.input_shape.begin(), model.input_shape.end());
  request.x.values = std::move(values);
  return request;
}

Json PredictResponse(const RunModel& model, const ComposedOutputs& composed, bool columnar) {
  const int64_t rows = composed.outputs.rows();
  const int64_t width = rows > 0 ? composed.outputs.row_size() : 0;
  Json predictions = Json::array();
  for (int64_t row = 0; row < rows; ++row) {
    Json values = Json::array();
    for (int64_t column = 0; column < width; ++column) {
      values.push_back(composed.outputs.values[static_cast<size_t>(row * width + column)]);
    }
    predictions.push_back(std::move(values));
  }
  Json answer = {{columnar ? "outputs" : "predictions", std::move(predictions)}};
  if (model.problem != ProblemType::kRegression) {
    answer["classes"] = composed.predictions;
    if (!model.class_names.empty()) {
      Json names = Json::array();
      for (int64_t id : composed.predictions) {
        names.push_back(id >= 0 && id < static_cast<int64_t>(model.class_names.size())
                            ? model.class_names[static_cast<size_t>(id)]
                            : std::to_string(id));
      }
      answer["class_names"] = std::move(names);
    }
  }
  return answer;
}

}  // namespace cloudbook
