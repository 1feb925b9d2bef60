// Applies a finished run's model (shared/formats/run_model.h) to samples: every subnet restored
// from its weights in the model folder and predicting on its own train.threads, as in the run,
// then composed by the run's rule (shared/composed_score.h). So on the run's test set it
// reproduces the run's composed figures exactly. Torch-free face (SubnetTrainer inside).
// Not thread-safe: one predictor per thread, or calls under a lock.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "shared/composed_score.h"
#include "shared/data/array.h"
#include "shared/formats/run_model.h"
#include "shared/status.h"

namespace cloudbook {

class SubnetTrainer;

class ModelPredictor {
 public:
  // Restores `subnets` (indices; empty: all) of `model`. Errors name the weights file:
  // Corruption for a torn or forged one, InvalidArgument for weights of another subnet.
  static Result<std::unique_ptr<ModelPredictor>> Load(const RunModel& model,
                                                      const std::vector<int>& subnets = {});
  ~ModelPredictor();
  ModelPredictor(const ModelPredictor&) = delete;
  ModelPredictor& operator=(const ModelPredictor&) = delete;

  // x: [samples, input_shape...] as the model takes it (raw values divided by
  // ModelInputScale). InvalidArgument when the shape does not fit. Needs every subnet.
  Result<ComposedOutputs> Predict(const Array& x);

  // The loaded subnets' own outputs (subnet index -> [samples, its outputs]): what an agent
  // serving some DUs returns for composition elsewhere.
  Result<std::map<int, Array>> PredictSubnets(const Array& x);

  const RunModel& model() const { return model_; }

 private:
  ModelPredictor() = default;
  RunModel model_;
  std::vector<SubnetSpec> subnets_;
  std::vector<std::unique_ptr<SubnetTrainer>> trainers_;
};

// What the program's data divides raw values by (data.test's x or images, else data.train's):
// raw samples as the data files hold them, divided by it, are the model's input.
double ModelInputScale(const RunModel& model);

// Checks `x` against the model's input: [samples, input_shape...] or [samples, product of
// input_shape] (reshaped); InvalidArgument saying the expected shape otherwise.
Result<Array> FitModelInput(const RunModel& model, Array x);

// Composes subnet outputs (index -> outputs) by the model's rule; every subnet must be there.
Result<ComposedOutputs> ComposeModelOutputs(const RunModel& model,
                                            const std::map<int, Array>& outputs);

}  // namespace cloudbook
