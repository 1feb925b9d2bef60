#include "agent/core/command_outcome.h"

namespace cloudbook {

int ExitCodeForStatus(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kAgentExitOk;
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
      return kAgentExitInvalidInput;
    case Status::Code::kIoError:
    case Status::Code::kCorruption:
    case Status::Code::kInternal:
      return kAgentExitIo;
  }
  return kAgentExitIo;
}

CommandOutcome CommandOutcome::FromStatus(const Status& status) {
  return CommandOutcome(ExitCodeForStatus(status), status.message());
}

}  // namespace cloudbook
