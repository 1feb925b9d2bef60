#include "deployer/lease_keeper.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <random>

#include "shared/clock.h"
#include "shared/shared_files.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

std::string RandomHex() {
  std::random_device device;
  std::uniform_int_distribution<uint32_t> word;
  char text[17];
  std::snprintf(text, sizeof(text), "%08x%08x", word(device), word(device));
  return text;
}

bool DeadOnThisHost(const DeployerLease& lease, const std::string& host) {
  return lease.host == host && lease.pid > 0 && ::kill(static_cast<pid_t>(lease.pid), 0) != 0 &&
         errno == ESRCH;
}

}  // namespace

std::string DescribeHolder(const DeployerLease& lease) {
  return "the deployer on " + lease.host + " (pid " + std::to_string(lease.pid) + ")";
}

LeaseKeeper::LeaseKeeper(std::string path, double limit_s, std::string host, int64_t pid,
                         LeaseTiming timing)
    : path_(std::move(path)), timing_(timing) {
  own_.host = std::move(host);
  own_.pid = pid;
  own_.holder = own_.host + ":" + std::to_string(pid) + ":" + RandomHex();
  own_.renew_interval_s = timing_.renew_every_s;
  own_.limit_s = std::max(limit_s, GetTunables().liveness_multiplier * timing_.renew_every_s);
}

Status LeaseKeeper::WriteOwn() {
  own_.time_ms = UnixTimeMs();
  return WriteDeployerLease(path_, own_);
}

LeaseKeeper::Outcome LeaseKeeper::TakeOver(const DeployerLease* previous,
                                           const std::function<bool(double)>& pause) {
  own_.sequence = (previous ? previous->sequence : 0) + 1;
  const Status written = WriteOwn();
  if (!written.ok()) {
    message_ = "cannot write " + path_ + ": " + written.message();
    return Outcome::kIoError;
  }
  // No compare-and-swap on any back end: a deployer racing for the lease renames its file
  // within the settle delay, and the last rename wins for both of us.
  const bool go_on = pause(timing_.settle_s);
  const Result<DeployerLease> back = ReadDeployerLease(path_);
  if (back.ok() && back->holder == own_.holder) {
    held_ = true;
    next_renew_ms_ = SteadyNowMs() + static_cast<int64_t>(timing_.renew_every_s * 1000);
    if (!go_on) {
      Release();
      return Outcome::kStopped;
    }
    return Outcome::kHeld;
  }
  if (!go_on) return Outcome::kStopped;
  message_ = back.ok() ? DescribeHolder(*back) + " took the project at the same moment"
                       : "the lease did not read back (" + back.status().message() + ")";
  return Outcome::kBusy;
}

LeaseKeeper::Outcome LeaseKeeper::Acquire(const std::function<bool(double)>& pause) {
  while (true) {
    const Result<DeployerLease> found = ReadDeployerLease(path_);
    if (!found.ok()) {
      if (found.status().code() != Status::Code::kNotFound) {
        spdlog::warn("{}: replacing it", found.status().message());
      }
      const Outcome outcome = TakeOver(nullptr, pause);
      if (outcome == Outcome::kBusy) continue;  // lost a race: watch the winner
      return outcome;
    }
    const DeployerLease holder = *found;
    if (DeadOnThisHost(holder, own_.host)) {
      spdlog::info("{} held the project and is gone: taking over", DescribeHolder(holder));
      const Outcome outcome = TakeOver(&holder, pause);
      if (outcome == Outcome::kBusy) continue;
      return outcome;
    }
    spdlog::info(
        "{} holds the project ({}): watching its lease for up to {:.1f} s, the limit after "
        "which another deployer may take over",
        DescribeHolder(holder), path_, holder.limit_s);
    const int64_t start = SteadyNowMs();
    bool reread = false;
    while (!reread) {
      if (!pause(timing_.watch_every_s)) return Outcome::kStopped;
      const Result<DeployerLease> now = ReadDeployerLease(path_);
      if (!now.ok()) {
        reread = true;  // released or broken: take it at the next turn
        break;
      }
      if (now->holder != holder.holder || now->sequence != holder.sequence) {
        message_ = DescribeHolder(*now) + " is running for this project (its lease " + path_ +
                   " is being renewed): stop it first (one deployer per project), or stop "
                   "this one; a deployer that stops renewing for " +
                   fmt::format("{:.0f}", now->limit_s) + " s is taken over";
        return Outcome::kBusy;
      }
      const double silent_s = (SteadyNowMs() - start) / 1000.0;
      if (silent_s >= holder.limit_s) {
        spdlog::warn("{} renewed nothing for {:.1f} s: taking the project over",
                     DescribeHolder(holder), silent_s);
        const Outcome outcome = TakeOver(&holder, pause);
        if (outcome == Outcome::kBusy) {
          reread = true;
          break;
        }
        return outcome;
      }
    }
  }
}

LeaseKeeper::Outcome LeaseKeeper::Renew(bool force) {
  if (!held_) {
    if (message_.empty()) message_ = "this deployer does not hold the project";
    return Outcome::kBusy;
  }
  const int64_t now_ms = SteadyNowMs();
  if (!force && now_ms < next_renew_ms_) return Outcome::kHeld;
  next_renew_ms_ = now_ms + static_cast<int64_t>(timing_.renew_every_s * 1000);
  const Result<DeployerLease> found = ReadDeployerLease(path_);
  if (found.ok() && found->holder != own_.holder) {
    held_ = false;
    message_ = DescribeHolder(*found) +
               " took the project over (this deployer was silent for "
               "longer than its limit of " +
               fmt::format("{:.0f}", own_.limit_s) + " s)";
    return Outcome::kBusy;
  }
  own_.sequence = std::max(own_.sequence, found.ok() ? found->sequence : 0) + 1;
  const Status written = WriteOwn();
  if (!written.ok()) {
    message_ = "cannot renew " + path_ + ": " + written.message();
    return Outcome::kIoError;
  }
  return Outcome::kHeld;
}

void LeaseKeeper::Release() {
  if (!held_) return;
  held_ = false;
  const Result<DeployerLease> found = ReadDeployerLease(path_);
  if (found.ok() && found->holder == own_.holder) (void)RemovePath(path_);
}

int64_t LeaseKeeper::MsUntilRenew() const {
  return std::max<int64_t>(0, next_renew_ms_ - SteadyNowMs());
}

}  // namespace cloudbook
