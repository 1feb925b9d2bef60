// What every cloudbook command line shares: the --log-level option and parsing that ends with
// the right exit code on --help or a bad command line (CLI11 prints the text). Header-only so
// that only the mains, which already use CLI11, include CLI11.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace cloudbook {

inline CLI::Option* AddLogLevelOption(CLI::App& command, std::string& log_level) {
  return command.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

// Parses the command line. Returns the code to exit with when the command must end now:
// `ok_code` after --help (or --version), `usage_code` for a bad command line; nothing when
// the command goes on.
inline std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, int ok_code,
                                           int usage_code) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? ok_code : usage_code;
  }
  return std::nullopt;
}

}  // namespace cloudbook
