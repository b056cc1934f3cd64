#!/usr/bin/env python3
"""Writes the seed inputs in seeds/<target>/ (valid frames, requests and responses that
the fuzzer would take long to find by itself). Run from fuzz/: python3 make_seeds.py"""
import base64
import hashlib
import os
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def header(fin, op, length, key=None, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mask = 0x80 if key else 0
    if length < 126:
        h = bytes([b0, mask | length])
    elif length <= 0xFFFF:
        h = bytes([b0, mask | 126]) + struct.pack(">H", length)
    else:
        h = bytes([b0, mask | 127]) + struct.pack(">Q", length)
    return h + (bytes(key) if key else b"")


def frame(fin, op, payload, key=None):
    body = bytes(payload)
    if key:
        body = bytes(b ^ key[i % 4] for i, b in enumerate(body))
    return header(fin, op, len(body), key) + body


K = [0x37, 0xFA, 0x21, 0x3D]


def stream(key):
    """A conversation: text, fragmented text with a ping between fragments, binary
    of 200 bytes (16-bit length), pong, close with code and reason."""
    return b"".join([
        frame(True, 1, "Hello, κόσμε".encode(), key),
        frame(False, 1, b"frag", key),
        frame(True, 9, b"ping!", key),
        frame(True, 0, "ment é".encode(), key),
        frame(True, 2, bytes(range(200)), key),
        frame(True, 10, b"", key),
        frame(True, 8, struct.pack(">H", 1000) + b"bye", key),
    ])


def write(target, name, data):
    d = os.path.join("seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # frame_header: each length form, masked and not, control frames.
    for name, h in {
        "text5": header(True, 1, 5),
        "masked_binary126": header(True, 2, 300, K),
        "len64": header(False, 2, 1 << 40, K),
        "nonminimal16": bytes([0x82, 126, 0, 5]),
        "nonminimal64": bytes([0x82, 127, 0, 0, 0, 0, 0, 0, 1, 0]),
        "ping": header(True, 9, 125, K),
        "close_rsv": header(True, 8, 2, rsv=0b100),
    }.items():
        write("frame_header", name, h)

    # decoder / connection: config byte, k byte, k sizes, stream.
    # decoder cfg: bit0 server, bit1 relaxed masking, bits2.. * 8 = max_message_payload.
    write("decoder", "server_masked", bytes([0x01 | (63 << 2), 2, 6, 0]) + stream(K))
    write("decoder", "client_unmasked", bytes([0x00 | (63 << 2), 0, 255]) + stream(None))
    write("decoder", "server_small_limit", bytes([0x01 | (4 << 2), 1, 2]) + stream(K))
    write("decoder", "bytewise", bytes([0x01 | (63 << 2), 0, 0]) + stream(K))
    # connection cfg: bit0 auto_pong, bit1 echo, bit2 unmasked ok, bits3.. * 16 = max message.
    write("connection", "masked", bytes([0x03 | (31 << 3), 2, 6, 0]) + stream(K))
    write("connection", "unmasked_ok", bytes([0x07 | (31 << 3), 0, 255]) + stream(None))
    write("connection", "unmasked_refused", bytes([0x03 | (31 << 3), 0, 255]) + stream(None))
    write("connection", "bytewise", bytes([0x01 | (31 << 3), 0, 0]) + stream(K))

    # utf8_stream: k, k piece lengths, text.
    write("utf8_stream", "mixed", bytes([3, 1, 2, 3]) + "aé€𐍈κόσμε".encode())
    write("utf8_stream", "surrogate", bytes([1, 1]) + b"\xce\xba\xed\xa0\x80")
    write("utf8_stream", "above_max", bytes([2, 3, 1]) + b"ok \xf4\x90\x80\x80")
    write("utf8_stream", "overlong", bytes([0]) + b"\xc0\xaf\xe0\x80\xaf")

    # handshake_request.
    write("handshake_request", "rfc", (
        b"GET /chat?x=1 HTTP/1.1\r\n"
        b"Host: server.example.com\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: keep-alive, Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Origin: https://app.example.com\r\n"
        b"Sec-WebSocket-Protocol: wamp.2.json, wamp.2.cbor\r\n"
        b"Sec-WebSocket-Protocol: chat\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; "
        b"server_max_window_bits=\"10\", x-foo\r\n"
        b"Sec-WebSocket-Extensions: x-bar; a=1\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    ))
    write("handshake_request", "null_origin", (
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
        b"Sec-WebSocket-Key: BwcHBwcHBwcHBwcHBwcHBw==\r\nSec-WebSocket-Version: 13\r\n"
        b"Origin: null\r\n\r\n\x81\x00"
    ))

    # handshake_response: the fuzz target's requests use the key of 16 bytes of 7.
    key = base64.b64encode(bytes([7] * 16))
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    base = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n")
    write("handshake_response", "plain", base + b"\r\n")
    write("handshake_response", "protocol_ext", base + b"Sec-WebSocket-Protocol: wamp.2.cbor\r\n"
          b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n\x81\x02hi")
    write("handshake_response", "not101", b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    print("accept for the 7s key:", accept.decode())


if __name__ == "__main__":
    main()
