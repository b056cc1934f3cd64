# Sourced by the router test scripts: `start_router LOG ARG...` runs `$bin router ARG...` in
# the background with its output in LOG, adds its PID to the caller's `pids` (stopped by the
# caller's EXIT trap), and sets `router_pid` and `router_port` (read back from the log: the
# router binds port 0). Exits the script when the router does not come up.
start_router() {
    local log="$1"
    shift
    "$bin" router "$@" >"$log" 2>&1 &
    router_pid=$!
    pids+=("$router_pid")
    router_port=""
    for _ in $(seq 1 100); do
        router_port="$(grep -o 'ws://127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f3 || true)"
        [[ -n "$router_port" ]] && return 0
        kill -0 "$router_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    echo "$(basename "$0"): the router ($*) did not start" >&2
    exit 1
}
