#include "agent/transport/command_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cloudbook {

Result<std::shared_ptr<CommandQueue>> CommandQueue::Create() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::Internal(std::string("eventfd failed: ") + std::strerror(errno));
  return std::shared_ptr<CommandQueue>(new CommandQueue(fd));
}

CommandQueue::~CommandQueue() { close(wakeup_fd_); }

bool CommandQueue::Push(TransportCommand command) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    was_empty = commands_.empty();
    commands_.push_back(std::move(command));
  }
  if (was_empty) {
    // Outside the lock, so the woken transport thread does not wait for it in TakeAll. If
    // TakeAll ran in between, this wakeup finds an empty queue: harmless.
    const uint64_t one = 1;
    // Cannot fail short of a counter overflow; a failed write only delays the wakeup.
    [[maybe_unused]] const ssize_t written = write(wakeup_fd_, &one, sizeof(one));
  }
  return true;
}

std::deque<TransportCommand> CommandQueue::TakeAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t got = read(wakeup_fd_, &count, sizeof(count));
  std::deque<TransportCommand> taken;
  taken.swap(commands_);
  return taken;
}

bool CommandQueue::empty() {
  std::lock_guard<std::mutex> lock(mutex_);
  return commands_.empty();
}

std::deque<TransportCommand> CommandQueue::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  std::deque<TransportCommand> left;
  left.swap(commands_);
  return left;
}

}  // namespace cloudbook
