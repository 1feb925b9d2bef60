#include "fs_adapters/sync_envelope.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace {

constexpr std::string_view kMagic = "#cloudbook-sync ";
constexpr std::string_view kFormat = "v1";

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()),
                                       static_cast<z_size_t>(bytes.size())));
}

// Keeps the header one line of space-separated fields whatever the name holds.
bool NeedsEscape(unsigned char c) { return c <= 0x20 || c >= 0x7f || c == '%' || c == '='; }

std::string PercentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (!NeedsEscape(c)) {
      out += ch;
      continue;
    }
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int high = HexDigit(text[i + 1]);
    const int low = HexDigit(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

bool ParseDecimal(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;  // 19 digits always fit in int64
  uint64_t result = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = result;
  return true;
}

Status Corrupt(const std::string& what) {
  return Status::Corruption("malformed cloudbook-sync header: " + what);
}

// Parses the header line (without its '\n').
Result<SyncEnvelopeHeader> ParseHeaderLine(std::string_view line) {
  std::vector<std::string_view> tokens;
  size_t start = 0;
  while (start <= line.size()) {
    const size_t space = std::min(line.find(' ', start), line.size());
    tokens.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  // tokens[0] is the magic without its space.
  if (tokens.size() < 2 || tokens[1] != kFormat) {
    const std::string format = tokens.size() < 2 ? "" : std::string(tokens[1]);
    return Corrupt("format '" + format + "' is not " + std::string(kFormat) +
                   " (written by a newer cloudbook?)");
  }
  std::map<std::string_view, std::string_view> fields;
  for (size_t i = 2; i < tokens.size(); ++i) {
    const size_t equals = tokens[i].find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return Corrupt("field '" + std::string(tokens[i]) + "' is not key=value");
    }
    if (!fields.emplace(tokens[i].substr(0, equals), tokens[i].substr(equals + 1)).second) {
      return Corrupt("field '" + std::string(tokens[i].substr(0, equals)) + "' appears twice");
    }
  }
  for (const char* key : {"len", "crc32", "version", "writer", "name"}) {
    if (fields.count(key) == 0) return Corrupt(std::string("field '") + key + "' is missing");
  }
  SyncEnvelopeHeader header;
  if (!ParseDecimal(fields["len"], &header.length)) {
    return Corrupt("len '" + std::string(fields["len"]) + "' is not a byte count");
  }
  const std::string_view crc = fields["crc32"];
  uint64_t crc_value = 0;
  bool crc_ok = crc.size() == 8;
  for (const char c : crc) {
    const int digit = HexDigit(c);
    crc_ok = crc_ok && digit >= 0;
    crc_value = crc_value * 16 + static_cast<uint64_t>(std::max(digit, 0));
  }
  if (!crc_ok) return Corrupt("crc32 '" + std::string(crc) + "' is not 8 hex digits");
  header.crc32 = static_cast<uint32_t>(crc_value);
  uint64_t version = 0;
  if (!ParseDecimal(fields["version"], &version) || version == 0) {
    return Corrupt("version '" + std::string(fields["version"]) + "' is not a positive number");
  }
  header.version = static_cast<int64_t>(version);
  if (!PercentDecode(fields["writer"], &header.writer) || header.writer.empty()) {
    return Corrupt("writer '" + std::string(fields["writer"]) + "' is not percent-encoded text");
  }
  if (!PercentDecode(fields["name"], &header.name) || !ValidateSharedName(header.name).ok()) {
    return Corrupt("name '" + std::string(fields["name"]) + "' is not a valid shared-folder name");
  }
  return header;
}

}  // namespace

std::string WrapInSyncEnvelope(std::string_view payload, int64_t version, const std::string& writer,
                               const std::string& name) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", Crc32(payload));
  std::string out;
  out.reserve(payload.size() + 128 + name.size());
  out.append(kMagic).append(kFormat);
  out += " len=" + std::to_string(payload.size()) + " crc32=" + crc +
         " version=" + std::to_string(version) + " writer=" + PercentEncode(writer) +
         " name=" + PercentEncode(name) + "\n";
  out.append(payload);
  return out;
}

Result<SyncFileView> InspectSyncHeader(std::string_view prefix, uint64_t file_size) {
  SyncFileView view;
  if (prefix.size() < kMagic.size()) {
    if (kMagic.substr(0, prefix.size()) == prefix && file_size == prefix.size()) {
      view.state = SyncFileState::kIncomplete;
      view.why_incomplete = file_size == 0 ? "empty" : "only the start of a header";
    }
    return view;
  }
  if (prefix.substr(0, kMagic.size()) != kMagic) return view;  // plain
  const size_t newline = prefix.find('\n');
  if (newline == std::string_view::npos) {
    if (prefix.size() >= kMaxSyncHeaderBytes) {
      return Corrupt("no end of line within " + std::to_string(kMaxSyncHeaderBytes) + " bytes");
    }
    view.state = SyncFileState::kIncomplete;
    view.why_incomplete = "header line not whole (" + std::to_string(file_size) + " bytes)";
    return view;
  }
  CB_ASSIGN_OR_RETURN(view.header, ParseHeaderLine(prefix.substr(0, newline)));
  view.has_header = true;
  view.header_bytes = newline + 1;
  const uint64_t have = file_size < view.header_bytes ? 0 : file_size - view.header_bytes;
  if (have != view.header.length) {
    view.state = SyncFileState::kIncomplete;
    view.why_incomplete =
        std::to_string(have) + " of " + std::to_string(view.header.length) + " payload bytes";
    return view;
  }
  view.state = SyncFileState::kComplete;
  return view;
}

Result<SyncFileView> InspectSyncFile(std::string_view contents) {
  CB_ASSIGN_OR_RETURN(SyncFileView view, InspectSyncHeader(contents, contents.size()));
  if (view.state != SyncFileState::kComplete) return view;
  const uint32_t crc = Crc32(SyncPayload(contents, view));
  if (crc != view.header.crc32) {
    view.state = SyncFileState::kIncomplete;
    char message[64];
    std::snprintf(message, sizeof message, "CRC-32 %08x, header says %08x", crc, view.header.crc32);
    view.why_incomplete = message;
  }
  return view;
}

std::string_view SyncPayload(std::string_view contents, const SyncFileView& view) {
  return contents.substr(view.header_bytes);
}

int64_t NextSyncVersion(int64_t above) {
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  int64_t previous = last.load();
  int64_t next = 0;
  do {
    next = std::max({now, previous + 1, above + 1});
  } while (!last.compare_exchange_weak(previous, next));
  return next;
}

std::string SyncWriterId() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return std::string(host) + ":" + std::to_string(::getpid());
}

}  // namespace cloudbook
