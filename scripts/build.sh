#!/usr/bin/env bash
# Configures and builds Reach into build/ (Ninja, ccache). Usage: scripts/build.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${REACH_BUILD_DIR:-build}
BUILD_TYPE=${REACH_BUILD_TYPE:-RelWithDebInfo}
JOBS=${REACH_JOBS:-$(nproc)}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
fi
ninja -C "$BUILD_DIR" -j "$JOBS" "$@"
