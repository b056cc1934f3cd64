"""Autobahn|Python (Twisted) WebSocket echo server with per-message compression, for interop
tests.

    python autobahn_echo_server.py [--method M] [--client-window-bits N]
        [--client-no-context-takeover] [--client-level N]

Listens on 127.0.0.1 on a free port and prints `listening on 127.0.0.1:PORT`. Accepts the
client's first offer of method M (deflate by default; brotli, bzip2, snappy) as it is,
honouring its requests (no context takeover, window bits or compress level for the server's
direction); with --client-window-bits N (deflate) it also asks the client to compress with at
most a 2^N-byte window, with --client-no-context-takeover (brotli, snappy) not to keep
context, with --client-level N (bzip2) to compress at most at level N, when the client's
offer allows it.
Messages up to 4 MiB. Runs until SIGTERM/SIGINT.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol  # noqa: E402
from autobahn.websocket import compress  # noqa: E402
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
    ap.add_argument("--method", default="deflate", choices=["deflate", "brotli", "bzip2", "snappy"])
    ap.add_argument("--client-no-context-takeover", action="store_true")
    ap.add_argument("--client-level", type=int, default=0, choices=range(0, 10))
    args = ap.parse_args()
    cls = {"deflate": "Deflate", "brotli": "Brotli", "bzip2": "Bzip2", "snappy": "Snappy"}[args.method]
    Offer = getattr(compress, f"PerMessage{cls}Offer")
    OfferAccept = getattr(compress, f"PerMessage{cls}OfferAccept")

    def accept(offers):
        for offer in offers:
            if not isinstance(offer, Offer):
                continue
            if args.method == "deflate" and args.client_window_bits and offer.accept_max_window_bits:
                return OfferAccept(offer, request_max_window_bits=args.client_window_bits)
            if args.method == "bzip2" and args.client_level and offer.accept_max_compress_level:
                return OfferAccept(offer, request_max_compress_level=args.client_level)
            if (args.method in ("brotli", "snappy") and args.client_no_context_takeover
                    and offer.accept_no_context_takeover):
                return OfferAccept(offer, request_no_context_takeover=True)
            return OfferAccept(offer)
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
