#include "shared/formats/grant.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "shared/text.h"

namespace cloudbook {

std::string GrantName(Grant grant) {
  switch (grant) {
    case Grant::kLow:
      return "LOW";
    case Grant::kMedium:
      return "MEDIUM";
    case Grant::kHigh:
      return "HIGH";
  }
  return "LOW";
}

Result<Grant> ParseGrant(const std::string& text) {
  const std::string upper = Upper(text);
  if (upper == "HIGH") return Grant::kHigh;
  if (upper == "MEDIUM") return Grant::kMedium;
  if (upper == "LOW") return Grant::kLow;
  return Status::InvalidArgument("grant '" + text + "' is not one of HIGH, MEDIUM, LOW");
}

std::string DeviceChoiceName(DeviceChoice device) {
  switch (device) {
    case DeviceChoice::kAuto:
      return "auto";
    case DeviceChoice::kCpu:
      return "cpu";
    case DeviceChoice::kCuda:
      return "cuda";
  }
  return "auto";
}

Result<DeviceChoice> ParseDeviceChoice(const std::string& text) {
  if (text == "auto") return DeviceChoice::kAuto;
  if (text == "cpu") return DeviceChoice::kCpu;
  if (text == "cuda") return DeviceChoice::kCuda;
  return Status::InvalidArgument("device '" + text + "' is not one of cpu, cuda, auto");
}

int MachineCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int LentCores(Grant grant, int machine_cores) {
  machine_cores = std::max(1, machine_cores);
  switch (grant) {
    case Grant::kLow:
      return 1;
    case Grant::kMedium:
      return std::max(1, machine_cores / 2);
    case Grant::kHigh:
      return machine_cores;
  }
  return 1;
}

Result<GrantLimits> ComputeGrantLimits(Grant grant, DeviceChoice device, int machine_cores,
                                       bool cuda_available) {
  GrantLimits limits;
  limits.cores = LentCores(grant, machine_cores);
  if (device == DeviceChoice::kCuda) {
    if (!cuda_available) {
      return Status::InvalidArgument(
          "device cuda was asked for, but this build of libtorch has no CUDA or no GPU is "
          "visible: use --device cpu (or auto), or build against a CUDA libtorch "
          "(docs/build.md)");
    }
    if (grant != Grant::kHigh) {
      return Status::InvalidArgument(
          "device cuda needs grant HIGH (the GPU is lent only with "
          "HIGH, this agent has " +
          GrantName(grant) + "): use --grant HIGH, or --device cpu (or auto)");
    }
  }
  limits.use_gpu = device != DeviceChoice::kCpu && grant == Grant::kHigh && cuda_available;
  limits.device = limits.use_gpu ? "cuda" : "cpu";
  return limits;
}

}  // namespace cloudbook
