#!/usr/bin/env bash
# bench/wan: bench/screen across an emulated internet link (issue 22). For each profile, the link
# (reach_bench_wan_link: two network namespaces, a TUN wire with the round trip's delay, tbf for
# the rate), a probe of what the link really is, then reach_bench_screen with the device's side
# (display, load, server under test, agent) in one namespace and the viewer, the relay and
# `reach connect` in the other. Needs root.
# Then the same with the supporter's real viewer, noVNC in Chromium (bench/wan/novnc_bench.mjs):
# the agent with continuous updates beside the agent with one update per request.
#   bash bench/wan/run.sh [PROFILE...] [--loads full,scroll,square] [--seconds 10]
# PROFILE: RATEmbit-RTTms, e.g. 10mbit-50ms (the default), 50mbit-20ms; RATE 0: unshaped.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(cd "${REACH_BUILD_DIR:-build}/bin" && pwd)
DEV=reach-wan-dev
VIEW=reach-wan-view
profiles=()
loads=full,scroll,square
seconds=10
while (($#)); do
  case $1 in
    --loads) loads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) profiles+=("$1"); shift ;;
  esac
done
((${#profiles[@]})) || profiles=(10mbit-50ms)
link_pid=
cleanup() {
  [[ -n $link_pid ]] && kill -INT "$link_pid" 2>/dev/null && wait "$link_pid" 2>/dev/null || true
  ip netns del "$DEV" 2>/dev/null || true
  ip netns del "$VIEW" 2>/dev/null || true
}
trap cleanup EXIT
for profile in "${profiles[@]}"; do
  [[ $profile =~ ^([0-9.]+)mbit-([0-9.]+)ms$ ]] || { echo "bad profile $profile" >&2; exit 2; }
  rate=${BASH_REMATCH[1]} rtt=${BASH_REMATCH[2]}
  log=$(mktemp)
  "$BIN/reach_bench_wan_link" up --a "$DEV" --b "$VIEW" --rtt-ms "$rtt" --rate-mbit "$rate" >"$log" 2>&1 &
  link_pid=$!
  for _ in $(seq 1 100); do grep -q '^ready' "$log" && break; sleep 0.1; done
  grep -q '^ready' "$log" || { cat "$log" >&2; exit 1; }
  echo "### profile $profile"
  echo
  head -n 1 "$log"
  mib=$(awk -v r="$rate" 'BEGIN { m = (r > 0 ? r / 2.5 : 64); print (m < 2 ? 2 : m) }')
  "$BIN/reach_bench_wan_link" probe --a "$DEV" --b "$VIEW" --mib "$mib"
  echo
  ip netns exec "$VIEW" "$BIN/reach_bench_screen" --device-ns "$DEV" --device-addr 10.77.0.1 \
    --relay-listen 10.77.0.2:0 --servers reach,x0vncserver --loads "$loads" --seconds "$seconds"
  echo
  ip netns exec "$VIEW" node bench/wan/novnc_bench.mjs --bin "$BIN" --device-ns "$DEV" \
    --relay-listen 10.77.0.2:0 --loads "$loads" --seconds "$seconds"
  kill -INT "$link_pid"; wait "$link_pid" || true; link_pid=
  tail -n 1 "$log"; rm -f "$log"
  echo
done
