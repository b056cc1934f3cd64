"""WAMP message compatibility with Autobahn|Python: it builds the messages, we recode them.

    python autobahn_messages.py generate DIR   # Autobahn writes every case; DIR/manifest.json
    python autobahn_messages.py verify DIR     # Autobahn reads what ferrobahn wrote back

`generate` builds every WAMP message type with representative options and payloads (binary,
unicode, 64-bit integers, nested and empty containers) with Autobahn|Python's message
classes and serializes each with every Autobahn serializer: json, msgpack, cbor, ubjson
(bjdata), plain and batched (a batch holds the case's message and a PUBLISHED after it).
ferrobahn's `wamp_recode` example then decodes each file, writes it back in the same
serializer (`*.ours`) and transcodes every message to JSON, one per line (`*.json-lines`).

`verify` has Autobahn parse both and compares each message with the original through
`marshal()` (the message as a list, as it goes on the wire). Exit status 0 when every case
matches; each mismatch is printed.

FlatBuffers (`wamp.2.flatbuffers`, CBOR payloads, never batched) is lossy on Autobahn's side,
so its files are checked differently: (1) Autobahn reads our bytes exactly as it reads its own
(whatever its reader drops or gets wrong, it does so for both), and (2) our decoding, as JSON,
equals the original message minus what Autobahn's writer leaves out (`fb_written`):
  - HELLO: `roles` (a required field), `authmethods`, `authextra` are never written;
  - WELCOME: `roles`, `authmethod`, `authextra` are never written;
  - CHALLENGE, AUTHENTICATE: `extra` is never written;
  - CANCEL: mode `killnowait` is written as `skip` (its code says KILLNOWAIT is not in the
    enum; the schema has it), which as the default is then left out;
  - INTERRUPT: mode `kill` is the schema default, so it is left out.
What Autobahn's reader loses (noted, not needed by the check): SUBSCRIBE `match` (always
exact) and an added `get_retained: false`; REGISTER `match`, `invoke`; CANCEL `mode` (always
skip); INTERRUPT `mode`; UNSUBSCRIBED/UNREGISTERED gain `subscription`/`registration` 0; a
passthru `enc_key` comes back as bytes; ERROR `args` are read from the `error` string's slot
and `kwargs` from `args`' (wrong vtable offsets in its accessors); HELLO/WELCOME roles,
authmethods, authextra and CHALLENGE/AUTHENTICATE extra read as empty.
"""
import json
import os
import sys

import txaio

txaio.use_asyncio()  # the serializers' stats need a framework; no I/O happens here

from autobahn.wamp import message as m  # noqa: E402
from autobahn.wamp import role  # noqa: E402
from autobahn.wamp.serializer import (CBORSerializer, FlatBuffersSerializer,  # noqa: E402
                                      JsonSerializer, MsgPackSerializer, UBJSONSerializer)

SERIALIZERS = {
    "json": JsonSerializer,
    "msgpack": MsgPackSerializer,
    "cbor": CBORSerializer,
    "ubjson": UBJSONSerializer,
    "flatbuffers": FlatBuffersSerializer,  # payload_serializer="cbor", its default
}

BIN = b"\x00\x01\x7f\x80\xfe\xff binary"
ARGS = [1, -2, 2**53, -(2**63), 2**64 - 1, 1.5, -0.25, "unicode \u00fc \u2603 \U0001F600", None,
        True, False, [], {}, [1, [2, {"x": BIN}]], BIN, ""]
KWARGS = {"a": 1, "nested": {"list": [1, 2, {"deep": None}]}, "bin": BIN, "empty": {},
          "uni": "\u65e5\u672c", "quote\"key": "back\\slash\n"}


def cases():
    """(name, message) for every message type, several shapes where it has options."""
    roles_client = {
        "caller": role.RoleCallerFeatures(progressive_call_results=True, call_canceling=True,
                                          call_timeout=True, caller_identification=True),
        "callee": role.RoleCalleeFeatures(progressive_call_results=True,
                                          pattern_based_registration=True,
                                          shared_registration=True),
        "publisher": role.RolePublisherFeatures(publisher_exclusion=True,
                                                subscriber_blackwhite_listing=True),
        "subscriber": role.RoleSubscriberFeatures(pattern_based_subscription=True,
                                                  publisher_identification=True),
    }
    roles_router = {
        "broker": role.RoleBrokerFeatures(publisher_identification=True,
                                          pattern_based_subscription=True,
                                          session_meta_api=True, event_retention=True),
        "dealer": role.RoleDealerFeatures(progressive_call_results=True, call_canceling=True,
                                          pattern_based_registration=True,
                                          shared_registration=True),
    }
    yield "hello", m.Hello("realm1", roles_client, authmethods=["cryptosign", "ticket", "wampcra"],
                           authid="alice", authrole="user", authextra={"pubkey": "ab" * 32})
    yield "hello_min", m.Hello("realm1", {"subscriber": role.RoleSubscriberFeatures()})
    yield "welcome", m.Welcome(2**53, roles_router, realm="realm1", authid="alice",
                               authrole="user", authmethod="ticket", authprovider="static",
                               authextra={"x": 1})
    yield "abort", m.Abort("wamp.error.no_such_realm", message="no realm \u00e9")
    yield "challenge", m.Challenge("wampcra", {"challenge": '{"nonce": "x"}', "salt": "salt",
                                               "keylen": 32, "iterations": 1000})
    yield "authenticate", m.Authenticate("c2lnbmF0dXJl", {"x": "y"})
    yield "goodbye", m.Goodbye("wamp.close.normal", message="bye")
    yield "error", m.Error(48, 123, "com.example.error", args=ARGS, kwargs=KWARGS)
    yield "error_plain", m.Error(64, 2**53, "wamp.error.procedure_already_exists")
    yield "publish", m.Publish(1, "com.example.topic", args=ARGS, kwargs=KWARGS, acknowledge=True,
                               exclude_me=False, exclude=[1, 2], exclude_authid=["a"],
                               exclude_authrole=["r"], eligible=[3], eligible_authid=["b"],
                               eligible_authrole=["s"], retain=True)
    yield "publish_kwargs_only", m.Publish(2, "com.example.topic", kwargs={"k": [BIN]})
    yield "publish_passthru", m.Publish(3, "com.example.e2e", payload=BIN, enc_algo="cryptobox",
                                        enc_key="key", enc_serializer="json")
    yield "published", m.Published(1, 2**53)
    yield "subscribe", m.Subscribe(2, "com.example.", match="prefix", get_retained=True)
    yield "subscribe_wildcard", m.Subscribe(3, "com..update", match="wildcard")
    yield "subscribed", m.Subscribed(2, 77)
    yield "unsubscribe", m.Unsubscribe(3, 77)
    yield "unsubscribed", m.Unsubscribed(3)
    yield "unsubscribed_revoked", m.Unsubscribed(0, subscription=77,
                                                 reason="wamp.subscription.revoked")
    yield "event", m.Event(77, 88, args=ARGS, kwargs=KWARGS, publisher=5,
                           publisher_authid="alice", publisher_authrole="user",
                           topic="com.example.topic", retained=True)
    yield "event_plain", m.Event(77, 89)
    yield "event_received", m.EventReceived(88)
    yield "call", m.Call(4, "com.example.add", args=ARGS, kwargs=KWARGS, timeout=1000,
                         receive_progress=True)
    yield "call_args_only", m.Call(5, "com.example.echo", args=[BIN])
    yield "cancel", m.Cancel(4, mode="killnowait")
    yield "result", m.Result(4, args=ARGS, kwargs=KWARGS, progress=True)
    yield "result_plain", m.Result(5)
    yield "register", m.Register(6, "com.example.", match="prefix", invoke="roundrobin",
                                 concurrency=4, force_reregister=True)
    yield "registered", m.Registered(6, 99)
    yield "unregister", m.Unregister(7, 99)
    yield "unregistered", m.Unregistered(7)
    yield "unregistered_revoked", m.Unregistered(0, registration=99,
                                                 reason="wamp.registration.revoked")
    yield "invocation", m.Invocation(8, 99, args=ARGS, kwargs=KWARGS, timeout=500,
                                     receive_progress=True, caller=5, caller_authid="bob",
                                     caller_authrole="user", procedure="com.example.add")
    yield "interrupt", m.Interrupt(8, mode="kill", reason="wamp.error.timeout")
    yield "yield", m.Yield(8, args=ARGS, kwargs=KWARGS, progress=True)
    yield "yield_plain", m.Yield(9)


TRAILER = m.Published(1, 2)


def batch(case_msg):
    return [case_msg, TRAILER]


def generate(out):
    os.makedirs(out, exist_ok=True)
    manifest = []
    types = set()
    for name, msg in cases():
        types.add(msg.MESSAGE_TYPE)
        for ser_name, cls in SERIALIZERS.items():
            # Autobahn's FlatBuffers serializer refuses to be batched.
            for batched in (False,) if ser_name == "flatbuffers" else (False, True):
                ser = cls(batched=batched)
                if batched:
                    data = b"".join(ser.serialize(x)[0] for x in batch(msg))
                else:
                    data, _ = ser.serialize(msg)
                fname = f"{name}.{ser_name}{'.batched' if batched else ''}"
                with open(os.path.join(out, fname), "wb") as f:
                    f.write(data)
                manifest.append({"case": name, "serializer": ser_name, "batched": batched,
                                 "file": fname, "messages": 2 if batched else 1})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"generate: {len(manifest)} files, {len(types)} message types:"
          f" {sorted(types)}")


def normalized(msg):
    """A marshalled message, with Autobahn's `null` Arguments before ArgumentsKw as the
    spec's empty list (Autobahn writes null there, and its own parser refuses it; we write
    [])."""
    msg = canonical(msg)
    if len(msg) >= 2 and msg[-2] is None and isinstance(msg[-1], dict):
        msg[-2] = []
    return msg


def canonical(x):
    """Tuples → lists, so that equal wire structures compare equal."""
    if isinstance(x, (list, tuple)):
        return [canonical(v) for v in x]
    if isinstance(x, dict):
        return {k: canonical(v) for k, v in x.items()}
    return x


def fb_written(case, msg):
    """The marshalled original as Autobahn's FlatBuffers writer keeps it (module docs)."""
    msg = canonical(msg)
    if case in ("hello", "hello_min"):
        for k in ("roles", "authmethods", "authextra"):
            msg[2].pop(k, None)
    elif case == "welcome":
        for k in ("roles", "authmethod", "authextra"):
            msg[2].pop(k, None)
    elif case in ("challenge", "authenticate"):
        msg[2] = {}
    elif case == "cancel" and msg[2].get("mode") == "killnowait":
        del msg[2]["mode"]
    elif case == "interrupt" and msg[2].get("mode") == "kill":
        del msg[2]["mode"]
    return msg


def verify_flatbuffers(out, entry, originals):
    """The FlatBuffers checks (1) and (2) of the module docs."""
    ser = FlatBuffersSerializer()
    base = os.path.join(out, entry["file"])
    with open(base, "rb") as f:
        theirs = [normalized(x.marshal()) for x in ser.unserialize(f.read(), isBinary=True)]
    with open(base + ".ours", "rb") as f:
        ours = [normalized(x.marshal()) for x in ser.unserialize(f.read(), isBinary=True)]
    if ours != theirs:
        raise AssertionError(f"Autobahn reads our bytes as {ours!r}, its own as {theirs!r}")
    want = normalized(fb_written(entry["case"], originals[entry["case"]].marshal()))
    with open(base + ".json-lines", "rb") as f:
        lines = [line for line in f.read().split(b"\n") if line]
    # The raw lists: a HELLO without roles is what Autobahn sent, but its parser refuses it.
    got = [normalized(JsonSerializer()._serializer.unserialize(line)[0]) for line in lines]
    if got != [want]:
        raise AssertionError(f"our decoding, as JSON, is {got!r}, want {want!r}")


def verify(out):
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    originals = dict(cases())
    failures = 0
    checked = 0
    for entry in manifest:
        want = [originals[entry["case"]]]
        if entry["batched"]:
            want = batch(want[0])
        want = [normalized(x.marshal()) for x in want]
        ser = SERIALIZERS[entry["serializer"]](batched=entry["batched"])
        base = os.path.join(out, entry["file"])
        try:
            if entry["serializer"] == "flatbuffers":
                verify_flatbuffers(out, entry, originals)
                checked += 1
                continue
            with open(base + ".ours", "rb") as f:
                got = [normalized(x.marshal()) for x in ser.unserialize(f.read(), isBinary=entry["serializer"] != "json")]
            if got != want:
                raise AssertionError(f"our {entry['serializer']} bytes read back as {got!r}, want {want!r}")
            js = JsonSerializer()
            with open(base + ".json-lines", "rb") as f:
                lines = [line for line in f.read().split(b"\n") if line]
            got = [normalized(js.unserialize(line, isBinary=False)[0].marshal()) for line in lines]
            if got != want:
                raise AssertionError(f"our decoding, as JSON, read back as {got!r}, want {want!r}")
            checked += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
            failures += 1
            print(f"FAIL {entry['file']}: {e}")
    print(f"verify: {checked} files match, {failures} fail")
    sys.exit(1 if failures or not checked else 0)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("generate", "verify"):
        sys.exit(__doc__)
    {"generate": generate, "verify": verify}[sys.argv[1]](sys.argv[2])
