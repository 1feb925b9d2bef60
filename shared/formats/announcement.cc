#include "shared/formats/announcement.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <chrono>
#include <cmath>

#include "shared/atomic_file.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/grant.h"
#include "shared/printable.h"
#include "shared/private_files.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

// Every check failure reads "<field> must be ...".
Status Wrong(const std::string& field, const std::string& what) {
  return Status::InvalidArgument(field + " must be " + what);
}

Status GetString(const Json& json, const char* key, std::string& value, size_t max_size = 1024) {
  if (!json.contains(key) || !json[key].is_string()) return Wrong(key, "a string");
  value = json[key].get<std::string>();
  if (value.size() > max_size) return Wrong(key, "at most " + std::to_string(max_size) + " bytes");
  return Status::Ok();
}

Status GetInt(const Json& json, const char* key, int64_t& value, int64_t min, int64_t max) {
  if (!json.contains(key) || !json[key].is_number_integer()) return Wrong(key, "an integer");
  // Unsigned values above int64 range would wrap: reject them first.
  if (json[key].is_number_unsigned() &&
      json[key].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Wrong(key, "at most " + std::to_string(max));
  }
  value = json[key].get<int64_t>();
  if (value < min || value > max) {
    return Wrong(key, "from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return Status::Ok();
}

bool ValidEndpoint(const std::string& endpoint) {
  // tcp://<host name or address>:<port>, an IPv6 address in brackets.
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon <= 6 || colon + 1 >= endpoint.size()) return false;
  std::string address = endpoint.substr(6, colon - 6);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (!IsHostNameOrAddress(address)) return false;
  const std::string port = endpoint.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int value = std::stoi(port);
  return value > 0 && value <= 65535;
}

Result<std::string> Canonical(const Json& unsigned_json) {
  try {
    return unsigned_json.dump();
  } catch (const Json::exception& error) {  // invalid UTF-8 in a string
    return Status::InvalidArgument(std::string("cannot be serialised: ") + error.what());
  }
}

}  // namespace

std::string AgentRunStateName(AgentRunState state) {
  switch (state) {
    case AgentRunState::kStarting:
      return "starting";
    case AgentRunState::kRunning:
      return "running";
    case AgentRunState::kStopping:
      return "stopping";
  }
  return "starting";
}

Json UnsignedAnnouncementJson(const Announcement& announcement) {
  return {{"format_version", kAnnouncementFormatVersion},
          {"id", announcement.id},
          {"grant", GrantName(announcement.grant)},
          {"host", announcement.host},
          {"endpoint", announcement.endpoint},
          {"curve_public_key", announcement.curve_public_key},
          {"signing_public_key", announcement.signing_public_key},
          {"plaintext", announcement.plaintext},
          {"capacity",
           {{"cores", announcement.capacity.cores},
            {"gflops", announcement.capacity.gflops},
            {"gpu", announcement.capacity.gpu},
            {"gpu_gflops", announcement.capacity.gpu_gflops}}},
          {"sequence", announcement.sequence},
          {"time", announcement.time_ms},
          {"announce_interval_s", announcement.announce_interval_s},
          {"pid", announcement.pid},
          {"status", AgentRunStateName(announcement.status)},
          {"dus", announcement.dus}};
}

Result<Json> SignCanonicalJson(Json json, const std::string& secret_key) {
  json.erase("signature");
  CB_ASSIGN_OR_RETURN(std::string canonical, Canonical(json));
  CB_ASSIGN_OR_RETURN(std::string signature, SignDetached(canonical, secret_key));
  json["signature"] = signature;
  return json;
}

Status VerifyCanonicalJson(const Json& json, const std::string& public_key) {
  if (!json.is_object() || !json.contains("signature") || !json["signature"].is_string() ||
      !IsHex(json["signature"].get<std::string>(), 64)) {
    return Wrong("signature", "128 hex digits");
  }
  Json unsigned_json = json;
  unsigned_json.erase("signature");
  CB_ASSIGN_OR_RETURN(std::string canonical, Canonical(unsigned_json));
  if (!VerifyDetached(canonical, json["signature"].get<std::string>(), public_key)) {
    return Status::InvalidArgument(
        "bad signature: the file was changed after it was signed (tampered or corrupt)");
  }
  return Status::Ok();
}

Result<Json> SignAnnouncement(const Announcement& announcement, const std::string& secret_key) {
  return SignCanonicalJson(UnsignedAnnouncementJson(announcement), secret_key);
}

Status WriteAnnouncement(const std::string& shared_folder, const Announcement& announcement,
                         const std::string& secret_key) {
  CB_RETURN_IF_ERROR(ValidateAgentId(announcement.id));
  CB_ASSIGN_OR_RETURN(Json json, SignAnnouncement(announcement, secret_key));
  return WriteJsonFileAtomically(
      SharedFolderLayout(shared_folder).announcement_file(announcement.id), json);
}

Result<Announcement> ParseAnnouncement(const std::string& text, const std::string& expected_id) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& error) {
    return Status::Corruption(std::string("bad JSON: ") + error.what());
  }
  if (!json.is_object()) return Wrong("the file", "a JSON object");
  int64_t version = 0;
  CB_RETURN_IF_ERROR(GetInt(json, "format_version", version, 0, INT32_MAX));
  if (version != kAnnouncementFormatVersion) {
    return Status::InvalidArgument("format_version " + std::to_string(version) +
                                   " is not supported (this build reads " +
                                   std::to_string(kAnnouncementFormatVersion) +
                                   "): update cloudbook on the machines of this project");
  }
  Announcement out;
  CB_RETURN_IF_ERROR(GetString(json, "id", out.id, 64));
  if (out.id != expected_id) {
    return Status::InvalidArgument("holds the id '" + Printable(out.id) +
                                   "', not the file's name '" + Printable(expected_id) + "'");
  }
  std::string grant;
  CB_RETURN_IF_ERROR(GetString(json, "grant", grant, 16));
  if (!ParseGrant(grant).ok() || grant != GrantName(*ParseGrant(grant))) {
    return Wrong("grant", "HIGH, MEDIUM or LOW");
  }
  out.grant = *ParseGrant(grant);
  CB_RETURN_IF_ERROR(GetString(json, "host", out.host, 255));
  if (!IsHostNameOrAddress(out.host)) {
    return Wrong("host",
                 "a host name or address ([A-Za-z0-9.-_:], not '" + Printable(out.host) + "')");
  }
  CB_RETURN_IF_ERROR(GetString(json, "endpoint", out.endpoint, 300));
  if (!ValidEndpoint(out.endpoint)) return Wrong("endpoint", "tcp://<address>:<port>");
  if (!json.contains("plaintext") || !json["plaintext"].is_boolean()) {
    return Wrong("plaintext", "true or false");
  }
  out.plaintext = json["plaintext"].get<bool>();
  CB_RETURN_IF_ERROR(GetString(json, "curve_public_key", out.curve_public_key, 40));
  if (!IsCurveKeyZ85(out.curve_public_key) && !(out.plaintext && out.curve_public_key.empty())) {
    return Wrong("curve_public_key", "40 Z85 characters");
  }
  CB_RETURN_IF_ERROR(GetString(json, "signing_public_key", out.signing_public_key, 64));
  if (!IsHex(out.signing_public_key, 32)) return Wrong("signing_public_key", "64 hex digits");
  if (!json.contains("capacity") || !json["capacity"].is_object()) {
    return Wrong("capacity", "an object");
  }
  const Json& capacity = json["capacity"];
  int64_t cores = 0;
  CB_RETURN_IF_ERROR(GetInt(capacity, "cores", cores, 1, 65536).WithContext("capacity"));
  out.capacity.cores = static_cast<int>(cores);
  for (const char* key : {"gflops", "gpu_gflops"}) {
    if (!capacity.contains(key) || !capacity[key].is_number() ||
        !std::isfinite(capacity[key].get<double>()) || capacity[key].get<double>() < 0) {
      return Wrong(std::string("capacity.") + key, "a number >= 0");
    }
  }
  out.capacity.gflops = capacity["gflops"].get<double>();
  out.capacity.gpu_gflops = capacity["gpu_gflops"].get<double>();
  CB_RETURN_IF_ERROR(GetString(capacity, "gpu", out.capacity.gpu, 255).WithContext("capacity"));
  if (!IsPrintable(out.capacity.gpu)) {
    return Wrong("capacity.gpu", "printable text without control characters");
  }
  int64_t sequence = 0;
  CB_RETURN_IF_ERROR(GetInt(json, "sequence", sequence, 1, INT64_MAX));
  out.sequence = static_cast<uint64_t>(sequence);
  CB_RETURN_IF_ERROR(GetInt(json, "time", out.time_ms, 0, INT64_MAX));
  if (!json.contains("announce_interval_s") || !json["announce_interval_s"].is_number() ||
      !(json["announce_interval_s"].get<double>() > 0)) {
    return Wrong("announce_interval_s", "a number > 0");
  }
  out.announce_interval_s = json["announce_interval_s"].get<double>();
  CB_RETURN_IF_ERROR(GetInt(json, "pid", out.pid, 1, INT32_MAX));
  std::string status;
  CB_RETURN_IF_ERROR(GetString(json, "status", status, 16));
  if (status == "starting") {
    out.status = AgentRunState::kStarting;
  } else if (status == "running") {
    out.status = AgentRunState::kRunning;
  } else if (status == "stopping") {
    out.status = AgentRunState::kStopping;
  } else {
    return Wrong("status", "starting, running or stopping");
  }
  if (!json.contains("dus") || !json["dus"].is_array() || json["dus"].size() > 100000) {
    return Wrong("dus", "an array of DU indices");
  }
  for (const Json& du : json["dus"]) {
    if (!du.is_number_integer() || du.get<int64_t>() < 0 || du.get<int64_t>() > 100000) {
      return Wrong("dus", "an array of DU indices (integers from 0 to 100000)");
    }
    out.dus.push_back(du.get<int>());
  }
  CB_RETURN_IF_ERROR(GetString(json, "signature", out.signature, 128));
  CB_RETURN_IF_ERROR(VerifyCanonicalJson(json, out.signing_public_key));
  return out;
}

AnnouncementScan ReadAnnouncements(const std::string& shared_folder,
                                   const std::map<std::string, std::string>& pinned_signing_keys,
                                   bool log_ignored) {
  AnnouncementScan scan;
  const std::string folder = SharedFolderLayout(shared_folder).announcements();
  const Result<std::vector<std::string>> names = ListFolder(folder);
  if (!names.ok()) {
    if (names.status().code() != Status::Code::kNotFound) {
      spdlog::warn("cannot list {}: {}", folder, names.status().message());
    }
    return scan;
  }
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.') continue;  // hidden files
    const std::string path = folder + "/" + name;
    // Names and reasons come from other machines' files: printable before anyone prints them.
    const auto ignore = [&](const std::string& reason) {
      IgnoredAnnouncement ignored{Printable(path), Printable(reason)};
      if (log_ignored) spdlog::warn("ignoring announcement {}: {}", ignored.path, ignored.reason);
      scan.ignored.push_back(std::move(ignored));
    };
    if (fs::path(name).extension() != ".json") {
      ignore("not a .json file");
      continue;
    }
    const std::string id = fs::path(name).stem().string();
    if (!ValidateAgentId(id).ok()) {
      ignore("the file name is not a valid agent id");
      continue;
    }
    auto text = ReadRegularFileBounded(path, kMaxAnnouncementBytes);
    if (!text.ok()) {
      if (text.status().code() != Status::Code::kNotFound) ignore(text.status().message());
      continue;  // removed since the listing: not an error
    }
    auto announcement = ParseAnnouncement(*text, id);
    if (!announcement.ok()) {
      ignore(announcement.status().message());
      continue;
    }
    const auto pinned = pinned_signing_keys.find(id);
    if (pinned != pinned_signing_keys.end() && pinned->second != announcement->signing_public_key) {
      ignore("signed with a key that is not the one in this machine's config of " + id +
             " (another writer replaced the file)");
      continue;
    }
    scan.valid.push_back(std::move(*announcement));
  }
  return scan;
}

bool IsStale(const Announcement& announcement, int64_t now_ms, double interval_s) {
  const double limit_ms = kStaleIntervals * interval_s * 1000.0;
  return static_cast<double>(now_ms - announcement.time_ms) > limit_ms;
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown-host";
  return name;
}

}  // namespace cloudbook
