#!/usr/bin/env bash
# permessage-deflate interop with Autobahn|Python, both directions:
#   Autobahn|Python client -> our echo_server   (default offer, no context takeover, window 9, 15)
#   our deflate_check      -> Autobahn|Python echo server (same four offers, plus the server
#                              limiting our window to 9 bits)
# Builds nothing: expects target/release/examples/{echo_server,deflate_check}. Every server it
# starts listens on 127.0.0.1 (port 0) and is stopped by its PID.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
py="$venv/bin/python"
target="${CARGO_TARGET_DIR:-target}/release/examples"
logs=reports/interop
mkdir -p "$logs"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Starts a server command in the background; sets $port from its `listening on` line.
start() {
    local log="$1"; shift
    : >"$log"
    "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "interop: $* did not start" >&2; cat "$log" >&2; return 1
}

passed=0; failed=0
run() {
    local name="$1"; shift
    if timeout 180 "$@" >"$logs/$name.log" 2>&1; then
        passed=$((passed + 1)); echo "ok   $name: $(tail -n1 "$logs/$name.log")"
    else
        failed=$((failed + 1)); echo "FAIL $name:"; tail -n5 "$logs/$name.log"
    fi
}
variants=("" "--no-context-takeover" "--window-bits 9" "--window-bits 15")

start "$logs/echo_server.log" "$target/echo_server" 127.0.0.1:0
for v in "${variants[@]}"; do
    # shellcheck disable=SC2086
    run "autobahn-client${v// /}" "$py" tests/interop/deflate_peer.py client "ws://127.0.0.1:$port/" $v
done

start "$logs/autobahn_server.log" "$py" tests/interop/deflate_peer.py server
for v in "${variants[@]}"; do
    # shellcheck disable=SC2086
    run "ferrobahn-client${v// /}" "$target/deflate_check" "ws://127.0.0.1:$port/" $v
done
start "$logs/autobahn_server_w9.log" "$py" tests/interop/deflate_peer.py server --client-window-bits 9
run "ferrobahn-client-our-window-9" "$target/deflate_check" "ws://127.0.0.1:$port/"

echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
