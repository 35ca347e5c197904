#!/usr/bin/env bash
# Installs every Debian package the build, the demo and the tests need. Idempotent: packages
# already present are skipped, so a second run does no network work. Works as root or via sudo.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format
  # libraries (Boost is pinned to 1.81: never an unversioned libboost-*-dev, it would remove 1.81)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libsqlite3-dev libsodium-dev libspdlog-dev libfmt-dev libcli11-dev zlib1g-dev
  libjpeg62-turbo-dev
  # OpenH264 (BSD): the agent's H.264 rectangles for viewers that take them (noVNC)
  libopenh264-dev
  libx11-dev libxext-dev libxdamage-dev libxfixes-dev libxtst-dev
  libgtest-dev libgmock-dev
  # tests and demo: the browser for end-to-end tests, a virtual display and a real VNC server
  curl sqlite3 procps chromium xvfb x11vnc x11-apps xdotool imagemagick socat openssl
  libvncserver-dev tigervnc-scraping-server
  # a native VNC viewer for `reach connect`'s end-to-end test (TigerVNC's, as supporters use)
  tigervnc-viewer
  # reach-portal, the desktop app (Qt 6 Widgets, QtDBus, Qt Linguist, SVG icons), and what its
  # tests run it under: a session D-Bus, a notification server that draws actions as buttons,
  # an XEmbed tray; the demo's window manager and a terminal to type into
  qt6-base-dev qt6-tools-dev qt6-l10n-tools qt6-svg-dev libqt6svg6 dbus-daemon dbus-bin
  xfce4-notifyd trayer fonts-dejavu-core at-spi2-core desktop-file-utils x11-utils openbox xterm
  # the relay's guessing test makes a private network namespace with IPv6 addresses
  iproute2
  # PostgreSQL, the multi-node store: libpq to talk to it, the server for the tests (each run
  # starts its own with initdb and pg_ctl)
  libpq-dev postgresql
  # the allocator reach-hub and reach-relay link (malloc was a third of the hub's CPU on a list)
  libjemalloc-dev
  # the load balancer in front of several hub and relay nodes (the multi-node tests run their own)
  nginx
  # bench/hub/list_bench.sh's load generator
  wrk
  # bench/wan: noVNC reaches the peer server (x0vncserver) through it, as the peer is deployed
  websockify
)

missing=()
# Node.js and npm build the viewer (noVNC) and drive the browser tests. Any installation that
# provides the commands will do (Debian's, or a repackaged one that bundles npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
