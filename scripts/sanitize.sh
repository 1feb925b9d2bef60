#!/usr/bin/env bash
# Builds cloudbook with sanitizers in its own folder and runs tests there (issue 7):
#   scripts/sanitize.sh [address|thread] [ctest arguments...]
# address (default): AddressSanitizer + UndefinedBehaviorSanitizer, build-asan/, every test
#                    unless ctest arguments narrow it (e.g. -L unit);
# thread:            ThreadSanitizer, build-tsan/, the transport tests (-R Transport) unless
#                    told otherwise; libzmq's and libsodium's buffer hand-offs are suppressed
#                    (tests/tsan.supp: those libraries are not instrumented).
# Exit code: ctest's (0 = every selected test passed under the sanitizer).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KIND="${1:-address}"
[[ $# -gt 0 ]] && shift
case "$KIND" in
  address) DIR="$ROOT/build-asan"; SANITIZE="address;undefined"; DEFAULT_ARGS=(); TARGETS=() ;;
  # The transport tests live in the unit test executable: build only that.
  thread) DIR="$ROOT/build-tsan"; SANITIZE="thread"
    DEFAULT_ARGS=(-R "Transport|PeerTransport")
    TARGETS=(--target cloudbook_unit_tests) ;;
  -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
  *) echo "sanitize.sh: unknown kind '$KIND' (address or thread)" >&2; exit 2 ;;
esac
"$ROOT/scripts/install-deps.sh"
cmake -S "$ROOT" -B "$DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLOUDBOOK_SANITIZE="$SANITIZE"
cmake --build "$DIR" -j "$(nproc)" "${TARGETS[@]}"
# Leaks in libtorch's and OpenBLAS's process-lifetime caches are not ours: report, do not fail.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp}"
cd "$DIR"
if [[ $# -gt 0 ]]; then
  ctest --output-on-failure -j "$(nproc)" "$@"
else
  ctest --output-on-failure -j "$(nproc)" "${DEFAULT_ARGS[@]}"
fi
