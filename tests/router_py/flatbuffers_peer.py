"""An Autobahn|Python session speaking FlatBuffers and one speaking JSON on our router
(scripts/router-interop.sh): the router transcodes between them.

    python flatbuffers_peer.py URL

URL is ws://... or rs://... for the FlatBuffers session (Autobahn's FlatBuffersSerializer,
CBOR payloads, RawSocket serializer 5 / subprotocol `wamp.2.flatbuffers`); the JSON session
always goes over WebSocket to the same router. Checks, each way: register + call with args
and kwargs (and a CallResult with both back), subscribe + publish with args and kwargs
(acknowledged), binary and unicode values, ApplicationError each way. Towards the FlatBuffers
session an ERROR carries no payload here: Autobahn reads an ERROR's args from the `error`
string's field and its kwargs from the `args` field (see core/src/wamp/flatbuffers.rs), so an
ERROR with args gives it garbage args and one with args and kwargs kills its connection
(1011, "argument after ** must be a mapping, not list"); the router's own errors (args =
[message]) are checked for their URI only. One `ok` line per check; exit 1 on the first
failure.
"""
import asyncio
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import FlatBuffersSerializer, JsonSerializer
from autobahn.wamp.types import CallResult, PublishOptions

URL = sys.argv[1]
WS_URL = "ws://" + URL.split("://", 1)[1].split("/", 1)[0] + "/ws"
BIN = b"\x00\x01\xfe\xff bin"
UNI = "\u00fc \u2603 \U0001F600"
KWARGS = {"k": "v", "n": [1, {"deep": None}], "uni": UNI, "big": 2**53, "neg": -7, "f": 1.5}

result = {"code": 1}
sessions = {}
both = asyncio.Event()


def ok(name, cond, detail=""):
    if not cond:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok   Autobahn|Python flatbuffers ({URL.split(':')[0]}) <-> json: {name}", flush=True)


async def run(fb, js):
    # A FlatBuffers callee, a JSON caller.
    def echo(*args, **kwargs):
        return CallResult(*args, **kwargs)

    await fb.register(echo, "com.fb.echo")
    r = await js.call("com.fb.echo", 1, "two", BIN, UNI, **KWARGS)
    ok("JSON calls a FlatBuffers callee (args, kwargs, binary)",
       list(r.results) == [1, "two", BIN, UNI] and r.kwresults == KWARGS, (r.results, r.kwresults))

    # A JSON callee, a FlatBuffers caller.
    await js.register(echo, "com.js.echo")
    r = await fb.call("com.js.echo", [1, [2]], BIN, x={"y": True}, z=UNI)
    ok("FlatBuffers calls a JSON callee (args, kwargs, binary)",
       list(r.results) == [[1, [2]], BIN] and r.kwresults == {"x": {"y": True}, "z": UNI},
       (r.results, r.kwresults))
    r = await fb.call("com.js.echo", 42)
    ok("a single result", r == 42, r)

    # Errors: FlatBuffers callee → JSON caller, with args and kwargs.
    def fails():
        raise ApplicationError("com.fb.oops", 1, "two", x=3)

    await fb.register(fails, "com.fb.fails")
    try:
        await js.call("com.fb.fails")
        ok("FlatBuffers ApplicationError", False, "no error")
    except ApplicationError as e:
        ok("a FlatBuffers callee's ApplicationError reaches JSON (URI, args, kwargs)",
           e.error == "com.fb.oops" and list(e.args) == [1, "two"] and e.kwargs == {"x": 3},
           (e.error, e.args, e.kwargs))
    def fails_plain():
        raise ApplicationError("com.js.oops")

    await js.register(fails_plain, "com.js.fails")
    try:
        await fb.call("com.js.fails")
        ok("JSON ApplicationError", False, "no error")
    except ApplicationError as e:
        ok("a JSON callee's ApplicationError reaches FlatBuffers (URI, no payload)",
           e.error == "com.js.oops" and e.args == () and not e.kwargs, (e.error, e.args, e.kwargs))
    try:
        await fb.call("com.none")
        ok("no_such_procedure", False, "no error")
    except ApplicationError as e:
        ok("the router's error to FlatBuffers", e.error == "wamp.error.no_such_procedure", e.error)

    # Events: JSON publishes, FlatBuffers subscribes; and the other way.
    got = asyncio.Queue()
    await fb.subscribe(lambda *a, **kw: got.put_nowait((a, kw)), "com.topic.fb")
    pub = await js.publish("com.topic.fb", 1, BIN, options=PublishOptions(acknowledge=True), **KWARGS)
    a, kw = await asyncio.wait_for(got.get(), 5)
    ok("JSON publishes to a FlatBuffers subscriber (args, kwargs)",
       pub.id > 0 and list(a) == [1, BIN] and kw == KWARGS, (a, kw))
    got2 = asyncio.Queue()
    await js.subscribe(lambda *a, **kw: got2.put_nowait((a, kw)), "com.topic.js")
    pub = await fb.publish("com.topic.js", "x", [UNI], options=PublishOptions(acknowledge=True), k=BIN)
    a, kw = await asyncio.wait_for(got2.get(), 5)
    ok("FlatBuffers publishes to a JSON subscriber (args, kwargs), acknowledged",
       pub.id > 0 and list(a) == ["x", [UNI]] and kw == {"k": BIN}, (a, kw))
    # Exclusion by session ID travels as a FlatBuffers [uint64].
    await fb.publish("com.topic.js", "skip", options=PublishOptions(acknowledge=True,
                                                                    exclude=[js._session_id]))
    await fb.publish("com.topic.js", "last", options=PublishOptions(acknowledge=True))
    a, _ = await asyncio.wait_for(got2.get(), 5)
    ok("PUBLISH exclude list from FlatBuffers", list(a) == ["last"], a)

    # The meta API answers a FlatBuffers caller.
    info = await fb.call("wamp.session.get", fb._session_id)
    ok("wamp.session.get over FlatBuffers", info["session"] == fb._session_id
       and info["transport"]["protocol"] == "wamp.2.flatbuffers", info)


class Peer(ApplicationSession):
    async def onJoin(self, details):
        sessions[self.config.extra["name"]] = self
        if len(sessions) == 2:
            both.set()
        if self.config.extra["name"] == "fb":
            await both.wait()
            try:
                await run(sessions["fb"], sessions["js"])
                result["code"] = 0
            except Exception as e:  # noqa: BLE001 - reported, then the exit status
                print(f"FAIL {e!r}", flush=True)
            asyncio.get_event_loop().stop()


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for name, url, ser in (("fb", URL, FlatBuffersSerializer()), ("js", WS_URL, JsonSerializer())):
        runner = ApplicationRunner(url, "realm1", extra={"name": name}, serializers=[ser])
        loop.run_until_complete(runner.run(Peer, start_loop=False))
    loop.call_later(30, loop.stop)
    loop.run_forever()
    sys.exit(result["code"])


if __name__ == "__main__":
    main()
