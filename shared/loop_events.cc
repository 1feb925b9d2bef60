#include "shared/loop_events.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>

namespace cloudbook {

namespace {

constexpr int kHandledSignals[] = {SIGTERM, SIGINT, SIGHUP};
// The pipe the handlers write to (one SignalEvents at a time), and the handlers replaced.
std::atomic<int> signal_pipe_write{-1};
struct sigaction previous_actions[3];

void OnSignal(int signal) {
  const int saved_errno = errno;
  const int fd = signal_pipe_write.load();
  if (fd >= 0) {
    const unsigned char byte = static_cast<unsigned char>(signal);
    // A full pipe (hundreds of unread signals) drops this one: the loop has plenty to read.
    [[maybe_unused]] const ssize_t ignored = ::write(fd, &byte, 1);
  }
  errno = saved_errno;
}

}  // namespace

Result<SignalEvents> SignalEvents::Create() {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return Status::Internal(std::string("pipe2: ") + std::strerror(errno));
  }
  int expected = -1;
  if (!signal_pipe_write.compare_exchange_strong(expected, fds[1])) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::Internal("signal handlers are already installed");
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (size_t i = 0; i < std::size(kHandledSignals); ++i) {
    ::sigaction(kHandledSignals[i], &action, &previous_actions[i]);
  }
  // Undo a mask inherited from the parent (a shell's background job may block nothing, but a
  // supervisor might block these).
  sigset_t signals;
  sigemptyset(&signals);
  for (const int signal : kHandledSignals) sigaddset(&signals, signal);
  ::pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  return SignalEvents(fds[0], fds[1]);
}

SignalEvents::~SignalEvents() {
  if (write_fd_ < 0) return;
  for (size_t i = 0; i < std::size(kHandledSignals); ++i) {
    ::sigaction(kHandledSignals[i], &previous_actions[i], nullptr);
  }
  signal_pipe_write.store(-1);
  ::close(read_fd_);
  ::close(write_fd_);
}

SignalEvents::SignalEvents(SignalEvents&& other) noexcept
    : read_fd_(other.read_fd_), write_fd_(other.write_fd_) {
  other.read_fd_ = -1;
  other.write_fd_ = -1;
}

std::vector<int> SignalEvents::TakePending() {
  std::vector<int> received;
  unsigned char bytes[64];
  while (true) {
    const ssize_t n = ::read(read_fd_, bytes, sizeof bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing more
    for (ssize_t i = 0; i < n; ++i) received.push_back(bytes[i]);
  }
  return received;
}

Result<WakeupEvent> WakeupEvent::Create() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::Internal(std::string("eventfd: ") + std::strerror(errno));
  return WakeupEvent(fd);
}

WakeupEvent::~WakeupEvent() {
  if (fd_ >= 0) ::close(fd_);
}

WakeupEvent::WakeupEvent(WakeupEvent&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

void WakeupEvent::Notify() const {
  const uint64_t one = 1;
  // EAGAIN only when the counter is saturated: a wake-up is pending anyway.
  [[maybe_unused]] const ssize_t ignored = ::write(fd_, &one, sizeof one);
}

bool WakeupEvent::Drain() const {
  uint64_t count = 0;
  return ::read(fd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count) && count > 0;
}

}  // namespace cloudbook
