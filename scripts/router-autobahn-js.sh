#!/usr/bin/env bash
# Autobahn|JS against our embedded router: in Node (npm `autobahn`, WebSocket with JSON and
# MessagePack, RawSocket with JSON; tests/router_autobahn_js/node_peer.js) and in a real
# browser (headless Debian Chromium loading tests/router_autobahn_js/page.html with the
# Autobahn|JS browser build): the page calls an RPC a Rust client registered, receives an
# event a Rust client published, and publishes what it got, which the script reads and checks.
#
# Installs what it needs: the npm packages under ~/.cache/ferrobahn/node, and Node.js and
# Chromium from Debian when missing (as root). Builds nothing: expects target/release/ferrobahn
# (FERROBAHN_BIN overrides). Everything listens on 127.0.0.1 and is stopped by PID.
# Logs: reports/router-js/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin="${FERROBAHN_BIN:-${CARGO_TARGET_DIR:-target}/release/ferrobahn}"
[[ -x "$bin" ]] || { echo "router-autobahn-js.sh: $bin not found; cargo build --release --bins" >&2; exit 1; }
logs=reports/router-js
mkdir -p "$logs"

apt_install() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        echo "router-autobahn-js.sh: $* missing, and apt-get cannot install it here" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$logs/apt.log" 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$logs/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$logs/apt.log" 2>&1
    } || { tail -20 "$logs/apt.log" >&2; echo "router-autobahn-js.sh: apt-get install $* failed" >&2; exit 1; }
}
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
[[ -x /usr/bin/chromium ]] || apt_install chromium

# Autobahn|JS 26.3.1 (Node) and its browser build (autobahn-browser, whose newest is 22.11.1).
cache="${HOME}/.cache/ferrobahn/node"
mkdir -p "$cache"
if [[ ! -f "$cache/node_modules/autobahn/package.json" || ! -f "$cache/node_modules/autobahn-browser/autobahn.min.js" ]]; then
    npm install --prefix "$cache" --no-audit --no-fund --silent autobahn@26.3.1 autobahn-browser@22.11.1 >"$logs/npm.log" 2>&1 \
        || { cat "$logs/npm.log" >&2; echo "router-autobahn-js.sh: npm install failed" >&2; exit 1; }
fi
node_flags=()
# Node 22 has a global WebSocket; Node 20 needs the flag (Autobahn|JS 26 uses it).
node -e 'process.exit(typeof WebSocket === "undefined" ? 1 : 0)' 2>/dev/null || node_flags+=(--experimental-websocket)

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [[ -n "${profile:-}" ]] && rm -rf "$profile"
}
trap cleanup EXIT
wait_for() { # file pattern what
    for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    cat "$1" >&2
    echo "router-autobahn-js.sh: $3" >&2
    exit 1
}

# permessage-deflate on: Chromium offers it, so the browser's traffic is compressed.
printf 'listen = "127.0.0.1:0"\ndeflate = true\n' >"$logs/router.toml"
source scripts/router-start.sh
start_router "$logs/router.log" --config "$logs/router.toml"
router=$router_pid
port=$router_port
url="ws://127.0.0.1:$port/ws"
echo "router-autobahn-js.sh: ferrobahn router on 127.0.0.1:$port"

# The Rust callee both peers call.
"$bin" register "rs://127.0.0.1:$port" com.rust.echo >"$logs/register.log" 2>&1 &
pids+=("$!")
wait_for "$logs/register.log" '^registered' "the Rust callee did not register"

NODE_PATH="$cache/node_modules" timeout 60 node "${node_flags[@]}" tests/router_autobahn_js/node_peer.js "$port" \
    >"$logs/node.log" 2>&1 || { cat "$logs/node.log" >&2; echo "router-autobahn-js.sh: Autobahn|JS (Node) failed" >&2; exit 1; }
grep '^ok' "$logs/node.log"

# The browser.
python3 tests/router_autobahn_js/serve.py "$cache/node_modules/autobahn-browser/autobahn.min.js" >"$logs/http.log" 2>&1 &
pids+=("$!")
wait_for "$logs/http.log" '^port' "the page server did not start"
http_port="$(awk '/^port/ {print $2}' "$logs/http.log")"
"$bin" subscribe "$url" com.browser.subscribed --count 1 >"$logs/subscribed.log" 2>&1 &
subscribed=$!
pids+=("$subscribed")
"$bin" subscribe "$url" com.browser.result --count 1 >"$logs/result.log" 2>&1 &
result=$!
pids+=("$result")
wait_for "$logs/subscribed.log" '^subscribed to' "the Rust subscriber did not subscribe"
wait_for "$logs/result.log" '^subscribed to' "the Rust subscriber did not subscribe"
profile="$(mktemp -d)"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "http://127.0.0.1:$http_port/page.html?port=$port" >"$logs/chromium.log" 2>&1 &
pids+=("$!")
wait_for "$logs/subscribed.log" '^com.browser.subscribed' "the page did not subscribe (Chromium log: $logs/chromium.log)"
echo "ok   Chromium: the page joined, called com.rust.echo and subscribed"
"$bin" publish "$url" com.browser.topic '"hello, browser"' 7 >/dev/null
for _ in $(seq 1 200); do grep -q '^com.browser.result' "$logs/result.log" && break; sleep 0.1; done
line="$(grep '^com.browser.result' "$logs/result.log" || true)"
[[ -n "$line" ]] || { cat "$logs/result.log" "$logs/chromium.log" >&2; echo "router-autobahn-js.sh: no result from the page" >&2; exit 1; }
python3 - "$line" <<'PYEOF'
import json, sys
result = json.loads(sys.argv[1].split(" ", 1)[1])[0]
assert "error" not in result, result
assert "Chrome" in result["userAgent"], result["userAgent"]
assert result["echo"] == ["from the browser", 42], result["echo"]
assert result["event"] == ["hello, browser", 7], result["event"]
print(f"ok   Chromium: the page got the Rust callee's result {result['echo']} and the Rust "
      f"publisher's event {result['event']} ({result['userAgent'].split(' ')[-2]})")
PYEOF
kill -0 "$router" || { echo "router-autobahn-js.sh: the router died" >&2; exit 1; }
echo "router-autobahn-js.sh: Autobahn|JS in Node and in Chromium work with our router"
