#include "agent/runtime/run_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "shared/clock.h"
#include "shared/composed_score.h"
#include "shared/confusion_matrix.h"
#include "shared/data/project_data.h"
#include "shared/formats/assignment.h"
#include "shared/formats/du_files.h"
#include "shared/formats/run_model.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"
#include "shared/wire/wire_arrays.h"

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Timings (shared/tunables_def.h): assignment_poll_ms is how often a waiting DU looks at
// assignment.json again (a small local read; on network back ends the adapter caches), and
// the slice in which a lost owner may come back; busy_retry_ms / busy_retries retry a DU whose
// owner still winds down an earlier invoke ("already training").

milliseconds Millis(double seconds) {
  return milliseconds(static_cast<int64_t>(std::max(0.0, seconds) * 1000));
}

Json MetricsJson(const Metrics& metrics) {
  Json json = Json::object();
  for (const auto& [name, value] : metrics)
    json[name] = std::isfinite(value) ? Json(value) : Json();
  return json;
}

bool IsStopEcho(const Status& status) {
  return status.message().rfind("cancelled", 0) == 0 ||
         status.message().find(": cancelled") != std::string::npos;
}

// One DU's course through the run.
struct DuRecord {
  const DuSpec* unit = nullptr;
  std::vector<std::string> owners;  // every agent that trained it, in order
  std::vector<int64_t> versions;    // the assignment version of each attempt
  int attempts = 0;
  int64_t resumed_epochs = 0;
  double train_seconds = 0;  // as the last owner measured it
  std::string final_owner;
  std::string predicted_by;
  Status status;
  Clock::time_point trained_at;
  std::map<int, Array> predictions;  // subnet index -> its test-set outputs
  std::map<int, Json> history;       // subnet index -> [{epoch, loss, ...}]
};

class Coordinator {
 public:
  Coordinator(const RunEnvironment& environment, const RunRequest& request)
      : env_(environment), request_(request) {}

  Result<RunReport> Run();

 private:
  bool Cancelled() const { return stop_.load() || (env_.cancel != nullptr && env_.cancel->load()); }
  bool PastDeadline() const { return Clock::now() >= deadline_; }
  milliseconds Remaining() const {
    return std::max(GetTunables().min_call_timeout_ms,
                    std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now()));
  }
  Status Stopped() const {
    if (Cancelled()) return Status::Internal("cancelled: the run was cancelled");
    return Status::Internal("the run's time limit of " + std::to_string(request_.timeout_s) +
                            " s passed");
  }
  void Note(const std::string& message);
  void Emit(WireArguments event);
  Result<Assignment> WaitForAssignment();
  std::optional<Assignment> ReadCurrentAssignment();
  void WaitForMoveOrReturn(int du, int64_t version, const std::string& owner);
  void DriveDu(DuRecord& record);
  Status TrainDu(DuRecord& record);
  Status PredictDu(DuRecord& record);
  void OnProgress(DuRecord& record, const std::string& agent, const WireArguments& progress);
  // Trains the original network on agent 0 and adds "baseline" and "comparison".
  Status TrainBaseline(Json& results, const Metrics& composed, double slowest_train);

  const RunEnvironment& env_;
  const RunRequest& request_;
  std::string run_name_;
  std::string generation_;
  Clock::time_point start_;
  Clock::time_point deadline_;
  // Set when the run must end early (cancelled by the launcher, or a DU failed for good): every
  // call in flight is cancelled through it.
  std::atomic<bool> stop_{false};
  std::mutex mutex_;  // guards the members below and on_event calls
  std::optional<double> first_step_seconds_;
  int redeploys_ = 0;
  int64_t last_seen_version_ = 0;
};

void Coordinator::Emit(WireArguments event) {
  event["run"] = run_name_;
  event["elapsed_seconds"] = SecondsSince(start_);
  if (env_.on_event) env_.on_event(event);
}

void Coordinator::Note(const std::string& message) {
  spdlog::info("run {}: {}", run_name_, message);
  std::lock_guard<std::mutex> lock(mutex_);
  Emit({{"event", std::string("note")}, {"message", message}});
}

std::optional<Assignment> Coordinator::ReadCurrentAssignment() {
  auto assignment = ReadAssignment(env_.shared_folder);
  if (!assignment.ok() || assignment->generation != generation_) return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  if (assignment->version > last_seen_version_) {
    if (last_seen_version_ > 0) {
      spdlog::info("run {}: assignment version {} (was {})", run_name_, assignment->version,
                   last_seen_version_);
    }
    last_seen_version_ = assignment->version;
  }
  return std::move(assignment).value();
}

Result<Assignment> Coordinator::WaitForAssignment() {
  const auto limit = Clock::now() + Millis(request_.assignment_wait_s);
  bool told = false;
  for (;;) {
    auto assignment = ReadAssignment(env_.shared_folder);
    std::string problem;
    if (!assignment.ok()) {
      problem = assignment.status().message();
    } else if (assignment->generation != generation_) {
      problem = "assignment.json was made for another DU set (generation " +
                assignment->generation + ", DUs are " + generation_ + "): run cloudbook-deployer";
    } else {
      return std::move(assignment).value();
    }
    if (!told) {
      Note("waiting for the deployer's assignment: " + problem);
      told = true;
    }
    if (Cancelled() || Clock::now() >= limit || PastDeadline()) {
      if (Cancelled()) return Stopped();
      return Status::NotFound("no usable assignment after " +
                              std::to_string(static_cast<int>(request_.assignment_wait_s)) +
                              " s: " + problem);
    }
    std::this_thread::sleep_for(GetTunables().assignment_poll_ms);
  }
}

// Returns when the deployer moved `du` away from `owner` (a version after `version`), when
// `owner` answers again, or when the run is cancelled or out of time.
void Coordinator::WaitForMoveOrReturn(int du, int64_t version, const std::string& owner) {
  while (!Cancelled() && !PastDeadline()) {
    if (auto assignment = ReadCurrentAssignment()) {
      const DuAssignment* entry = assignment->Find(du);
      if (assignment->version != version && entry != nullptr && entry->agent != owner) return;
    }
    // The timed wait of this loop: a restarted owner ends it early.
    if (owner != env_.own_id && env_.caller->WaitReachable(owner, GetTunables().assignment_poll_ms))
      return;
    if (owner == env_.own_id) std::this_thread::sleep_for(GetTunables().assignment_poll_ms);
  }
}

void Coordinator::OnProgress(DuRecord& record, const std::string& agent,
                             const WireArguments& progress) {
  const int du = record.unit->index;
  const int subnet = static_cast<int>(NumberArgument(progress, "subnet", -1));
  const std::string state = StringArgument(progress, "state");
  int position = 0;
  for (size_t i = 0; i < record.unit->subnets.size(); ++i) {
    if (record.unit->subnets[i].index == subnet) position = static_cast<int>(i);
  }
  WireArguments event = progress;
  event["event"] = std::string("du");
  event["du"] = int64_t{du};
  event["agent"] = agent;
  event["subnet_position"] = int64_t{position};
  event["subnets"] = static_cast<int64_t>(record.unit->subnets.size());
  if (state.empty()) event["state"] = std::string("training");
  std::lock_guard<std::mutex> lock(mutex_);
  if (state == "started" && !first_step_seconds_) first_step_seconds_ = SecondsSince(start_);
  const double epoch = NumberArgument(progress, "epoch", 0);
  if (state.empty() && epoch >= 1) {
    Json entry = {{"epoch", static_cast<int64_t>(epoch)}, {"agent", agent}};
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy", "samples_per_second"}) {
      if (progress.count(key))
        entry[key == std::string("loss") ? "train_loss" : key] = NumberArgument(progress, key, 0);
    }
    Json& history = record.history[subnet];
    if (!history.is_array()) history = Json::array();
    // A resumed DU repeats no epoch, but a retried one may: keep the latest of each epoch.
    while (!history.empty() && history.back()["epoch"].get<int64_t>() >= epoch) {
      history.erase(history.size() - 1);
    }
    history.push_back(entry);
  }
  Emit(std::move(event));
}

Status Coordinator::TrainDu(DuRecord& record) {
  const int du = record.unit->index;
  int busy_retries = 0;
  for (;;) {
    if (Cancelled() || PastDeadline()) return Stopped();
    std::optional<Assignment> assignment = ReadCurrentAssignment();
    const DuAssignment* entry = assignment ? assignment->Find(du) : nullptr;
    if (entry == nullptr) {
      std::this_thread::sleep_for(
          GetTunables().assignment_poll_ms);  // the deployer is rewriting it
      continue;
    }
    const std::string owner = entry->agent;
    const int64_t version = assignment->version;
    if (owner != env_.own_id &&
        !env_.caller->WaitReachable(owner, Millis(request_.reachable_wait_s))) {
      Note("DU " + std::to_string(du) + ": agent " + owner +
           " does not answer; waiting for it to come back or for the deployer to move the DU");
      WaitForMoveOrReturn(du, version, owner);
      continue;
    }
    if (!record.owners.empty() && record.owners.back() != owner) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++redeploys_;
    }
    if (record.owners.empty() || record.owners.back() != owner) {
      record.owners.push_back(owner);
      record.versions.push_back(version);
      Note("DU " + std::to_string(du) + " -> " + owner + " (assignment version " +
           std::to_string(version) + ", " + entry->reason + ")");
    }
    ++record.attempts;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      Emit({{"event", std::string("du")},
            {"du", int64_t{du}},
            {"agent", owner},
            {"state", std::string("assigned")},
            {"subnets", static_cast<int64_t>(record.unit->subnets.size())}});
    }
    DuCallRequest call;
    call.agent = owner;
    call.function = "train";
    call.du = du;
    call.arguments = {{"assignment_version", version}, {"resume", true}};
    call.timeout = Remaining();
    call.on_progress = [&](const WireArguments& progress) { OnProgress(record, owner, progress); };
    call.cancel = &stop_;
    DuCallOutcome outcome = env_.caller->CallDu(call);
    if (outcome.status.ok()) {
      record.final_owner = owner;
      record.resumed_epochs +=
          static_cast<int64_t>(NumberArgument(outcome.reply.header.arguments, "resumed_epochs", 0));
      record.train_seconds = NumberArgument(outcome.reply.header.arguments, "train_seconds", 0);
      return Status::Ok();
    }
    if (Cancelled() || PastDeadline()) return Stopped();
    const std::string& message = outcome.status.message();
    if (!outcome.remote) {
      Note("DU " + std::to_string(du) + " on " + owner + ": " + message +
           "; waiting for the agent to come back or for the deployer to move the DU");
      WaitForMoveOrReturn(du, version, owner);
      continue;
    }
    if (message.find("already training") != std::string::npos &&
        busy_retries < GetTunables().busy_retries) {
      ++busy_retries;  // an earlier invoke of ours is still winding down there
      std::this_thread::sleep_for(GetTunables().busy_retry_ms);
      continue;
    }
    // The owner gave the DU up on its own: it is stopping, a newer checkpoint or assignment
    // took it over, or it cancelled the training itself (it saw the DU move, or lost our
    // heartbeats on a bad network); our run was not cancelled (checked above). Wait for the
    // deployer's next word; pause between tries if the owner answers at once, so that a view
    // of the assignment lagging behind the owner's does not turn into a storm of calls.
    if (message.find("is stopping") != std::string::npos ||
        message.find("superseded") != std::string::npos ||
        message.find("not assigned to") != std::string::npos || IsStopEcho(outcome.status)) {
      Note("DU " + std::to_string(du) + " on " + owner + ": " + message +
           "; waiting for the deployer's next assignment");
      WaitForMoveOrReturn(du, version, owner);
      std::optional<Assignment> now = ReadCurrentAssignment();
      if (now && now->version == version)
        std::this_thread::sleep_for(GetTunables().assignment_poll_ms);
      continue;
    }
    return outcome.status.WithContext("DU " + std::to_string(du) + " failed on " + owner);
  }
}

// The results entries of the baseline's confusion matrix, sent by the `baseline` DU function
// as the float32 tensor "confusion"; {} when it sent none (a regression).
Result<Json> BaselineConfusionFromReply(const WireMessage& reply) {
  const int index = FindTensor(reply, "confusion");
  if (index < 0) return Json::object();
  auto array = ArrayFromTensor(reply, static_cast<size_t>(index));
  if (!array.ok()) return array.status().WithContext("baseline reply: tensor 'confusion'");
  CB_ASSIGN_OR_RETURN(ConfusionMatrix matrix, ConfusionFromArray(*array));
  return ConfusionEntries(matrix);
}

Status Coordinator::PredictDu(DuRecord& record) {
  const int du = record.unit->index;
  // The owner has the data loaded; any agent can predict from the shared checkpoints, so a
  // failed owner falls back to agent 0 itself.
  for (const std::string& agent : {record.final_owner, env_.own_id}) {
    if (Cancelled() || PastDeadline()) return Stopped();
    DuCallRequest call;
    call.agent = agent;
    call.function = "predict";
    call.du = du;
    call.timeout = std::min(Remaining(), GetTunables().predict_timeout_ms);
    call.cancel = &stop_;
    DuCallOutcome outcome = env_.caller->CallDu(call);
    if (outcome.status.ok()) {
      auto predictions = SubnetArraysFromReply(outcome.reply);
      if (predictions.ok()) {
        record.predictions = std::move(predictions).value();
        record.predicted_by = agent;
        return Status::Ok();
      }
      outcome.status = predictions.status();
    }
    if (agent == env_.own_id) {
      return outcome.status.WithContext("DU " + std::to_string(du) + " predict on " + agent);
    }
    Note("DU " + std::to_string(du) + ": predict on " + agent + " failed (" +
         outcome.status.message() + "); predicting on " + env_.own_id + " from the checkpoint");
  }
  return Status::Internal("unreachable");
}

void Coordinator::DriveDu(DuRecord& record) {
  record.status = TrainDu(record);
  record.trained_at = Clock::now();
  if (!record.status.ok()) {
    if (!Cancelled()) {
      Note(record.status.message() + ": stopping the other DUs");
      stop_ = true;
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Emit({{"event", std::string("du")},
          {"du", int64_t{record.unit->index}},
          {"agent", record.final_owner},
          {"state", std::string("trained")},
          {"subnets", static_cast<int64_t>(record.unit->subnets.size())}});
  }
  record.status = PredictDu(record);
}

Status Coordinator::TrainBaseline(Json& results, const Metrics& composed, double slowest_train) {
  Note("training the original network on " + env_.own_id + " for comparison");
  DuCallRequest call;
  call.agent = env_.own_id;
  call.function = "baseline";
  call.du = 0;
  call.timeout = Remaining();
  call.cancel = &stop_;
  call.on_progress = [&](const WireArguments& progress) {
    WireArguments event = progress;
    event["event"] = std::string("baseline");
    std::lock_guard<std::mutex> lock(mutex_);
    Emit(std::move(event));
  };
  DuCallOutcome outcome = env_.caller->CallDu(call);
  if (!outcome.status.ok()) return outcome.status.WithContext("training the original network");
  const WireArguments& values = outcome.reply.header.arguments;
  Json metrics = Json::object();
  for (const auto& [name, value] : values) {
    if (name.rfind("metric_", 0) == 0) metrics[name.substr(7)] = NumberArgument(values, name, 0);
  }
  const double train_seconds = NumberArgument(values, "train_seconds", 0);
  results["baseline"] = {{"metrics", metrics},
                         {"ran_on", env_.own_id},
                         {"epochs", static_cast<int64_t>(NumberArgument(values, "epochs", 0))},
                         {"threads", static_cast<int64_t>(NumberArgument(values, "threads", 0))},
                         {"train_seconds", train_seconds}};
  MergeConfusionEntries(results["baseline"], BaselineConfusionFromReply(outcome.reply));
  Json comparison = {{"speedup_slowest_du", train_seconds / std::max(slowest_train, 1e-9)}};
  for (const auto& [name, value] : composed) {
    if (metrics.contains(name)) comparison[name + "_delta"] = value - metrics[name].get<double>();
  }
  results["comparison"] = comparison;
  return Status::Ok();
}

Result<RunReport> Coordinator::Run() {
  start_ = Clock::now();
  deadline_ = start_ + Millis(request_.timeout_s);
  run_name_ = request_.run_name.empty() ? "run-" + UtcStamp() : request_.run_name;
  const std::string started_utc = UtcStamp();
  CB_ASSIGN_OR_RETURN(std::vector<DuSpec> dus,
                      ReadDuSpecs(ProjectLayout(env_.project_folder, env_.shared_folder)));
  if (dus.empty()) return Status::NotFound("no DUs: run cloudbook-maker first");
  generation_ = dus[0].generation;
  const ProjectProgram& program = dus[0].program;
  if (!program.data.test && !program.data.test_split) {
    return Status::InvalidArgument(
        "the program has no data.test (nor data.test_split): nothing to compose on");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Emit({{"event", std::string("start")},
          {"dus", static_cast<int64_t>(dus.size())},
          {"project", program.name}});
  }
  Note(std::to_string(dus.size()) + " DUs of " + program.name);

  // The test labels, loaded while the DUs train.
  Result<std::shared_ptr<const ProblemData>> data = Status::Internal("not loaded");
  std::thread loader([&] {
    if (env_.load_data) {
      data = env_.load_data();  // shared with agent 0's own DUs: decoded once
      return;
    }
    const auto& input_shape = dus[0].subnets.at(0).model.input_shape;
    auto loaded = LoadProjectData(ProjectLayout(env_.project_folder, env_.shared_folder), program,
                                  input_shape);
    if (!loaded.ok()) {
      data = loaded.status();
    } else {
      data = std::make_shared<const ProblemData>(std::move(loaded).value());
    }
  });
  struct JoinLoader {
    std::thread& thread;
    ~JoinLoader() {
      if (thread.joinable()) thread.join();
    }
  } join_loader{loader};

  CB_ASSIGN_OR_RETURN(Assignment assignment, WaitForAssignment());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_seen_version_ = assignment.version;
  }
  std::vector<DuRecord> records(dus.size());
  for (size_t i = 0; i < dus.size(); ++i) records[i].unit = &dus[i];
  std::vector<std::thread> drivers;
  for (DuRecord& record : records) drivers.emplace_back([this, &record] { DriveDu(record); });
  // Mirrors the launcher's cancellation into stop_, which every call in flight watches.
  std::atomic<bool> drivers_done{false};
  std::thread cancel_watch([&] {
    while (!drivers_done && !stop_) {
      if (env_.cancel != nullptr && env_.cancel->load()) stop_ = true;
      std::this_thread::sleep_for(GetTunables().cancel_poll_ms);
    }
  });
  for (std::thread& driver : drivers) driver.join();
  drivers_done = true;
  cancel_watch.join();
  loader.join();

  Clock::time_point last_trained = start_;
  double slowest_train = 0;
  for (const DuRecord& record : records) {  // the first real failure, not its echoes
    if (!record.status.ok() && !IsStopEcho(record.status)) return record.status;
  }
  for (const DuRecord& record : records) {
    if (!record.status.ok()) return record.status;
    last_trained = std::max(last_trained, record.trained_at);
    slowest_train = std::max(slowest_train, record.train_seconds);
  }
  if (!data.ok()) return data.status().WithContext("loading the test set on " + env_.own_id);

  std::vector<SubnetPrediction> predictions;
  Json subnets = Json::array();
  for (const DuRecord& record : records) {
    for (const SubnetSpec& subnet : record.unit->subnets) {
      auto found = record.predictions.find(subnet.index);
      if (found == record.predictions.end()) {
        return Status::Corruption("DU " + std::to_string(record.unit->index) +
                                  " returned no prediction for subnet " +
                                  std::to_string(subnet.index));
      }
      SubnetPrediction prediction;
      prediction.outputs = found->second;
      prediction.classes = subnet.classes;
      prediction.column_begin = subnet.column_begin;
      predictions.push_back(std::move(prediction));
      Json entry = {{"index", subnet.index},
                    {"du", record.unit->index},
                    {"ran_on", record.final_owner},
                    {"widths", subnet.widths},
                    {"epochs", subnet.epochs},
                    {"train_samples", subnet.train_samples},
                    {"test_metrics",
                     MetricsJson(ScoreSubnet(program, subnet, found->second, (*data)->test))}};
      auto history = record.history.find(subnet.index);
      entry["history"] = history != record.history.end() ? history->second : Json::array();
      if (program.problem == ProblemType::kMulticlass) entry["classes"] = subnet.classes;
      subnets.push_back(std::move(entry));
    }
  }
  CB_ASSIGN_OR_RETURN(Metrics composed, ScoreComposition(program, predictions, (*data)->test));
  const double compose_seconds = SecondsSince(last_trained);
  const Result<Json> composed_confusion =
      ComposedConfusionEntries(program, predictions, (*data)->test.labels);

  Json du_json = Json::array();
  for (const DuRecord& record : records) {
    du_json.push_back({{"du", record.unit->index},
                       {"agents", record.owners},
                       {"assignment_versions", record.versions},
                       {"ran_on", record.final_owner},
                       {"predicted_by", record.predicted_by},
                       {"attempts", record.attempts},
                       {"resumed_epochs", record.resumed_epochs},
                       {"train_seconds", record.train_seconds}});
  }
  Json results = {{"format_version", 1},
                  {"run", run_name_},
                  {"mode", "agents"},
                  {"started", started_utc},
                  {"project", program.name},
                  {"problem", ProblemTypeName(program.problem)},
                  {"subnets_count", predictions.size()},
                  {"groups", program.groups},
                  {"factor", program.factor},
                  {"test_samples", (*data)->test.rows()},
                  {"dus", du_json},
                  {"subnets", subnets},
                  {"redeploys", redeploys_},
                  {"baseline", nullptr}};
  results["composed"] = {{"metrics", MetricsJson(composed)},
                         {"train_seconds_max", slowest_train},
                         {"wall_seconds", SecondsSince(start_)}};
  MergeConfusionEntries(results["composed"], composed_confusion);
  results["overheads"] = {
      {"first_step_seconds", first_step_seconds_ ? Json(*first_step_seconds_) : Json()},
      {"compose_seconds", compose_seconds}};
  Note("composed " + MetricsJson(composed).dump());
  if (request_.baseline) CB_RETURN_IF_ERROR(TrainBaseline(results, composed, slowest_train));
  results["wall_seconds"] = SecondsSince(start_);

  const SharedFolderLayout shared(env_.shared_folder);
  RunModelSource model;
  model.run = run_name_;
  model.mode = "agents";
  model.dus = dus;
  model.composed_metrics = MetricsJson(composed);
  model.class_names = ModelClassNames(program, **data);
  model.checkpoint_path = [&shared](int du, int subnet) {
    return shared.subnet_checkpoint_file(du, subnet);
  };
  auto model_file = PublishRunModel(shared, model);
  if (model_file.ok()) {
    results["model"] = *model_file;
    Note("model in " + *model_file);
  } else {  // the figures stand; only the model could not be kept
    results["model_error"] = model_file.status().ToString();
    Note("the run's model was not kept: " + model_file.status().ToString());
  }

  RunReport report;
  report.results_path = shared.results_file(run_name_);
  CB_RETURN_IF_ERROR(WriteJsonFileAtomically(report.results_path, results));
  report.results = std::move(results);
  Note("results in " + report.results_path);
  return report;
}

}  // namespace

Result<RunReport> CoordinateRun(const RunEnvironment& environment, const RunRequest& request) {
  if (environment.caller == nullptr) return Status::Internal("CoordinateRun without a caller");
  Coordinator coordinator(environment, request);
  return coordinator.Run();
}

}  // namespace cloudbook
