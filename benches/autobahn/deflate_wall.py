"""Wall time and CPU of Autobahn TestSuite sections against two echo servers, alternating.

    python benches/autobahn/deflate_wall.py [--rounds N] [--sections '12.* 13.*'] [--parallel 2]
                                            [--servers ferrobahn,autobahn-python]

Run with the venv from scripts/venv.sh (it has kosoku and autobahn[twisted]); build first with
`cargo build --release --examples`. For each round and each server: start the server on
127.0.0.1:0, run `kosoku -p PARALLEL -i GLOB...` against it, and record the wall time of the
kosoku run, the server's own CPU time (user and sys from /proc/PID/stat, read before it is
stopped) and kosoku's CPU time (getrusage of the waited children). Servers are stopped by
PID. Prints a table per round and the medians; exits 1 if a run did not produce a report
with every case OK or INFORMATIONAL.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
SERVERS = {
    "ferrobahn": [os.path.join(TARGET, "release", "examples", "echo_server"), "127.0.0.1:0"],
    "autobahn-python": [sys.executable, os.path.join(REPO, "tests", "interop", "autobahn_echo_server.py")],
}
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """(user, sys) seconds of a running process, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the comm field: state is fields[0]; utime is field 14 overall -> index 11 here
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def run_one(name, sections, parallel):
    with tempfile.TemporaryDirectory() as out:
        log = open(os.path.join(out, "server.log"), "w+")
        server = subprocess.Popen(SERVERS[name], stdout=log, stderr=subprocess.STDOUT, text=True)
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
                raise SystemExit(f"{name}: no listening line")
            cmd = [os.path.join(VENV_BIN, "kosoku"), "-p", str(parallel), "-o", out]
            for g in sections.split():
                cmd += ["-i", g]
            cmd.append(f"127.0.0.1:{port}")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.monotonic() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            su, ss = proc_cpu(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        with open(os.path.join(out, "index.json")) as f:
            report = json.load(f)
        counts = {}
        for agent in report.values():
            for case in agent.values():
                counts[case["behavior"]] = counts.get(case["behavior"], 0) + 1
    return {
        "wall": wall,
        "server_user": su,
        "server_sys": ss,
        "kosoku_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "counts": counts,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sections", default="12.* 13.*")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--servers", default="ferrobahn,autobahn-python")
    args = ap.parse_args()
    names = args.servers.split(",")
    results = {n: [] for n in names}
    ok = True
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else list(reversed(names)):
            res = run_one(name, args.sections, args.parallel)
            results[name].append(res)
            cases = sum(res["counts"].values())
            bad = {k: v for k, v in res["counts"].items() if k not in ("OK", "INFORMATIONAL")}
            ok &= not bad
            print(f"round {r + 1} {name:16} wall {res['wall']:7.1f} s  server user {res['server_user']:7.2f} s"
                  f" sys {res['server_sys']:6.2f} s  kosoku cpu {res['kosoku_cpu']:7.1f} s  "
                  f"{cases} cases {res['counts']}", flush=True)
    print(f"\nmedians over {args.rounds} rounds, sections {args.sections}, kosoku -p {args.parallel}:")
    print("| server | wall s | server user s | server sys s | server CPU ms/case | kosoku CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        rs = results[name]
        cases = sum(rs[0]["counts"].values())
        med = lambda k: statistics.median(x[k] for x in rs)  # noqa: E731
        cpu = statistics.median(x["server_user"] + x["server_sys"] for x in rs)
        print(f"| {name} | {med('wall'):.1f} | {med('server_user'):.2f} | {med('server_sys'):.2f} |"
              f" {1000 * cpu / cases:.1f} | {med('kosoku_cpu'):.1f} |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
