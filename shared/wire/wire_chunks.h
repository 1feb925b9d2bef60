// Tensor bytes in bounded frames (docs/wire-protocol.md, "Chunks"): a sender cuts every tensor
// frame larger than kWireChunkBytes into chunks that share its buffer (no copy); a receiver
// joins a tensor that came in several frames into one frame (one copy) before DecodeMessage.
// So no frame on the wire exceeds MaxWireFrameBytes, and a transport can set ZMQ_MAXMSGSIZE to
// that: libzmq checks and allocates by it per frame, also before authentication.
// Stateless functions: safe on any thread. Errors as Status, the frames left untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>
#include <zmq.hpp>

#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

// Largest tensor chunk a sender puts in one frame. Part of the protocol: receivers accept no
// larger frame (bench/README.md, "Chunks", for the choice).
inline constexpr size_t kWireChunkBytes = size_t{1} << 20;
// What CURVE adds to each frame on the wire (MESSAGE command name, nonce, MAC, flags: 33
// bytes), rounded up.
inline constexpr size_t kCurveFrameOverheadBytes = 64;

// The largest ZMTP frame a receiver needs to accept: a header or a chunk, encrypted.
int64_t MaxWireFrameBytes(const WireLimits& limits);

// EncodeMessage, then every tensor frame above `chunk_bytes` cut into chunks of `chunk_bytes`
// (the last one shorter) that keep the original frame alive until all are sent.
std::vector<zmq::message_t> EncodeChunkedMessage(WireMessage&& message,
                                                 size_t chunk_bytes = kWireChunkBytes);

// The receiving side of EncodeChunkedMessage: groups the frames after the header by the
// header's byte counts (each tensor one or more frames, none empty unless the tensor is, no
// frame across two tensors), joins each tensor that came in several frames, then
// DecodeMessage. A tensor in one frame is not copied.
Result<WireMessage> DecodeChunkedMessage(std::vector<zmq::message_t>&& frames,
                                         const WireLimits& limits = {});

}  // namespace cloudbook
