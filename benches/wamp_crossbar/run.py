"""WAMP through Crossbar.io: our client next to Autobahn|Python (asyncio) doing the same,
in alternating rounds (medians reported): calls/s one at a time and with 100 in flight
(caller and callee of the same library), events/s from one publisher to one subscriber.
Every client speaks JSON over WebSocket. Prints a Markdown table and the client CPU per
call/event.

    python run.py CROSSBAR_VENV WAMP_BENCH_BINARY [ROUNDS]
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    venv, ours, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3
    py = os.path.join(venv, "bin", "python")
    cbdir = tempfile.mkdtemp(prefix="ferrobahn-bench-")
    ports = subprocess.check_output([py, os.path.join(ROOT, "tests/wamp_crossbar/config.py"),
                                     os.path.join(cbdir, ".crossbar")], text=True)
    ws = int(dict(p.split("=") for p in ports.split())["ws"])
    url = f"ws://127.0.0.1:{ws}/"
    log = open(os.path.join(cbdir, "crossbar.log"), "w")
    crossbar = subprocess.Popen([os.path.join(venv, "bin", "crossbar"), "start", "--cbdir",
                                 os.path.join(cbdir, ".crossbar")], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", ws), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        libs = {
            "ferrobahn": [ours, url],
            "autobahn": [py, os.path.join(HERE, "autobahn_bench.py"), url],
        }
        results = {}
        for r in range(rounds):
            order = ["ferrobahn", "autobahn"] if r % 2 == 0 else ["autobahn", "ferrobahn"]
            for lib in order:
                cmd = libs[lib]
                callee = subprocess.Popen(cmd + ["callee"], stdout=subprocess.PIPE, text=True)
                assert callee.stdout.readline().strip() == "ready"
                for name, args in [("calls, one at a time", ["caller", "2000", "1"]),
                                   ("calls, 100 in flight", ["caller", "10000", "100"])]:
                    out = subprocess.check_output(cmd + args, text=True).split()
                    results.setdefault((name, lib), []).append(out)
                callee.terminate()
                callee.wait()
                sub = subprocess.Popen(cmd + ["subscriber", "20000"], stdout=subprocess.PIPE, text=True)
                assert sub.stdout.readline().strip() == "ready"
                subprocess.check_output(cmd + ["publisher", "20000"], text=True)
                out = sub.stdout.readline().split()
                sub.wait(timeout=120)
                results.setdefault(("events, 1 → 1 (subscriber)", lib), []).append(out)
        print("| test | ferrobahn | Autobahn\\|Python | ferrobahn client CPU per op | Autobahn\\|Python client CPU per op |")
        print("|---|---:|---:|---:|---:|")
        for name in ["calls, one at a time", "calls, 100 in flight", "events, 1 → 1 (subscriber)"]:
            row = [name]
            cpu = []
            for lib in ["ferrobahn", "autobahn"]:
                runs = results[(name, lib)]
                rate = statistics.median(int(o[0]) / float(o[1]) for o in runs)
                per = statistics.median((int(o[2]) + int(o[3])) * 1000.0 / int(o[0]) for o in runs)
                row.append(f"{rate:,.0f}/s")
                cpu.append(f"{per:.0f} µs")
            print("| " + " | ".join(row + cpu) + " |")
    finally:
        crossbar.terminate()
        try:
            crossbar.wait(timeout=15)
        except subprocess.TimeoutExpired:
            crossbar.kill()


if __name__ == "__main__":
    main()
