// cloudbook-serve --local: every subnet of the model applied in this process by one
// ModelPredictor (shared/nn/model_predictor.h), as cloudbook-predict does. Thread safety: as
// PredictionBackend, Predict from one thread at a time (the batching thread).
#pragma once

#include <memory>

#include "agent/serve/prediction_backend.h"
#include "shared/nn/model_predictor.h"

namespace cloudbook {

class LocalBackend : public PredictionBackend {
 public:
  // Loads every subnet's weights; errors name the weights file (ModelPredictor::Load).
  static Result<std::unique_ptr<PredictionBackend>> Load(const RunModel& model);

  Result<ComposedOutputs> Predict(const Array& x) override { return predictor_->Predict(x); }
  const RunModel& model() const override { return predictor_->model(); }
  std::string mode() const override { return "local"; }

 private:
  explicit LocalBackend(std::unique_ptr<ModelPredictor> predictor)
      : predictor_(std::move(predictor)) {}
  std::unique_ptr<ModelPredictor> predictor_;
};

}  // namespace cloudbook
