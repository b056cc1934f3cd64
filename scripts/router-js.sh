#!/usr/bin/env bash
# Autobahn|JS (npm `autobahn`) against our embedded router (`ferrobahn router`), in Node and
# in a real browser (headless Debian Chromium).
#
# Node (tests/router_js/node_peer.js): over WebSocket with JSON, MessagePack and CBOR and over
# RawSocket with JSON, two Autobahn|JS sessions register, call (args, kwargs, errors,
# progressive results), publish with acknowledge and subscribe, call the Rust callee that
# `ferrobahn register` holds here, and trade calls and events with our command line client.
# Browser (tests/router_js/page.html, with Autobahn|JS bundled for the browser the way its
# authors do it, with browserify): per serializer (JSON, MessagePack, CBOR) the page calls the
# Rust callee, registers a procedure that `ferrobahn call` calls, and gets an event from
# `ferrobahn publish`; it reports by publishing its results, which `ferrobahn subscribe` here
# receives.
#
# The page and the bundle are served by tests/router_js/serve.js.
#
# Builds nothing: expects ${CARGO_TARGET_DIR:-target}/release/ferrobahn (FERROBAHN_BIN
# overrides). Installs what is missing: Node.js and npm, and Chromium, from Debian's packages
# (as root), and the npm packages under ~/.cache/ferrobahn/node (reused while the pins match).
# Every server listens on 127.0.0.1, port 0, and is stopped by its PID (Chromium by its
# process group). Logs: reports/router-js/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
me=router-js.sh
start=$SECONDS
die() { echo "$me: $*" >&2; exit 1; }

AUTOBAHN=26.3.1   # Autobahn|JS, in Node and (bundled) in the browser
BROWSERIFY=17.0.1 # builds the browser bundle, as Autobahn|JS's own build does
WS=8.23.1         # a WebSocket for a Node without one (Debian 12's Node 18)

bin="${FERROBAHN_BIN:-${CARGO_TARGET_DIR:-target}/release/ferrobahn}"
[[ -x "$bin" ]] || die "$bin not found; cargo build --release --bins --examples (or set FERROBAHN_BIN)"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
logs=reports/router-js
mkdir -p "$logs"
rm -f "$logs"/*.log

# --- Node.js, npm and Chromium ----------------------------------------------------------
apt_updated=""
apt_install() {
    [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null \
        || die "$* missing, and apt-get cannot install it here (not root, or no apt-get); install it and re-run"
    echo "$me: installing $* from Debian's packages" >&2
    if [[ -z "$apt_updated" ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$logs/apt.log" 2>&1 \
            || { tail -20 "$logs/apt.log" >&2; die "apt-get update failed"; }
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$logs/apt.log" 2>&1 \
        || { tail -20 "$logs/apt.log" >&2; die "apt-get install $* failed"; }
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
    command -v node >/dev/null && command -v npm >/dev/null || die "no node/npm even after apt-get install nodejs npm"
fi
chromium=/usr/bin/chromium
[[ -x $chromium ]] || apt_install chromium
[[ -x $chromium ]] || die "no $chromium even after apt-get install chromium"

# --- npm packages and the browser bundle (cached) --------------------------------------
cache="$HOME/.cache/ferrobahn/node"
mkdir -p "$cache"
bundle="$cache/autobahn-$AUTOBAHN.browser.js"
installed() { # package version
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "$cache/node_modules/$1/package.json" "$2" 2>/dev/null
}
{
    if command -v flock >/dev/null; then flock 9; fi # two runs at once share the cache
    if ! installed autobahn "$AUTOBAHN" || ! installed browserify "$BROWSERIFY" || ! installed ws "$WS"; then
        echo "$me: npm install into $cache" >&2
        npm install --prefix "$cache" --no-audit --no-fund --loglevel=error \
            "autobahn@$AUTOBAHN" "browserify@$BROWSERIFY" "ws@$WS" >"$logs/npm.log" 2>&1 \
            || { tail -30 "$logs/npm.log" >&2; die "npm install failed (log: $logs/npm.log)"; }
        rm -f "$bundle"
    fi
    if [[ ! -s "$bundle" ]]; then
        "$cache/node_modules/.bin/browserify" "$cache/node_modules/autobahn/lib/autobahn.js" \
            --ignore-missing --standalone autobahn -o "$bundle.tmp" >"$logs/browserify.log" 2>&1 \
            || { cat "$logs/browserify.log" >&2; die "browserify failed"; }
        mv "$bundle.tmp" "$bundle"
    fi
} 9>"$cache.lock"

# Autobahn|JS 26 uses the global WebSocket: Node 22 has it, Node 20 behind a flag; an older
# Node gets the `ws` package (node_peer.js puts it in place when there is none).
node_flags=()
if ! node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
    if node --experimental-websocket -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
        node_flags=(--experimental-websocket)
    fi
fi
echo "$me: node $(node --version) ${node_flags[*]}, $($chromium --version 2>/dev/null), Autobahn|JS $AUTOBAHN"

# --- processes: each one's PID in pids, stopped on exit ---------------------------------
pids=()
pgroups=() # process groups, by their leader's PID
profile=""
www=""
cleanup() {
    for g in "${pgroups[@]}"; do kill -- "-$g" 2>/dev/null || kill "$g" 2>/dev/null || true; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pgroups[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for g in "${pgroups[@]}"; do # the helpers, which are not our children, to be gone too
        for _ in $(seq 1 50); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.1; done
    done
    [[ -n "$profile" ]] && rm -rf "$profile"
    [[ -n "$www" ]] && rm -rf "$www"
}
trap cleanup EXIT
alive() { # pid (a zombie is not)
    local st
    st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    st="${st##*) }"
    [[ ${st%% *} != Z ]]
}
wait_for() { # file pattern seconds what [pid that must stay alive]
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        if [[ -n "${5:-}" ]] && ! alive "$5"; then break; fi
        sleep 0.1
    done
    grep -q "$2" "$1" 2>/dev/null && return 0
    cat "$1" >&2
    die "$4"
}

# permessage-deflate on: Node's and Chromium's WebSockets offer it, so their traffic is
# compressed both ways.
printf 'listen = "127.0.0.1:0"\ndeflate = true\n' >"$logs/router.toml"
source scripts/router-start.sh
start_router "$logs/router.log" --config "$logs/router.toml"
router=$router_pid
port=$router_port
url="ws://127.0.0.1:$port/ws"
echo "$me: ferrobahn router on 127.0.0.1:$port"

# The Rust callee that both Node and the browser call, over RawSocket.
echo_proc=com.ferrobahn.rust.echo
"$bin" register "rs://127.0.0.1:$port" "$echo_proc" >"$logs/register.log" 2>&1 &
pids+=("$!")
wait_for "$logs/register.log" '^registered' 10 "the Rust callee did not register" "$!"

checks=0
# --- Node -------------------------------------------------------------------------------
status=0
NODE_PATH="$cache/node_modules" AUTOBAHN_TRACE="$logs/node-trace.log" timeout 60 \
    node "${node_flags[@]}" tests/router_js/node_peer.js "$port" "$bin" "$echo_proc" \
    >"$logs/node.log" 2>&1 || status=$?
if ((status != 0)); then
    cat "$logs/node.log" >&2
    ((status == 124)) && echo "$me: node_peer.js did not finish in 60 s" >&2
    die "Autobahn|JS in Node failed (log: $logs/node.log, its WAMP messages: $logs/node-trace.log)"
fi
grep '^ok' "$logs/node.log"
checks=$((checks + $(grep -c '^ok' "$logs/node.log")))

# --- Chromium ---------------------------------------------------------------------------
www="$(mktemp -d)"
cp tests/router_js/page.html "$www/page.html"
cp "$bundle" "$www/autobahn.js"
node tests/router_js/serve.js "$www" >"$logs/http.log" 2>&1 &
pids+=("$!")
wait_for "$logs/http.log" '^serving http://127.0.0.1:[0-9]' 10 "the page server did not start" "$!"
page="$(grep -o 'http://127.0.0.1:[0-9]*/' "$logs/http.log" | head -1)page.html"

# The page publishes com.ferrobahn.browser.ready once it is set up, then its report.
"$bin" subscribe "$url" com.ferrobahn.browser.ready --count 1 >"$logs/ready.log" 2>&1 &
ready_pid=$!
pids+=("$ready_pid")
"$bin" subscribe "$url" com.ferrobahn.browser.result --count 1 >"$logs/result.log" 2>&1 &
result_pid=$!
pids+=("$result_pid")
wait_for "$logs/ready.log" '^subscribed to' 10 "ferrobahn subscribe did not subscribe" "$ready_pid"
wait_for "$logs/result.log" '^subscribed to' 10 "ferrobahn subscribe did not subscribe" "$result_pid"

sers=json,msgpack,cbor
profile="$(mktemp -d)"
# In a process group of its own (setsid, same PID), so that the browser and its helper
# processes are stopped together: kill -- -PID.
setsid "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --enable-logging=stderr --user-data-dir="$profile" \
    "$page?url=$url&echo=$echo_proc&sers=$sers" >"$logs/chromium.log" 2>&1 &
browser=$!
pgroups+=("$browser")
# The page's report: ["pass"|"fail", userAgent, (error,) check...]. Prints an ok line per
# check, then FAIL and the error; fails unless the verdict is pass, from a Chrome.
show_report() {
    node -e '
        const line = process.argv[1];
        const r = JSON.parse(line.slice(line.indexOf(" ") + 1));
        const [verdict, ua] = r;
        for (const c of r.slice(verdict === "pass" ? 2 : 3)) console.log("ok   [chromium] " + c);
        if (verdict !== "pass") { console.log("FAIL [chromium] " + r[2]); process.exit(1); }
        if (!/Chrome\//.test(ua)) { console.log("FAIL [chromium] the user agent is " + ua); process.exit(1); }
        console.log("ua " + ua);
    ' "$(grep '^com.ferrobahn.browser.result' "$logs/result.log")"
}
browser_failed() { # what
    echo "--- Chromium's console ($logs/chromium.log):" >&2
    grep 'CONSOLE' "$logs/chromium.log" >&2 || tail -20 "$logs/chromium.log" >&2
    if grep -q '^com.ferrobahn.browser.result' "$logs/result.log"; then
        echo "--- the page's report:" >&2
        show_report >&2 || true
    fi
    die "$1"
}
# Waits up to SECONDS for TOPIC's event in FILE; fails early when the page reports first,
# logs its failure to the console (when it cannot publish), or Chromium exits.
wait_page() { # file topic seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "^$2 " "$1" && return 0
        grep -q '^com.ferrobahn.browser.result ' "$logs/result.log" && browser_failed "the page reported before $2"
        grep -q 'router-js page: fail' "$logs/chromium.log" && browser_failed "the page failed before $2"
        alive "$browser" || browser_failed "Chromium exited before $2"
        sleep 0.1
    done
    browser_failed "no $2 from the page in $3 s"
}

wait_page "$logs/ready.log" com.ferrobahn.browser.ready 60
echo "ok   [chromium] the page loaded Autobahn|JS and set up a session per serializer $(grep -o '\[.*' "$logs/ready.log")"
checks=$((checks + 1))

# The Rust client calls the browser's procedures and publishes to the browser's sessions.
for ser in ${sers//,/ }; do
    got="$(timeout 20 "$bin" call "$url" "com.ferrobahn.browser.$ser.add2" 20 22 2>"$logs/cli.log")" \
        || { cat "$logs/cli.log" >&2; browser_failed "ferrobahn call of the browser's $ser procedure failed"; }
    [[ "$got" == '[42]' ]] || browser_failed "ferrobahn call of com.ferrobahn.browser.$ser.add2 gave $got"
    echo "ok   [chromium] ferrobahn call → the browser's $ser session: add2(20, 22) → $got"
    timeout 20 "$bin" publish "$url" "com.ferrobahn.browser.$ser.news" 7 '"seven"' "\"$ser\"" >"$logs/cli.log" 2>&1 \
        || { cat "$logs/cli.log" >&2; browser_failed "ferrobahn publish failed"; }
    checks=$((checks + 1))
done

for ((i = 0; i < 300; i++)); do
    grep -q '^com.ferrobahn.browser.result ' "$logs/result.log" && break
    alive "$browser" || browser_failed "Chromium exited before the page reported"
    sleep 0.1
done
grep -q '^com.ferrobahn.browser.result ' "$logs/result.log" || browser_failed "no report from the page in 30 s"
report="$(show_report)" || { echo "$report" >&2; browser_failed "the page reported a failure"; }
grep '^ok' <<<"$report"
checks=$((checks + $(grep -c '^ok' <<<"$report")))
echo "$me: the page ran in $(grep '^ua' <<<"$report" | grep -o 'HeadlessChrome/[0-9.]*\|Chrome/[0-9.]*' | head -1)"

alive "$router" || die "the router died"
echo "$me: all $checks checks passed: Autobahn|JS $AUTOBAHN in Node and in Chromium works with our router ($((SECONDS - start)) s)"
