#include "shared/tunables.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <optional>
#include <type_traits>

namespace cloudbook {

namespace {

using tunables_types::Ms;

constexpr bool kEnv = true;  // the entry reads CLOUDBOOK_<NAME>
constexpr bool kFixed = false;

std::string EnvName(const std::string& name) {
  std::string upper = "CLOUDBOOK_";
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Shown(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

std::string DefaultText(const std::string& /*name*/, Ms value) {
  return std::to_string(value.count()) + " ms";
}
std::string DefaultText(const std::string& name, double value) {
  return Shown(value) + (EndsWith(name, "_s") ? " s" : "");
}
template <typename Integer>
std::string DefaultText(const std::string& name, Integer value) {
  return std::to_string(value) + (EndsWith(name, "_bytes") ? " bytes" : "");
}

// A whole number > 0 that fits `max`, or nothing.
std::optional<long long> PositiveWhole(const char* text, long long max) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value <= 0 || value > max ||
      std::isspace(static_cast<unsigned char>(text[0])))
    return std::nullopt;
  return value;
}

Status BadValue(const std::string& variable, const char* text, const char* expected,
                const std::string& default_text) {
  return Status::InvalidArgument("environment variable " + variable + "=\"" + text + "\" is not " +
                                 expected + " (its default is " + default_text +
                                 "; unset it to use the default)");
}

Status Parse(const std::string& variable, const char* text, const std::string& default_text,
             Ms* out) {
  const auto value = PositiveWhole(text, std::numeric_limits<int64_t>::max());
  if (!value) return BadValue(variable, text, "a whole number of milliseconds > 0", default_text);
  *out = Ms(*value);
  return Status::Ok();
}
Status Parse(const std::string& variable, const char* text, const std::string& default_text,
             double* out) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !std::isfinite(value) || !(value > 0) ||
      std::isspace(static_cast<unsigned char>(text[0])))
    return BadValue(variable, text, "a number > 0", default_text);
  *out = value;
  return Status::Ok();
}
template <typename Integer>
Status Parse(const std::string& variable, const char* text, const std::string& default_text,
             Integer* out) {
  static_assert(std::is_integral_v<Integer>);
  const long long max = static_cast<long long>(std::min<unsigned long long>(
      std::numeric_limits<Integer>::max(), std::numeric_limits<long long>::max()));
  const auto value = PositiveWhole(text, max);
  if (!value) return BadValue(variable, text, "a whole number > 0", default_text);
  *out = static_cast<Integer>(*value);
  return Status::Ok();
}

std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

const std::vector<TunableInfo>& TunableTable() {
  static const std::vector<TunableInfo> table = [] {
    std::vector<TunableInfo> rows;
#define ENV kEnv
#define FIXED kFixed
#define CLOUDBOOK_TUNABLE(type, name, value, override, doc)          \
  rows.push_back({#name, DefaultText(#name, tunables_default::name), \
                  (override) ? EnvName(#name) : std::string(), doc});
#include "shared/tunables_def.h"
#undef CLOUDBOOK_TUNABLE
#undef FIXED
#undef ENV
    return rows;
  }();
  return table;
}

Result<Tunables> TunablesFromEnvironment(const EnvLookup& lookup) {
  Tunables tunables;
#define ENV kEnv
#define FIXED kFixed
#define CLOUDBOOK_TUNABLE(type, name, value, override, doc)                                   \
  if (override) {                                                                             \
    const std::string variable = EnvName(#name);                                              \
    if (const char* text = lookup(variable.c_str()); text != nullptr) {                       \
      CB_RETURN_IF_ERROR(                                                                     \
          Parse(variable, text, DefaultText(#name, tunables_default::name), &tunables.name)); \
    }                                                                                         \
  }
#include "shared/tunables_def.h"
#undef CLOUDBOOK_TUNABLE
#undef FIXED
#undef ENV
  return tunables;
}

namespace {

const Result<Tunables>& ProcessTunables() {
  static const Result<Tunables> tunables =
      TunablesFromEnvironment([](const char* name) { return std::getenv(name); });
  return tunables;
}

}  // namespace

const Tunables& GetTunables() {
  const Result<Tunables>& tunables = ProcessTunables();
  if (!tunables.ok()) {
    std::fprintf(stderr, "cloudbook: %s\n", tunables.status().message().c_str());
    std::abort();
  }
  return *tunables;
}

Status CheckTunables() { return ProcessTunables().status(); }

bool ReportBadTunables() {
  const Status status = CheckTunables();
  if (status.ok()) return false;
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return true;
}

std::string TunablesMarkdown() {
  std::string text =
      "# Tunables\n"
      "\n"
      "Every timing and limit of cloudbook, generated from `shared/tunables_def.h` (the unit test\n"
      "`Tunables.DocsTableIsCurrent` fails when this file and the table disagree; it prints the\n"
      "text to paste here). A variable in the third column, set in the environment of a\n"
      "program, replaces the default for that process: a whole number (milliseconds for `_ms`)\n"
      "or a decimal (`_s`, factors), always > 0; anything else stops the program with an\n"
      "error naming the variable. Entries without a variable are fixed: every machine must\n"
      "agree on them, or `distributed/config.json` sets them per project.\n"
      "\n"
      "| Name | Default | Environment variable | Meaning |\n"
      "|---|---|---|---|\n";
  for (const TunableInfo& row : TunableTable()) {
    text += "| `" + row.name + "` | " + row.default_value + " | " +
            (row.env_var.empty() ? std::string("fixed") : "`" + row.env_var + "`") + " | " +
            Cell(row.doc) + " |\n";
  }
  return text;
}

}  // namespace cloudbook
