#!/usr/bin/env bash
# Installs what is missing, builds, and runs Reach locally with demo data: the hub, initialised,
# with a few enrolled demo devices, the relay (remote-assistance service) with a supporter
# account, and a real device: reach-agent enrolled and running on a virtual display (Xvfb) with a
# small demo desktop and the company portal's desktop app (reach-portal, with a tray, a desktop
# notification server and a session D-Bus), and a remote assistance request waiting for its user. Prints the URLs,
# credentials and the supporter link, then keeps running until Ctrl-C. State lives in .demo/
# (delete it to start afresh). For a second demo beside the first, or a test that follows the
# README: REACH_DEMO_DIR (state), REACH_HUB_LISTEN / REACH_RELAY_LISTEN (port 0: any free port)
# and REACH_DEMO_VNC_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
bash scripts/build.sh reach-hub reach-relay reach-agent reach-portal reach >/dev/null
BIN=${REACH_BUILD_DIR:-build}/bin
DEMO=${REACH_DEMO_DIR:-.demo}
HUB_DATA=$DEMO/hub
RELAY_DATA=$DEMO/relay
ADMIN_EMAIL=admin@reach.test
LISTEN=${REACH_HUB_LISTEN:-127.0.0.1:8400}
RELAY_LISTEN=${REACH_RELAY_LISTEN:-127.0.0.1:8500}
mkdir -p "$DEMO"
chmod 700 "$DEMO"
DEMO=$(cd "$DEMO" && pwd)

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
pids=("$hub_pid" "$relay_pid")
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null' EXIT INT TERM
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

# The device: a virtual display with a demo desktop, and the company portal running on it.
Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp -noreset >"$DEMO/xvfb.out" 2>"$DEMO/xvfb.log" &
pids+=($!)
wait_for_address "$DEMO/xvfb.out" ${pids[-1]} "$DEMO/xvfb.log"
DISPLAY_NAME=":$(head -n 1 "$DEMO/xvfb.out")"
# A window manager (focus follows the click, so the supporter's typing reaches the window they
# clicked), and a terminal for the supporter to type into.
DISPLAY=$DISPLAY_NAME openbox >"$DEMO/openbox.log" 2>&1 &
pids+=($!)
for app in "xlogo -geometry 300x300+40+40" "xclock -geometry 300x300+380+40 -update 1" \
           "xeyes -geometry 300x200+720+40" "xterm -geometry 80x20+40+400 -T Terminal"; do
  DISPLAY=$DISPLAY_NAME $app >/dev/null 2>&1 &
  pids+=($!)
done
# The desktop session around the portal: a session bus, a notification server that draws the
# actions as buttons (xfce4-notifyd) and a tray (trayer), as a desktop environment provides them;
# a VNC server to watch the screen.
export DBUS_SESSION_BUS_ADDRESS="unix:path=$DEMO/session-bus"
rm -f "$DEMO/session-bus"
dbus-daemon --session --nofork --address="$DBUS_SESSION_BUS_ADDRESS" >"$DEMO/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do [[ -S $DEMO/session-bus ]] && break; sleep 0.1; done
DISPLAY=$DISPLAY_NAME trayer --edge top --align right --widthtype request --height 32 \
  --SetDockType true --transparent false --tint 0x1f1f1f >"$DEMO/trayer.log" 2>&1 &
pids+=($!)
notifyd=$(ls /usr/lib/*/xfce4/notifyd/xfce4-notifyd | head -n 1)
DISPLAY=$DISPLAY_NAME "$notifyd" >"$DEMO/notifyd.log" 2>&1 &
pids+=($!)
VNC_PORT=${REACH_DEMO_VNC_PORT:-5999}
x11vnc -display "$DISPLAY_NAME" -localhost -rfbport "$VNC_PORT" -nopw -shared -forever -quiet \
  >"$DEMO/x11vnc.log" 2>&1 &
pids+=($!)
AGENT_STATE=$DEMO/agent
if [[ ! -f "$AGENT_STATE/credential.json" ]]; then
  device_token=$("$BIN/reach-hub" enrollment-token create --data "$HUB_DATA" --user "$ADMIN_EMAIL")
  "$BIN/reach-agent" enroll --hub "$URL" --token "$device_token" --state "$AGENT_STATE" \
    --log-level warn >/dev/null
fi
"$BIN/reach-agent" run --state "$AGENT_STATE" --display "$DISPLAY_NAME" --relay "$RELAY_URL" \
  --log-level warn >"$DEMO/agent.out" 2>"$DEMO/agent.log" &
pids+=($!)
wait_for_address "$DEMO/agent.out" ${pids[-1]} "$DEMO/agent.log"
DISPLAY=$DISPLAY_NAME "$BIN/reach-portal" --state "$AGENT_STATE" >"$DEMO/portal.log" 2>&1 &
pids+=($!)

# The remote assistance connector: the hub registered at the relay as an OAuth client, then
# connected the way an administrator's browser does it (hub sign-in, Connect, the relay's
# sign-in and consent pages, back to the hub's callback).
PARTNERS="$URL/beta/deviceManagement/remoteAssistancePartners"
if [[ ! -s "$DEMO/connector.json" ]]; then
  (umask 077; "$BIN/reach-relay" client add --data "$RELAY_DATA" --name "Reach hub" \
    --redirect-uri "$URL/api/remoteAssistance/callback" >"$DEMO/connector.json")
fi
json_field() { sed -nE "s/.*\"$1\":\"([^\"]*)\".*/\1/p" <<<"$2" | head -n 1; }
html_unescape() { sed -e 's/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g' -e "s/&#39;/'/g; s/&#x27;/'/g" -e 's/&amp;/\&/g'; }
hidden_form() {  # the hidden inputs of an HTML page as curl --data-urlencode arguments
  grep -oE '<input type=hidden name="[^"]*" value="[^"]*">' <<<"$1" |
    sed -E 's/.*name="([^"]*)" value="([^"]*)".*/\1=\2/' | html_unescape
}
connector=$(cat "$DEMO/connector.json")
"$BIN/reach-hub" connector set --data "$HUB_DATA" --relay-url "$RELAY_URL" \
  --client-id "$(json_field client_id "$connector")" \
  --client-secret "$(json_field client_secret "$connector")" >/dev/null
jar=$DEMO/cookies; rm -rf "$jar"; mkdir -m 700 "$jar"
curl -fsS -c "$jar/hub" -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$(cat "$DEMO/admin-password")\"}" "$URL/api/auth/signin"
partner_id=$(json_field id "$(curl -fsS -b "$jar/hub" "$PARTNERS")")
# beginOnboarding gives this "browser" its onboarding cookie: the callback is taken only with it.
curl -fsS -b "$jar/hub" -c "$jar/hub" -X POST "$PARTNERS/$partner_id/beginOnboarding"
authorize=$(json_field authorizationUrl "$(curl -fsS -b "$jar/hub" "$PARTNERS/$partner_id")")
signin_page=$(curl -fsS -c "$jar/relay" -b "$jar/relay" "$authorize")
args=(); while IFS= read -r kv; do args+=(--data-urlencode "$kv"); done < <(hidden_form "$signin_page")
back=$(curl -fsS -c "$jar/relay" -b "$jar/relay" -o /dev/null -w '%{redirect_url}' "${args[@]}" \
  --data-urlencode "email=$ADMIN_EMAIL" --data-urlencode "password=$(cat "$DEMO/admin-password")" \
  "$RELAY_URL/signin")
consent_page=$(curl -fsS -c "$jar/relay" -b "$jar/relay" "$back")
args=(); while IFS= read -r kv; do args+=(--data-urlencode "$kv"); done < <(hidden_form "$consent_page")
callback=$(curl -fsS -c "$jar/relay" -b "$jar/relay" -o /dev/null -w '%{redirect_url}' "${args[@]}" \
  --data-urlencode decision=allow "$RELAY_URL/oauth2/authorize")
curl -fsS -b "$jar/hub" -c "$jar/hub" -o /dev/null "$callback"
# The hub holds the grant until the administrator confirms the relay account that consented (the
# demo's own): the admin center asks; here, the API.
curl -fsS -b "$jar/hub" -X POST "$PARTNERS/$partner_id/confirmOnboarding"
rm -rf "$jar"
status=$(json_field onboardingStatus "$(curl -fsS -H "Authorization: Bearer $(cat "$DEMO/admin-token")" "$PARTNERS/$partner_id")")
[[ $status == onboarded ]] || { echo "demo: the connector did not connect (status $status)" >&2; exit 1; }

# An administrator requests remote assistance on the demo device; the agent is notified. A request
# a previous run of the demo left waiting is cancelled first (the hub refuses to ask twice).
device_id=$(json_field deviceId "$(cat "$AGENT_STATE/credential.json")")
latest=$(curl -fsS -H "Authorization: Bearer $(cat "$DEMO/admin-token")" \
  "$URL/api/remoteAssistanceSessions?deviceId=$device_id&\$top=1")
case $(json_field state "$latest") in
  requested | accepted | allowed)
    curl -fsS -X POST -H "Authorization: Bearer $(cat "$DEMO/admin-token")" \
      "$URL/api/remoteAssistanceSessions/$(grep -oE '"id":"[^"]*"' <<<"$latest" | head -n 1 | cut -d'"' -f4)/cancel" ;;
esac
curl -fsS -X POST -H "Authorization: Bearer $(cat "$DEMO/admin-token")" \
  "$URL/v1.0/deviceManagement/managedDevices/$device_id/requestRemoteAssistance"
device=$(curl -fsS -H "Authorization: Bearer $(cat "$DEMO/admin-token")" \
  "$URL/v1.0/deviceManagement/managedDevices/$device_id")
supporter_link=$(json_field remoteAssistanceSessionUrl "$device")
for _ in $(seq 1 50); do
  notification=$("$BIN/reach-agent" notifications --json --state "$AGENT_STATE" |
    grep -oE '"id":"[^"]*","kind":"remoteAssistanceRequest"[^}]*"answer":""' | head -n 1 |
    sed -E 's/"id":"([^"]*)".*/\1/')
  [[ -n $notification ]] && break
  sleep 0.2
done

cat <<EOT

Reach is running (demo data in $DEMO/).
  Admin center:     $URL/
  Administrator:    $ADMIN_EMAIL   (same account name and password on the hub and the relay)
  Password:         $(cat "$DEMO/admin-password")
  Relay (portal):   $RELAY_URL
  Hub API token:    $(cat "$DEMO/admin-token")

In the admin center (sign in with the address and password above):
  Devices > All devices > $(json_field deviceName "$device") shows the remote assistance session
  requested for you (Tenant administration > Connectors and tokens: the connector is connected).
  The status changes by itself as the device user answers on the virtual display $DISPLAY_NAME.

The device user's screen (the Company Portal app, its tray icon and notifications):
  watch it with a VNC viewer on 127.0.0.1:$VNC_PORT (no password, this machine only), or take a
  picture:  DISPLAY=$DISPLAY_NAME import -window root screen.png
  1. The device user accepts the request: Accept on the notification (top right; Open shows it
     in the Company Portal window), or in the Company Portal window (click the tray icon), or  $BIN/reach-agent accept ${notification:-ID} --state $AGENT_STATE
  2. On the device's page, select Start remote assistance (the viewer opens in a new tab).
     (For a native VNC viewer: $BIN/reach connect SUPPORTER_LINK --listen 127.0.0.1:5900,
      with the supporter link $supporter_link
      then give the viewer the one-time password it prints.)
  3. The device user allows it in the "Allow this session to start?" dialog (Full control,
     View only or Deny), or  $BIN/reach-agent allow --state $AGENT_STATE
  4. Either side ends it: End session on the bar at the top of the device's screen, or
     $BIN/reach-agent end --state $AGENT_STATE
  A new session: … More > New remote assistance session > Yes on the device's page.
  Userless devices: create a session in the relay portal ($RELAY_URL) and type its code in the
  Company Portal's "Get help with a code", or  $BIN/reach-agent join CODE --relay $RELAY_URL --state $AGENT_STATE
  The API: curl -s -H "Authorization: Bearer \$(cat $DEMO/admin-token)" $URL/v1.0/deviceManagement/managedDevices

Press Ctrl-C to stop.
EOT
wait "${pids[@]}"
