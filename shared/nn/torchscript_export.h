// Exports a finished run's model (shared/formats/run_model.h) as ONE self-contained TorchScript
// file (docs/export.md): every subnet, traced from its network with libtorch's tracer, and the
// composition rule as TorchScript source, loadable with torch.jit.load (Python) and
// torch::jit::load (C++) without cloudbook. Torch-free face; no Python at export time.
// Stateless; errors name the subnet or file. Not thread-safe (libtorch's tracer is global
// per thread; run one export at a time per thread).
#pragma once

#include <cstdint>
#include <string>

#include "shared/formats/run_model.h"
#include "shared/status.h"

namespace cloudbook {

// What an export wrote and how it was checked.
struct TorchScriptExport {
  std::string path;
  int64_t bytes = 0;
  int subnets = 0;
  std::string composition;  // product | best_margin | concatenation
  // Largest |exported - ModelPredictor| over a probe batch, after saving and loading back.
  double probe_difference = 0;
};

// The file's module: forward(x) takes raw samples [N, input_shape...] (or [N, product]), any
// numeric dtype, divides by `input_scale` inside and returns ModelPredictor::Predict's composed
// outputs; predict_classes(x) its predicted class ids (int64). Attributes: class_names,
// class_ids, input_shape, input_scale, composition, run, project.
// Writes `output_path` atomically (a temporary name, then rename) after checking, on a probe
// batch of a size the tracer never saw, that the saved file loads and agrees with the predictor.
// InvalidArgument when a subnet's network cannot be traced into a batch-size-free graph (names
// the subnet and the layer types); IoError when the file cannot be written; what
// LoadFinishedCheckpoint returns for unusable weights.
Result<TorchScriptExport> ExportTorchScript(const RunModel& model, const std::string& output_path);

}  // namespace cloudbook
