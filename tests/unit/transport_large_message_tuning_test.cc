// ConfigureProcessForLargeMessages: a freed 128 MiB block is reused with its pages still
// mapped, instead of a fresh mmap that page-faults on every page. Runs in forked children,
// since the settings are process-wide.
#include "agent/transport/large_message_tuning.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace cloudbook {
namespace {

constexpr size_t kBlock = size_t{128} << 20;  // 32768 pages of 4 KiB

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// In a child: optionally tunes, then receives "two messages" (malloc, fill, free) and exits
// with the second message's minor page faults, in thousands (capped at 100).
int SecondMessageKiloFaults(bool tune) {
  const pid_t child = fork();
  if (child == 0) {
    if (tune && !ConfigureProcessForLargeMessages().ok()) _exit(255);
    for (int message = 0; message < 2; ++message) {
      const long before = MinorFaults();
      char* block = static_cast<char*>(std::malloc(kBlock));
      if (block == nullptr) _exit(254);
      std::memset(block, message + 1, kBlock);
      // Keeps the compiler from dropping the malloc/memset/free as unused.
      asm volatile("" : : "r"(block) : "memory");
      const long faults = MinorFaults() - before;
      std::free(block);
      if (message == 1) _exit(static_cast<int>(std::min<long>(faults / 1000, 100)));
    }
    _exit(253);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(TransportLargeMessageTuning, AFreedBigBlockIsReusedWithoutPageFaults) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers replace glibc's allocator, whose tuning this test measures";
#endif
  const int untuned = SecondMessageKiloFaults(false);
  const int tuned = SecondMessageKiloFaults(true);
  // Untuned glibc maps a fresh zeroed block: one fault per page (huge pages would lower it,
  // so only "many" is asserted). Tuned: the pages are still there.
  EXPECT_GE(untuned, 1) << "untuned: " << untuned << "k faults";
  EXPECT_EQ(tuned, 0) << "tuned: " << tuned << "k faults";
}

}  // namespace
}  // namespace cloudbook
