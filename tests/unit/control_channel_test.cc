// Agent 0's control channel (agent/core/control_channel.h): cloudbook-run and cloudbook-serve
// are connected at the same time, each under its own authenticated id (the server's key pair is
// derived from agent 0's secret key), and a client holding neither key gets nothing.
#include "agent/core/control_channel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>

#include "agent/transport/invoke_context.h"
#include "shared/formats/curve_keys.h"

namespace cloudbook {
namespace {

using std::chrono::milliseconds;

AgentConfig AgentZero() {
  AgentConfig config;
  config.id = "agent-0";
  config.agent_0 = true;
  auto keys = GenerateCurveKeyPair();
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  config.curve = *keys;
  return config;
}

Result<WireMessage> Ask(PeerTransport& client) {
  WireMessage invoke;
  invoke.header.kind = MessageKind::kInvoke;
  invoke.header.function = "serve_predict";
  invoke.header.du = 0;
  return client.Call(kControlPeerId, std::move(invoke), milliseconds(5000));
}

TEST(ControlChannel, RunAndServeClientsAreConnectedAtOnceUnderTheirOwnIds) {
  const AgentConfig config = AgentZero();
  std::mutex mutex;
  std::multiset<std::string> callers;
  auto server = StartControlServer(config, [&](InvokeContext& context) -> Result<WireMessage> {
    std::lock_guard<std::mutex> lock(mutex);
    callers.insert(context.caller_id());
    WireMessage reply;
    reply.header.arguments = {{"caller", context.caller_id()}};
    return reply;
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ControlEndpoint endpoint;
  endpoint.endpoint = (*server)->endpoint();

  auto run = ConnectControlClient(config, endpoint);
  auto serve = ConnectControlClient(config, endpoint, kServeClientId);
  ASSERT_TRUE(run.ok() && serve.ok());
  ASSERT_TRUE((*run)->WaitForPeer(kControlPeerId, milliseconds(10000)));
  ASSERT_TRUE((*serve)->WaitForPeer(kControlPeerId, milliseconds(10000)));
  for (int i = 0; i < 3; ++i) {  // interleaved: neither connection displaces the other
    auto from_run = Ask(**run);
    auto from_serve = Ask(**serve);
    ASSERT_TRUE(from_run.ok()) << from_run.status().ToString();
    ASSERT_TRUE(from_serve.ok()) << from_serve.status().ToString();
    EXPECT_EQ(StringArgument(from_run->header.arguments, "caller"), kLauncherId);
    EXPECT_EQ(StringArgument(from_serve->header.arguments, "caller"), kServeClientId);
  }

  // The serve keys are agent 0's own derivation: another agent's config derives other keys,
  // which the channel refuses.
  AgentConfig stranger = AgentZero();
  auto intruder = ConnectControlClient(stranger, endpoint, kServeClientId);
  ASSERT_TRUE(intruder.ok());
  EXPECT_FALSE((*intruder)->WaitForPeer(kControlPeerId, milliseconds(1500)));
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(callers.count(kLauncherId), 3u);
  EXPECT_EQ(callers.count(kServeClientId), 3u);
  EXPECT_EQ(callers.size(), 6u);
}

TEST(ControlChannel, DerivedKeysAreAValidPairOnlyTheSecretsHolderComputes) {
  auto keys = GenerateCurveKeyPair();
  ASSERT_TRUE(keys.ok());
  auto derived = DeriveCurveKeyPair(*keys, "purpose");
  ASSERT_TRUE(derived.ok()) << derived.status().ToString();
  EXPECT_TRUE(ValidateCurveKeyPair(*derived).ok());
  EXPECT_NE(derived->public_key, keys->public_key);
  EXPECT_EQ(DeriveCurveKeyPair(*keys, "purpose")->secret_key, derived->secret_key);
  EXPECT_NE(DeriveCurveKeyPair(*keys, "other")->secret_key, derived->secret_key);
  EXPECT_FALSE(DeriveCurveKeyPair(CurveKeyPair{"x", "y"}, "purpose").ok());
}

}  // namespace
}  // namespace cloudbook
