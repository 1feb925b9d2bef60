// An agent's key pairs: CURVE (libzmq, Z85 text; shared/formats/curve_keys.h) for the
// encrypted data path, and Ed25519 (libsodium, hex text) to sign its announcements. Secret
// keys live only in the agent's local config (mode 0600), never in the shared folder.
#pragma once

#include <string>

#include "shared/formats/curve_keys.h"
#include "shared/status.h"

namespace cloudbook {

struct SigningKeyPair {
  std::string public_key;  // 64 hex characters (32 bytes)
  std::string secret_key;  // 128 hex characters (64 bytes: libsodium's seed + public key)
};

// True when this libzmq was built with CURVE (Debian's is, through libsodium).
bool CurveAvailable();
Result<SigningKeyPair> GenerateSigningKeyPair();

// Checks the format and that the public key belongs to the secret key (a hand-edited or
// damaged config is caught when it is read, not when a peer refuses the agent). The CURVE
// pair's counterpart is ValidateCurveKeyPair (curve_keys.h).
Status CheckSigningKeyPair(const SigningKeyPair& keys);

// Ed25519 detached signature of `message`, 128 hex characters.
Result<std::string> SignDetached(const std::string& message, const std::string& secret_key_hex);
// True only when `signature_hex` is a valid signature of `message` by `public_key_hex`.
bool VerifyDetached(const std::string& message, const std::string& signature_hex,
                    const std::string& public_key_hex);

bool IsHex(const std::string& text, size_t bytes);

}  // namespace cloudbook
