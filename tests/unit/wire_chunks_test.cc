// Tensor bytes in bounded frames (shared/wire/wire_chunks.h): a sender cuts big tensor frames
// into chunks that share the buffer, a receiver joins them back; frames that do not add up
// to the header's byte counts are refused with an error naming the tensor.
#include "shared/wire/wire_chunks.h"

#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace cloudbook {
namespace {

std::string Bytes(const zmq::message_t& frame) {
  return std::string(static_cast<const char*>(frame.data()), frame.size());
}

// A result with one uint8 tensor per entry of `sizes`, bytes 0, 1, 2, ... (mod 251).
WireMessage MessageWithTensors(const std::vector<size_t>& sizes,
                               std::vector<std::shared_ptr<std::string>>* buffers = nullptr) {
  WireMessage message;
  message.header.kind = MessageKind::kResult;
  message.header.request_id = 7;
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto bytes = std::make_shared<std::string>(sizes[i], '\0');
    for (size_t b = 0; b < sizes[i]; ++b) (*bytes)[b] = static_cast<char>((b + i) % 251);
    TensorDescriptor descriptor;
    descriptor.name = "t" + std::to_string(i);
    descriptor.dtype = WireDtype::kUInt8;
    descriptor.shape = {static_cast<int64_t>(sizes[i])};
    descriptor.byte_count = sizes[i];
    message.header.tensors.push_back(descriptor);
    message.tensor_frames.push_back(FrameFromBuffer(bytes->data(), bytes->size(), bytes));
    if (buffers != nullptr) buffers->push_back(bytes);
  }
  return message;
}

TEST(WireChunks, BigTensorsGoInChunksThatShareTheBufferAndComeBackWhole) {
  std::vector<std::shared_ptr<std::string>> buffers;
  const std::vector<size_t> sizes = {0, 8, 10, 3 * 8 + 5};
  std::vector<zmq::message_t> frames =
      EncodeChunkedMessage(MessageWithTensors(sizes, &buffers), /*chunk_bytes=*/8);
  // header, [empty], [8], [8, 2], [8, 8, 8, 5]
  ASSERT_EQ(frames.size(), 1u + 1 + 1 + 2 + 4);
  for (size_t i = 1; i < frames.size(); ++i) EXPECT_LE(frames[i].size(), 8u);
  EXPECT_EQ(frames[3].data(), buffers[2]->data()) << "a chunk points into the sender's buffer";
  EXPECT_GT(buffers[3].use_count(), 1) << "the chunks keep the buffer alive";

  Result<WireMessage> decoded = DecodeChunkedMessage(std::move(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->tensor_frames.size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(Bytes(decoded->tensor_frames[i]), *buffers[i]) << "tensor " << i;
  }
  decoded->tensor_frames.clear();
  for (const auto& buffer : buffers) EXPECT_EQ(buffer.use_count(), 1) << "released when sent";
}

TEST(WireChunks, ATensorInOneFrameIsNotCopied) {
  std::vector<zmq::message_t> frames = EncodeChunkedMessage(MessageWithTensors({100}));
  ASSERT_EQ(frames.size(), 2u);
  const void* data = frames[1].data();
  Result<WireMessage> decoded = DecodeChunkedMessage(std::move(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->tensor_frames[0].data(), data);
}

TEST(WireChunks, AMegabyteTensorWithDefaultChunksStaysWithinTheFrameLimit) {
  const size_t size = 3 * kWireChunkBytes + 17;
  std::vector<std::shared_ptr<std::string>> buffers;
  std::vector<zmq::message_t> frames = EncodeChunkedMessage(MessageWithTensors({size}, &buffers));
  ASSERT_EQ(frames.size(), 1u + 4);
  const WireLimits limits;
  for (const zmq::message_t& frame : frames) {
    EXPECT_LE(static_cast<int64_t>(frame.size() + kCurveFrameOverheadBytes),
              MaxWireFrameBytes(limits));
  }
  EXPECT_GE(MaxWireFrameBytes(limits),
            static_cast<int64_t>(limits.max_header_bytes + kCurveFrameOverheadBytes));
  Result<WireMessage> decoded = DecodeChunkedMessage(std::move(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Bytes(decoded->tensor_frames[0]), *buffers[0]);
}

// The frames of MessageWithTensors(sizes) cut as `cuts` says (sizes of the tensor frames).
std::vector<zmq::message_t> Cut(const std::vector<size_t>& sizes, const std::vector<size_t>& cuts) {
  std::vector<zmq::message_t> whole = EncodeMessage(MessageWithTensors(sizes));
  std::string bytes;
  for (size_t i = 1; i < whole.size(); ++i) bytes += Bytes(whole[i]);
  std::vector<zmq::message_t> frames;
  frames.push_back(std::move(whole[0]));
  size_t offset = 0;
  for (const size_t cut : cuts) {
    frames.emplace_back(bytes.data() + offset, cut);
    offset += cut;
  }
  return frames;
}

TEST(WireChunks, FramesThatDoNotAddUpAreRefusedAndLeftAsTheyCame) {
  EXPECT_TRUE(DecodeChunkedMessage(Cut({10, 6}, {4, 6, 6})).ok());
  struct Case {
    std::vector<size_t> cuts;
    const char* error;
  };
  const Case cases[] = {
      {{4, 6}, "tensor 1 't1': the frames hold 0 of its 6 bytes"},
      {{4, 6, 2}, "tensor 1 't1': the frames hold 2 of its 6 bytes"},
      {{4, 8, 4}, "tensor 0 't0': a frame of 8 bytes runs past its 10 bytes"},
      {{10, 0, 6}, "tensor 1 't1': an empty frame"},
      {{10, 6, 1}, "1 frames after the last tensor's bytes"},
  };
  for (const Case& test : cases) {
    std::vector<zmq::message_t> frames = Cut({10, 6}, test.cuts);
    const size_t count = frames.size();
    Result<WireMessage> decoded = DecodeChunkedMessage(std::move(frames));
    ASSERT_FALSE(decoded.ok()) << test.error;
    EXPECT_NE(decoded.status().message().find(test.error), std::string::npos)
        << decoded.status().message();
    EXPECT_EQ(frames.size(), count);
  }
  std::vector<zmq::message_t> none;
  EXPECT_FALSE(DecodeChunkedMessage(std::move(none)).ok());
  // An empty tensor is exactly one empty frame.
  EXPECT_TRUE(DecodeChunkedMessage(Cut({0}, {0})).ok());
  EXPECT_FALSE(DecodeChunkedMessage(Cut({0}, {})).ok());
  EXPECT_FALSE(DecodeChunkedMessage(Cut({0}, {0, 0})).ok());
}

}  // namespace
}  // namespace cloudbook
