// Agent ids: random and readable ("agent-brisk-otter-3fa2"), or exactly "agent-0" for the
// project owner's agent. An id names files (agents/<id>.json, distributed/agents/<id>.json,
// distributed/stats/<id>.json), so every id that comes from outside is validated first.
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

inline constexpr const char* kAgentZeroId = "agent-0";

// "agent-" + adjective + "-" + noun + "-" + 4 hex digits, from std::random_device.
std::string GenerateAgentId();

// 1 to 64 characters from [A-Za-z0-9._-], not starting with '.' or '-': safe as a file name
// (no '/', no "..", no hidden files). The message says what is wrong.
Status ValidateAgentId(const std::string& id);

}  // namespace cloudbook
