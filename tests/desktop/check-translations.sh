#!/usr/bin/env bash
# The desktop app's catalogues are complete and current: Qt Linguist's lupdate, run over the
# sources into a copy of each catalogue, finds no text without a translation (new or unfinished)
# and none the code no longer has (vanished). Plural forms are filled in English too.
set -euo pipefail
src=$(cd "$(dirname "$0")/../../src/portal" && pwd)
lupdate=${LUPDATE:-/usr/lib/qt6/bin/lupdate}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for ts in "$src"/i18n/reach-portal_*.ts; do
  cp "$ts" "$tmp/"
  copy="$tmp/$(basename "$ts")"
  "$lupdate" -silent -locations none -I "$src/.." "$src" -ts "$copy" >/dev/null
  unfinished=$(grep -c 'type="unfinished"' "$copy" || true)
  vanished=$(grep -c 'type="vanished"\|type="obsolete"' "$copy" || true)
  if [[ $(basename "$ts") == *_en.ts ]]; then
    # English is the source language: only plural forms need a translation there.
    unfinished=$(grep -B2 'type="unfinished"' "$copy" | grep -c 'numerus="yes"' || true)
  fi
  if ((unfinished + vanished > 0)); then
    echo "$(basename "$ts"): $unfinished text(s) without a translation, $vanished the code no longer has"
    grep -B3 'type="unfinished"\|type="vanished"' "$copy" | grep '<source>' | head -20
    fail=1
  fi
done
exit $fail
