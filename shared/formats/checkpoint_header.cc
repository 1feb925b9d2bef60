#include "shared/formats/checkpoint_header.h"

#include <cstring>
#include <fstream>

#include "shared/atomic_file.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace {

// Far above any real history (about 300 bytes per epoch), far below an absurd allocation
// a garbage length would ask for.
constexpr uint64_t kMaxMetadataBytes = uint64_t{1} << 30;

uint64_t Get64(const char* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

}  // namespace

Result<CheckpointHeader> ParseCheckpointHeader(const char* bytes, const std::string& path) {
  if (std::memcmp(bytes, kCheckpointMagic, sizeof(kCheckpointMagic)) != 0) {
    return Status::Corruption(path + " is not a cloudbook checkpoint (bad magic)");
  }
  CheckpointHeader header;
  header.version = static_cast<uint32_t>(Get64(bytes + 8) & 0xFFFFFFFFu);
  header.metadata_bytes = Get64(bytes + 16);
  header.payload_bytes = Get64(bytes + 24);
  header.hash = Get64(bytes + 32);
  if (header.version != static_cast<uint32_t>(kCheckpointFormatVersion)) {
    return Status::Corruption(path + " has checkpoint format version " +
                              std::to_string(header.version) + "; this build reads version " +
                              std::to_string(kCheckpointFormatVersion));
  }
  if (header.metadata_bytes == 0 || header.metadata_bytes > kMaxMetadataBytes) {
    return Status::Corruption(path + ": metadata length " + std::to_string(header.metadata_bytes) +
                              " is out of range");
  }
  return header;
}

Result<Json> ReadCheckpointMetadata(const std::string& path) {
  std::string metadata;
  if (IsRemoteLocation(path)) {
    // A remote back end reads whole files; checkpoints are a few MB.
    CB_ASSIGN_OR_RETURN(const std::string file, ReadWholeFile(path));
    if (file.size() < kCheckpointHeaderBytes) {
      return Status::Corruption(path + " is shorter than a checkpoint header");
    }
    CB_ASSIGN_OR_RETURN(CheckpointHeader header, ParseCheckpointHeader(file.data(), path));
    if (header.metadata_bytes > file.size() - kCheckpointHeaderBytes) {
      return Status::Corruption(path + " is torn: its metadata is cut short");
    }
    metadata = file.substr(kCheckpointHeaderBytes, header.metadata_bytes);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (!FileExists(path)) return Status::NotFound(path);
      return Status::IoError("cannot read " + path);
    }
    char bytes[kCheckpointHeaderBytes];
    in.read(bytes, sizeof(bytes));
    if (in.gcount() != static_cast<std::streamsize>(sizeof(bytes))) {
      return Status::Corruption(path + " is shorter than a checkpoint header");
    }
    CB_ASSIGN_OR_RETURN(CheckpointHeader header, ParseCheckpointHeader(bytes, path));
    metadata.assign(header.metadata_bytes, '\0');
    in.read(metadata.data(), static_cast<std::streamsize>(metadata.size()));
    if (in.gcount() != static_cast<std::streamsize>(metadata.size())) {
      return Status::Corruption(path + " is torn: its metadata is cut short");
    }
  }
  return ParseJsonText(metadata, path);
}

int64_t HighestCheckpointOwnerVersion(const std::string& checkpoints_folder) {
  int64_t highest = 0;
  const auto folders = ListFolder(checkpoints_folder);
  if (!folders.ok()) return 0;
  for (const std::string& folder : *folders) {
    if (folder.rfind("du_", 0) != 0) continue;
    const auto files = ListFolder(checkpoints_folder + "/" + folder);
    if (!files.ok()) continue;
    for (const std::string& file : *files) {
      if (file.size() < 3 || file.compare(file.size() - 3, 3, ".pt") != 0) continue;
      const auto metadata = ReadCheckpointMetadata(checkpoints_folder + "/" + folder + "/" + file);
      if (!metadata.ok()) continue;
      highest = std::max(highest, ValueOr<int64_t>(*metadata, "owner_version", 0));
    }
  }
  return highest;
}

}  // namespace cloudbook
