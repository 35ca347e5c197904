#!/usr/bin/env bash
# A PostgreSQL server of the tests' own: `start STATE_DIR` runs initdb in a new temporary
# directory, starts the server on a free loopback port and writes its URL to STATE_DIR/url;
# `stop STATE_DIR` stops it and removes its files. Nothing system-wide is touched (no cluster of
# the Debian package is used). PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` user the Debian package creates.
set -euo pipefail

cmd=${1:?usage: test-postgres.sh start|stop STATE_DIR}
state=${2:?usage: test-postgres.sh start|stop STATE_DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -x "$bindir/initdb" ]] || { echo "test-postgres: no PostgreSQL server (apt install postgresql)" >&2; exit 1; }

as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  as_owner=(runuser -u postgres --)
fi

stop() {
  [[ -f "$state/datadir" ]] || return 0
  local data
  data=$(cat "$state/datadir")
  if [[ -d "$data" ]]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data/db" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
  fi
  rm -f "$state/datadir" "$state/url"
}

case "$cmd" in
  start)
    mkdir -p "$state"
    stop
    data=$(mktemp -d /tmp/reach-test-pg-XXXXXX)
    echo "$data" >"$state/datadir"
    [[ ${#as_owner[@]} -eq 0 ]] || chown postgres: "$data"
    chmod 0700 "$data"
    "${as_owner[@]}" "$bindir/initdb" -D "$data/db" -U reach --auth=trust --no-locale -E UTF8 \
      >"$data/initdb.log" 2>&1 || { cat "$data/initdb.log" >&2; exit 1; }
    # Test settings: many connections (every test runs its own hub and relay), no fsync (the
    # tests kill Reach's processes, never this server's machine).
    for attempt in $(seq 1 20); do
      port=$((20000 + RANDOM % 30000))
      if "${as_owner[@]}" "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 30 \
           -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
           start >/dev/null 2>&1; then
        # Through the Unix socket: tests in a network namespace of their own reach it too.
        echo "postgresql:///postgres?host=$data&port=$port&user=reach" >"$state/url"
        echo "test-postgres: started on 127.0.0.1:$port ($data)" >&2
        exit 0
      fi
    done
    cat "$data/server.log" >&2 || true
    echo "test-postgres: could not start the server" >&2
    exit 1
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: test-postgres.sh start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
