#!/usr/bin/env bash
# WAMP client checks against Crossbar.io: writes a node directory (tests/wamp_crossbar/
# config.py), starts `crossbar start` on 127.0.0.1, runs examples/wamp_check against its
# WebSocket, RawSocket and authenticating transports, and stops Crossbar by its PID.
#
# Builds nothing: expects target/release/examples/wamp_check. Crossbar comes from
# scripts/crossbar-venv.sh. Log: reports/crossbar/crossbar.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check="${CARGO_TARGET_DIR:-target}/release/examples/wamp_check"
[[ -x "$check" ]] || { echo "crossbar.sh: $check not found; cargo build --release --examples" >&2; exit 1; }
venv="${CROSSBAR_VENV:-$(scripts/crossbar-venv.sh)}"
logs=reports/crossbar
mkdir -p "$logs"
cbdir="$(mktemp -d "${TMPDIR:-/tmp}/ferrobahn-crossbar.XXXXXX")"
pid=""
cleanup() {
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$cbdir"
}
trap cleanup EXIT

# A test CA and a localhost certificate (trustme, from the main venv) for the TLS transports.
"$(AUTOBAHN_VENV= scripts/venv.sh)/bin/python" tests/interop/make_certs.py "$cbdir/.crossbar"
ports="$("$venv/bin/python" tests/wamp_crossbar/config.py "$cbdir/.crossbar")"
eval "$ports"   # ws=... rs=... auth=... unix=... wss=... rss=...
start_crossbar() {
    "$venv/bin/crossbar" start --cbdir "$cbdir/.crossbar" >>"$logs/crossbar.log" 2>&1 &
    pid=$!
    local ready=""
    for _ in $(seq 1 300); do
        if "$venv/bin/python" -c "
import socket, sys
for p in ($ws, $rs, $auth, $wss, $rss):
    socket.create_connection(('127.0.0.1', p), timeout=0.2).close()
" 2>/dev/null; then ready=1; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n "$ready" ]] || { tail -30 "$logs/crossbar.log" >&2; echo "crossbar.sh: Crossbar did not start" >&2; exit 1; }
}
stop_crossbar() {
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}
: >"$logs/crossbar.log"
start_crossbar
echo "crossbar.sh: Crossbar (pid $pid) on 127.0.0.1: ws $ws, rawsocket $rs, auth $auth"
"$check" "ws://127.0.0.1:$ws/" "rs://127.0.0.1:$rs" "ws://127.0.0.1:$auth/" "unix://$unix" \
    "wss://localhost:$wss/" "rss://localhost:$rss" "$cbdir/.crossbar/ca.pem"

# Interop with Autobahn|Python sessions on the same router: each of their serializers
# against a different one of ours (Crossbar translates between them).
ours=(msgpack cbor ubjson json)
i=0
for theirs in json msgpack cbor ubjson; do
    "$venv/bin/python" tests/wamp_crossbar/autobahn_peer.py "ws://127.0.0.1:$ws/" "$theirs" \
        >"$logs/peer-$theirs.log" 2>&1 &
    peer=$!
    for _ in $(seq 1 300); do
        grep -q '^ready' "$logs/peer-$theirs.log" && break
        kill -0 "$peer" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^ready' "$logs/peer-$theirs.log"; then
        cat "$logs/peer-$theirs.log" >&2
        kill "$peer" 2>/dev/null || true
        echo "crossbar.sh: the Autobahn|Python peer ($theirs) did not get ready" >&2
        exit 1
    fi
    echo "crossbar.sh: Autobahn|Python peer speaks $theirs"
    status=0
    "$check" peer "ws://127.0.0.1:$ws/" "${ours[$i]}" || status=$?
    kill "$peer" 2>/dev/null || true
    wait "$peer" 2>/dev/null || true
    ((status == 0)) || exit "$status"
    i=$((i + 1))
done

# Reconnect: the check prints `ready 1` once joined; we restart Crossbar under it and it must
# rejoin and register again by itself.
"$check" reconnect "ws://127.0.0.1:$ws/" >"$logs/reconnect.log" 2>&1 &
reco=$!
for _ in $(seq 1 300); do
    grep -q '^ready 1' "$logs/reconnect.log" && break
    kill -0 "$reco" 2>/dev/null || break
    sleep 0.1
done
grep -q '^ready 1' "$logs/reconnect.log" || { cat "$logs/reconnect.log" >&2; exit 1; }
echo "crossbar.sh: restarting Crossbar under a connected component"
stop_crossbar
start_crossbar
status=0
wait "$reco" || status=$?
grep -E '^(ok|FAIL|all)' "$logs/reconnect.log"
exit "$status"
