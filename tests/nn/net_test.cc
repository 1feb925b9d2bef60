// The libtorch network built from a plan: every layer type runs forward with the shapes the
// plan predicts, and training is deterministic and actually learns.
#include <gtest/gtest.h>

#include <cmath>

#include "maker/program_parser.h"
#include "shared/model_plan.h"
#include "shared/nn/subnet_training.h"
#include "shared/seeded_random.h"

namespace cloudbook {
namespace {

// Parses `layers_yaml` as a model with literal widths; returns the model.
ModelSpec ParseModel(const std::string& input, const std::string& layers_yaml,
                     const std::string& dtype = "float", int64_t outputs = 3) {
  const std::string text = R"(name: t
problem: multiclass
data:
  train:
    x: {format: idx, path: x.idx}
    y: {format: idx, path: y.idx}
vars:
  _NEURON_9: )" + std::to_string(outputs) +
                           R"(
model:
  input: )" + input + R"(
  input_dtype: )" + dtype + R"(
  layers:
)" + layers_yaml + R"(    - dense: {units: _NEURON_9, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: 1
)";
  auto program = ParseProgramText(text, "net_test.yaml");
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  ModelSpec model = program->model;
  for (auto& layer : model.layers) {
    for (auto& [key, numbers] : layer.numbers) {
      for (auto& number : numbers) number.var.clear();  // the parser keeps the value too
    }
  }
  return model;
}

// Three well-separated blobs of 2-D points, or images/sequences derived from them.
ProblemData Blobs(const std::vector<int64_t>& sample_shape, int64_t samples, uint64_t seed,
                  bool integer_tokens = false) {
  SeededRandom random(seed);
  int64_t per_sample = 1;
  for (int64_t d : sample_shape) per_sample *= d;
  ProblemData data;
  LabeledArrays& train = data.train;
  train.x.shape = {samples};
  train.x.shape.insert(train.x.shape.end(), sample_shape.begin(), sample_shape.end());
  for (int64_t i = 0; i < samples; ++i) {
    const int64_t label = i % 3;
    train.labels.push_back(label);
    train.y.values.push_back(static_cast<float>(label));
    for (int64_t v = 0; v < per_sample; ++v) {
      const double noise = static_cast<double>(random.Below(1000)) / 1000.0;
      if (integer_tokens) {
        train.x.values.push_back(static_cast<float>(label * 3 + random.Below(3)));
      } else {
        train.x.values.push_back(static_cast<float>((v % 3 == label ? 1.0 : 0.0) + 0.3 * noise));
      }
    }
  }
  train.y.shape = {samples};
  data.test = train;
  return data;
}

SubnetSpec Subnet(const ModelSpec& model, int64_t epochs) {
  SubnetSpec subnet;
  subnet.model = model;
  subnet.epochs = epochs;
  subnet.seed = 7;
  subnet.train.batch_size = 16;
  subnet.train.learning_rate = 0.01;
  subnet.train.loss = "sparse_categorical_crossentropy";
  subnet.classes = {0, 1, 2};
  return subnet;
}

double TrainedAccuracy(const ModelSpec& model, const ProblemData& data, int64_t epochs) {
  auto outcome = TrainAndPredict(Subnet(model, epochs), data, data.test.x, {});
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  if (!outcome.ok()) return 0;
  return outcome->test_metrics.at("accuracy");
}

TEST(Net, MlpLearnsSeparableBlobsAndIsDeterministic) {
  SetTrainingThreads(1);
  const ModelSpec model = ParseModel("[6]",
                                     "    - dense: {units: 16, activation: relu}\n"
                                     "    - dropout: {rate: 0.2}\n"
                                     "    - batchnorm\n");
  const ProblemData data = Blobs({6}, 300, 1);
  auto first = TrainAndPredict(Subnet(model, 5), data, data.test.x, {});
  auto second = TrainAndPredict(Subnet(model, 5), data, data.test.x, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  EXPECT_GT(first->test_metrics.at("accuracy"), 0.95);
  EXPECT_EQ(first->test_outputs.values, second->test_outputs.values) << "same seed, same weights";
  ASSERT_EQ(first->history.size(), 5u);
  EXPECT_LT(first->history.back().train_loss, first->history.front().train_loss);
  // Probabilities: each row sums to 1.
  const auto& p = first->test_outputs;
  EXPECT_NEAR(p.values[0] + p.values[1] + p.values[2], 1.0, 1e-5);
}

TEST(Net, ConvolutionAndPoolingFollowThePlan) {
  SetTrainingThreads(1);
  const ModelSpec model =
      ParseModel("[6, 6]",
                 "    - reshape: {shape: [6, 6, 1]}\n"
                 "    - conv2d: {filters: 4, kernel: 3, padding: same, activation: relu}\n"
                 "    - conv2d: {filters: 4, kernel: [2, 2], stride: 2, padding: same}\n"
                 "    - maxpool2d: {pool: 2, padding: same}\n"
                 "    - avgpool2d: {pool: 1}\n"
                 "    - global_avgpool2d\n");
  auto plan = PlanModel(model, "t");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->layers[1].output_shape, (std::vector<int64_t>{4, 6, 6}));
  EXPECT_EQ(plan->layers[2].output_shape, (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(plan->layers[3].output_shape, (std::vector<int64_t>{4, 2, 2}));
  EXPECT_GT(TrainedAccuracy(model, Blobs({6, 6}, 240, 2), 8), 0.6);
}

TEST(Net, RecurrentAndEmbeddingLayersTrain) {
  SetTrainingThreads(1);
  const ModelSpec gru = ParseModel("[5, 3]", "    - gru: {units: 8}\n");
  EXPECT_GT(TrainedAccuracy(gru, Blobs({5, 3}, 240, 3), 8), 0.9);
  const ModelSpec lstm = ParseModel("[5, 3]",
                                    "    - lstm: {units: 8, return_sequences: true}\n"
                                    "    - flatten\n");
  EXPECT_GT(TrainedAccuracy(lstm, Blobs({5, 3}, 240, 4), 8), 0.9);
  const ModelSpec embedding = ParseModel("[4]",
                                         "    - embedding: {input_dim: 9, output_dim: 4}\n"
                                         "    - flatten\n",
                                         "int64");
  EXPECT_GT(TrainedAccuracy(embedding, Blobs({4}, 240, 5, /*integer_tokens=*/true), 8), 0.9);
}

TEST(Net, RegressionPredictsItsColumns) {
  SetTrainingThreads(1);
  ModelSpec model = ParseModel("[4]", "    - dense: {units: 8, activation: relu}\n", "float", 2);
  model.layers.back().words["activation"] = "linear";
  ProblemData data;
  SeededRandom random(9);
  for (int i = 0; i < 200; ++i) {
    float a = static_cast<float>(random.Below(100)) / 100.f;
    float b = static_cast<float>(random.Below(100)) / 100.f;
    data.train.x.values.insert(data.train.x.values.end(), {a, b, a, b});
    data.train.y.values.insert(data.train.y.values.end(), {a + b, a - b});
  }
  data.train.x.shape = {200, 4};
  data.train.y.shape = {200, 2};
  data.test = data.train;
  SubnetSpec subnet = Subnet(model, 30);
  subnet.train.loss = "mse";
  TrainingOptions options;
  options.problem = ProblemType::kRegression;
  auto outcome = TrainAndPredict(subnet, data, data.test.x, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->test_outputs.shape, (std::vector<int64_t>{200, 2}));
  EXPECT_LT(outcome->test_metrics.at("mse"), 0.01);
}

TEST(Net, NoTrainingSamplesIsAClearError) {
  const ModelSpec model = ParseModel("[6]", "");
  ProblemData empty;
  empty.train.x.shape = {0, 6};
  auto outcome = TrainAndPredict(Subnet(model, 1), empty, empty.test.x, {});
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.status().message().find("no training samples"), std::string::npos);
}

}  // namespace
}  // namespace cloudbook
