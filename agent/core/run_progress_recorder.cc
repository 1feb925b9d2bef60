#include "agent/core/run_progress_recorder.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <variant>

#include "shared/atomic_file.h"
#include "shared/clock.h"
#include "shared/formats/announcement.h"
#include "shared/json_io.h"
#include "shared/shared_files.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

Json WireValueJson(const WireValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b;
  if (const int64_t* i = std::get_if<int64_t>(&value)) return *i;
  if (const double* d = std::get_if<double>(&value)) return std::isfinite(*d) ? Json(*d) : Json();
  if (const std::string* s = std::get_if<std::string>(&value)) return *s;
  return nullptr;
}

// The entry of `array` whose `key` is `index`, appended when absent (arrays stay small: one
// entry per DU or subnet).
Json& EntryWithIndex(Json& array, const char* key, int64_t index) {
  for (Json& entry : array) {
    if (entry.value(key, int64_t{-1}) == index) return entry;
  }
  array.push_back({{key, index}});
  return array.back();
}

void FoldDuEvent(RunProgress& document, const WireArguments& event) {
  const int64_t du = static_cast<int64_t>(NumberArgument(event, "du", -1));
  if (du < 0) return;
  Json& line = EntryWithIndex(document.dus, "du", du);
  for (const char* key : {"agent", "state", "subnets", "subnet_position", "subnet", "epoch",
                          "epochs", "loss", "accuracy", "samples_per_second", "eta_seconds"}) {
    auto found = event.find(key);
    if (found != event.end()) line[key] = WireValueJson(found->second);
  }
  const int64_t subnet = static_cast<int64_t>(NumberArgument(event, "subnet", -1));
  const int64_t epoch = static_cast<int64_t>(NumberArgument(event, "epoch", 0));
  if (subnet < 0) return;
  Json& curve = EntryWithIndex(document.subnets, "subnet", subnet);
  curve["du"] = du;
  if (event.count("epochs")) curve["epochs"] = WireValueJson(event.at("epochs"));
  if (!curve.contains("history")) curve["history"] = Json::array();
  if (StringArgument(event, "state") != "training" || epoch < 1) return;
  Json point = {{"epoch", epoch}, {"agent", StringArgument(event, "agent")}};
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy", "samples_per_second"}) {
    auto found = event.find(key);
    if (found != event.end())
      point[key == std::string("loss") ? "train_loss" : key] = WireValueJson(found->second);
  }
  // A DU retried on another agent may repeat epochs: keep the latest of each.
  Json& history = curve["history"];
  while (!history.empty() && history.back().value("epoch", int64_t{0}) >= epoch) {
    history.erase(history.size() - 1);
  }
  history.push_back(std::move(point));
}

}  // namespace

RunProgressRecorder::RunProgressRecorder(SharedFolderLayout shared_folder,
                                         std::chrono::milliseconds min_interval,
                                         std::chrono::milliseconds heartbeat)
    : shared_folder_(std::move(shared_folder)), min_interval_(min_interval), heartbeat_(heartbeat) {
  document_.agent_0_host = HostName();
  document_.agent_0_pid = static_cast<int64_t>(::getpid());
  document_.started_ms = UnixTimeMs();
  document_.updated_ms = document_.started_ms;
  writer_ = std::thread([this] { WriterLoop(); });
}

RunProgressRecorder::~RunProgressRecorder() {
  Finish("failed", "the run ended without a result", nullptr, nullptr);
}

void RunProgressRecorder::OnEvent(const WireArguments& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const std::string run = StringArgument(event, "run");
  if (path_.empty() && !run.empty()) {
    document_.run = run;
    path_ = shared_folder_.run_progress_file(run);
  }
  document_.elapsed_seconds = NumberArgument(event, "elapsed_seconds", 0);
  const std::string kind = StringArgument(event, "event");
  if (kind == "start") {
    document_.project = StringArgument(event, "project");
    document_.dus_count = static_cast<int64_t>(NumberArgument(event, "dus", 0));
  } else if (kind == "du") {
    FoldDuEvent(document_, event);
  } else if (kind == "note") {
    Json& notes = document_.notes;
    notes.push_back(StringArgument(event, "message"));
    if (notes.size() > GetTunables().max_run_progress_notes) notes.erase(notes.begin());
  } else if (kind == "baseline") {
    Json progress = Json::object();
    for (const auto& [key, value] : event) {
      if (key != "event" && key != "run") progress[key] = WireValueJson(value);
    }
    document_.baseline_progress = std::move(progress);
  }
  dirty_ = true;
  wake_.notify_one();
}

void RunProgressRecorder::Finish(const std::string& state, const std::string& error,
                                 const Json& composed, const Json& baseline) {
  Json document;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
    document_.state = state;
    document_.error = error;
    document_.composed = composed;
    document_.baseline = baseline;
    document_.updated_ms = UnixTimeMs();
    document = ToJson(document_);
    path = path_;
    wake_.notify_one();
  }
  writer_.join();
  if (!path.empty()) WriteNow(document, path);
}

Json RunProgressRecorder::Document() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ToJson(document_);
}

void RunProgressRecorder::WriterLoop() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_write = Clock::now() - min_interval_;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!finished_) {
    const Clock::time_point next_allowed = last_write + min_interval_;
    const Clock::time_point heartbeat_due = last_write + heartbeat_;
    if (dirty_ && Clock::now() < next_allowed) {
      wake_.wait_until(lock, next_allowed);  // throttle: the next write comes at most then
      continue;
    }
    if (!dirty_ && Clock::now() < heartbeat_due) {
      wake_.wait_until(lock, heartbeat_due);
      continue;
    }
    if (path_.empty()) {  // nothing to name the file yet
      dirty_ = false;
      last_write = Clock::now();
      continue;
    }
    document_.updated_ms = UnixTimeMs();
    Json document = ToJson(document_);
    const std::string path = path_;
    dirty_ = false;
    last_write = Clock::now();
    lock.unlock();
    WriteNow(document, path);
    lock.lock();
  }
}

void RunProgressRecorder::WriteNow(const Json& document, const std::string& path) {
  Status status = MakeFolders(shared_folder_.runs());
  if (status.ok()) status = WriteJsonFileAtomically(path, document);
  // The run goes on without its progress file: the dashboard is only an observer.
  if (!status.ok()) spdlog::warn("run progress {}: {}", path, status.ToString());
}

}  // namespace cloudbook
