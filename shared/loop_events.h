// What wakes the agent's main loop besides its timers: signals (SIGTERM, SIGINT, SIGHUP)
// turned into bytes on a self-pipe, and a wake-up eventfd other threads use to ask for an early
// announcement. The loop polls both descriptors with a timeout up to its next timer: no busy
// waiting.
#pragma once

#include <vector>

#include "shared/status.h"

namespace cloudbook {

// Installs handlers for SIGTERM, SIGINT and SIGHUP that write the signal number to a pipe.
// Handlers (not a blocked mask and a signalfd) because libraries start threads before main
// (OpenBLAS does), and a process-directed signal may be delivered to any thread: a handler
// runs wherever it lands, so no signal can take its default action (SIGHUP would kill the
// process). One instance at a time; the destructor restores the previous handlers.
class SignalEvents {
 public:
  static Result<SignalEvents> Create();
  ~SignalEvents();
  SignalEvents(SignalEvents&& other) noexcept;
  SignalEvents& operator=(SignalEvents&&) = delete;
  SignalEvents(const SignalEvents&) = delete;
  SignalEvents& operator=(const SignalEvents&) = delete;

  // Readable when a signal arrived.
  int fd() const { return read_fd_; }
  // Signals received since the last call (without waiting).
  std::vector<int> TakePending();

 private:
  SignalEvents(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}
  int read_fd_ = -1;
  int write_fd_ = -1;
};

// An eventfd: Notify() from any thread (async-signal-safe), Drain() in the loop.
class WakeupEvent {
 public:
  static Result<WakeupEvent> Create();
  ~WakeupEvent();
  WakeupEvent(WakeupEvent&& other) noexcept;
  WakeupEvent& operator=(WakeupEvent&&) = delete;
  WakeupEvent(const WakeupEvent&) = delete;
  WakeupEvent& operator=(const WakeupEvent&) = delete;

  int fd() const { return fd_; }
  void Notify() const;
  // True when Notify was called since the last Drain.
  bool Drain() const;

 private:
  explicit WakeupEvent(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cloudbook
