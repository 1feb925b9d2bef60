#include "shared/wire/wire_message.h"

#include <msgpack.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

namespace cloudbook {

namespace {

// Header keys: short, because every message carries them (docs/wire-protocol.md).
constexpr const char* kKeyVersion = "v";
constexpr const char* kKeyKind = "k";
constexpr const char* kKeyRequestId = "id";
constexpr const char* kKeyDu = "du";
constexpr const char* kKeyFunction = "fn";
constexpr const char* kKeyDeadline = "dl";
constexpr const char* kKeyTimeout = "to";
constexpr const char* kKeyArguments = "args";
constexpr const char* kKeyTensors = "t";
constexpr const char* kKeyError = "err";

enum Field {
  kVersion,
  kKind,
  kRequestId,
  kDu,
  kFunction,
  kDeadline,
  kTimeout,
  kArguments,
  kTensors,
  kError
};
constexpr const char* kFieldKeys[] = {kKeyVersion,  kKeyKind,     kKeyRequestId, kKeyDu,
                                      kKeyFunction, kKeyDeadline, kKeyTimeout,   kKeyArguments,
                                      kKeyTensors,  kKeyError};
constexpr size_t kFieldCount = sizeof(kFieldKeys) / sizeof(kFieldKeys[0]);

// A descriptor is [name, dtype code, [dims], byte_count]; later versions may append items.
constexpr size_t kDescriptorItems = 4;
// Our deepest path is header map > "t" array > descriptor array > dims array (depth 4 in
// msgpack's count); two spare levels leave room for new fields without inviting recursion.
constexpr size_t kMaxDepth = 6;
// Unknown keys are tolerated, but not without bound.
constexpr size_t kMaxHeaderKeys = 32;
// Long enough to keep a name recognisable in an error message, short enough for a log line.
constexpr size_t kMaxQuotedChars = 64;

Status HeaderError(const std::string& message) {
  return Status::InvalidArgument("wire header: " + message);
}

// Names in error messages come from the peer: escape them and cut them short.
std::string Quote(const char* data, size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string quoted = "'";
  for (size_t i = 0; i < size && i < kMaxQuotedChars; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      quoted += static_cast<char>(c);
    } else {
      quoted += "\\x";
      quoted += kHex[c >> 4];
      quoted += kHex[c & 0xf];
    }
  }
  if (size > kMaxQuotedChars) quoted += "...";
  return quoted + "'";
}
std::string Quote(const std::string& text) { return Quote(text.data(), text.size()); }

std::string TypeName(const msgpack::object& object) {
  switch (object.type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "a boolean";
    case msgpack::type::POSITIVE_INTEGER:
      return "a non-negative integer";
    case msgpack::type::NEGATIVE_INTEGER:
      return "a negative integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "a real number";
    case msgpack::type::STR:
      return "a string";
    case msgpack::type::BIN:
      return "binary data";
    case msgpack::type::ARRAY:
      return "an array";
    case msgpack::type::MAP:
      return "a map";
    case msgpack::type::EXT:
      return "an extension value";
  }
  return "an unknown MessagePack type";
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::string AsString(const msgpack::object& object) {
  return std::string(object.via.str.ptr, object.via.str.size);
}

Status ReadString(const msgpack::object& object, const std::string& what, std::string* out) {
  if (object.type != msgpack::type::STR) {
    return HeaderError(what + " must be a string, not " + TypeName(object));
  }
  *out = AsString(object);
  return Status::Ok();
}

Status ReadUint(const msgpack::object& object, const std::string& what, uint64_t* out) {
  if (object.type != msgpack::type::POSITIVE_INTEGER) {
    return HeaderError(what + " must be a non-negative integer, not " + TypeName(object));
  }
  *out = object.via.u64;
  return Status::Ok();
}

Status ReadInt(const msgpack::object& object, const std::string& what, int64_t* out) {
  if (object.type == msgpack::type::NEGATIVE_INTEGER) {
    *out = object.via.i64;
    return Status::Ok();
  }
  if (object.type == msgpack::type::POSITIVE_INTEGER) {
    if (object.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return HeaderError(what + " is " + std::to_string(object.via.u64) +
                         ", above the largest signed 64-bit integer");
    }
    *out = static_cast<int64_t>(object.via.u64);
    return Status::Ok();
  }
  return HeaderError(what + " must be an integer, not " + TypeName(object));
}

Status ReadArguments(const msgpack::object& object, WireArguments* arguments) {
  if (object.type != msgpack::type::MAP) {
    return HeaderError("'args' must be a map, not " + TypeName(object));
  }
  for (uint32_t i = 0; i < object.via.map.size; ++i) {
    const msgpack::object_kv& entry = object.via.map.ptr[i];
    if (entry.key.type != msgpack::type::STR) {
      return HeaderError("argument " + std::to_string(i) + ": name must be a string, not " +
                         TypeName(entry.key));
    }
    const std::string name = AsString(entry.key);
    const std::string what = "argument " + Quote(name);
    WireValue value;
    const msgpack::object& raw = entry.val;
    switch (raw.type) {
      case msgpack::type::NIL:
        break;
      case msgpack::type::BOOLEAN:
        value = raw.via.boolean;
        break;
      case msgpack::type::POSITIVE_INTEGER:
        // msgpack-c packs a whole double as an integer: one above int64 was a double.
        if (raw.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          value = static_cast<double>(raw.via.u64);
          break;
        }
        [[fallthrough]];
      case msgpack::type::NEGATIVE_INTEGER: {
        int64_t number = 0;
        CB_RETURN_IF_ERROR(ReadInt(raw, what, &number));
        value = number;
        break;
      }
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64:
        value = raw.via.f64;
        break;
      case msgpack::type::STR:
        value = AsString(raw);
        break;
      default:
        return HeaderError(what + " is " + TypeName(raw) +
                           "; an argument is nil, a boolean, an integer, a real or a string");
    }
    if (!arguments->emplace(name, std::move(value)).second) {
      return HeaderError(what + " appears twice");
    }
  }
  return Status::Ok();
}

Status ReadDescriptor(const msgpack::object& object, size_t index, TensorDescriptor* descriptor) {
  const std::string what = "tensor " + std::to_string(index);
  if (object.type != msgpack::type::ARRAY || object.via.array.size < kDescriptorItems) {
    return HeaderError(what + " must be an array [name, dtype, [dims], byte_count], not " +
                       (object.type == msgpack::type::ARRAY
                            ? "an array of " + std::to_string(object.via.array.size) + " items"
                            : TypeName(object)));
  }
  const msgpack::object* items = object.via.array.ptr;
  CB_RETURN_IF_ERROR(ReadString(items[0], what + " name", &descriptor->name));
  const std::string named = what + " " + Quote(descriptor->name);
  uint64_t code = 0;
  CB_RETURN_IF_ERROR(ReadUint(items[1], named + " dtype", &code));
  const std::optional<WireDtype> dtype = WireDtypeFromCode(code);
  if (!dtype) {
    return HeaderError(named + ": unknown dtype code " + std::to_string(code) +
                       " (known: 1 to 10, docs/wire-protocol.md)");
  }
  descriptor->dtype = *dtype;
  const msgpack::object& dims = items[2];
  if (dims.type != msgpack::type::ARRAY) {
    return HeaderError(named + " shape must be an array, not " + TypeName(dims));
  }
  descriptor->shape.reserve(dims.via.array.size);
  for (uint32_t d = 0; d < dims.via.array.size; ++d) {
    int64_t dim = 0;
    CB_RETURN_IF_ERROR(ReadInt(dims.via.array.ptr[d], named + " dim " + std::to_string(d), &dim));
    descriptor->shape.push_back(dim);
  }
  return ReadUint(items[3], named + " byte_count", &descriptor->byte_count);
}

Status ReadTensors(const msgpack::object& object, std::vector<TensorDescriptor>* tensors) {
  if (object.type != msgpack::type::ARRAY) {
    return HeaderError("'t' (tensors) must be an array, not " + TypeName(object));
  }
  tensors->resize(object.via.array.size);
  for (uint32_t i = 0; i < object.via.array.size; ++i) {
    CB_RETURN_IF_ERROR(ReadDescriptor(object.via.array.ptr[i], i, &(*tensors)[i]));
  }
  return Status::Ok();
}

// Types and presence; the rules on values are ValidateHeader's.
Result<WireHeader> ReadHeader(const msgpack::object& root, const WireLimits& limits) {
  if (root.type != msgpack::type::MAP) {
    return HeaderError("must be a MessagePack map, not " + TypeName(root));
  }
  const msgpack::object* fields[kFieldCount] = {};
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const msgpack::object& key = root.via.map.ptr[i].key;
    if (key.type != msgpack::type::STR) continue;  // Unknown key: a newer peer's field.
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (key.via.str.size != std::strlen(kFieldKeys[f]) ||
          std::memcmp(key.via.str.ptr, kFieldKeys[f], key.via.str.size) != 0) {
        continue;
      }
      if (fields[f] != nullptr) {
        return HeaderError("key '" + std::string(kFieldKeys[f]) + "' appears twice");
      }
      fields[f] = &root.via.map.ptr[i].val;
    }
  }

  // The version first: another version's fields may mean something else.
  WireHeader header;
  if (fields[kVersion] == nullptr) return HeaderError("no protocol version ('v')");
  uint64_t version = 0;
  CB_RETURN_IF_ERROR(ReadUint(*fields[kVersion], "'v' (protocol version)", &version));
  if (version != kWireProtocolVersion) {
    return HeaderError("protocol version " + std::to_string(version) +
                       ", but this agent speaks version " + std::to_string(kWireProtocolVersion));
  }
  header.protocol_version = kWireProtocolVersion;

  if (fields[kKind] == nullptr) return HeaderError("no message kind ('k')");
  uint64_t kind = 0;
  CB_RETURN_IF_ERROR(ReadUint(*fields[kKind], "'k' (kind)", &kind));
  if (kind < static_cast<uint64_t>(MessageKind::kInvoke) ||
      kind > static_cast<uint64_t>(MessageKind::kPong)) {
    return HeaderError("unknown message kind " + std::to_string(kind) + " (known: 1 to 7)");
  }
  header.kind = static_cast<MessageKind>(kind);

  if (fields[kRequestId] != nullptr) {
    CB_RETURN_IF_ERROR(ReadUint(*fields[kRequestId], "'id' (request id)", &header.request_id));
  }
  if (fields[kDu] != nullptr) {
    int64_t du = 0;
    CB_RETURN_IF_ERROR(ReadInt(*fields[kDu], "'du'", &du));
    if (du < -1 || du > std::numeric_limits<int32_t>::max()) {
      return HeaderError("'du' is " + std::to_string(du) + "; a DU number is -1 to 2^31-1");
    }
    header.du = static_cast<int32_t>(du);
  }
  if (fields[kFunction] != nullptr) {
    CB_RETURN_IF_ERROR(ReadString(*fields[kFunction], "'fn' (function)", &header.function));
  }
  if (fields[kDeadline] != nullptr) {
    CB_RETURN_IF_ERROR(
        ReadInt(*fields[kDeadline], "'dl' (deadline_unix_ms)", &header.deadline_unix_ms));
  }
  if (fields[kTimeout] != nullptr) {
    CB_RETURN_IF_ERROR(ReadInt(*fields[kTimeout], "'to' (timeout_ms)", &header.timeout_ms));
  }
  if (fields[kArguments] != nullptr) {
    CB_RETURN_IF_ERROR(ReadArguments(*fields[kArguments], &header.arguments));
  }
  if (fields[kTensors] != nullptr) {
    CB_RETURN_IF_ERROR(ReadTensors(*fields[kTensors], &header.tensors));
  }
  if (fields[kError] != nullptr) {
    CB_RETURN_IF_ERROR(ReadString(*fields[kError], "'err' (error)", &header.error));
  }
  CB_RETURN_IF_ERROR(ValidateHeader(header, limits));
  return header;
}

bool IsFunctionChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

Status ValidateString(const std::string& text, const std::string& what, const WireLimits& limits) {
  if (text.size() > limits.max_string_bytes) {
    return HeaderError(what + " is " + std::to_string(text.size()) + " bytes, above the limit of " +
                       std::to_string(limits.max_string_bytes));
  }
  return Status::Ok();
}

Status ValidateDescriptor(const TensorDescriptor& tensor, size_t index, const WireLimits& limits) {
  const std::string what = "tensor " + std::to_string(index) + " " + Quote(tensor.name);
  CB_RETURN_IF_ERROR(ValidateString(tensor.name, what + " name", limits));
  if (!WireDtypeFromCode(static_cast<uint64_t>(tensor.dtype))) {
    return HeaderError(what + ": unknown dtype code " +
                       std::to_string(static_cast<unsigned>(tensor.dtype)));
  }
  if (tensor.shape.size() > limits.max_rank) {
    return HeaderError(what + ": rank " + std::to_string(tensor.shape.size()) +
                       " is above the limit of " + std::to_string(limits.max_rank));
  }
  // Every dim, a 0 counted as 1, must multiply within int64: libtorch computes its strides so.
  uint64_t elements = 1;
  bool empty = false;
  for (size_t d = 0; d < tensor.shape.size(); ++d) {
    const int64_t dim = tensor.shape[d];
    if (dim < 0) {
      return HeaderError(what + ": shape " + ShapeText(tensor.shape) + " has a negative dim");
    }
    if (dim == 0) empty = true;
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(std::max<int64_t>(dim, 1)),
                               &elements) ||
        elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return HeaderError(what + ": shape " + ShapeText(tensor.shape) +
                         " has more elements than a 64-bit count holds");
    }
  }
  const char* dtype_name = WireDtypeName(tensor.dtype);
  uint64_t bytes = 0;
  if (!empty && __builtin_mul_overflow(elements, uint64_t{WireDtypeSize(tensor.dtype)}, &bytes)) {
    return HeaderError(what + ": shape " + ShapeText(tensor.shape) + " of " + dtype_name +
                       " has more bytes than a 64-bit count holds");
  }
  if (bytes > limits.max_tensor_bytes) {
    return HeaderError(what + ": shape " + ShapeText(tensor.shape) + " of " + dtype_name + " is " +
                       std::to_string(bytes) + " bytes, above the limit of " +
                       std::to_string(limits.max_tensor_bytes));
  }
  if (bytes != tensor.byte_count) {
    return HeaderError(what + ": shape " + ShapeText(tensor.shape) + " of " + dtype_name + " is " +
                       std::to_string(bytes) + " bytes but byte_count says " +
                       std::to_string(tensor.byte_count));
  }
  return Status::Ok();
}

// Cuts at a UTF-8 character boundary so the text stays valid.
std::string TruncateText(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  static const char kMark[] = " [truncated]";
  if (max_bytes < sizeof(kMark)) return text.substr(0, max_bytes);
  size_t cut = max_bytes - (sizeof(kMark) - 1);
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return text.substr(0, cut) + kMark;
}

template <typename Packer>
void PackString(Packer& packer, const char* data, size_t size) {
  packer.pack_str(static_cast<uint32_t>(size));
  packer.pack_str_body(data, static_cast<uint32_t>(size));
}
template <typename Packer>
void PackString(Packer& packer, const std::string& text) {
  PackString(packer, text.data(), text.size());
}
template <typename Packer>
void PackKey(Packer& packer, const char* key) {
  PackString(packer, key, std::strlen(key));
}

// Keeps data references off: every string is copied into the zone, so the result never
// points into the frame (the frame may go away before the object).
bool NeverReference(msgpack::type::object_type, size_t, void*) { return false; }

void ReleaseOwner(void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<const void>*>(hint);
}

}  // namespace

const char* MessageKindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::kInvoke:
      return "invoke";
    case MessageKind::kResult:
      return "result";
    case MessageKind::kError:
      return "error";
    case MessageKind::kProgress:
      return "progress";
    case MessageKind::kCancel:
      return "cancel";
    case MessageKind::kPing:
      return "ping";
    case MessageKind::kPong:
      return "pong";
  }
  return "unknown";
}

Status ValidateHeader(const WireHeader& header, const WireLimits& limits) {
  if (header.protocol_version != kWireProtocolVersion) {
    return HeaderError("protocol version " + std::to_string(header.protocol_version) +
                       ", but this agent speaks version " + std::to_string(kWireProtocolVersion));
  }
  const auto kind = static_cast<unsigned>(header.kind);
  if (kind < static_cast<unsigned>(MessageKind::kInvoke) ||
      kind > static_cast<unsigned>(MessageKind::kPong)) {
    return HeaderError("unknown message kind " + std::to_string(kind) + " (known: 1 to 7)");
  }
  const std::string about = std::string(MessageKindName(header.kind)) + " message";
  if (header.du < -1) {
    return HeaderError("'du' is " + std::to_string(header.du) + "; a DU number is -1 or more");
  }
  if (header.kind == MessageKind::kInvoke && header.function.empty()) {
    return HeaderError(about + " without a function ('fn')");
  }
  CB_RETURN_IF_ERROR(ValidateString(header.function, "function", limits));
  if (!std::all_of(header.function.begin(), header.function.end(), IsFunctionChar)) {
    return HeaderError("function " + Quote(header.function) +
                       " may only hold the characters A-Z a-z 0-9 _ . -");
  }
  if (header.deadline_unix_ms < 0) {
    return HeaderError("'dl' (deadline_unix_ms) is " + std::to_string(header.deadline_unix_ms) +
                       "; it must be positive");
  }
  if (header.timeout_ms < 0) {
    return HeaderError("'to' (timeout_ms) is " + std::to_string(header.timeout_ms) +
                       "; it must be positive");
  }
  if (header.kind == MessageKind::kInvoke && header.deadline_unix_ms == 0 &&
      header.timeout_ms == 0) {
    return HeaderError(about + " " + Quote(header.function) +
                       " without a timeout ('to') or deadline ('dl'); every invoke needs one");
  }
  CB_RETURN_IF_ERROR(ValidateString(header.error, "error text", limits));
  if (header.kind == MessageKind::kError && header.error.empty()) {
    return HeaderError(about + " without an error text ('err')");
  }
  if (header.arguments.size() > limits.max_arguments) {
    return HeaderError(std::to_string(header.arguments.size()) + " arguments, above the limit of " +
                       std::to_string(limits.max_arguments));
  }
  for (const auto& [name, value] : header.arguments) {
    CB_RETURN_IF_ERROR(ValidateString(name, "argument name " + Quote(name), limits));
    if (const auto* text = std::get_if<std::string>(&value)) {
      CB_RETURN_IF_ERROR(ValidateString(*text, "argument " + Quote(name), limits));
    }
  }
  if (header.tensors.size() > limits.max_tensors) {
    return HeaderError(std::to_string(header.tensors.size()) + " tensors, above the limit of " +
                       std::to_string(limits.max_tensors));
  }
  for (size_t i = 0; i < header.tensors.size(); ++i) {
    CB_RETURN_IF_ERROR(ValidateDescriptor(header.tensors[i], i, limits));
  }
  return Status::Ok();
}

zmq::message_t FrameFromBuffer(const void* data, size_t size, std::shared_ptr<const void> owner) {
  // An empty frame has no bytes to keep alive; libzmq's free-function contract for size 0 is
  // not worth relying on, so the owner is released right here.
  if (size == 0) return zmq::message_t();
  auto* hint = new std::shared_ptr<const void>(std::move(owner));
  try {
    return zmq::message_t(const_cast<void*>(data), size, &ReleaseOwner, hint);
  } catch (...) {
    delete hint;  // zmq_msg_init_data failed: ZeroMQ will never call ReleaseOwner.
    throw;
  }
}

zmq::message_t EncodeHeader(const WireHeader& header) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  const bool has_id = header.request_id != 0;
  const bool has_du = header.du != -1;
  const bool has_function = !header.function.empty();
  const bool has_deadline = header.deadline_unix_ms != 0;
  const bool has_timeout = header.timeout_ms != 0;
  const bool has_arguments = !header.arguments.empty();
  const bool has_tensors = !header.tensors.empty();
  const bool has_error = !header.error.empty();
  packer.pack_map(2 + has_id + has_du + has_function + has_deadline + has_timeout + has_arguments +
                  has_tensors + has_error);
  PackKey(packer, kKeyVersion);
  packer.pack_uint32(header.protocol_version);
  PackKey(packer, kKeyKind);
  packer.pack_uint8(static_cast<uint8_t>(header.kind));
  if (has_id) {
    PackKey(packer, kKeyRequestId);
    packer.pack_uint64(header.request_id);
  }
  if (has_du) {
    PackKey(packer, kKeyDu);
    packer.pack_int32(header.du);
  }
  if (has_function) {
    PackKey(packer, kKeyFunction);
    PackString(packer, header.function);
  }
  if (has_deadline) {
    PackKey(packer, kKeyDeadline);
    packer.pack_int64(header.deadline_unix_ms);
  }
  if (has_timeout) {
    PackKey(packer, kKeyTimeout);
    packer.pack_int64(header.timeout_ms);
  }
  if (has_arguments) {
    PackKey(packer, kKeyArguments);
    packer.pack_map(static_cast<uint32_t>(header.arguments.size()));
    for (const auto& [name, value] : header.arguments) {
      PackString(packer, name);
      if (std::holds_alternative<bool>(value)) {
        std::get<bool>(value) ? packer.pack_true() : packer.pack_false();
      } else if (const auto* integer = std::get_if<int64_t>(&value)) {
        packer.pack_int64(*integer);
      } else if (const auto* real = std::get_if<double>(&value)) {
        packer.pack_double(*real);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        PackString(packer, *text);
      } else {
        packer.pack_nil();
      }
    }
  }
  if (has_tensors) {
    PackKey(packer, kKeyTensors);
    packer.pack_array(static_cast<uint32_t>(header.tensors.size()));
    for (const TensorDescriptor& tensor : header.tensors) {
      packer.pack_array(kDescriptorItems);
      PackString(packer, tensor.name);
      packer.pack_uint8(static_cast<uint8_t>(tensor.dtype));
      packer.pack_array(static_cast<uint32_t>(tensor.shape.size()));
      for (const int64_t dim : tensor.shape) packer.pack_int64(dim);
      packer.pack_uint64(tensor.byte_count);
    }
  }
  if (has_error) {
    PackKey(packer, kKeyError);
    // A long error (a libtorch backtrace) would make the receiver refuse the whole reply.
    PackString(packer, TruncateText(header.error, WireLimits{}.max_string_bytes));
  }
  return zmq::message_t(buffer.data(), buffer.size());
}

Result<WireHeader> DecodeHeader(const void* data, size_t size, const WireLimits& limits) {
  if (size == 0) return HeaderError("empty header frame");
  if (data == nullptr) return HeaderError("no header bytes");
  if (size > limits.max_header_bytes) {
    return HeaderError(std::to_string(size) + " bytes, above the limit of " +
                       std::to_string(limits.max_header_bytes));
  }
  // The caps make a hostile length prefix fail before msgpack allocates for it.
  const size_t max_array = std::max({limits.max_tensors, limits.max_rank, kDescriptorItems});
  const size_t max_map = std::max(limits.max_arguments, kMaxHeaderKeys);
  const msgpack::unpack_limit unpack_limit(max_array, max_map, limits.max_string_bytes,
                                           limits.max_string_bytes, limits.max_string_bytes,
                                           kMaxDepth);
  // Built only on error: the happy path of a small invoke should not pay for it.
  const auto caps = [&] {
    return " (limits: " + std::to_string(max_array) + " array items, " + std::to_string(max_map) +
           " map entries, " + std::to_string(limits.max_string_bytes) + " bytes per string, " +
           std::to_string(kMaxDepth) + " levels)";
  };
  try {
    size_t offset = 0;
    const msgpack::object_handle handle = msgpack::unpack(
        static_cast<const char*>(data), size, offset, &NeverReference, nullptr, unpack_limit);
    if (offset != size && handle.get().type == msgpack::type::MAP) {
      return Status::Corruption("wire header: " + std::to_string(size - offset) +
                                " stray bytes after the header map");
    }
    return ReadHeader(handle.get(), limits);
  } catch (const msgpack::insufficient_bytes&) {
    return Status::Corruption("wire header: truncated MessagePack (" + std::to_string(size) +
                              " bytes)");
  } catch (const msgpack::parse_error&) {
    return Status::Corruption("wire header: not valid MessagePack");
  } catch (const msgpack::array_size_overflow&) {
    return HeaderError("an array is longer than allowed" + caps());
  } catch (const msgpack::map_size_overflow&) {
    return HeaderError("a map is larger than allowed" + caps());
  } catch (const msgpack::str_size_overflow&) {
    return HeaderError("a string is longer than allowed" + caps());
  } catch (const msgpack::bin_size_overflow&) {
    return HeaderError("binary data is longer than allowed" + caps());
  } catch (const msgpack::ext_size_overflow&) {
    return HeaderError("an extension value is longer than allowed" + caps());
  } catch (const msgpack::depth_size_overflow&) {
    return HeaderError("nested too deeply" + caps());
  } catch (const msgpack::unpack_error& error) {
    return Status::Corruption(std::string("wire header: ") + error.what());
  } catch (const msgpack::type_error&) {
    return HeaderError("a value of the wrong MessagePack type");
  } catch (const std::bad_alloc&) {
    return Status::Internal("wire header: out of memory while decoding");
  } catch (const std::exception& error) {
    return Status::Internal(std::string("wire header: ") + error.what());
  } catch (...) {
    return Status::Internal("wire header: unexpected exception while decoding");
  }
}

Result<WireMessage> DecodeMessage(std::vector<zmq::message_t>&& frames, const WireLimits& limits) {
  if (frames.empty()) return Status::InvalidArgument("wire message: no frames");
  CB_ASSIGN_OR_RETURN(WireHeader header, DecodeHeader(frames[0].data(), frames[0].size(), limits));
  const size_t tensor_frames = frames.size() - 1;
  if (tensor_frames != header.tensors.size()) {
    return Status::InvalidArgument("wire message: the header declares " +
                                   std::to_string(header.tensors.size()) + " tensors but " +
                                   std::to_string(tensor_frames) + " tensor frames came");
  }
  for (size_t i = 0; i < tensor_frames; ++i) {
    const TensorDescriptor& tensor = header.tensors[i];
    if (frames[i + 1].size() != tensor.byte_count) {
      return Status::InvalidArgument(
          "wire message: tensor " + std::to_string(i) + " " + Quote(tensor.name) + ": frame is " +
          std::to_string(frames[i + 1].size()) + " bytes but byte_count says " +
          std::to_string(tensor.byte_count));
    }
  }
  WireMessage message;
  message.header = std::move(header);
  message.tensor_frames.reserve(tensor_frames);
  for (size_t i = 1; i < frames.size(); ++i) message.tensor_frames.push_back(std::move(frames[i]));
  frames.clear();
  return message;
}

std::vector<zmq::message_t> EncodeMessage(WireMessage&& message) {
  std::vector<zmq::message_t> frames;
  frames.reserve(1 + message.tensor_frames.size());
  frames.push_back(EncodeHeader(message.header));
  for (zmq::message_t& frame : message.tensor_frames) frames.push_back(std::move(frame));
  message.tensor_frames.clear();
  return frames;
}

double NumberArgument(const WireArguments& arguments, const std::string& name, double fallback) {
  auto it = arguments.find(name);
  if (it == arguments.end()) return fallback;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return fallback;
}

std::string StringArgument(const WireArguments& arguments, const std::string& name) {
  auto it = arguments.find(name);
  if (it == arguments.end()) return "";
  if (const auto* text = std::get_if<std::string>(&it->second)) return *text;
  return "";
}

bool BoolArgument(const WireArguments& arguments, const std::string& name, bool fallback) {
  auto it = arguments.find(name);
  if (it == arguments.end()) return fallback;
  if (const auto* flag = std::get_if<bool>(&it->second)) return *flag;
  return fallback;
}

}  // namespace cloudbook
