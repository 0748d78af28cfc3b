#!/usr/bin/env bash
# The one-machine demo: a private Mosquitto, the gateway (examples/demo/h001-demo.yaml) and
# simulated devices in household h001 (smoke detector self-test, smoke alarm, gas alarm, call
# button). The escalation ladder runs end to end: a simulated 4G modem and a WeCom endpoint print
# what the caregiver, the emergency contact and the duty desk receive; an SMS reply acknowledges.
# The township side runs too: its own Mosquitto (accounts and ACL from `homesafe-township
# hub-credentials`) and `homesafe-township`; the hub forwards every alert through its outbox, and
# the duty desk acknowledges and resolves through the township's HTTP API, which reaches the hub.
# Every process it starts is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

# HOMESAFE_DEMO_BIN=DIR runs already built binaries from DIR (a CMake build folder) instead.
if [ -n "${HOMESAFE_DEMO_BIN:-}" ]; then
  bin="$HOMESAFE_DEMO_BIN"
else
  scripts/install-deps.sh
  echo "== building (release)"
  scripts/build.sh release > /tmp/homesafe-demo-build.log 2>&1 || {
    cat /tmp/homesafe-demo-build.log; exit 1; }
  bin="$root/build/release"
fi
# Township service binary and the demo's township files.
township_bin="$bin/township/homesafe-township"
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
free_port() {
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return; fi
  done
  echo "no free port found" >&2
  exit 1
}
wait_port() {
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
}
port="$(free_port)"
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
wait_port "$port"
echo "== broker: mosquitto on $url (pid ${pids[-1]})"

# The township: registry, a duty-desk account (a password made now: no secret in the repo),
# broker accounts and ACL for the hubs, the township's broker and the service.
tdir="$work/township"
mkdir -p "$tdir"
tport="$(free_port)"
hport="$(free_port)"
broker_secret="$(openssl rand -hex 16)"
desk_password="$(openssl rand -hex 12)"
# The secret that signs caregivers' one-tap links (docs/console.md), made now.
(umask 077; openssl rand -hex 32 > "$tdir/link.secret")
console="http://127.0.0.1:$hport"
write_township_config() {
  cat > "$tdir/township.yaml" <<CONF
storage: {path: "$tdir/township.db"}
broker: {url: "tcp://127.0.0.1:$tport", username: township, password: "$broker_secret"}
http: {address: 127.0.0.1, port: $hport}
console: {public_url: "$console", link_secret_file: "$tdir/link.secret"}
CONF
}
write_township_config
"$township_bin" import-households --config "$tdir/township.yaml" examples/township/households.csv \
  > /dev/null
printf '%s\n' "$desk_password" | "$township_bin" add-user --config "$tdir/township.yaml" \
  --username zhang --role township_operator --scope 东乡 > /dev/null
"$township_bin" hub-credentials --config "$tdir/township.yaml" --out "$tdir/broker" > /dev/null
cat > "$tdir/mosquitto.conf" <<CONF
listener $tport 127.0.0.1
user $(id -un)
allow_anonymous false
password_file $tdir/broker/passwd
acl_file $tdir/broker/acl
persistence true
persistence_location $tdir/
set_tcp_nodelay true
log_dest file $tdir/mosquitto.log
CONF
mosquitto -c "$tdir/mosquitto.conf" &
pids+=($!)
wait_port "$tport"
"$township_bin" --config "$tdir/township.yaml" 2> "$tdir/township.log" &
pids+=($!)
wait_port "$hport"
echo "== township: broker tcp://127.0.0.1:$tport (accounts + ACL), homesafe-township on" \
  "http://127.0.0.1:$hport (pid ${pids[-1]}, log $tdir/township.log)"
# The installer puts the hub's township password (from hub-credentials.csv) in a secret file.
grep '^"h001"' "$tdir/broker/hub-credentials.csv" | tr -d '"\r' | cut -d, -f3 > "$work/uplink.secret"
chmod 600 "$work/uplink.secret"

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
  -e "s#@WEBHOOK@#$webhook#" -e "s#@TOWNSHIP@#tcp://127.0.0.1:$tport#" \
  -e "s#@SECRET@#$work/uplink.secret#" -e "s#@CONSOLE@#$console#" \
  -e "s#@LINKKEY@#$tdir/broker/link-keys/h001.key#" examples/demo/h001-demo.yaml > "$config"
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
echo "== the township duty desk (user zhang, 东乡) sees the hub's alerts in the township service:"
api="http://127.0.0.1:$hport/api"
cookies="$tdir/cookies.txt"
curl -sf -c "$cookies" -H 'Content-Type: application/json' \
  -d "{\"username\":\"zhang\",\"password\":\"$desk_password\"}" "$api/login" > /dev/null
curl -sf -b "$cookies" "$api/alerts?state=active" > "$tdir/alerts.json"
# One line per alert: id, kind, state, village (the API's JSON keys come in alphabetical order);
# each alert object starts with its first key, "acknowledged_at".
sed -e 's/,{"acknowledged_at"/\n{"acknowledged_at"/g' "$tdir/alerts.json" | sed -n -e \
  's/.*"alert_id":"\([^"]*\)".*"kind":"\([^"]*\)".*"state":"\([^"]*\)".*"village":"\([^"]*\)".*/   \1  \2  \3  \4/p'
echo
echo "== the duty desk takes over in the township service: acknowledges and resolves the smoke"
echo "   alarm with a note; the command goes down to the hub, which stops its ladder"
smoke_id="$("$gateway" alerts --config "$config" | awk '$2 == "smoke" {print $1; exit}')"
curl -sf -b "$cookies" -H 'Content-Type: application/json' -d '{"note":"已电话联系家属"}' \
  "$api/alerts/$smoke_id/ack" > /dev/null
sleep 2
curl -sf -b "$cookies" -H 'Content-Type: application/json' \
  -d '{"note":"误报：烧焦食物，已通风"}' "$api/alerts/$smoke_id/resolve" > /dev/null
sleep 2
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
echo
echo "== the township's record of the smoke alarm (GET /api/alerts/$smoke_id: history and 处置记录):"
sleep 1
curl -sf -b "$cookies" "$api/alerts/$smoke_id" | sed -e 's/},{/}\n{/g' | sed -n -e \
  's/.*"at":\([0-9]*\),"by":"\([^"]*\)","channel":"\([^"]*\)","event":"\([^"]*\)","note":"\([^"]*\)","source":"\([^"]*\)".*/\1  \4 by \2 (\3, recorded by \6) \5/p' |
  while read -r ms rest; do printf '   %s  %s\n' "$(TZ=Asia/Shanghai date -d "@$((ms / 1000))" +%H:%M:%S)" "$rest"; done
echo
echo "== this month's visit-rate report of 东乡 (GET /api/reports/visit-rate?format=csv):"
curl -sf -b "$cookies" "$api/reports/visit-rate?month=$(date +%Y-%m)&format=csv" | sed -e 's/^/   /'
echo
link="$(grep -h -o "$console/c/[A-Za-z0-9_.:/-]*" "$work/phones.txt" | grep '/son/' | tail -n 1 || true)"
if [ -n "$link" ]; then
  echo "== the emergency contact's SMS ends with a one-tap link; he taps 我已到场 (on site):"
  echo "   $link"
  api_link="$console/api/link/${link#"$console/c/"}"
  curl -sf -H 'Content-Type: application/json' -d '{"action":"on_site"}' "$api_link" |
    sed -e 's/^/   /'
  echo
  sleep 2
  curl -sf "$api_link" | sed -e 's/^/   /' || true
  echo
fi
echo
echo "== the duty-desk console: open $console in a browser"
echo "   user: zhang   password: $desk_password   (made for this run only)"
if [ "${HOMESAFE_DEMO_KEEP:-}" = 1 ]; then
  echo "   HOMESAFE_DEMO_KEEP=1: everything keeps running; press Ctrl-C to stop it."
  while sleep 3600; do :; done
else
  echo "   (run with HOMESAFE_DEMO_KEEP=1 to keep the demo running and look at it)"
fi
