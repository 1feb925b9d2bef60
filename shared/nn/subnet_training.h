// Trains one subnet (or the original network) on its data and predicts the whole test set.
// The torch-free face of shared/nn: callers pass Arrays and get Arrays back, so only the
// files in shared/nn include <torch/torch.h>.
//
// Deterministic: the same SubnetSpec, data and thread count give the same weights and
// predictions, whichever process or order runs it (seeded initialisation, seeded batch
// order, per-network dropout generator).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "shared/composition.h"
#include "shared/data/dataset_loader.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

struct EpochProgress {
  int subnet_index = 0;
  int64_t epoch = 0;  // 1-based
  int64_t epochs = 0;
  double train_loss = 0;
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();  // classification only
  double validation_loss = std::numeric_limits<double>::quiet_NaN();
  double validation_accuracy = std::numeric_limits<double>::quiet_NaN();
  double epoch_seconds = 0;
  double samples_per_second = 0;
  double eta_seconds = 0;  // for the remaining epochs of this subnet
};

struct TrainingOptions {
  ProblemType problem = ProblemType::kMulticlass;
  std::function<void(const EpochProgress&)> on_epoch;  // called on the training thread
};

struct SubnetOutcome {
  Array test_outputs;    // probabilities (classification) or predicted columns
  Metrics test_metrics;  // on the subnet's own test view (its classes / columns)
  Metrics validation_metrics;
  double train_seconds = 0;
  double predict_seconds = 0;
  int64_t train_samples = 0;
  int64_t parameters = 0;
  std::vector<EpochProgress> history;
};

// `data` is the subnet's own view (SelectSubnetData); `full_test_x` is the whole test set
// every subnet predicts for composition.
Result<SubnetOutcome> TrainAndPredict(const SubnetSpec& subnet, const ProblemData& data,
                                      const Array& full_test_x, const TrainingOptions& options);

// Sets the number of threads libtorch (and OpenBLAS under it) may use in this process.
void SetTrainingThreads(int threads);
int TrainingThreads();

}  // namespace cloudbook
