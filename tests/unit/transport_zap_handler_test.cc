// ZapHandler and the CURVE key helpers, without sockets: the ZAP request frames are built by
// hand as libzmq sends them (RFC 27).
#include "agent/transport/zap_handler.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <zmq.h>

#include <array>
#include <string>
#include <vector>

#include "shared/formats/curve_keys.h"

namespace cloudbook {
namespace {

std::vector<zmq::message_t> ZapRequest(const std::string& mechanism,
                                       const std::string& public_key_z85) {
  std::vector<zmq::message_t> request;
  for (const char* text : {"1.0", "1", "cloudbook", "127.0.0.1", ""}) {
    request.emplace_back(std::string(text));
  }
  request.emplace_back(mechanism);
  if (!public_key_z85.empty()) {
    std::array<uint8_t, 32> key{};
    EXPECT_NE(zmq_z85_decode(key.data(), public_key_z85.c_str()), nullptr);
    request.emplace_back(key.data(), key.size());
  }
  return request;
}

std::string Text(const zmq::message_t& frame) { return frame.to_string(); }

std::shared_ptr<spdlog::logger> QuietLogger() {
  return std::make_shared<spdlog::logger>("zap", std::make_shared<spdlog::sinks::null_sink_mt>());
}

TEST(TransportCurveKeys, GeneratesValidDistinctPairs) {
  Result<CurveKeyPair> first = GenerateCurveKeyPair();
  Result<CurveKeyPair> second = GenerateCurveKeyPair();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(ValidateCurveKeyPair(*first).ok());
  EXPECT_TRUE(IsCurveKeyZ85(first->public_key));
  EXPECT_NE(first->public_key, second->public_key);
  EXPECT_FALSE(ValidateCurveKeyPair({first->public_key, second->secret_key}).ok());
  EXPECT_FALSE(IsCurveKeyZ85("short"));
  EXPECT_EQ(CurveKeyPrefix(first->public_key).size(), 8U);
}

TEST(TransportZapHandler, AcceptsAnnouncedKeysAndNamesTheirAgent) {
  Result<CurveKeyPair> keys = GenerateCurveKeyPair();
  ASSERT_TRUE(keys.ok());
  std::string asked;
  ZapHandler handler(
      [&](const std::string& key, std::string* agent_id) {
        asked = key;
        *agent_id = "agent-a";
        return true;
      },
      QuietLogger(), "agent-b");
  std::vector<zmq::message_t> reply = handler.Answer(ZapRequest("CURVE", keys->public_key));
  ASSERT_EQ(reply.size(), 6U);
  EXPECT_EQ(Text(reply[0]), "1.0");
  EXPECT_EQ(Text(reply[1]), "1");
  EXPECT_EQ(Text(reply[2]), "200");
  EXPECT_EQ(Text(reply[4]), "agent-a");
  EXPECT_EQ(asked, keys->public_key);
  EXPECT_EQ(handler.accepted(), 1U);
}

TEST(TransportZapHandler, RefusesUnknownKeysOtherMechanismsAndJunk) {
  Result<CurveKeyPair> keys = GenerateCurveKeyPair();
  ASSERT_TRUE(keys.ok());
  ZapHandler handler([](const std::string&, std::string*) { return false; }, QuietLogger(),
                     "agent-b");
  EXPECT_EQ(Text(handler.Answer(ZapRequest("CURVE", keys->public_key))[2]), "400");
  EXPECT_EQ(Text(handler.Answer(ZapRequest("NULL", ""))[2]), "400");
  std::vector<zmq::message_t> junk;
  junk.emplace_back(std::string("2.0"));
  EXPECT_EQ(Text(handler.Answer(junk)[2]), "500");
  EXPECT_EQ(handler.refused(), 3U);

  // An authorizer that accepts without naming the agent is a bug: refused.
  ZapHandler nameless([](const std::string&, std::string*) { return true; }, QuietLogger(),
                      "agent-b");
  EXPECT_EQ(Text(nameless.Answer(ZapRequest("CURVE", keys->public_key))[2]), "400");
}

}  // namespace
}  // namespace cloudbook
