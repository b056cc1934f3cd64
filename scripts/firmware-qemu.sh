#!/usr/bin/env bash
# The no-heap WAMP firmware (embedded/firmware, Cortex-M4, thumbv7em-none-eabihf) in QEMU's
# mps2-an386, its UART0 connected straight to `ferrobahn router` as a TCP client on
# 127.0.0.1 (no QEMU user-mode networking): the router sees an ordinary RawSocket session.
# Then, per firmware variant (RawSocket with JSON, with CBOR; WebSocket with JSON, the
# `websocket` feature): our command line client calls
# com.device.read_sensor, publishes to com.device.led and receives com.device.heartbeat; an
# Autobahn|Python session does the same (WebSocket, MessagePack, so the router transcodes);
# the firmware's console shows the LED events; the router pings every 200 ms and the
# firmware must answer to stay; the meta API's
# wamp.session.kill makes the router say GOODBYE, the firmware answers it and stops QEMU
# with exit status 0 (semihosting). Prints the image sizes (flash and static RAM, also of
# an image with cortex-m-rt only) and the peak stack (painted at boot) for
# benches/RESULTS.md.
#
# Installs what it needs when missing: the Rust target (rustup) and qemu-system-arm
# (apt-get). Expects target/release/ferrobahn (cargo build --release --bins). Logs:
# reports/firmware/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin="${CARGO_TARGET_DIR:-target}/release/ferrobahn"
[[ -x "$bin" ]] || { echo "firmware-qemu.sh: $bin not found; cargo build --release --bins" >&2; exit 1; }
target=thumbv7em-none-eabihf
rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
if ! command -v qemu-system-arm >/dev/null; then
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo=sudo
    $sudo apt-get install -y -q qemu-system-arm >/dev/null \
        || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q qemu-system-arm >/dev/null; }
fi
venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
logs="$PWD/reports/firmware"
mkdir -p "$logs"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

fw=embedded/firmware
elf="$fw/target/$target/release/ferrobahn-firmware"
# Its own target directory (embedded/firmware/target): the host builds are not disturbed.
# Warnings fail the test (clippy, which also compiles).
build() {
    (cd "$fw" && cargo clippy --release --quiet --no-default-features --features "$1" -- -D warnings \
        && cargo build --release --quiet --no-default-features --features "$1")
}
# Firmware variants: label and features.
variants=(json:json cbor:cbor json-ws:json,websocket)

sizes() { # label
    size -A "$elf" | awk -v label="$1" '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        $1 == ".text" { text = $2 } $1 == ".rodata" { rodata = $2 } $1 == ".data" { data = $2 } $1 == ".bss" { bss = $2 }
        END { printf "firmware-qemu.sh: %-7s flash %6d bytes (.text %d, .rodata %d, .data %d), .data+.bss %d bytes\n", label, flash, text, rodata, data, ram }'
}
build empty
sizes empty | tee "$logs/sizes.txt"

# The router pings every connection each 200 ms and drops one that misses a ping: the
# firmware must answer RawSocket pings to stay.
echo "ping_interval_ms = 200" >"$logs/router.toml"
source scripts/router-start.sh
start_router "$logs/router.log" --config "$logs/router.toml" --listen 127.0.0.1:0
url="ws://127.0.0.1:$router_port/ws"
echo "firmware-qemu.sh: ferrobahn router on 127.0.0.1:$router_port"

wait_console() { # pattern seconds
    for _ in $(seq 1 $(($2 * 10))); do
        grep -q "$1" "$console" && return 0
        kill -0 "$qemu" 2>/dev/null || break
        sleep 0.1
    done
    cat "$console" >&2
    echo "firmware-qemu.sh: the firmware's console never showed '$1'" >&2
    exit 1
}

for variant in "${variants[@]}"; do
    ser="${variant%%:*}"
    features="${variant#*:}"
    # What the console shows for the LED events ["on", 1] and ["autobahn"] (binary
    # serializers in hex).
    if [[ "$ser" != cbor ]]; then
        led_ours='\["on",1\]' led_theirs='\["autobahn"\]'
    else
        led_ours='82626f6e01' led_theirs='81686175746f6261686e'
    fi
    build "$features"
    sizes "$ser" | tee -a "$logs/sizes.txt"
    console="$logs/console-$ser.log"
    : >"$console"
    qemu-system-arm -M mps2-an386 -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -kernel "$elf" \
        -serial "tcp:127.0.0.1:$router_port" -serial "file:$console" \
        >"$logs/qemu-$ser.log" 2>&1 &
    qemu=$!
    pids+=("$qemu")
    wait_console "subscribed to com.device.led" 30
    session="$(sed -n 's/^firmware: joined realm1 as session \([0-9]*\)$/\1/p' "$console")"
    echo "ok   [$ser] the firmware joined realm1 over $(sed -n 's/^firmware: \(.*\) link up$/\1/p' "$console") through QEMU's UART (session $session)"

    # Our client: two calls (the counter counts), an LED event, two heartbeats a second apart.
    r1="$("$bin" call "$url" com.device.read_sensor)"
    r2="$("$bin" call "$url" com.device.read_sensor)"
    python3 - "$r1" "$r2" <<'EOF'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
assert len(a) == 2 and 2000 <= a[0] <= 2300 and b[1] == a[1] + 1, (a, b)
EOF
    echo "ok   [$ser] ferrobahn call com.device.read_sensor: $r1 then $r2"
    "$bin" publish "$url" com.device.led '"on"' 1 >/dev/null
    wait_console "firmware: led $led_ours" 10
    echo "ok   [$ser] ferrobahn publish com.device.led: the firmware printed it"
    beats="$(timeout 10 "$bin" subscribe "$url" com.device.heartbeat --count 2 | grep '^com.device.heartbeat')"
    python3 - "$beats" <<'EOF'
import json, sys
(c1, t1), (c2, t2) = (json.loads(l.split(" ", 1)[1]) for l in sys.argv[1].splitlines())
assert c2 == c1 + 1 and 500 <= t2 - t1 <= 1500, sys.argv[1]
EOF
    echo "ok   [$ser] ferrobahn subscribe com.device.heartbeat: $(echo "$beats" | tr '\n' ' ')"

    # Autobahn|Python, WebSocket and MessagePack: the router transcodes to the firmware's.
    # (Not RawSocket: Autobahn|Python's asyncio RawSocket client fails on a PING frame,
    # NotImplementedError, and this router pings.)
    if ! timeout 60 "$venv/bin/python" tests/firmware_py/device_peer.py "$url" \
        msgpack "autobahn" >"$logs/python-$ser.log" 2>"$logs/python-$ser.err"; then
        cat "$logs/python-$ser.log" "$logs/python-$ser.err" >&2
        echo "firmware-qemu.sh: the Autobahn|Python checks failed" >&2
        exit 1
    fi
    sed "s/^ok   /ok   [$ser] /" "$logs/python-$ser.log"
    wait_console "firmware: led $led_theirs" 10
    echo "ok   [$ser] the firmware printed Autobahn|Python's LED event"

    # The router says GOODBYE (wamp.session.kill); the firmware answers and stops QEMU.
    "$bin" call "$url" wamp.session.kill "$session" >/dev/null
    status=0
    for _ in $(seq 1 100); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
    wait "$qemu" || status=$?
    if [[ "$status" != 0 ]] || ! grep -q "firmware: left after GOODBYE" "$console"; then
        cat "$console" >&2
        echo "firmware-qemu.sh: the firmware did not leave cleanly (QEMU exit status $status)" >&2
        exit 1
    fi
    echo "ok   [$ser] GOODBYE from the router: the firmware answered and QEMU exited 0"
    pings="$(sed -n 's/.*pings answered \([0-9]*\).*/\1/p' "$console")"
    if grep -q "did not answer a ping" "$logs/router.log" || ((${pings:-0} < 5)); then
        grep "did not answer a ping" "$logs/router.log" >&2 || true
        echo "firmware-qemu.sh: the firmware answered ${pings:-no} RawSocket pings" >&2
        exit 1
    fi
    echo "ok   [$ser] the firmware answered the router's pings ($pings, one each 200 ms)"
    grep "firmware: invocations\|firmware: peak stack" "$console" | sed "s/^/     [$ser] /"
    grep "firmware: peak stack" "$console" | sed "s/^firmware: /firmware-qemu.sh: $ser /" >>"$logs/sizes.txt"
done
kill -0 "$router_pid" || { echo "firmware-qemu.sh: the router died" >&2; exit 1; }
echo "firmware-qemu.sh: the firmware served, subscribed, published and left cleanly in QEMU (RawSocket with JSON and CBOR, WebSocket with JSON)"
cat "$logs/sizes.txt"
