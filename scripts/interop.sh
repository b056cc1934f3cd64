#!/usr/bin/env bash
# Per-message compression interop with Autobahn|Python (Twisted), both directions:
#   1. tests/interop/autobahn_compress_client.py  ->  our examples/echo_server (also once as a
#      hybi-10 client, Sec-WebSocket-Version 8)
#   2. our examples/compress_check                ->  tests/interop/autobahn_echo_server.py
# permessage-deflate with four offers: defaults, --no-context-takeover, --window-bits 9,
# --window-bits 15; then once more our compress_check against the Autobahn server started with
# --client-window-bits 9, so that Autobahn's zlib, with a 512-byte window, inflates what our
# client compresses.
#   3. permessage-brotli, -bzip2 and -snappy, both directions, context takeover kept and
#      dropped in each direction (bzip2: the level bounded by each side instead).
# Every run sends text and binary messages of 1 B .. 1 MiB, compressible and not, and checks
# the echoes.
#
# Builds nothing: expects target/release/examples/{echo_server,compress_check}
# (cargo build --release --examples). Python: $AUTOBAHN_VENV/bin/python, else the venv of
# scripts/venv.sh. Servers listen on 127.0.0.1, port 0 (the port is read from their
# `listening on 127.0.0.1:PORT` line); every process started here is stopped by its PID on
# exit. Logs: reports/interop/. Last line: `interop: N passed, M failed` (runs); the exit
# status is non-zero when any run failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

examples="${CARGO_TARGET_DIR:-target}/release/examples"
echo_server="$examples/echo_server"
compress_check="$examples/compress_check"
for bin in "$echo_server" "$compress_check"; do
    if [[ ! -x "$bin" ]]; then
        echo "interop: $bin not found; build it first: cargo build --release --examples" >&2
        exit 1
    fi
done
venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
py="$venv/bin/python"
[[ -x "$py" ]] || { echo "interop: no Python at $py" >&2; exit 1; }

logs=reports/interop
mkdir -p "$logs"
rm -f "$logs"/*.log

# PIDs of everything we started and have not stopped yet.
pids=()
stop() {
    local p
    for p in "$@"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
cleanup() {
    if ((${#pids[@]})); then
        stop "${pids[@]}"
    fi
    pids=()
}
forget() {
    local p keep=()
    for p in "${pids[@]}"; do
        [[ "$p" == "$1" ]] || keep+=("$p")
    done
    pids=(${keep[@]+"${keep[@]}"})
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start LOG CMD...: starts a server in the background; sets $server_pid and $port (from its
# `listening on 127.0.0.1:PORT` line, waited for up to 20 s).
start() {
    local log="$1"; shift
    "$@" >"$log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    port=""
    for _ in $(seq 1 200); do
        port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$log" | head -n1)
        [[ -n "$port" ]] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "interop: $* did not start listening (log: $log):" >&2
    cat "$log" >&2
    exit 1
}

passed=0
failed=0
# check NAME CMD...: runs one client (in the background, so a signal reaches our traps
# at once) with a 180 s limit and counts it.
check() {
    local name="$1"; shift
    local log="$logs/$name.log" rc=0 t0=$SECONDS pid
    timeout 180 "$@" >"$log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait "$pid" || rc=$?
    forget "$pid"
    local summary
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1 || true)
    if ((rc == 0)); then
        passed=$((passed + 1))
        printf 'ok   %-50s %s (%d s)\n' "$name" "$summary" $((SECONDS - t0))
    else
        failed=$((failed + 1))
        printf 'FAIL %-50s exit %d, %s (%d s); log %s:\n' "$name" "$rc" "${summary:-no summary}" \
            $((SECONDS - t0)) "$log"
        tail -n 15 "$log" | sed 's/^/    /'
    fi
}

variants=("" "--no-context-takeover" "--window-bits 9" "--window-bits 15")
label() { local v="${1:-defaults}"; v="${v#--}"; echo "${v// /-}"; }

echo "== Autobahn|Python client -> ferrobahn echo_server (accepting versions 13 and 8)"
start "$logs/server-ferrobahn.log" "$echo_server" --versions 13,8 127.0.0.1:0
# The last variant speaks hybi-10 (Sec-WebSocket-Version: 8).
for v in "${variants[@]}" "--version 8"; do
    # shellcheck disable=SC2086 # $v is zero, one or two words
    check "autobahn-client-to-ferrobahn-$(label "$v")" \
        "$py" tests/interop/autobahn_compress_client.py "ws://127.0.0.1:$port/" $v
done
stop "$server_pid"; forget "$server_pid"

echo "== ferrobahn compress_check -> Autobahn|Python echo server"
start "$logs/server-autobahn.log" "$py" tests/interop/autobahn_echo_server.py
for v in "${variants[@]}"; do
    # shellcheck disable=SC2086
    check "ferrobahn-client-to-autobahn-$(label "$v")" \
        "$compress_check" "ws://127.0.0.1:$port/" $v
done
stop "$server_pid"; forget "$server_pid"

echo "== ferrobahn compress_check -> Autobahn|Python echo server limiting our window to 9 bits"
start "$logs/server-autobahn-client-window-9.log" \
    "$py" tests/interop/autobahn_echo_server.py --client-window-bits 9
check "ferrobahn-client-to-autobahn-client-window-9" "$compress_check" "ws://127.0.0.1:$port/"
stop "$server_pid"; forget "$server_pid"

# Autobahn's other methods. A variant is what the client asks of the server's direction
# (context dropped, or for bzip2 a level bound); the servers are started once as they come
# and once asking the client to drop context (bzip2: to stay at level 2 or below).
methods=(brotli bzip2 snappy)
# ("none": the offer as it comes; "=" stands for a space inside one variant.)
client_variants() { if [[ $1 == bzip2 ]]; then echo "none --level=3"; else echo "none --no-context-takeover"; fi; }
server_ask() { if [[ $1 == bzip2 ]]; then echo "--client-level 2"; else echo "--client-no-context-takeover"; fi; }
# What the client checks when the server asked: brotli and snappy answer client_no_context_takeover.
expect_ask() { if [[ $1 == bzip2 ]]; then echo ""; else echo "--expect-client-no-context-takeover"; fi; }

for ask in no yes; do
    extra=""
    [[ $ask == yes ]] && extra="--client-no-context-takeover --client-level 2"
    echo "== Autobahn|Python client -> ferrobahn echo_server, brotli/bzip2/snappy (server asks: $ask)"
    # shellcheck disable=SC2086 # $extra is zero or three words
    start "$logs/server-ferrobahn-methods-$ask.log" "$echo_server" $extra 127.0.0.1:0
    for m in "${methods[@]}"; do
        for v in $(client_variants "$m"); do
            [[ $v == none ]] && v=""
            v="${v/=/ }"
            x=""
            [[ $ask == yes ]] && x="$(expect_ask "$m")"
            # shellcheck disable=SC2086
            check "autobahn-client-to-ferrobahn-$m-$(label "$v")-ask-$ask" \
                "$py" tests/interop/autobahn_compress_client.py "ws://127.0.0.1:$port/" --method "$m" $v $x
        done
    done
    stop "$server_pid"; forget "$server_pid"

    echo "== ferrobahn compress_check -> Autobahn|Python echo server, brotli/bzip2/snappy (server asks: $ask)"
    for m in "${methods[@]}"; do
        extra=""
        x=""
        if [[ $ask == yes ]]; then extra="$(server_ask "$m")"; x="$(expect_ask "$m")"; fi
        # shellcheck disable=SC2086
        start "$logs/server-autobahn-$m-ask-$ask.log" "$py" tests/interop/autobahn_echo_server.py --method "$m" $extra
        for v in $(client_variants "$m"); do
            [[ $v == none ]] && v=""
            v="${v/=/ }"
            # shellcheck disable=SC2086
            check "ferrobahn-client-to-autobahn-$m-$(label "$v")-ask-$ask" \
                "$compress_check" "ws://127.0.0.1:$port/" --method "$m" $v $x
        done
        stop "$server_pid"; forget "$server_pid"
    done
done

echo "interop: $passed passed, $failed failed"
((failed == 0))
