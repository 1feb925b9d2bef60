// Grant levels and devices: what a user lends to a project, and what the agent may use
// because of it. LOW lends one core, MEDIUM half the cores (at least one), HIGH every core and
// the GPU when the build has CUDA. The same figures weigh the assignment (deployer).
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

enum class Grant { kLow, kMedium, kHigh };

// "HIGH", "MEDIUM", "LOW" (case-insensitive on input).
std::string GrantName(Grant grant);
Result<Grant> ParseGrant(const std::string& text);

// What the user asked for: `auto` means the GPU when the grant and the build allow it.
enum class DeviceChoice { kAuto, kCpu, kCuda };
std::string DeviceChoiceName(DeviceChoice device);
Result<DeviceChoice> ParseDeviceChoice(const std::string& text);

// What the agent actually uses under a grant.
struct GrantLimits {
  int cores = 1;         // libtorch threads (and capacity figure) lent to the project
  bool use_gpu = false;  // train on CUDA device 0
  std::string device;    // "cpu" or "cuda"
};

// Cores this process may run on (sched_getaffinity, so taskset and cpusets count), >= 1.
int MachineCores();

// Cores lent for a grant: LOW 1, MEDIUM max(1, cores / 2), HIGH all.
int LentCores(Grant grant, int machine_cores);

// Resolves the device: `cuda` needs grant HIGH and a CUDA build with a visible GPU (an error
// says which is missing and what to do); `auto` gives cuda only when both hold, else cpu.
Result<GrantLimits> ComputeGrantLimits(Grant grant, DeviceChoice device, int machine_cores,
                                       bool cuda_available);

}  // namespace cloudbook
