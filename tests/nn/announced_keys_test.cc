// The ZAP handler's key cache (agent/runtime/announced_keys.h): a peer announced a moment ago
// gets in at its first handshake (libzmq never retries a refused one), while a flood of unknown
// keys costs a bounded number of folder scans.
#include "agent/runtime/announced_keys.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>

namespace cloudbook {
namespace {

class KeySource {
 public:
  AnnouncedKeyCache::KeyMap Scan() {
    ++scans_;
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_;
  }
  void Announce(const std::string& key, const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    keys_[key] = id;
  }
  int scans() const { return scans_; }

 private:
  std::mutex mutex_;
  AnnouncedKeyCache::KeyMap keys_;
  std::atomic<int> scans_{0};
};

TEST(AnnouncedKeyCache, AKeyAnnouncedAfterTheLastScanIsFoundAtItsFirstHandshake) {
  KeySource source;
  source.Announce("key-a", "agent-a");
  AnnouncedKeyCache cache([&] { return source.Scan(); }, std::chrono::seconds(1));
  cache.Replace(source.Scan());  // as AgentNode does at start, and its periodic refresh
  std::string id;
  ASSERT_TRUE(cache.Find("key-a", &id));
  EXPECT_EQ(id, "agent-a");
  // `cloudbook-agent call` announces itself and connects at once, right after a refresh.
  source.Announce("key-b", "agent-b");
  ASSERT_TRUE(cache.Find("key-b", &id));
  EXPECT_EQ(id, "agent-b");
}

TEST(AnnouncedKeyCache, AFloodOfUnknownKeysCostsAFewScansAndNoWaitEach) {
  KeySource source;
  AnnouncedKeyCache cache([&] { return source.Scan(); }, std::chrono::seconds(1));
  cache.Replace(source.Scan());
  const int before = source.scans();
  const auto start = std::chrono::steady_clock::now();
  std::string id;
  for (int i = 0; i < 5000; ++i) EXPECT_FALSE(cache.Find("fresh-" + std::to_string(i), &id));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // One waiting lookup (at most kUnknownKeyWait), the others immediate.
  EXPECT_LT(seconds, 0.25 + 0.5) << "unknown keys waited for scans";
  EXPECT_LE(source.scans() - before, 2) << "one scan per unknown key";
}

}  // namespace
}  // namespace cloudbook
