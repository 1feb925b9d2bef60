#include "predict/prediction_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cloudbook {

namespace {

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

}  // namespace

PredictionSummary::PredictionSummary(const RunModel& model, const Truth* truth)
    : model_(model), truth_(truth) {
  if (model.problem != ProblemType::kRegression) {
    histogram_.assign(static_cast<size_t>(model.outputs()), 0);
  }
}

void PredictionSummary::Add(int64_t first, const ComposedOutputs& batch) {
  const int64_t rows = batch.outputs.rows();
  samples_ += rows;
  for (size_t row = 0; row < batch.predictions.size(); ++row) {
    const int64_t predicted = batch.predictions[row];
    if (predicted >= 0 && predicted < static_cast<int64_t>(histogram_.size())) {
      ++histogram_[static_cast<size_t>(predicted)];
    }
    const size_t sample = static_cast<size_t>(first) + row;
    if (truth_ != nullptr && sample < truth_->labels.size() &&
        truth_->labels[sample] == predicted) {
      ++correct_;
    }
  }
  if (truth_ == nullptr || truth_->targets.rows() == 0) return;
  // As RegressionMetrics: value by value, in order.
  const int64_t width = batch.outputs.row_size();
  const float* target = truth_->targets.values.data() + first * width;
  for (int64_t i = 0; i < rows * width; ++i) {
    const double d = static_cast<double>(batch.outputs.values[static_cast<size_t>(i)]) - target[i];
    squared_ += d * d;
    absolute_ += std::fabs(d);
  }
  values_ += rows * width;
}

double PredictionSummary::accuracy() const {
  return correct_ / std::max<double>(static_cast<double>(samples_), 1.0);
}

std::string PredictionSummary::Text(double seconds) const {
  std::string text =
      "predicted " + std::to_string(samples_) + " samples in " + Format("%.2f", seconds) + " s (" +
      Format("%.0f", samples_ / std::max(seconds, 1e-9)) + " samples/s), run " + model_.run + "\n";
  if (!histogram_.empty()) {
    text += "predicted classes:";
    const bool names = model_.class_names.size() == histogram_.size();
    for (size_t c = 0; c < histogram_.size(); ++c) {
      text += " " + (names ? model_.class_names[c] : std::to_string(c)) + "=" +
              std::to_string(histogram_[c]);
    }
    text += "\n";
  }
  if (truth_ == nullptr) return text;
  const Json& run = model_.composed_metrics;
  // The run's own figure beside ours: equal to the last bit on the run's own test set.
  const auto run_figure = [&](const char* name, double ours, const char* format) -> std::string {
    if (!run.is_object() || !run.contains(name) || !run[name].is_number()) return "";
    const double theirs = run[name].get<double>();
    return "  (run " + model_.run + " on its test set: " + Format(format, theirs) +
           (theirs == ours ? ", the same" : "; differs by " + Format("%.3g", ours - theirs)) + ")";
  };
  if (!histogram_.empty()) {
    text += "accuracy " + Format("%.4f", accuracy()) + " (" + Format("%.0f", correct_) + "/" +
            std::to_string(samples_) + " correct)" + run_figure("accuracy", accuracy(), "%.4f") +
            "\n";
  } else if (values_ > 0) {
    const double count = std::max<double>(static_cast<double>(values_), 1.0);
    text += "mse " + Format("%.6g", squared_ / count) +
            run_figure("mse", squared_ / count, "%.6g") + "\n";
    text += "mae " + Format("%.6g", absolute_ / count) +
            run_figure("mae", absolute_ / count, "%.6g") + "\n";
  }
  return text;
}

}  // namespace cloudbook
