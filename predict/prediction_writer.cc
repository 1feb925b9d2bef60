#include "predict/prediction_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "shared/json_io.h"

namespace cloudbook {

namespace {

// 9 significant digits: a float32 reads back as itself. JSON has no NaN or infinity: null.
std::string Number(float value, bool json) {
  if (!std::isfinite(value)) return json ? "null" : (std::isnan(value) ? "nan" : "inf");
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", static_cast<double>(value));
  return text;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string JsonString(const std::string& text) { return Json(text).dump(); }

}  // namespace

std::vector<int64_t> TopClasses(const float* probabilities, int64_t classes, int k) {
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), int64_t{0});
  const auto end = order.begin() + std::min<int64_t>(std::max(k, 0), classes);
  std::partial_sort(order.begin(), end, order.end(), [&](int64_t a, int64_t b) {
    return probabilities[a] > probabilities[b] || (probabilities[a] == probabilities[b] && a < b);
  });
  order.erase(end, order.end());
  return order;
}

PredictionWriter::PredictionWriter(std::ostream& out, OutputFormat format, const RunModel& model,
                                   int top_k, bool named)
    : out_(out),
      format_(format),
      classification_(model.problem != ProblemType::kRegression),
      class_names_(model.class_names),
      outputs_(model.outputs()),
      top_k_(static_cast<int>(std::min<int64_t>(std::max(top_k, 0), model.outputs()))),
      named_(named) {
  if (static_cast<int64_t>(class_names_.size()) != outputs_) class_names_.clear();
}

void PredictionWriter::Begin() {
  if (format_ != OutputFormat::kCsv) return;
  std::string header = "sample";
  if (named_) header += ",file";
  if (!classification_) {
    for (int64_t c = 0; c < outputs_; ++c) header += ",value_" + std::to_string(c);
    out_ << header << "\n";
    return;
  }
  header += ",class";
  if (!class_names_.empty()) header += ",class_name";
  for (int64_t c = 0; c < outputs_; ++c) header += ",p_" + std::to_string(c);
  for (int k = 1; k <= top_k_; ++k) {
    const std::string top = "top" + std::to_string(k);
    header += "," + top + "_class";
    if (!class_names_.empty()) header += "," + top + "_name";
    header += "," + top + "_probability";
  }
  out_ << header << "\n";
}

void PredictionWriter::Write(int64_t first, const ComposedOutputs& batch,
                             const std::vector<std::string>& names) {
  const bool json = format_ == OutputFormat::kJsonLines;
  const int64_t width = batch.outputs.row_size();
  std::string line;
  for (int64_t row = 0; row < batch.outputs.rows(); ++row) {
    const float* values = batch.outputs.values.data() + row * width;
    const std::string name = named_ ? names.at(static_cast<size_t>(row)) : std::string();
    line.clear();
    if (json) {
      line = "{\"sample\":" + std::to_string(first + row);
      if (named_) line += ",\"file\":" + JsonString(name);
    } else {
      line = std::to_string(first + row);
      if (named_) line += "," + CsvField(name);
    }
    std::string list;
    for (int64_t c = 0; c < width; ++c) list += (c ? "," : "") + Number(values[c], json);
    if (!classification_) {
      line += json ? ",\"values\":[" + list + "]}" : "," + list;
      out_ << line << "\n";
      continue;
    }
    const int64_t predicted = batch.predictions.at(static_cast<size_t>(row));
    const std::vector<int64_t> top = TopClasses(values, width, top_k_);
    if (json) {
      line += ",\"class\":" + std::to_string(predicted);
      if (!class_names_.empty()) line += ",\"class_name\":" + JsonString(class_names_[predicted]);
      line += ",\"probabilities\":[" + list + "],\"top_k\":[";
      for (size_t k = 0; k < top.size(); ++k) {
        line += std::string(k ? "," : "") + "{\"class\":" + std::to_string(top[k]);
        if (!class_names_.empty()) line += ",\"name\":" + JsonString(class_names_[top[k]]);
        line += ",\"probability\":" + Number(values[top[k]], true) + "}";
      }
      line += "]}";
    } else {
      line += "," + std::to_string(predicted);
      if (!class_names_.empty()) line += "," + CsvField(class_names_[predicted]);
      line += "," + list;
      for (const int64_t c : top) {
        line += "," + std::to_string(c);
        if (!class_names_.empty()) line += "," + CsvField(class_names_[c]);
        line += "," + Number(values[c], false);
      }
    }
    out_ << line << "\n";
  }
}

}  // namespace cloudbook
