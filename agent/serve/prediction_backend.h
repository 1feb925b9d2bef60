// What cloudbook-serve asks of whatever computes the predictions: the composed outputs of a
// batch of model inputs. Two implementations: in this process (`--local`, ModelPredictor of
// shared/nn/model_predictor.h) and across the project's agents (each agent applies its DUs'
// subnets, agent 0 composes; a lost agent's DUs are applied by a live one from the model
// folder). Thread safety: Predict is called from one batching thread at a time.
#pragma once

#include <string>

#include "shared/composed_score.h"
#include "shared/data/array.h"
#include "shared/formats/run_model.h"
#include "shared/status.h"

namespace cloudbook {

class PredictionBackend {
 public:
  virtual ~PredictionBackend() = default;
  // x: [samples, input_shape...], raw values already divided by ModelInputScale. Errors:
  // InvalidArgument for input the model cannot take (the caller's fault, HTTP 400); anything
  // else is the server's (HTTP 500/503) and names what failed.
  virtual Result<ComposedOutputs> Predict(const Array& x) = 0;
  // The model it serves.
  virtual const RunModel& model() const = 0;
  // "local" or "agents", for status and logs.
  virtual std::string mode() const = 0;
};

}  // namespace cloudbook
