// Wall-clock readings that go into files and names (announcements, stats, run progress, run
// names). Durations and timeouts use std::chrono::steady_clock instead: the wall clock jumps.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cloudbook {

// Milliseconds since the Unix epoch.
int64_t UnixTimeMs();
// Milliseconds of this process's steady clock (never jumps; meaningless on another machine):
// the clock of every liveness and timeout decision.
int64_t SteadyNowMs();
// Seconds of the steady clock since `start`.
double SecondsSince(std::chrono::steady_clock::time_point start);

// The current UTC time as "20261204T193000Z" (sorts as it reads; default run names).
std::string UtcStamp();
// The current UTC time as ISO 8601, "2026-12-04T19:30:00Z" (dates people read in files).
std::string UtcNowIso8601();

}  // namespace cloudbook
