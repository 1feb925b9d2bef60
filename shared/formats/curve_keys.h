// CURVE key pairs for the agents' data path: generation and validation of the 40-character
// Z85 text form ZeroMQ uses (docs/transport.md). Free functions, thread-safe.
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

// One agent's CURVE key pair, both keys as 40-character Z85 text.
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

inline constexpr size_t kCurveKeyZ85Length = 40;

// A fresh key pair from libsodium (zmq_curve_keypair). Fails when libzmq lacks CURVE.
Result<CurveKeyPair> GenerateCurveKeyPair();

// True when `key` is 40 valid Z85 characters (a 32-byte key).
bool IsCurveKeyZ85(const std::string& key);

// Checks both keys' form and that the public key belongs to the secret key.
Status ValidateCurveKeyPair(const CurveKeyPair& keys);

// A second key pair that only a holder of `keys`' secret key can compute: the secret is
// BLAKE2b(`purpose`, secret). Lets two programs of one owner authenticate as different
// clients (cloudbook-run and cloudbook-serve on agent 0's control channel). InvalidArgument
// for a malformed secret key.
Result<CurveKeyPair> DeriveCurveKeyPair(const CurveKeyPair& keys, const std::string& purpose);

// The first characters of a key, enough to tell keys apart in a log line.
std::string CurveKeyPrefix(const std::string& key_z85);

}  // namespace cloudbook
