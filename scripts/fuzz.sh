#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs each for a bounded
# time on a copy of its committed corpus (fuzz/corpus/<target>/). Prints execs/s and total
# execs per target; exits non-zero on a crash, leak, UB or timeout, naming the input to keep
# (as tests/fuzz_regressions/<target>/<name>).
#   scripts/fuzz.sh [--seconds N] [--target NAME] [--merge]
# --merge: after the run, merge new coverage-increasing inputs into the committed corpus.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CLOUDBOOK_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_PER_TARGET=60
ONLY=""
MERGE=0
ALL_TARGETS=(wire program shared_json idx csv keras_import)

while (($#)); do
  case "$1" in
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --target) ONLY="$2"; shift 2 ;;
    --merge) MERGE=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
TARGETS=("${ALL_TARGETS[@]}")
if [[ -n "$ONLY" ]]; then
  [[ " ${ALL_TARGETS[*]} " == *" $ONLY "* ]] || { echo "fuzz.sh: no target $ONLY" >&2; exit 2; }
  TARGETS=("$ONLY")
fi

"$ROOT/scripts/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCLOUDBOOK_BUILD_TESTS=OFF -DCLOUDBOOK_FUZZ=ON >/dev/null
cmake --build "$BUILD_DIR" -j2 --target "${TARGETS[@]/#/fuzz_}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cloudbook-fuzz.XXXXXX")"
echo "fuzz.sh: work folder $WORK (corpus copies, logs, crash inputs)"
# The targets' input files (fuzz/fuzz_support.cc); removed here since libFuzzer skips atexit.
export CLOUDBOOK_FUZZ_SCRATCH="$(mktemp -d /dev/shm/cloudbook-fuzz.XXXXXX 2>/dev/null || mktemp -d)"
trap 'rm -rf "$CLOUDBOOK_FUZZ_SCRATCH"' EXIT
# A target's seeds: its committed corpus (fuzz/corpus/<target>/, what --merge grows) and the
# files of the repository it reads anyway, used where they live rather than copied.
seed_files() {
  local target="$1"
  if [[ -d "$ROOT/fuzz/corpus/$target" ]]; then find "$ROOT/fuzz/corpus/$target" -type f; fi
  case "$target" in
    program) ls "$ROOT"/configs/*/original/*.yaml "$ROOT/tests/testdata/spec_fashion_mlp.yaml" ;;
    keras_import) ls "$ROOT"/tests/testdata/keras/*.py ;;
  esac
}

failed=0
for target in "${TARGETS[@]}"; do
  corpus="$WORK/$target/corpus"
  artifacts="$WORK/$target/artifacts/"
  mkdir -p "$corpus" "$artifacts"
  seed_files "$target" | while read -r seed; do cp "$seed" "$corpus/"; done
  log="$WORK/$target/fuzz.log"
  rc=0
  # Bounded: total time, per-input time, memory. Limits are libFuzzer's flags.
  timeout -k 10 $((SECONDS_PER_TARGET + 60)) "$BUILD_DIR/bin/fuzz_$target" "$corpus" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf 'fuzz.sh: %-12s %8s execs/s %12s execs in %ss (corpus %s -> %s files)\n' "$target" \
    "${rate:-?}" "${execs:-?}" "$SECONDS_PER_TARGET" "$(seed_files "$target" | wc -l)" \
    "$(ls "$corpus" | wc -l)"
  if ((rc != 0)); then
    failed=1
    echo "fuzz.sh: $target FAILED (exit $rc); log $log"
    grep -E "^==[0-9]+==ERROR|runtime error|fuzz invariant|SUMMARY" "$log" | head -5 || true
    for input in "$artifacts"*; do [[ -e "$input" ]] && echo "fuzz.sh: crash input $input"; done
  elif ((MERGE)); then
    mkdir -p "$ROOT/fuzz/corpus/$target"
    "$BUILD_DIR/bin/fuzz_$target" -merge=1 "$ROOT/fuzz/corpus/$target" "$corpus" \
      -timeout=10 -rss_limit_mb=2048 -max_len=65536 >>"$log" 2>&1
    echo "fuzz.sh: merged into fuzz/corpus/$target ($(ls "$ROOT/fuzz/corpus/$target" | wc -l) files)"
  fi
done
exit "$failed"
