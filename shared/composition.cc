#include "shared/composition.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cloudbook {

namespace {

constexpr double kClipLow = 1e-7;
constexpr double kClipHigh = 1.0 - 1e-7;
double Clip(double p) { return std::min(std::max(p, kClipLow), kClipHigh); }

}  // namespace

std::vector<int64_t> RowArgmax(const Array& scores) {
  const int64_t width = scores.row_size();
  std::vector<int64_t> result(static_cast<size_t>(scores.rows()));
  for (int64_t r = 0; r < scores.rows(); ++r) {
    const float* row = scores.values.data() + r * width;
    result[r] = std::max_element(row, row + width) - row;
  }
  return result;
}

Result<MulticlassComposition> ComposeMulticlass(const std::vector<SubnetPrediction>& subnets,
                                                int64_t num_classes) {
  if (subnets.empty()) return Status::InvalidArgument("no subnet predictions to compose");
  const int64_t samples = subnets[0].outputs.rows();
  MulticlassComposition composed;
  composed.log_scores.shape = {samples, num_classes};
  composed.log_scores.values.assign(static_cast<size_t>(samples * num_classes), 0.0f);
  for (size_t s = 0; s < subnets.size(); ++s) {
    const SubnetPrediction& subnet = subnets[s];
    const auto width = static_cast<int64_t>(subnet.classes.size());
    if (subnet.outputs.rows() != samples || subnet.outputs.row_size() != width) {
      return Status::InvalidArgument(
          "subnet " + std::to_string(s) + " predicted a " + std::to_string(subnet.outputs.rows()) +
          " x " + std::to_string(subnet.outputs.row_size()) + " array; expected " +
          std::to_string(samples) + " x " + std::to_string(width));
    }
    for (int64_t c : subnet.classes) {
      if (c < 0 || c >= num_classes) {
        return Status::InvalidArgument("subnet " + std::to_string(s) + " owns class " +
                                       std::to_string(c) + " outside 0.." +
                                       std::to_string(num_classes - 1));
      }
    }
    for (int64_t r = 0; r < samples; ++r) {
      const float* probabilities = subnet.outputs.values.data() + r * width;
      float* scores = composed.log_scores.values.data() + r * num_classes;
      for (int64_t rank = 0; rank < width; ++rank) {
        scores[subnet.classes[rank]] += std::log(std::max(probabilities[rank], kTinyProbability));
      }
    }
  }
  composed.predictions = RowArgmax(composed.log_scores);
  return composed;
}

Metrics MulticlassMetrics(const MulticlassComposition& composed,
                          const std::vector<int64_t>& labels) {
  const int64_t samples = composed.log_scores.rows();
  const int64_t classes = composed.log_scores.row_size();
  double correct = 0, original_loss = 0, nll = 0;
  if (static_cast<int64_t>(labels.size()) < samples) return {};
  for (int64_t r = 0; r < samples; ++r) {
    const float* scores = composed.log_scores.values.data() + r * classes;
    const int64_t truth = labels[r];
    if (truth < 0 || truth >= classes) return {};  // labels were checked at load time
    if (composed.predictions[r] == truth) ++correct;
    original_loss += -std::log(Clip(std::exp(static_cast<double>(scores[truth]))));
    const double peak = *std::max_element(scores, scores + classes);
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(scores[c]) - peak);
    nll += -(static_cast<double>(scores[truth]) - peak - std::log(sum));
  }
  const double n = std::max<double>(static_cast<double>(samples), 1.0);
  return {{"accuracy", correct / n}, {"loss", original_loss / n}, {"nll", nll / n}};
}

Result<Array> ComposeBinary(const SubnetPrediction& subnet0, const SubnetPrediction& subnet1) {
  const Array& a = subnet0.outputs;
  const Array& b = subnet1.outputs;
  if (a.row_size() != 2 || b.row_size() != 2 || a.rows() != b.rows()) {
    return Status::InvalidArgument("binary composition needs two [samples, 2] predictions");
  }
  Array composed = a;
  for (int64_t r = 0; r < a.rows(); ++r) {
    const float* pa = a.values.data() + 2 * r;
    const float* pb = b.values.data() + 2 * r;
    if (std::fabs(pb[0] - pb[1]) > std::fabs(pa[0] - pa[1])) {
      composed.values[2 * r] = pb[0];
      composed.values[2 * r + 1] = pb[1];
    }
  }
  return composed;
}

Metrics ClassificationMetrics(const Array& probabilities, const std::vector<int64_t>& labels) {
  const int64_t samples = probabilities.rows();
  const int64_t width = probabilities.row_size();
  const std::vector<int64_t> predicted = RowArgmax(probabilities);
  double correct = 0, loss = 0;
  if (static_cast<int64_t>(labels.size()) < samples) return {};
  for (int64_t r = 0; r < samples; ++r) {
    if (labels[r] < 0 || labels[r] >= width) return {};  // labels were checked at load time
    if (predicted[r] == labels[r]) ++correct;
    loss += -std::log(Clip(probabilities.values[r * width + labels[r]]));
  }
  const double n = std::max<double>(static_cast<double>(samples), 1.0);
  return {{"accuracy", correct / n}, {"loss", loss / n}};
}

Result<Array> ComposeRegression(const std::vector<SubnetPrediction>& subnets,
                                int64_t total_columns) {
  if (subnets.empty()) return Status::InvalidArgument("no subnet predictions to compose");
  const int64_t samples = subnets[0].outputs.rows();
  Array composed;
  composed.shape = {samples, total_columns};
  composed.values.assign(static_cast<size_t>(samples * total_columns), 0.0f);
  std::vector<bool> covered(static_cast<size_t>(total_columns), false);
  for (size_t s = 0; s < subnets.size(); ++s) {
    const SubnetPrediction& subnet = subnets[s];
    const int64_t width = subnet.outputs.row_size();
    if (subnet.outputs.rows() != samples || subnet.column_begin < 0 ||
        subnet.column_begin + width > total_columns) {
      return Status::InvalidArgument("subnet " + std::to_string(s) +
                                     " predicted a block that does not fit the " +
                                     std::to_string(total_columns) + " output columns");
    }
    for (int64_t r = 0; r < samples; ++r) {
      std::copy_n(subnet.outputs.values.data() + r * width, width,
                  composed.values.data() + r * total_columns + subnet.column_begin);
    }
    std::fill_n(covered.begin() + subnet.column_begin, width, true);
  }
  if (std::find(covered.begin(), covered.end(), false) != covered.end()) {
    return Status::InvalidArgument("the subnets' blocks leave output columns uncovered");
  }
  return composed;
}

Metrics RegressionMetrics(const Array& predictions, const Array& targets) {
  double squared = 0, absolute = 0;
  const size_t n = std::min(predictions.values.size(), targets.values.size());
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(predictions.values[i]) - targets.values[i];
    squared += d * d;
    absolute += std::fabs(d);
  }
  const double count = std::max<double>(static_cast<double>(n), 1.0);
  return {{"mse", squared / count}, {"mae", absolute / count}};
}

}  // namespace cloudbook
