// Scores a whole run: every subnet's test-set predictions composed by the program's rule
// (composition.h) and compared with the test labels; and one subnet's own score on the test
// samples it can judge. Shared by local mode and agent 0's distributed runs, so both report
// the same figures for the same predictions.
#pragma once

#include <vector>

#include "shared/composition.h"
#include "shared/data/dataset_loader.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

// What the composed model says about each sample.
struct ComposedOutputs {
  // Multiclass: the product of the subnets' probabilities renormalised (softmax of the summed
  // log-probabilities); binary: the 2 probabilities of the surer subnet; regression: the
  // concatenated columns. [samples, N or D].
  Array outputs;
  std::vector<int64_t> predictions;  // classification: the predicted class of each sample
};

// The composition rule of a problem type, as model files and results name it: "product"
// (multiclass, in log space), "best_margin" (binary), "concatenation" (regression).
const char* CompositionRuleName(ProblemType problem);

// Composes by the program's rule. `predictions` in any order for multiclass and regression;
// binary needs exactly 2, given in subnet index order (ties go to the first).
Result<ComposedOutputs> ComposeOutputs(const ProjectProgram& program,
                                       const std::vector<SubnetPrediction>& predictions);

// `predictions` in any order; multiclass needs every class covered, binary exactly 2.
Result<Metrics> ScoreComposition(const ProjectProgram& program,
                                 const std::vector<SubnetPrediction>& predictions,
                                 const LabeledArrays& test);

// Multiclass: accuracy on the test samples whose label is among the subnet's classes (its
// argmax rank mapped back to a class). Binary: accuracy and loss on the whole test set.
// Regression: mse and mae of its column block. Empty when the shapes do not fit.
Metrics ScoreSubnet(const ProjectProgram& program, const SubnetSpec& subnet, const Array& outputs,
                    const LabeledArrays& test);

}  // namespace cloudbook
