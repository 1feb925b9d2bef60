// The body of the transport actor: owns the ZeroMQ context and every socket (the ROUTER peers
// call in on, one DEALER per peer with its monitor, the ZAP handler's REP socket) and all the
// state behind them (calls waiting for answers, invokes being run, heartbeats). Other threads
// talk to it only through the CommandQueue; handlers run on its InvokeWorkerPool.
// Thread-safety: Create() on any thread, then Run() on exactly one thread; endpoint() and
// public_key() are immutable after Create().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/command_queue.h"
#include "agent/transport/invoke_worker_pool.h"
#include "agent/transport/log_throttle.h"
#include "agent/transport/peer_liveness.h"
#include "agent/transport/peer_transport_options.h"
#include "agent/transport/router_monitor.h"
#include "agent/transport/zap_handler.h"

namespace cloudbook {

class InvokeContext;
class PendingCall;

// Checks what a sender controls before anything goes on the wire, as the receiver will: the
// header against `limits` (by a decode of its encoding) and one frame per descriptor holding
// exactly its byte count. A message that fails would be refused by the peer.
Status CheckOutgoingMessage(const WireMessage& message, const WireLimits& limits);

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
  const std::string& endpoint() const { return endpoint_; }

  // Serves until a kStop command; then cancels invokes, fails waiting calls, gives handlers
  // options.stop_grace to return, and closes every socket (bounded by options.linger).
  void Run();

 private:
  using Clock = std::chrono::steady_clock;
  enum class SendOutcome { kSent, kWouldBlock, kUnreachable };

  // A message waiting for a peer's DEALER to accept it (not connected yet, or queue full).
  struct PeerOutgoing {
    uint64_t request_id = 0;
    MessageKind kind = MessageKind::kInvoke;
    std::vector<zmq::message_t> frames;
  };
  // A reply waiting for the ROUTER to accept it (caller's queue full or caller reconnecting).
  struct CallerOutgoing {
    std::string caller;
    uint64_t request_id = 0;
    std::vector<zmq::message_t> frames;  // routing id first
    Clock::time_point expiry;
  };
  // A call waiting for its answer; sent_at stays max() while the invoke is in the outbox.
  struct OpenCall {
    std::shared_ptr<PendingCall> call;
    Clock::time_point sent_at = Clock::time_point::max();
  };
  struct PeerLink {
    enum class State { kConnecting, kAlive, kLost, kRefused };
    std::string id;
    std::string endpoint;
    std::string server_key;
    zmq::socket_t dealer;
    zmq::socket_t monitor;
    std::deque<PeerOutgoing> outbox;
    State state = State::kConnecting;
    std::string refusal;  // why, while kRefused
    Clock::time_point added;
    Clock::time_point last_heard;
    Clock::time_point next_ping;
    Clock::time_point retry_at;  // kRefused: when to try a fresh handshake
    bool connected = false;      // between HANDSHAKE_SUCCEEDED and DISCONNECTED
    std::optional<Clock::time_point> disconnected_at;  // a disconnection not yet handled
  };
  using InvokeKey = std::pair<std::string, uint64_t>;  // caller, request id

  TransportLoop(PeerTransportOptions options, InvokeHandler handler,
                std::shared_ptr<CommandQueue> commands, std::shared_ptr<PeerLiveness> liveness);
  Status OpenSockets();
  // TCP keepalive from peer_timeout (instead of ZMTP heartbeats; see the .cc).
  void SetKeepalive(zmq::socket_t& socket) const;
  void PollOnce();
  void Tick(Clock::time_point now);
  void Shutdown();

  // Commands from other threads.
  void HandleCommands();
  void HandleCommand(TransportCommand& command);
  Status AddPeer(const std::string& peer_id, const std::string& endpoint,
                 const std::string& server_key);
  Status RemovePeer(const std::string& peer_id, const std::string& why);
  Status OpenDealer(PeerLink& peer);
  static void CloseDealer(PeerLink& peer);
  void StartCall(TransportCommand& command);
  void ForgetCall(const std::shared_ptr<PendingCall>& call, bool send_cancel);
  void CancelCall(const std::string& peer_id, uint64_t request_id);
  // Forgets the invoke and queues its reply (kResult or kError) to its caller.
  void SendReply(const std::shared_ptr<InvokeContext>& invoke, WireMessage reply);
  void SendProgress(TransportCommand& command);

  // The ROUTER side: requests from peers, replies to them.
  void DrainRouter();
  void HandleRouterMessage(std::vector<zmq::message_t>&& frames);
  void HandleInvoke(const std::string& caller, WireMessage&& invoke);
  void ReplyError(const std::string& caller, const WireHeader& request, const std::string& text);
  void QueueToCaller(const std::string& caller, WireMessage&& message);
  void FlushCallerOutbox(Clock::time_point now);

  // The DEALER side: answers and progress from peers, heartbeats.
  void DrainDealer(PeerLink& peer);
  void HandleDealerMessage(PeerLink& peer, std::vector<zmq::message_t>&& frames);
  void DrainMonitor(PeerLink& peer);
  void FlushPeerOutbox(PeerLink& peer);
  void QueueToPeer(PeerLink& peer, uint64_t request_id, MessageKind kind,
                   std::vector<zmq::message_t>&& frames);
  bool RemoveFromPeerOutbox(PeerLink& peer, uint64_t request_id);
  void SendPing(PeerLink& peer);
  void MarkHeard(PeerLink& peer);
  void PublishLiveness(const PeerLink& peer);
  void FailCallsSentBefore(const PeerLink& peer, Clock::time_point disconnected_at);
  void DeclareUnreachable(PeerLink& peer, PeerLink::State state, const std::string& why);
  std::string LostMessage(const PeerLink& peer, Clock::time_point now) const;
  void FailCallsTo(const std::string& peer_id, const Status& status);

  void DrainZap();
  SendOutcome TrySend(zmq::socket_t& socket, std::vector<zmq::message_t>& frames);
  // Logs a warning unless too many with the same key were logged lately.
  template <typename... Args>
  void WarnThrottled(const std::string& key, const char* format, Args&&... args);

  PeerTransportOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<const InvokeHandler> handler_;
  std::shared_ptr<CommandQueue> commands_;
  std::shared_ptr<PeerLiveness> liveness_;
  zmq::context_t context_;
  zmq::socket_t zap_;  // only with CURVE
  zmq::socket_t router_;
  std::unique_ptr<RouterMonitor> router_monitor_;  // logs connections dropped before use
  std::string endpoint_;
  std::unique_ptr<ZapHandler> zap_handler_;
  std::map<std::string, std::unique_ptr<PeerLink>> peers_;
  std::unordered_map<uint64_t, OpenCall> calls_;
  std::map<InvokeKey, std::shared_ptr<InvokeContext>> invokes_;
  std::map<std::string, Clock::time_point> caller_last_seen_;
  std::deque<CallerOutgoing> caller_outbox_;
  // Sockets (by handle) used since they were last drained: PollOnce reads their ZMQ_EVENTS
  // before it blocks, since ZMQ_FD alone would not show what is already waiting.
  std::unordered_set<void*> dirty_;
  InvokeWorkerPool pool_;
  LogThrottle throttle_;
  Clock::duration tick_interval_;
  Clock::time_point next_tick_;
  uint64_t monitor_count_ = 0;
  bool stopping_ = false;
  bool shut_down_ = false;
};

}  // namespace cloudbook
