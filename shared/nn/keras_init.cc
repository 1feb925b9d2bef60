#include "shared/nn/keras_init.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace cloudbook {

namespace {

// Keras 2.3+ GRU (reset_after=True) and torch's GRU both keep an input and a recurrent bias;
// Keras starts both at zero. Keras LSTM keeps one bias [i, f, c, o] with f = 1
// (unit_forget_bias); torch adds bias_ih and bias_hh, so bias_ih carries the 1s.
template <typename Rnn>
void InitializeRecurrent(Rnn& rnn, int64_t gates, at::Generator& generator, bool forget_bias) {
  for (auto& parameter : rnn.named_parameters(/*recurse=*/false)) {
    torch::Tensor& tensor = parameter.value();
    const std::string& key = parameter.key();
    if (key.rfind("weight_ih", 0) == 0) {
      GlorotUniform(tensor, generator);
    } else if (key.rfind("weight_hh", 0) == 0) {
      Orthogonal(tensor, generator);
    } else if (key.rfind("bias", 0) == 0) {
      tensor.zero_();
      if (forget_bias && key.rfind("bias_ih", 0) == 0) {
        const int64_t units = tensor.size(0) / gates;
        tensor.narrow(0, units, units).fill_(1.0);  // torch's gate order i, f, g, o
      }
    }
  }
}

void InitializeWeightAndBias(torch::nn::Module& module, at::Generator& generator) {
  for (auto& parameter : module.named_parameters(/*recurse=*/false)) {
    if (parameter.key() == "weight") GlorotUniform(parameter.value(), generator);
    if (parameter.key() == "bias") parameter.value().zero_();
  }
}

}  // namespace

void GlorotUniform(torch::Tensor& weight, at::Generator& generator) {
  // torch weight [out, in, k...]: fan_in = in * k..., fan_out = out * k... (Keras compute_fans
  // on [k..., in, out] gives the same).
  const int64_t receptive = weight.dim() > 2 ? weight[0][0].numel() : 1;
  const double fan_in = static_cast<double>(weight.size(1) * receptive);
  const double fan_out = static_cast<double>(weight.size(0) * receptive);
  const double limit = std::sqrt(6.0 / std::max(1.0, fan_in + fan_out));
  weight.uniform_(-limit, limit, generator);
}

void Orthogonal(torch::Tensor& weight, at::Generator& generator) {
  const int64_t rows = weight.size(0);
  const int64_t columns = weight.numel() / rows;
  // Keras Orthogonal: QR of the tall orientation, q * sign(diag(r)), transposed back if wide.
  const bool wide = rows < columns;
  torch::Tensor normal =
      torch::empty({std::max(rows, columns), std::min(rows, columns)}, weight.options());
  normal.normal_(0.0, 1.0, generator);
  auto [q, r] = torch::linalg_qr(normal);
  q = q * r.diagonal().sign();
  if (wide) q = q.t();
  weight.copy_(q.reshape(weight.sizes()));
}

void InitializeKerasWeights(torch::nn::Module& network, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::detail::createCPUGenerator(seed);
  for (auto& child : network.named_children()) {
    torch::nn::Module& module = *child.value();
    if (module.as<torch::nn::Linear>() || module.as<torch::nn::Conv1d>() ||
        module.as<torch::nn::Conv2d>()) {
      InitializeWeightAndBias(module, generator);
    } else if (auto* embedding = module.as<torch::nn::Embedding>()) {
      embedding->weight.uniform_(-0.05, 0.05, generator);  // Keras "uniform"
    } else if (auto* gru = module.as<torch::nn::GRU>()) {
      InitializeRecurrent(*gru, 3, generator, /*forget_bias=*/false);
    } else if (auto* lstm = module.as<torch::nn::LSTM>()) {
      InitializeRecurrent(*lstm, 4, generator, /*forget_bias=*/true);
    }
  }
}

}  // namespace cloudbook
