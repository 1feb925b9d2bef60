// What an InvokeHandler sees of one incoming invoke: the request (header and tensor frames,
// which it may move out), the authenticated caller, the deadline, a cancellation flag and a
// way to send progress. Made by the transport; tests of handlers may make one directly.
// Thread-safety: cancelled(), Cancel() and SendProgress() may be called from any thread; the
// request itself belongs to the handler's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "shared/wire/wire_message.h"

namespace cloudbook {

class InvokeContext {
 public:
  // Delivers one kProgress with these arguments; false when it was dropped (queue full or
  // the call is gone). Must not block.
  using ProgressSink = std::function<bool(WireArguments arguments)>;

  InvokeContext(std::string caller_id, WireMessage request,
                std::chrono::steady_clock::time_point deadline, ProgressSink progress_sink);
  InvokeContext(const InvokeContext&) = delete;
  InvokeContext& operator=(const InvokeContext&) = delete;

  // The agent that sent the invoke: its CURVE-authenticated id (its routing id in plaintext).
  const std::string& caller_id() const { return caller_id_; }
  // Copies of the request's identity, safe to read from any thread.
  uint64_t request_id() const { return request_id_; }
  int32_t du() const { return du_; }
  const std::string& function() const { return function_; }
  // The whole request; tensor frames are the received buffers and may be moved out. For the
  // handler's thread only.
  WireMessage& request() { return request_; }
  const WireMessage& request() const { return request_; }

  // When the caller gives up, on this machine's steady clock (its timeout from receipt).
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  bool deadline_passed() const { return std::chrono::steady_clock::now() >= deadline_; }

  // True once the caller sent kCancel, the caller was lost, the deadline passed or the
  // transport is stopping. Long handlers check it between steps and return early.
  bool cancelled() const;
  // The flag behind cancelled(), for code that polls an atomic (libtorch training loops).
  // Read it only; it lives as long as this context.
  std::atomic<bool>* cancel_flag() { return &cancelled_; }
  // Why cancelled() is true ("" while it is not).
  std::string cancel_reason() const;
  // Sets the flag (first reason wins). Called by the transport.
  void Cancel(const std::string& reason);

  // Sends progress (e.g. epoch, loss, samples_per_second) to the caller; non-blocking,
  // returns false when dropped.
  bool SendProgress(WireArguments arguments);

 private:
  const std::string caller_id_;
  const uint64_t request_id_;
  const int32_t du_;
  const std::string function_;
  WireMessage request_;
  const std::chrono::steady_clock::time_point deadline_;
  const ProgressSink progress_sink_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mutex_;
  std::string cancel_reason_;  // guarded by mutex_
};

}  // namespace cloudbook
