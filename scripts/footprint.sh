#!/usr/bin/env bash
# Footprint of the hub gateway (docs/packaging.md): stripped binary sizes, resident memory with
# 30 devices after an hour of simulated household traffic, and idle wake-ups over 60 s.
#   scripts/footprint.sh BUILD_DIR [SPEED]
# BUILD_DIR is build/arm64 (programs run under qemu-aarch64 -L /) or a native build. The hour of
# traffic (07:00-08:00 of three simulated households, 10 devices each, renamed into one hub) is
# published SPEED times faster than real time (default 12: five minutes). A private Mosquitto on
# a free loopback port; every process is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:?usage: $0 BUILD_DIR [SPEED]}"
speed="${2:-12}"
gateway="$build/gateway/homesafe-gateway"
sim="$build/firmware-sim/homesafe-sim"
run=()
strip=strip
if file -L "$gateway" | grep -q aarch64; then
  run=(qemu-aarch64 -L /)
  strip=aarch64-linux-gnu-strip
fi

work="$(mktemp -d /tmp/homesafe-footprint.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== stripped sizes ($(file -L "$gateway" | grep -o 'ARM aarch64\|x86-64' | head -1))"
for b in "$gateway" "$sim"; do
  "$strip" -o "$work/$(basename "$b")" "$b"
  printf '%-18s %8d bytes stripped (%d unstripped)\n' "$(basename "$b")" \
    "$(stat -c %s "$work/$(basename "$b")")" "$(stat -c %s "$b")"
done

for seed in 1 2 3; do
  "${run[@]}" "$sim" household --seed "$seed" --days 1 --household h001 --out "$work/s$seed" --quiet
done

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/broker"
cat >"$work/broker/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 100000
set_tcp_nodelay true
log_dest file $work/broker/log
EOF
if [ "$(id -u)" -eq 0 ]; then echo "user root" >>"$work/broker/mosquitto.conf"; fi
/usr/sbin/mosquitto -c "$work/broker/mosquitto.conf" &
pids+=($!)

# One hub config with 30 devices, and the hour of traffic, from the three households.
python3 - "$work" "$port" <<'PY'
import json, re, sys
work, port = sys.argv[1], sys.argv[2]
keep = ["front-door", "hall-motion", "kitchen-motion", "bathroom-motion", "bed-sensor",
        "water-meter", "kettle-plug", "kitchen-smoke", "kitchen-gas", "bedroom-sos"]
devices, messages = [], []
for seed in (1, 2, 3):
    text = open(f"{work}/s{seed}/hub.yaml", encoding="utf-8").read()
    entries, current = [], None
    for line in text.split("devices:\n", 1)[1].split("\ncontacts:")[0].splitlines():
        if line.startswith("  - "):
            current = {}
            entries.append(current)
            line = line[4:]
        if current is not None and line.strip():
            key, value = line.strip().split(":", 1)
            current[key] = value.strip()
    for entry in entries:
        name = entry["id"]
        if name not in keep:
            continue
        entry["id"] = f"{name}-{seed}"
        entry["topic"] = entry["topic"].replace(f"/dev/{name}", f"/dev/{name}-{seed}")
        devices.append("  - {" + ", ".join(f"{k}: {v}" for k, v in entry.items()) + "}")
    for line in open(f"{work}/s{seed}/messages.jsonl", encoding="utf-8"):
        m = json.loads(line)
        hour = m["ts"][11:13]
        first = m["ts"][11:19] <= "00:00:30"
        name = m["topic"].split("/")[3]
        if name not in keep or not (first or hour == "07"):
            continue
        m["topic"] = m["topic"].replace(f"/dev/{name}/", f"/dev/{name}-{seed}/")
        try:  # the gateway stamps arrival time: drop the simulated day's ts
            payload = json.loads(m["payload"])
            if isinstance(payload, dict):
                payload.pop("ts", None)
                m["payload"] = json.dumps(payload, separators=(",", ":"))
        except ValueError:
            pass
        messages.append(m)
assert len(devices) == 30, len(devices)
messages.sort(key=lambda m: (m["ts"][11:19] > "00:00:30", m["ts"]))
contacts = open(f"{work}/s1/hub.yaml", encoding="utf-8").read().split("\ncontacts:", 1)[1]
config = (f'household: {{id: h001, name: "footprint", timezone: Asia/Shanghai}}\n'
          f'broker: {{url: "tcp://127.0.0.1:{port}"}}\n'
          f'storage: {{path: "{work}/hub.db"}}\n'
          "devices:\n" + "\n".join(devices) + "\ncontacts:" + contacts)
open(f"{work}/hub.yaml", "w", encoding="utf-8").write(config)
with open(f"{work}/hour.jsonl", "w", encoding="utf-8") as out:
    for m in messages:
        out.write(json.dumps(m, ensure_ascii=False) + "\n")
print(f"{len(devices)} devices, {len(messages)} messages (initial states and 07:00-08:00)")
PY

"${run[@]}" "$gateway" check-config "$work/hub.yaml" >/dev/null
"${run[@]}" "$gateway" --config "$work/hub.yaml" --log-level warn 2>"$work/gateway.log" &
gw=$!
pids+=("$gw")
sleep 5

# A minimal MQTT 3.1.1 publisher (QoS 0) replaying the hour SPEED times faster.
python3 - "$work/hour.jsonl" "$port" "$speed" <<'PY'
import json, socket, sys, time
from datetime import datetime
path, port, speed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def rl(n):
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n: return bytes(out)
def s(text):
    b = text.encode(); return len(b).to_bytes(2, "big") + b
sock = socket.create_connection(("127.0.0.1", port))
# Keepalive 0: at real-time speed the gaps between messages exceed any keepalive.
body = s("MQTT") + bytes([4, 2]) + (0).to_bytes(2, "big") + s("footprint-devices")
sock.sendall(bytes([0x10]) + rl(len(body)) + body)
assert sock.recv(4)[3] == 0, "CONNACK refused"
lines = [json.loads(l) for l in open(path, encoding="utf-8")]
t0 = None; start = time.monotonic()
for m in lines:
    t = datetime.fromisoformat(m["ts"]).timestamp()
    if m["ts"][11:13] == "07":
        t0 = t0 or t
        delay = (t - t0) / speed - (time.monotonic() - start)
        if delay > 0: time.sleep(delay)
    body = s(m["topic"]) + m["payload"].encode()
    sock.sendall(bytes([0x30 | (1 if m.get("retain") else 0)]) + rl(len(body)) + body)
sock.sendall(bytes([0xE0, 0])); sock.close()
print(f"published {len(lines)} messages in {time.monotonic() - start:.0f} s")
PY
sleep 10
kill -0 "$gw" || { cat "$work/gateway.log"; exit 1; }

idle="${FOOTPRINT_IDLE_SECONDS:-60}"
per_thread() {  # "comm switches" per thread (voluntary + involuntary context switches)
  for t in /proc/"$gw"/task/*; do
    echo "$(cat "$t/comm") $(awk '/ctxt_switches/ {n += $2} END {print n}' "$t/status")"
  done
}
echo "== after the hour: $(grep -E 'VmRSS|VmHWM' /proc/$gw/status | tr -s ' \t' ' ' | tr '\n' ' ')"
if [ ${#run[@]} -gt 0 ]; then
  # qemu-user maps the arm64 program at 0x5500000000: its mappings are what it would use on a hub.
  python3 - "$gw" <<'PY'
import re, sys
guest = host = 0
inside = False
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    m = re.match(r"([0-9a-f]+)-[0-9a-f]+ ", line)
    if m:
        inside = 0x5500000000 <= int(m.group(1), 16) < 0x5600000000
    elif line.startswith("Rss:"):
        kb = int(line.split()[1])
        guest, host = (guest + kb, host) if inside else (guest, host + kb)
print(f"   of which the arm64 program's own mappings: {guest} kB; qemu itself: {host} kB")
PY
fi
per_thread >"$work/before"; sleep "$idle"; per_thread >"$work/after"
echo "== idle for $idle s: wake-ups (context switches) per thread"
paste "$work/before" "$work/after" | awk -v s="$idle" \
  '{d = $4 - $2; total += d; printf "   %-16s %6d  (%.2f/s)\n", $1, d, d / s}
   END {printf "   %-16s %6d  (%.2f/s)\n", "all threads", total, total / s}'
kill "$gw"; wait "$gw" || true
