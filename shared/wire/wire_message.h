// The wire protocol between agents (docs/wire-protocol.md): a multipart ZeroMQ message made of
// one MessagePack header frame and one raw frame per tensor. Tensor bytes never go through
// MessagePack and are never copied: a frame owns (or keeps alive) the sender's buffer, and a
// receiver reads the frame's buffer in place. Every header field is validated on decode,
// before anything is allocated or indexed with it. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>
#include <zmq.hpp>

#include "shared/status.h"
#include "shared/wire/wire_dtype.h"

namespace cloudbook {

inline constexpr uint32_t kWireProtocolVersion = 1;

// Limits a decoder enforces; a message beyond them is refused with an error.
struct WireLimits {
  size_t max_header_bytes = 64 * 1024;
  size_t max_tensors = 64;
  size_t max_rank = 8;
  uint64_t max_tensor_bytes = uint64_t{1} << 33;  // 8 GiB
  size_t max_arguments = 64;
  size_t max_string_bytes = 4096;  // names, function, argument strings, error text
};

enum class MessageKind : uint8_t {
  kInvoke = 1,    // run `function` of `du` with `arguments` and tensors; needs a deadline
  kResult = 2,    // the answer to request_id: arguments and tensors
  kError = 3,     // the answer to request_id: `error` says why
  kProgress = 4,  // intermediate news on request_id (epoch, loss, samples/s in arguments)
  kCancel = 5,    // stop request_id
  kPing = 6,      // heartbeat
  kPong = 7,      // heartbeat answer
};
const char* MessageKindName(MessageKind kind);

// A plain argument value: nil, bool, integer, real or text.
using WireValue = std::variant<std::monostate, bool, int64_t, double, std::string>;
using WireArguments = std::map<std::string, WireValue>;

// Typed reads of one argument, for code that receives arguments from another process: the
// fallback when the argument is absent or of another type (an integer reads as a number).
double NumberArgument(const WireArguments& arguments, const std::string& name, double fallback);
std::string StringArgument(const WireArguments& arguments, const std::string& name);  // or ""
bool BoolArgument(const WireArguments& arguments, const std::string& name, bool fallback);

struct TensorDescriptor {
  std::string name;
  WireDtype dtype = WireDtype::kFloat32;
  std::vector<int64_t> shape;
  uint64_t byte_count = 0;  // = product(shape) * element size; checked against the frame
};

struct WireHeader {
  uint32_t protocol_version = kWireProtocolVersion;
  MessageKind kind = MessageKind::kPing;
  uint64_t request_id = 0;
  int32_t du = -1;       // deployable unit, -1 when not about a DU
  std::string function;  // invoke: a name from the agent's fixed registry
  // invoke: the caller's wall-clock deadline, for peers older than 'to'; 0 = none.
  int64_t deadline_unix_ms = 0;
  // invoke: milliseconds the caller waits, counted by the receiver from receipt on its own
  // steady clock (no two machines' clocks compared); 0 = none. An invoke needs it or 'dl'.
  int64_t timeout_ms = 0;
  WireArguments arguments;
  std::vector<TensorDescriptor> tensors;
  std::string error;  // kError only
};

// One tensor's bytes as a ZeroMQ frame. Build with FrameFromBuffer (zero-copy, keeps
// `owner` alive until ZeroMQ has sent the bytes) or take it from a received message.
struct TensorFrame {
  TensorDescriptor descriptor;
  zmq::message_t frame;
};

// Wraps `size` bytes at `data` without copying; `owner` is released when ZeroMQ is done
// (at once for size 0: an empty frame holds no bytes).
zmq::message_t FrameFromBuffer(const void* data, size_t size, std::shared_ptr<const void> owner);

struct WireMessage {
  WireHeader header;
  std::vector<zmq::message_t> tensor_frames;  // one per header.tensors entry, same order
};

// Encodes the header (MessagePack) into one frame. Descriptors must already be set. Encodes
// the fields as they are (no validation; see ValidateHeader), except that an error text longer
// than the default max_string_bytes is cut, so that a long error still reaches the caller.
zmq::message_t EncodeHeader(const WireHeader& header);
// The value rules DecodeHeader applies (version, kind, function, deadline, arguments, tensor
// shapes and byte counts against `limits`); a sender may call it before sending.
Status ValidateHeader(const WireHeader& header, const WireLimits& limits = {});
// Decodes and validates a header frame alone (no tensor frames checked).
Result<WireHeader> DecodeHeader(const void* data, size_t size, const WireLimits& limits = {});

// Validates a complete received message: the header, then the number of tensor frames and
// each frame's size against its descriptor. `frames[0]` is the header frame. On success the
// frames are moved out of `frames`; on error they are left there.
Result<WireMessage> DecodeMessage(std::vector<zmq::message_t>&& frames,
                                  const WireLimits& limits = {});
// Header frame followed by the tensor frames, ready for zmq::send_multipart.
std::vector<zmq::message_t> EncodeMessage(WireMessage&& message);

}  // namespace cloudbook
