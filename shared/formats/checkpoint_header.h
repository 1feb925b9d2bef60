// The torch-free part of the checkpoint format (shared/nn/checkpoint.h describes the whole
// file): the 40-byte header and the metadata JSON that follows it, so that components without
// libtorch (the deployer's version floor) read a checkpoint's owner version and epoch.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kCheckpointFormatVersion = 1;
inline constexpr char kCheckpointMagic[8] = {'C', 'B', 'C', 'K', 'P', 'T', '\r', '\n'};
inline constexpr size_t kCheckpointHeaderBytes = 40;

struct CheckpointHeader {
  uint32_t version = 0;
  uint64_t metadata_bytes = 0;
  uint64_t payload_bytes = 0;
  uint64_t hash = 0;  // Hash64 of metadata + payload
};

// Parses the first kCheckpointHeaderBytes of `bytes`. Corruption (naming `path`) for a bad
// magic, another format version or an absurd metadata length.
Result<CheckpointHeader> ParseCheckpointHeader(const char* bytes, const std::string& path);

// The metadata JSON of the checkpoint at `path` (local or remote), without reading tensors
// where the back end allows. NotFound when absent; Corruption when not a readable checkpoint.
Result<Json> ReadCheckpointMetadata(const std::string& path);

// The highest "owner_version" among the checkpoints (*.pt) under `checkpoints_folder`'s
// du_<i>/ folders; 0 when there are none. Unreadable files are skipped (they cannot fence).
int64_t HighestCheckpointOwnerVersion(const std::string& checkpoints_folder);

}  // namespace cloudbook
