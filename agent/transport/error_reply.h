// A kError on the wire and the Status it stands for: the sender's Status code travels as the
// `status_code` argument, so the caller sees the callee's error with the same code.
// Stateless functions: safe on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

// A kError answering request `request_id` (about `du` and `function`); the text is cut at
// `max_text` bytes.
WireMessage MakeError(uint64_t request_id, int32_t du, const std::string& function,
                      const Status& status, size_t max_text);

// The caller's view of a kError from `peer_id`: "<peer> (<function>): <error>" with the
// sender's Status code (Internal when it names none or an unknown one).
Status StatusFromErrorReply(const std::string& peer_id, const WireHeader& header);

}  // namespace cloudbook
