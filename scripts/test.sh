#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration) with ctest.
# The last lines are ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
start=$(date +%s)
bash scripts/build.sh
echo "build: $(( $(date +%s) - start )) s"
cd "${REACH_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 -j "${REACH_TEST_JOBS:-2}" "$@"
