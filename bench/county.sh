#!/usr/bin/env bash
# The county proof at full size and the ingest throughput with 1, 2 and 4 workers, in one command
# (issue 10; what is checked: tests/county/README.md). Builds homesafe-township and
# homesafe_county_proof in Release, then:
#
#   1. proof:      2,000 simulated hubs (own broker accounts) publish for --seconds (default 180)
#                  into 3 ingest workers + 1 api process on PostgreSQL, with kill -9 of a worker,
#                  a worker killed inside a commit, pg_terminate_backend of the workers'
#                  connections and a broker restart; exactly-once and no-gap checks; alarm
#                  latency p50/p99 normally and during the faults.
#   2. throughput: the same 2,000 hubs with --burst events each already in their outboxes (default
#                  25: 50,000 events), no faults, 1, 2 and 4 workers; events/s into PostgreSQL =
#                  events / (last commit - first commit), from PostgreSQL's commit timestamps.
#
#   bench/county.sh                       everything (about 15 minutes on a 2-core machine)
#   bench/county.sh --only proof|throughput
#   bench/county.sh --seconds 120 --burst 50 --workers "1 2 4"
#   bench/county.sh --no-fsync            PostgreSQL with fsync=off (the tests' setting)
#   bench/county.sh --no-deps             do not run scripts/install-deps.sh
#   bench/county.sh -- --hub-clean-session   options after -- go to the full-size proof run
#
# PostgreSQL runs with fsync=on here (a county's database does), on a private port and data
# folder; Mosquitto on a free loopback port; every process is stopped by its PID. The tables are
# printed and written to $HOMESAFE_COUNTY_BUILD/county-results.md (default build/county).
set -euo pipefail
cd "$(dirname "$0")/.."

build="${HOMESAFE_COUNTY_BUILD:-build/county}"
jobs="${HOMESAFE_COUNTY_JOBS:-$(nproc 2>/dev/null || echo 2)}"
seconds=180
burst=25
worker_counts="1 2 4"
only=""
fsync=(--pg-fsync)
deps=1
proof_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --burst) burst="$2"; shift ;;
    --workers) worker_counts="$2"; shift ;;
    --no-fsync) fsync=() ;;
    --no-deps) deps=0 ;;
    --) shift; proof_args=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "county.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$deps" = 1 ]; then scripts/install-deps.sh; fi
# Many connections: the hubs' sockets in this process, theirs in mosquitto's.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOMESAFE_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j "$jobs" --target homesafe-township homesafe_county_proof
proof="$build/tests/county/homesafe_county_proof"
township="$build/township/homesafe-township"
results="$build/county-results.md"
logs="$(mktemp -d /tmp/homesafe-county.XXXXXX)"
: >"$results"
{
  echo "# County proof and ingest throughput"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)," \
       "PostgreSQL fsync $([ ${#fsync[@]} -gt 0 ] && echo on || echo off), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes')"
} | tee -a "$results"

status=0
if [ -z "$only" ] || [ "$only" = proof ]; then
  "$proof" --township "$township" --hubs 2000 --seconds "$seconds" --workers 3 --rate 200 \
    "${fsync[@]}" --work "$logs/proof" ${proof_args[@]+"${proof_args[@]}"} | tee "$logs/proof.out" ||
    status=1
  sed -n '/^## County proof/,/^RESULT/p' "$logs/proof.out" | grep -v '^RESULT' >>"$results"
fi

if [ -z "$only" ] || [ "$only" = throughput ]; then
  table=("" "## Ingest throughput into PostgreSQL (2,000 hubs, $burst events each in their outboxes, no faults)" ""
         "| ingest workers | events | first -> last commit (s) | events/s over that span | events/s, 5th-95th percentile commit | duplicates absorbed | load after |"
         "|---|---|---|---|---|---|---|")
  for w in $worker_counts; do
    out="$logs/throughput-$w.out"
    "$proof" --township "$township" --hubs 2000 --workers "$w" --no-faults --rate 0 \
      --burst "$burst" --window 5 --ack-timeout-ms 60000 --alarm-watchers 0 --seconds 1 \
      --drain-seconds 900 "${fsync[@]}" --work "$logs/throughput-$w" >"$out" 2>"$logs/throughput-$w.err" ||
      { status=1; tail -20 "$out"; }
    line="$(grep '^RESULT' "$out" || true)"
    get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    table+=("| $w | $(get events) | $(get commit_span_s) | $(get events_per_s) | $(get steady_events_per_s) | $(get duplicates) | $(cut -d' ' -f1 /proc/loadavg) |")
    echo "county.sh: $w worker(s): $(get events_per_s) events/s ($(get steady_events_per_s) between p5 and p95)" >&2
  done
  printf '%s\n' "${table[@]}" | tee -a "$results"
fi

echo "county.sh: tables written to $results; logs in $logs"
exit $status
