// Input layout: byte 0 = flags, bytes 1-2 = header frame length (little endian), then the
// header frame, then the tensor bytes. When the header decodes, the tensor bytes are cut at
// its descriptors' byte counts (so the fuzzer reaches the accepting path); flag bit 0 adds
// one extra frame, else the bytes are cut into (flags >> 1) % 4 equal frames.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_support.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {
namespace {

// The header must survive encode + decode unchanged in the fields the receiver uses.
void CheckRoundTrip(const WireHeader& header, const WireLimits& limits) {
  FuzzCheck(ValidateHeader(header, limits).ok(), "a decoded header does not validate");
  zmq::message_t encoded = EncodeHeader(header);
  Result<WireHeader> again = DecodeHeader(encoded.data(), encoded.size(), limits);
  if (!again.ok()) std::fprintf(stderr, "%s\n", again.status().ToString().c_str());
  FuzzCheck(again.ok(), "a decoded header does not decode after encoding");
  // Compared as encoded bytes: a NaN argument is legal and never equals itself.
  zmq::message_t reencoded = EncodeHeader(*again);
  FuzzCheck(reencoded == encoded, "a header changed through encode + decode");
}

}  // namespace

Status ReplayWire(const uint8_t* data, size_t size) {
  if (size < 3) return Status::InvalidArgument("fuzz input shorter than its 3-byte prefix");
  const uint8_t flags = data[0];
  const size_t header_size = std::min<size_t>(data[1] | (size_t{data[2]} << 8), size - 3);
  const uint8_t* header_bytes = data + 3;
  const uint8_t* rest = header_bytes + header_size;
  size_t rest_size = size - 3 - header_size;

  WireLimits limits;
  limits.max_tensor_bytes = 1 << 20;  // the fuzzer's inputs are small; keep frames small too
  Result<WireHeader> header = DecodeHeader(header_bytes, header_size, limits);
  if (header.ok()) CheckRoundTrip(*header, limits);

  std::vector<zmq::message_t> frames;
  frames.emplace_back(header_bytes, header_size);
  if (header.ok()) {
    for (const TensorDescriptor& tensor : header->tensors) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(tensor.byte_count, rest_size));
      frames.emplace_back(rest, take);
      rest += take;
      rest_size -= take;
    }
    if (flags & 1) frames.emplace_back(rest, rest_size);
  } else {
    const size_t count = (flags >> 1) % 4;
    for (size_t i = 0; i < count; ++i) {
      const size_t take = i + 1 == count ? rest_size : rest_size / count;
      frames.emplace_back(rest, take);
      rest += take;
      rest_size -= take;
    }
  }
  const size_t frame_count = frames.size();
  Result<WireMessage> message = DecodeMessage(std::move(frames), limits);
  if (!message.ok()) return message.status();
  FuzzCheck(frame_count == 1 + message->header.tensors.size(), "accepted a wrong frame count");
  for (size_t i = 0; i < message->tensor_frames.size(); ++i) {
    FuzzCheck(message->tensor_frames[i].size() == message->header.tensors[i].byte_count,
              "accepted a frame whose size is not its descriptor's byte count");
  }
  return Status::Ok();
}

int FuzzWire(const uint8_t* data, size_t size) {
  ReplayWire(data, size);
  return 0;
}

}  // namespace cloudbook
