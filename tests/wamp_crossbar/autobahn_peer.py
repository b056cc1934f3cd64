"""An Autobahn|Python session on the Crossbar.io of scripts/crossbar.sh, the other party of
examples/wamp_check's `peer` checks.

    python autobahn_peer.py WS_URL SERIALIZER

It registers `com.peer.add2` (a + b) and `com.peer.reverse` (reverses a binary argument),
and republishes what arrives on `com.peer.topic` to `com.peer.echo` (args and kwargs as
they came). When an event arrives on `com.peer.go` it calls our `com.ours.mul(6, 7)` and
publishes the result (or the error URI) on `com.peer.result`. Prints `ready` once all is
registered; runs until SIGTERM.
"""
import asyncio
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import (CBORSerializer, FlatBuffersSerializer, JsonSerializer,
                                      MsgPackSerializer, UBJSONSerializer)
from autobahn.wamp.types import PublishOptions


class Peer(ApplicationSession):
    async def onJoin(self, details):
        def add2(a, b):
            return a + b

        def reverse(data):
            if not isinstance(data, bytes):
                raise ApplicationError("com.peer.error.not_bytes", type(data).__name__)
            return data[::-1]

        def topic(*args, **kwargs):
            self.publish("com.peer.echo", *args, **kwargs)

        async def go():
            try:
                res = await self.call("com.ours.mul", 6, 7)
            except ApplicationError as e:
                res = e.error
            self.publish("com.peer.result", res, options=PublishOptions(exclude_me=False))

        await self.register(add2, "com.peer.add2")
        await self.register(reverse, "com.peer.reverse")
        await self.subscribe(topic, "com.peer.topic")
        await self.subscribe(lambda: asyncio.ensure_future(go()), "com.peer.go")
        print("ready", flush=True)


def main():
    url, ser = sys.argv[1], sys.argv[2]
    serializer = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer,
                  "ubjson": UBJSONSerializer, "flatbuffers": FlatBuffersSerializer}[ser]()
    ApplicationRunner(url, "realm1", serializers=[serializer]).run(Peer)


if __name__ == "__main__":
    main()
