#!/usr/bin/env bash
# HTTP CONNECT proxy checks: starts proxy.py (PyPI, from the venv of scripts/venv.sh) on
# 127.0.0.1 with Basic authentication and runs examples/proxy_check against it: ws:// and
# wss:// through the tunnel, 407 for wrong credentials, 502 for an unreachable target,
# http_proxy/https_proxy/no_proxy from the environment.
#
# Builds nothing: expects target/release/examples/proxy_check (cargo build --release
# --examples). The proxy listens on port 0 (read back from its --port-file) and is stopped
# by its PID on exit. Log: reports/proxy/proxy.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check="${CARGO_TARGET_DIR:-target}/release/examples/proxy_check"
[[ -x "$check" ]] || { echo "proxy.sh: $check not found; cargo build --release --examples" >&2; exit 1; }
venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
[[ -x "$venv/bin/proxy" ]] || { echo "proxy.sh: no proxy.py in $venv" >&2; exit 1; }

logs=reports/proxy
mkdir -p "$logs"
work="$(mktemp -d "${TMPDIR:-/tmp}/ferrobahn-proxy.XXXXXX")"
proxy_pid=""
cleanup() {
    if [[ -n "$proxy_pid" ]]; then
        kill "$proxy_pid" 2>/dev/null || true
        wait "$proxy_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

user=ferrobahn
pass="p@ss-$RANDOM"
"$venv/bin/proxy" --hostname 127.0.0.1 --port 0 --port-file "$work/port" \
    --basic-auth "$user:$pass" --num-acceptors 1 --num-workers 2 \
    >"$logs/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 100); do
    [[ -s "$work/port" ]] && break
    kill -0 "$proxy_pid" 2>/dev/null || { cat "$logs/proxy.log" >&2; echo "proxy.sh: proxy.py exited" >&2; exit 1; }
    sleep 0.1
done
[[ -s "$work/port" ]] || { echo "proxy.sh: proxy.py wrote no port" >&2; exit 1; }
port="$(cat "$work/port")"
echo "proxy.sh: proxy.py (pid $proxy_pid) on 127.0.0.1:$port"
# The password goes percent-encoded into the proxy URL ('@' is %40).
"$check" "$port" "$user" "${pass//@/%40}"
