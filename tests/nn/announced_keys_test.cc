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
  // `cloudbook-agent call` announces itself and connects at once, right after a refresh;
  // several agents of a project that starts do so within the same second.
  for (const std::string name : {"b", "c", "d"}) {
    source.Announce("key-" + name, "agent-" + name);
    ASSERT_TRUE(cache.Find("key-" + name, &id)) << name;
    EXPECT_EQ(id, "agent-" + name);
  }
}

TEST(AnnouncedKeyCache, AFloodOfUnknownKeysCostsBoundedWaitsAndScans) {
  KeySource source;
  AnnouncedKeyCache cache([&] { return source.Scan(); }, std::chrono::seconds(1));
  cache.Replace(source.Scan());
  const int before = source.scans();
  const auto start = std::chrono::steady_clock::now();
  std::string id;
  for (int i = 0; i < 5000; ++i) EXPECT_FALSE(cache.Find("fresh-" + std::to_string(i), &id));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Waiting is bounded by the budget of the interval(s) the loop took; scans by the budget
  // too (each waiting key needs one), never one per key.
  const double intervals = seconds + 1;
  EXPECT_LT(seconds, 0.25 * intervals + 0.5) << "unknown keys waited for scans";
  EXPECT_LT(source.scans() - before, 200 * intervals) << "one scan per unknown key";
  EXPECT_LT(source.scans() - before, 5000 / 4) << "one scan per unknown key";
}

}  // namespace
}  // namespace cloudbook
