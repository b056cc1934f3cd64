"""Autobahn|Python (Twisted) WebSocket echo server with permessage-deflate, for interop tests.

    python autobahn_echo_server.py [--client-window-bits N]

Listens on 127.0.0.1 on a free port and prints `listening on 127.0.0.1:PORT`. Accepts the
client's first permessage-deflate offer as it is, honouring its requests (no context takeover,
window bits for the server's direction); with --client-window-bits N it also asks the client
to compress with at most a 2^N-byte window (when the client offered client_max_window_bits).
Messages up to 4 MiB. Runs until SIGTERM/SIGINT.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol  # noqa: E402
from autobahn.websocket.compress import (PerMessageDeflateOffer,  # noqa: E402
                                         PerMessageDeflateOfferAccept)
from twisted.internet import reactor  # noqa: E402

from common import MAX_MESSAGE  # noqa: E402


class Echo(WebSocketServerProtocol):
    def onOpen(self):
        print(f"open {self.peer}: {self._perMessageCompress}", flush=True)

    def onMessage(self, payload, is_binary):
        self.sendMessage(payload, is_binary)

    def onClose(self, was_clean, code, reason):
        st = self.trafficStats
        print(f"close {self.peer}: code={code} received {st.incomingOctetsWebSocketLevel}"
              f" compressed bytes as {st.incomingOctetsAppLevel}; sent"
              f" {st.outgoingOctetsAppLevel} bytes as {st.outgoingOctetsWebSocketLevel}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client-window-bits", type=int, default=0, choices=[0] + list(range(9, 16)))
    args = ap.parse_args()

    def accept(offers):
        for offer in offers:
            if isinstance(offer, PerMessageDeflateOffer):
                if args.client_window_bits and offer.accept_max_window_bits:
                    return PerMessageDeflateOfferAccept(
                        offer, request_max_window_bits=args.client_window_bits)
                return PerMessageDeflateOfferAccept(offer)
        return None

    factory = WebSocketServerFactory("ws://127.0.0.1")
    factory.protocol = Echo
    factory.setProtocolOptions(perMessageCompressionAccept=accept,
                               maxMessagePayloadSize=MAX_MESSAGE,
                               maxFramePayloadSize=MAX_MESSAGE)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    print(f"listening on 127.0.0.1:{port.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
