#include "agent/runtime/du_inference.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "shared/formats/run_model.h"
#include "shared/nn/model_predictor.h"
#include "shared/subnet_spec.h"
#include "shared/tunables.h"

namespace cloudbook {

// One (run, DU): its model as last read and the predictor of its subnets.
struct DuInference::Entry {
  std::mutex mutex;  // guards everything below; held while loading and predicting
  RunModel model;
  std::vector<int> subnets;
  std::unique_ptr<ModelPredictor> predictor;
  std::chrono::steady_clock::time_point checked{};
};

namespace {

// The same model: same creation and the same weights.
bool SameModel(const RunModel& a, const RunModel& b) {
  if (a.created_ms != b.created_ms || a.weights.size() != b.weights.size()) return false;
  for (size_t i = 0; i < a.weights.size(); ++i) {
    if (a.weights[i].hash != b.weights[i].hash) return false;
  }
  return true;
}

}  // namespace

Status CheckInferInput(const Array& x) {
  if (x.shape.empty() || x.rows() < 1) {
    return Status::InvalidArgument("the input holds no samples");
  }
  if (x.rows() > kMaxBatchSize) {
    return Status::InvalidArgument("the input holds " + std::to_string(x.rows()) +
                                   " samples; at most " + std::to_string(kMaxBatchSize) +
                                   " per call");
  }
  int64_t per_sample = 1;
  for (size_t i = 1; i < x.shape.size(); ++i) {
    if (x.shape[i] < 1 || x.shape[i] > kMaxValuesPerSample / per_sample) {
      return Status::InvalidArgument("the input's sample shape is empty or above " +
                                     std::to_string(kMaxValuesPerSample) + " values");
    }
    per_sample *= x.shape[i];
  }
  if (per_sample > kMaxBatchValues / x.rows()) {
    return Status::InvalidArgument("the input holds more than " + std::to_string(kMaxBatchValues) +
                                   " values; send fewer samples per call");
  }
  if (x.values.size() != static_cast<size_t>(per_sample * x.rows())) {
    return Status::InvalidArgument("the input's values do not fill its shape");
  }
  return Status::Ok();
}

DuInference::DuInference(SharedFolderLayout shared) : shared_(std::move(shared)) {}

DuInference::~DuInference() = default;

size_t DuInference::loaded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

std::shared_ptr<DuInference::Entry> DuInference::Find(const std::string& run, int du) {
  const auto key = std::make_pair(run, du);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == key) {
      entries_.splice(entries_.begin(), entries_, it);  // most recently used first
      return entries_.front().second;
    }
  }
  entries_.emplace_front(key, std::make_shared<Entry>());
  // A dropped entry still in use lives on until its call ends.
  const size_t capacity = std::max<size_t>(1, GetTunables().serve_model_cache);
  while (entries_.size() > capacity) entries_.pop_back();
  return entries_.front().second;
}

Result<std::vector<std::pair<int, Array>>> DuInference::Infer(const std::string& run, int du,
                                                              const Array& x) {
  if (run.empty()) return Status::InvalidArgument("infer needs the run whose model to apply");
  CB_RETURN_IF_ERROR(CheckInferInput(x));
  std::shared_ptr<Entry> entry = Find(run, du);
  std::lock_guard<std::mutex> lock(entry->mutex);
  const auto now = std::chrono::steady_clock::now();
  if (!entry->predictor || now - entry->checked >= GetTunables().serve_model_recheck_ms) {
    Result<RunModel> model = ReadRunModel(shared_, run);
    if (!model.ok()) {
      entry->predictor.reset();  // gone or damaged: never served from memory
      return model.status();
    }
    entry->checked = now;
    if (!entry->predictor || !SameModel(entry->model, *model)) {
      entry->predictor.reset();
      const auto unit = std::find_if(model->dus.begin(), model->dus.end(),
                                     [du](const DuSpec& spec) { return spec.index == du; });
      if (unit == model->dus.end()) {
        return Status::InvalidArgument("the model of run '" + run + "' holds no DU " +
                                       std::to_string(du) + " (it has " +
                                       std::to_string(model->dus.size()) + ")");
      }
      std::vector<int> subnets;
      for (const SubnetSpec& subnet : unit->subnets) subnets.push_back(subnet.index);
      const auto start = std::chrono::steady_clock::now();
      CB_ASSIGN_OR_RETURN(entry->predictor, ModelPredictor::Load(*model, subnets));
      entry->model = std::move(model).value();
      entry->subnets = std::move(subnets);
      spdlog::info(
          "infer: loaded DU {} of run '{}' ({} subnets) in {:.0f} ms", du, run,
          entry->subnets.size(),
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
  }
  CB_ASSIGN_OR_RETURN(auto outputs, entry->predictor->PredictSubnets(x));
  std::vector<std::pair<int, Array>> result;
  for (auto& [index, array] : outputs) result.emplace_back(index, std::move(array));
  return result;
}

}  // namespace cloudbook
