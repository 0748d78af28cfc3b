#!/usr/bin/env bash
# Installs what is needed, builds with -Werror and ASan/UBSan, checks formatting, runs every test
# (unit tests and integration tests against a real Mosquitto on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== format check (.clang-format)"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find . -name '*.[ch]pp' -not -path './build/*')
if ! clang-format --dry-run --Werror "${sources[@]}"; then
  echo "format check failed: run clang-format -i on the files above" >&2
  exit 1
fi

echo "== build (ci flavour: -Werror, ASan, UBSan)"
scripts/build.sh ci

echo "== tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build/ci --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" --timeout 300
