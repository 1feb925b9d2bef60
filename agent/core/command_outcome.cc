#include "agent/core/command_outcome.h"

namespace cloudbook {

CommandOutcome CommandOutcome::FromStatus(const Status& status) {
  return CommandOutcome(ExitCodeFor(status), status.message());
}

}  // namespace cloudbook
