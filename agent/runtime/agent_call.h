// `cloudbook-agent call`: invokes one DU function on a peer, as a short-lived agent that must
// not be launched (refused otherwise). The
// calling agent's local config gives its identity (CURVE keys); it announces itself so the
// peer's ZAP handler can accept its key, finds the peer in the announcements, calls with a
// deadline, prints progress, and answers with the result's values and tensor shapes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "shared/status.h"
#include "shared/tunables.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

struct AgentCallOptions {
  std::string project_folder;
  std::string agent_id;  // who calls (its local config)
  std::string peer_id;   // who answers
  std::string function;
  int du = 0;
  WireArguments arguments;
  double timeout_s = GetTunables().call_timeout_s;  // the call's deadline
  // To find the peer and see its heartbeat.
  double connect_timeout_s = GetTunables().connect_timeout_s;
};

struct AgentCallResult {
  WireHeader header;  // of the result (arguments, tensor descriptors)
  int progress_messages = 0;
};

// `on_progress` gets each progress message's arguments (on the calling thread).
Result<AgentCallResult> CallAgent(const AgentCallOptions& options,
                                  const std::function<void(const WireArguments&)>& on_progress);

std::string FormatWireValue(const WireValue& value);

}  // namespace cloudbook
