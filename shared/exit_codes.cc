#include "shared/exit_codes.h"

#include <algorithm>

namespace cloudbook {

const std::vector<ExitCodeRow>& ExitCodeTable() {
  static const std::vector<ExitCodeRow> table = {
      {kExitOk, "kExitOk", "success"},
      {kExitInternal, "kExitInternal", "unexpected error"},
      {kExitUsage, "kExitUsage", "bad command line"},
      {kExitInvalidInput, "kExitInvalidInput",
       "invalid or missing input (project, agent, DUs, program, config, data)"},
      {kExitIo, "kExitIo", "I/O error or a corrupt file"},
      {kExitFailed, "kExitFailed", "training or the run failed"},
      {kExitConflict, "kExitConflict",
       "conflict (another deployer holds the project; the agent already runs, is not running "
       "or did not stop)"},
      {kExitUnavailable, "kExitUnavailable",
       "not ready, try later (no live agent or agent 0; agent 0 not running, not answering or "
       "busy; no assignment)"},
      {kExitTimedOut, "kExitTimedOut", "time limit passed"},
      {kExitInterrupted, "kExitInterrupted", "cancelled by Ctrl-C or SIGTERM"},
  };
  return table;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kExitOk;
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
      return kExitInvalidInput;
    case Status::Code::kIoError:
    case Status::Code::kCorruption:
      return kExitIo;
    case Status::Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

std::string ExitCodesHelp() {
  std::string help =
      "Exit codes (the same for every cloudbook program; README.md, \"Exit codes\"):";
  for (const ExitCodeRow& row : ExitCodeTable()) {
    const std::string code = std::to_string(row.code);
    help +=
        "\n  " + std::string(3 - std::min<size_t>(code.size(), 3), ' ') + code + "  " + row.meaning;
  }
  return help;
}

}  // namespace cloudbook
