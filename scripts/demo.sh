#!/usr/bin/env bash
# The one-machine demo: a private Mosquitto, the gateway with the example hub config, and
# simulated devices in household h001 (smoke detector self-test, smoke alarm, gas alarm, call
# button). Shows the alerts as they are published and stored, then a caregiver handles one.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

scripts/install-deps.sh
echo "== building (release)"
scripts/build.sh release > /tmp/homesafe-demo-build.log 2>&1 || {
  cat /tmp/homesafe-demo-build.log; exit 1; }
bin="$root/build/release"
gateway="$bin/gateway/homesafe-gateway"
sim="$bin/firmware-sim/homesafe-sim"

work="$(mktemp -d /tmp/homesafe-demo.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "(demo files kept in $work)"
}
trap cleanup EXIT

# A free loopback port: nothing answers on it.
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "no free port found" >&2; exit 1; }
url="tcp://127.0.0.1:$port"

cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
user $(id -un)
allow_anonymous true
persistence true
persistence_location $work/
max_queued_messages 100000
set_tcp_nodelay true
log_dest file $work/mosquitto.log
CONF
mosquitto -c "$work/mosquitto.conf" &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "== broker: mosquitto on $url (pid ${pids[-1]})"

sed -e "s#tcp://127.0.0.1:1883#$url#" -e "s#/var/lib/homesafe/h001.db#$work/h001.db#" \
  examples/h001.yaml > "$work/h001.yaml"
"$gateway" check-config "$work/h001.yaml"

"$gateway" --config "$work/h001.yaml" 2> "$work/gateway.log" &
pids+=($!)
echo "== gateway: pid ${pids[-1]}, log $work/gateway.log"

echo "== watching what the gateway publishes (homesafe/h001/alert/# and status)"
mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'homesafe/h001/alert/#' -t 'homesafe/h001/gateway/status' \
  > "$work/published.txt" &
pids+=($!)
sleep 1

echo "== devices: running firmware-sim/scenarios/demo-h001.yaml at 10x speed"
"$sim" run firmware-sim/scenarios/demo-h001.yaml --broker "$url" --speed 10
sleep 1

echo
echo "== published on MQTT (retained alert states):"
sed -e 's/^/  /' "$work/published.txt"
echo
echo "== stored in SQLite ($work/h001.db): homesafe-gateway alerts"
"$gateway" alerts --config "$work/h001.yaml"

call_id="$("$gateway" alerts --config "$work/h001.yaml" | awk '$2 == "call" {print $1; exit}')"
echo
echo "== caregiver li arrives and resolves the call $call_id"
"$gateway" ack "$call_id" --by li --config "$work/h001.yaml" --note "已到场，老人安好"
sleep 0.5
"$gateway" ack "$call_id" --by li --resolve --config "$work/h001.yaml" --note "误按，已处理"
sleep 0.5
"$gateway" alerts --config "$work/h001.yaml" --show "$call_id"
echo
echo "== gateway log:"
sed -e 's/^/  /' "$work/gateway.log"
