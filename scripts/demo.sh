#!/usr/bin/env bash
# The one-machine demo: a private Mosquitto, the gateway (examples/demo/h001-demo.yaml) and
# simulated devices in household h001 (smoke detector self-test, smoke alarm, gas alarm, call
# button). The escalation ladder runs end to end: a simulated 4G modem and a WeCom endpoint print
# what the caregiver, the emergency contact and the duty desk receive; an SMS reply and the CLI
# acknowledge. Every process it starts is stopped by its PID.
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

echo "== phones: a simulated 4G modem (SMS) and a WeCom robot endpoint print what people receive"
"$sim" modem --link "$work/modem" --outbox "$work/sms.jsonl" --control "$work/modem.ctl" \
  > "$work/phones.txt" 2>&1 &
pids+=($!)
"$sim" webhook-receiver --port-file "$work/webhook.port" > "$work/wecom.txt" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/webhook.port" ] && [ -e "$work/modem" ] && break; sleep 0.1; done
webhook="http://127.0.0.1:$(cat "$work/webhook.port")"

config="$work/h001.yaml"
sed -e "s#@BROKER@#$url#" -e "s#@DB@#$work/h001.db#" -e "s#@MODEM@#$work/modem#" \
  -e "s#@WEBHOOK@#$webhook#" examples/demo/h001-demo.yaml > "$config"
"$gateway" check-config "$config"

"$gateway" --config "$config" 2> "$work/gateway.log" &
pids+=($!)
echo "== gateway: pid ${pids[-1]}, log $work/gateway.log"
mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'homesafe/h001/alert/#' -t 'homesafe/h001/notify' \
  > "$work/published.txt" &
pids+=($!)
sleep 1

echo
echo "== 07:00 devices: firmware-sim/scenarios/demo-h001.yaml at 10x speed"
echo "   (smoke detector self-test, smoke alarm, gas alarm, a press of the call button)"
"$sim" run firmware-sim/scenarios/demo-h001.yaml --broker "$url" --speed 10 --quiet
sleep 1
show_phones() {
  echo "   -- SMS sent by the hub's modem and WeCom messages to the duty desk so far:"
  grep -h -E '^(SMS to|WEBHOOK)' "$work/phones.txt" "$work/wecom.txt" | sed -e 's/^/   /' || true
}
show_phones

call_id="$("$gateway" alerts --config "$config" | awk '$2 == "call" {print $1; exit}')"
echo
echo "== caregiver li replies \"1\" to her last SMS: that acknowledges the call $call_id"
"$sim" modem-ctl "$work/modem.ctl" reply +8613800000001 1
sleep 2
echo
echo "== nobody answers for the smoke and gas alarms: after 20 s the emergency contact is told,"
echo "   after 40 s the township duty desk (WeCom). Waiting 45 s ..."
sleep 45
show_phones
echo
echo "== the duty desk takes over: acknowledges and resolves the smoke alarm with a note"
smoke_id="$("$gateway" alerts --config "$config" | awk '$2 == "smoke" {print $1; exit}')"
"$gateway" ack "$smoke_id" --by township --config "$config" --note "已电话联系家属"
sleep 1
"$gateway" ack "$smoke_id" --by township --resolve --config "$config" --note "误报：烧焦食物，已通风"
sleep 1
echo
echo "== alerts in the hub's store (homesafe-gateway alerts):"
"$gateway" alerts --config "$config"
echo
echo "== handling record and delivery record of the smoke alarm:"
"$gateway" alerts --config "$config" --show "$smoke_id"
echo
echo "== handling record of the call (acknowledged by SMS reply):"
"$gateway" alerts --config "$config" --show "$call_id"
echo
echo "== MQTT: retained alert states and notifications published (first lines):"
head -n 12 "$work/published.txt" | cut -c1-160 | sed -e 's/^/   /'
