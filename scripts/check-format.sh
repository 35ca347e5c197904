#!/usr/bin/env bash
# Fails when a C++ file in the tree differs from what .clang-format makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.h' 'src/*.hpp' 'tests/*.cpp' 'tests/*.h' \
                                  'bench/*.cpp' 2>/dev/null || find src tests bench -name '*.[ch]pp' -o -name '*.h')
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files formatted as .clang-format says"
