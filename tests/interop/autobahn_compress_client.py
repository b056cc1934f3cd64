"""Autobahn|Python (Twisted) per-message compression client, for interop tests.

    python autobahn_compress_client.py ws://127.0.0.1:PORT [--method M] [--no-context-takeover]
        [--window-bits N] [--level N] [--expect-client-no-context-takeover] [--version 8]

Offers one method (`--method`: deflate (default), brotli, bzip2, snappy) the way Autobahn's
classes do: PerMessageDeflateOffer(accept_no_context_takeover=True, accept_max_window_bits=True,
request_no_context_takeover=..., request_max_window_bits=N); PerMessageBrotliOffer /
PerMessageSnappyOffer(accept_no_context_takeover=True, request_no_context_takeover=...);
PerMessageBzip2Offer(accept_max_compress_level=True, request_max_compress_level=--level).
Checks the server accepted it and honoured the requests (and, with
--expect-client-no-context-takeover, asked us not to keep context either), sends the message set of common.py (text and binary, 1 B .. 1 MiB,
compressible and not) one at a time, and compares every echo. `--version 8` speaks hybi-10
(`Sec-WebSocket-Version: 8`, the origin in `Sec-WebSocket-Origin`). Prints the agreed parameters
and `N passed, M failed`; exits with 1 on any failure.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from autobahn.twisted.websocket import (WebSocketClientFactory,  # noqa: E402
                                        WebSocketClientProtocol, connectWS)
from autobahn.websocket.protocol import WebSocketProtocol  # noqa: E402
from autobahn.websocket import compress  # noqa: E402
from twisted.internet import reactor  # noqa: E402

from common import MAX_MESSAGE, messages  # noqa: E402

TIMEOUT = 120


class Result:
    passed = 0
    failed = 0
    error = None
    finished = False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--no-context-takeover", action="store_true")
    ap.add_argument("--window-bits", type=int, default=0, choices=[0] + list(range(9, 16)))
    ap.add_argument("--version", type=int, default=13, choices=[8, 13])
    ap.add_argument("--method", default="deflate", choices=["deflate", "brotli", "bzip2", "snappy"])
    ap.add_argument("--level", type=int, default=0, choices=range(0, 10))
    ap.add_argument("--expect-client-no-context-takeover", action="store_true")
    args = ap.parse_args()
    cls = {"deflate": "Deflate", "brotli": "Brotli", "bzip2": "Bzip2", "snappy": "Snappy"}[args.method]
    Offer = getattr(compress, f"PerMessage{cls}Offer")
    Response = getattr(compress, f"PerMessage{cls}Response")
    ResponseAccept = getattr(compress, f"PerMessage{cls}ResponseAccept")

    todo = messages()
    total = len(todo)
    result = Result()

    def accept_response(response):
        """Accept the server's answer only when it honours what we asked for."""
        if not isinstance(response, Response):
            result.error = f"unexpected extension response {response!r}"
            return None
        takeover = args.method != "bzip2"
        if takeover and args.no_context_takeover and not response.server_no_context_takeover:
            result.error = f"server_no_context_takeover requested, not granted: {response!r}"
            return None
        if (takeover and args.expect_client_no_context_takeover
                and not response.client_no_context_takeover):
            result.error = f"the server did not ask for client_no_context_takeover: {response!r}"
            return None
        if args.level and response.server_max_compress_level != args.level:
            result.error = f"server_max_compress_level={args.level} requested, not echoed: {response!r}"
            return None
        if args.window_bits and not 9 <= response.server_max_window_bits <= args.window_bits:
            result.error = (f"server_max_window_bits<={args.window_bits} requested, "
                            f"not granted: {response!r}")
            return None
        return ResponseAccept(response)

    class Checker(WebSocketClientProtocol):
        def onOpen(self):
            if self._perMessageCompress is None:
                result.error = f"the server did not accept permessage-{args.method}"
                self.sendClose(1000)
                return
            # Autobahn's `version` is the hybi draft; the header carries its protocol version.
            spoke = WebSocketProtocol.SPEC_TO_PROTOCOL_VERSION[self.version]
            print(f"agreed: {self._perMessageCompress}, Sec-WebSocket-Version {spoke}", flush=True)
            if spoke != args.version:
                result.error = f"spoke version {spoke}, not {args.version}"
            self.start = time.monotonic()
            self.pending = list(todo)
            self.send_next()

        def send_next(self):
            if not self.pending:
                print(f"messages took {time.monotonic() - self.start:.2f} s", flush=True)
                st = self.trafficStats
                print(f"sent {st.outgoingOctetsAppLevel} bytes as {st.outgoingOctetsWebSocketLevel}"
                      f" compressed; received {st.incomingOctetsWebSocketLevel} compressed"
                      f" bytes as {st.incomingOctetsAppLevel}", flush=True)
                # Half the payload bytes are JSON-like: a compressing server sends far less.
                if st.incomingOctetsWebSocketLevel >= st.incomingOctetsAppLevel:
                    result.error = "the server's messages were not compressed"
                result.finished = True
                self.sendClose(1000)
                return
            _, is_binary, payload = self.pending[0]
            self.sendMessage(payload, is_binary)

        def onMessage(self, payload, is_binary):
            name, sent_binary, sent = self.pending.pop(0)
            if is_binary == sent_binary and payload == sent:
                result.passed += 1
            else:
                result.failed += 1
                print(f"FAIL {name}: sent {len(sent)} bytes (binary={sent_binary}), "
                      f"got {len(payload)} bytes (binary={is_binary})", flush=True)
            self.send_next()

        def onClose(self, was_clean, code, reason):
            if not result.finished and result.error is None:
                result.error = f"connection closed early: code={code} reason={reason!r}"
            if reactor.running:
                reactor.stop()

    if args.method == "deflate":
        offer = Offer(accept_no_context_takeover=True,
                      accept_max_window_bits=True,
                      request_no_context_takeover=args.no_context_takeover,
                      request_max_window_bits=args.window_bits)
    elif args.method == "bzip2":
        offer = Offer(accept_max_compress_level=True, request_max_compress_level=args.level)
    else:
        offer = Offer(accept_no_context_takeover=True,
                      request_no_context_takeover=args.no_context_takeover)
    class Factory(WebSocketClientFactory):
        def clientConnectionFailed(self, connector, reason):
            result.error = f"cannot connect: {reason.getErrorMessage()}"
            if reactor.running:
                reactor.stop()

    factory = Factory(args.url, origin="http://127.0.0.1")
    factory.protocol = Checker
    factory.setProtocolOptions(perMessageCompressionOffers=[offer],
                               perMessageCompressionAccept=accept_response,
                               maxMessagePayloadSize=MAX_MESSAGE,
                               maxFramePayloadSize=MAX_MESSAGE,
                               # hybi-10 (version 8) or RFC 6455 (the final draft, 18).
                               version=10 if args.version == 8 else 18)
    print(f"offer: {offer.get_extension_string()}", flush=True)

    def timeout():
        result.error = f"timed out after {TIMEOUT} s"
        reactor.stop()

    reactor.callLater(TIMEOUT, timeout)
    connectWS(factory)
    reactor.run()

    if result.error is not None:
        print(f"error: {result.error}")
        result.failed = total - result.passed
    print(f"{result.passed} passed, {result.failed} failed")
    sys.exit(1 if result.failed or result.error else 0)


if __name__ == "__main__":
    main()
