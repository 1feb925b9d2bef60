#include "fs_adapters/rclone_rc.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace cloudbook {

namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool Contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// Go prints a cut connection as "EOF" / "unexpected EOF": match the word, not "geofence".
bool HasEofWord(const std::string& text) {
  for (size_t at = text.find("EOF"); at != std::string::npos; at = text.find("EOF", at + 1)) {
    const bool starts = at == 0 || !std::isalnum(static_cast<unsigned char>(text[at - 1]));
    const bool ends =
        at + 3 == text.size() || !std::isalnum(static_cast<unsigned char>(text[at + 3]));
    if (starts && ends) return true;
  }
  return false;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, int64_t* month, int64_t* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;
  *day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  *month = shifted_month + (shifted_month < 10 ? 3 : -9);
  *year = year_of_era + era * 400 + (*month <= 2);
}

// Reads exactly `count` digits at text[*at].
bool ReadDigits(const std::string& text, size_t* at, int count, int64_t* value) {
  *value = 0;
  for (int i = 0; i < count; ++i, ++*at) {
    if (*at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[*at]))) return false;
    *value = *value * 10 + (text[*at] - '0');
  }
  return true;
}

bool Expect(const std::string& text, size_t* at, char c) {
  if (*at >= text.size() || text[*at] != c) return false;
  ++*at;
  return true;
}

}  // namespace

bool IsTransientRcloneMessage(const std::string& error_text) {
  if (HasEofWord(error_text)) return true;
  const std::string text = Lower(error_text);
  static const char* const kTransient[] = {
      "connection refused", "connection reset", "broken pipe", "no route to host",
      "network is unreachable", "i/o timeout", "timeout awaiting", "client.timeout",
      "context deadline exceeded", "tls handshake timeout", "timed out", "temporary failure",
      "server misbehaving", "use of closed network connection", "goaway",
      // A download whose file was replaced while it ran (size or hash changed): read again.
      "corrupted on transfer",
      // WebDAV: another request holds a lock on the path (two writers creating one folder).
      "423 locked",
      // Rate limits: Drive (rateLimitExceeded, userRateLimitExceeded), OneDrive
      // (activityLimitReached, throttled), plain HTTP 429.
      "ratelimitexceeded", "rate limit", "activitylimitreached", "throttl", "too many requests",
      "error 429",
      // The service failing on its side (HTTP 5xx, Drive's backendError / internalError).
      "backenderror", "internalerror", "internal server error", "bad gateway",
      "service unavailable", "gateway timeout", "error 500", "error 502", "error 503", "error 504"};
  for (const char* part : kTransient) {
    if (Contains(text, part)) return true;
  }
  return false;
}

RcloneErrorKind ClassifyRcloneError(int http_status, const std::string& error_text) {
  const std::string text = Lower(error_text);
  if (Contains(text, "didn't find section in config file")) return RcloneErrorKind::kNoSuchRemote;
  if (Contains(text, "not a directory")) return RcloneErrorKind::kNotADirectory;
  if (Contains(text, "is a directory")) return RcloneErrorKind::kIsADirectory;
  if (Contains(text, "directory not empty")) return RcloneErrorKind::kNotEmpty;
  if (http_status == 404 || Contains(text, "object not found") ||
      Contains(text, "directory not found") || Contains(text, "file not found") ||
      Contains(text, "404 not found") || Contains(text, "no such file or directory") ||
      Contains(text, "file does not exist")) {
    return RcloneErrorKind::kNotFound;
  }
  // The rc server itself overloaded or restarting, or the text names a passing failure.
  if (http_status == 429 || http_status == 502 || http_status == 503 || http_status == 504 ||
      IsTransientRcloneMessage(error_text)) {
    return RcloneErrorKind::kTransient;
  }
  return RcloneErrorKind::kOther;
}

std::string RcloneFsFor(const std::string& location, const std::string& folder) {
  if (folder.empty()) return location;
  if (location.empty()) return folder;
  const char last = location.back();
  return last == ':' || last == '/' ? location + folder : location + "/" + folder;
}

RcloneLocationParts SplitRcloneLocation(const std::string& location) {
  char quote = 0;
  for (size_t i = 0; i < location.size(); ++i) {
    const char c = location[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if ((c == '"' || c == '\'') && i > 0 && location[i - 1] == '=') {
      quote = c;
    } else if (c == ':' && i > 0) {  // ":backend,..." starts with its own ':'
      return {location.substr(0, i + 1), location.substr(i + 1)};
    }
  }
  return {location, ""};
}

RcloneWriteRoot RcloneWriteRootFor(const std::string& location, const std::string& folder) {
  const auto split = [](const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos
               ? std::make_pair(std::string(), path)
               : std::make_pair(path.substr(0, slash), path.substr(slash + 1));
  };
  if (!folder.empty()) {
    const auto [above, leaf] = split(folder);
    return {RcloneFsFor(location, above), leaf};
  }
  const RcloneLocationParts parts = SplitRcloneLocation(location);
  std::string path = parts.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty()) return {location, ""};  // the remote's root has nothing above it
  const auto [above, leaf] = split(path);
  return {parts.remote + above, leaf};
}

std::string RedactRcloneLocation(const std::string& location) {
  static const char* const kSecretKeys[] = {"pass", "token", "secret", "key"};
  std::string redacted;
  // Parameters follow the backend name, separated by ',' until the ':' before the path;
  // values may be quoted (and then hold ',' and ':').
  size_t at = 0;
  const size_t first_comma = location.find(',');
  const size_t first_colon = location.find(':', location.empty() ? 0 : 1);
  if (first_comma == std::string::npos || first_comma > first_colon) return location;
  redacted = location.substr(0, first_comma);
  at = first_comma;
  while (at < location.size() && location[at] == ',') {
    const size_t equals = location.find('=', at);
    size_t end = at + 1;
    while (end < location.size() && location[end] != ',' && location[end] != ':' &&
           location[end] != '=') {
      ++end;
    }
    if (equals == std::string::npos || equals != end) break;  // not key=value: leave the rest
    const std::string key = Lower(location.substr(at + 1, equals - at - 1));
    size_t value_end = equals + 1;
    if (value_end < location.size() &&
        (location[value_end] == '"' || location[value_end] == '\'')) {
      const size_t close = location.find(location[value_end], value_end + 1);
      value_end = close == std::string::npos ? location.size() : close + 1;
    } else {
      while (value_end < location.size() && location[value_end] != ',' &&
             location[value_end] != ':') {
        ++value_end;
      }
    }
    bool secret = false;
    for (const char* part : kSecretKeys) secret |= Contains(key, part);
    redacted += location.substr(at, equals + 1 - at);
    redacted += secret ? "***" : location.substr(equals + 1, value_end - equals - 1);
    at = value_end;
  }
  return redacted + location.substr(at);
}

std::string EscapeRcloneGlob(const std::string& name) {
  std::string escaped;
  for (const char c : name) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' || c == '\\') {
      escaped += '\\';
    }
    escaped += c;
  }
  return escaped;
}

std::string PercentEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 15];
    }
  }
  return encoded;
}

int ParseServingPort(const std::string& line) {
  static const std::string kMarker = "Serving remote control on http://";
  const size_t marker = line.find(kMarker);
  if (marker == std::string::npos) return 0;
  const size_t colon = line.find(':', marker + kMarker.size());
  if (colon == std::string::npos) return 0;
  int port = 0;
  size_t at = colon + 1;
  for (; at < line.size() && std::isdigit(static_cast<unsigned char>(line[at])); ++at) {
    port = port * 10 + (line[at] - '0');
    if (port > 65535) return 0;
  }
  return at > colon + 1 ? port : 0;
}

std::string FormatRcloneTime(int64_t unix_ns) {
  constexpr int64_t kNsPerDay = 86400LL * 1000000000LL;
  int64_t days = unix_ns / kNsPerDay;
  int64_t rest = unix_ns % kNsPerDay;
  if (rest < 0) {
    rest += kNsPerDay;
    --days;
  }
  int64_t year, month, day;
  CivilFromDays(days, &year, &month, &day);
  const int64_t seconds = rest / 1000000000LL;
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60),
                static_cast<long long>(rest % 1000000000LL));
  return text;
}

bool ParseRcloneTime(const std::string& text, int64_t* unix_ns) {
  size_t at = 0;
  int64_t year, month, day, hour, minute, second;
  if (!ReadDigits(text, &at, 4, &year) || !Expect(text, &at, '-') ||
      !ReadDigits(text, &at, 2, &month) || !Expect(text, &at, '-') ||
      !ReadDigits(text, &at, 2, &day) || !(Expect(text, &at, 'T') || Expect(text, &at, 't')) ||
      !ReadDigits(text, &at, 2, &hour) || !Expect(text, &at, ':') ||
      !ReadDigits(text, &at, 2, &minute) || !Expect(text, &at, ':') ||
      !ReadDigits(text, &at, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  int64_t fraction_ns = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int digits = 0;
    for (; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at) {
      if (digits++ < 9) fraction_ns = fraction_ns * 10 + (text[at] - '0');
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) fraction_ns *= 10;
  }
  int64_t offset_seconds = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int64_t sign = text[at] == '-' ? -1 : 1;
    ++at;
    int64_t offset_hours, offset_minutes;
    if (!ReadDigits(text, &at, 2, &offset_hours) || !Expect(text, &at, ':') ||
        !ReadDigits(text, &at, 2, &offset_minutes)) {
      return false;
    }
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
  } else {
    return false;
  }
  if (at != text.size()) return false;
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  *unix_ns = seconds * 1000000000LL + fraction_ns;
  return true;
}

}  // namespace cloudbook
