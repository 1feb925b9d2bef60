#include "shared/formats/agent_keys.h"

#include <sodium.h>
#include <zmq.h>

#include <vector>

namespace cloudbook {

namespace {

Status InitSodium() {
  // sodium_init is thread-safe and idempotent: 0 first time, 1 afterwards, -1 on failure.
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  return Status::Ok();
}

std::string ToHex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

bool FromHex(const std::string& hex, std::vector<unsigned char>& bytes, size_t expected) {
  if (!IsHex(hex, expected)) return false;
  bytes.assign(expected, 0);
  size_t length = 0;
  return sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, &length,
                        nullptr) == 0 &&
         length == expected;
}

}  // namespace

bool CurveAvailable() { return zmq_has("curve") != 0; }

Result<SigningKeyPair> GenerateSigningKeyPair() {
  CB_RETURN_IF_ERROR(InitSodium());
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(public_key, secret_key);
  SigningKeyPair keys{ToHex(public_key, sizeof public_key), ToHex(secret_key, sizeof secret_key)};
  sodium_memzero(secret_key, sizeof secret_key);
  return keys;
}

Status CheckSigningKeyPair(const SigningKeyPair& keys) {
  CB_RETURN_IF_ERROR(InitSodium());
  std::vector<unsigned char> public_key, secret_key;
  if (!FromHex(keys.public_key, public_key, crypto_sign_PUBLICKEYBYTES) ||
      !FromHex(keys.secret_key, secret_key, crypto_sign_SECRETKEYBYTES)) {
    return Status::InvalidArgument("signing keys must be 64 (public) and 128 (secret) hex digits");
  }
  unsigned char derived[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(derived, secret_key.data());
  sodium_memzero(secret_key.data(), secret_key.size());
  if (sodium_memcmp(derived, public_key.data(), sizeof derived) != 0) {
    return Status::InvalidArgument("the signing public key does not belong to the secret key");
  }
  return Status::Ok();
}

Result<std::string> SignDetached(const std::string& message, const std::string& secret_key_hex) {
  CB_RETURN_IF_ERROR(InitSodium());
  std::vector<unsigned char> secret_key;
  if (!FromHex(secret_key_hex, secret_key, crypto_sign_SECRETKEYBYTES)) {
    return Status::InvalidArgument("the signing secret key must be 128 hex digits");
  }
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_key.data());
  sodium_memzero(secret_key.data(), secret_key.size());
  return ToHex(signature, sizeof signature);
}

bool VerifyDetached(const std::string& message, const std::string& signature_hex,
                    const std::string& public_key_hex) {
  if (!InitSodium().ok()) return false;
  std::vector<unsigned char> signature, public_key;
  if (!FromHex(signature_hex, signature, crypto_sign_BYTES) ||
      !FromHex(public_key_hex, public_key, crypto_sign_PUBLICKEYBYTES)) {
    return false;
  }
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key.data()) == 0;
}

bool IsHex(const std::string& text, size_t bytes) {
  if (text.size() != bytes * 2) return false;
  return text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

}  // namespace cloudbook
