// Composes the subnets' test-set predictions into one prediction and scores it
// (docs/design/deconstruction.md): product of class probabilities in log space (multiclass), best
// margin (binary), concatenation of column blocks (regression). Torch-free: plain arrays.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

using Metrics = std::map<std::string, double>;

// One subnet's prediction on the whole test set: rows = test samples.
struct SubnetPrediction {
  Array outputs;                 // multiclass: softmax over classes; binary: 2 probabilities;
                                 // regression: its block of columns
  std::vector<int64_t> classes;  // multiclass: rank r -> class classes[r]
  int64_t column_begin = 0;      // regression: where its block goes
};

struct MulticlassComposition {
  Array log_scores;                  // [samples, N]: sum of log-probabilities
  std::vector<int64_t> predictions;  // argmax per sample
};

// The floor of a probability before its log in the multiclass product: keeps a zero probability
// from making -inf scores (the argmax of -inf ties would be arbitrary) while staying far below
// any real probability.
inline constexpr float kTinyProbability = 1e-30f;

// Every entry of S_i gets log(max(p, tiny)) added; argmax equals that of the plain product.
Result<MulticlassComposition> ComposeMulticlass(const std::vector<SubnetPrediction>& subnets,
                                                int64_t num_classes);
// accuracy; loss = the original's figure (mean -log of the clipped raw product at the true
// class, clip [1e-7, 1-1e-7]); nll = after renormalising the log scores with a softmax.
Metrics MulticlassMetrics(const MulticlassComposition& composed,
                          const std::vector<int64_t>& labels);

// Per sample, the 2-vector of the subnet with the larger |p0 - p1|; ties go to subnet 0.
Result<Array> ComposeBinary(const SubnetPrediction& subnet0, const SubnetPrediction& subnet1);
// accuracy and binary cross-entropy (probabilities clipped to [1e-7, 1-1e-7]).
Metrics ClassificationMetrics(const Array& probabilities, const std::vector<int64_t>& labels);

// Concatenates blocks by column_begin into [samples, total_columns].
Result<Array> ComposeRegression(const std::vector<SubnetPrediction>& subnets,
                                int64_t total_columns);
// mse and mae.
Metrics RegressionMetrics(const Array& predictions, const Array& targets);

// Argmax of each row.
std::vector<int64_t> RowArgmax(const Array& scores);

}  // namespace cloudbook
