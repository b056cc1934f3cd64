"""Writes a Crossbar.io node directory for the WAMP client tests and prints the ports.

    python config.py CBDIR

Realm `realm1`; an anonymous WebSocket transport (all four serializers), an anonymous
RawSocket transport, and a WebSocket transport with ticket, WAMP-CRA (plain and salted),
WAMP-SCRAM and cryptosign principals; everything on 127.0.0.1, on ports that were free a moment ago.
Prints `ws=PORT rs=PORT auth=PORT unix=PATH` (RawSocket also on a Unix socket). The secrets here are test fixtures.
"""
import json
import os
import socket
import sys

import base64
import hashlib
import hmac

from autobahn.wamp.auth import _hash_argon2id13_secret
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    cbdir = sys.argv[1]
    os.makedirs(cbdir, exist_ok=True)
    ws, rs, authp, wss, rss = (free_port() for _ in range(5))
    # TLS transports when CBDIR holds server.pem / server.key (tests/interop/make_certs.py).
    tls = os.path.exists(os.path.join(cbdir, "server.pem"))
    # The cryptosign test key: seed 0x4d * 32 (examples/wamp_check.rs uses the same).
    pub = Ed25519PrivateKey.from_private_bytes(bytes([0x4D] * 32)).public_key()
    pubkey = pub.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    everything = {
        "uri": "",
        "match": "prefix",
        "allow": {"call": True, "register": True, "publish": True, "subscribe": True},
        "disclose": {"caller": True, "publisher": True},
        "cache": True,
    }
    serializers = ["json", "msgpack", "cbor", "ubjson"]
    # WAMP-SCRAM principal `carol`, password `secret3`: what Crossbar stores (salted with
    # argon2id as Autobahn computes it, then the SCRAM client and server keys).
    salt = bytes(range(16))
    iterations, memory = 4, 512
    salted = _hash_argon2id13_secret(b"secret3", base64.b64encode(salt), iterations, memory)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    scram_carol = {
        "kdf": "argon2id-13", "iterations": iterations, "memory": memory, "salt": salt.hex(),
        "stored-key": hashlib.sha256(client_key).hexdigest(),
        "server-key": hmac.new(salted, b"Server Key", hashlib.sha256).hexdigest(),
        "role": "user",
    }
    endpoint = lambda port: {"type": "tcp", "port": port, "interface": "127.0.0.1"}  # noqa: E731
    config = {
        "version": 2,
        "controller": {},
        "workers": [{
            "type": "router",
            "realms": [{
                "name": "realm1",
                "roles": [
                    {"name": "anonymous", "permissions": [everything]},
                    {"name": "user", "permissions": [everything]},
                ],
            }],
            "transports": [
                {"type": "websocket", "endpoint": endpoint(ws), "serializers": serializers},
                {"type": "rawsocket", "endpoint": endpoint(rs), "serializers": serializers},
                {"type": "rawsocket", "serializers": serializers,
                 "endpoint": {"type": "unix", "path": os.path.join(os.path.abspath(cbdir), "router.sock")}},
            ] + ([
                {"type": "websocket", "serializers": serializers,
                 "endpoint": dict(endpoint(wss), tls={"key": "server.key", "certificate": "server.pem"})},
                {"type": "rawsocket", "serializers": serializers,
                 "endpoint": dict(endpoint(rss), tls={"key": "server.key", "certificate": "server.pem"})},
            ] if tls else []) + [
                {
                    "type": "websocket",
                    "endpoint": endpoint(authp),
                    "serializers": serializers,
                    "auth": {
                        "ticket": {"type": "static", "principals": {
                            "joe": {"ticket": "secret!!!", "role": "user"}}},
                        "wampcra": {"type": "static", "users": {
                            "peter": {"secret": "secret1", "role": "user"},
                            "salted": {
                                # Crossbar derives the PBKDF2 key from this itself.
                                "secret": "secret2",
                                "role": "user", "salt": "salt123", "iterations": 100, "keylen": 16},
                        }},
                        "scram": {"type": "static", "principals": {"carol": scram_carol}},
                        "cryptosign": {"type": "static", "principals": {
                            "alice": {"realm": "realm1", "role": "user", "authorized_keys": [pubkey]}}},
                    },
                },
            ],
        }],
    }
    with open(os.path.join(cbdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"ws={ws} rs={rs} auth={authp} unix={os.path.join(os.path.abspath(cbdir), 'router.sock')}"
          + (f" wss={wss} rss={rss}" if tls else ""))


if __name__ == "__main__":
    main()
