#include "shared/wire/wire_chunks.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace cloudbook {
namespace {

Status FrameError(size_t index, const TensorDescriptor& tensor, const std::string& what) {
  return Status::InvalidArgument("wire message: tensor " + std::to_string(index) + " '" +
                                 tensor.name.substr(0, 64) + "': " + what);
}

// Which frames (first, end) carry each tensor; checks that they add up exactly.
Result<std::vector<std::pair<size_t, size_t>>> GroupFrames(
    const std::vector<zmq::message_t>& frames, const WireHeader& header) {
  std::vector<std::pair<size_t, size_t>> groups;
  groups.reserve(header.tensors.size());
  size_t next = 1;
  for (size_t i = 0; i < header.tensors.size(); ++i) {
    const TensorDescriptor& tensor = header.tensors[i];
    const size_t first = next;
    uint64_t got = 0;
    do {
      if (next >= frames.size()) {
        return FrameError(i, tensor,
                          "the frames hold " + std::to_string(got) + " of its " +
                              std::to_string(tensor.byte_count) + " bytes");
      }
      const size_t size = frames[next].size();
      if (size == 0 && tensor.byte_count != 0) {
        return FrameError(i, tensor, "an empty frame in its bytes");
      }
      if (size > tensor.byte_count - got) {
        return FrameError(i, tensor,
                          "a frame of " + std::to_string(size) + " bytes runs past its " +
                              std::to_string(tensor.byte_count) + " bytes");
      }
      got += size;
      ++next;
    } while (got < tensor.byte_count);
    groups.emplace_back(first, next);
  }
  if (next != frames.size()) {
    return Status::InvalidArgument("wire message: " + std::to_string(frames.size() - next) +
                                   " frames after the last tensor's bytes");
  }
  return groups;
}

}  // namespace

int64_t MaxWireFrameBytes(const WireLimits& limits) {
  return static_cast<int64_t>(std::max<uint64_t>(kWireChunkBytes, limits.max_header_bytes) +
                              kCurveFrameOverheadBytes);
}

std::vector<zmq::message_t> EncodeChunkedMessage(WireMessage&& message, size_t chunk_bytes) {
  chunk_bytes = std::max<size_t>(chunk_bytes, 1);
  std::vector<zmq::message_t> whole = EncodeMessage(std::move(message));
  const bool any_large = std::any_of(whole.begin() + 1, whole.end(),
                                     [&](const auto& frame) { return frame.size() > chunk_bytes; });
  if (!any_large) return whole;
  std::vector<zmq::message_t> frames;
  frames.push_back(std::move(whole[0]));
  for (size_t i = 1; i < whole.size(); ++i) {
    if (whole[i].size() <= chunk_bytes) {
      frames.push_back(std::move(whole[i]));
      continue;
    }
    // The chunks keep the whole frame (and whatever owns its bytes) alive; its data pointer
    // is taken after the move, so it stays valid even for a message stored inline.
    auto shared = std::make_shared<zmq::message_t>(std::move(whole[i]));
    const char* data = static_cast<const char*>(shared->data());
    const size_t size = shared->size();
    for (size_t offset = 0; offset < size; offset += chunk_bytes) {
      frames.push_back(
          FrameFromBuffer(data + offset, std::min(chunk_bytes, size - offset), shared));
    }
  }
  return frames;
}

Result<WireMessage> DecodeChunkedMessage(std::vector<zmq::message_t>&& frames,
                                         const WireLimits& limits) {
  if (frames.empty()) return Status::InvalidArgument("wire message: no frames");
  CB_ASSIGN_OR_RETURN(WireHeader header, DecodeHeader(frames[0].data(), frames[0].size(), limits));
  CB_ASSIGN_OR_RETURN(const auto groups, GroupFrames(frames, header));
  // Joined first, so that an allocation failure leaves `frames` as they came.
  std::vector<zmq::message_t> joined(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto [first, end] = groups[i];
    if (end - first == 1) continue;
    try {
      joined[i].rebuild(static_cast<size_t>(header.tensors[i].byte_count));
    } catch (const zmq::error_t& error) {
      return FrameError(i, header.tensors[i],
                        std::string("cannot join its chunks: ") + error.what());
    }
    char* out = static_cast<char*>(joined[i].data());
    for (size_t f = first; f < end; ++f) {
      std::memcpy(out, frames[f].data(), frames[f].size());
      out += frames[f].size();
    }
  }
  WireMessage message;
  message.header = std::move(header);
  message.tensor_frames.reserve(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    const size_t first = groups[i].first;
    message.tensor_frames.push_back(groups[i].second - first == 1 ? std::move(frames[first])
                                                                  : std::move(joined[i]));
  }
  frames.clear();
  return message;
}

}  // namespace cloudbook
