#!/usr/bin/env bash
# Configures and builds one flavour of the project into build/<flavour>.
#   scripts/build.sh release   optimized binaries for the demo and benchmarks
#   scripts/build.sh ci        -Werror, AddressSanitizer + UndefinedBehaviorSanitizer, all tests,
#                              and the benchmark programs (compiled, so that they cannot rot;
#                              measured only by scripts/bench.sh, in Release)
#   scripts/build.sh arm64 [TARGET...]
#                              cross-build of the hub side for arm64 hubs (no township service),
#                              -Werror, tests run under qemu-aarch64 (scripts/install-deps-arm64.sh
#                              first; docs/packaging.md). Builds only TARGETs if given.
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
case "$flavour" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release -DHOMESAFE_BUILD_TESTS=OFF) ;;
  ci) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOMESAFE_WERROR=ON -DHOMESAFE_SANITIZE=ON
             -DHOMESAFE_BUILD_TESTS=ON -DHOMESAFE_BUILD_BENCH=ON) ;;
  # Optimized like the shipped package, at -O2 as Debian builds packages. (A unity build would
  # be faster but files share names in anonymous namespaces.)
  arm64) flags=(--toolchain cmake/toolchains/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release
                "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DHOMESAFE_WERROR=ON
                -DHOMESAFE_BUILD_TESTS=ON -DHOMESAFE_BUILD_TOWNSHIP=OFF) ;;
  *) echo "usage: $0 release|ci|arm64" >&2; exit 2 ;;
esac

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B "build/$flavour" -G Ninja "${flags[@]}"
targets=()
if [ "$flavour" = arm64 ] && [ $# -gt 1 ]; then targets=(--target "${@:2}"); fi
cmake --build "build/$flavour" -j "$jobs" "${targets[@]}"
