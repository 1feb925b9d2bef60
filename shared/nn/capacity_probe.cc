#include "shared/nn/capacity_probe.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

namespace cloudbook {

namespace {

constexpr int64_t kSize = 512;
constexpr double kFlopsPerMatmul = 2.0 * kSize * kSize * kSize;

// Matmuls per second on `device` over about `seconds`, after one warm-up product.
double MeasureGflops(const torch::Device& device, double seconds) {
  torch::NoGradGuard no_grad;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const torch::Tensor a = torch::rand({kSize, kSize}, options);
  const torch::Tensor b = torch::rand({kSize, kSize}, options);
  torch::Tensor c = torch::mm(a, b);
  (void)c.sum().item<float>();  // warm-up; item() also waits for an asynchronous device
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t products = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int i = 0; i < 4; ++i) c = torch::mm(a, b);
    (void)c.sum().item<float>();
    products += 4;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return elapsed > 0 ? kFlopsPerMatmul * static_cast<double>(products) / elapsed / 1e9 : 0;
}

}  // namespace

bool CudaAvailable() { return torch::cuda::is_available(); }

MeasuredCapacity ProbeCapacity(int cores, bool use_gpu, double seconds) {
  MeasuredCapacity capacity;
  capacity.cores = std::max(1, cores);
  const int previous = torch::get_num_threads();
  torch::set_num_threads(capacity.cores);
  capacity.gflops = MeasureGflops(torch::Device(torch::kCPU), seconds);
  torch::set_num_threads(previous);
  if (use_gpu && CudaAvailable()) {
    capacity.gpu = "cuda:0 (" + std::to_string(torch::cuda::device_count()) + " devices)";
    capacity.gpu_gflops = MeasureGflops(torch::Device(torch::kCUDA, 0), seconds);
  }
  return capacity;
}

void SetComputeThreads(int cores) { torch::set_num_threads(std::max(1, cores)); }

}  // namespace cloudbook
