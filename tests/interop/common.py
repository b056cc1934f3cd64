"""The message set both interop directions send: sizes 1 B .. 1 MiB, for each size text and
binary, compressible (JSON-like records) and incompressible (random bytes; random ASCII
letters for text). The Rust side (examples/compress_check.rs) sends the same kinds and sizes."""
import random

SIZES = [1, 100, 1024, 64 * 1024, 1 << 20]
LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Maps every byte value to a letter (a slight bias towards the first letters is harmless).
TO_LETTERS = bytes(LETTERS[b % len(LETTERS)] for b in range(256))

# The largest message a peer accepts: 1 MiB messages must pass, with room to spare.
MAX_MESSAGE = 4 << 20


def json_like(n, rnd):
    parts, size, i = [], 0, 0
    while size < n:
        i += 1
        rec = (f'{{"id": {i}, "name": "sensor-{rnd.randrange(64)}", "ok": true, '
               f'"values": [{rnd.randrange(1000)}, {rnd.randrange(1000)}, {rnd.randrange(1000)}]}},\n')
        parts.append(rec)
        size += len(rec)
    return "".join(parts).encode()[:n]


def messages(seed=7):
    """[(name, is_binary, payload bytes)], 4 per size."""
    rnd = random.Random(seed)
    out = []
    for n in SIZES:
        out.append((f"text/json/{n}", False, json_like(n, rnd)))
        out.append((f"text/random/{n}", False, rnd.randbytes(n).translate(TO_LETTERS)))
        out.append((f"binary/json/{n}", True, json_like(n, rnd)))
        out.append((f"binary/random/{n}", True, rnd.randbytes(n)))
    return out
