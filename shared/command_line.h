// What every cloudbook command line shares: the --log-level option and parsing that ends with
// the exit code of shared/exit_codes.h on --help or a bad command line (CLI11 prints the
// text). Header-only so that only the mains, which already use CLI11, include CLI11.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "shared/exit_codes.h"

namespace cloudbook {

inline CLI::Option* AddLogLevelOption(CLI::App& command, std::string& log_level) {
  return command.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

// Parses the command line. Returns the code to exit with when the command must end now:
// kExitOk after --help (or --version), kExitUsage for a bad command line (whatever code
// CLI11 gives it); nothing when the command goes on.
inline std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

}  // namespace cloudbook
