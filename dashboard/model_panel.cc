#include "dashboard/model_panel.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <numeric>
#include <utility>

#include "shared/data/raw_test_set.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/printable.h"

namespace cloudbook {
namespace {

// values[offset ...] nested as `shape` (dimension `axis` onwards).
Json Nest(const std::vector<float>& values, size_t& offset, const std::vector<int64_t>& shape,
          size_t axis) {
  Json nested = Json::array();
  for (int64_t i = 0; i < shape[axis]; ++i) {
    if (axis + 1 == shape.size()) {
      nested.push_back(values[offset++]);
    } else {
      nested.push_back(Nest(values, offset, shape, axis + 1));
    }
  }
  return nested;
}

Json ServerJson(const ServeEndpoint& endpoint) {
  return {{"url", endpoint.url},
          {"model_name", endpoint.model_name},
          {"run", endpoint.run},
          {"mode", endpoint.mode},
          {"token_required", endpoint.token_required},
          {"updated_ms", endpoint.updated_ms}};
}

}  // namespace

std::string ClassNameOf(const RunModel& model, int64_t id) {
  if (id < 0 || id >= static_cast<int64_t>(model.class_names.size())) return "";
  return model.class_names[static_cast<size_t>(id)];
}

ModelPanel::ModelPanel(ProjectLayout layout, std::string project_folder)
    : layout_(std::move(layout)), project_folder_(std::move(project_folder)) {}

std::string ModelPanel::ServeCommand(const std::string& run) const {
  return "cloudbook-serve --project-folder " + project_folder_ + " --run " + run + " --local";
}

std::vector<ServeEndpoint> ModelPanel::Servers() const {
  return ReadServeEndpoints(layout_.shared());
}

Result<RunModel> ModelPanel::Model(const std::string& run) {
  return ReadRunModel(layout_.shared(), run);
}

Result<Json> ModelPanel::Facts(const std::string& run) {
  CB_ASSIGN_OR_RETURN(RunModel model, Model(run));
  Json servers = Json::array();
  for (const ServeEndpoint& endpoint : Servers()) {
    if (endpoint.run == run) servers.push_back(ServerJson(endpoint));
  }
  Json test_samples = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ && cached_key_ == model.folder + "@" + std::to_string(model.created_ms)) {
      test_samples = cached_->raw.rows();
    }
  }
  return Json{{"run", model.run},
              {"model", layout_.shared().model_file(run)},
              {"created", model.created},
              {"mode", model.mode},
              {"project", model.project},
              {"problem", ProblemTypeName(model.problem)},
              {"composition", model.composition},
              {"class_names", model.class_names},
              {"classes", model.outputs()},
              {"input_shape", model.input_shape},
              {"image", IsImageShape(model.input_shape)},
              {"subnets", model.weights.size()},
              {"dus", model.dus.size()},
              {"test_samples", test_samples},
              {"servers", servers},
              {"serve_command", ServeCommand(run)}};
}

Result<std::shared_ptr<const ModelPanel::TestSet>> ModelPanel::LoadTestSet(const RunModel& model) {
  const std::string key = model.folder + "@" + std::to_string(model.created_ms);
  std::lock_guard<std::mutex> lock(mutex_);
  if (cached_ && cached_key_ == key) return cached_;
  cached_.reset();  // one test set in memory at a time
  auto loaded = std::make_shared<TestSet>();
  Result<LabeledArrays> raw = LoadRawTestSet(layout_, model.program(), model.input_shape);
  if (!raw.ok()) return raw.status().WithContext("reading the test set of run " + model.run);
  loaded->raw = std::move(*raw);
  spdlog::info("read the {} test samples of run {}", loaded->raw.rows(), Printable(model.run));
  cached_ = std::move(loaded);
  cached_key_ = key;
  return cached_;
}

Result<Json> ModelPanel::Sample(const std::string& run, int64_t index) {
  CB_ASSIGN_OR_RETURN(RunModel model, Model(run));
  CB_ASSIGN_OR_RETURN(std::shared_ptr<const TestSet> test, LoadTestSet(model));
  const LabeledArrays& raw = test->raw;
  if (index < 0 || index >= raw.rows()) {
    return Status::InvalidArgument("sample " + std::to_string(index) + ": run " + run +
                                   " has test samples 0.." + std::to_string(raw.rows() - 1));
  }
  const int64_t width = raw.x.row_size();
  const auto begin = raw.x.values.begin() + index * width;
  Json sample = {{"index", index},
                 {"samples", raw.rows()},
                 {"shape", model.input_shape},
                 {"image", IsImageShape(model.input_shape)},
                 {"values", std::vector<float>(begin, begin + width)},
                 {"label", nullptr},
                 {"label_name", nullptr}};
  if (index < static_cast<int64_t>(raw.labels.size())) {
    const int64_t label = raw.labels[static_cast<size_t>(index)];
    sample["label"] = label;
    const std::string name = ClassNameOf(model, label);
    if (!name.empty()) sample["label_name"] = name;
  }
  return sample;
}

Result<Json> ModelPanel::SampleInstance(const std::string& run, int64_t index) {
  CB_ASSIGN_OR_RETURN(Json sample, Sample(run, index));
  const std::vector<float> values = sample["values"].get<std::vector<float>>();
  const std::vector<int64_t> shape = sample["shape"].get<std::vector<int64_t>>();
  const int64_t expected =
      std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
  if (shape.empty() || expected != static_cast<int64_t>(values.size())) {
    return Json(values);  // the flat row; the server checks it
  }
  size_t offset = 0;
  return Nest(values, offset, shape, 0);
}

}  // namespace cloudbook
