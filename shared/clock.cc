#include "shared/clock.h"

#include <chrono>
#include <ctime>

namespace cloudbook {

int64_t UnixTimeMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {
std::string FormatUtcNow(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, format, &utc);
  return buffer;
}
}  // namespace

std::string UtcStamp() { return FormatUtcNow("%Y%m%dT%H%M%SZ"); }

std::string UtcNowIso8601() { return FormatUtcNow("%Y-%m-%dT%H:%M:%SZ"); }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace cloudbook
