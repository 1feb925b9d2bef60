#include "agent/transport/large_message_tuning.h"

#include <malloc.h>

#include <climits>
#include <string>

#include "shared/tunables.h"

namespace cloudbook {

Status ConfigureProcessForLargeMessages() {
  // Order matters little, but all three are needed (measured, docs/transport.md):
  // - M_MMAP_MAX 0: big blocks come from the heap, so a freed one is reused, its pages still
  //   mapped. Alone it does nothing for ZeroMQ: a thread's own arena falls back to mmap for
  //   blocks beyond its 64 MiB heap.
  // - M_ARENA_MAX 1: every thread (ZeroMQ's I/O thread too) allocates from the main heap.
  // - M_TRIM_THRESHOLD: the freed block at the top of the heap is kept, not given back.
  struct Setting {
    int parameter;
    int value;
    const char* name;
  };
  const Setting settings[] = {
      {M_ARENA_MAX, 1, "M_ARENA_MAX"},
      {M_MMAP_MAX, 0, "M_MMAP_MAX"},
      {M_TRIM_THRESHOLD, static_cast<int>(tunables_default::kept_free_heap_bytes),
       "M_TRIM_THRESHOLD"},
  };
  static_assert(tunables_default::kept_free_heap_bytes <= static_cast<size_t>(INT_MAX));
  for (const Setting& setting : settings) {
    if (mallopt(setting.parameter, setting.value) != 1) {
      return Status::Internal(std::string("mallopt(") + setting.name + ", " +
                              std::to_string(setting.value) + ") refused");
    }
  }
  return Status::Ok();
}

}  // namespace cloudbook
