#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test with ctest, then
# a short fuzzing pass over every fuzz target (scripts/fuzz.sh, clang in build-fuzz/).
#   ./scripts/test.sh            all tests (unit + integration + fault) and the fuzz pass
#   ./scripts/test.sh -L unit    only the quick ones (arguments go to ctest; no fuzz pass)
# CLOUDBOOK_FUZZ_SECONDS sets the fuzz pass's seconds per target (default 10; 0 skips it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CLOUDBOOK_BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/build.sh"
cd "$BUILD_DIR"
# Integration tests train real networks; on a 2-core machine running two at once only
# makes each slower, so the quick tests run in parallel and the slow ones one at a time.
if (($# > 0)); then
  exec ctest --output-on-failure "$@"
fi
ctest --output-on-failure -L unit -j "$(nproc)"
ctest --output-on-failure -L integration
FUZZ_SECONDS="${CLOUDBOOK_FUZZ_SECONDS:-10}"
if ((FUZZ_SECONDS > 0)); then
  "$ROOT/scripts/fuzz.sh" --seconds "$FUZZ_SECONDS"
fi
