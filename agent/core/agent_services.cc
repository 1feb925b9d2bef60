#include "agent/core/agent_services.h"

namespace cloudbook {

Status NullAgentServices::Start(AgentServicesContext& context) {
  limits_ = context.limits;
  return Status::Ok();
}

}  // namespace cloudbook
