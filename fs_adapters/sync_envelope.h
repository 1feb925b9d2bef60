// The envelope of every file the sync-tolerant back end (synced_shared_folder.h) writes: one
// header line, then the payload:
//   #cloudbook-sync v1 len=<payload bytes> crc32=<8 hex> version=<ns> writer=<host:pid>
//   name=<logical name>\n<payload>
// (one line; writer and name are percent-encoded). A header, not a trailer: a desktop sync
// client delivers a file from its start, so a half-delivered file already says how long it
// will be, and the CRC (zlib's CRC-32) catches one whose bytes are all there but not yet
// right (pre-allocated, then filled). The version orders conflicting copies of one file; the
// name says which logical file a renamed conflict copy belongs to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shared/status.h"

namespace cloudbook {

// A header line longer than this is corrupt (a name is at most 1024 bytes, x3 encoded).
inline constexpr size_t kMaxSyncHeaderBytes = 4096;

struct SyncEnvelopeHeader {
  uint64_t length = 0;  // payload bytes
  uint32_t crc32 = 0;   // zlib CRC-32 of the payload
  int64_t version = 0;  // the writer's stamp: ns since the epoch, strictly increasing per writer
  std::string writer;   // "host:pid"
  std::string name;     // the logical name in the shared folder ("agents/a.json")
};

// Header line + payload.
std::string WrapInSyncEnvelope(std::string_view payload, int64_t version, const std::string& writer,
                               const std::string& name);

enum class SyncFileState {
  kPlain,       // no envelope: a file put there by someone else (training data): use as is
  kComplete,    // envelope, payload whole
  kIncomplete,  // envelope (or the start of one) but not all there yet: still syncing
};

struct SyncFileView {
  SyncFileState state = SyncFileState::kPlain;
  bool has_header = false;  // the header line is whole and parsed (`header` is valid)
  SyncEnvelopeHeader header;
  size_t header_bytes = 0;     // the header line with its '\n'
  std::string why_incomplete;  // for messages
};

// Classifies a whole file. An empty file or one that is a strict prefix of the envelope's
// magic is incomplete (this back end never writes one). Corruption when the file starts
// with the magic and a whole header line that is malformed (unknown format version, missing
// or duplicate field, bad number, bad name).
Result<SyncFileView> InspectSyncFile(std::string_view contents);

// The same from a file's first bytes (at least kMaxSyncHeaderBytes of them when the file is
// that long) and its size: kComplete then means only that the length matches.
Result<SyncFileView> InspectSyncHeader(std::string_view prefix, uint64_t file_size);

// The payload of a kComplete file (a view into `contents`).
std::string_view SyncPayload(std::string_view contents, const SyncFileView& view);

// A stamp above `above` and above every stamp this process returned before:
// max(now in ns, last + 1, above + 1).
int64_t NextSyncVersion(int64_t above = 0);

// "host:pid" of this process.
std::string SyncWriterId();

}  // namespace cloudbook
