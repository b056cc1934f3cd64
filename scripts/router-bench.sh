#!/usr/bin/env bash
# Our embedded router and Crossbar.io, measured side by side with the same load generator
# (`ferrobahn bench`): RPC calls one at a time and 100 in flight, events 1→1, 1→10 and 1→1000,
# JSON and MessagePack, WebSocket and RawSocket. Rounds alternate between the two routers;
# each figure is the median of the rounds. Router CPU per message (user and system, its whole
# process tree) comes from /proc. Writes reports/router-bench/results.jsonl and prints a
# Markdown table (the one in benches/RESULTS.md).
#
# Usage: scripts/router-bench.sh [ROUNDS (3)] [SECONDS per scenario (2)]
# Builds nothing: expects target/release/ferrobahn and target/release/examples/loopback_floor
# (the floor: a bare TCP relay's round trips, what no router can beat for calls one at a
# time). Crossbar from scripts/crossbar-venv.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds="${1:-3}"
secs="${2:-2}"
bin="${FERROBAHN_BIN:-${CARGO_TARGET_DIR:-target}/release/ferrobahn}"
[[ -x "$bin" ]] || { echo "router-bench.sh: $bin not found; cargo build --release --bins" >&2; exit 1; }
floor="$(dirname "$bin")/examples/loopback_floor"
[[ -x "$floor" ]] || { echo "router-bench.sh: $floor not found; cargo build --release --examples" >&2; exit 1; }
cbvenv="${CROSSBAR_VENV:-$(scripts/crossbar-venv.sh)}"
logs=reports/router-bench
mkdir -p "$logs"
results="$logs/results.jsonl"
: >"$results"
cbdir="$(mktemp -d "${TMPDIR:-/tmp}/ferrobahn-bench.XXXXXX")"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$cbdir"
}
trap cleanup EXIT

# Many sessions: each is a socket (and, in our router, two threads).
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true

source scripts/router-start.sh
start_router "$logs/ours.log" --listen 127.0.0.1:0
ours=$router_pid
port=$router_port

eval "$("$cbvenv/bin/python" tests/wamp_crossbar/config.py "$cbdir/.crossbar")"  # ws= rs= ...
"$cbvenv/bin/crossbar" start --cbdir "$cbdir/.crossbar" >"$logs/crossbar.log" 2>&1 &
cb=$!
pids+=("$cb")
for _ in $(seq 1 300); do
    if "$cbvenv/bin/python" -c "
import socket
for p in ($ws, $rs):
    socket.create_connection(('127.0.0.1', p), timeout=0.2).close()
" 2>/dev/null; then break; fi
    kill -0 "$cb" 2>/dev/null || { tail -30 "$logs/crossbar.log" >&2; exit 1; }
    sleep 0.1
done
echo "router-bench.sh: ferrobahn router (pid $ours) on $port, Crossbar (pid $cb) on ws $ws / rs $rs"

run() { # label pid url serializer
    "$bin" bench "$3" --serializer "$4" --secs "$secs" --router-pid "$2" --label "$1" \
        | tee -a "$results"
}
for round in $(seq 1 "$rounds"); do
    echo "router-bench.sh: round $round of $rounds"
    "$floor" "$secs" | sed 's/^{/{"scenario": "floor", /' | tee -a "$results"
    for ser in json msgpack; do
        run ferrobahn "$ours" "ws://127.0.0.1:$port/ws" "$ser"
        run crossbar "$cb" "ws://127.0.0.1:$ws/" "$ser"
        run ferrobahn "$ours" "rs://127.0.0.1:$port" "$ser"
        run crossbar "$cb" "rs://127.0.0.1:$rs" "$ser"
    done
done

"$cbvenv/bin/python" - "$results" <<'EOF'
import json, statistics, sys
from collections import defaultdict
rows = defaultdict(list)
floor = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("scenario") == "floor":
        floor.append(r)
        continue
    rows[(r["scenario"], r["serializer"], r["transport"], r["router"])].append(r)
def med(rs, k):
    v = [r[k] for r in rs if k in r]
    return statistics.median(v) if v else None
order = ["call", "call100", "pub1", "fan10", "fan1000"]
print("| scenario | serializer | transport | ferrobahn msg/s | Crossbar msg/s | ratio | "
      "ferrobahn CPU µs/msg (user+sys) | Crossbar CPU µs/msg (user+sys) | CPU ratio |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for sc in order:
    for ser in ["json", "msgpack"]:
        for tr in ["ws", "rs"]:
            a, b = rows.get((sc, ser, tr, "ferrobahn")), rows.get((sc, ser, tr, "crossbar"))
            if not a or not b:
                continue
            ra, rb = med(a, "per_second"), med(b, "per_second")
            def cpu(rs):
                u, s = med(rs, "router_user_us_per_msg"), med(rs, "router_sys_us_per_msg")
                return (u, s, u + s) if u is not None else None
            ca, cb = cpu(a), cpu(b)
            fc = lambda c: f"{c[2]:.1f} ({c[0]:.1f}+{c[1]:.1f})" if c else "–"
            ratio_cpu = f"{cb[2] / ca[2]:.1f}×" if ca and cb and ca[2] > 0 else "–"
            print(f"| {sc} | {ser} | {tr} | {ra:,.0f} | {rb:,.0f} | {ra / rb:.1f}× | "
                  f"{fc(ca)} | {fc(cb)} | {ratio_cpu} |")
if floor:
    print(f"\nFloor for calls one at a time (a bare TCP relay, three processes, 64-byte "
          f"messages, no protocol): {statistics.median(f['round_trips_per_s'] for f in floor):,.0f} "
          f"round trips/s; without the relay: "
          f"{statistics.median(f['direct_round_trips_per_s'] for f in floor):,.0f}/s")
# Memory: the first 1,000-session run of each router (WebSocket, JSON), on a process that
# has not had 1,000 sessions before: Python keeps freed memory, so later runs of Crossbar
# would show almost no growth.
first = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "router_bytes_per_idle_session" in r:
        first.setdefault(r["router"], r)
for router, r in first.items():
    print(f"\n{router}: resident memory growth per idle subscribed session, 1,000 sessions over "
          f"{r['transport']} ({r['serializer']}), fresh process: "
          f"{r['router_bytes_per_idle_session'] / 1024:.1f} KiB")
EOF
