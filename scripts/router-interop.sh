#!/usr/bin/env bash
# Autobahn|Python sessions on our embedded router (`ferrobahn router`): for each of their
# serializers (FlatBuffers too), over WebSocket and RawSocket, an Autobahn|Python session
# (tests/wamp_crossbar/autobahn_peer.py) registers, subscribes, calls and publishes, and
# examples/wamp_check's `peer` checks (our client, another serializer) talk to it through
# our router: calls both ways, binary payloads, ApplicationError, events both ways. Then:
# Autobahn|Python on both sides of the router's features (tests/router_py/features.py, each
# serializer and transport); an Autobahn|Python FlatBuffers session with an Autobahn|Python
# JSON session (tests/router_py/flatbuffers_peer.py) and our client's RPC/PubSub matrix over
# FlatBuffers (`wamp_check flatbuffers`); `ferrobahn register --exec`; our client's whole feature matrix
# (examples/wamp_check) on a router with TLS (wss://, rss://), a Unix socket and principals
# of every auth method; `ferrobahn bench` with 1,000 subscribed sessions; and
# examples/router.toml's roles and principals with our command line client and Autobahn|Python
# (ticket, salted WAMP-CRA, SCRAM, cryptosign).
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

source scripts/router-start.sh
start_router "$logs/router.log" --listen 127.0.0.1:0
router=$router_pid
port=$router_port
echo "router-interop.sh: ferrobahn router on 127.0.0.1:$port"

ours=(msgpack cbor ubjson flatbuffers json)
i=0
for theirs in json msgpack cbor ubjson flatbuffers; do
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

# FlatBuffers (wamp.2.flatbuffers, RawSocket 5): an Autobahn|Python FlatBuffers session (ws
# and rs) with an Autobahn|Python JSON session, the router transcoding CBOR payloads to JSON
# and back; then our client's RPC and PubSub checks over FlatBuffers.
for url in "ws://127.0.0.1:$port/ws" "rs://127.0.0.1:$port"; do
    t=${url%%:*}
    if ! timeout 60 "$venv/bin/python" tests/router_py/flatbuffers_peer.py "$url" \
        >"$logs/flatbuffers-$t.log" 2>"$logs/flatbuffers-$t.err"; then
        cat "$logs/flatbuffers-$t.log" >&2
        tail -20 "$logs/flatbuffers-$t.err" >&2
        echo "router-interop.sh: Autobahn|Python FlatBuffers <-> JSON checks failed ($url)" >&2
        exit 1
    fi
    echo "ok   Autobahn|Python flatbuffers over $t <-> json: $(grep -c '^ok' "$logs/flatbuffers-$t.log") checks"
done
"$check" flatbuffers "ws://127.0.0.1:$port/ws" "rs://127.0.0.1:$port" >"$logs/wamp_check-flatbuffers.log" 2>&1 \
    || { tail -20 "$logs/wamp_check-flatbuffers.log" >&2; echo "router-interop.sh: wamp_check flatbuffers failed" >&2; exit 1; }
echo "ok   wamp_check over FlatBuffers (ws, rs): $(grep -c '^ok' "$logs/wamp_check-flatbuffers.log") checks"

# The router's features with Autobahn|Python on both sides (progressive results, cancel,
# timeout, patterns, shared registrations, errors, listing, retention, meta API).
# The batched WebSocket subprotocols (several WAMP messages per WebSocket message) too.
for ser in json msgpack cbor ubjson json.batched msgpack.batched cbor.batched; do
    urls=("ws://127.0.0.1:$port/ws")
    [[ "$ser" == *.batched ]] || urls+=("rs://127.0.0.1:$port")
    for url in "${urls[@]}"; do
        if ! timeout 90 "$venv/bin/python" tests/router_py/features.py "$url" "$ser" \
            >"$logs/features-$ser.log" 2>"$logs/features-$ser.err"; then
            cat "$logs/features-$ser.log" >&2
            tail -20 "$logs/features-$ser.err" >&2
            echo "router-interop.sh: Autobahn|Python feature checks failed ($ser over $url)" >&2
            exit 1
        fi
        echo "ok   Autobahn|Python, $ser over ${url%%:*}: $(grep -c '^ok' "$logs/features-$ser.log") router feature checks"
    done
done

# The same feature checks with each compression method on the WebSocket connections (a
# router configured to accept them all; Autobahn|Python offers one at a time).
printf 'listen = "127.0.0.1:0"\ncompression = ["brotli", "bzip2", "snappy", "deflate"]\n' \
    >"$logs/router-compress.toml"
start_router "$logs/router-compress.log" --config "$logs/router-compress.toml"
router_c=$router_pid
for method in brotli bzip2 snappy; do
    for ser in json msgpack; do
        if ! timeout 90 "$venv/bin/python" tests/router_py/features.py "ws://127.0.0.1:$router_port/ws" \
            "$ser" "$method" >"$logs/features-$ser-$method.log" 2>"$logs/features-$ser-$method.err"; then
            cat "$logs/features-$ser-$method.log" >&2
            tail -20 "$logs/features-$ser-$method.err" >&2
            echo "router-interop.sh: Autobahn|Python feature checks failed ($ser, permessage-$method)" >&2
            exit 1
        fi
        echo "ok   Autobahn|Python, $ser over ws with permessage-$method: $(grep -c '^ok' "$logs/features-$ser-$method.log") router feature checks"
    done
done
kill "$router_c" 2>/dev/null || true

# `ferrobahn register --exec`: a shell command as a procedure (arguments as JSON on its
# standard input, its output the result; a failing command is a WAMP error).
"$bin" register "ws://127.0.0.1:$port/ws" com.cmd.wrap --exec 'read -r x; echo "{\"got\": $x}"' \
    >"$logs/exec.log" 2>&1 &
pids+=("$!")
"$bin" register "ws://127.0.0.1:$port/ws" com.cmd.fail --exec 'echo broken >&2; exit 3' \
    >"$logs/exec-fail.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
    grep -q '^registered' "$logs/exec.log" && grep -q '^registered' "$logs/exec-fail.log" && break
    sleep 0.1
done
got="$(timeout 20 "$bin" call "rs://127.0.0.1:$port" com.cmd.wrap 1 '"two"')"
[[ "$got" == '[{"got":[1,"two"]}]' ]] || { echo "router-interop.sh: com.cmd.wrap gave $got" >&2; exit 1; }
echo "ok   register --exec: a shell command as a procedure → $got"
if timeout 20 "$bin" call "rs://127.0.0.1:$port" com.cmd.fail >"$logs/cli.log" 2>&1 \
    || ! grep -q 'ferrobahn.error.command_failed.*broken' "$logs/cli.log"; then
    cat "$logs/cli.log" >&2
    echo "router-interop.sh: a failing command did not give command_failed" >&2
    exit 1
fi
echo "ok   register --exec: a failing command → $(cat "$logs/cli.log")"

# Our client's whole feature matrix (examples/wamp_check, as against Crossbar in
# scripts/crossbar.sh) on one configured router: every serializer over ws:// and rs://, the
# five authentication methods, RawSocket on a Unix socket, and wss:// and rss:// on the same
# port (TLS told apart by its first byte, then WebSocket or RawSocket inside).
check="${CARGO_TARGET_DIR:-target}/release/examples/wamp_check"
full="$(mktemp -d "${TMPDIR:-/tmp}/ferrobahn-router.XXXXXX")"
"$venv/bin/python" tests/interop/make_certs.py "$full"
pubkey=62a611b472d89b0e5fc93c069b9f700b4c552d55bc0e87b56008ef17b6b2bebe
cat >"$full/router.toml" <<EOF
listen = "127.0.0.1:0"
unix = "$full/router.sock"
[tls]
cert = "server.pem"
key = "server.key"
[[realms]]
name = "realm1"
anonymous = "anonymous"
[[realms.principals]]
authid = "joe"
role = "user"
ticket = "secret!!!"
[[realms.principals]]
authid = "peter"
role = "user"
wampcra = { secret = "secret1" }
[[realms.principals]]
authid = "salted"
role = "user"
wampcra = { secret = "secret2", salt = "salt123", iterations = 100, keylen = 32 }
[[realms.principals]]
authid = "carol"
role = "user"
scram = { password = "secret3", kdf = "argon2id-13", iterations = 4, memory = 512, salt = "000102030405060708090a0b0c0d0e0f" }
[[realms.principals]]
authid = "alice"
role = "user"
cryptosign = ["$pubkey"]
EOF
start_router "$logs/router-full.log" --config "$full/router.toml"
router3=$router_pid
port3=$router_port
"$check" "ws://127.0.0.1:$port3/ws" "rs://127.0.0.1:$port3" "ws://127.0.0.1:$port3/ws" \
    "unix://$full/router.sock" "wss://localhost:$port3/ws" "rss://localhost:$port3" "$full/ca.pem" \
    >"$logs/wamp_check.log" 2>&1 || { tail -30 "$logs/wamp_check.log" >&2; echo "router-interop.sh: wamp_check failed on our router" >&2; exit 1; }
echo "ok   wamp_check (our client's feature matrix) on our router: $(grep -c '^ok' "$logs/wamp_check.log") checks"
kill "$router3" 2>/dev/null || true
rm -rf "$full"

# Load: `ferrobahn bench` with 1,000 subscribed sessions fails unless every one of them gets
# every event; the figures go to the log (benchmarks proper: scripts/router-bench.sh).
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
"$bin" bench "ws://127.0.0.1:$port/ws" --serializer msgpack --secs 0.5 \
    --scenarios call,call100,fan10,fan1000 --router-pid "$router" | tee "$logs/bench.jsonl"
kill -0 "$router" || { echo "router-interop.sh: the router died under load" >&2; exit 1; }
echo "ok   1,000 sessions subscribed, every event reached every one of them"

# The config file: examples/router.toml (anonymous may only call and subscribe under
# com.example., alice/bob/carol authenticate), driven with the command line client.
start_router "$logs/router-config.log" --config examples/router.toml --listen 127.0.0.1:0
port2=$router_port
url2="ws://127.0.0.1:$port2/ws"
expect_fail() { # what, the error it must print, command...
    local what="$1" want="$2"
    shift 2
    if "$@" >"$logs/cli.log" 2>&1; then
        cat "$logs/cli.log" >&2
        echo "router-interop.sh: $what succeeded, it must not" >&2
        exit 1
    fi
    grep -q "$want" "$logs/cli.log" || {
        cat "$logs/cli.log" >&2
        echo "router-interop.sh: $what failed without $want" >&2
        exit 1
    }
    echo "ok   refused: $what ($(tail -1 "$logs/cli.log"))"
}
expect_fail "anonymous REGISTER under com.example." wamp.error.not_authorized \
    timeout 20 "$bin" register "$url2" com.example.echo
expect_fail "a wrong ticket" authentication_failed \
    timeout 20 "$bin" call "$url2" com.example.echo --authid alice --ticket wrong
timeout 60 "$bin" register "rs://127.0.0.1:$port2" com.example.echo --authid alice --ticket secret123 \
    >"$logs/register.log" 2>&1 &
echo_pid=$!
pids+=("$echo_pid")
for _ in $(seq 1 100); do grep -q '^registered' "$logs/register.log" && break; sleep 0.1; done
grep -q '^registered' "$logs/register.log" || { cat "$logs/register.log" >&2; exit 1; }
echo "ok   alice (ticket) registered com.example.echo"
got="$(timeout 20 "$bin" call "$url2" com.example.echo 1 '"two"')"
[[ "$got" == '[1,"two"]' ]] || { echo "router-interop.sh: anonymous call gave $got" >&2; exit 1; }
echo "ok   anonymous call of com.example.echo → $got"
got="$(timeout 20 "$bin" call "$url2" com.example.echo 3 --authid bob --wampcra secret2)"
[[ "$got" == '[3]' ]] || { echo "router-interop.sh: bob's call gave $got" >&2; exit 1; }
echo "ok   bob (salted WAMP-CRA) call → $got"
expect_fail "anonymous call outside com.example." wamp.error.not_authorized \
    timeout 20 "$bin" call "$url2" org.other.proc
got="$(timeout 20 "$bin" call "rs://127.0.0.1:$port2" com.example.echo 4 --authid dave --scram secret4)"
[[ "$got" == '[4]' ]] || { echo "router-interop.sh: dave's call gave $got" >&2; exit 1; }
echo "ok   dave (WAMP-SCRAM, argon2id, the router's signature checked) call → $got"
got="$(timeout 20 "$bin" call "$url2" com.example.echo 5 --authid erin --scram secret4)"
[[ "$got" == '[5]' ]] || { echo "router-interop.sh: erin's call gave $got" >&2; exit 1; }
echo "ok   erin (WAMP-SCRAM, PBKDF2, stored keys only) call → $got"
expect_fail "a wrong SCRAM password" authentication_failed \
    timeout 20 "$bin" call "$url2" com.example.echo --authid dave --scram secret5

# Autobahn|Python authenticating with each method against the same principals (from the
# Crossbar venv: its Autobahn has the SCRAM and cryptosign extras).
cbvenv="${CROSSBAR_VENV:-$(scripts/crossbar-venv.sh)}"
seed=4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d
# (Not erin: Autobahn|Python 26.10.2's SCRAM with the pbkdf2 KDF hands the salt to its
# pbkdf2() as base64 text, which raises "Invalid argument types"; argon2id works.)
for login in "ticket alice secret123" "wampcra bob secret2" "scram dave secret4" \
    "cryptosign carol $seed"; do
    read -r method authid secret <<<"$login"
    for via in "ws://127.0.0.1:$port2/ws json" "rs://127.0.0.1:$port2 msgpack"; do
        read -r url ser <<<"$via"
        if ! out="$(timeout 60 "$cbvenv/bin/python" tests/router_py/auth_peer.py "$url" "$ser" \
            "$method" "$authid" "$secret" 2>&1)"; then
            echo "$out" >&2
            echo "router-interop.sh: Autobahn|Python $method as $authid over $url failed" >&2
            exit 1
        fi
        echo "ok   Autobahn|Python over ${url%%:*} ($ser): $(grep '^ok' <<<"$out" | cut -c4-)"
    done
done
if timeout 60 "$cbvenv/bin/python" tests/router_py/auth_peer.py "$url2" json scram dave wrong >"$logs/cli.log" 2>&1; then
    echo "router-interop.sh: Autobahn|Python joined with a wrong SCRAM password" >&2
    exit 1
fi
echo "ok   refused: Autobahn|Python with a wrong SCRAM password"
kill "$echo_pid" 2>/dev/null || true
echo "router-interop.sh: the configured router behaved as examples/router.toml says"
