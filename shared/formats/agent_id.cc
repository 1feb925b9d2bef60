#include "shared/formats/agent_id.h"

#include <cstdio>
#include <iterator>
#include <random>

namespace cloudbook {

namespace {

constexpr const char* kAdjectives[] = {
    "amber", "bold",   "brave",  "brisk",  "calm",   "clever", "crisp", "eager",
    "fair",  "fast",   "gentle", "glad",   "golden", "grand",  "happy", "keen",
    "kind",  "lively", "lucky",  "merry",  "mild",   "noble",  "proud", "quick",
    "quiet", "rapid",  "shiny",  "silent", "steady", "sunny",  "swift", "witty"};
constexpr const char* kNouns[] = {
    "badger", "beaver", "bison", "condor", "crane", "dingo",  "eagle",  "falcon",
    "ferret", "finch",  "gecko", "heron",  "ibis",  "jaguar", "koala",  "lemur",
    "lynx",   "marten", "moose", "newt",   "otter", "panda",  "puffin", "quail",
    "raven",  "robin",  "seal",  "stoat",  "tapir", "tiger",  "walrus", "wombat"};

}  // namespace

std::string GenerateAgentId() {
  std::random_device device;
  std::uniform_int_distribution<size_t> adjective(0, std::size(kAdjectives) - 1);
  std::uniform_int_distribution<size_t> noun(0, std::size(kNouns) - 1);
  std::uniform_int_distribution<unsigned> suffix(0, 0xffff);
  char hex[8];
  std::snprintf(hex, sizeof hex, "%04x", suffix(device));
  return std::string("agent-") + kAdjectives[adjective(device)] + "-" + kNouns[noun(device)] + "-" +
         hex;
}

Status ValidateAgentId(const std::string& id) {
  if (id.empty() || id.size() > 64) {
    return Status::InvalidArgument("agent id '" + id +
                                   "' must have 1 to 64 characters (see `cloudbook-agent list`)");
  }
  if (id[0] == '.' || id[0] == '-') {
    return Status::InvalidArgument("agent id '" + id +
                                   "' must not start with '.' or '-' (see `cloudbook-agent list`)");
  }
  for (const char c : id) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      return Status::InvalidArgument("agent id '" + id +
                                     "' may only use letters, digits, '.', '_' and '-' (see "
                                     "`cloudbook-agent list`)");
    }
  }
  return Status::Ok();
}

}  // namespace cloudbook
