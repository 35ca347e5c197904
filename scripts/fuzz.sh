#!/usr/bin/env bash
# Builds every fuzz target with clang (libFuzzer, AddressSanitizer, UBSan) in build-fuzz/ and
# runs each in turn. Usage:
#   scripts/fuzz.sh [SECONDS]              each target for SECONDS (default 60)
#   scripts/fuzz.sh --runs N               each target for N executions
#   scripts/fuzz.sh [...] TARGET...        only these targets (rfb_server link channel odata
#                                          oauth json_body viewer_gate e2e)
# New inputs go to build-fuzz/corpus/TARGET (the seeds in tests/fuzz/corpus/TARGET are read,
# never written). A crash stops the script with the input's path; once fixed, copy the input
# into tests/fuzz/corpus/TARGET so that ctest replays it for ever. The last line per target is
# libFuzzer's count of executions.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
runs=""
targets=()
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    [0-9]*) seconds=$1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(rfb_server link channel odata oauth json_body viewer_gate e2e)

bash scripts/setup-deps.sh
# clang and its sanitizer and libFuzzer runtimes (Debian 12: clang 14).
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=(); [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
  echo "fuzz: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" </dev/null
fi

BUILD=${REACH_FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$BUILD/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DREACH_FUZZ=ON -DREACH_BUILD_BENCH=OFF -DREACH_BUILD_TESTS=ON >/dev/null
fi
ninja -C "$BUILD" -j "${REACH_JOBS:-$(nproc)}" "${targets[@]/%/_fuzz}"

for t in "${targets[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus" "$BUILD/crashes/$t"
  limit=(-max_total_time="$seconds")
  [[ -n "$runs" ]] && limit=(-runs="$runs")
  echo "== $t"
  touch "$BUILD/crashes/$t/.started"
  # -max_len: network messages here are small (a channel message is at most 16 KiB).
  if ! "$BUILD/tests/fuzz/${t}_fuzz" "${limit[@]}" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$BUILD/crashes/$t/" -print_final_stats=1 "$corpus" \
      "tests/fuzz/corpus/$t" 2>"$BUILD/$t.log"; then
    tail -n 40 "$BUILD/$t.log" >&2
    crash=$(find "$BUILD/crashes/$t" -type f ! -name .started -newer "$BUILD/crashes/$t/.started" |
      head -n 1)
    if [[ -n "$crash" ]]; then
      echo "fuzz: $t found a crash: $crash" >&2
    else
      echo "fuzz: $t stopped before its end (interrupted?)" >&2
    fi
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD/$t.log" | sed "s/^/$t /"
done
