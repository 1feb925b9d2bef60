#include "agent/serve/local_backend.h"

namespace cloudbook {

Result<std::unique_ptr<PredictionBackend>> LocalBackend::Load(const RunModel& model) {
  CB_ASSIGN_OR_RETURN(std::unique_ptr<ModelPredictor> predictor, ModelPredictor::Load(model));
  return std::unique_ptr<PredictionBackend>(new LocalBackend(std::move(predictor)));
}

}  // namespace cloudbook
