"""Autobahn|Python (asyncio) twin of examples/wamp_bench.rs: same modes, same output.

    python autobahn_bench.py URL callee | caller N INFLIGHT | subscriber N | publisher N
"""
import asyncio
import os
import sys
import time

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.serializer import JsonSerializer

ARGS = sys.argv[2:]


def cpu_ms():
    t = os.times()
    return int(t.user * 1000), int(t.system * 1000)


def report(n, started, cpu0):
    secs = time.perf_counter() - started
    u, s = cpu_ms()
    print(f"{n} {secs:.4f} {u - cpu0[0]} {s - cpu0[1]}", flush=True)


class Bench(ApplicationSession):
    async def onJoin(self, details):
        mode = ARGS[0]
        if mode == "callee":
            await self.register(lambda *a: list(a), "com.bench.echo")
            print("ready", flush=True)
            return
        if mode == "caller":
            n, inflight = int(ARGS[1]), int(ARGS[2])
            started, cpu0 = time.perf_counter(), cpu_ms()
            pending = set()
            for i in range(n):
                if len(pending) >= inflight:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for d in done:
                        d.result()
                pending.add(asyncio.ensure_future(self.call("com.bench.echo", i, "payload")))
            if pending:
                await asyncio.gather(*pending)
            report(n, started, cpu0)
        elif mode == "subscriber":
            n = int(ARGS[1])
            state = {"count": 0, "t": None}
            done = asyncio.get_running_loop().create_future()

            def on_event(*a):
                state["count"] += 1
                if state["count"] == 1:
                    state["t"] = (time.perf_counter(), cpu_ms())
                if state["count"] == n and not done.done():
                    done.set_result(None)

            await self.subscribe(on_event, "com.bench.topic")
            print("ready", flush=True)
            await done
            report(n - 1, *state["t"])
        elif mode == "publisher":
            n = int(ARGS[1])
            started, cpu0 = time.perf_counter(), cpu_ms()
            for i in range(n):
                self.publish("com.bench.topic", i, "payload")
                if i % 100 == 0:
                    await asyncio.sleep(0)
            await asyncio.sleep(0)
            report(n, started, cpu0)
        self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    ApplicationRunner(sys.argv[1], "realm1", serializers=[JsonSerializer()]).run(Bench)
