#include "shared/nn/subnet_training.h"
#include "shared/clock.h"

#include <torch/torch.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <utility>

#include "shared/nn/checkpoint.h"
#include "shared/nn/net.h"
#include "shared/nn/subnet_trainer_access.h"
#include "shared/seeded_random.h"

// OpenBLAS keeps its own thread pool; libtorch's set_num_threads does not reach it. Weak, so
// a build against another BLAS still links.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));
// libgomp's per-thread setting (libtorch's parallel backend is OpenMP; at::get_parallel_info()
// says so). Weak: libgomp is loaded with libtorch, not linked by us.
extern "C" void omp_set_num_threads(int threads) __attribute__((weak));

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;

// torch's global generator initialises weights; one network at a time may seed and use it.
std::mutex& ConstructionMutex() {
  static std::mutex mutex;
  return mutex;
}

torch::Tensor ToTensor(const Array& array, bool as_long) {
  auto tensor =
      torch::from_blob(const_cast<float*>(array.values.data()), array.shape, torch::kFloat32);
  return as_long ? tensor.to(torch::kLong) : tensor;
}

torch::Tensor LabelsTensor(const std::vector<int64_t>& labels) {
  return torch::from_blob(const_cast<int64_t*>(labels.data()),
                          {static_cast<int64_t>(labels.size())}, torch::kLong)
      .clone();
}

bool IsClassification(ProblemType problem) { return problem != ProblemType::kRegression; }

// Log-probabilities from the network's output: logits for softmax or linear outputs,
// otherwise (e.g. sigmoid) the normalised activations.
torch::Tensor LogProbabilities(const torch::Tensor& output, const std::string& last_activation) {
  if (last_activation == "softmax" || last_activation == "linear") {
    return torch::log_softmax(output, -1);
  }
  return torch::log((output / output.sum(-1, true)).clamp_min(1e-7));
}

torch::Tensor Loss(const torch::Tensor& output, const torch::Tensor& target,
                   const std::string& loss_name, const std::string& last_activation,
                   bool classification) {
  if (classification) return torch::nll_loss(LogProbabilities(output, last_activation), target);
  if (loss_name == "mae") return torch::l1_loss(output, target);
  return torch::mse_loss(output, target);
}

// One chunk in evaluation mode (the caller set it): probabilities for classification, values
// for regression, [rows, outputs].
torch::Tensor ChunkOutputs(Net& net, const torch::Tensor& inputs, bool classification,
                           const std::string& last_activation) {
  auto output = net->forward(inputs);
  if (classification) output = LogProbabilities(output, last_activation).exp();
  return output.reshape({output.size(0), -1}).contiguous();
}

// Predicts in evaluation mode: probabilities for classification, values for regression.
Array PredictArray(Net& net, const Array& x, bool int64_input, bool classification,
                   const std::string& last_activation) {
  torch::NoGradGuard no_grad;
  net->eval();
  const auto inputs = ToTensor(x, int64_input);
  std::vector<torch::Tensor> chunks;
  constexpr int64_t kBatch = 1024;
  for (int64_t begin = 0; begin < inputs.size(0); begin += kBatch) {
    chunks.push_back(ChunkOutputs(net,
                                  inputs.slice(0, begin, std::min(begin + kBatch, inputs.size(0))),
                                  classification, last_activation));
  }
  Array result;
  if (chunks.empty()) return result;
  const auto all = torch::cat(chunks).contiguous();
  result.shape = all.sizes().vec();
  result.values.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
  return result;
}

Metrics Evaluate(const Array& outputs, const LabeledArrays& truth, bool classification) {
  if (truth.rows() == 0) return {};
  if (classification) return ClassificationMetrics(outputs, truth.labels);
  return RegressionMetrics(outputs, truth.y);
}

constexpr char kCancelledPrefix[] = "cancelled: ";

}  // namespace

void SetTrainingThreads(int threads) {
  threads = std::clamp(threads, 1, kMaxTrainingThreads);
  static std::once_flag process_wide;
  std::call_once(process_wide, [] {
    // Process-wide, once: libtorch's default for threads not set yet and its pthreadpool,
    // and OpenBLAS's pool (measured: its thread count changes sgemm results).
    torch::set_num_threads(1);
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
  });
  // torch::get_num_threads() first runs libtorch's lazy per-thread initialisation, which would
  // otherwise, at this thread's first parallel operation, reset it to the process default.
  if (torch::get_num_threads() == threads) return;
  if (omp_set_num_threads != nullptr) {
    omp_set_num_threads(threads);  // this thread's OpenMP setting: libtorch reads it per thread
  } else {
    torch::set_num_threads(threads);
  }
}

int TrainingThreads() { return torch::get_num_threads(); }

bool IsCancelled(const Status& status) {
  const std::string& message = status.message();
  return !status.ok() && (message.rfind(kCancelledPrefix, 0) == 0 ||
                          message.find(std::string(": ") + kCancelledPrefix) != std::string::npos);
}

struct SubnetTrainer::Impl {
  SubnetSpec subnet;
  ProblemType problem = ProblemType::kMulticlass;
  ModelPlan plan;
  bool classification = true;
  std::string last_activation;
  std::string spec_fingerprint;

  Net net{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  // As Build() left it: no step taken, nothing restored. Anything else (a finished run, a
  // run cancelled mid-epoch, a restored checkpoint) is rebuilt before the next Train.
  bool pristine = true;
  int64_t epochs_done = 0;
  int64_t resumed_from_epoch = 0;
  std::vector<EpochProgress> history;
  Metrics validation_metrics;
  double train_seconds = 0;

  std::string Label() const { return "subnet " + std::to_string(subnet.index); }

  // Seeded initialisation, a fresh optimizer, no epochs.
  void Build() {
    {
      std::lock_guard<std::mutex> lock(ConstructionMutex());
      torch::manual_seed(subnet.seed);
      net = Net(plan, SeededRandom::Derive(subnet.seed, 0xD20F));
    }
    if (subnet.train.optimizer == "sgd") {
      optimizer = std::make_unique<torch::optim::SGD>(
          net->parameters(),
          torch::optim::SGDOptions(subnet.train.learning_rate).momentum(subnet.train.momentum));
    } else {
      optimizer = std::make_unique<torch::optim::Adam>(
          net->parameters(), torch::optim::AdamOptions(subnet.train.learning_rate));
    }
    pristine = true;
    epochs_done = 0;
    resumed_from_epoch = 0;
    history.clear();
    validation_metrics.clear();
  }

  // Why a checkpoint cannot continue this subnet, or "" when it can. An empty
  // `data_fingerprint` skips the data check (prediction has no training data).
  std::string Unusable(const CheckpointInfo& info, const std::string& data_fingerprint) const {
    if (info.format_version != kCheckpointFormatVersion) {
      return "format version " + std::to_string(info.format_version);
    }
    if (info.subnet_index != subnet.index || info.seed != subnet.seed ||
        info.spec_fingerprint != spec_fingerprint) {
      return "it was written for another subnet spec (index, seed, model or training settings "
             "changed)";
    }
    if (!data_fingerprint.empty() && info.data_fingerprint != data_fingerprint) {
      return "it was trained on other data";
    }
    if (info.epoch < 1 || info.epoch > subnet.epochs) {
      return "it holds epoch " + std::to_string(info.epoch) + " and the subnet trains " +
             std::to_string(subnet.epochs);
    }
    if (info.threads != subnet.train.threads) {
      return "it was trained on " + std::to_string(info.threads) + " thread(s) and the subnet " +
             "trains on " + std::to_string(subnet.train.threads) +
             " (continuing would not be bitwise equal)";
    }
    if (static_cast<int64_t>(info.history.size()) != info.epoch) {
      return "its history has " + std::to_string(info.history.size()) + " entries for " +
             std::to_string(info.epoch) + " epochs";
    }
    return "";
  }

  // Loads the checkpoint at `path` into the network after `ReadCheckpointInfo` said it
  // fits. On failure the network is rebuilt from zero and the Status says why.
  Status Restore(const std::string& path, const std::string& data_fingerprint) {
    pristine = false;
    Result<CheckpointInfo> loaded = LoadCheckpoint(path, net, *optimizer);
    Status status = loaded.status();
    // Checked again on what was loaded: the file may have been replaced since the first read.
    if (status.ok()) {
      const std::string reason = Unusable(*loaded, data_fingerprint);
      if (!reason.empty()) status = Status::InvalidArgument(path + ": " + reason);
    }
    if (!status.ok()) {
      Build();
      return status;
    }
    epochs_done = loaded->epoch;
    resumed_from_epoch = loaded->epoch;
    history = std::move(loaded->history);
    for (EpochProgress& progress : history) progress.epochs = subnet.epochs;
    return Status::Ok();
  }

  // Continues from the checkpoint when it is usable; otherwise leaves the network at zero.
  // Fails only when a newer owner holds the checkpoint.
  Status Resume(const TrainingOptions& options, const std::string& path,
                const std::string& data_fingerprint) {
    Result<CheckpointInfo> info = ReadCheckpointInfo(path);
    if (!info.ok()) {
      if (info.status().code() != Status::Code::kNotFound) {
        spdlog::warn("{}: ignoring checkpoint: {}; training from epoch 1", Label(),
                     info.status().message());
      }
      return Status::Ok();
    }
    // Before anything else: a stale owner must not train at all, not even from zero.
    if (info->owner_version > options.owner_version) {
      return Superseded(path, info->owner_version, options.owner_version);
    }
    if (!options.resume) {
      spdlog::info("{}: resume is off; training from epoch 1 over {}", Label(), path);
      return Status::Ok();
    }
    if (const std::string reason = Unusable(*info, data_fingerprint); !reason.empty()) {
      spdlog::warn("{}: ignoring checkpoint {}: {}; training from epoch 1", Label(), path, reason);
      return Status::Ok();
    }
    if (Status restored = Restore(path, data_fingerprint); !restored.ok()) {
      spdlog::warn("{}: ignoring checkpoint: {}; training from epoch 1", Label(),
                   restored.message());
      return Status::Ok();
    }
    spdlog::info("{}: resuming from {} after epoch {}/{}", Label(), path, epochs_done,
                 subnet.epochs);
    return Status::Ok();
  }

  Status Cancelled(int64_t epoch, bool checkpointing) const {
    std::string kept = "nothing was saved";
    if (checkpointing && epoch > 1) {
      kept = "its checkpoint keeps epoch " + std::to_string(epoch - 1);
    }
    return Status::Internal(std::string(kCancelledPrefix) + Label() + " stopped during epoch " +
                            std::to_string(epoch) + " of " + std::to_string(subnet.epochs) + "; " +
                            kept);
  }

  Status Train(const ProblemData& data, const TrainingOptions& options);
};

Status SubnetTrainer::Impl::Train(const ProblemData& data, const TrainingOptions& options) {
  const int64_t samples = data.train.rows();
  if (samples == 0) {
    return Status::InvalidArgument(Label() +
                                   " has no training samples (are its classes in the data?)");
  }
  if (!pristine) Build();
  const bool checkpointing = !options.checkpoint_dir.empty();
  std::string path;
  std::string data_fingerprint;
  if (checkpointing) {
    path = CheckpointPath(options.checkpoint_dir, subnet.index);
    data_fingerprint = DataFingerprint(data.train);
    CB_RETURN_IF_ERROR(Resume(options, path, data_fingerprint));
  }
  if (epochs_done == 0) {  // a restored network has its statistics from the checkpoint
    const ProblemData& whole = options.whole_data != nullptr ? *options.whole_data : data;
    AdaptNormalization(*net, plan, {&whole.train.x, &whole.validation.x});
  }
  auto cancelled = [&options]() {
    return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
  };

  const auto x = ToTensor(data.train.x, plan.int64_input);
  const auto y = classification ? LabelsTensor(data.train.labels) : ToTensor(data.train.y, false);
  const int64_t batch = std::max<int64_t>(subnet.train.batch_size, 1);

  const auto training_start = Clock::now();
  const int64_t first_epoch = epochs_done + 1;
  for (int64_t epoch = first_epoch; epoch <= subnet.epochs; ++epoch) {
    if (cancelled()) return Cancelled(epoch, checkpointing);
    pristine = false;
    const auto epoch_start = Clock::now();
    net->train();
    SeededRandom order(SeededRandom::Derive(subnet.seed, static_cast<uint64_t>(epoch)));
    auto permutation = order.Permutation(samples);
    const auto indices = torch::from_blob(permutation.data(), {samples}, torch::kLong);
    // One gather per epoch, then contiguous slices: fewer dispatches than a gather per batch.
    const auto epoch_x = x.index_select(0, indices);
    const auto epoch_y = y.index_select(0, indices);
    // Sums stay tensors: a .item() per step would add a synchronisation to every batch.
    auto loss_sum = torch::zeros({}, torch::kDouble);
    auto correct = torch::zeros({}, torch::kLong);
    for (int64_t begin = 0; begin < samples; begin += batch) {
      // A relaxed load per batch costs nothing next to a training step. The unfinished
      // epoch is dropped: the network is rebuilt from the checkpoint on the next Train.
      if (cancelled()) return Cancelled(epoch, checkpointing);
      const int64_t end = std::min(begin + batch, samples);
      const auto inputs = epoch_x.slice(0, begin, end);
      const auto targets = epoch_y.slice(0, begin, end);
      optimizer->zero_grad();
      const auto output = net->forward(inputs);
      const auto loss = Loss(output, targets, subnet.train.loss, last_activation, classification);
      loss.backward();
      optimizer->step();
      torch::NoGradGuard no_grad;
      loss_sum += loss.detach().to(torch::kDouble) * static_cast<double>(inputs.size(0));
      if (classification) correct += output.argmax(-1).eq(targets).sum();
    }

    EpochProgress progress;
    progress.subnet_index = subnet.index;
    progress.epoch = epoch;
    progress.epochs = subnet.epochs;
    progress.train_loss = loss_sum.item<double>() / static_cast<double>(samples);
    if (classification) {
      progress.train_accuracy =
          static_cast<double>(correct.item<int64_t>()) / static_cast<double>(samples);
    }
    if (data.validation.rows() > 0) {
      const Array outputs =
          PredictArray(net, data.validation.x, plan.int64_input, classification, last_activation);
      const Metrics metrics = Evaluate(outputs, data.validation, classification);
      progress.validation_loss = classification
                                     ? metrics.at("loss")
                                     : metrics.at(subnet.train.loss == "mae" ? "mae" : "mse");
      if (classification) progress.validation_accuracy = metrics.at("accuracy");
      validation_metrics = metrics;
    }
    progress.epoch_seconds = SecondsSince(epoch_start);
    progress.samples_per_second =
        static_cast<double>(samples) / std::max(progress.epoch_seconds, 1e-9);
    progress.eta_seconds = SecondsSince(training_start) /
                           static_cast<double>(epoch - first_epoch + 1) *
                           static_cast<double>(subnet.epochs - epoch);
    epochs_done = epoch;
    history.push_back(progress);

    if (checkpointing) {
      CheckpointInfo info;
      info.subnet_index = subnet.index;
      info.seed = subnet.seed;
      info.spec_fingerprint = spec_fingerprint;
      info.data_fingerprint = data_fingerprint;
      info.owner_version = options.owner_version;
      info.epoch = epoch;
      info.epochs = subnet.epochs;
      info.threads = subnet.train.threads;
      info.history = history;
      const Status saved = SaveCheckpoint(path, info, net, *optimizer);
      if (IsSuperseded(saved)) return saved;
      // A full or unreachable shared folder: training on would report a DU as trained whose
      // checkpoint (what predict reads) is behind. Stop and say why; the last good checkpoint
      // stays (written atomically), so a rerun resumes from it once the folder is writable.
      if (!saved.ok()) {
        return Status::IoError(Label() + ": epoch " + std::to_string(epoch) +
                               " could not be checkpointed to " + path + ": " + saved.message() +
                               (epoch > 1
                                    ? "; the checkpoint keeps epoch " + std::to_string(epoch - 1)
                                    : std::string("; nothing was saved")));
      }
    }
    if (options.on_epoch) options.on_epoch(progress);
  }
  train_seconds = SecondsSince(training_start);

  // Nothing left to train (a finished checkpoint): the restored network's validation
  // metrics, so the outcome reads as if it had just trained.
  if (first_epoch > subnet.epochs && data.validation.rows() > 0) {
    const Array outputs =
        PredictArray(net, data.validation.x, plan.int64_input, classification, last_activation);
    validation_metrics = Evaluate(outputs, data.validation, classification);
  }
  return Status::Ok();
}

SubnetTrainer::SubnetTrainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SubnetTrainer::~SubnetTrainer() = default;

Result<std::unique_ptr<SubnetTrainer>> SubnetTrainer::Create(const SubnetSpec& subnet,
                                                             ProblemType problem) {
  const std::string label = "subnet " + std::to_string(subnet.index);
  try {
    auto impl = std::make_unique<Impl>();
    impl->subnet = subnet;
    impl->problem = problem;
    CB_ASSIGN_OR_RETURN(impl->plan, PlanModel(subnet.model, label));
    impl->classification = IsClassification(problem);
    impl->last_activation = LayerWord(impl->plan.layers.back().spec, "activation", "linear");
    impl->spec_fingerprint = SpecFingerprint(subnet, problem);
    impl->Build();
    return std::unique_ptr<SubnetTrainer>(new SubnetTrainer(std::move(impl)));
  } catch (const c10::Error& error) {
    return Status::Internal(label + ": libtorch: " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal(label + ": " + error.what());
  }
}

Status SubnetTrainer::Train(const ProblemData& data, const TrainingOptions& options) {
  try {
    SetTrainingThreads(impl_->subnet.train.threads);
    return impl_->Train(data, options);
  } catch (const c10::Error& error) {
    impl_->pristine = false;
    return Status::Internal(impl_->Label() + ": libtorch: " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    impl_->pristine = false;
    return Status::Internal(impl_->Label() + ": " + error.what());
  }
}

Status SubnetTrainer::LoadFinishedCheckpoint(const std::string& checkpoint_dir) {
  Impl& impl = *impl_;
  try {
    if (!impl.pristine) impl.Build();
    const std::string path = CheckpointPath(checkpoint_dir, impl.subnet.index);
    CB_ASSIGN_OR_RETURN(CheckpointInfo info, ReadCheckpointInfo(path));
    if (const std::string reason = impl.Unusable(info, ""); !reason.empty()) {
      return Status::InvalidArgument(path + ": " + reason);
    }
    if (info.epoch != impl.subnet.epochs) {
      return Status::InvalidArgument(path + " holds epoch " + std::to_string(info.epoch) + " of " +
                                     std::to_string(impl.subnet.epochs) +
                                     ": the subnet has not finished training");
    }
    return impl.Restore(path, "");
  } catch (const c10::Error& error) {
    impl.pristine = false;
    return Status::Internal(impl.Label() + ": libtorch: " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    impl.pristine = false;
    return Status::Internal(impl.Label() + ": " + error.what());
  }
}

Result<Array> SubnetTrainer::Predict(const Array& x) {
  Impl& impl = *impl_;
  try {
    SetTrainingThreads(impl.subnet.train.threads);
    return PredictArray(impl.net, x, impl.plan.int64_input, impl.classification,
                        impl.last_activation);
  } catch (const c10::Error& error) {
    return Status::Internal(impl.Label() + ": libtorch: " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal(impl.Label() + ": " + error.what());
  }
}

Net& SubnetTrainerAccess::EvalNet(SubnetTrainer& trainer) {
  trainer.impl_->net->eval();
  return trainer.impl_->net;
}

torch::Tensor SubnetTrainerAccess::Outputs(SubnetTrainer& trainer, const torch::Tensor& x) {
  const SubnetTrainer::Impl& impl = *trainer.impl_;
  Net& net = EvalNet(trainer);
  return ChunkOutputs(net, impl.plan.int64_input ? x.to(torch::kLong) : x, impl.classification,
                      impl.last_activation);
}

bool SubnetTrainerAccess::IntegerInput(const SubnetTrainer& trainer) {
  return trainer.impl_->plan.int64_input;
}

int64_t SubnetTrainer::epochs_done() const { return impl_->epochs_done; }
int64_t SubnetTrainer::resumed_from_epoch() const { return impl_->resumed_from_epoch; }
const std::vector<EpochProgress>& SubnetTrainer::history() const { return impl_->history; }
const Metrics& SubnetTrainer::validation_metrics() const { return impl_->validation_metrics; }
int64_t SubnetTrainer::parameters() const { return impl_->plan.parameters; }
double SubnetTrainer::train_seconds() const { return impl_->train_seconds; }

Result<SubnetOutcome> TrainAndPredict(const SubnetSpec& subnet, const ProblemData& data,
                                      const Array& full_test_x, const TrainingOptions& options) {
  CB_ASSIGN_OR_RETURN(std::unique_ptr<SubnetTrainer> trainer,
                      SubnetTrainer::Create(subnet, options.problem));
  CB_RETURN_IF_ERROR(trainer->Train(data, options));
  SubnetOutcome outcome;
  outcome.train_samples = data.train.rows();
  outcome.parameters = trainer->parameters();
  outcome.history = trainer->history();
  outcome.resumed_from_epoch = trainer->resumed_from_epoch();
  outcome.validation_metrics = trainer->validation_metrics();
  outcome.train_seconds = trainer->train_seconds();

  const auto predict_start = Clock::now();
  CB_ASSIGN_OR_RETURN(outcome.test_outputs, trainer->Predict(full_test_x));
  outcome.predict_seconds = SecondsSince(predict_start);
  if (data.test.rows() > 0) {
    CB_ASSIGN_OR_RETURN(const Array own, trainer->Predict(data.test.x));
    outcome.test_metrics = Evaluate(own, data.test, IsClassification(options.problem));
  }
  return outcome;
}

Result<Array> PredictFromCheckpoint(const SubnetSpec& subnet, const std::string& checkpoint_dir,
                                    const Array& x, ProblemType problem) {
  CB_ASSIGN_OR_RETURN(std::unique_ptr<SubnetTrainer> trainer,
                      SubnetTrainer::Create(subnet, problem));
  CB_RETURN_IF_ERROR(trainer->LoadFinishedCheckpoint(checkpoint_dir));
  return trainer->Predict(x);
}

}  // namespace cloudbook
