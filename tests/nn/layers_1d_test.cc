// The layers of issue 17 against an independent computation: conv1d, the 1-D pools, the
// global pools, normalization and the activations give what Keras computes (numpy loops in
// tests/testdata/layers_1d_reference.py, run with Debian's /usr/bin/python3, on the same
// weights and inputs); Keras' initialisers (bounds, spread, orthogonality, forget bias);
// normalization statistics adapted to the whole training x and kept by checkpoints.
#include "shared/nn/layers_1d.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "shared/json_io.h"
#include "shared/nn/checkpoint.h"
#include "shared/nn/keras_init.h"
#include "shared/nn/net.h"
#include "shared/nn/subnet_training.h"
#include "shared/seeded_random.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;

LayerSpec Layer(const std::string& type, const std::map<std::string, double>& numbers = {},
                const std::map<std::string, std::string>& words = {}) {
  LayerSpec layer;
  layer.type = type;
  for (const auto& [key, value] : numbers) layer.numbers[key] = {{value, ""}};
  layer.words = words;
  return layer;
}

ModelPlan Plan(const std::vector<int64_t>& input, const std::vector<LayerSpec>& layers) {
  ModelSpec model;
  model.input_shape = input;
  model.layers = layers;
  auto plan = PlanModel(model, "layers_1d_test");
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : ModelPlan{};
}

std::vector<double> Flat(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

Array ToArray(const torch::Tensor& t) {
  Array array;
  array.shape = t.sizes().vec();
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  array.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return array;
}

// Runs the reference script on `cases`; returns one flat output per case.
std::vector<std::vector<double>> Reference(const Json& cases) {
  ScratchDir dir;
  testing::WriteFile(dir.Join("cases.json"), cases.dump());
  const auto run =
      testing::RunShell(std::string("timeout 120 /usr/bin/python3 ") + CLOUDBOOK_SOURCE_DIR +
                            "/tests/testdata/layers_1d_reference.py " + dir.Join("cases.json"),
                        dir.Join("err"));
  EXPECT_EQ(run.exit_code, 0) << run.err << testing::ReadFileOrDie(dir.Join("err"));
  if (run.exit_code != 0) return {};
  return Json::parse(run.out).get<std::vector<std::vector<double>>>();
}

struct LayerCase {
  std::string name;
  std::vector<int64_t> input;  // per sample, Keras order
  LayerSpec layer;
};

TEST(Layers1d, ForwardMatchesTheKerasReference) {
  torch::manual_seed(3);
  const std::map<std::string, std::string> same{{"padding", "same"}};
  const std::vector<LayerCase> cases = {
      {"conv valid", {7, 3}, Layer("conv1d", {{"filters", 4}, {"kernel", 3}, {"stride", 1}})},
      {"conv same stride 2",
       {7, 3},
       Layer("conv1d", {{"filters", 4}, {"kernel", 4}, {"stride", 2}}, same)},
      {"conv same dilation 2",
       {7, 2},
       Layer("conv1d", {{"filters", 3}, {"kernel", 3}, {"dilation", 2}}, same)},
      {"conv causal dilation 2",
       {6, 2},
       Layer("conv1d", {{"filters", 2}, {"kernel", 3}, {"dilation", 2}}, {{"padding", "causal"}})},
      {"conv valid stride 3",
       {8, 2},
       Layer("conv1d", {{"filters", 2}, {"kernel", 2}, {"stride", 3}})},
      {"max valid", {7, 2}, Layer("maxpool1d", {{"pool", 3}, {"stride", 2}})},
      {"max same 2/1", {5, 1}, Layer("maxpool1d", {{"pool", 2}, {"stride", 1}}, same)},
      {"max same 4/3", {7, 2}, Layer("maxpool1d", {{"pool", 4}, {"stride", 3}}, same)},
      {"avg valid", {7, 2}, Layer("avgpool1d", {{"pool", 2}, {"stride", 2}})},
      {"avg same 2/1", {5, 1}, Layer("avgpool1d", {{"pool", 2}, {"stride", 1}}, same)},
      {"avg same 4/3", {7, 2}, Layer("avgpool1d", {{"pool", 4}, {"stride", 3}}, same)},
      {"avg same 3/2", {7, 2}, Layer("avgpool1d", {{"pool", 3}, {"stride", 2}}, same)},
      {"global avg", {5, 3}, Layer("global_avgpool1d")},
      {"global max", {5, 3}, Layer("global_maxpool1d")},
      {"global max 2d", {4, 3, 2}, Layer("global_maxpool2d")},
      {"normalization sequence", {5, 3}, Layer("normalization")},
      {"normalization image", {3, 4, 2}, Layer("normalization")},
      {"normalization vector", {4}, Layer("normalization")},
  };
  Json requests = Json::array();
  std::vector<std::vector<double>> outputs;
  for (const LayerCase& c : cases) {
    SCOPED_TRACE(c.name);
    const ModelPlan plan = Plan(c.input, {c.layer});
    Net net(plan, 1);
    net->eval();
    std::vector<int64_t> x_shape = {3};
    x_shape.insert(x_shape.end(), c.input.begin(), c.input.end());
    torch::Tensor x = torch::randn(x_shape) * 2 + 1;
    if (c.input == std::vector<int64_t>{4}) x.select(1, 2).fill_(5);  // a constant: variance 0
    Json request = {{"op", c.layer.type}, {"x", Flat(x)}, {"x_shape", x_shape}};
    if (c.layer.type == "conv1d") {
      torch::NoGradGuard no_grad;
      for (auto& p : net->parameters()) p.uniform_(-1, 1);  // a non-zero bias too
      const auto params = net->named_parameters();
      request["weight"] = Flat(params["conv1d0.weight"]);
      request["weight_shape"] = params["conv1d0.weight"].sizes().vec();
      request["bias"] = Flat(params["conv1d0.bias"]);
      request["stride"] = LayerInt(c.layer, "stride", 1);
      request["dilation"] = LayerInt(c.layer, "dilation", 1);
      request["padding"] = LayerWord(c.layer, "padding", "valid");
    } else if (c.layer.type == "maxpool1d" || c.layer.type == "avgpool1d") {
      request["pool"] = LayerInt(c.layer, "pool", 2);
      request["stride"] = LayerInt(c.layer, "stride", 2);
      request["padding"] = LayerWord(c.layer, "padding", "valid");
    } else if (c.layer.type == "normalization") {
      const Array whole = ToArray(x);
      AdaptNormalization(*net, plan, {&whole});
    }
    torch::Tensor y = net->forward(x);
    if (y.dim() == 4) y = y.permute({0, 2, 3, 1});  // internal [B, C, H, W] -> Keras order
    std::vector<int64_t> expected_shape = plan.output_shape;
    if (expected_shape.size() == 3)
      expected_shape = {expected_shape[1], expected_shape[2], expected_shape[0]};
    EXPECT_EQ(y.sizes().vec().size(), expected_shape.size() + 1);
    EXPECT_EQ(std::vector<int64_t>(y.sizes().begin() + 1, y.sizes().end()), expected_shape);
    outputs.push_back(Flat(y));
    requests.push_back(request);
  }
  const auto expected = Reference(requests);
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    ASSERT_EQ(outputs[i].size(), expected[i].size());
    for (size_t j = 0; j < expected[i].size(); ++j)
      EXPECT_NEAR(outputs[i][j], expected[i][j], 2e-5);
  }
}

// Keras' own docstring examples (keras/layers/pooling/average_pooling1d.py,
// max_pooling1d.py): [1, 2, 3, 4, 5], pool 2, stride 1, 'same'.
TEST(Layers1d, PoolsMatchTheKerasDocstringExamples) {
  const torch::Tensor x = torch::arange(1, 6, torch::kFloat).reshape({1, 5, 1});
  for (const auto& [type, expected] : std::vector<std::pair<std::string, std::vector<double>>>{
           {"avgpool1d", {1.5, 2.5, 3.5, 4.5, 5.0}}, {"maxpool1d", {2, 3, 4, 5, 5}}}) {
    Net net(Plan({5, 1}, {Layer(type, {{"pool", 2}, {"stride", 1}}, {{"padding", "same"}})}), 1);
    EXPECT_EQ(Flat(net->forward(x)), expected) << type;
  }
}

TEST(Layers1d, ActivationsMatchTheirKerasDefinitions) {
  const torch::Tensor x = torch::linspace(-25, 25, 41).reshape({1, 41});
  Json requests = Json::array();
  std::vector<std::vector<double>> outputs;
  const std::vector<std::string> names = {"relu6", "softplus", "softsign", "selu", "swish", "silu"};
  for (const std::string& name : names) {
    Net standalone(Plan({41}, {Layer("activation", {}, {{"activation", name}})}), 1);
    outputs.push_back(Flat(standalone->forward(x)));
    requests.push_back(
        {{"op", "activation"}, {"activation", name}, {"x", Flat(x)}, {"x_shape", {1, 41}}});
  }
  const auto expected = Reference(requests);
  ASSERT_EQ(expected.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = 0; j < expected[i].size(); ++j) {
      EXPECT_NEAR(outputs[i][j], expected[i][j], 1e-5 * std::max(1.0, std::abs(expected[i][j])))
          << names[i] << " at x = " << x[0][static_cast<int64_t>(j)].item<double>();
    }
  }
}

// np.mean / np.var over rows of both parts: channel 0 holds 1, 3, 5; channel 1 holds 2, 4, 6.
TEST(Layers1d, ChannelMomentsArePopulationMomentsOverAllParts) {
  Array first{{2, 2}, {1, 2, 3, 4}};
  Array second{{1, 2}, {5, 6}};
  const ChannelMoments moments = ComputeChannelMoments({&first, &second}, 2);
  EXPECT_DOUBLE_EQ(moments.mean[0], 3);
  EXPECT_DOUBLE_EQ(moments.mean[1], 4);
  EXPECT_DOUBLE_EQ(moments.variance[0], 8.0 / 3);
  EXPECT_DOUBLE_EQ(moments.variance[1], 8.0 / 3);
}

// Checks U(-limit, limit): inside the bounds, reaching near them, variance limit^2 / 3.
void ExpectUniform(const torch::Tensor& w, double limit, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_LE(w.abs().max().item<double>(), limit);
  EXPECT_GT(w.abs().max().item<double>(), 0.95 * limit);
  EXPECT_NEAR(w.mean().item<double>(), 0, 0.05 * limit);
  EXPECT_NEAR(w.var().item<double>(), limit * limit / 3, 0.1 * limit * limit / 3);
}

TEST(KerasInit, EveryLayerStartsAsKerasStartsIt) {
  LayerSpec reshape = Layer("reshape");
  reshape.numbers["shape"] = {{8, ""}, {8, ""}, {5, ""}};
  const ModelPlan plan =
      Plan({20, 16}, {Layer("conv1d", {{"filters", 32}, {"kernel", 5}}), Layer("flatten"),
                      Layer("dense", {{"units", 320}}), reshape,
                      Layer("conv2d", {{"filters", 24}, {"kernel", 3}})});
  Net net(plan, 5);
  auto params = net->named_parameters();
  // Keras compute_fans: conv1d kernel (5, 16, 32): fan_in 80, fan_out 160.
  ExpectUniform(params["conv1d0.weight"], std::sqrt(6.0 / (5 * 16 + 5 * 32)), "conv1d");
  ExpectUniform(params["dense2.weight"], std::sqrt(6.0 / (16 * 32 + 320)), "dense");
  ExpectUniform(params["conv2d4.weight"], std::sqrt(6.0 / (9 * 5 + 9 * 24)), "conv2d");
  for (const char* bias : {"conv1d0.bias", "dense2.bias", "conv2d4.bias"}) {
    EXPECT_EQ(params[bias].abs().max().item<double>(), 0) << bias;
  }

  LayerSpec embedding = Layer("embedding", {{"input_dim", 500}, {"output_dim", 40}});
  ModelSpec tokens;
  tokens.input_shape = {6};
  tokens.input_dtype = "int64";
  tokens.layers = {embedding};
  Net embedded(*PlanModel(tokens, "t"), 5);
  ExpectUniform(embedded->named_parameters()["embedding0.weight"], 0.05, "embedding");

  Net recurrent(Plan({7, 30}, {Layer("lstm", {{"units", 20}}, {{"return_sequences", "true"}}),
                               Layer("gru", {{"units", 25}})}),
                5);
  auto rnn = recurrent->named_parameters();
  ExpectUniform(rnn["lstm0.weight_ih_l0"], std::sqrt(6.0 / (30 + 4 * 20)), "lstm kernel");
  ExpectUniform(rnn["gru1.weight_ih_l0"], std::sqrt(6.0 / (20 + 3 * 25)), "gru kernel");
  for (const auto& [name, units] : std::vector<std::pair<std::string, int64_t>>{
           {"lstm0.weight_hh_l0", 20}, {"gru1.weight_hh_l0", 25}}) {
    // Keras' recurrent kernel (units, gates * units) has orthonormal rows; torch keeps its
    // transpose, whose columns are orthonormal.
    const torch::Tensor w = rnn[name];
    EXPECT_TRUE(torch::allclose(w.t().mm(w), torch::eye(units), 1e-5, 1e-5)) << name;
  }
  const torch::Tensor lstm_bias = rnn["lstm0.bias_ih_l0"];
  EXPECT_EQ(lstm_bias.narrow(0, 20, 20).min().item<double>(), 1) << "forget gate";
  EXPECT_EQ(lstm_bias.narrow(0, 0, 20).abs().max().item<double>(), 0);
  EXPECT_EQ(lstm_bias.narrow(0, 40, 40).abs().max().item<double>(), 0);
  for (const char* bias : {"lstm0.bias_hh_l0", "gru1.bias_ih_l0", "gru1.bias_hh_l0"}) {
    EXPECT_EQ(rnn[bias].abs().max().item<double>(), 0) << bias;
  }

  // Seeded by the network's seed alone, whatever torch's global generator holds.
  torch::manual_seed(99);
  Net again(plan, 5);
  Net other(plan, 6);
  EXPECT_TRUE(torch::equal(again->named_parameters()["dense2.weight"], params["dense2.weight"]));
  EXPECT_FALSE(torch::equal(other->named_parameters()["dense2.weight"], params["dense2.weight"]));
}

TEST(KerasInit, OrthogonalHandlesWideMatrices) {
  at::Generator generator = at::detail::createCPUGenerator(1);
  torch::Tensor wide = torch::empty({3, 10});
  Orthogonal(wide, generator);
  EXPECT_TRUE(torch::allclose(wide.mm(wide.t()), torch::eye(3), 1e-5, 1e-5));
}

// A sequence set whose channels have very different scales: channel 0 around 5, channel 1
// around -30; the class shifts channel 0 up or down in the middle steps.
ProblemData Sequences(int64_t samples, double offset) {
  SeededRandom random(11);
  ProblemData data;
  for (LabeledArrays* split : {&data.train, &data.validation}) {
    const int64_t rows = split == &data.train ? samples : samples / 4;
    split->x.shape = {rows, 6, 2};
    split->y.shape = {rows};
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t label = i % 3;
      split->labels.push_back(label);
      split->y.values.push_back(static_cast<float>(label));
      for (int64_t t = 0; t < 6; ++t) {
        const double noise = static_cast<double>(random.Below(1000)) / 1000.0;
        const double signal = (t >= 2 && t < 4) ? (static_cast<double>(label) - 1) : 0;
        split->x.values.push_back(static_cast<float>(offset + 5 + signal + 0.3 * noise));
        split->x.values.push_back(static_cast<float>(offset - 30 + 10 * noise));
      }
    }
  }
  data.test = data.train;
  return data;
}

SubnetSpec SequenceSubnet(int64_t epochs) {
  SubnetSpec subnet;
  subnet.model.input_shape = {6, 2};
  subnet.model.layers = {Layer("normalization"),
                         Layer("conv1d", {{"filters", 8}, {"kernel", 3}},
                               {{"padding", "same"}, {"activation", "relu"}}),
                         Layer("maxpool1d", {{"pool", 2}, {"stride", 2}}),
                         Layer("global_avgpool1d"),
                         Layer("dense", {{"units", 3}}, {{"activation", "softmax"}})};
  subnet.epochs = epochs;
  subnet.seed = 7;
  subnet.train.batch_size = 16;
  subnet.train.learning_rate = 0.01;
  subnet.train.loss = "sparse_categorical_crossentropy";
  subnet.classes = {0, 1, 2};
  return subnet;
}

// The normalization statistics in a checkpoint of `subnet`.
ChannelMoments CheckpointMoments(const SubnetSpec& subnet, const std::string& dir) {
  const ModelPlan plan = *PlanModel(subnet.model, "t");
  Net net(plan, 1);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(0.01));
  auto info = LoadCheckpoint(CheckpointPath(dir, subnet.index), net, optimizer);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  auto buffers = net->named_buffers();
  ChannelMoments moments;
  moments.mean = Flat(buffers["normalization0_mean"]);
  moments.variance = Flat(buffers["normalization0_variance"]);
  return moments;
}

void ExpectMoments(const ChannelMoments& got, const ChannelMoments& expected) {
  ASSERT_EQ(got.mean.size(), expected.mean.size());
  for (size_t c = 0; c < expected.mean.size(); ++c) {
    EXPECT_FLOAT_EQ(got.mean[c], expected.mean[c]) << "channel " << c;
    EXPECT_FLOAT_EQ(got.variance[c], expected.variance[c]) << "channel " << c;
  }
}

TEST(Normalization, AdaptsToTheWholeTrainingXAndSurvivesCheckpoints) {
  SetTrainingThreads(1);
  const ProblemData whole = Sequences(240, 0);
  ProblemData view = whole;  // a subnet's view: fewer rows than the whole
  view.train.x = whole.train.x.SliceRows(0, 120);
  view.train.y = whole.train.y.SliceRows(0, 120);
  view.train.labels.resize(120);
  const ChannelMoments expected =
      ComputeChannelMoments({&whole.train.x, &whole.validation.x}, /*channels=*/2);
  EXPECT_NEAR(expected.mean[1], -25, 1.0);

  ScratchDir dir;
  TrainingOptions options;
  options.checkpoint_dir = dir.path();
  options.whole_data = &whole;
  auto trained = TrainAndPredict(SequenceSubnet(8), view, view.test.x, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_GT(trained->test_metrics.at("accuracy"), 0.9);
  ExpectMoments(CheckpointMoments(SequenceSubnet(8), dir.path()), expected);
  auto predicted =
      PredictFromCheckpoint(SequenceSubnet(8), dir.path(), view.test.x, ProblemType::kMulticlass);
  ASSERT_TRUE(predicted.ok()) << predicted.status().ToString();
  EXPECT_EQ(predicted->values, trained->test_outputs.values);

  // Resuming keeps the checkpoint's statistics even when handed other whole data, and ends
  // where an uninterrupted run ends.
  ScratchDir resumed_dir;
  options.checkpoint_dir = resumed_dir.path();
  ASSERT_TRUE(TrainAndPredict(SequenceSubnet(1), view, view.test.x, options).ok());
  const ProblemData shifted = Sequences(240, 100);
  options.whole_data = &shifted;
  auto resumed = TrainAndPredict(SequenceSubnet(8), view, view.test.x, options);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->resumed_from_epoch, 1);
  EXPECT_EQ(resumed->test_outputs.values, trained->test_outputs.values);
  ExpectMoments(CheckpointMoments(SequenceSubnet(8), resumed_dir.path()), expected);
}

}  // namespace
}  // namespace cloudbook
