#!/usr/bin/env bash
# WAMP message compatibility with Autobahn|Python, both directions, every message type ×
# serializer (json, msgpack, cbor, ubjson/bjdata; plain and batched; flatbuffers, plain):
#   1. Autobahn|Python builds and serializes the messages (tests/wamp_compat/autobahn_messages.py)
#   2. ferrobahn decodes each file and writes it back, and as JSON (examples/wamp_recode.rs)
#   3. Autobahn|Python reads our bytes and compares every message with its original.
# Builds the example itself; the venv comes from scripts/venv.sh. Exit 0 when all match.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv="$(scripts/venv.sh)"
out="$(mktemp -d "${TMPDIR:-/tmp}/ferrobahn-wamp-compat.XXXXXX")"
trap 'rm -rf "$out"' EXIT
"$venv/bin/python" tests/wamp_compat/autobahn_messages.py generate "$out"
cargo run --quiet --release --example wamp_recode -- "$out"
"$venv/bin/python" tests/wamp_compat/autobahn_messages.py verify "$out"
