// The bodies of the fuzz targets (fuzz/*_fuzzer.cc), shared with the unit test that replays
// the kept crash inputs (tests/unit/fuzz_regressions_test.cc). Each Replay* function feeds
// the bytes to the real parsing entry points and returns the parser's Status; it aborts
// only when an invariant breaks (a decoded value that does not survive a round trip), so
// that libFuzzer reports it. Each Fuzz* function is the libFuzzer body (returns 0).
#pragma once

#include <cstddef>
#include <cstdint>

#include "shared/status.h"

namespace cloudbook {

// Wire protocol: header decoder and validator, and DecodeMessage's tensor frame checks.
Status ReplayWire(const uint8_t* data, size_t size);
int FuzzWire(const uint8_t* data, size_t size);

// The program parser (YAML text).
Status ReplayProgram(const uint8_t* data, size_t size);
int FuzzProgram(const uint8_t* data, size_t size);

// The JSON files read from the shared folder and the agent's local config; the first byte
// picks the reader (DU, assignment, project config, announcement, agent config, run files).
Status ReplaySharedJson(const uint8_t* data, size_t size);
int FuzzSharedJson(const uint8_t* data, size_t size);

// The IDX reader (plain or gzip), through a file in /dev/shm.
Status ReplayIdx(const uint8_t* data, size_t size);
int FuzzIdx(const uint8_t* data, size_t size);

// The CSV reader, through a file in /dev/shm; the first byte picks the options.
Status ReplayCsv(const uint8_t* data, size_t size);
int FuzzCsv(const uint8_t* data, size_t size);

// `cloudbook-maker import`: an original SkyNNet Python/Keras program, text in, checked YAML out.
Status ReplayKerasImport(const uint8_t* data, size_t size);
int FuzzKerasImport(const uint8_t* data, size_t size);

}  // namespace cloudbook
