// Helpers for the fuzz entries: a per-process scratch folder in /dev/shm (readers that take
// a path get the input as a file) and an invariant check that aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cloudbook {

// A folder private to this process under /dev/shm (or $TMPDIR when /dev/shm is absent),
// created on first use and removed at exit.
const std::string& FuzzScratchFolder();
// Writes the bytes to <scratch>/<name> (replacing it) and returns the path.
std::string WriteFuzzFile(const std::string& name, const uint8_t* data, size_t size);
// Aborts with `what` on stderr when `condition` is false: a broken invariant is a finding.
void FuzzCheck(bool condition, const char* what);
// Turns spdlog off: the parsers log every refused file, which would flood libFuzzer's output.
void QuietLogs();

}  // namespace cloudbook
