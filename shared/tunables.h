// Every timing and limit in one table (shared/tunables_def.h, one documented line each with
// its default; docs/tunables.md lists them). Read a value with GetTunables().name; the
// compile-time default is tunables_default::name. Entries marked ENV take their value from
// CLOUDBOOK_<NAME> when set, read once per process. Thread-safe: the table is built once and
// never changes. A bad override is reported by CheckTunables() (programs call it first thing
// and exit 2); GetTunables() aborts with the same message if nobody checked.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

namespace tunables_types {
using Ms = std::chrono::milliseconds;
}  // namespace tunables_types

namespace tunables_default {
using tunables_types::Ms;
#define CLOUDBOOK_TUNABLE(type, name, value, override, doc) inline constexpr type name = value;
#include "shared/tunables_def.h"
#undef CLOUDBOOK_TUNABLE
}  // namespace tunables_default

struct Tunables {
  using Ms = tunables_types::Ms;
#define CLOUDBOOK_TUNABLE(type, name, value, override, doc) type name = tunables_default::name;
#include "shared/tunables_def.h"
#undef CLOUDBOOK_TUNABLE
};

// One row of the table, for docs and tests.
struct TunableInfo {
  std::string name;           // e.g. "assignment_poll_ms"
  std::string default_value;  // e.g. "250 ms"
  std::string env_var;        // e.g. "CLOUDBOOK_ASSIGNMENT_POLL_MS"; empty when FIXED
  std::string doc;
};
const std::vector<TunableInfo>& TunableTable();

// Looks up an environment variable; nullptr when unset.
using EnvLookup = std::function<const char*(const char* name)>;

// The defaults with every set CLOUDBOOK_<NAME> of an ENV entry applied. An error names the
// variable, its value and what it must be.
Result<Tunables> TunablesFromEnvironment(const EnvLookup& lookup);

// This process's table (built from the real environment on first use).
const Tunables& GetTunables();
// The error GetTunables() would abort with, or Ok: main() calls this before anything else.
Status CheckTunables();
// For main(): true (after printing the error to stderr) when an override is bad; the program
// then exits with its usage error code.
bool ReportBadTunables();

// docs/tunables.md as it must read: one row per entry.
std::string TunablesMarkdown();

}  // namespace cloudbook
