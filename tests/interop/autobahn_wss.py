"""Autobahn|Python (asyncio) over TLS from Python's `ssl` module, for the wss:// interop.

    python autobahn_wss.py server CERT_DIR
        Echo server on 127.0.0.1, free port, certificate CERT_DIR/server.pem + server.key
        (tests/interop/make_certs.py); prints `listening on 127.0.0.1:PORT`; runs until
        SIGTERM/SIGINT. Each connection's TLS version and cipher are printed.

    python autobahn_wss.py client URL CA.pem
        Connects to URL (wss://localhost:PORT/) trusting CA.pem, sends the interop message
        set (tests/interop/common.py), checks every echo, closes; exit status 0 when all
        matched.
"""
import asyncio
import os
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from autobahn.asyncio.websocket import (WebSocketClientFactory,  # noqa: E402
                                        WebSocketClientProtocol,
                                        WebSocketServerFactory,
                                        WebSocketServerProtocol)

from common import MAX_MESSAGE, messages  # noqa: E402


class Echo(WebSocketServerProtocol):
    def onOpen(self):
        tls = self.transport.get_extra_info("ssl_object")
        print(f"open {self.peer}: {tls.version()} {tls.cipher()[0]}", flush=True)

    def onMessage(self, payload, is_binary):
        self.sendMessage(payload, is_binary)


async def serve(cert_dir):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(cert_dir, "server.pem"), os.path.join(cert_dir, "server.key"))
    factory = WebSocketServerFactory("wss://localhost")
    factory.protocol = Echo
    factory.setProtocolOptions(maxMessagePayloadSize=MAX_MESSAGE, maxFramePayloadSize=MAX_MESSAGE)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


class Check(WebSocketClientProtocol):
    def onOpen(self):
        self.todo = list(messages())
        self.failed = 0
        self.send_next()

    def send_next(self):
        if not self.todo:
            self.sendClose(1000)
            return
        self.current = self.todo.pop(0)
        name, is_binary, payload = self.current
        self.sendMessage(payload, is_binary)

    def onMessage(self, payload, is_binary):
        name, want_binary, want = self.current
        if payload != want or is_binary != want_binary:
            print(f"FAIL {name}: echo differs", flush=True)
            self.failed += 1
        self.send_next()

    def onClose(self, was_clean, code, reason):
        self.factory.done.set_result((was_clean, code, self.failed if hasattr(self, "failed") else -1))


async def check(url, ca):
    ctx = ssl.create_default_context(cafile=ca)
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url)
    factory.protocol = Check
    factory.setProtocolOptions(maxMessagePayloadSize=MAX_MESSAGE, maxFramePayloadSize=MAX_MESSAGE)
    factory.done = loop.create_future()
    host, port = factory.host, factory.port
    await loop.create_connection(factory, host, port, ssl=ctx, server_hostname=host)
    was_clean, code, failed = await asyncio.wait_for(factory.done, 120)
    n = len(messages())
    print(f"autobahn wss client: {n - failed}/{n} echoes matched, close {code} clean={was_clean}",
          flush=True)
    return 0 if failed == 0 and was_clean and code == 1000 else 1


def main():
    if sys.argv[1:2] == ["server"]:
        asyncio.run(serve(sys.argv[2]))
    elif sys.argv[1:2] == ["client"]:
        sys.exit(asyncio.run(check(sys.argv[2], sys.argv[3])))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
