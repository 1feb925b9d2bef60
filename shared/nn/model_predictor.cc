#include "shared/nn/model_predictor.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "shared/nn/subnet_training.h"

namespace cloudbook {

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

ModelPredictor::~ModelPredictor() = default;

Result<std::unique_ptr<ModelPredictor>> ModelPredictor::Load(const RunModel& model,
                                                             const std::vector<int>& subnets) {
  std::unique_ptr<ModelPredictor> predictor(new ModelPredictor());
  predictor->model_ = model;
  for (const SubnetSpec& subnet : model.subnets()) {
    if (!subnets.empty() &&
        std::find(subnets.begin(), subnets.end(), subnet.index) == subnets.end()) {
      continue;
    }
    CB_ASSIGN_OR_RETURN(std::unique_ptr<SubnetTrainer> trainer,
                        SubnetTrainer::Create(subnet, model.problem));
    CB_RETURN_IF_ERROR(trainer->LoadFinishedCheckpoint(model.folder));
    predictor->subnets_.push_back(subnet);
    predictor->trainers_.push_back(std::move(trainer));
  }
  if (predictor->subnets_.size() != (subnets.empty() ? model.weights.size() : subnets.size())) {
    return Status::InvalidArgument("the model of run '" + model.run +
                                   "' does not hold every subnet asked for");
  }
  return predictor;
}

Result<std::map<int, Array>> ModelPredictor::PredictSubnets(const Array& x) {
  CB_ASSIGN_OR_RETURN(Array input, FitModelInput(model_, x));
  std::map<int, Array> outputs;
  for (size_t i = 0; i < trainers_.size(); ++i) {
    auto predicted = trainers_[i]->Predict(input);
    if (!predicted.ok()) {
      return predicted.status().WithContext("subnet " + std::to_string(subnets_[i].index));
    }
    outputs[subnets_[i].index] = std::move(predicted).value();
  }
  return outputs;
}

Result<ComposedOutputs> ModelPredictor::Predict(const Array& x) {
  if (trainers_.size() != model_.weights.size()) {
    return Status::Internal("this predictor holds only some of the model's subnets");
  }
  CB_ASSIGN_OR_RETURN(auto outputs, PredictSubnets(x));
  return ComposeModelOutputs(model_, outputs);
}

double ModelInputScale(const RunModel& model) {
  const DataSpec& data = model.program().data;
  const DataSplit& split = data.test ? *data.test : data.train;
  return split.images ? split.images->scale : split.x.scale;
}

Result<Array> FitModelInput(const RunModel& model, Array x) {
  const int64_t per_sample = std::accumulate(model.input_shape.begin(), model.input_shape.end(),
                                             int64_t{1}, std::multiplies<int64_t>());
  std::vector<int64_t> expected = {x.rows()};
  expected.insert(expected.end(), model.input_shape.begin(), model.input_shape.end());
  if (x.shape.empty() || x.rows() < 0 || x.row_size() != per_sample ||
      x.values.size() != static_cast<size_t>(x.rows() * per_sample)) {
    return Status::InvalidArgument("input of shape " + ShapeText(x.shape) + ": the model takes " +
                                   ShapeText(expected) + " (samples first)");
  }
  x.shape = std::move(expected);
  return x;
}

Result<ComposedOutputs> ComposeModelOutputs(const RunModel& model,
                                            const std::map<int, Array>& outputs) {
  std::vector<SubnetPrediction> predictions;
  for (const SubnetSpec& subnet : model.subnets()) {  // index order (binary needs it)
    auto found = outputs.find(subnet.index);
    if (found == outputs.end()) {
      return Status::Internal("no outputs of subnet " + std::to_string(subnet.index));
    }
    SubnetPrediction prediction;
    prediction.outputs = found->second;
    prediction.classes = subnet.classes;
    prediction.column_begin = subnet.column_begin;
    predictions.push_back(std::move(prediction));
  }
  return ComposeOutputs(model.program(), predictions);
}

}  // namespace cloudbook
