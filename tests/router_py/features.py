"""Autobahn|Python sessions exercising our router's WAMP features (scripts/router-interop.sh
runs it for each serializer over WebSocket and RawSocket).

    python features.py URL SERIALIZER [COMPRESSION]

COMPRESSION (WebSocket only): brotli, bzip2, snappy or deflate. Autobahn's ApplicationRunner
always offers permessage-deflate; with this argument it offers that method instead (its
module's offer/response classes are swapped for the method's), and each session checks the
router agreed to it.

Two sessions (A and B) on realm1: progressive call results, call cancel and timeout (router
side), pattern-based registrations (exact beats prefix beats wildcard) and subscriptions,
shared registrations (round robin), the standard error URIs, publisher exclusion and
black/white listing, acknowledged publish, event retention, and the meta API (session,
registration, subscription). (Autobahn|Python has no `disclose_me`; our client checks
disclosure, examples/wamp_check.) One `ok` line per check; exit 1 on
the first failure.
"""
import asyncio
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer, UBJSONSerializer
from autobahn.wamp.types import CallDetails, CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

COMPRESSION = sys.argv[3] if len(sys.argv) > 3 else None
if COMPRESSION:
    import autobahn.asyncio.wamp as runner_module
    from autobahn.websocket import compress

    cls = {"deflate": "Deflate", "brotli": "Brotli", "bzip2": "Bzip2", "snappy": "Snappy"}[COMPRESSION]
    for kind in ("Offer", "Response", "ResponseAccept"):
        setattr(runner_module, f"PerMessageDeflate{kind}", getattr(compress, f"PerMessage{cls}{kind}"))

result = {"code": 1}
sessions = []
both = asyncio.Event()


def ok(name, cond, detail=""):
    if not cond:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok   Autobahn|Python {sys.argv[2]} {sys.argv[1].split(':')[0]}: {name}", flush=True)


async def expect_error(name, coro, uri):
    try:
        await coro
    except ApplicationError as e:
        ok(name, e.error == uri, e.error)
        return
    ok(name, False, "no error")


async def run(a, b):
    # Progressive results.
    async def countdown(n, details: CallDetails):
        for i in range(n, 0, -1):
            if details.progress:
                details.progress(i)
        return "liftoff"
    await a.register(countdown, "com.f.countdown", RegisterOptions(details_arg="details"))
    seen = []
    res = await b.call("com.f.countdown", 3, options=CallOptions(on_progress=seen.append))
    ok("progressive call results", seen == [3, 2, 1] and res == "liftoff", (seen, res))

    # Router-side call timeout (ms) and cancel.
    async def slow():
        await asyncio.sleep(5)
        return "late"
    await a.register(slow, "com.f.slow")
    await expect_error("call timeout → wamp.error.canceled",
                       b.call("com.f.slow", options=CallOptions(timeout=200)), "wamp.error.canceled")
    call = asyncio.ensure_future(b.call("com.f.slow"))
    await asyncio.sleep(0.2)
    call.cancel()
    try:
        await call
        ok("cancel", False, "completed")
    except (asyncio.CancelledError, ApplicationError) as e:
        ok("cancel ends the call", True, e)

    # Patterns: exact beats prefix beats wildcard, the longest prefix wins.
    await a.register(lambda: "exact", "com.f.p.x.y")
    await a.register(lambda: "prefix", "com.f.p", RegisterOptions(match="prefix"))
    await a.register(lambda: "longer prefix", "com.f.p.x", RegisterOptions(match="prefix"))
    await a.register(lambda: "wildcard", "com.f..y", RegisterOptions(match="wildcard"))
    got = [await b.call(u) for u in ("com.f.p.x.y", "com.f.p.x.z", "com.f.p.q", "com.f.q.y")]
    ok("pattern-based registrations", got == ["exact", "longer prefix", "prefix", "wildcard"], got)

    # Shared registration, round robin across two callees.
    await a.register(lambda: "a", "com.f.shared", RegisterOptions(invoke="roundrobin"))
    await b.register(lambda: "b", "com.f.shared", RegisterOptions(invoke="roundrobin"))
    got = sorted([await a.call("com.f.shared") for _ in range(4)])
    ok("shared registration, round robin", got == ["a", "a", "b", "b"], got)

    # Standard errors.
    await expect_error("no callee → no_such_procedure", b.call("com.f.none"), "wamp.error.no_such_procedure")
    await expect_error("second single REGISTER → procedure_already_exists",
                       b.register(lambda: 0, "com.f.p.x.y"), "wamp.error.procedure_already_exists")

    def fails():
        raise ApplicationError("com.f.oops", 1, "two", x=3)
    await a.register(fails, "com.f.fails")
    try:
        await b.call("com.f.fails")
        ok("application error", False, "no error")
    except ApplicationError as e:
        ok("ApplicationError with args and kwargs", e.error == "com.f.oops" and list(e.args) == [1, "two"]
           and e.kwargs == {"x": 3}, (e.error, e.args, e.kwargs))

    # PubSub: patterns, exclusion, listing, acknowledge, retention.
    events = asyncio.Queue()
    await a.subscribe(lambda *args, details=None: events.put_nowait(("prefix", args, None)),
                      "com.f.t", SubscribeOptions(match="prefix", details_arg="details"))
    await a.subscribe(lambda *args, details=None: events.put_nowait(("wildcard", args, None)),
                      "com.f..end", SubscribeOptions(match="wildcard", details_arg="details"))
    pub = await b.publish("com.f.t.end", 1, options=PublishOptions(acknowledge=True))
    got = sorted([(await asyncio.wait_for(events.get(), 5))[0] for _ in range(2)])
    ok("acknowledged publish reaches prefix and wildcard subscriptions",
       pub.id > 0 and got == ["prefix", "wildcard"], got)
    await b.publish("com.f.t.z", 3, options=PublishOptions(acknowledge=True, exclude=[a._session_id]))
    await b.publish("com.f.t.z", 4, options=PublishOptions(acknowledge=True, eligible=[b._session_id]))
    await b.publish("com.f.t.z", 5, options=PublishOptions(acknowledge=True, eligible=[a._session_id]))
    kind, args, _ = await asyncio.wait_for(events.get(), 5)
    ok("exclude and eligible lists", args == (5,) and events.empty(), args)
    mine = asyncio.Queue()
    await b.subscribe(lambda x: mine.put_nowait(x), "com.f.self")
    await b.publish("com.f.self", 1, options=PublishOptions(acknowledge=True))
    await b.publish("com.f.self", 2, options=PublishOptions(acknowledge=True, exclude_me=False))
    ok("exclude_me by default, exclude_me=False", await asyncio.wait_for(mine.get(), 5) == 2)
    await b.publish("com.f.retained", "kept", options=PublishOptions(acknowledge=True, retain=True))
    retained = asyncio.Queue()
    await a.subscribe(lambda x: retained.put_nowait(x), "com.f.retained", SubscribeOptions(get_retained=True))
    ok("event retention", await asyncio.wait_for(retained.get(), 5) == "kept")

    # Meta API.
    n = await b.call("wamp.session.count")
    ok("wamp.session.count", n >= 2, n)
    info = await b.call("wamp.session.get", a._session_id)
    ok("wamp.session.get", info["session"] == a._session_id, info)
    reg = await b.call("wamp.registration.lookup", "com.f.p", {"match": "prefix"})
    callees = await b.call("wamp.registration.list_callees", reg)
    ok("wamp.registration.lookup and list_callees", callees == [a._session_id], (reg, callees))
    sub = await b.call("wamp.subscription.match", "com.f.t.q")
    ok("wamp.subscription.match", isinstance(sub, list) and len(sub) == 1, sub)
    joined = asyncio.Queue()
    await b.subscribe(lambda details: joined.put_nowait(details), "wamp.session.on_join")
    extra = ApplicationRunner(sys.argv[1], "realm1", serializers=[serializer()])
    asyncio.ensure_future(extra.run(Quiet, start_loop=False))
    details = await asyncio.wait_for(joined.get(), 10)
    ok("wamp.session.on_join", "session" in details and "authrole" in details, details)


class Quiet(ApplicationSession):
    async def onJoin(self, details):
        await asyncio.sleep(0.5)
        self.leave()


class Peer(ApplicationSession):
    async def onJoin(self, details):
        if COMPRESSION:
            pmce = getattr(self._transport, "_perMessageCompress", None)
            agreed = getattr(pmce, "EXTENSION_NAME", None)
            if agreed != f"permessage-{COMPRESSION}":
                print(f"FAIL compression: agreed {agreed!r}, not permessage-{COMPRESSION}", flush=True)
                asyncio.get_event_loop().stop()
                return
            ok(f"permessage-{COMPRESSION} agreed", True)
        sessions.append(self)
        if len(sessions) == 2:
            both.set()
        if self is sessions[0]:
            await both.wait()
            try:
                await run(sessions[0], sessions[1])
                result["code"] = 0
            except Exception as e:
                print(f"FAIL {e!r}", flush=True)
            asyncio.get_event_loop().stop()


def serializer():
    # NAME or NAME.batched (the batched WebSocket subprotocols, wamp.2.NAME.batched).
    name, _, batched = sys.argv[2].partition(".")
    cls = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer,
           "ubjson": UBJSONSerializer}[name]
    return cls(batched=batched == "batched")


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for _ in range(2):
        runner = ApplicationRunner(sys.argv[1], "realm1", serializers=[serializer()])
        loop.run_until_complete(runner.run(Peer, start_loop=False))
    loop.call_later(60, loop.stop)
    loop.run_forever()
    sys.exit(result["code"])


if __name__ == "__main__":
    main()
