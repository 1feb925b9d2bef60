// How a classifier's test predictions fall: the confusion matrix ([true class][predicted class]
// counts) and each class's accuracy, precision, recall, F1 and support, as the results file
// keeps them for the composed model and the baseline ("confusion", "per_class";
// docs/dashboard.md). Torch-free, stateless; errors name the bad sample.
#pragma once

#include <cstdint>
#include <vector>

#include "shared/composed_score.h"
#include "shared/data/array.h"
#include "shared/json_io.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

struct ConfusionMatrix {
  int64_t classes = 0;
  std::vector<int64_t> counts;  // row-major [true class * classes + predicted class]
  int64_t at(int64_t truth, int64_t predicted) const {
    return counts[static_cast<size_t>(truth * classes + predicted)];
  }
};

struct ClassScore {
  int64_t support = 0;    // test samples of the class
  int64_t correct = 0;    // of them predicted as the class
  int64_t predicted = 0;  // samples predicted as the class
  // accuracy: correct / support, the share of the class's samples predicted right (the usual
  // "per-class accuracy"; equal to recall by definition). precision: correct / predicted.
  // F1: their harmonic mean. 0 when the denominator is 0.
  double accuracy = 0, precision = 0, recall = 0, f1 = 0;
};

// Counts `predictions` against `labels` (same length, ids in 0..classes-1). InvalidArgument
// naming the first sample out of range or a length mismatch.
Result<ConfusionMatrix> CountConfusion(const std::vector<int64_t>& labels,
                                       const std::vector<int64_t>& predictions, int64_t classes);

std::vector<ClassScore> ScoreClasses(const ConfusionMatrix& matrix);

// The results' entries for one model: {"confusion": [[counts]], "per_class": [{class,
// accuracy, precision, recall, f1, support}]}. Over confusion_max_classes classes
// (shared/tunables_def.h) both are left out and "confusion_omitted" says why.
Json ConfusionEntries(const ConfusionMatrix& matrix);

// The confusion of a classification program's test predictions: of the composed model
// (`subnets` composed by the program's rule) or of one model's outputs (argmax per row).
// Regression: an empty object (nothing to count).
Result<Json> ComposedConfusionEntries(const ProjectProgram& program,
                                      const std::vector<SubnetPrediction>& subnets,
                                      const std::vector<int64_t>& labels);
Result<ConfusionMatrix> OutputsConfusion(const ProjectProgram& program, const Array& outputs,
                                         const std::vector<int64_t>& labels);
Result<Json> OutputsConfusionEntries(const ProjectProgram& program, const Array& outputs,
                                     const std::vector<int64_t>& labels);

// Adds `entries` to a results section ("composed", "baseline"); an error becomes
// "confusion_omitted" (the run's figures stand without it).
void MergeConfusionEntries(Json& section, const Result<Json>& entries);

// The matrix as a float32 [classes, classes] array, for the wire (exact below 2^24 per cell),
// and back (InvalidArgument for a shape that is not square or a count that is not a whole
// number >= 0).
Array ConfusionToArray(const ConfusionMatrix& matrix);
Result<ConfusionMatrix> ConfusionFromArray(const Array& array);

}  // namespace cloudbook
