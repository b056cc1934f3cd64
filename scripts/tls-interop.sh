#!/usr/bin/env bash
# wss:// interop with Autobahn|Python over Python's `ssl`, and the Autobahn TestSuite
# against our TLS server:
#   1. our examples/wss_client      ->  tests/interop/autobahn_wss.py server (asyncio + ssl)
#   2. tests/interop/autobahn_wss.py client  ->  our examples/echo_server --tls
#   3. kosoku, sections 1-10, against examples/echo_server --tls through a local TLS client
#      tunnel (tests/interop/tls_tunnel.py: kosoku has no TLS option), compared with the
#      same expectations as the plain run (scripts/autobahn.sh).
# Certificates: a test CA and a `localhost` certificate made by tests/interop/make_certs.py
# (trustme) for this run.
#
# Builds nothing: expects target/release/examples/{echo_server,wss_client}. Every process
# started here is stopped by its PID on exit. Logs: reports/tls/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

examples="${CARGO_TARGET_DIR:-target}/release/examples"
for bin in echo_server wss_client; do
    [[ -x "$examples/$bin" ]] || { echo "tls-interop: $examples/$bin not found; cargo build --release --examples" >&2; exit 1; }
done
venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
py="$venv/bin/python"

logs=reports/tls
mkdir -p "$logs"
rm -f "$logs"/*.log
certs="$(mktemp -d "${TMPDIR:-/tmp}/ferrobahn-tls.XXXXXX")"
pids=()
cleanup() {
    local p
    for p in ${pids[@]+"${pids[@]}"}; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$certs"
}
trap cleanup EXIT

# Starts a server that prints `listening on 127.0.0.1:PORT`; sets $port and $pid.
start() {
    local log="$1"; shift
    "$@" >"$log" 2>&1 &
    pid=$!
    pids+=("$pid")
    port=""
    for _ in $(seq 1 200); do
        port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log" | head -1)"
        [[ -n "$port" ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log" >&2
    echo "tls-interop: $* did not start" >&2
    exit 1
}

"$py" tests/interop/make_certs.py "$certs"

echo "tls-interop: 1. our wss client -> Autobahn|Python wss server"
start "$logs/autobahn_server.log" "$py" tests/interop/autobahn_wss.py server "$certs"
"$examples/wss_client" "wss://localhost:$port/" --ca "$certs/ca.pem" | tee "$logs/wss_client.log"

echo "tls-interop: 2. Autobahn|Python wss client -> our wss server"
start "$logs/echo_server.log" "$examples/echo_server" --tls "$certs/server.pem" "$certs/server.key" 127.0.0.1:0
"$py" tests/interop/autobahn_wss.py client "wss://localhost:$port/" "$certs/ca.pem" | tee "$logs/autobahn_client.log"

echo "tls-interop: 3. Autobahn TestSuite 1-10 against our wss server (through a TLS tunnel)"
ECHO_SERVER_CMD="$py tests/interop/tls_tunnel.py $certs/ca.pem $examples/echo_server --tls $certs/server.pem $certs/server.key" \
    AUTOBAHN_VENV="$venv" AUTOBAHN_REPORTS=reports/autobahn-wss \
    scripts/autobahn.sh --role server --sections '1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.*'
echo "tls-interop: all passed"
