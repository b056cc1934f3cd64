"""An Autobahn|Python session that uses the QEMU firmware through our router
(scripts/firmware-qemu.sh): calls `com.device.read_sensor` twice, publishes to
`com.device.led`, and waits for two `com.device.heartbeat` events.

    python device_peer.py URL SERIALIZER LED_ARG

Prints one `ok ...` line per check and exits 0 when all passed, else prints why and exits 1.
"""
import asyncio
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.types import PublishOptions
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer

outcome = {"code": 1}


class Peer(ApplicationSession):
    async def onJoin(self, details):
        try:
            beats = []
            got_two = asyncio.get_running_loop().create_future()

            def on_beat(count, uptime_ms):
                beats.append((count, uptime_ms))
                if len(beats) == 2 and not got_two.done():
                    got_two.set_result(None)

            await self.subscribe(on_beat, "com.device.heartbeat")
            # Two positional results come as a CallResult.
            first = list((await self.call("com.device.read_sensor")).results)
            second = list((await self.call("com.device.read_sensor")).results)
            for r in (first, second):
                assert isinstance(r, list) and len(r) == 2, f"read_sensor gave {r!r}"
                assert 2000 <= r[0] <= 2300, f"reading out of range: {r!r}"
            assert second[1] == first[1] + 1, f"counter did not count: {first!r} then {second!r}"
            print(f"ok   Autobahn|Python: read_sensor {first!r} then {second!r}", flush=True)
            await self.publish("com.device.led", self.config.extra["led"], options=PublishOptions(acknowledge=True))
            print("ok   Autobahn|Python: published to com.device.led (acknowledged)", flush=True)
            await asyncio.wait_for(got_two, 10)
            (c1, t1), (c2, t2) = beats
            assert c2 == c1 + 1, f"heartbeat counts {beats!r}"
            assert 500 <= t2 - t1 <= 1500, f"heartbeats {t2 - t1} ms apart"
            print(f"ok   Autobahn|Python: heartbeats {beats!r} ({t2 - t1} ms apart)", flush=True)
            outcome["code"] = 0
        except Exception as e:  # noqa: BLE001 - reported, then the exit code says it
            print(f"FAIL Autobahn|Python: {e!r}", flush=True)
        self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


def main():
    url, ser, led = sys.argv[1], sys.argv[2], sys.argv[3]
    serializer = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}[ser]()
    runner = ApplicationRunner(url, "realm1", extra={"led": led}, serializers=[serializer])
    runner.run(Peer)
    sys.exit(outcome["code"])


if __name__ == "__main__":
    main()
