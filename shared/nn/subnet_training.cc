#include "shared/nn/subnet_training.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <mutex>

#include "shared/nn/net.h"
#include "shared/seeded_random.h"

// OpenBLAS keeps its own thread pool; libtorch's set_num_threads does not reach it. Weak, so
// a build against another BLAS still links.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// torch's global generator initialises weights; one network at a time may seed and use it.
std::mutex& ConstructionMutex() {
  static std::mutex mutex;
  return mutex;
}

torch::Tensor ToTensor(const Array& array, bool as_long) {
  auto tensor =
      torch::from_blob(const_cast<float*>(array.values.data()), array.shape, torch::kFloat32);
  return as_long ? tensor.to(torch::kLong) : tensor;
}

torch::Tensor LabelsTensor(const std::vector<int64_t>& labels) {
  return torch::from_blob(const_cast<int64_t*>(labels.data()),
                          {static_cast<int64_t>(labels.size())}, torch::kLong)
      .clone();
}

bool IsClassification(ProblemType problem) { return problem != ProblemType::kRegression; }

// Log-probabilities from the network's output: logits for softmax or linear outputs,
// otherwise (e.g. sigmoid) the normalised activations.
torch::Tensor LogProbabilities(const torch::Tensor& output, const std::string& last_activation) {
  if (last_activation == "softmax" || last_activation == "linear") {
    return torch::log_softmax(output, -1);
  }
  return torch::log((output / output.sum(-1, true)).clamp_min(1e-7));
}

torch::Tensor Loss(const torch::Tensor& output, const torch::Tensor& target,
                   const std::string& loss_name, const std::string& last_activation,
                   bool classification) {
  if (classification) return torch::nll_loss(LogProbabilities(output, last_activation), target);
  if (loss_name == "mae") return torch::l1_loss(output, target);
  return torch::mse_loss(output, target);
}

// Predicts in evaluation mode: probabilities for classification, values for regression.
Array Predict(Net& net, const Array& x, bool int64_input, bool classification,
              const std::string& last_activation) {
  torch::NoGradGuard no_grad;
  net->eval();
  const auto inputs = ToTensor(x, int64_input);
  std::vector<torch::Tensor> chunks;
  constexpr int64_t kBatch = 1024;
  for (int64_t begin = 0; begin < inputs.size(0); begin += kBatch) {
    auto output = net->forward(inputs.slice(0, begin, std::min(begin + kBatch, inputs.size(0))));
    if (classification) output = LogProbabilities(output, last_activation).exp();
    chunks.push_back(output.reshape({output.size(0), -1}).contiguous());
  }
  Array result;
  if (chunks.empty()) return result;
  const auto all = torch::cat(chunks).contiguous();
  result.shape = all.sizes().vec();
  result.values.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
  return result;
}

Metrics Evaluate(const Array& outputs, const LabeledArrays& truth, bool classification) {
  if (truth.rows() == 0) return {};
  if (classification) return ClassificationMetrics(outputs, truth.labels);
  return RegressionMetrics(outputs, truth.y);
}

}  // namespace

void SetTrainingThreads(int threads) {
  threads = std::max(threads, 1);
  torch::set_num_threads(threads);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
}

int TrainingThreads() { return torch::get_num_threads(); }

Result<SubnetOutcome> TrainAndPredict(const SubnetSpec& subnet, const ProblemData& data,
                                      const Array& full_test_x, const TrainingOptions& options) {
  try {
    CB_ASSIGN_OR_RETURN(ModelPlan plan,
                        PlanModel(subnet.model, "subnet " + std::to_string(subnet.index)));
    const bool classification = IsClassification(options.problem);
    const std::string last_activation = LayerWord(plan.layers.back().spec, "activation", "linear");
    const int64_t samples = data.train.rows();
    if (samples == 0) {
      return Status::InvalidArgument("subnet " + std::to_string(subnet.index) +
                                     " has no training samples (are its classes in the data?)");
    }

    Net net{nullptr};
    {
      std::lock_guard<std::mutex> lock(ConstructionMutex());
      torch::manual_seed(subnet.seed);
      net = Net(plan, SeededRandom::Derive(subnet.seed, 0xD20F));
    }
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    if (subnet.train.optimizer == "sgd") {
      optimizer = std::make_unique<torch::optim::SGD>(
          net->parameters(),
          torch::optim::SGDOptions(subnet.train.learning_rate).momentum(subnet.train.momentum));
    } else {
      optimizer = std::make_unique<torch::optim::Adam>(
          net->parameters(), torch::optim::AdamOptions(subnet.train.learning_rate));
    }

    const auto x = ToTensor(data.train.x, plan.int64_input);
    const auto y = classification ? LabelsTensor(data.train.labels) : ToTensor(data.train.y, false);
    const int64_t batch = std::max<int64_t>(subnet.train.batch_size, 1);

    SubnetOutcome outcome;
    outcome.train_samples = samples;
    outcome.parameters = plan.parameters;
    const auto training_start = Clock::now();
    for (int64_t epoch = 1; epoch <= subnet.epochs; ++epoch) {
      const auto epoch_start = Clock::now();
      net->train();
      SeededRandom order(SeededRandom::Derive(subnet.seed, static_cast<uint64_t>(epoch)));
      auto permutation = order.Permutation(samples);
      const auto indices = torch::from_blob(permutation.data(), {samples}, torch::kLong);
      // One gather per epoch, then contiguous slices: fewer dispatches than a gather per batch.
      const auto epoch_x = x.index_select(0, indices);
      const auto epoch_y = y.index_select(0, indices);
      // Sums stay tensors: a .item() per step would add a synchronisation to every batch.
      auto loss_sum = torch::zeros({}, torch::kDouble);
      auto correct = torch::zeros({}, torch::kLong);
      for (int64_t begin = 0; begin < samples; begin += batch) {
        const int64_t end = std::min(begin + batch, samples);
        const auto inputs = epoch_x.slice(0, begin, end);
        const auto targets = epoch_y.slice(0, begin, end);
        optimizer->zero_grad();
        const auto output = net->forward(inputs);
        const auto loss = Loss(output, targets, subnet.train.loss, last_activation, classification);
        loss.backward();
        optimizer->step();
        torch::NoGradGuard no_grad;
        loss_sum += loss.detach().to(torch::kDouble) * static_cast<double>(inputs.size(0));
        if (classification) correct += output.argmax(-1).eq(targets).sum();
      }

      EpochProgress progress;
      progress.subnet_index = subnet.index;
      progress.epoch = epoch;
      progress.epochs = subnet.epochs;
      progress.train_loss = loss_sum.item<double>() / static_cast<double>(samples);
      if (classification) {
        progress.train_accuracy =
            static_cast<double>(correct.item<int64_t>()) / static_cast<double>(samples);
      }
      if (data.validation.rows() > 0) {
        const Array outputs =
            Predict(net, data.validation.x, plan.int64_input, classification, last_activation);
        const Metrics metrics = Evaluate(outputs, data.validation, classification);
        progress.validation_loss = classification
                                       ? metrics.at("loss")
                                       : metrics.at(subnet.train.loss == "mae" ? "mae" : "mse");
        if (classification) progress.validation_accuracy = metrics.at("accuracy");
        outcome.validation_metrics = metrics;
      }
      progress.epoch_seconds = SecondsSince(epoch_start);
      progress.samples_per_second =
          static_cast<double>(samples) / std::max(progress.epoch_seconds, 1e-9);
      progress.eta_seconds = SecondsSince(training_start) / static_cast<double>(epoch) *
                             static_cast<double>(subnet.epochs - epoch);
      outcome.history.push_back(progress);
      if (options.on_epoch) options.on_epoch(progress);
    }
    outcome.train_seconds = SecondsSince(training_start);

    const auto predict_start = Clock::now();
    outcome.test_outputs =
        Predict(net, full_test_x, plan.int64_input, classification, last_activation);
    outcome.predict_seconds = SecondsSince(predict_start);
    if (data.test.rows() > 0) {
      const Array own =
          Predict(net, data.test.x, plan.int64_input, classification, last_activation);
      outcome.test_metrics = Evaluate(own, data.test, classification);
    }
    return outcome;
  } catch (const c10::Error& error) {
    return Status::Internal("subnet " + std::to_string(subnet.index) +
                            ": libtorch: " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal("subnet " + std::to_string(subnet.index) + ": " + error.what());
  }
}

}  // namespace cloudbook
