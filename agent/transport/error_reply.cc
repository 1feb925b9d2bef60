#include "agent/transport/error_reply.h"

#include <spdlog/fmt/fmt.h>

#include <utility>
#include <variant>

namespace cloudbook {
namespace {

// Argument of a kError naming the sender's Status code.
constexpr const char* kStatusCodeArgument = "status_code";

const char* StatusCodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "ok";
    case Status::Code::kInvalidArgument:
      return "invalid_argument";
    case Status::Code::kNotFound:
      return "not_found";
    case Status::Code::kIoError:
      return "io_error";
    case Status::Code::kCorruption:
      return "corruption";
    case Status::Code::kInternal:
      return "internal";
  }
  return "internal";
}

Status StatusFromCode(const std::string& code, std::string message) {
  if (code == "invalid_argument") return Status::InvalidArgument(std::move(message));
  if (code == "not_found") return Status::NotFound(std::move(message));
  if (code == "io_error") return Status::IoError(std::move(message));
  if (code == "corruption") return Status::Corruption(std::move(message));
  return Status::Internal(std::move(message));
}

std::string Truncate(std::string text, size_t max_bytes) {
  if (text.size() > max_bytes) text.resize(max_bytes);
  return text;
}

}  // namespace

WireMessage MakeError(uint64_t request_id, int32_t du, const std::string& function,
                      const Status& status, size_t max_text) {
  WireMessage reply;
  reply.header.kind = MessageKind::kError;
  reply.header.request_id = request_id;
  reply.header.du = du;
  reply.header.function = function;
  reply.header.error = Truncate(status.message().empty() ? "error" : status.message(), max_text);
  reply.header.arguments[kStatusCodeArgument] = std::string(StatusCodeName(status.code()));
  return reply;
}

Status StatusFromErrorReply(const std::string& peer_id, const WireHeader& header) {
  std::string code;
  const auto found = header.arguments.find(kStatusCodeArgument);
  if (found != header.arguments.end() && std::holds_alternative<std::string>(found->second)) {
    code = std::get<std::string>(found->second);
  }
  const std::string where =
      header.function.empty() ? peer_id : fmt::format("{} ({})", peer_id, header.function);
  return StatusFromCode(code, fmt::format("{}: {}", where, header.error));
}

}  // namespace cloudbook
