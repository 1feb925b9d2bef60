#include "shared/http_access.h"

#include <arpa/inet.h>

#include <random>

#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "shared/private_files.h"

namespace cloudbook {

bool IsLoopbackHost(const std::string& address) {
  if (address == "localhost" || address == "::1") return true;
  in_addr ipv4{};
  if (inet_pton(AF_INET, address.c_str(), &ipv4) == 1) return (ntohl(ipv4.s_addr) >> 24) == 127;
  return false;
}

std::string HostHeaderHost(const std::string& host_header) {
  if (!host_header.empty() && host_header[0] == '[') {
    const size_t close = host_header.find(']');
    return close == std::string::npos ? host_header : host_header.substr(1, close - 1);
  }
  const size_t colon = host_header.rfind(':');
  return colon == std::string::npos ? host_header : host_header.substr(0, colon);
}

bool ParseListenAddress(const std::string& text, std::string* address, int* port) {
  const size_t colon = text.rfind(':');
  const std::string port_text = colon == std::string::npos ? text : text.substr(colon + 1);
  if (colon != std::string::npos && colon > 0) *address = text.substr(0, colon);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *port = std::stoi(port_text);
  return *port <= 65535;
}

bool BearerTokenMatches(const std::string& authorization_header, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (token.empty() || authorization_header.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string given = authorization_header.substr(prefix.size());
  if (given.size() != token.size()) return false;
  unsigned char difference = 0;  // no early exit: no timing hint about the token
  for (size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return difference == 0;
}

Result<std::string> LoadOrCreateAccessToken(const std::string& token_file) {
  if (!FileExists(token_file)) {
    std::random_device source;  // /dev/urandom on Linux
    static const char* kDigits = "0123456789abcdef";
    std::string token;
    for (int i = 0; i < 32; ++i) {
      const unsigned value = source() & 0xffU;
      token += kDigits[value >> 4];
      token += kDigits[value & 0xfU];
    }
    const Status written =
        WritePrivateFileExclusively(token_file, Json({{"token", token}}).dump(2) + "\n");
    // Another process made it first: use theirs.
    if (!written.ok() && written.code() != Status::Code::kInvalidArgument) return written;
  }
  CB_ASSIGN_OR_RETURN(Json stored, ReadJsonFile(token_file));
  if (!stored.is_object() || !stored.contains("token") || !stored["token"].is_string() ||
      stored["token"].get<std::string>().size() < 32) {
    return Status::Corruption(token_file +
                              " has no usable \"token\" (32 characters or more): delete it to "
                              "make a new one");
  }
  return stored["token"].get<std::string>();
}

}  // namespace cloudbook
