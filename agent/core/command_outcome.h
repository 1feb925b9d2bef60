// How an agent command ends, and the exit code the command line reports for it (the table of
// shared/exit_codes.h): kExitInvalidInput unknown agent, a second agent 0, a grant that cannot
// use the requested device...; kExitConflict the agent's state does not allow it (already
// running, not running, did not stop in time). Value type.
#pragma once

#include <string>

#include "shared/exit_codes.h"
#include "shared/status.h"

namespace cloudbook {

class CommandOutcome {
 public:
  static CommandOutcome Ok() { return CommandOutcome(kExitOk, ""); }
  // The exit code ExitCodeFor(status) gives.
  static CommandOutcome FromStatus(const Status& status);
  static CommandOutcome StateConflict(std::string message) {
    return CommandOutcome(kExitConflict, std::move(message));
  }
  static CommandOutcome Usage(std::string message) {
    return CommandOutcome(kExitUsage, std::move(message));
  }

  bool ok() const { return exit_code_ == kExitOk; }
  int exit_code() const { return exit_code_; }
  const std::string& message() const { return message_; }

 private:
  CommandOutcome(int exit_code, std::string message)
      : exit_code_(exit_code), message_(std::move(message)) {}
  int exit_code_;
  std::string message_;
};

}  // namespace cloudbook
