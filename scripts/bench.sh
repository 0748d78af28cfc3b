#!/usr/bin/env bash
# The benchmark suite in one command (issue 9; what each part measures: bench/README.md).
# Builds in Release, installs what the comparison needs (valgrind and Node.js from Debian
# packages, Node-RED from the npm registry into a cache folder), then runs
# build/bench/bench/homesafe_hub_bench: the gateway against the broker's raw delivery rate and
# against a Node-RED flow, in the same run, with medians and ratios; then
# build/bench/bench/homesafe_township_bench: the township service's ingest rate (stored once,
# acknowledged after commit) and the delay from a hub's alert to the console's WebSocket.
#
#   scripts/bench.sh                 full size (about 30 minutes on a 2-core machine)
#   scripts/bench.sh --quick         reduced size (a few minutes)
#   scripts/bench.sh --only throughput,latency --runs 5
#   scripts/bench.sh --no-node-red   skip the Node-RED comparison
#   scripts/bench.sh --gateway PATH --sim PATH   measure these binaries (e.g. another commit's
#                                    Release build) instead of building them here
#   scripts/bench.sh --only township [--township PATH]   only the township service's figures
#
# Every process is started by the bench on 127.0.0.1 and stopped by its PID. The result tables
# are printed and written to build/bench/bench-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build="${HOMESAFE_BENCH_BUILD:-build/bench}"
cache="${HOMESAFE_BENCH_CACHE:-/tmp/homesafe-bench-cache}"
jobs="${HOMESAFE_BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}"
node_red_version="4.1"   # the version the issue's reference figures were taken with
use_node_red=1
bench_args=()
township_args=()
gateway=""
sim=""
township=""
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-node-red) use_node_red=0 ;;
    --quick) bench_args+=(--quick); township_args+=(--quick) ;;
    --runs) bench_args+=("$1" "$2"); township_args+=("$1" "$2"); shift ;;
    --only) bench_args+=("$1" "$2"); only="$2"; shift ;;
    --township) township="$2"; shift ;;
    --gateway) gateway="$2"; shift ;;
    --sim) sim="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

scripts/install-deps.sh
extras=()
command -v valgrind >/dev/null || extras+=(valgrind)
if [ "$use_node_red" = 1 ]; then
  command -v node >/dev/null || extras+=(nodejs)
  command -v npm >/dev/null || extras+=(npm)
fi
if [ ${#extras[@]} -gt 0 ]; then
  echo "bench.sh: installing ${extras[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${extras[@]}"
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOMESAFE_BUILD_BENCH=ON \
      -DHOMESAFE_BUILD_TESTS=OFF
targets=(homesafe_hub_bench homesafe_township_bench)
if [ -z "$township" ]; then
  targets+=(homesafe-township)
  township="$build/township/homesafe-township"
fi
if [ -z "$gateway" ]; then targets+=(homesafe-gateway); gateway="$build/gateway/homesafe-gateway"; fi
if [ -z "$sim" ]; then targets+=(homesafe-sim); sim="$build/firmware-sim/homesafe-sim"; fi
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

red_js=""
if [ "$use_node_red" = 1 ]; then
  red_js="$cache/node-red/node_modules/node-red/red.js"
  if [ ! -f "$red_js" ]; then
    echo "bench.sh: installing node-red@$node_red_version from the npm registry into $cache/node-red"
    mkdir -p "$cache/node-red"
    npm install --prefix "$cache/node-red" --no-audit --no-fund --omit=dev \
        "node-red@$node_red_version" >"$cache/node-red-install.log" 2>&1 ||
      { tail -20 "$cache/node-red-install.log" >&2; exit 1; }
  fi
  bench_args+=(--node-red "$red_js" --node "$(command -v node)")
fi

work="$(mktemp -d /tmp/homesafe-bench.XXXXXX)"
bench_pid=""
cleanup() {
  # The bench stops its own children (mosquitto, gateway, Node-RED) by PID when it ends.
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [ -z "${HOMESAFE_BENCH_KEEP:-}" ]; then rm -rf "$work"; else echo "bench.sh: kept $work"; fi
}
trap cleanup EXIT INT TERM

"$build/bench/homesafe_hub_bench" --gateway "$gateway" --sim "$sim" --work "$work" \
  --markdown "$build/bench-results.md" "${bench_args[@]}" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
case ",$only," in
  ,,|*,township,*)
    "$build/bench/homesafe_township_bench" --township "$township" --work "$work/township" \
      --markdown "$build/bench-results.md" "${township_args[@]}" &
    bench_pid=$!
    wait "$bench_pid" || status=$?
    bench_pid="" ;;
esac
echo "bench.sh: tables written to $build/bench-results.md"
exit $status
