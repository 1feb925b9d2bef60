#include "agent/runtime/du_runtime.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "agent/runtime/du_inference.h"
#include "shared/confusion_matrix.h"
#include "shared/data/project_data.h"
#include "shared/formats/du_files.h"
#include "shared/nn/subnet_training.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"

namespace cloudbook {

// Gives the threads of an acquired training slot back when the training ends.
struct DuRuntime::SlotRelease {
  DuRuntime* runtime;
  int threads;
  ~SlotRelease() { runtime->ReleaseTrainingSlot(threads); }
};

struct DuRuntime::DuSlot {
  std::mutex mutex;  // guards everything below
  DuState state;
  bool training = false;
  std::atomic<bool> own_cancel{false};
  std::atomic<bool>* active_cancel = nullptr;  // the running train's flag
  std::shared_ptr<const ProblemData> data;     // kept after train for predict
};

namespace {

Result<DuSpec> ReadUnit(const ProjectLayout& layout, int du) {
  CB_ASSIGN_OR_RETURN(std::vector<DuSpec> dus, ReadDuSpecs(layout));
  for (DuSpec& unit : dus) {
    if (unit.index == du) return std::move(unit);
  }
  return Status::NotFound("DU " + std::to_string(du) + " is not in du_list.json (the maker made " +
                          std::to_string(dus.size()) + ")");
}

Result<std::shared_ptr<const ProblemData>> LoadData(const ProjectLayout& layout,
                                                    const DuSpec& unit) {
  if (unit.subnets.empty()) return Status::Corruption("DU holds no subnets");
  CB_ASSIGN_OR_RETURN(ProblemData data,
                      LoadProjectData(layout, unit.program, unit.subnets[0].model.input_shape));
  return std::make_shared<const ProblemData>(std::move(data));
}

std::string CheckpointDir(const ProjectLayout& layout, int du) {
  return layout.shared().du_checkpoints(du);
}

WireArguments ProgressArguments(const EpochProgress& p) {
  WireArguments arguments = {{"subnet", int64_t{p.subnet_index}},
                             {"epoch", p.epoch},
                             {"epochs", p.epochs},
                             {"loss", p.train_loss},
                             {"samples_per_second", p.samples_per_second},
                             {"eta_seconds", p.eta_seconds}};
  if (!std::isnan(p.train_accuracy)) arguments["accuracy"] = p.train_accuracy;
  if (!std::isnan(p.validation_loss)) arguments["val_loss"] = p.validation_loss;
  if (!std::isnan(p.validation_accuracy)) arguments["val_accuracy"] = p.validation_accuracy;
  return arguments;
}

}  // namespace

DuRuntime::DuRuntime(ProjectLayout layout, int threads)
    : layout_(std::move(layout)),
      inference_(std::make_unique<DuInference>(layout_.shared())),
      threads_(std::max(threads, 1)) {}

DuRuntime::~DuRuntime() {
  if (prefetch_.joinable()) prefetch_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [du, slot] : slots_) {
    std::lock_guard<std::mutex> slot_lock(slot->mutex);
    if (slot->active_cancel) slot->active_cancel->store(true);
  }
}

const std::vector<std::string>& DuRuntime::FunctionNames() {
  static const std::vector<std::string> names = {"train",  "predict",  "status",
                                                 "cancel", "baseline", "infer"};
  return names;
}

bool DuRuntime::AcquireTrainingSlot(const std::atomic<bool>* cancel, int threads) {
  std::unique_lock<std::mutex> lock(training_mutex_);
  const uint64_t ticket = next_ticket_++;
  for (;;) {
    if (cancel != nullptr && cancel->load()) {
      // Give the turn away so the trainings behind this one are not stuck.
      if (serving_ticket_ == ticket)
        ++serving_ticket_;
      else
        abandoned_tickets_.insert(ticket);
      training_slot_freed_.notify_all();
      return false;
    }
    while (abandoned_tickets_.count(serving_ticket_)) abandoned_tickets_.erase(serving_ticket_++);
    if (serving_ticket_ == ticket &&
        (threads_in_use_ == 0 || threads_in_use_ + threads <= threads_)) {
      ++serving_ticket_;
      threads_in_use_ += threads;
      training_slot_freed_.notify_all();
      return true;
    }
    // Cancellation is a flag, not a notification: look at it again every cancel_poll_ms.
    training_slot_freed_.wait_for(lock, GetTunables().cancel_poll_ms);
  }
}

void DuRuntime::ReleaseTrainingSlot(int threads) {
  {
    std::lock_guard<std::mutex> lock(training_mutex_);
    threads_in_use_ -= threads;
  }
  training_slot_freed_.notify_all();
}

void DuRuntime::SetThreads(int threads) { threads_ = std::max(threads, 1); }

bool DuRuntime::StopAfterCurrentEpochs(double timeout_s) {
  stopping_ = true;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  for (;;) {
    bool any_training = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [du, slot] : slots_) {
        std::lock_guard<std::mutex> slot_lock(slot->mutex);
        any_training = any_training || slot->training;
      }
    }
    if (!any_training) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Epochs take seconds; checking every cancel_poll_ms keeps shutdown prompt and cheap.
    std::this_thread::sleep_for(GetTunables().cancel_poll_ms);
  }
}

Result<std::shared_ptr<const ProblemData>> DuRuntime::Data(int du) {
  CB_ASSIGN_OR_RETURN(DuSpec unit, ReadUnit(layout_, du));
  if (unit.subnets.empty()) return cloudbook::Status::Corruption("DU holds no subnets");
  std::string key = unit.generation;
  for (int64_t d : unit.subnets[0].model.input_shape) key += "x" + std::to_string(d);
  std::lock_guard<std::mutex> lock(data_mutex_);
  if (data_ && data_key_ == key) return data_;
  const auto start = std::chrono::steady_clock::now();
  CB_ASSIGN_OR_RETURN(data_, LoadData(layout_, unit));
  data_key_ = key;
  spdlog::info("data loaded in {:.2f} s ({} training, {} test samples), kept for every DU here",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               data_->train.rows(), data_->test.rows());
  return data_;
}

void DuRuntime::Prefetch(int du) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (prefetch_.joinable()) return;  // one prefetch per runtime: later DUs share its data
  prefetch_ = std::thread([this, du] {
    auto data = Data(du);
    if (!data.ok()) spdlog::warn("prefetching DU {}'s data: {}", du, data.status().message());
    {
      std::lock_guard<std::mutex> done_lock(mutex_);
      prefetch_done_ = true;
    }
    prefetch_finished_.notify_all();
  });
}

bool DuRuntime::WaitForPrefetch(double timeout_s) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!prefetch_.joinable()) return true;
  return prefetch_finished_.wait_for(
      lock, std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)),
      [this] { return prefetch_done_; });
}

DuRuntime::DuSlot& DuRuntime::Slot(int du) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = slots_[du];
  if (!slot) {
    slot = std::make_unique<DuSlot>();
    slot->state.du = du;
  }
  return *slot;
}

std::vector<DuState> DuRuntime::States() const {
  std::vector<DuState> states;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [du, slot] : slots_) {
    std::lock_guard<std::mutex> slot_lock(slot->mutex);
    states.push_back(slot->state);
  }
  return states;
}

Result<DuReply> DuRuntime::Invoke(const DuInvocation& call) {
  if (call.du < 0 || call.du > 100000) {
    return Status::InvalidArgument("DU index " + std::to_string(call.du) + " is out of range");
  }
  if (call.function == "train") return Train(call);
  if (call.function == "predict") return Predict(call);
  if (call.function == "status") return Status(call);
  if (call.function == "cancel") return Cancel(call);
  if (call.function == "baseline") return Baseline(call);
  if (call.function == "infer") return Infer(call);
  std::string valid;
  for (const auto& name : FunctionNames()) valid += (valid.empty() ? "" : ", ") + name;
  return Status::InvalidArgument("unknown function '" + call.function + "'; valid: " + valid);
}

Result<DuReply> DuRuntime::Train(const DuInvocation& call) {
  if (stopping_) return cloudbook::Status::InvalidArgument("the agent is stopping");
  DuSlot& slot = Slot(call.du);
  {
    std::lock_guard<std::mutex> lock(slot.mutex);
    if (slot.training) {
      return Status::InvalidArgument("DU " + std::to_string(call.du) + " is already training");
    }
    slot.training = true;
    slot.own_cancel = false;
    slot.active_cancel = call.cancel ? call.cancel : &slot.own_cancel;
    slot.state = DuState{};
    slot.state.du = call.du;
    slot.state.state = "training";
  }
  auto finish = [&](const cloudbook::Status& status) {
    std::lock_guard<std::mutex> lock(slot.mutex);
    slot.training = false;
    slot.active_cancel = nullptr;
    slot.state.state = status.ok() ? "trained" : IsCancelled(status) ? "cancelled" : "failed";
    slot.state.error = status.ok() ? "" : status.message();
    return status;
  };

  auto unit = ReadUnit(layout_, call.du);
  if (!unit.ok()) return finish(unit.status());
  int threads = 1;
  for (const SubnetSpec& subnet : unit->subnets) threads = std::max(threads, subnet.train.threads);
  if (!AcquireTrainingSlot(slot.active_cancel, threads)) {
    return finish(cloudbook::Status::Internal("cancelled: while waiting for a core"));
  }
  SlotRelease slot_release{this, threads};
  auto data = Data(call.du);
  if (!data.ok()) return finish(data.status());
  {
    std::lock_guard<std::mutex> lock(slot.mutex);
    slot.data = *data;
  }

  TrainingOptions options;
  options.problem = unit->program.problem;
  options.checkpoint_dir = CheckpointDir(layout_, call.du);
  options.owner_version =
      static_cast<int64_t>(NumberArgument(call.arguments, "assignment_version", 0));
  options.resume = BoolArgument(call.arguments, "resume", true);
  options.cancel = slot.active_cancel;
  options.whole_data = &**data;
  options.on_epoch = [&](const EpochProgress& p) {
    {
      std::lock_guard<std::mutex> lock(slot.mutex);
      slot.state.subnet = p.subnet_index;
      slot.state.epoch = p.epoch;
      slot.state.epochs = p.epochs;
      slot.state.loss = p.train_loss;
      slot.state.samples_per_second = p.samples_per_second;
    }
    spdlog::info("DU {} subnet {} epoch {}/{} loss {:.4f} {:.0f} samples/s", call.du,
                 p.subnet_index, p.epoch, p.epochs, p.train_loss, p.samples_per_second);
    if (call.progress) call.progress(ProgressArguments(p));
    // Shutting down: this epoch's checkpoint is written, so stop before the next one.
    if (stopping_) options.cancel->store(true);
  };

  const auto start = std::chrono::steady_clock::now();
  int64_t resumed = 0;
  for (const SubnetSpec& subnet : unit->subnets) {
    const ProblemData view = SelectSubnetData(**data, unit->program, subnet);
    auto trainer = SubnetTrainer::Create(subnet, unit->program.problem);
    if (!trainer.ok()) return finish(trainer.status());
    // Data loaded and model built: the first step comes next (callers time their overhead).
    if (call.progress) {
      call.progress({{"subnet", int64_t{subnet.index}},
                     {"epoch", int64_t{0}},
                     {"epochs", subnet.epochs},
                     {"state", std::string("started")}});
    }
    const cloudbook::Status status = (*trainer)->Train(view, options);
    if (!status.ok()) {
      return finish(status).WithContext("DU " + std::to_string(call.du) + " subnet " +
                                        std::to_string(subnet.index));
    }
    resumed += (*trainer)->resumed_from_epoch();
  }
  finish(cloudbook::Status::Ok());
  DuReply reply;
  reply.values = {
      {"subnets", static_cast<int64_t>(unit->subnets.size())},
      {"resumed_epochs", resumed},
      {"train_seconds",
       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  return reply;
}

Result<DuReply> DuRuntime::Predict(const DuInvocation& call) {
  DuSlot& slot = Slot(call.du);
  CB_ASSIGN_OR_RETURN(DuSpec unit, ReadUnit(layout_, call.du));
  std::shared_ptr<const ProblemData> data;
  {
    std::lock_guard<std::mutex> lock(slot.mutex);
    data = slot.data;
  }
  if (!data) {
    CB_ASSIGN_OR_RETURN(data, Data(call.du));
  }
  DuReply reply;
  for (const SubnetSpec& subnet : unit.subnets) {
    if (call.cancel && call.cancel->load())
      return cloudbook::Status::Internal("cancelled: predict");
    auto predictions = PredictFromCheckpoint(subnet, CheckpointDir(layout_, call.du), data->test.x,
                                             unit.program.problem);
    if (!predictions.ok()) {
      return predictions.status().WithContext("DU " + std::to_string(call.du) + " subnet " +
                                              std::to_string(subnet.index) + " (train it first)");
    }
    reply.tensors.emplace_back("subnet_" + std::to_string(subnet.index),
                               std::make_shared<const Array>(std::move(predictions).value()));
  }
  reply.values = {{"subnets", static_cast<int64_t>(unit.subnets.size())},
                  {"test_samples", data->test.rows()}};
  return reply;
}

Result<DuReply> DuRuntime::Status(const DuInvocation& call) {
  DuSlot& slot = Slot(call.du);
  std::lock_guard<std::mutex> lock(slot.mutex);
  DuReply reply;
  reply.values = {
      {"state", slot.state.state}, {"subnet", int64_t{slot.state.subnet}},
      {"epoch", slot.state.epoch}, {"epochs", slot.state.epochs},
      {"loss", slot.state.loss},   {"samples_per_second", slot.state.samples_per_second},
      {"error", slot.state.error}};
  return reply;
}

Result<DuReply> DuRuntime::Cancel(const DuInvocation& call) {
  DuSlot& slot = Slot(call.du);
  std::lock_guard<std::mutex> lock(slot.mutex);
  const bool was_training = slot.training && slot.active_cancel != nullptr;
  if (was_training) slot.active_cancel->store(true);
  DuReply reply;
  reply.values = {{"cancelled", was_training}};
  return reply;
}

Result<DuReply> DuRuntime::Baseline(const DuInvocation& call) {
  if (stopping_) return cloudbook::Status::InvalidArgument("the agent is stopping");
  CB_ASSIGN_OR_RETURN(DuSpec unit, ReadUnit(layout_, call.du));
  if (!unit.baseline) {
    return cloudbook::Status::InvalidArgument("DU " + std::to_string(call.du) +
                                              " holds no original network (DU 0 does)");
  }
  const SubnetSpec& original = *unit.baseline;
  if (!AcquireTrainingSlot(call.cancel, original.train.threads)) {
    return cloudbook::Status::Internal("cancelled: while waiting for a core");
  }
  SlotRelease slot_release{this, original.train.threads};
  CB_ASSIGN_OR_RETURN(ProblemData data,
                      LoadProjectData(layout_, unit.program, original.model.input_shape));
  TrainingOptions options;
  options.problem = unit.program.problem;
  options.cancel = call.cancel;
  options.on_epoch = [&](const EpochProgress& p) {
    spdlog::info("original network epoch {}/{} loss {:.4f} {:.0f} samples/s", p.epoch, p.epochs,
                 p.train_loss, p.samples_per_second);
    if (call.progress) call.progress(ProgressArguments(p));
  };
  CB_ASSIGN_OR_RETURN(SubnetOutcome outcome, TrainAndPredict(original, data, data.test.x, options));
  DuReply reply;
  reply.values = {{"train_seconds", outcome.train_seconds},
                  {"epochs", original.epochs},
                  {"threads", int64_t{original.train.threads}},
                  {"parameters", outcome.parameters}};
  for (const auto& [name, value] : outcome.test_metrics) reply.values["metric_" + name] = value;
  // Its confusion matrix (float32 [N, N]) for the results' "baseline" entry.
  if (unit.program.problem != ProblemType::kRegression &&
      unit.program.num_classes <= GetTunables().confusion_max_classes) {
    Result<ConfusionMatrix> confusion =
        OutputsConfusion(unit.program, outcome.test_outputs, data.test.labels);
    if (confusion.ok()) {
      reply.tensors.emplace_back("confusion",
                                 std::make_shared<const Array>(ConfusionToArray(*confusion)));
    } else {
      spdlog::warn("the original network's confusion matrix: {}", confusion.status().ToString());
    }
  }
  return reply;
}

// No training slot: a batch takes milliseconds on the subnets' own threads (du_inference.h).
Result<DuReply> DuRuntime::Infer(const DuInvocation& call) {
  std::shared_ptr<const Array> x;
  for (const auto& [name, array] : call.tensors) {
    if (name == "x") x = array;
  }
  if (!x) return cloudbook::Status::InvalidArgument("infer needs the input tensor 'x'");
  const std::string run = StringArgument(call.arguments, "run");
  auto outputs = inference_->Infer(run, call.du, *x);
  if (!outputs.ok()) {
    return outputs.status().WithContext("infer of DU " + std::to_string(call.du) + " of run '" +
                                        run + "'");
  }
  DuReply reply;
  for (auto& [subnet, array] : *outputs) {
    reply.tensors.emplace_back("subnet_" + std::to_string(subnet),
                               std::make_shared<const Array>(std::move(array)));
  }
  reply.values = {{"subnets", static_cast<int64_t>(reply.tensors.size())}};
  return reply;
}

}  // namespace cloudbook
