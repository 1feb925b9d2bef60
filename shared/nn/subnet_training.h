// Trains one subnet (or the original network) on its data and predicts the whole test set.
// The torch-free face of shared/nn: callers pass Arrays and get Arrays back, so only the
// files in shared/nn include <torch/torch.h>.
//
// Deterministic: the same SubnetSpec and data give the same weights and predictions,
// whichever process, machine, order or neighbours run it (seeded initialisation, seeded batch
// order, per-network dropout generator, and every training and prediction on exactly its
// spec's train.threads libtorch threads, see SetTrainingThreads). A training interrupted and
// resumed from its checkpoint ends with the same weights as an uninterrupted one (the
// checkpoint holds weights, BatchNorm and normalization statistics, optimizer state and the dropout
// generator's state).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

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
  // Called on the training thread after each epoch, once its checkpoint is on disk.
  std::function<void(const EpochProgress&)> on_epoch;
  // Checkpoints (shared/nn/checkpoint.h): written to `<checkpoint_dir>/subnet_<index>.pt`
  // after every epoch; empty = no checkpoints. A checkpoint that cannot be written (a full or
  // unreachable folder) stops training with an IoError naming the path and the cause.
  std::string checkpoint_dir;
  // The caller's ownership of the subnet (the assignment version). Stored in every
  // checkpoint; a checkpoint with a higher version belongs to a newer owner: it is neither
  // loaded nor overwritten, and training fails at once with IsSuperseded().
  int64_t owner_version = 0;
  // Checked before every batch: once true, training stops within one batch without saving
  // the unfinished epoch and returns an IsCancelled() status. The last complete epoch's
  // checkpoint stays. Not owned; may be null.
  std::atomic<bool>* cancel = nullptr;
  // Continue from a usable checkpoint (same spec, data and format; owner not newer) instead
  // of starting from zero. A torn, garbage or mismatched checkpoint is logged and ignored.
  bool resume = true;
  // The program's whole training data (LoadProblemData's, before SelectSubnetData):
  // normalization layers adapt to its train and validation x together (Keras'
  // adapt(x_train)), so every subnet on every machine has the same statistics. Null: the
  // data given to Train is the whole. Not owned.
  const ProblemData* whole_data = nullptr;
};

struct SubnetOutcome {
  Array test_outputs;    // probabilities (classification) or predicted columns
  Metrics test_metrics;  // on the subnet's own test view (its classes / columns)
  Metrics validation_metrics;
  double train_seconds = 0;
  double predict_seconds = 0;
  int64_t train_samples = 0;
  int64_t parameters = 0;
  std::vector<EpochProgress> history;  // every epoch, including those of a resumed checkpoint
  int64_t resumed_from_epoch = 0;      // epochs restored from a checkpoint; 0: from zero
};

// Builds, trains and predicts with one subnet. TrainAndPredict is the one-call form; an
// agent can train, then predict later (or from another process with
// PredictFromCheckpoint). Not thread-safe: one trainer per thread, several in parallel.
class SubnetTrainer {
 public:
  // Builds the network (seeded initialisation) and its optimizer.
  static Result<std::unique_ptr<SubnetTrainer>> Create(const SubnetSpec& subnet,
                                                       ProblemType problem);
  ~SubnetTrainer();
  SubnetTrainer(const SubnetTrainer&) = delete;
  SubnetTrainer& operator=(const SubnetTrainer&) = delete;

  // Trains the epochs not done yet on `data` (the subnet's own view), resuming from the
  // checkpoint and writing one after every epoch as `options` says (options.problem is
  // ignored: Create fixed it). Starts from the checkpoint or from zero, never from what an
  // earlier call left in memory. Returns IsCancelled() or IsSuperseded() statuses as
  // TrainingOptions describes. When every epoch is already done it trains nothing.
  Status Train(const ProblemData& data, const TrainingOptions& options);

  // Restores a finished checkpoint (all epochs of this spec) for prediction. NotFound when
  // there is none, InvalidArgument when it is unfinished or for another spec, Corruption
  // when it is unreadable.
  Status LoadFinishedCheckpoint(const std::string& checkpoint_dir);

  // Evaluation mode: probabilities (classification) or predicted columns (regression).
  // After a cancelled Train the network holds part of an epoch: Train again first.
  Result<Array> Predict(const Array& x);

  int64_t epochs_done() const;
  int64_t resumed_from_epoch() const;
  const std::vector<EpochProgress>& history() const;
  // Of the last epoch (or, when Train had nothing left to do, of the restored network).
  const Metrics& validation_metrics() const;
  int64_t parameters() const;
  double train_seconds() const;  // spent in the last Train call

 private:
  friend struct SubnetTrainerAccess;  // shared/nn/subnet_trainer_access.h (the exporter)
  struct Impl;
  explicit SubnetTrainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `data` is the subnet's own view (SelectSubnetData); `full_test_x` is the whole test set
// every subnet predicts for composition.
Result<SubnetOutcome> TrainAndPredict(const SubnetSpec& subnet, const ProblemData& data,
                                      const Array& full_test_x, const TrainingOptions& options);

// Predicts `x` with the finished checkpoint of `subnet` in `checkpoint_dir` (see
// SubnetTrainer::LoadFinishedCheckpoint for the errors). Equals the predictions
// TrainAndPredict returned when it wrote the checkpoint.
Result<Array> PredictFromCheckpoint(const SubnetSpec& subnet, const std::string& checkpoint_dir,
                                    const Array& x, ProblemType problem);

// Whether a Status says training was stopped through TrainingOptions::cancel (code
// kInternal, message starting "cancelled: "), or refused because a newer owner holds the
// checkpoint (code kIoError, message starting "superseded: "). Both survive WithContext.
bool IsCancelled(const Status& status);
bool IsSuperseded(const Status& status);

// Sets the libtorch (OpenMP) threads of the CALLING thread only; other threads, and trainings
// running beside it, keep theirs. OpenBLAS, whose thread count is process-wide and changes
// sgemm's sums, is pinned to one thread for the whole process on the first call. SubnetTrainer
// applies its spec's train.threads itself; callers need this only for their own tensor work.
void SetTrainingThreads(int threads);
int TrainingThreads();  // of the calling thread

}  // namespace cloudbook
