#include "shared/formats/curve_keys.h"

#include <sodium.h>
#include <zmq.h>

#include <array>
#include <cstdint>

namespace cloudbook {

Result<CurveKeyPair> GenerateCurveKeyPair() {
  if (zmq_has("curve") == 0) {
    return Status::Internal("this libzmq was built without CURVE (libsodium); cannot make keys");
  }
  std::array<char, kCurveKeyZ85Length + 1> public_key{};
  std::array<char, kCurveKeyZ85Length + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    return Status::Internal(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{std::string(public_key.data()), std::string(secret_key.data())};
}

bool IsCurveKeyZ85(const std::string& key) {
  if (key.size() != kCurveKeyZ85Length) return false;
  std::array<uint8_t, 32> binary{};
  return zmq_z85_decode(binary.data(), key.c_str()) != nullptr;
}

Status ValidateCurveKeyPair(const CurveKeyPair& keys) {
  if (!IsCurveKeyZ85(keys.public_key)) {
    return Status::InvalidArgument("CURVE public key is not 40 Z85 characters");
  }
  if (!IsCurveKeyZ85(keys.secret_key)) {
    return Status::InvalidArgument("CURVE secret key is not 40 Z85 characters");
  }
  std::array<char, kCurveKeyZ85Length + 1> derived{};
  if (zmq_curve_public(derived.data(), keys.secret_key.c_str()) != 0) {
    return Status::Internal(std::string("zmq_curve_public failed: ") + zmq_strerror(zmq_errno()));
  }
  if (keys.public_key != derived.data()) {
    return Status::InvalidArgument("CURVE public key " + CurveKeyPrefix(keys.public_key) +
                                   "... does not belong to the secret key");
  }
  return Status::Ok();
}

Result<CurveKeyPair> DeriveCurveKeyPair(const CurveKeyPair& keys, const std::string& purpose) {
  std::array<uint8_t, 32> secret{};
  if (!IsCurveKeyZ85(keys.secret_key) ||
      zmq_z85_decode(secret.data(), keys.secret_key.c_str()) == nullptr) {
    return Status::InvalidArgument("CURVE secret key is not 40 Z85 characters");
  }
  std::array<uint8_t, 32> derived{};
  crypto_generichash(derived.data(), derived.size(), secret.data(), secret.size(),
                     reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size());
  sodium_memzero(secret.data(), secret.size());
  std::array<char, kCurveKeyZ85Length + 1> secret_z85{};
  std::array<char, kCurveKeyZ85Length + 1> public_z85{};
  const bool encoded = zmq_z85_encode(secret_z85.data(), derived.data(), derived.size()) != nullptr;
  sodium_memzero(derived.data(), derived.size());
  if (!encoded || zmq_curve_public(public_z85.data(), secret_z85.data()) != 0) {
    return Status::Internal(std::string("deriving a CURVE key pair failed: ") +
                            zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{std::string(public_z85.data()), std::string(secret_z85.data())};
}

std::string CurveKeyPrefix(const std::string& key_z85) { return key_z85.substr(0, 8); }

}  // namespace cloudbook
