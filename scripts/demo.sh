#!/usr/bin/env bash
# Installs what is missing, builds, and runs Reach locally with demo data: the hub, initialised,
# with a few enrolled demo devices, and the relay (remote-assistance service) with a supporter
# account. Prints the URLs and credentials, then keeps running until Ctrl-C. State lives in
# .demo/ (delete it to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
bash scripts/build.sh reach-hub reach-relay >/dev/null
BIN=${REACH_BUILD_DIR:-build}/bin
DEMO=.demo
HUB_DATA=$DEMO/hub
RELAY_DATA=$DEMO/relay
ADMIN_EMAIL=admin@reach.test
LISTEN=${REACH_HUB_LISTEN:-127.0.0.1:8400}
RELAY_LISTEN=${REACH_RELAY_LISTEN:-127.0.0.1:8500}
mkdir -p "$DEMO"
chmod 700 "$DEMO"

if [[ ! -f "$HUB_DATA/hub.db" ]]; then
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
  REACH_ADMIN_PASSWORD=$password "$BIN/reach-hub" init --data "$HUB_DATA" \
    --admin-email "$ADMIN_EMAIL" >/dev/null
  (umask 077; printf '%s\n' "$password" >"$DEMO/admin-password")
  "$BIN/reach-hub" token create --data "$HUB_DATA" --email "$ADMIN_EMAIL" >"$DEMO/admin-token"
  chmod 600 "$DEMO/admin-token"
  seed=1
fi
if [[ ! -f "$RELAY_DATA/relay.db" ]]; then
  REACH_ADMIN_PASSWORD=$(cat "$DEMO/admin-password") "$BIN/reach-relay" init --data "$RELAY_DATA" \
    --admin-email "$ADMIN_EMAIL" >/dev/null
fi

"$BIN/reach-hub" serve --data "$HUB_DATA" --listen "$LISTEN" --log-level warn \
  >"$DEMO/hub.out" 2>"$DEMO/hub.log" &
hub_pid=$!
"$BIN/reach-relay" serve --data "$RELAY_DATA" --listen "$RELAY_LISTEN" --log-level warn \
  >"$DEMO/relay.out" 2>"$DEMO/relay.log" &
relay_pid=$!
trap 'kill $hub_pid $relay_pid 2>/dev/null; wait $hub_pid $relay_pid 2>/dev/null' EXIT INT TERM
wait_for_address() {  # FILE PID LOG
  for _ in $(seq 1 100); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "demo: a server did not start; see $3" >&2
  exit 1
}
wait_for_address "$DEMO/hub.out" $hub_pid "$DEMO/hub.log"
wait_for_address "$DEMO/relay.out" $relay_pid "$DEMO/relay.log"
URL="http://$(head -n 1 "$DEMO/hub.out")"
RELAY_URL="http://$(head -n 1 "$DEMO/relay.out")"

if [[ ${seed:-0} == 1 ]]; then
  token=$("$BIN/reach-hub" enrollment-token create --data "$HUB_DATA" --user "$ADMIN_EMAIL")
  for d in "DESKTOP-ALICE:Linux:Debian 12:desktop" "LAPTOP-BOB:Windows:10.0.22631:desktop" \
           "IPHONE-CAROL:iOS:17.4:iPhone"; do
    IFS=: read -r name os ver type <<<"$d"
    curl -fsS -o /dev/null -X POST "$URL/api/agent/enroll" -H 'Content-Type: application/json' \
      -d "{\"enrollmentToken\":\"$token\",\"device\":{\"deviceName\":\"$name\",\"operatingSystem\":\"$os\",\"osVersion\":\"$ver\",\"deviceType\":\"$type\",\"manufacturer\":\"Demo\",\"model\":\"Demo $type\"}}"
  done
fi

cat <<EOT

Reach is running (demo data in $DEMO/).
  Hub (admin API):  $URL
  Relay (portal):   $RELAY_URL
  Administrator:    $ADMIN_EMAIL   (same account name and password on both)
  Password:         $(cat "$DEMO/admin-password")
  Hub API token:    $(cat "$DEMO/admin-token")

Try:
  curl -s -H "Authorization: Bearer \$(cat $DEMO/admin-token)" $URL/v1.0/deviceManagement/managedDevices
  curl -s -c /tmp/reach.cookies -H 'Content-Type: application/json' \\
       -d '{"email":"$ADMIN_EMAIL","password":"'"\$(cat $DEMO/admin-password)"'"}' $URL/api/auth/signin

Press Ctrl-C to stop.
EOT
wait $hub_pid $relay_pid
