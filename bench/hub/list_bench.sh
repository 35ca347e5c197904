#!/usr/bin/env bash
# bench/hub: the device list at 100,000 devices — req/s and latency of four list requests
# ($top=100: the first page, a deep page, a startswith() search, an enum filter that matches
# nothing) on SQLite, on PostgreSQL, and on two nodes on PostgreSQL behind nginx
# (deploy/nginx/reach-hub.conf), in one run. The load is wrk (Debian), 16 connections for
# --seconds each; the devices are written straight into the store (enrolling 100,000 agents
# would measure enrollment).
#
#   bash bench/hub/list_bench.sh [--bin build/bin] [--devices 100000] [--seconds 5]
set -euo pipefail

BIN=build/bin
DEVICES=100000
SECONDS_EACH=5
while (($#)); do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --devices) DEVICES=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(cd "$BIN" && pwd)
for tool in wrk nginx sqlite3 psql; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
    { echo "list_bench: needs $tool (scripts/setup-deps.sh installs it)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/reach-list-bench-XXXXXX)
PIDS=()
CHURN=""
cleanup() {
  [[ -z $CHURN ]] || kill -- "-$CHURN" 2>/dev/null || true
  # serve() runs in a command substitution, a subshell: its hubs are known by their pid files.
  for f in "$TMP"/*.pid; do [[ -f $f ]] && PIDS+=("$(cat "$f")"); done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$SRC/tests/pg/test-postgres.sh" stop "$TMP/pg" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$SRC/tests/pg/test-postgres.sh" start "$TMP/pg" 2>/dev/null
PG=$(cat "$TMP/pg/url")
psql -q "$PG" -c "CREATE DATABASE bench_list" >/dev/null
PG_DB=${PG/\/\/\/postgres/\/\/\/bench_list}

COLUMNS="id, device_name, user_id, operating_system, os_version, model, manufacturer,
  serial_number, device_type, sku_family, owner_type, enrollment_type, compliance_state,
  management_agent, azure_ad_device_id, notes, enrolled_at, last_sync_at, credential_hash"

# serve DIR NAME [FLAGS…]: starts a node, prints its address.
serve() {
  local out="$TMP/$2.addr"
  "$BIN/reach-hub" serve --data "$1" --listen 127.0.0.1:0 --node-name "$2" --log-level warn \
    "${@:3}" >"$out" 2>"$TMP/$2.log" &
  echo $! >"$TMP/$2.pid"
  for _ in $(seq 1 100); do [[ -s "$out" ]] && break; sleep 0.1; done
  head -1 "$out"
}

# measure LABEL BASE_URL TOKEN DB_KIND DB: one table row per request.
measure() {
  local label=$1 base=$2 token=$3
  # A page half way through: after the id 7fffffff… (ids are spread over the hex range), in
  # the skiptoken's form (base64url of "v1:" and the last id shown).
  local deep
  deep=$(printf 'v1:7fffffff' | base64 | tr '+/' '-_' | tr -d '=')
  local -a names=("first page" "deep page" "startswith search" "enum filter, no match")
  local -a paths=(
    "/v1.0/deviceManagement/managedDevices?\$top=100"
    "/v1.0/deviceManagement/managedDevices?\$top=100&\$skiptoken=$deep"
    "/v1.0/deviceManagement/managedDevices?\$top=100&\$filter=startswith(deviceName,'DEV-0999')"
    "/v1.0/deviceManagement/managedDevices?\$top=100&\$filter=operatingSystem%20eq%20'Windows'"
  )
  for i in "${!paths[@]}"; do
    local url="$base${paths[$i]}"
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
    [[ "$status" == 200 ]] || { echo "$label ${names[$i]}: HTTP $status" >&2; exit 1; }
    # Two seconds first, not counted: the node opens its store connections and prepares its
    # statements on the first requests, which is start-up, not the list.
    wrk -t2 -c16 -d2s -H "Authorization: Bearer $token" "$url" >/dev/null
    local r
    r=$(wrk -t2 -c16 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $token" "$url")
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$r")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$r")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$r")
    printf '| %s | %s | %s | %s | %s |\n' "$label" "${names[$i]}" "$rps" "$p50" "$p99"
  done
}

printf '| store | request | req/s | p50 | p99 |\n|---|---|---|---|---|\n'
for store in sqlite postgresql two-nodes; do
  [[ $store == two-nodes ]] && continue  # set up with postgresql below
  DIR="$TMP/$store"
  if [[ $store == sqlite ]]; then
    REACH_ADMIN_PASSWORD=Bench-Passw0rd-1 "$BIN/reach-hub" init --data "$DIR" \
      --admin-email bench@reach.test >/dev/null
    sqlite3 "$DIR/hub.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $DEVICES)
      INSERT INTO devices ($COLUMNS) SELECT printf('%08x-0000-4000-8000-%012x', (i * 2654435761) % 4294967296, i),
      printf('DEV-%06d', i), NULL, 'Linux', '12', 'Bench', 'Reach', printf('SN-%06d', i), 'desktop', '',
      'company', 'deviceEnrollmentManager', 'unknown', 'mdm', '', NULL, 1700000000000, 1700000000000 + i,
      printf('bench-%d', i) FROM n"
  else
    REACH_ADMIN_PASSWORD=Bench-Passw0rd-1 "$BIN/reach-hub" init --data "$DIR" \
      --admin-email bench@reach.test --db "$PG_DB" >/dev/null
    psql -q "$PG_DB" -c "INSERT INTO devices ($COLUMNS) SELECT
      lpad(to_hex((i::bigint * 2654435761) % 4294967296), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'),
      'DEV-' || lpad(i::text, 6, '0'), NULL, 'Linux', '12', 'Bench', 'Reach', 'SN-' || lpad(i::text, 6, '0'),
      'desktop', '', 'company', 'deviceEnrollmentManager', 'unknown', 'mdm', '', NULL, 1700000000000,
      1700000000000 + i, 'bench-' || i FROM generate_series(1, $DEVICES) i; ANALYZE devices" >/dev/null
  fi
  TOKEN=$("$BIN/reach-hub" token create --data "$DIR" --email bench@reach.test)
  ADDR=$(serve "$DIR" "$store")
  measure "$store" "http://$ADDR" "$TOKEN"
  if [[ $store == sqlite ]]; then
    # The page cache's share: the same node without it, then with it while devices check in
    # (100 writes a second from another process, each one a new version: every page is read
    # again after it).
    kill "$(cat "$TMP/sqlite.pid")"; wait "$(cat "$TMP/sqlite.pid")" 2>/dev/null || true
    ADDR=$(serve "$DIR" "sqlite-nocache" --list-cache-mib 0)
    measure "sqlite, no page cache" "http://$ADDR" "$TOKEN"
    kill "$(cat "$TMP/sqlite-nocache.pid")"; wait "$(cat "$TMP/sqlite-nocache.pid")" 2>/dev/null || true
    ADDR=$(serve "$DIR" "sqlite-churn")
    cat >"$TMP/churn.sh" <<'EOF'
i=0
while :; do
  i=$((i + 1))
  echo "UPDATE devices SET last_sync_at = last_sync_at + 1 WHERE lower(device_name) = printf('dev-%06d', $(((i * 7919) % $2 + 1)));"
  sleep 0.01
done | sqlite3 -cmd ".timeout 5000" "$1"
EOF
    # Its own process group (setsid), so that the loop and sqlite3 end with it.
    setsid bash "$TMP/churn.sh" "$DIR/hub.db" "$DEVICES" &
    CHURN=$!
    measure "sqlite, 100 device writes/s" "http://$ADDR" "$TOKEN"
    kill -- "-$CHURN" 2>/dev/null || true
    wait "$CHURN" 2>/dev/null || true
  fi
  if [[ $store == postgresql ]]; then
    DIR2="$TMP/postgresql-2"
    mkdir -m 700 "$DIR2"
    cp "$DIR/secret.key" "$DIR/database" "$DIR2/"
    ADDR2=$(serve "$DIR2" "postgresql-2")
    mkdir -p "$TMP/nginx"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sed -e "s/server 127.0.0.1:8401/server $ADDR/" -e "s/server 127.0.0.1:8402/server $ADDR2/" \
      -e "s/listen 127.0.0.1:8400;/listen 127.0.0.1:$PORT;/" \
      "$SRC/deploy/nginx/reach-hub.conf" >"$TMP/nginx/reach-hub.conf"
    USER_LINE=""
    [[ $(id -u) -eq 0 ]] && USER_LINE="user root;"
    cat >"$TMP/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body; proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi; uwsgi_temp_path $TMP/nginx/uwsgi; scgi_temp_path $TMP/nginx/scgi;
  include $TMP/nginx/reach-hub.conf;
}
EOF
    /usr/sbin/nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.1; done
    measure "two nodes (postgresql, nginx)" "http://127.0.0.1:$PORT" "$TOKEN"
  fi
done
