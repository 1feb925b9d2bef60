// How an agent command ends, and the exit code the command line reports for it:
//   0 ok, 2 bad command line, 3 invalid input (unknown agent, a second agent 0, a grant that
//   cannot use the requested device...), 4 I/O or environment error, 6 the agent's state does
//   not allow it (already running, not running, did not stop in time).
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

inline constexpr int kAgentExitOk = 0;
inline constexpr int kAgentExitUsage = 2;
inline constexpr int kAgentExitInvalidInput = 3;
inline constexpr int kAgentExitIo = 4;
inline constexpr int kAgentExitState = 6;

class CommandOutcome {
 public:
  static CommandOutcome Ok() { return CommandOutcome(kAgentExitOk, ""); }
  // Invalid argument and not found: 3; I/O, corruption and internal errors: 4.
  static CommandOutcome FromStatus(const Status& status);
  static CommandOutcome StateConflict(std::string message) {
    return CommandOutcome(kAgentExitState, std::move(message));
  }
  static CommandOutcome Usage(std::string message) {
    return CommandOutcome(kAgentExitUsage, std::move(message));
  }

  bool ok() const { return exit_code_ == kAgentExitOk; }
  int exit_code() const { return exit_code_; }
  const std::string& message() const { return message_; }

 private:
  CommandOutcome(int exit_code, std::string message)
      : exit_code_(exit_code), message_(std::move(message)) {}
  int exit_code_;
  std::string message_;
};

int ExitCodeForStatus(const Status& status);

}  // namespace cloudbook
