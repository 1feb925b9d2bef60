// The pipe into the transport thread (the actor's inbox): any thread pushes commands, the
// transport thread polls wakeup_fd() alongside its sockets and takes them all at once.
// Thread-safe. Holds no socket: the wakeup is a Linux eventfd, so pushing never touches
// ZeroMQ state owned by the transport thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

class InvokeContext;
class PendingCall;

// One request to the transport thread. Which fields matter depends on `type`.
struct TransportCommand {
  enum class Type {
    kAddPeer,     // peer_id, endpoint, server_key; answers through `done`
    kRemovePeer,  // peer_id; answers through `done`
    kCall,        // call, message (the invoke)
    kForgetCall,  // call: the caller gave up (deadline); send_cancel asks the peer to stop
    kCancelCall,  // peer_id, request_id: Cancel()
    kReply,       // invoke, message: a handler's kResult or kError
    kProgress,    // peer_id (caller), request_id, message, in_flight: a handler's kProgress
    kStop,
  };
  Type type = Type::kStop;
  std::string peer_id;
  std::string endpoint;
  std::string server_key;
  uint64_t request_id = 0;
  bool send_cancel = false;
  WireMessage message;
  std::shared_ptr<PendingCall> call;
  std::shared_ptr<InvokeContext> invoke;
  std::shared_ptr<std::promise<Status>> done;
  std::shared_ptr<std::atomic<int>> in_flight;  // kProgress: the invoke's progress budget
};

class CommandQueue {
 public:
  static Result<std::shared_ptr<CommandQueue>> Create();
  ~CommandQueue();
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  // Queues a command and wakes the transport thread; false (command dropped) once closed.
  bool Push(TransportCommand command);
  // Transport thread: every queued command, oldest first; clears the wakeup.
  std::deque<TransportCommand> TakeAll();
  // Refuses later pushes (the transport thread is ending) and returns what was still queued,
  // so the caller can fail it.
  std::deque<TransportCommand> Close();
  // Readable while commands are queued.
  int wakeup_fd() const { return wakeup_fd_; }
  // No command queued (a check without a system call).
  bool empty();

 private:
  explicit CommandQueue(int wakeup_fd) : wakeup_fd_(wakeup_fd) {}
  const int wakeup_fd_;
  std::mutex mutex_;
  std::deque<TransportCommand> commands_;  // guarded by mutex_
  bool closed_ = false;                    // guarded by mutex_
};

}  // namespace cloudbook
