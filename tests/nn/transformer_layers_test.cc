// The transformer and ViT layers and the DAG as the network runs them, each against an
// independent computation: NumPy (python3-numpy, run from the test on the same weights)
// written from Keras' own equations for MultiHeadAttention, LayerNormalization and the
// keras.io TransformerBlock; hand-computed cases for patches (tf.image.extract_patches
// order), the position embeddings and a residual block; and short trainings.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "maker/program_parser.h"
#include "shared/model_plan.h"
#include "shared/nn/attention.h"
#include "shared/nn/net.h"
#include "shared/nn/subnet_training.h"
#include "shared/nn/transformer_layers.h"
#include "shared/seeded_random.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

// A program with literal widths around `layers_yaml` (its last layer is the output).
ModelSpec Model(const std::string& input, const std::string& layers_yaml,
                const std::string& dtype = "float") {
  const std::string text =
      "name: t\nproblem: multiclass\ndata:\n  train:\n"
      "    x: {format: idx, path: x.idx}\n    y: {format: idx, path: y.idx}\n"
      "vars: {_NEURON_9: 3}\nmodel:\n  input: " +
      input + "\n  input_dtype: " + dtype + "\n  layers:\n" + layers_yaml +
      "train:\n  loss: sparse_categorical_crossentropy\n  epochs: 1\n";
  auto program = ParseProgramText(text, "t.yaml");
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  return program.ok() ? program->model : ModelSpec();
}

ModelPlan Plan(const ModelSpec& model) {
  auto plan = PlanModel(model, "t.yaml");
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : ModelPlan();
}

void WriteTensor(const std::string& path, const torch::Tensor& tensor) {
  const auto t = tensor.detach().to(torch::kFloat).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
}

std::string ShapeText(const torch::Tensor& t) {
  std::string text = "(";
  for (int64_t d : t.sizes()) text += std::to_string(d) + ",";
  return text + ")";
}

// Writes every parameter of `module` and the named `inputs` into `dir`, runs the NumPy
// `body` (it sees `P[name]` for parameters, the inputs by name, and must set `result`), and
// returns the result shaped like `like`.
torch::Tensor NumPyReference(const testing::ScratchDir& dir, torch::nn::Module& module,
                             const std::vector<std::pair<std::string, torch::Tensor>>& inputs,
                             const std::string& body, const torch::Tensor& like) {
  std::string script =
      "import numpy as np, sys\nd = sys.argv[1]\n"
      "def L(name, shape):\n"
      "    return np.fromfile(d + '/' + name, dtype='<f4').reshape(shape).astype(np.float64)\n"
      "P = {}\n";
  for (const auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& value = item.value();
    WriteTensor(dir.Join("p_" + name), value);
    script += "P['" + name + "'] = L('p_" + name + "', " + ShapeText(value) + ")\n";
  }
  for (const auto& [name, value] : inputs) {
    WriteTensor(dir.Join("in_" + name), value);
    script += name + " = L('in_" + name + "', " + ShapeText(value) + ")\n";
  }
  script += body + "\nnp.asarray(result, dtype='<f4').tofile(d + '/result')\n";
  testing::WriteFile(dir.Join("reference.py"), script);
  const auto run = testing::RunShellMerged("timeout 120 /usr/bin/python3 " +
                                           dir.Join("reference.py") + " " + dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.out;
  const std::string bytes = testing::ReadFileOrDie(dir.Join("result"));
  EXPECT_EQ(bytes.size(), static_cast<size_t>(like.numel()) * 4);
  if (bytes.size() != static_cast<size_t>(like.numel()) * 4) return torch::zeros_like(like);
  return torch::from_blob(const_cast<char*>(bytes.data()), like.sizes(), torch::kFloat).clone();
}

// Keras MultiHeadAttention, from keras/src/layers/attention/multi_head_attention.py: EinsumDense
// projections with kernels (D, N, H) ("abc,cde->abde"), the query scaled by 1/sqrt(key_dim),
// scores "aecd,abcd->acbe", softmax over the value steps, "acbe,aecd->abcd", output kernel
// (N, H_v, D) ("abcd,cde->abe"). A torch Linear weight (N*H, D) is the kernel transposed.
constexpr char kNumPyAttention[] = R"(
def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
def dense(x, prefix, n, h):
    w = P[prefix + '.weight']
    kernel = w.T.reshape(w.shape[1], n, h)
    y = np.einsum('abc,cde->abde', x, kernel)
    return y + P[prefix + '.bias'].reshape(n, h) if prefix + '.bias' in P else y
def mha(prefix, q, v, k, n, h, hv):
    prefix = prefix + '.' if prefix else ''
    query = dense(q, prefix + 'query', n, h) / np.sqrt(h)
    key = dense(k, prefix + 'key', n, h)
    value = dense(v, prefix + 'value', n, hv)
    probs = softmax(np.einsum('aecd,abcd->acbe', key, query))
    out = np.einsum('acbe,aecd->abcd', probs, value)
    w = P[prefix + 'output.weight']
    y = np.einsum('abcd,cde->abe', out, w.T.reshape(n, hv, w.shape[0]))
    return y + P[prefix + 'output.bias'] if prefix + 'output.bias' in P else y
def layernorm(x, prefix, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * P[prefix + '.weight'] + P[prefix + '.bias']
)";

TEST(TransformerLayers, AttentionWithKeyDimOtherThanWidthOverHeadsMatchesKeras) {
  torch::manual_seed(3);
  // Query width 6 with 2 heads of key_dim 5 (torch's MultiheadAttention would force 3),
  // value_dim 4, and a key of its own width: cross-attention of 3 query on 4 value steps.
  AttentionSizes sizes;
  sizes.heads = 2;
  sizes.key_dim = 5;
  sizes.value_dim = 4;
  sizes.query_steps = 3;
  sizes.value_steps = 4;
  sizes.d_query = 6;
  sizes.d_value = 7;
  sizes.d_key = 2;
  MultiHeadAttention attention(sizes, 0.0);
  {
    torch::NoGradGuard no_grad;  // non-zero biases, so the bias layout is checked too
    for (auto& p : attention->parameters()) p.uniform_(-0.5, 0.5);
  }
  EXPECT_EQ(attention->query_dense->weight.sizes(), (std::vector<int64_t>{10, 6}));
  const auto q = torch::randn({2, 3, 6}), v = torch::randn({2, 4, 7}), k = torch::randn({2, 4, 2});
  at::Generator generator = at::detail::createCPUGenerator(1);
  const auto ours = attention->forward(q, v, k, generator);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{2, 3, 6}));
  testing::ScratchDir dir;
  const auto expected =
      NumPyReference(dir, *attention, {{"q", q}, {"v", v}, {"k", k}},
                     std::string(kNumPyAttention) + "result = mha('', q, v, k, 2, 5, 4)", ours);
  EXPECT_LT((ours - expected).abs().max().item<float>(), 1e-5) << ours << expected;
}

TEST(TransformerLayers, AttentionStartsWithKerasEinsumDenseFans) {
  torch::manual_seed(4);
  // The keras.io text example: width 32, 2 heads, key_dim 32. Keras' query kernel (32, 2, 32)
  // has glorot limit sqrt(6 / (32 * (2 + 32))) = 0.0742; a flattened Linear's would be 0.25.
  AttentionSizes sizes;
  sizes.heads = 2;
  sizes.key_dim = sizes.value_dim = 32;
  sizes.query_steps = sizes.value_steps = 8;
  sizes.d_query = sizes.d_value = sizes.d_key = 32;
  MultiHeadAttention attention(sizes, 0.0);
  // The output kernel (2, 32, 32) has fans 2 * 32 and 2 * 32: sqrt(6 / 128) = 0.2165.
  const double projection_limit = std::sqrt(6.0 / (32 * 34)), output_limit = std::sqrt(6.0 / 128);
  for (auto* linear : {&attention->query_dense, &attention->key_dense, &attention->value_dense,
                       &attention->output_dense}) {
    const double limit = linear == &attention->output_dense ? output_limit : projection_limit;
    const double biggest = (*linear)->weight.abs().max().item<double>();
    EXPECT_LE(biggest, limit);
    EXPECT_GT(biggest, 0.95 * limit);
    EXPECT_EQ((*linear)->bias.abs().max().item<double>(), 0.0);
  }
}

TEST(TransformerLayers, LayerNormUsesKerasDefaultEpsilonOnTheLastAxis) {
  torch::manual_seed(5);
  // Values with a small spread, so the epsilon (Keras 1e-3, not torch's 1e-5) matters.
  const ModelPlan plan = Plan(Model("[4, 6]",
                                    "    - layernorm\n    - flatten\n"
                                    "    - dense: {units: _NEURON_9}\n"));
  ASSERT_EQ(plan.layers.size(), 3u);
  auto norm = MakeBlockLayer(plan.layers[0]);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : norm->parameters()) p.uniform_(0.5, 1.5);
  }
  at::Generator generator = at::detail::createCPUGenerator(1);
  const auto x = 0.03 * torch::randn({3, 4, 6});
  const auto ours = norm->Forward({x}, generator);
  testing::ScratchDir dir;
  const auto expected =
      NumPyReference(dir, *norm, {{"x", x}},
                     std::string(kNumPyAttention) + "result = layernorm(x, 'norm', 1e-3)", ours);
  EXPECT_LT((ours - expected).abs().max().item<float>(), 1e-4);
  const auto with_torch_eps =
      torch::layer_norm(x, {6}, norm->parameters()[0], norm->parameters()[1], 1e-5);
  EXPECT_GT((ours - with_torch_eps).abs().max().item<float>(), 1e-2) << "epsilon must matter";
}

TEST(TransformerLayers, TransformerBlockMatchesTheKerasIoBlock) {
  torch::manual_seed(6);
  const ModelPlan plan = Plan(Model("[5, 6]",
                                    "    - transformer_block: {heads: 2, ff_dim: 7}\n"
                                    "    - flatten\n    - dense: {units: _NEURON_9}\n"));
  auto block = MakeBlockLayer(plan.layers[0]);
  block->eval();  // inference: no dropout
  {
    torch::NoGradGuard no_grad;
    for (auto& p : block->parameters()) p.uniform_(-0.4, 0.4);
  }
  at::Generator generator = at::detail::createCPUGenerator(1);
  const auto x = torch::randn({2, 5, 6});
  const auto ours = block->Forward({x}, generator);
  testing::ScratchDir dir;
  // keras.io TransformerBlock.call, post-LN, MHA key_dim = embed_dim, epsilon 1e-6.
  const auto expected =
      NumPyReference(dir, *block, {{"x", x}},
                     std::string(kNumPyAttention) +
                         "out1 = layernorm(x + mha('att', x, x, x, 2, 6, 6), 'layernorm1', 1e-6)\n"
                         "hidden = np.maximum(out1 @ P['ffn1.weight'].T + P['ffn1.bias'], 0)\n"
                         "ffn = hidden @ P['ffn2.weight'].T + P['ffn2.bias']\n"
                         "result = layernorm(out1 + ffn, 'layernorm2', 1e-6)",
                     ours);
  EXPECT_LT((ours - expected).abs().max().item<float>(), 1e-4);
  EXPECT_EQ(block->parameters().size(), 16u);  // 4 attention, 2 ffn, 2 norm: weight, bias
  int64_t count = 0;
  for (const auto& p : block->parameters()) count += p.numel();
  EXPECT_EQ(count, plan.layers[0].parameters);
}

// tf.image.extract_patches (sizes = strides = [1, p, p, 1], VALID): patches row-major over
// the grid, each the (row, col, channel) values of its window, channel fastest.
TEST(TransformerLayers, PatchesFollowExtractPatchesOrder) {
  // A 5 x 5 x 2 image (H, W, C) whose value at (h, w, c) is 100 h + 10 w + c; size 2 drops
  // the last row and column (VALID).
  auto image = torch::empty({1, 5, 5, 2});
  for (int h = 0; h < 5; ++h)
    for (int w = 0; w < 5; ++w)
      for (int c = 0; c < 2; ++c) image[0][h][w][c] = 100 * h + 10 * w + c;
  const auto patches = ExtractPatches(image.permute({0, 3, 1, 2}), 2);  // the net is NCHW
  ASSERT_EQ(patches.sizes(), (std::vector<int64_t>{1, 4, 8}));
  // Patch 1 is the top-right window: rows 0-1, columns 2-3.
  const std::vector<float> top_right{20, 21, 30, 31, 120, 121, 130, 131};
  const std::vector<float> bottom_left{200, 201, 210, 211, 300, 301, 310, 311};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(patches[0][1][i].item<float>(), top_right[i]) << i;
    EXPECT_EQ(patches[0][2][i].item<float>(), bottom_left[i]) << i;
  }
  // Through the network: a channels-last input converted once, then patches.
  const ModelPlan plan = Plan(Model("[5, 5, 2]",
                                    "    - patches: {size: 2}\n    - flatten\n"
                                    "    - dense: {units: _NEURON_9}\n"));
  EXPECT_EQ(plan.layers[0].output_shape, (std::vector<int64_t>{4, 8}));
}

TEST(TransformerLayers, TokenAndPatchPositionsComeFromTheirTables) {
  torch::manual_seed(7);
  const ModelPlan plan =
      Plan(Model("[3]",
                 "    - token_position_embedding: {maxlen: 5, vocab_size: 9, embed_dim: 4}\n"
                 "    - flatten\n    - dense: {units: _NEURON_9}\n",
                 "int64"));
  auto embedding = MakeBlockLayer(plan.layers[0]);
  const auto params = embedding->named_parameters();
  const auto tokens = params["token_emb.weight"], positions = params["pos_emb.weight"];
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{9, 4}));
  EXPECT_EQ(positions.sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_LE(tokens.abs().max().item<double>(), 0.05) << "Keras 'uniform' is U(-0.05, 0.05)";
  EXPECT_GT(tokens.abs().max().item<double>(), 0.03);
  at::Generator generator = at::detail::createCPUGenerator(1);
  // Token ids arrive as floats from the data loader; positions 0..2 of the 5-row table.
  const auto ids = torch::tensor({{8.f, 0.f, 3.f}, {1.f, 1.f, 1.f}});
  const auto out = embedding->Forward({ids}, generator);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_TRUE(torch::allclose(out[0][0], tokens[8] + positions[0]));
  EXPECT_TRUE(torch::allclose(out[0][2], tokens[3] + positions[2]));
  EXPECT_TRUE(torch::allclose(out[1][1], tokens[1] + positions[1]));

  const ModelPlan vit = Plan(Model("[4, 4, 1]",
                                   "    - patches: {size: 2}\n"
                                   "    - patch_encoder: {num_patches: 4, projection_dim: 3}\n"
                                   "    - flatten\n    - dense: {units: _NEURON_9}\n"));
  auto encoder = MakeBlockLayer(vit.layers[1]);
  const auto p = encoder->named_parameters();
  const auto x = torch::randn({2, 4, 4});
  const auto encoded = encoder->Forward({x}, generator);
  const auto expected = torch::matmul(x, p["projection.weight"].t()) + p["projection.bias"] +
                        p["position_embedding.weight"];
  EXPECT_TRUE(torch::allclose(encoded, expected));
  EXPECT_EQ(p["projection.bias"].abs().max().item<double>(), 0.0);
}

// The DAG in forward(): a residual block reads the outputs its inputs name.
TEST(TransformerLayers, ResidualBlockReadsTheNamedOutputs) {
  torch::manual_seed(8);
  const ModelPlan plan = Plan(Model("[4]",
                                    "    - dense: {units: 4, activation: relu, name: h}\n"
                                    "    - dense: {units: 4}\n"
                                    "    - add: {inputs: [h, previous, input], name: sum}\n"
                                    "    - dense: {units: 4, inputs: [h]}\n"
                                    "    - add: {inputs: [sum, previous]}\n"
                                    "    - dense: {units: _NEURON_9, activation: softmax}\n"));
  ASSERT_FALSE(plan.plain_list);
  Net net(plan, 1);
  net->eval();
  auto p = net->named_parameters();
  const auto x = torch::randn({5, 4});
  auto dense = [&](const std::string& name, const torch::Tensor& in) {
    return torch::matmul(in, p[name + ".weight"].t()) + p[name + ".bias"];
  };
  const auto h = torch::relu(dense("dense0", x));
  const auto sum = h + dense("dense1", h) + x;
  const auto expected =
      dense("dense5", sum + dense("dense3", h));  // logits: the loss applies the softmax
  EXPECT_TRUE(torch::allclose(net->forward(x), expected, 1e-5, 1e-6));
}

// Three token patterns, one per class (as in net_test's blobs).
ProblemData TokenBlobs(int64_t steps, int64_t samples, uint64_t seed) {
  SeededRandom random(seed);
  ProblemData data;
  LabeledArrays& train = data.train;
  train.x.shape = {samples, steps};
  for (int64_t i = 0; i < samples; ++i) {
    const int64_t label = i % 3;
    train.labels.push_back(label);
    train.y.values.push_back(static_cast<float>(label));
    for (int64_t t = 0; t < steps; ++t) {
      train.x.values.push_back(static_cast<float>(label * 3 + random.Below(3)));
    }
  }
  train.y.shape = {samples};
  data.test = train;
  return data;
}

double TrainedAccuracy(const ModelSpec& model, const ProblemData& data, int64_t epochs) {
  SubnetSpec subnet;
  subnet.model = model;
  subnet.epochs = epochs;
  subnet.seed = 7;
  subnet.train.batch_size = 16;
  subnet.train.learning_rate = 0.01;
  subnet.train.loss = "sparse_categorical_crossentropy";
  subnet.classes = {0, 1, 2};
  auto outcome = TrainAndPredict(subnet, data, data.test.x, {});
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  return outcome.ok() ? outcome->test_metrics.at("accuracy") : 0;
}

TEST(TransformerLayers, TransformerAndVitLearnSeparableClasses) {
  SetTrainingThreads(1);
  const ModelSpec text = Model("[6]",
                               "    - token_position_embedding: {maxlen: 8, vocab_size: 9, "
                               "embed_dim: 8}\n"
                               "    - transformer_block: {heads: 2, ff_dim: 8}\n"
                               "    - flatten\n"
                               "    - dense: {units: _NEURON_9, activation: softmax}\n",
                               "int64");
  EXPECT_GT(TrainedAccuracy(text, TokenBlobs(6, 240, 1), 6), 0.9);

  // Pre-LN ViT wiring with explicit residual adds (keras.io ViT), on 8 x 8 images.
  const ModelSpec vit = Model("[8, 8, 1]",
                              "    - patches: {size: 4}\n"
                              "    - patch_encoder: {num_patches: 4, projection_dim: 8, name: e}\n"
                              "    - layernorm: {epsilon: 0.000001}\n"
                              "    - multihead_attention: {heads: 2, key_dim: 8, dropout: 0.1}\n"
                              "    - add: {inputs: [previous, e], name: x2}\n"
                              "    - layernorm: {epsilon: 0.000001}\n"
                              "    - dense: {units: 8, activation: gelu}\n"
                              "    - add: {inputs: [previous, x2]}\n"
                              "    - flatten\n"
                              "    - dense: {units: _NEURON_9, activation: softmax}\n");
  SeededRandom random(2);
  ProblemData images;
  images.train.x.shape = {240, 8, 8, 1};
  for (int64_t i = 0; i < 240; ++i) {
    images.train.labels.push_back(i % 3);
    images.train.y.values.push_back(static_cast<float>(i % 3));
    for (int v = 0; v < 64; ++v) {
      const bool lit = (v / 8) % 3 == i % 3;  // the class picks the lit rows
      images.train.x.values.push_back((lit ? 1.f : 0.f) +
                                      0.3f * static_cast<float>(random.Below(1000)) / 1000.f);
    }
  }
  images.train.y.shape = {240};
  images.test = images.train;
  EXPECT_GT(TrainedAccuracy(vit, images, 6), 0.9);
}

}  // namespace
}  // namespace cloudbook
