#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds cloudbook into build/ (or
# $CLOUDBOOK_BUILD_DIR). Extra arguments go to cmake's configure step.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CLOUDBOOK_BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"
