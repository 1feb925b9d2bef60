#include "shared/nn/transformer_layers.h"

#include "shared/model_plan_blocks.h"
#include "shared/nn/attention.h"

namespace cloudbook {
namespace {

// Keras Embedding's default initializer "uniform": RandomUniform(-0.05, 0.05).
constexpr double kEmbeddingLimit = 0.05;

torch::nn::Embedding KerasEmbedding(int64_t rows, int64_t width) {
  torch::nn::Embedding embedding(rows, width);
  torch::NoGradGuard no_grad;
  torch::nn::init::uniform_(embedding->weight, -kEmbeddingLimit, kEmbeddingLimit);
  return embedding;
}

// A Keras Dense (glorot_uniform kernel, zero bias) as a Linear.
torch::nn::Linear KerasDense(int64_t in, int64_t out) {
  torch::nn::Linear linear(in, out);
  InitKerasLinear(linear, GlorotLimit(in, out));
  return linear;
}

// Positions 0..count-1 on the device of `like`.
torch::Tensor Positions(int64_t count, const torch::Tensor& like) {
  return torch::arange(count, torch::TensorOptions().dtype(torch::kLong).device(like.device()));
}

class AddLayer : public BlockLayerImpl {
 public:
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs, at::Generator&) override {
    torch::Tensor sum = inputs[0];
    for (size_t i = 1; i < inputs.size(); ++i) sum = sum + inputs[i];
    return sum;
  }
};

// Keras LayerNormalization on the last axis: (x - mean) / sqrt(var + eps) * gamma + beta,
// gamma ones, beta zeros (torch's LayerNorm, with the program's epsilon).
class LayerNormLayer : public BlockLayerImpl {
 public:
  LayerNormLayer(int64_t width, double epsilon)
      : norm_(register_module(
            "norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(epsilon)))) {}
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs, at::Generator&) override {
    return norm_->forward(inputs[0]);
  }

 private:
  torch::nn::LayerNorm norm_;
};

class AttentionLayer : public BlockLayerImpl {
 public:
  AttentionLayer(const AttentionSizes& sizes, double dropout)
      : attention_(register_module("attention", MultiHeadAttention(sizes, dropout))) {}
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs,
                        at::Generator& generator) override {
    // Keras call(query, value, key=None): key defaults to value, value to the query here.
    const torch::Tensor& query = inputs[0];
    const torch::Tensor& value = inputs.size() > 1 ? inputs[1] : inputs[0];
    const torch::Tensor& key = inputs.size() > 2 ? inputs[2] : value;
    return attention_->forward(query, value, key, generator);
  }

 private:
  MultiHeadAttention attention_;
};

// keras.io TransformerBlock (post-LN): MHA(num_heads, key_dim=embed_dim), dropout, add,
// LayerNorm(1e-6); Dense(ff_dim, relu), Dense(embed_dim), dropout, add, LayerNorm(1e-6).
class TransformerBlockLayer : public BlockLayerImpl {
 public:
  TransformerBlockLayer(int64_t steps, int64_t width, int64_t heads, int64_t ff_dim, double rate,
                        double epsilon)
      : rate_(rate) {
    AttentionSizes sizes;
    sizes.heads = heads;
    sizes.key_dim = sizes.value_dim = width;
    sizes.query_steps = sizes.value_steps = steps;
    sizes.d_query = sizes.d_value = sizes.d_key = width;
    attention_ = register_module("att", MultiHeadAttention(sizes, 0.0));
    ffn1_ = register_module("ffn1", KerasDense(width, ff_dim));
    ffn2_ = register_module("ffn2", KerasDense(ff_dim, width));
    const auto norm = torch::nn::LayerNormOptions({width}).eps(epsilon);
    norm1_ = register_module("layernorm1", torch::nn::LayerNorm(norm));
    norm2_ = register_module("layernorm2", torch::nn::LayerNorm(norm));
  }
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs,
                        at::Generator& generator) override {
    const torch::Tensor& x = inputs[0];
    auto attended =
        KerasDropout(attention_->forward(x, x, x, generator), rate_, is_training(), generator);
    auto out1 = norm1_->forward(x + attended);
    auto ffn = ffn2_->forward(torch::relu(ffn1_->forward(out1)));
    ffn = KerasDropout(ffn, rate_, is_training(), generator);
    return norm2_->forward(out1 + ffn);
  }

 private:
  double rate_;
  MultiHeadAttention attention_{nullptr};
  torch::nn::Linear ffn1_{nullptr}, ffn2_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
};

// keras.io TokenAndPositionEmbedding: token and position embeddings added; positions come
// from the input length (the table has maxlen rows).
class TokenPositionEmbeddingLayer : public BlockLayerImpl {
 public:
  TokenPositionEmbeddingLayer(int64_t maxlen, int64_t vocabulary, int64_t width)
      : token_(register_module("token_emb", KerasEmbedding(vocabulary, width))),
        position_(register_module("pos_emb", KerasEmbedding(maxlen, width))) {}
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs, at::Generator&) override {
    const torch::Tensor ids = inputs[0].to(torch::kLong);
    return token_->forward(ids) + position_->forward(Positions(ids.size(-1), ids));
  }

 private:
  torch::nn::Embedding token_, position_;
};

class PatchesLayer : public BlockLayerImpl {
 public:
  explicit PatchesLayer(int64_t size) : size_(size) {}
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs, at::Generator&) override {
    return ExtractPatches(inputs[0], size_);
  }

 private:
  int64_t size_;
};

// keras.io PatchEncoder: Dense(projection_dim)(patch) + Embedding(num_patches)(positions).
class PatchEncoderLayer : public BlockLayerImpl {
 public:
  PatchEncoderLayer(int64_t patch_width, int64_t patches, int64_t width)
      : patches_(patches),
        projection_(register_module("projection", KerasDense(patch_width, width))),
        position_(register_module("position_embedding", KerasEmbedding(patches, width))) {}
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs, at::Generator&) override {
    return projection_->forward(inputs[0]) + position_->forward(Positions(patches_, inputs[0]));
  }

 private:
  int64_t patches_;
  torch::nn::Linear projection_;
  torch::nn::Embedding position_;
};

}  // namespace

torch::Tensor ExtractPatches(const torch::Tensor& images, int64_t size) {
  const int64_t batch = images.size(0), channels = images.size(1);
  const int64_t rows = images.size(2) / size, cols = images.size(3) / size;
  // VALID: the partial patches at the bottom and right edges are dropped.
  const auto cropped = images.slice(2, 0, rows * size).slice(3, 0, cols * size);
  // (B, C, r, p, c, p) -> (B, r, c, p_row, p_col, C)
  return cropped.reshape({batch, channels, rows, size, cols, size})
      .permute({0, 2, 4, 3, 5, 1})
      .reshape({batch, rows * cols, size * size * channels});
}

std::shared_ptr<BlockLayerImpl> MakeBlockLayer(const PlannedLayer& planned) {
  const LayerSpec& layer = planned.spec;
  const std::string& type = layer.type;
  const auto& in = planned.input_shape;
  if (type == "add") return std::make_shared<AddLayer>();
  if (type == "layernorm") {
    return std::make_shared<LayerNormLayer>(in.back(), LayerNumber(layer, "epsilon", 1e-3));
  }
  if (type == "multihead_attention") {
    const auto& shapes = planned.input_shapes;
    const auto& value = shapes.size() > 1 ? shapes[1] : shapes[0];
    const auto& key = shapes.size() > 2 ? shapes[2] : value;
    AttentionSizes sizes;
    sizes.heads = LayerInt(layer, "heads", 1);
    sizes.key_dim = LayerInt(layer, "key_dim", 1);
    sizes.value_dim = LayerInt(layer, "value_dim", sizes.key_dim);
    sizes.use_bias = LayerWord(layer, "use_bias", "true") == "true";
    sizes.query_steps = in[0];
    sizes.value_steps = value[0];
    sizes.d_query = in[1];
    sizes.d_value = value[1];
    sizes.d_key = key[1];
    return std::make_shared<AttentionLayer>(sizes, LayerNumber(layer, "dropout", 0));
  }
  if (type == "transformer_block") {
    return std::make_shared<TransformerBlockLayer>(
        in[0], in[1], LayerInt(layer, "heads", 1), LayerInt(layer, "ff_dim", 1),
        LayerNumber(layer, "rate", 0.1), LayerNumber(layer, "epsilon", 1e-6));
  }
  if (type == "token_position_embedding") {
    return std::make_shared<TokenPositionEmbeddingLayer>(LayerInt(layer, "maxlen", 1),
                                                         LayerInt(layer, "vocab_size", 1),
                                                         LayerInt(layer, "embed_dim", 1));
  }
  if (type == "patches") return std::make_shared<PatchesLayer>(LayerInt(layer, "size", 1));
  if (type == "patch_encoder") {
    return std::make_shared<PatchEncoderLayer>(in[1], LayerInt(layer, "num_patches", 1),
                                               LayerInt(layer, "projection_dim", 1));
  }
  return nullptr;
}

}  // namespace cloudbook
