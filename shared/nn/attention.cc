#include "shared/nn/attention.h"

#include <cmath>

namespace cloudbook {

torch::Tensor KerasDropout(const torch::Tensor& x, double rate, bool training,
                           at::Generator& generator) {
  if (!training || rate <= 0) return x;
  const double keep = 1.0 - rate;
  return x * torch::bernoulli(torch::full_like(x, keep), generator) / keep;
}

double GlorotLimit(int64_t fan_in, int64_t fan_out) {
  return std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
}

void InitKerasLinear(torch::nn::Linear& linear, double limit) {
  torch::NoGradGuard no_grad;
  torch::nn::init::uniform_(linear->weight, -limit, limit);
  if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(const AttentionSizes& sizes, double dropout)
    : heads_(sizes.heads), key_dim_(sizes.key_dim), value_dim_(sizes.value_dim), dropout_(dropout) {
  const int64_t n = sizes.heads, h = sizes.key_dim, hv = sizes.value_dim;
  auto make = [&](const char* name, int64_t in, int64_t out) {
    return register_module(
        name, torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(sizes.use_bias)));
  };
  query_dense = make("query", sizes.d_query, n * h);
  key_dense = make("key", sizes.d_key, n * h);
  value_dense = make("value", sizes.d_value, n * hv);
  output_dense = make("output", n * hv, sizes.d_query);
  // Keras EinsumDense kernels (D, N, H) and (N, H_v, D_out): compute_fans takes the last two
  // axes times the rest, so the fans are D·N, D·H (query, key, value) and N·H_v, N·D_out
  // (keras/src/initializers/random_initializers.py, compute_fans).
  auto limit = [](int64_t receptive, int64_t a, int64_t b) {
    return std::sqrt(6.0 / static_cast<double>(receptive * (a + b)));
  };
  InitKerasLinear(query_dense, limit(sizes.d_query, n, h));
  InitKerasLinear(key_dense, limit(sizes.d_key, n, h));
  InitKerasLinear(value_dense, limit(sizes.d_value, n, hv));
  InitKerasLinear(output_dense, limit(n, hv, sizes.d_query));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query,
                                              const torch::Tensor& value, const torch::Tensor& key,
                                              at::Generator& generator) {
  // keras/src/layers/attention/multi_head_attention.py: project, scale the query by
  // 1/sqrt(key_dim), softmax over the value steps, dropout, weighted sum, output projection.
  const int64_t batch = query.size(0), steps = query.size(1), value_steps = value.size(1);
  auto q = query_dense->forward(query).view({batch, steps, heads_, key_dim_});
  auto k = key_dense->forward(key).view({batch, value_steps, heads_, key_dim_});
  auto v = value_dense->forward(value).view({batch, value_steps, heads_, value_dim_});
  q = q * (1.0 / std::sqrt(static_cast<double>(key_dim_)));
  // (B, N, T, H) x (B, N, H, S) -> (B, N, T, S)
  auto scores = torch::matmul(q.permute({0, 2, 1, 3}), k.permute({0, 2, 3, 1}));
  auto probabilities = torch::softmax(scores, -1);
  probabilities = KerasDropout(probabilities, dropout_, is_training(), generator);
  // (B, N, T, S) x (B, N, S, H_v) -> (B, N, T, H_v) -> (B, T, N·H_v), H_v fastest
  auto combined = torch::matmul(probabilities, v.permute({0, 2, 1, 3}))
                      .permute({0, 2, 1, 3})
                      .reshape({batch, steps, heads_ * value_dim_});
  return output_dense->forward(combined);
}

}  // namespace cloudbook
