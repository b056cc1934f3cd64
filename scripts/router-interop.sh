#!/usr/bin/env bash
# Autobahn|Python sessions on our embedded router (`ferrobahn router`): for each of their
# serializers, over WebSocket and RawSocket, an Autobahn|Python session
# (tests/wamp_crossbar/autobahn_peer.py) registers, subscribes, calls and publishes, and
# examples/wamp_check's `peer` checks (our client, another serializer) talk to it through
# our router: calls both ways, binary payloads, ApplicationError, events both ways.
#
# Builds nothing: expects target/release/ferrobahn and target/release/examples/wamp_check.
# The router listens on 127.0.0.1 port 0 and is stopped by its PID. Logs: reports/router/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin="${CARGO_TARGET_DIR:-target}/release/ferrobahn"
check="${CARGO_TARGET_DIR:-target}/release/examples/wamp_check"
for b in "$bin" "$check"; do
    [[ -x "$b" ]] || { echo "router-interop.sh: $b not found; cargo build --release --bins --examples" >&2; exit 1; }
done
venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
logs=reports/router
mkdir -p "$logs"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

"$bin" router --listen 127.0.0.1:0 >"$logs/router.log" 2>&1 &
router=$!
pids+=("$router")
port=""
for _ in $(seq 1 100); do
    port="$(grep -o 'ws://127.0.0.1:[0-9]*' "$logs/router.log" | head -1 | cut -d: -f3 || true)"
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "$port" ]] || { cat "$logs/router.log" >&2; echo "router-interop.sh: the router did not start" >&2; exit 1; }
echo "router-interop.sh: ferrobahn router on 127.0.0.1:$port"

ours=(msgpack cbor ubjson json)
i=0
for theirs in json msgpack cbor ubjson; do
    for transport in ws rs; do
        if [[ $transport == ws ]]; then url="ws://127.0.0.1:$port/ws"; else url="rs://127.0.0.1:$port"; fi
        log="$logs/peer-$theirs-$transport.log"
        "$venv/bin/python" tests/wamp_crossbar/autobahn_peer.py "$url" "$theirs" >"$log" 2>&1 &
        peer=$!
        pids+=("$peer")
        for _ in $(seq 1 300); do
            grep -q '^ready' "$log" && break
            kill -0 "$peer" 2>/dev/null || break
            sleep 0.1
        done
        if ! grep -q '^ready' "$log"; then
            cat "$log" >&2
            echo "router-interop.sh: the Autobahn|Python peer ($theirs over $transport) did not get ready" >&2
            exit 1
        fi
        echo "router-interop.sh: Autobahn|Python peer speaks $theirs over $transport; we speak ${ours[$i]}"
        status=0
        "$check" peer "ws://127.0.0.1:$port/ws" "${ours[$i]}" || status=$?
        kill "$peer" 2>/dev/null || true
        wait "$peer" 2>/dev/null || true
        ((status == 0)) || exit "$status"
    done
    i=$((i + 1))
done
kill -0 "$router" || { echo "router-interop.sh: the router died" >&2; exit 1; }
echo "router-interop.sh: all Autobahn|Python peer checks passed on our router"
