// The model panel of a finished run (docs/dashboard.md "Model"): the facts of the model the run
// kept (distributed/models/<run>/, shared/formats/run_model.h), its test samples as the "try
// it" box shows and sends them (raw, as the data files hold them: shared/data/raw_test_set.h),
// and the model servers announced for it (shared/formats/serve_endpoint.h). The confusion
// matrices and per-class scores come with the run's results (GET /api/v1/runs/<run>).
// Thread-safe: the one cached test set is guarded; loading it holds the lock.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "shared/data/dataset_loader.h"
#include "shared/formats/run_model.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

class ModelPanel {
 public:
  ModelPanel(ProjectLayout layout, std::string project_folder);

  // {run, model, created, mode, problem, composition, class_names, input_shape, image,
  // subnets, dus, test_samples (null until a sample was read), servers [{url, mode, run,
  // token_required, updated_ms}], serve_command}. NotFound (saying how a model comes to be)
  // when the run kept none; InvalidArgument for a bad run name.
  Result<Json> Facts(const std::string& run);
  // Test sample `index` of the run's model: {index, samples, shape, values (raw), label,
  // label_name, image}. OutOfRange-like InvalidArgument naming the valid range.
  Result<Json> Sample(const std::string& run, int64_t index);
  // The sample's raw values nested in the model's input shape: one TF Serving instance.
  Result<Json> SampleInstance(const std::string& run, int64_t index);
  // The model, read and checked.
  Result<RunModel> Model(const std::string& run);
  // The model servers announced in the project (any run), freshest first.
  std::vector<ServeEndpoint> Servers() const;
  // `cloudbook-serve --project-folder P --run R --local`: how to start a server for the run.
  std::string ServeCommand(const std::string& run) const;

 private:
  struct TestSet {
    LabeledArrays raw;
  };
  Result<std::shared_ptr<const TestSet>> LoadTestSet(const RunModel& model);

  const ProjectLayout layout_;
  const std::string project_folder_;
  std::mutex mutex_;
  std::string cached_key_;  // model folder and its created_ms
  std::shared_ptr<const TestSet> cached_;
};

// The class name of `id` in `model` ("" when the model has none for it).
std::string ClassNameOf(const RunModel& model, int64_t id);

}  // namespace cloudbook
