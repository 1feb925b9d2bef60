// Keras MultiHeadAttention in libtorch (docs/design/keras-semantics.md §2.2): per-head key_dim
// and value_dim independent of the model width (torch::nn::MultiheadAttention ties head_dim
// to embed_dim / heads and cannot express key_dim = embed_dim), weights initialised as Keras'
// EinsumDense kernels (glorot with per-head fans), zero biases, no mask. Also the inverted
// dropout every layer here uses. Modules are not thread-safe (one training per network).
#pragma once

#include <torch/torch.h>

#include "shared/model_plan_blocks.h"

namespace cloudbook {

// Keras Dropout: in training, zeroes each value with probability `rate` (drawn from
// `generator`) and scales the rest by 1 / (1 - rate); otherwise the identity.
torch::Tensor KerasDropout(const torch::Tensor& x, double rate, bool training,
                           at::Generator& generator);

// Fills a Linear's weight with U(-limit, limit) and zeroes its bias (Keras kernels start
// glorot-uniform with fans of their own shape, biases at zero).
void InitKerasLinear(torch::nn::Linear& linear, double limit);
// The glorot_uniform limit of a Dense kernel (fan_in, fan_out).
double GlorotLimit(int64_t fan_in, int64_t fan_out);

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  // `dropout`: on the attention probabilities, in training only (Keras' `dropout`).
  MultiHeadAttentionImpl(const AttentionSizes& sizes, double dropout);
  // query (B, T, d_query), value (B, S, d_value), key (B, S, d_key) -> (B, T, d_query).
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& value,
                        const torch::Tensor& key, at::Generator& generator);

  // The four projections (Linear weights are the Keras kernels (D, N, H) flattened head-major
  // and transposed), for tests that compare with an independent computation.
  torch::nn::Linear query_dense{nullptr}, key_dense{nullptr}, value_dense{nullptr},
      output_dense{nullptr};

 private:
  int64_t heads_, key_dim_, value_dim_;
  double dropout_;
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace cloudbook
