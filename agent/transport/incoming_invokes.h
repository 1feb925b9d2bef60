// The callee side of the transport: the ROUTER peers call in on (with the ZAP handler that
// authorises their CURVE keys and the monitor that logs connections dropped before use), the
// invokes being run on the worker pool, their progress and replies (ReplyOutbox), pongs, and
// the callers' liveness. Not thread-safe: the transport thread. Errors: Open returns a Status;
// a bad request is answered with a kError, never thrown.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/command_queue.h"
#include "agent/transport/invoke_worker_pool.h"
#include "agent/transport/peer_transport_options.h"
#include "agent/transport/reply_outbox.h"
#include "agent/transport/router_monitor.h"
#include "agent/transport/socket_io.h"
#include "agent/transport/zap_handler.h"

namespace cloudbook {

class InvokeContext;

class IncomingInvokes {
 public:
  using Clock = std::chrono::steady_clock;

  IncomingInvokes(const PeerTransportOptions& options, zmq::context_t& context, SocketIo& io,
                  InvokeHandler handler, std::shared_ptr<CommandQueue> commands);
  IncomingInvokes(const IncomingInvokes&) = delete;
  IncomingInvokes& operator=(const IncomingInvokes&) = delete;

  // Binds the ZAP handler first (with CURVE), then the ROUTER. IoError when it cannot listen.
  Status Open();
  // The ROUTER's bound endpoint (ZMQ_LAST_ENDPOINT), e.g. "tcp://127.0.0.1:41234".
  const std::string& endpoint() const { return endpoint_; }

  // The sockets to poll for ZMQ_POLLIN (zap() is null in plaintext) and what reads them.
  zmq::socket_t& router() { return router_; }
  zmq::socket_t& router_monitor() { return router_monitor_->socket(); }
  zmq::socket_t* zap() { return zap_ ? &zap_ : nullptr; }
  void DrainRouter();
  void DrainRouterMonitor();
  void DrainZap();

  // kReply: forgets the invoke and queues its reply (kResult or kError) to its caller.
  void SendReply(const std::shared_ptr<InvokeContext>& invoke, WireMessage reply);
  // kProgress: sent now or dropped (progress never waits).
  void SendProgress(TransportCommand& command);
  // Replies the ROUTER could not take yet: retried soon, by FlushReplies.
  bool has_waiting_replies() const { return !replies_.empty(); }
  void FlushReplies(Clock::time_point now);
  // Cancels invokes past their deadline or whose caller went silent; forgets quiet callers.
  void Tick(Clock::time_point now);

  // Stop, in three steps: cancel running invokes and answer their callers with an error
  // (best effort, never blocking); give handlers options.stop_grace; close the sockets.
  void SayGoodbye();
  void StopWorkers();
  void Close();

 private:
  using InvokeKey = std::pair<std::string, uint64_t>;  // caller, request id

  void HandleRouterMessage(std::vector<zmq::message_t>&& frames);
  void HandleInvoke(const std::string& caller, WireMessage&& invoke);
  void SendPong(const std::string& caller, uint64_t request_id);
  void ReplyError(const std::string& caller, const WireHeader& request, const std::string& text);
  void QueueToCaller(const std::string& caller, WireMessage&& message);

  const PeerTransportOptions& options_;
  zmq::context_t& context_;
  SocketIo& io_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<const InvokeHandler> handler_;
  std::shared_ptr<CommandQueue> commands_;
  zmq::socket_t zap_;  // only with CURVE
  zmq::socket_t router_;
  std::unique_ptr<RouterMonitor> router_monitor_;  // logs connections dropped before use
  std::string endpoint_;
  std::unique_ptr<ZapHandler> zap_handler_;
  std::map<InvokeKey, std::shared_ptr<InvokeContext>> invokes_;
  std::map<std::string, Clock::time_point> caller_last_seen_;
  ReplyOutbox replies_;
  InvokeWorkerPool pool_;
};

}  // namespace cloudbook
