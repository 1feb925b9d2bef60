// Writes cloudbook-predict's answers, one line per sample, as CSV (with a header line) or as
// JSON Lines. Classification: sample, file (images), class, class_name (when the model has
// class names), the composed probability of every class, and the top-k classes by probability
// (ties to the lower id). Regression: sample, file, the output values. Floats are written with
// 9 significant digits, enough to read back the same float32. Not thread-safe.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "shared/composed_score.h"
#include "shared/formats/run_model.h"

namespace cloudbook {

enum class OutputFormat { kCsv, kJsonLines };

class PredictionWriter {
 public:
  // `top_k` is clamped to the number of classes; `named`: a file column/field per sample.
  PredictionWriter(std::ostream& out, OutputFormat format, const RunModel& model, int top_k,
                   bool named);

  // The CSV header line (nothing for JSON Lines).
  void Begin();
  // Samples first .. first + rows - 1; names[i] is sample first + i's file (when named).
  void Write(int64_t first, const ComposedOutputs& batch, const std::vector<std::string>& names);

 private:
  std::ostream& out_;
  OutputFormat format_;
  bool classification_;
  std::vector<std::string> class_names_;
  int64_t outputs_;
  int top_k_;
  bool named_;
};

// The classes of one row of probabilities, most probable first (ties: lower id first).
std::vector<int64_t> TopClasses(const float* probabilities, int64_t classes, int k);

}  // namespace cloudbook
