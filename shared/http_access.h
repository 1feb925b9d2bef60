// The access rules cloudbook's HTTP services share (the dashboard's, docs/dashboard.md, and
// cloudbook-serve's, docs/serve.md): loopback-only unless a token guards the service; on
// loopback the Host header must name loopback (no DNS rebinding); a token is checked as
// `Authorization: Bearer <token>` without timing hints; tokens live in private 0600 files.
// Pure functions except LoadOrCreateAccessToken (files). Thread-safe.
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& address);

// The host of a Host header: "127.0.0.1:8750" -> "127.0.0.1"; "[::1]:8750" -> "::1".
std::string HostHeaderHost(const std::string& host_header);

// A --listen value: "ADDRESS:PORT", ":PORT" or "PORT" (the address then stays as given, the
// caller's loopback default); false when it is none of these or the port is above 65535.
bool ParseListenAddress(const std::string& text, std::string* address, int* port);

// True when `authorization_header` is "Bearer <token>" (compared in constant time).
bool BearerTokenMatches(const std::string& authorization_header, const std::string& token);

// The token in `token_file` ({"token": "<at least 32 characters>"}), made (32 random bytes,
// hex) and stored there (0600, new folders 0700) when the file is missing. Corruption naming
// the file when it holds no usable token.
Result<std::string> LoadOrCreateAccessToken(const std::string& token_file);

}  // namespace cloudbook
