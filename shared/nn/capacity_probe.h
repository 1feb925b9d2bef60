// What an agent can compute with what it lends: a short matrix-multiply probe gives a GFLOP/s
// figure for the announcement (the deployer balances expected finishing times with it), and
// whether this libtorch build can use a GPU at all. Torch-free header; libtorch inside.
#pragma once

#include <string>

namespace cloudbook {

struct MeasuredCapacity {
  int cores = 1;      // threads the probe ran on (the lent cores)
  double gflops = 0;  // float32 matmul throughput on those cores
  std::string gpu;    // "cuda:0 (N devices)" when the GPU is used, else ""
  double gpu_gflops = 0;
};

// True when this build of libtorch has CUDA and a GPU is visible.
bool CudaAvailable();

// Multiplies 512 x 512 float32 matrices for about `seconds` on `cores` libtorch threads (and,
// with use_gpu, on CUDA device 0 too), then restores the previous thread count.
MeasuredCapacity ProbeCapacity(int cores, bool use_gpu, double seconds = 0.3);

// Sets libtorch's intra-op thread count (the cores an agent lends to training).
void SetComputeThreads(int cores);

}  // namespace cloudbook
