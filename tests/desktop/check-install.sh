#!/usr/bin/env bash
# `cmake --install` puts the desktop integration where a Linux desktop looks for it: the programs,
# the menu entry and its icon, the portal's autostart entry, and the agent's systemd user unit,
# each valid by the freedesktop tools. Installs into a staging directory (DESTDIR), never the
# machine. Usage: check-install.sh BUILD_DIR
set -euo pipefail
build=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage cmake --install "$build" --component Unspecified >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
fail=0
need() { [[ -e $stage$1 ]] || { echo "missing: $1"; fail=1; }; }
need "$prefix/bin/reach-agent"
need "$prefix/bin/reach-portal"
need "$prefix/share/applications/reach-portal.desktop"
need "$prefix/share/icons/hicolor/scalable/apps/reach-portal.svg"
need /etc/xdg/autostart/reach-portal.desktop
need "$prefix/lib/systemd/user/reach-agent.service"
((fail == 0)) || exit 1
desktop-file-validate "$stage$prefix/share/applications/reach-portal.desktop"
desktop-file-validate "$stage/etc/xdg/autostart/reach-portal.desktop"
grep -qx "ExecStart=$prefix/bin/reach-agent run" "$stage$prefix/lib/systemd/user/reach-agent.service" ||
  { echo "the unit does not run the installed agent"; exit 1; }
grep -qx "Exec=reach-portal --show" "$stage$prefix/share/applications/reach-portal.desktop"
cmp -s "$stage$prefix/share/icons/hicolor/scalable/apps/reach-portal.svg" \
  "$(dirname "$0")/../../src/portal/icons/reach-portal.svg" || { echo "not the app's icon"; exit 1; }
echo "installed: $(cd "$stage" && find . -type f | sort | tr '\n' ' ')"
