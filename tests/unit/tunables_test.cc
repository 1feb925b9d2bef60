// The table of timings and limits (shared/tunables.h) and its usage example: defaults are
// today's values, CLOUDBOOK_<NAME> overrides one, a bad value is an error naming the variable,
// every entry has a meaning, and docs/tunables.md is the table as generated.
#include "shared/tunables.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace cloudbook {
namespace {

using std::chrono::milliseconds;

// An environment made of a map, so tests never touch the process's own.
EnvLookup FakeEnvironment(const std::map<std::string, std::string>& values) {
  return [values](const char* name) -> const char* {
    const auto found = values.find(name);
    return found == values.end() ? nullptr : found->second.c_str();
  };
}

TEST(Tunables, DefaultsAreTheDocumentedValues) {
  const Result<Tunables> tunables = TunablesFromEnvironment(FakeEnvironment({}));
  ASSERT_TRUE(tunables.ok()) << tunables.status().message();
  EXPECT_EQ(tunables->liveness_multiplier, 3);
  EXPECT_EQ(tunables->peer_timeout_floor_ms, milliseconds(3000));
  EXPECT_EQ(tunables->assignment_poll_ms, milliseconds(250));
  EXPECT_EQ(tunables->busy_retries, 120);
  EXPECT_EQ(tunables->predict_timeout_ms, milliseconds(30 * 60 * 1000));
  EXPECT_EQ(tunables->cancel_poll_ms, milliseconds(100));
  EXPECT_DOUBLE_EQ(tunables->announce_interval_s, 5);
  EXPECT_DOUBLE_EQ(tunables->heartbeat_interval_s, 1);
  EXPECT_DOUBLE_EQ(tunables->deployer_observe_every_s, 0.2);
  EXPECT_EQ(tunables->max_connections, 512);
  EXPECT_EQ(tunables->max_response_bytes, size_t{16} << 20);
  EXPECT_EQ(tunables->kept_free_heap_bytes, size_t{768} << 20);
  // The compile-time defaults are the same values.
  EXPECT_EQ(tunables_default::assignment_poll_ms, tunables->assignment_poll_ms);
  EXPECT_EQ(tunables_default::liveness_multiplier, tunables->liveness_multiplier);
}

TEST(Tunables, EnvironmentOverrideTakesEffect) {
  const Result<Tunables> tunables =
      TunablesFromEnvironment(FakeEnvironment({{"CLOUDBOOK_ASSIGNMENT_POLL_MS", "40"},
                                               {"CLOUDBOOK_DEPLOYER_OBSERVE_EVERY_S", "0.05"},
                                               {"CLOUDBOOK_MAX_CONNECTIONS", "7"},
                                               {"CLOUDBOOK_NOT_A_TUNABLE", "abc"}}));
  ASSERT_TRUE(tunables.ok()) << tunables.status().message();
  EXPECT_EQ(tunables->assignment_poll_ms, milliseconds(40));
  EXPECT_DOUBLE_EQ(tunables->deployer_observe_every_s, 0.05);
  EXPECT_EQ(tunables->max_connections, 7);
  EXPECT_EQ(tunables->busy_retry_ms, milliseconds(500));  // untouched entries keep defaults
}

TEST(Tunables, RealEnvironmentIsRead) {
  ASSERT_EQ(::setenv("CLOUDBOOK_BUSY_RETRIES", "9", 1), 0);
  const Result<Tunables> tunables =
      TunablesFromEnvironment([](const char* name) { return std::getenv(name); });
  ::unsetenv("CLOUDBOOK_BUSY_RETRIES");
  ASSERT_TRUE(tunables.ok()) << tunables.status().message();
  EXPECT_EQ(tunables->busy_retries, 9);
}

TEST(Tunables, FixedEntriesIgnoreTheEnvironment) {
  const Result<Tunables> tunables =
      TunablesFromEnvironment(FakeEnvironment({{"CLOUDBOOK_LIVENESS_MULTIPLIER", "5"}}));
  ASSERT_TRUE(tunables.ok()) << tunables.status().message();
  EXPECT_EQ(tunables->liveness_multiplier, 3);
}

TEST(Tunables, BadValueIsAnErrorNamingTheVariable) {
  for (const char* bad : {"abc", "", "0", "-5", "12ms", " 12", "1e999"}) {
    const Result<Tunables> tunables =
        TunablesFromEnvironment(FakeEnvironment({{"CLOUDBOOK_ASSIGNMENT_POLL_MS", bad}}));
    ASSERT_FALSE(tunables.ok()) << "accepted \"" << bad << "\"";
    EXPECT_NE(tunables.status().message().find("CLOUDBOOK_ASSIGNMENT_POLL_MS"), std::string::npos)
        << tunables.status().message();
    EXPECT_NE(tunables.status().message().find("250 ms"), std::string::npos)
        << tunables.status().message();
  }
  for (const char* bad : {"x", "0", "-0.1", "nan", "inf", "0.2s"}) {
    const Result<Tunables> tunables =
        TunablesFromEnvironment(FakeEnvironment({{"CLOUDBOOK_LEASE_SETTLE_S", bad}}));
    EXPECT_FALSE(tunables.ok()) << "accepted \"" << bad << "\"";
  }
  // An int entry refuses what does not fit an int.
  EXPECT_FALSE(
      TunablesFromEnvironment(FakeEnvironment({{"CLOUDBOOK_MAX_CONNECTIONS", "4294967296"}})).ok());
  EXPECT_FALSE(TunablesFromEnvironment(FakeEnvironment({{"CLOUDBOOK_BUSY_RETRIES", "2.5"}})).ok());
}

TEST(Tunables, EveryEntryHasANameAndAMeaning) {
  std::set<std::string> names;
  ASSERT_GT(TunableTable().size(), 50u);
  for (const TunableInfo& row : TunableTable()) {
    EXPECT_TRUE(names.insert(row.name).second) << "twice: " << row.name;
    EXPECT_FALSE(row.doc.empty()) << row.name;
    EXPECT_FALSE(row.default_value.empty()) << row.name;
    if (!row.env_var.empty()) {
      EXPECT_EQ(row.env_var.rfind("CLOUDBOOK_", 0), 0u) << row.name;
    }
  }
}

TEST(Tunables, DocsTableIsCurrent) {
  const std::string path = std::string(CLOUDBOOK_SOURCE_DIR) + "/docs/tunables.md";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), TunablesMarkdown())
      << path << " differs from shared/tunables_def.h; write it anew with the text above, e.g.\n"
      << "  CLOUDBOOK_WRITE_TUNABLES_DOC=1 build/bin/cloudbook_unit_tests "
         "--gtest_filter=Tunables.DocsTableIsCurrent";
  if (std::getenv("CLOUDBOOK_WRITE_TUNABLES_DOC") != nullptr) {
    std::ofstream(path) << TunablesMarkdown();
  }
}

}  // namespace
}  // namespace cloudbook
