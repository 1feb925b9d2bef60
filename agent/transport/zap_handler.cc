#include "agent/transport/zap_handler.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <array>
#include <utility>

#include "shared/formats/curve_keys.h"

namespace cloudbook {
namespace {

std::string FrameText(const zmq::message_t& frame) {
  return std::string(static_cast<const char*>(frame.data()), frame.size());
}

}  // namespace

ZapHandler::ZapHandler(PeerAuthorizer authorizer, std::shared_ptr<spdlog::logger> logger,
                       std::string owner_id)
    : authorizer_(std::move(authorizer)),
      logger_(std::move(logger)),
      owner_id_(std::move(owner_id)) {}

std::vector<zmq::message_t> ZapHandler::Reply(const std::string& request_id,
                                              const std::string& code, const std::string& text,
                                              const std::string& user_id) {
  std::vector<zmq::message_t> reply;
  reply.emplace_back(std::string("1.0"));
  reply.emplace_back(request_id);
  reply.emplace_back(code);
  reply.emplace_back(text);
  reply.emplace_back(user_id);
  reply.emplace_back();  // no metadata
  return reply;
}

std::vector<zmq::message_t> ZapHandler::Answer(const std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, identity, mechanism, credentials...
  const std::string request_id = request.size() > 1 ? FrameText(request[1]) : "";
  if (request.size() < 6 || FrameText(request[0]) != "1.0") {
    ++refused_;
    if (throttle_.Allow("malformed")) {
      logger_->warn("{}: malformed ZAP request ({} frames) refused", owner_id_, request.size());
    }
    return Reply(request_id, "500", "malformed ZAP request", "");
  }
  const std::string address = FrameText(request[3]);
  const std::string mechanism = FrameText(request[5]);
  if (mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
    ++refused_;
    if (throttle_.Allow("mechanism " + mechanism)) {
      logger_->warn("{}: refused a {} client from {}: only CURVE is accepted", owner_id_, mechanism,
                    address);
    }
    return Reply(request_id, "400", "only CURVE is accepted", "");
  }
  std::array<char, kCurveKeyZ85Length + 1> key_text{};
  if (zmq_z85_encode(key_text.data(), static_cast<const uint8_t*>(request[6].data()), 32) ==
      nullptr) {
    ++refused_;
    return Reply(request_id, "500", "cannot encode the client key", "");
  }
  const std::string key(key_text.data());
  std::string agent_id;
  bool accepted = false;
  try {
    accepted = authorizer_ && authorizer_(key, &agent_id);
  } catch (const std::exception& error) {
    logger_->error("{}: the peer authorizer threw: {}", owner_id_, error.what());
    accepted = false;
  }
  if (accepted && agent_id.empty()) {
    logger_->error("{}: the peer authorizer accepted key {}... without naming its agent", owner_id_,
                   CurveKeyPrefix(key));
    accepted = false;
  }
  if (!accepted) {
    ++refused_;
    size_t suppressed = 0;
    // One throttle for all keys: a flood of fresh keys must not flood the log.
    if (throttle_.Allow("refused", &suppressed)) {
      logger_->warn(
          "{}: refused a CURVE client from {} with key {}...: the key is not announced in "
          "the shared folder{}",
          owner_id_, address, CurveKeyPrefix(key),
          suppressed > 0 ? fmt::format(" ({} more refused keys not shown)", suppressed)
                         : std::string());
    }
    return Reply(request_id, "400", "key not announced", "");
  }
  ++accepted_;
  logger_->debug("{}: accepted {} (key {}...) from {}", owner_id_, agent_id, CurveKeyPrefix(key),
                 address);
  return Reply(request_id, "200", "OK", agent_id);
}

}  // namespace cloudbook
