// The JSON of cloudbook-serve's predict call in TF Serving's REST convention (docs/serve.md):
// the request body {"instances": [...]} (row format) or {"inputs": ...} (columnar) becomes the
// model's input batch, and composed outputs become {"predictions": [...]} (or "outputs").
// Each instance is the raw sample as the program's data files hold it (a nested list of the
// input shape, or flat), or {"b64": "<base64 PNG/JPEG>"} for an image-shaped input (decoded
// and resized as training did). Pure functions, thread-safe. Errors: InvalidArgument with a
// message for the client (HTTP 400), never an exception or a crash on any input.
#pragma once

#include <cstddef>
#include <string>

#include "shared/composed_score.h"
#include "shared/data/array.h"
#include "shared/formats/run_model.h"
#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

struct PredictRequest {
  Array x;                // [samples, input_shape...], raw values divided by the input scale
  bool columnar = false;  // asked with "inputs": answered with "outputs"
};

struct PredictRequestLimits {
  int max_json_depth = 16;          // nesting of arrays and objects in the body
  int64_t max_image_side = 8192;    // a b64 image wider or taller is refused
  int64_t max_instances = 1 << 20;  // samples in one request
};

// `input_scale`: what raw values are divided by (ModelInputScale of the model).
Result<PredictRequest> ParsePredictRequest(const RunModel& model, double input_scale,
                                           const std::string& body,
                                           const PredictRequestLimits& limits);

// {"predictions": [[probabilities or values per sample]...], "classes": [class id per sample],
// "class_names": [name per sample]} ("outputs" for a columnar request; "classes" for
// classification only, "class_names" only when the model names its classes).
Json PredictResponse(const RunModel& model, const ComposedOutputs& composed, bool columnar);

// Decodes standard or URL-safe base64 (padding optional, whitespace skipped); false on any
// other character.
bool DecodeBase64(const std::string& text, std::string* bytes);

}  // namespace cloudbook
