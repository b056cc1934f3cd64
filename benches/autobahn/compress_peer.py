"""Server CPU per compressed echo, ferrobahn next to Autobahn|Python, every method, alternating.

    python benches/autobahn/compress_peer.py [--rounds N] [--methods deflate,brotli,bzip2,snappy]

Run with the venv from scripts/venv.sh (autobahn[twisted], brotli, python-snappy); build first
with `cargo build --release --examples`. For each method, round and server: start the server on
127.0.0.1:0 (ours: examples/echo_server, brotli at quality 11 as Autobahn uses; theirs:
tests/interop/autobahn_echo_server.py --method M), run our examples/compress_check --method M
against it (the same client for both: 20 text and binary messages of 1 B .. 1 MiB, JSON-like
and random, 4.46 MB each way, every echo checked), and record the wall time and the server's
own CPU time (user and sys from /proc/PID/stat, read before it is stopped by its PID). Prints
every run and the medians per method and server; exits 1 if a check failed.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
EXAMPLES = os.path.join(TARGET, "release", "examples")
TICK = os.sysconf("SC_CLK_TCK")


def servers(method):
    return {
        "ferrobahn": [os.path.join(EXAMPLES, "echo_server"), "--brotli-quality", "11", "127.0.0.1:0"],
        "autobahn-python": [sys.executable, os.path.join(REPO, "tests", "interop", "autobahn_echo_server.py"),
                            "--method", method],
    }


def proc_cpu(pid):
    """(user, sys) seconds of a running process, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def run_one(cmd, method, log_path):
    log = open(log_path, "w+")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for _ in range(300):
            log.seek(0)
            for line in log:
                if line.startswith("listening on 127.0.0.1:"):
                    port = int(line.strip().rsplit(":", 1)[1])
            if port or server.poll() is not None:
                break
            time.sleep(0.1)
        if not port:
            raise SystemExit(f"{cmd}: no listening line")
        u0, s0 = proc_cpu(server.pid)
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(EXAMPLES, "compress_check"), f"ws://127.0.0.1:{port}/",
                            "--method", method], capture_output=True, text=True)
        wall = time.monotonic() - t0
        u1, s1 = proc_cpu(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        raise SystemExit(f"compress_check --method {method} failed against {cmd[0]}")
    return wall, u1 - u0, s1 - s0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--methods", default="deflate,brotli,bzip2,snappy")
    args = ap.parse_args()
    logs = os.path.join(REPO, "reports", "compress-peer")
    os.makedirs(logs, exist_ok=True)
    print("| method | server | round | wall s | server user s | server sys s |")
    print("|---|---|---:|---:|---:|---:|")
    results = {}
    for method in args.methods.split(","):
        for rnd in range(1, args.rounds + 1):
            for name, cmd in servers(method).items():
                wall, user, sys_ = run_one(cmd, method, os.path.join(logs, f"{method}-{name}-{rnd}.log"))
                results.setdefault((method, name), []).append((wall, user, sys_))
                print(f"| {method} | {name} | {rnd} | {wall:.2f} | {user:.2f} | {sys_:.2f} |", flush=True)
    print()
    print("Medians (server CPU = user + sys for 4.46 MB in, 4.46 MB out):")
    print("| method | server | wall s | server CPU s | server CPU ms per MB echoed |")
    print("|---|---|---:|---:|---:|")
    for (method, name), runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] + r[2] for r in runs)
        print(f"| {method} | {name} | {wall:.2f} | {cpu:.2f} | {cpu * 1000 / 4.46:.0f} |")


if __name__ == "__main__":
    main()
