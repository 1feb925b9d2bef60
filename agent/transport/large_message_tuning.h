// Process-wide memory settings that let an agent receive big tensors at the speed of the link
// (docs/transport.md, "Large messages"). ZeroMQ's I/O thread mallocs a fresh buffer for every
// received message over ~32 MiB; by default glibc serves it with a fresh mmap, so a 256 MiB
// tensor costs 65536 zero-filled page faults on arrival and an munmap when freed, which halves
// throughput. These settings make glibc reuse such blocks instead.
//
// Call once at the very start of main(), before any thread starts (threads that already exist
// keep their malloc arena). Trade-off: up to kept_free_heap_bytes (shared/tunables_def.h) of
// freed memory stays with the process for reuse instead of going back to the system, and all
// threads share one malloc arena (small allocations still go through glibc's per-thread cache).
#pragma once

#include <cstddef>

#include "shared/status.h"

namespace cloudbook {

// One malloc arena, no mmap for big blocks, trim the heap only beyond kept_free_heap_bytes
// (room for a 256 MiB tensor twice over).
// Internal error if glibc refuses a setting.
Status ConfigureProcessForLargeMessages();

}  // namespace cloudbook
