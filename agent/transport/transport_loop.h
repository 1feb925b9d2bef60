// The body of the transport actor: owns the ZeroMQ context and the parts that own the sockets
// (IncomingInvokes: the ROUTER peers call in on and the ZAP handler; PeerLinks: one DEALER per
// peer; OutgoingCalls over the CallTable: this agent's calls), and runs poll, ticks, commands
// and shutdown. Other threads talk to it only through the CommandQueue; handlers run on the
// InvokeWorkerPool. Thread-safety: Create() on any thread, then Run() on exactly one thread;
// endpoint() is immutable after Create().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "agent/transport/call_table.h"
#include "agent/transport/command_queue.h"
#include "agent/transport/incoming_invokes.h"
#include "agent/transport/outgoing_calls.h"
#include "agent/transport/peer_links.h"
#include "agent/transport/peer_liveness.h"
#include "agent/transport/peer_transport_options.h"
#include "agent/transport/socket_io.h"

namespace cloudbook {

class TransportLoop {
 public:
  // Validates the options, creates the sockets and binds (ZAP handler first, then the ROUTER).
  static Result<std::unique_ptr<TransportLoop>> Create(PeerTransportOptions options,
                                                       InvokeHandler handler,
                                                       std::shared_ptr<CommandQueue> commands,
                                                       std::shared_ptr<PeerLiveness> liveness);
  ~TransportLoop();
  TransportLoop(const TransportLoop&) = delete;
  TransportLoop& operator=(const TransportLoop&) = delete;

  // The ROUTER's bound endpoint (ZMQ_LAST_ENDPOINT), e.g. "tcp://127.0.0.1:41234".
  const std::string& endpoint() const { return incoming_.endpoint(); }

  // Serves until a kStop command; then cancels invokes, fails waiting calls, gives handlers
  // options.stop_grace to return, and closes every socket (bounded by options.linger).
  void Run();

 private:
  using Clock = std::chrono::steady_clock;

  TransportLoop(PeerTransportOptions options, InvokeHandler handler,
                std::shared_ptr<CommandQueue> commands, std::shared_ptr<PeerLiveness> liveness);
  void PollOnce();
  void Tick(Clock::time_point now);
  void HandleCommands();
  void HandleCommand(TransportCommand& command);
  void Shutdown();

  const PeerTransportOptions options_;
  SocketIo io_;
  std::shared_ptr<CommandQueue> commands_;
  std::shared_ptr<PeerLiveness> liveness_;
  zmq::context_t context_;  // before the parts: their sockets close first
  CallTable calls_;
  PeerLinks peers_;
  OutgoingCalls outgoing_;
  IncomingInvokes incoming_;
  Clock::duration tick_interval_;
  Clock::time_point next_tick_;
  bool stopping_ = false;
  bool shut_down_ = false;
};

}  // namespace cloudbook
