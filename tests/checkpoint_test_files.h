// Checkpoint files written by hand for tests that need a checkpoint's header and metadata
// (its owner version, its epoch) but no tensors: the layout of shared/formats/checkpoint_header.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "shared/formats/checkpoint_header.h"

namespace cloudbook::testing {

// Header + `metadata` + `payload` (the hash is left 0: only readers of the metadata accept it).
inline std::string CheckpointBytes(const Json& metadata, const std::string& payload = "") {
  auto put64 = [](std::string& out, size_t offset, uint64_t value) {
    for (int i = 0; i < 8; ++i) out[offset + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  };
  const std::string text = metadata.dump();
  std::string file(kCheckpointHeaderBytes, '\0');
  std::copy(std::begin(kCheckpointMagic), std::end(kCheckpointMagic), file.begin());
  put64(file, 8, kCheckpointFormatVersion);
  put64(file, 16, text.size());
  put64(file, 24, payload.size());
  return file + text + payload;
}

}  // namespace cloudbook::testing
