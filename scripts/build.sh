#!/usr/bin/env bash
# Configures and builds one flavour of the project into build/<flavour>.
#   scripts/build.sh release   optimized binaries for the demo and benchmarks
#   scripts/build.sh ci        -Werror, AddressSanitizer + UndefinedBehaviorSanitizer, all tests
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
case "$flavour" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release -DHOMESAFE_BUILD_TESTS=OFF) ;;
  ci) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOMESAFE_WERROR=ON -DHOMESAFE_SANITIZE=ON
             -DHOMESAFE_BUILD_TESTS=ON) ;;
  *) echo "usage: $0 release|ci" >&2; exit 2 ;;
esac

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B "build/$flavour" -G Ninja "${flags[@]}"
cmake --build "build/$flavour" -j "$jobs"
