// The exit codes of every cloudbook program, one table (README.md, "Exit codes"): a code means
// the same in cloudbook-maker, -deployer, -agent, -run and -dashboard. ExitCodeFor maps a
// Status to its code; a program uses a named code directly for a meaning no Status code
// carries (failed, conflict, unavailable, timed out, interrupted). Constants and pure
// functions: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

// Success (also a service - agent launch, deployer -s, dashboard - stopped by SIGINT/SIGTERM).
inline constexpr int kExitOk = 0;
// Unexpected error: a bug, or the system refused what the program needs (Status kInternal).
inline constexpr int kExitInternal = 1;
// Bad command line, CLI11's own parse errors included.
inline constexpr int kExitUsage = 2;
// Invalid or missing input: no such project or agent, no DUs yet, a malformed program, config
// or data file (Status kInvalidArgument, kNotFound).
inline constexpr int kExitInvalidInput = 3;
// I/O error: a file, folder or socket cannot be read or written, or a project file is corrupt
// (Status kIoError, kCorruption).
inline constexpr int kExitIo = 4;
// The work failed: training (maker --local), or the run (a DU failed, data or composition).
inline constexpr int kExitFailed = 5;
// Conflict: another deployer holds the project, or the agent's state forbids the command.
inline constexpr int kExitConflict = 6;
// Not ready, try later: no live agent or agent 0, agent 0 not running, not answering or busy
// with another run, no assignment yet.
inline constexpr int kExitUnavailable = 7;
// The time limit passed (cloudbook-run --timeout).
inline constexpr int kExitTimedOut = 8;
// Cancelled by Ctrl-C or SIGTERM before the work finished (128 + SIGINT, as shells report it).
inline constexpr int kExitInterrupted = 130;

// One row of the table: the code, its constant's name and what it means (the words of --help).
struct ExitCodeRow {
  int code;
  const char* name;
  const char* meaning;
};

// Every code above, in increasing order.
const std::vector<ExitCodeRow>& ExitCodeTable();

// The exit code of a command that ends with `status`: kOk 0, kInternal 1, kInvalidArgument and
// kNotFound 3, kIoError and kCorruption 4.
int ExitCodeFor(const Status& status);

// The --help epilog of every program: "Exit codes (... README.md ...):", then one line per code.
std::string ExitCodesHelp();

}  // namespace cloudbook
