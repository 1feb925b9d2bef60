// The deployer's liveness rule on real files: signed announcements and stats files written to
// a scratch shared folder, read back as the deployer reads them, judged on explicit clocks
// (the deployer's steady clock and its wall clock), including agents whose clocks are off.
#include "deployer/agent_liveness.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <map>
#include <string>

#include "deployer/peer_reports.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/project_layout.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;

constexpr double kTimeoutS = 15;
constexpr int64_t kWallStart = 1'700'000'000'000;  // the deployer's wall clock at steady 0

class LivenessRule : public ::testing::Test {
 protected:
  // Writes (signed) the announcement of `id` with a sequence and its writer's clock.
  void Announce(const std::string& id, uint64_t sequence, int64_t time_ms,
                AgentRunState status = AgentRunState::kRunning) {
    if (!keys_.count(id)) keys_[id] = *GenerateSigningKeyPair();
    Announcement announcement;
    announcement.id = id;
    announcement.grant = Grant::kMedium;
    announcement.host = "host";
    announcement.endpoint = "tcp://127.0.0.1:5551";
    announcement.plaintext = true;
    announcement.signing_public_key = keys_[id].public_key;
    announcement.capacity = {2, 20, "", 0};
    announcement.sequence = sequence;
    announcement.time_ms = time_ms;
    announcement.announce_interval_s = 5;
    announcement.pid = 1;
    announcement.status = status;
    ASSERT_TRUE(WriteAnnouncement(folder_.path(), announcement, keys_[id].secret_key).ok());
  }

  // distributed/stats/<reporter>.json saying it heard `peer` at `last_heard_ms`.
  void Report(const std::string& reporter, int64_t time_ms, const std::string& peer, bool alive,
              int64_t last_heard_ms) {
    Json peers = Json::object();
    if (!peer.empty()) peers[peer] = {{"alive", alive}, {"last_heard_ms", last_heard_ms}};
    testing::WriteFile(SharedFolderLayout(folder_.path()).stats_file(reporter),
                       Json({{"format_version", 1},
                             {"id", reporter},
                             {"time", time_ms},
                             {"interval_s", 2.0},
                             {"peers", peers}})
                           .dump());
  }

  // The state of `id` after one look at steady time `steady_s` (wall clock moves with it).
  AgentLiveness Look(const std::string& id, double steady_s) {
    const int64_t steady_ms = static_cast<int64_t>(steady_s * 1000);
    const PeerReportScan reports = ReadPeerReports(folder_.path());
    for (const AgentLiveness& state :
         tracker_.Update(ReadAnnouncements(folder_.path()), reports.reports, steady_ms,
                         kWallStart + steady_ms)) {
      if (state.id == id) return state;
    }
    ADD_FAILURE() << id << " not tracked";
    return {};
  }

  // What a deployer sees of agents already running when it starts: a first sight, then a new
  // sequence (100, then 101) at the same moment, which confirms them.
  void Meet(const std::vector<std::string>& ids, double steady_s) {
    for (const std::string& id : ids) Announce(id, 100, Wall(steady_s));
    Look(ids.front(), steady_s);
    for (const std::string& id : ids) Announce(id, 101, Wall(steady_s));
    Look(ids.front(), steady_s);
  }

  static int64_t Wall(double steady_s) {
    return kWallStart + static_cast<int64_t>(steady_s * 1000);
  }

  ScratchDir folder_;
  std::map<std::string, SigningKeyPair> keys_;
  LivenessTracker tracker_{kTimeoutS};
};

TEST_F(LivenessRule, LiveWhileNewSequencesArrive) {
  Announce("agent-0", 1, Wall(0));
  Announce("agent-x", 1, Wall(0));
  EXPECT_EQ(Look("agent-x", 0).state, Liveness::kUnconfirmed) << "first sight proves nothing";
  Announce("agent-x", 2, Wall(10));
  EXPECT_EQ(Look("agent-x", 10).state, Liveness::kLive);
  Announce("agent-x", 3, Wall(20));
  const AgentLiveness state = Look("agent-x", 24);
  EXPECT_EQ(state.state, Liveness::kLive) << state.why;
  EXPECT_EQ(state.announcement.grant, Grant::kMedium);
}

TEST_F(LivenessRule, StaleButHeardByAnotherLiveAgentIsLive) {
  Meet({"agent-0", "agent-x"}, 0);
  Report("agent-0", Wall(0), "agent-x", true, Wall(0));
  EXPECT_EQ(Look("agent-x", 0).state, Liveness::kLive);
  // agent-x's announcements stop (a slow shared folder); agent-0 keeps announcing and keeps
  // hearing its heartbeats.
  Announce("agent-0", 2, Wall(10));
  Report("agent-0", Wall(10), "agent-x", true, Wall(10));
  Look("agent-x", 10);
  Announce("agent-0", 3, Wall(20));
  Report("agent-0", Wall(20), "agent-x", true, Wall(19.5));
  const AgentLiveness state = Look("agent-x", 20);
  EXPECT_EQ(state.state, Liveness::kLive) << state.why;
  EXPECT_EQ(state.heard_by, (std::vector<std::string>{"agent-0"}));
  EXPECT_NE(state.why.find("heartbeats seen by agent-0"), std::string::npos) << state.why;
}

TEST_F(LivenessRule, StaleAndNotHeardIsLost) {
  Meet({"agent-0", "agent-x"}, 0);
  Report("agent-0", Wall(0), "agent-x", true, Wall(0));
  Look("agent-x", 0);
  Announce("agent-0", 2, Wall(10));
  Report("agent-0", Wall(10), "agent-x", false, Wall(0));
  Look("agent-x", 10);
  Announce("agent-0", 3, Wall(16));
  Report("agent-0", Wall(16), "agent-x", false, Wall(0));
  const AgentLiveness state = Look("agent-x", 16);
  EXPECT_EQ(state.state, Liveness::kLost);
  EXPECT_TRUE(state.heard_by.empty());
  EXPECT_NE(state.why.find("no announcement for 16.0 s"), std::string::npos) << state.why;
  EXPECT_NE(state.why.find("no heartbeat seen by agent-0"), std::string::npos) << state.why;
}

TEST_F(LivenessRule, AHeartbeatTooOldOrFromAStaleReporterDoesNotCount) {
  Meet({"agent-0", "agent-x"}, 0);
  // alive: true, but last heard 20 s before the report was written.
  Announce("agent-0", 2, Wall(20));
  Report("agent-0", Wall(20), "agent-x", true, Wall(0));
  EXPECT_EQ(Look("agent-x", 20).state, Liveness::kLost);
  // A recent heartbeat: live again.
  Announce("agent-0", 3, Wall(30));
  Report("agent-0", Wall(30), "agent-x", true, Wall(30));
  EXPECT_EQ(Look("agent-x", 30).state, Liveness::kLive);
  // The reporter still announces, but its stats stopped changing: no longer believed.
  Announce("agent-0", 4, Wall(50));
  const AgentLiveness state = Look("agent-x", 50);
  EXPECT_EQ(state.state, Liveness::kLost) << state.why;
  EXPECT_NE(state.why.find("no live agent reports heartbeats"), std::string::npos) << state.why;
}

TEST_F(LivenessRule, WithoutPeersInStatsOnlyAnnouncementsCount) {
  Meet({"agent-0", "agent-x"}, 0);
  Report("agent-0", Wall(0), "", true, 0);  // "peers": {} (agents without heartbeat reports)
  Look("agent-x", 0);
  Announce("agent-0", 2, Wall(16));
  Report("agent-0", Wall(16), "", true, 0);
  const AgentLiveness state = Look("agent-x", 16);
  EXPECT_EQ(state.state, Liveness::kLost);
  EXPECT_NE(state.why.find("no live agent reports heartbeats"), std::string::npos) << state.why;
}

TEST_F(LivenessRule, StoppingIsLostAtOnce) {
  Meet({"agent-x"}, 0);
  EXPECT_EQ(Look("agent-x", 0).state, Liveness::kLive);
  Announce("agent-x", 2, Wall(1), AgentRunState::kStopping);
  const AgentLiveness state = Look("agent-x", 1);
  EXPECT_EQ(state.state, Liveness::kLost);
  EXPECT_NE(state.why.find("stopping"), std::string::npos);
  // Launched again: a new sequence with status running.
  Announce("agent-x", 3, Wall(5));
  EXPECT_EQ(Look("agent-x", 5).state, Liveness::kLive);
}

TEST_F(LivenessRule, AMissingFileIsLostButAnUnreadableOneIsOnlySilence) {
  Meet({"agent-x", "agent-y"}, 0);
  EXPECT_EQ(Look("agent-x", 0).state, Liveness::kLive);
  boost::filesystem::remove(SharedFolderLayout(folder_.path()).announcement_file("agent-x"));
  testing::WriteFile(SharedFolderLayout(folder_.path()).announcement_file("agent-y"), "{ not json");
  const AgentLiveness gone = Look("agent-x", 1);
  EXPECT_EQ(gone.state, Liveness::kLost);
  EXPECT_NE(gone.why.find("removed"), std::string::npos) << gone.why;
  EXPECT_EQ(Look("agent-y", 1).state, Liveness::kLive);  // silent for 1 s only
  EXPECT_EQ(Look("agent-y", 16).state, Liveness::kLost);
}

TEST_F(LivenessRule, SkewedClocksDoNotMatter) {
  // agent-behind's clock is an hour late, agent-ahead's an hour early: neither time is ever
  // compared with ours. Each is unconfirmed at first sight like any agent, live once a new
  // sequence arrives, live while sequences move and lost after the timeout of silence.
  for (const double offset_s : {-3600.0, 3600.0}) {
    const std::string id = offset_s < 0 ? "agent-behind" : "agent-ahead";
    const double t0 = offset_s < 0 ? 0 : 100;
    const auto skewed = [&](double steady_s) {
      return Wall(steady_s) + static_cast<int64_t>(offset_s * 1000);
    };
    Announce(id, 1, skewed(t0));
    const AgentLiveness first = Look(id, t0);
    EXPECT_EQ(first.state, Liveness::kUnconfirmed) << first.why;
    EXPECT_TRUE(tracker_.Settling(static_cast<int64_t>(t0 * 1000)));
    Announce(id, 2, skewed(t0 + 5));
    EXPECT_EQ(Look(id, t0 + 5).state, Liveness::kLive) << id;
    EXPECT_FALSE(tracker_.Settling(static_cast<int64_t>((t0 + 5) * 1000)));
    Announce(id, 3, skewed(t0 + 15));
    EXPECT_EQ(Look(id, t0 + 15).state, Liveness::kLive) << id;
    EXPECT_EQ(Look(id, t0 + 25).state, Liveness::kLive) << id;
    EXPECT_EQ(Look(id, t0 + 31).state, Liveness::kLost) << id;
  }
}

TEST_F(LivenessRule, OnlyANewSequenceConfirmsAndAFastStartWaitsForIt) {
  // A dead agent's file written a moment ago (by any clock) must not count; the live one
  // proves itself with its next announcement. Settling() holds a fast start until every
  // agent seen had two intervals (10 s here) to show a new sequence.
  Announce("agent-dead", 4, Wall(0));
  Announce("agent-x", 1, Wall(0));
  EXPECT_EQ(Look("agent-dead", 0).state, Liveness::kUnconfirmed);
  EXPECT_EQ(Look("agent-x", 0).state, Liveness::kUnconfirmed);
  Announce("agent-x", 2, Wall(1));
  EXPECT_EQ(Look("agent-x", 1).state, Liveness::kLive);
  const AgentLiveness dead = Look("agent-dead", 1);
  EXPECT_EQ(dead.state, Liveness::kUnconfirmed);
  EXPECT_NE(dead.why.find("no new announcement in the 1.0 s since the deployer first saw it"),
            std::string::npos)
      << dead.why;
  EXPECT_TRUE(tracker_.Settling(9'000));
  Look("agent-dead", 10.5);
  EXPECT_FALSE(tracker_.Settling(10'500));
}

TEST_F(LivenessRule, TheTimeoutIsAtLeastTwoAnnounceIntervals) {
  LivenessTracker strict(1);  // shorter than the agents' 5 s interval
  Announce("agent-x", 1, Wall(0));
  auto look = [&](double steady_s) {
    const int64_t steady_ms = static_cast<int64_t>(steady_s * 1000);
    return strict.Update(ReadAnnouncements(folder_.path()), {}, steady_ms, Wall(steady_s))
        .at(0)
        .state;
  };
  EXPECT_EQ(look(0), Liveness::kUnconfirmed);
  Announce("agent-x", 2, Wall(0));
  EXPECT_EQ(look(0), Liveness::kLive);
  EXPECT_EQ(look(9), Liveness::kLive);
  EXPECT_EQ(look(11), Liveness::kLost);
}

TEST_F(LivenessRule, MalformedStatsFilesAreIgnoredWithAReason) {
  Report("agent-0", Wall(0), "agent-x", true, Wall(0));
  testing::WriteFile(SharedFolderLayout(folder_.path()).stats_file("agent-bad"), "[1, 2");
  testing::WriteFile(SharedFolderLayout(folder_.path()).stats_file("agent-liar"),
                     R"({"id": "agent-other", "time": 1})");
  testing::WriteFile(SharedFolderLayout(folder_.path()).stats_file("agent-peers"),
                     R"({"id": "agent-peers", "time": 1, "peers": {"agent-0": {"alive": 1}}})");
  boost::filesystem::create_symlink(SharedFolderLayout(folder_.path()).stats_file("agent-0"),
                                    SharedFolderLayout(folder_.path()).stats_file("agent-link"));
  const PeerReportScan scan = ReadPeerReports(folder_.path());
  ASSERT_EQ(scan.reports.size(), 1u);
  EXPECT_EQ(scan.reports[0].reporter, "agent-0");
  EXPECT_TRUE(scan.reports[0].peers.at("agent-x").alive);
  EXPECT_EQ(scan.reports[0].peers.at("agent-x").last_heard_ms, Wall(0));
  ASSERT_EQ(scan.ignored.size(), 4u);
  std::string reasons;
  for (const IgnoredStatsFile& ignored : scan.ignored) reasons += ignored.reason + "\n";
  EXPECT_NE(reasons.find("not the file's name"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("symlink"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("alive"), std::string::npos) << reasons;
  EXPECT_TRUE(ReadPeerReports(folder_.Join("missing")).reports.empty());
}

}  // namespace
}  // namespace cloudbook
