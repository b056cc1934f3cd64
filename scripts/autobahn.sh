#!/usr/bin/env bash
# Runs the Autobahn TestSuite (kosoku) against ferrobahn as a server and as a client, and
# compares the results with tests/autobahn/expected-{server,client}.json.
#
# Usage: scripts/autobahn.sh [--sections 'GLOB ...'] [--role server|client|both] [--update]
#
#   --sections  case globs as kosoku's -i takes them: `*` matches anything (dots too),
#               nothing else is special; each glob must match at least one case.
#               Default: $DEFAULT_SECTIONS below.
#   --role      run only one role (default: both).
#   --update    rewrite the selected cases in the expected files from the new reports
#               instead of failing on differences (review with `git diff tests/autobahn`).
#
# It builds nothing: build first with `cargo build --release --examples`. Environment:
#   ECHO_SERVER_CMD      run as `$ECHO_SERVER_CMD 127.0.0.1:0`; must print
#                        `listening on 127.0.0.1:PORT` on stdout once bound, and echo every
#                        message. Default: $CARGO_TARGET_DIR/release/examples/echo_server.
#   AUTOBAHN_CLIENT_CMD  run as `$AUTOBAHN_CLIENT_CMD ws://127.0.0.1:PORT ferrobahn`; does
#                        /getCaseCount, /runCase?case=N&agent=ferrobahn for every N,
#                        /updateReports?agent=ferrobahn, then exits 0.
#                        Default: $CARGO_TARGET_DIR/release/examples/autobahn_client.
#                        (Both are split on whitespace, no quoting; relative paths are
#                        taken from the repo root.)
#   AUTOBAHN_TIMEOUT     seconds one role's run may take (default 1200).
#   AUTOBAHN_VENV        venv holding kosoku (default: whatever scripts/venv.sh prints).
#   AUTOBAHN_REPORTS     where reports and logs go, relative to the repo (default
#                        reports/autobahn).
#
# Reports: reports/autobahn/{server,client}/index.json (+ per-case .json/.html);
# logs of every process: reports/autobahn/logs/ ($AUTOBAHN_REPORTS in place of
# reports/autobahn when set). Exit status: 0 when every selected case
# matches its expectation in every role run, 1 otherwise.
set -euo pipefail

# Every section: 1-10 (there is no section 8) and 12-13 (permessage-deflate, 216 cases).
# A run of only the fast ones: --sections '1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.*'.
DEFAULT_SECTIONS='1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.* 13.*'

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "autobahn.sh: $*" >&2; exit 1; }

sections="$DEFAULT_SECTIONS"
roles=(server client)
update=()
while (($#)); do
    case "$1" in
        --sections) (($# >= 2)) || die "--sections needs a value"; sections="$2"; shift 2 ;;
        --sections=*) sections="${1#*=}"; shift ;;
        --role) (($# >= 2)) || die "--role needs a value"
                case "$2" in server|client) roles=("$2") ;; both) roles=(server client) ;;
                             *) die "--role must be server, client or both" ;; esac
                shift 2 ;;
        --update) update=(--update); shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
read -r -a globs <<<"$sections"
((${#globs[@]})) || die "--sections is empty"
include=()
for g in "${globs[@]}"; do include+=(-i "$g"); done

target="${CARGO_TARGET_DIR:-target}"
read -r -a echo_server_cmd <<<"${ECHO_SERVER_CMD:-$target/release/examples/echo_server}"
read -r -a client_cmd <<<"${AUTOBAHN_CLIENT_CMD:-$target/release/examples/autobahn_client}"
role_timeout="${AUTOBAHN_TIMEOUT:-1200}"
agent=ferrobahn

venv="${AUTOBAHN_VENV:-$(scripts/venv.sh)}"
kosoku="$venv/bin/kosoku"
python="$venv/bin/python"
[[ -x "$kosoku" ]] || die "no kosoku in $venv (run scripts/venv.sh)"

reports="$repo/${AUTOBAHN_REPORTS:-reports/autobahn}"
logs="$reports/logs"
mkdir -p "$logs"

# --- processes we started: stopped by PID, on every exit path --------------------------
declare -A running=()   # pid -> name
stop_pid() {
    local pid="$1" i
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "autobahn.sh: ${running[$pid]:-$pid} ignored SIGTERM; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    unset "running[$pid]"
}
# shellcheck disable=SC2317  # invoked by the traps
cleanup() {
    local pid
    for pid in "${!running[@]}"; do stop_pid "$pid"; done
}
# shellcheck disable=SC2317  # invoked by the traps
on_signal() { exit "$1"; }   # the EXIT trap then stops what we started
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# wait_for_line PID LOG SED_EXPR WHAT: sets $found to the first capture of SED_EXPR in LOG,
# waiting up to 30 s; fails if the process exits first.
found=""
wait_for_line() {
    local pid="$1" log="$2" expr="$3" what="$4" i rc=0
    found=""
    for ((i = 0; i < 300; i++)); do
        found="$(sed -n "$expr" "$log" | head -n 1)"
        [[ -z "$found" ]] || return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" || rc=$?
            unset "running[$pid]"
            tail -n 30 "$log" >&2
            die "$what exited (status $rc) before it was listening (log: $log)"
        fi
        sleep 0.1
    done
    tail -n 30 "$log" >&2
    die "$what did not report a listening port within 30 s (log: $log)"
}

# run_bounded NAME LOG CMD...: runs CMD under a time limit (AUTOBAHN_TIMEOUT) with its output
# in LOG; sets $rc. It runs in the background so that a signal to this script is handled
# at once (the EXIT trap then stops it) rather than after CMD ends.
rc=0
run_bounded() {
    local name="$1" log="$2" pid
    shift 2
    timeout --kill-after=10 "$role_timeout" "$@" >"$log" 2>&1 &
    pid=$!
    running[$pid]="$name"
    rc=0
    wait "$pid" || rc=$?
    unset "running[$pid]"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# check_report ROLE RC LOG: the kosoku run must have produced a report. kosoku exits 1
# when any case is not OK/NON-STRICT/INFORMATIONAL; that alone is for compare.py to judge.
check_report() {
    local role="$1" rc="$2" log="$3"
    if ((rc == 124 || rc == 137)); then
        tail -n 30 "$log" >&2
        die "$role: kosoku did not finish within ${role_timeout} s (AUTOBAHN_TIMEOUT)"
    fi
    if ((rc > 1)) || [[ ! -s "$reports/$role/index.json" ]]; then
        tail -n 30 "$log" >&2
        die "$role: kosoku failed (status $rc) without writing $reports/$role/index.json (log: $log)"
    fi
}

total_passed=0
total_failed=0
status=0

# compare ROLE: runs compare.py; adds its counts to the totals.
compare() {
    local role="$1" rc=0 line
    "$python" tests/autobahn/compare.py "$role" --report "$reports/$role" \
        --sections "$sections" "${update[@]}" | tee "$logs/$role-compare.txt" || rc=$?
    line="$(grep -E "^autobahn $role: [0-9]+ passed, [0-9]+ failed$" "$logs/$role-compare.txt" | tail -n 1 || true)"
    if [[ "$line" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        total_passed=$((total_passed + BASH_REMATCH[1]))
        total_failed=$((total_failed + BASH_REMATCH[2]))
    fi
    ((rc == 0)) || status=1
}

run_server_role() {
    local started log klog pid port
    started="$(now)"
    [[ -x "${echo_server_cmd[0]}" ]] || command -v "${echo_server_cmd[0]}" >/dev/null 2>&1 \
        || die "server: ${echo_server_cmd[0]} not found; build it first: cargo build --release --examples"
    rm -rf "$reports/server"
    log="$logs/server-echo_server.log"
    klog="$logs/server-kosoku.log"

    rm -f "$log" "$klog" && : >"$log"   # truncate here: the child opens it after fork
    echo "autobahn server: starting ${echo_server_cmd[*]} 127.0.0.1:0"
    "${echo_server_cmd[@]}" 127.0.0.1:0 >"$log" 2>&1 &
    pid=$!
    running[$pid]="echo server"
    wait_for_line "$pid" "$log" 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "echo server"
    port="$found"

    echo "autobahn server: kosoku -p 2 against 127.0.0.1:$port, cases: $sections"
    run_bounded "kosoku" "$klog" "$kosoku" -p 2 -o "$reports/server" "${include[@]}" "127.0.0.1:$port"
    local krc=$rc
    if ! kill -0 "$pid" 2>/dev/null; then
        local src=0; wait "$pid" || src=$?; unset "running[$pid]"
        echo "autobahn server: WARNING: the echo server exited during the run (status $src); its log:" >&2
        tail -n 30 "$log" >&2
    fi
    stop_pid "$pid"
    check_report server "$krc" "$klog"
    echo "autobahn server: role took $(elapsed "$started") s"
    compare server
}

run_client_role() {
    local started log klog kpid port crc=0 i
    started="$(now)"
    [[ -x "${client_cmd[0]}" ]] || command -v "${client_cmd[0]}" >/dev/null 2>&1 \
        || die "client: ${client_cmd[0]} not found; build it first: cargo build --release --examples"
    rm -rf "$reports/client"
    log="$logs/client-autobahn_client.log"
    klog="$logs/client-kosoku.log"

    # kosoku binds port 0 and prints `fuzzingserver listening on ws://ADDR:PORT` on stderr
    # once bound; it exits by itself after /updateReports, having written the report.
    rm -f "$log" "$klog" && : >"$klog"   # truncate here: the child opens it after fork
    "$kosoku" -m fuzzingserver -o "$reports/client" "${include[@]}" 127.0.0.1:0 >"$klog" 2>&1 &
    kpid=$!
    running[$kpid]="kosoku fuzzingserver"
    wait_for_line "$kpid" "$klog" 's#.*fuzzingserver listening on ws://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' \
        "kosoku fuzzingserver"
    port="$found"
    for ((i = 0; i < 300; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    ((i < 300)) || die "client: kosoku fuzzingserver does not accept connections on port $port"

    echo "autobahn client: kosoku fuzzingserver on 127.0.0.1:$port, cases: $sections"
    echo "autobahn client: running ${client_cmd[*]} ws://127.0.0.1:$port $agent"
    run_bounded "the client under test" "$log" "${client_cmd[@]}" "ws://127.0.0.1:$port" "$agent"
    crc=$rc
    if ((crc != 0)); then
        tail -n 30 "$log" >&2
        if ((crc == 124 || crc == 137)); then
            echo "autobahn client: ERROR: the client did not finish within ${role_timeout} s" >&2
        else
            echo "autobahn client: ERROR: the client exited with status $crc (log: $log)" >&2
        fi
        status=1
    fi
    # kosoku writes the report and exits once the client has asked for /updateReports
    # (a second or two for 301 cases); a failed client gets less grace.
    local grace=60
    ((crc == 0)) || grace=5
    for ((i = 0; i < grace * 10; i++)); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$kpid" 2>/dev/null; then
        stop_pid "$kpid"
        tail -n 30 "$klog" >&2
        die "client: kosoku was still waiting $grace s after the client ended (did it request" \
            "/updateReports?agent=$agent after every case?); no report"
    fi
    local krc=0
    wait "$kpid" || krc=$?
    unset "running[$kpid]"
    check_report client "$krc" "$klog"
    echo "autobahn client: role took $(elapsed "$started") s"
    compare client
}

for role in "${roles[@]}"; do
    case "$role" in
        server) run_server_role ;;
        client) run_client_role ;;
    esac
done

if ((${#update[@]})); then
    echo "autobahn: expected files updated; review with: git diff tests/autobahn"
else
    echo "autobahn: $total_passed passed, $total_failed failed"
fi
exit "$status"
