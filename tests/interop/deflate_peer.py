"""Autobahn|Python (asyncio) as the permessage-deflate peer of ferrobahn.

  deflate_peer.py server [--client-window-bits N]
                                    echo server on 127.0.0.1:0, accepts permessage-deflate as
                                    offered (optionally limiting the client's window to N
                                    bits); prints `listening on 127.0.0.1:PORT`
  deflate_peer.py client URL [--no-context-takeover] [--window-bits N]
                                    offers permessage-deflate, sends text and binary messages
                                    of 1 B .. 1 MiB (compressible and incompressible), checks
                                    each echo; prints `N passed, M failed`, exit 1 on failure
"""
import asyncio
import os
import sys

from autobahn.asyncio.websocket import (WebSocketClientFactory, WebSocketClientProtocol,
                                        WebSocketServerFactory, WebSocketServerProtocol)
from autobahn.websocket.compress import (PerMessageDeflateOffer, PerMessageDeflateOfferAccept,
                                         PerMessageDeflateResponse,
                                         PerMessageDeflateResponseAccept)

SIZES = [1, 100, 1024, 65536, 1 << 20]


def payloads():
    """(is_binary, payload) pairs: compressible JSON-like and incompressible random data."""
    import random
    rnd = random.Random(7)
    for n in SIZES:
        text = ('{"id": 1, "name": "sensor", "values": [1, 2, 3]}, ' * (n // 40 + 1))[:n]
        yield False, text.encode()
        yield False, ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n)).encode()
        yield True, bytes(rnd.getrandbits(8) for _ in range(n)) if n <= 65536 else os.urandom(n)


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload, is_binary):
        self.sendMessage(payload, is_binary)


CLIENT_WINDOW_BITS = 0


def accept(offers):
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            if CLIENT_WINDOW_BITS and offer.accept_max_window_bits:
                return PerMessageDeflateOfferAccept(offer, request_max_window_bits=CLIENT_WINDOW_BITS)
            return PerMessageDeflateOfferAccept(offer)


async def serve():
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(perMessageCompressionAccept=accept, maxMessagePayloadSize=0,
                               maxFramePayloadSize=0)
    server = await asyncio.get_running_loop().create_server(factory, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    print(f'listening on 127.0.0.1:{port}', flush=True)
    await asyncio.Future()


class Checker(WebSocketClientProtocol):
    def onOpen(self):
        self.todo = list(payloads())
        self.passed = self.failed = 0
        if self._perMessageCompress is None:
            print('permessage-deflate was not accepted')
            self.factory.done.set_result(1)
            self.sendClose()
            return
        print('agreed:', self._perMessageCompress)
        self.next()

    def next(self):
        if not self.todo:
            print(f'{self.passed} passed, {self.failed} failed')
            self.factory.done.set_result(1 if self.failed else 0)
            self.sendClose(1000)
            return
        self.current = self.todo.pop(0)
        self.sendMessage(self.current[1], self.current[0])

    def onMessage(self, payload, is_binary):
        if (is_binary, payload) == self.current:
            self.passed += 1
        else:
            self.failed += 1
            print(f'mismatch: sent {len(self.current[1])} bytes, got {len(payload)}')
        self.next()

    def onClose(self, was_clean, code, reason):
        if not self.factory.done.done():
            print(f'closed early: {code} {reason}')
            self.factory.done.set_result(1)


async def check(url, no_context, bits):
    factory = WebSocketClientFactory(url)
    factory.protocol = Checker
    factory.done = asyncio.get_running_loop().create_future()
    offer = PerMessageDeflateOffer(accept_no_context_takeover=True, accept_max_window_bits=True,
                                   request_no_context_takeover=no_context,
                                   request_max_window_bits=bits)

    def accept_response(response):
        if isinstance(response, PerMessageDeflateResponse):
            return PerMessageDeflateResponseAccept(response)

    factory.setProtocolOptions(perMessageCompressionOffers=[offer],
                               perMessageCompressionAccept=accept_response,
                               maxMessagePayloadSize=0, maxFramePayloadSize=0)
    host, port = url.split('//')[1].split('/')[0].split(':')
    await asyncio.get_running_loop().create_connection(factory, host, int(port))
    return await asyncio.wait_for(factory.done, 120)


def main():
    if sys.argv[1] == 'server':
        global CLIENT_WINDOW_BITS
        if '--client-window-bits' in sys.argv:
            CLIENT_WINDOW_BITS = int(sys.argv[sys.argv.index('--client-window-bits') + 1])
        asyncio.run(serve())
        return
    args = sys.argv[2:]
    url = args[0]
    no_context = '--no-context-takeover' in args
    bits = int(args[args.index('--window-bits') + 1]) if '--window-bits' in args else 0
    sys.exit(asyncio.run(check(url, no_context, bits)))


if __name__ == '__main__':
    main()
