// What cloudbook-predict prints at the end: samples, time, samples/s, how often each class was
// predicted and, given the true answers, the accuracy (classification) or mse and mae
// (regression), summed sample by sample in input order exactly as the run scored its test set
// (shared/composition.cc), so the run's own test set gives the run's figures bit for bit
// whatever the batch size. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "predict/label_file.h"
#include "shared/composed_score.h"
#include "shared/formats/run_model.h"

namespace cloudbook {

class PredictionSummary {
 public:
  // `truth`: the answers of every sample (may be null: no scores).
  PredictionSummary(const RunModel& model, const Truth* truth);

  // The next batch, samples first .. first + rows - 1.
  void Add(int64_t first, const ComposedOutputs& batch);

  int64_t samples() const { return samples_; }
  // Classification with answers: correct / samples (as the run's "accuracy").
  double accuracy() const;
  // The printed lines: counts, speed, histogram, scores (and the run's own figure beside them).
  std::string Text(double seconds) const;

 private:
  const RunModel& model_;
  const Truth* truth_;
  int64_t samples_ = 0;
  std::vector<int64_t> histogram_;
  double correct_ = 0;
  double squared_ = 0, absolute_ = 0;  // regression
  int64_t values_ = 0;
};

}  // namespace cloudbook
