// Keras' default initialisers for the modules a network registers, replacing libtorch's
// (docs/design/keras-semantics.md 1.1; keras/src/initializers/random_initializers.py,
// keras/src/layers/core/dense.py, embedding.py, rnn/lstm.py, rnn/gru.py):
//   Linear, Conv1d, Conv2d  kernel glorot_uniform U(+-sqrt(6 / (fan_in + fan_out))), bias 0
//   Embedding               uniform U(-0.05, 0.05)
//   GRU, LSTM               input kernels glorot_uniform, recurrent kernels orthogonal,
//                           biases 0; LSTM forget gate bias 1 (unit_forget_bias)
//   BatchNorm               as libtorch (gamma 1, beta 0), which is Keras' default
// Only direct children of the given module are touched, in registration order; a custom module
// (not one of the types above) keeps its own initialisation. Draws come from a generator seeded
// with `seed` only: the same seed gives the same weights on every machine. Not thread-safe for
// the same module; separate modules may be initialised in parallel.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace cloudbook {

void InitializeKerasWeights(torch::nn::Module& network, uint64_t seed);

// The pieces, for tests and for modules that initialise themselves:
// U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)); fans as Keras' compute_fans on
// the Keras kernel, which equal torch's on the transposed weight ([out, in, k...]).
void GlorotUniform(torch::Tensor& weight, at::Generator& generator);
// A matrix with orthonormal columns (rows when it is wide), the Keras Orthogonal (gain 1):
// QR of a standard normal matrix, signs fixed by the diagonal of R.
void Orthogonal(torch::Tensor& weight, at::Generator& generator);

}  // namespace cloudbook
