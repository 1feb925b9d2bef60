// The wire protocol (docs/wire-protocol.md): header round trips, zero-copy frames and their
// owners, and hostile or broken input, each answered with an error and never a crash.
#include "shared/wire/wire_message.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>
#include <zmq_addon.hpp>

namespace cloudbook {
namespace {

constexpr int64_t kDeadline = 1'700'000'000'000;

std::string Bytes(const zmq::message_t& frame) {
  return std::string(static_cast<const char*>(frame.data()), frame.size());
}

Result<WireHeader> Decode(const std::string& bytes, const WireLimits& limits = {}) {
  return DecodeHeader(bytes.data(), bytes.size(), limits);
}

// Raw MessagePack for cases EncodeHeader cannot express.
std::string Pack(const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& write) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  write(packer);
  return std::string(buffer.data(), buffer.size());
}
void Key(msgpack::packer<msgpack::sbuffer>& packer, const std::string& key) {
  packer.pack_str(static_cast<uint32_t>(key.size()));
  packer.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
}
// {"v": 1, "k": 6 (ping)} followed by `extra` more pairs written by `write`.
std::string PingWith(uint32_t extra,
                     const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& write) {
  return Pack([&](msgpack::packer<msgpack::sbuffer>& packer) {
    packer.pack_map(2 + extra);
    Key(packer, "v");
    packer.pack_uint8(1);
    Key(packer, "k");
    packer.pack_uint8(6);
    write(packer);
  });
}

TensorDescriptor Descriptor(const std::string& name, WireDtype dtype, std::vector<int64_t> shape,
                            uint64_t byte_count) {
  TensorDescriptor descriptor;
  descriptor.name = name;
  descriptor.dtype = dtype;
  descriptor.shape = std::move(shape);
  descriptor.byte_count = byte_count;
  return descriptor;
}

WireHeader RichHeader(MessageKind kind) {
  WireHeader header;
  header.kind = kind;
  header.request_id = std::numeric_limits<uint64_t>::max() - 7;
  header.du = 3;
  header.function = "train.subnet_2-b";
  header.deadline_unix_ms = kDeadline;
  header.arguments = {{"nothing", std::monostate{}},
                      {"yes", true},
                      {"no", false},
                      {"zero", int64_t{0}},
                      {"small", int64_t{-1}},
                      {"min", std::numeric_limits<int64_t>::min()},
                      {"max", std::numeric_limits<int64_t>::max()},
                      {"loss", 0.125},
                      {"huge", -1.5e300},
                      {"empty", std::string()},
                      {"text", std::string("epoch \xc3\xa9t\xc3\xa9 \n 3")}};
  header.tensors = {Descriptor("x", WireDtype::kFloat32, {3, 4}, 48),
                    Descriptor("scalar", WireDtype::kInt64, {}, 8),
                    Descriptor("none", WireDtype::kBool, {0, 5}, 0)};
  header.error = "out of memory on subnet 2";
  return header;
}

void ExpectSameHeader(const WireHeader& a, const WireHeader& b) {
  EXPECT_EQ(a.protocol_version, b.protocol_version);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.du, b.du);
  EXPECT_EQ(a.function, b.function);
  EXPECT_EQ(a.deadline_unix_ms, b.deadline_unix_ms);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.arguments, b.arguments);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_EQ(a.tensors[i].dtype, b.tensors[i].dtype);
    EXPECT_EQ(a.tensors[i].shape, b.tensors[i].shape);
    EXPECT_EQ(a.tensors[i].byte_count, b.tensors[i].byte_count);
  }
  EXPECT_EQ(a.error, b.error);
}

std::string ValidHeaderBytes() { return Bytes(EncodeHeader(RichHeader(MessageKind::kInvoke))); }

// Expects an error whose message holds `fragment`.
void ExpectError(const Result<WireHeader>& result, const std::string& fragment) {
  ASSERT_FALSE(result.ok()) << "expected an error with: " << fragment;
  EXPECT_NE(result.status().message().find(fragment), std::string::npos)
      << result.status().ToString();
}

struct OwnedFrame {
  std::weak_ptr<std::vector<float>> owner;
  zmq::message_t frame;
};
OwnedFrame FloatFrame(std::vector<float> values) {
  auto owner = std::make_shared<std::vector<float>>(std::move(values));
  OwnedFrame out;
  out.owner = owner;
  out.frame = FrameFromBuffer(owner->data(), owner->size() * sizeof(float), owner);
  return out;
}

TEST(WireDtype, CodesAndSizesAreFixed) {
  const struct {
    uint64_t code;
    size_t size;
    const char* name;
  } table[] = {{1, 4, "float32"}, {2, 8, "float64"}, {3, 2, "float16"}, {4, 2, "bfloat16"},
               {5, 1, "int8"},    {6, 1, "uint8"},   {7, 2, "int16"},   {8, 4, "int32"},
               {9, 8, "int64"},   {10, 1, "bool"}};
  for (const auto& row : table) {
    const auto dtype = WireDtypeFromCode(row.code);
    ASSERT_TRUE(dtype.has_value()) << row.code;
    EXPECT_EQ(static_cast<uint64_t>(*dtype), row.code);
    EXPECT_EQ(WireDtypeSize(*dtype), row.size) << row.name;
    EXPECT_STREQ(WireDtypeName(*dtype), row.name);
  }
  EXPECT_EQ(static_cast<int>(WireDtype::kFloat32), 1);
  EXPECT_EQ(static_cast<int>(WireDtype::kBool), 10);
  for (const uint64_t code : {uint64_t{0}, uint64_t{11}, uint64_t{255}, uint64_t{1} << 40}) {
    EXPECT_FALSE(WireDtypeFromCode(code).has_value()) << code;
  }
}

TEST(WireMessage, KindNames) {
  EXPECT_STREQ(MessageKindName(MessageKind::kInvoke), "invoke");
  EXPECT_STREQ(MessageKindName(MessageKind::kResult), "result");
  EXPECT_STREQ(MessageKindName(MessageKind::kError), "error");
  EXPECT_STREQ(MessageKindName(MessageKind::kProgress), "progress");
  EXPECT_STREQ(MessageKindName(MessageKind::kCancel), "cancel");
  EXPECT_STREQ(MessageKindName(MessageKind::kPing), "ping");
  EXPECT_STREQ(MessageKindName(MessageKind::kPong), "pong");
}

TEST(WireMessage, EveryKindRoundTripsWithArgumentsAndTensors) {
  for (int k = 1; k <= 7; ++k) {
    const auto kind = static_cast<MessageKind>(k);
    SCOPED_TRACE(MessageKindName(kind));
    WireMessage message;
    message.header = RichHeader(kind);
    message.header.tensors[0].shape = {2, 3};
    message.header.tensors[0].byte_count = 24;
    OwnedFrame x = FloatFrame({1, 2, 3, 4, 5, 6});
    const void* x_data = x.frame.data();
    const int64_t scalar = -42;
    message.tensor_frames.push_back(std::move(x.frame));
    message.tensor_frames.push_back(zmq::message_t(&scalar, sizeof(scalar)));
    message.tensor_frames.push_back(zmq::message_t());
    const WireHeader sent = message.header;

    std::vector<zmq::message_t> frames = EncodeMessage(std::move(message));
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[1].data(), x_data);  // moved, not copied

    auto decoded = DecodeMessage(std::move(frames));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSameHeader(decoded->header, sent);
    ASSERT_EQ(decoded->tensor_frames.size(), 3u);
    EXPECT_EQ(decoded->tensor_frames[0].data(), x_data);
    EXPECT_EQ(decoded->tensor_frames[0].data<float>()[5], 6.0f);
    int64_t received_scalar = 0;
    std::memcpy(&received_scalar, decoded->tensor_frames[1].data(), sizeof(received_scalar));
    EXPECT_EQ(received_scalar, -42);
    EXPECT_EQ(decoded->tensor_frames[2].size(), 0u);
  }
}

TEST(WireMessage, MinimalPingOmitsEmptyFields) {
  WireHeader ping;
  const std::string bytes = Bytes(EncodeHeader(ping));
  EXPECT_LE(bytes.size(), 8u);  // {"v": 1, "k": 6}
  auto decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameHeader(*decoded, ping);
}

TEST(WireMessage, FrameKeepsItsOwnerAliveUntilDestroyed) {
  OwnedFrame x = FloatFrame({1.5f, 2.5f});
  EXPECT_FALSE(x.owner.expired());
  EXPECT_EQ(x.frame.size(), 2 * sizeof(float));
  {
    zmq::message_t moved = std::move(x.frame);
    EXPECT_FALSE(x.owner.expired());
    EXPECT_EQ(moved.data<float>()[1], 2.5f);
  }
  EXPECT_TRUE(x.owner.expired());
}

TEST(WireMessage, EmptyFrameReleasesItsOwnerAtOnce) {
  auto owner = std::make_shared<std::vector<float>>();
  std::weak_ptr<std::vector<float>> watch = owner;
  const float* data = owner->data();
  zmq::message_t frame = FrameFromBuffer(data, 0, std::move(owner));
  EXPECT_EQ(frame.size(), 0u);
  EXPECT_TRUE(watch.expired());
}

TEST(WireMessage, SendsThroughZeroMqAndReleasesTheOwnerAfterwards) {
  zmq::context_t context;
  zmq::socket_t server(context, zmq::socket_type::pair);
  zmq::socket_t client(context, zmq::socket_type::pair);
  server.bind("inproc://wire-message-test");
  client.connect("inproc://wire-message-test");

  std::vector<float> values(100000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f;
  OwnedFrame x = FloatFrame(values);
  WireMessage message;
  message.header.kind = MessageKind::kResult;
  message.header.request_id = 9;
  message.header.tensors = {Descriptor("w", WireDtype::kFloat32, {1000, 100}, 400000)};
  message.tensor_frames.push_back(std::move(x.frame));
  std::vector<zmq::message_t> frames = EncodeMessage(std::move(message));
  ASSERT_TRUE(zmq::send_multipart(client, frames).has_value());
  frames.clear();

  std::vector<zmq::message_t> received;
  ASSERT_TRUE(zmq::recv_multipart(server, std::back_inserter(received)).has_value());
  auto decoded = DecodeMessage(std::move(received));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->header.request_id, 9u);
  ASSERT_EQ(decoded->tensor_frames.size(), 1u);
  EXPECT_EQ(std::memcmp(decoded->tensor_frames[0].data(), values.data(), 400000), 0);
  decoded->tensor_frames.clear();
  EXPECT_TRUE(x.owner.expired());
}

TEST(WireMessage, LongErrorTextIsCutToTheLimitOnEncode) {
  WireHeader header;
  header.kind = MessageKind::kError;
  header.request_id = 1;
  header.error = std::string(10000, 'e');
  auto decoded = Decode(Bytes(EncodeHeader(header)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_LE(decoded->error.size(), WireLimits{}.max_string_bytes);
  EXPECT_NE(decoded->error.find("[truncated]"), std::string::npos);
}

TEST(WireMessage, UnknownKeysAreIgnored) {
  const std::string bytes = PingWith(2, [](msgpack::packer<msgpack::sbuffer>& packer) {
    Key(packer, "future");
    packer.pack_array(2);
    packer.pack_uint8(1);
    packer.pack_map(0);
    packer.pack_uint8(7);  // a non-string key
    packer.pack_nil();
  });
  auto decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->kind, MessageKind::kPing);
}

TEST(WireHeaderFuzz, EveryTruncationIsAnError) {
  const std::string bytes = ValidHeaderBytes();
  ASSERT_TRUE(Decode(bytes).ok());
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(Decode(bytes.substr(0, length)).ok()) << "prefix of " << length << " bytes";
  }
}

TEST(WireHeaderFuzz, RandomBytesAreErrors) {
  std::mt19937_64 random(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, 300);
  for (int i = 0; i < 10000; ++i) {
    std::string bytes(length(random), '\0');
    for (char& c : bytes) c = static_cast<char>(byte(random));
    if (i % 2 == 1 && !bytes.empty()) bytes[0] = static_cast<char>(0x80 | (i % 16));  // a map
    EXPECT_FALSE(Decode(bytes).ok()) << "case " << i;
  }
}

TEST(WireHeaderFuzz, MutatedValidHeadersNeverCrash) {
  const std::string valid = ValidHeaderBytes();
  std::mt19937_64 random(7);
  std::uniform_int_distribution<size_t> position(0, valid.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  int refused = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string bytes = valid;
    for (int flips = 1 + i % 4; flips > 0; --flips) {
      bytes[position(random)] = static_cast<char>(byte(random));
    }
    auto decoded = Decode(bytes);
    if (!decoded.ok()) {
      ++refused;
      continue;
    }
    // Whatever passes must satisfy every rule and survive another round trip.
    EXPECT_TRUE(ValidateHeader(*decoded).ok());
    EXPECT_TRUE(Decode(Bytes(EncodeHeader(*decoded))).ok());
  }
  EXPECT_GT(refused, 1000);
}

TEST(WireHeaderFuzz, WrongByteCount) {
  WireHeader header;
  header.tensors = {Descriptor("a", WireDtype::kInt8, {1}, 1),
                    Descriptor("b", WireDtype::kInt8, {1}, 1),
                    Descriptor("x", WireDtype::kFloat32, {3, 4}, 40)};
  ExpectError(Decode(Bytes(EncodeHeader(header))),
              "wire header: tensor 2 'x': shape [3, 4] of float32 is 48 bytes but byte_count "
              "says 40");
}

TEST(WireHeaderFuzz, UnknownDtypeKindAndVersion) {
  WireHeader header;
  header.tensors = {Descriptor("x", static_cast<WireDtype>(11), {1}, 1)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "unknown dtype code 11");

  header = WireHeader();
  header.kind = static_cast<MessageKind>(9);
  ExpectError(Decode(Bytes(EncodeHeader(header))), "unknown message kind 9");
  header.kind = static_cast<MessageKind>(0);
  ExpectError(Decode(Bytes(EncodeHeader(header))), "unknown message kind 0");

  header = RichHeader(MessageKind::kResult);
  header.protocol_version = 2;
  ExpectError(Decode(Bytes(EncodeHeader(header))),
              "protocol version 2, but this agent speaks version 1");
}

TEST(WireHeaderFuzz, AbsurdShapes) {
  WireHeader header;
  const int64_t big = int64_t{1} << 40;
  header.tensors = {Descriptor("x", WireDtype::kFloat32, {big, big}, 0)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "more elements than a 64-bit count holds");
  // Even an empty tensor may not declare dims whose strides overflow.
  header.tensors = {Descriptor("x", WireDtype::kFloat32, {big, big, 0}, 0)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "more elements than a 64-bit count holds");
  header.tensors = {Descriptor("x", WireDtype::kFloat64, {int64_t{1} << 61}, 0)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "more bytes than a 64-bit count holds");
  header.tensors = {Descriptor("x", WireDtype::kFloat32, {3, -4}, 48)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "shape [3, -4] has a negative dim");
  header.tensors = {Descriptor("x", WireDtype::kUInt8, std::vector<int64_t>(9, 1), 1)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "rank 9 is above the limit of 8");
  header.tensors = {Descriptor("x", WireDtype::kFloat32, {int64_t{1} << 31}, uint64_t{1} << 33)};
  ASSERT_TRUE(Decode(Bytes(EncodeHeader(header))).ok());  // exactly 8 GiB is allowed
  header.tensors = {Descriptor("x", WireDtype::kFloat64, {int64_t{1} << 31}, uint64_t{1} << 34)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "above the limit of 8589934592");
  // A dim above INT64_MAX can only come from a hand-made header.
  const std::string bytes = PingWith(1, [](msgpack::packer<msgpack::sbuffer>& packer) {
    Key(packer, "t");
    packer.pack_array(1);
    packer.pack_array(4);
    Key(packer, "x");
    packer.pack_uint8(1);
    packer.pack_array(1);
    packer.pack_uint64(std::numeric_limits<uint64_t>::max());
    packer.pack_uint8(4);
  });
  ExpectError(Decode(bytes), "above the largest signed 64-bit integer");
}

TEST(WireHeaderFuzz, TooManyTensorsAndArguments) {
  WireHeader header;
  for (int i = 0; i < 65; ++i) {
    header.tensors.push_back(Descriptor("t" + std::to_string(i), WireDtype::kInt8, {0}, 0));
  }
  ExpectError(Decode(Bytes(EncodeHeader(header))), "an array is longer than allowed");
  WireLimits limits;
  limits.max_tensors = 2;
  header.tensors.resize(3);
  ExpectError(Decode(Bytes(EncodeHeader(header)), limits), "3 tensors, above the limit of 2");

  header = WireHeader();
  for (int i = 0; i < 65; ++i) header.arguments["a" + std::to_string(i)] = int64_t{i};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "a map is larger than allowed");
  // Below msgpack's own cap (32 map entries), the count is checked by name.
  limits = WireLimits();
  limits.max_arguments = 20;
  header.arguments.erase(header.arguments.find("a30"), header.arguments.end());
  ASSERT_EQ(header.arguments.size(), 24u);
  ExpectError(Decode(Bytes(EncodeHeader(header)), limits), "24 arguments, above the limit of 20");
}

TEST(WireHeaderFuzz, FrameCountAndSizeMustMatchTheHeader) {
  auto make = [](size_t frame_count, size_t frame_bytes) {
    WireHeader header;
    header.kind = MessageKind::kResult;
    header.tensors = {Descriptor("a", WireDtype::kFloat32, {2}, 8),
                      Descriptor("b", WireDtype::kInt16, {3}, 6)};
    std::vector<zmq::message_t> frames;
    frames.push_back(EncodeHeader(header));
    for (size_t i = 0; i < frame_count; ++i) {
      frames.emplace_back(i == 0 ? 8 : (i == 1 ? frame_bytes : 4));
    }
    return frames;
  };
  auto good = make(2, 6);
  EXPECT_TRUE(DecodeMessage(std::move(good)).ok());

  auto extra = make(3, 6);
  auto result = DecodeMessage(std::move(extra));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "wire message: the header declares 2 tensors but 3 tensor frames came");
  EXPECT_EQ(extra.size(), 4u);  // left with the caller on error

  auto missing = make(1, 6);
  result = DecodeMessage(std::move(missing));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("2 tensors but 1 tensor frames"), std::string::npos);

  auto wrong_size = make(2, 7);
  result = DecodeMessage(std::move(wrong_size));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "wire message: tensor 1 'b': frame is 7 bytes but byte_count says 6");

  std::vector<zmq::message_t> none;
  EXPECT_FALSE(DecodeMessage(std::move(none)).ok());
  std::vector<zmq::message_t> empty_header(1);
  EXPECT_FALSE(DecodeMessage(std::move(empty_header)).ok());
}

TEST(WireHeaderFuzz, ArgumentValuesArePlain) {
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "args");
                                packer.pack_map(1);
                                Key(packer, "nested");
                                packer.pack_map(1);
                                Key(packer, "inner");
                                packer.pack_uint8(1);
                              })),
              "argument 'nested' is a map");
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "args");
                                packer.pack_map(1);
                                Key(packer, "list");
                                packer.pack_array(0);
                              })),
              "argument 'list' is an array");
  // msgpack-c packs a whole double as an integer, so an unsigned integer above int64 is a
  // double that went through the wire (fuzz regression accepted-huge-whole-double).
  Result<WireHeader> big = Decode(PingWith(1, [](msgpack::packer<msgpack::sbuffer>& packer) {
    Key(packer, "args");
    packer.pack_map(1);
    Key(packer, "big");
    packer.pack_uint64(uint64_t{1} << 63);
  }));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  ASSERT_TRUE(std::holds_alternative<double>(big->arguments.at("big")));
  EXPECT_DOUBLE_EQ(std::get<double>(big->arguments.at("big")), 9223372036854775808.0);
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "args");
                                packer.pack_map(2);
                                Key(packer, "a");
                                packer.pack_nil();
                                Key(packer, "a");
                                packer.pack_true();
                              })),
              "argument 'a' appears twice");
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "args");
                                packer.pack_map(1);
                                packer.pack_uint8(1);
                                packer.pack_nil();
                              })),
              "argument 0: name must be a string");
  // float32 on the wire is read as a double.
  auto decoded = Decode(PingWith(1, [](msgpack::packer<msgpack::sbuffer>& packer) {
    Key(packer, "args");
    packer.pack_map(1);
    Key(packer, "f");
    packer.pack_float(0.5f);
  }));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<double>(decoded->arguments.at("f")), 0.5);
}

TEST(WireHeaderFuzz, KnownKeysNeedTheirTypes) {
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "id");
                                Key(packer, "abc");
                              })),
              "'id' (request id) must be a non-negative integer, not a string");
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "fn");
                                packer.pack_uint8(3);
                              })),
              "'fn' (function) must be a string");
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "du");
                                packer.pack_int64(int64_t{1} << 40);
                              })),
              "'du' is 1099511627776");
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "t");
                                packer.pack_array(1);
                                packer.pack_array(3);
                                Key(packer, "x");
                                packer.pack_uint8(1);
                                packer.pack_array(0);
                              })),
              "tensor 0 must be an array [name, dtype, [dims], byte_count], not an array of 3");
  ExpectError(Decode(PingWith(1,
                              [](msgpack::packer<msgpack::sbuffer>& packer) {
                                Key(packer, "k");
                                packer.pack_uint8(7);
                              })),
              "key 'k' appears twice");
  ExpectError(Decode(Pack([](msgpack::packer<msgpack::sbuffer>& packer) {
                packer.pack_map(1);
                Key(packer, "k");
                packer.pack_uint8(6);
              })),
              "no protocol version");
  ExpectError(Decode(Pack([](msgpack::packer<msgpack::sbuffer>& packer) {
                packer.pack_array(2);
                packer.pack_uint8(1);
                packer.pack_uint8(6);
              })),
              "must be a MessagePack map, not an array");
}

TEST(WireHeaderFuzz, HugeDeclaredLengthsDoNotAllocate) {
  const std::string cases[] = {
      std::string("\xdd\xff\xff\xff\xff", 5),      // array32 of 4G elements
      std::string("\xdf\xff\xff\xff\xff", 5),      // map32 of 4G pairs
      std::string("\xdb\xff\xff\xff\xff", 5),      // str32 of 4 GiB
      std::string("\xc6\xff\xff\xff\xff", 5),      // bin32 of 4 GiB
      std::string("\xc9\xff\xff\xff\xff\x01", 6),  // ext32 of 4 GiB
  };
  for (const std::string& bytes : cases) {
    EXPECT_FALSE(Decode(bytes).ok());
  }
  ExpectError(Decode(cases[0]), "an array is longer than allowed");
  ExpectError(Decode(cases[1]), "a map is larger than allowed");
  const std::string inside = PingWith(1, [](msgpack::packer<msgpack::sbuffer>& packer) {
    Key(packer, "t");
    packer.pack_array(0xffffffffu);
  });
  ExpectError(Decode(inside), "an array is longer than allowed");
}

TEST(WireHeaderFuzz, DeepNestingIsRefused) {
  std::string deep(1000, '\x91');  // fixarray of one element, 1000 times
  deep += '\xc0';
  ExpectError(Decode(deep), "nested too deeply");
  const std::string in_unknown_key = PingWith(1, [](msgpack::packer<msgpack::sbuffer>& packer) {
    Key(packer, "zz");
    for (int i = 0; i < 100; ++i) packer.pack_array(1);
    packer.pack_nil();
  });
  ExpectError(Decode(in_unknown_key), "nested too deeply");
}

TEST(WireHeaderFuzz, InvokeNeedsAFunctionAndADeadline) {
  WireHeader header = RichHeader(MessageKind::kInvoke);
  header.deadline_unix_ms = 0;
  ExpectError(Decode(Bytes(EncodeHeader(header))),
              "invoke message 'train.subnet_2-b' without a timeout ('to') or deadline ('dl')");
  header.deadline_unix_ms = -5;
  ExpectError(Decode(Bytes(EncodeHeader(header))), "it must be positive");
  // A relative timeout alone is enough (no wall clock on the wire), and round-trips.
  header.deadline_unix_ms = 0;
  header.timeout_ms = 2500;
  Result<WireHeader> relative = Decode(Bytes(EncodeHeader(header)));
  ASSERT_TRUE(relative.ok()) << relative.status().ToString();
  EXPECT_EQ(relative->timeout_ms, 2500);
  header.timeout_ms = -1;
  ExpectError(Decode(Bytes(EncodeHeader(header))), "'to' (timeout_ms) is -1");
  header = RichHeader(MessageKind::kInvoke);
  header.function = "rm -rf";
  ExpectError(Decode(Bytes(EncodeHeader(header))),
              "function 'rm -rf' may only hold the characters");
  header.function = "";
  ExpectError(Decode(Bytes(EncodeHeader(header))), "invoke message without a function");
  header.function = std::string(5000, 'f');
  ExpectError(Decode(Bytes(EncodeHeader(header))), "a string is longer than allowed");
  WireLimits limits;
  limits.max_string_bytes = 8;
  header.function = "train_all";
  header.arguments.clear();
  header.tensors.clear();
  header.error.clear();
  ExpectError(Decode(Bytes(EncodeHeader(header)), limits), "a string is longer than allowed");
  EXPECT_EQ(ValidateHeader(header, limits).message(),
            "wire header: function is 9 bytes, above the limit of 8");
}

TEST(WireHeaderFuzz, ErrorMessagesNeedText) {
  WireHeader header;
  header.kind = MessageKind::kError;
  ExpectError(Decode(Bytes(EncodeHeader(header))), "error message without an error text");
}

TEST(WireHeaderFuzz, SizeAndStrayBytes) {
  WireHeader header;
  header.arguments["text"] = std::string(4000, 'x');
  const std::string bytes = Bytes(EncodeHeader(header));
  WireLimits limits;
  limits.max_header_bytes = 1000;
  ExpectError(Decode(bytes, limits), "bytes, above the limit of 1000");
  ExpectError(Decode(bytes + '\xc0'), "1 stray bytes after the header map");
  ExpectError(Decode("garbage!"), "must be a MessagePack map, not a non-negative integer");
  ExpectError(Decode(""), "empty header frame");
  EXPECT_EQ(Decode("\xc1").status().code(), Status::Code::kCorruption);  // never-used byte
}

TEST(WireHeaderFuzz, NamesInErrorsAreEscaped) {
  WireHeader header;
  header.tensors = {Descriptor(std::string("a\nb\x01", 4), WireDtype::kInt8, {2}, 1)};
  ExpectError(Decode(Bytes(EncodeHeader(header))), "tensor 0 'a\\x0ab\\x01'");
}

}  // namespace
}  // namespace cloudbook
