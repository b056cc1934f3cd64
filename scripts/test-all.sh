#!/usr/bin/env bash
# Runs every test of ferrobahn, stopping at the first failing step:
#   1. cargo fmt --check          4. no_std build of ferrobahn-core for thumbv7em-none-eabihf
#   2. cargo clippy -D warnings   5. release build of the examples and the ferrobahn command
#   3. cargo test                 6. Autobahn TestSuite, server and client roles
#                                 7. compression interop (deflate, brotli, bzip2, snappy)
#                                 8. WAMP message compatibility with Autobahn|Python
#                                 9. wss:// with Autobahn|Python + TestSuite 1-10 over TLS
#                                10. HTTP CONNECT proxy (proxy.py)
#                                11. WAMP client against Crossbar.io
#                                12. Autobahn|Python sessions on our embedded router
#                                13. Autobahn|JS (Node) and Chromium on our router
#                                14. the no-heap firmware in QEMU (Cortex-M4) on our router
# Needs: the Rust toolchain (via rustup, for the thumbv7em target), gcc, Python 3.11; Node.js
# and Chromium (step 13) and qemu-system-arm (step 14) come from Debian's packages when
# missing (as root, or with sudo).
# Usage: scripts/test-all.sh        (CI runs it through .ci/run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

EMBEDDED_TARGET=thumbv7em-none-eabihf
TOTAL_STEPS=14
step_no=0
step_name=""
step_start=$SECONDS
all_start=$SECONDS

step_done() {
    if ((step_no > 0)); then
        printf '==> step %d/%d passed: %s (%d s)\n' "$step_no" "$TOTAL_STEPS" "$step_name" $((SECONDS - step_start))
    fi
}
step() {
    step_done
    step_no=$((step_no + 1))
    step_name="$*"
    step_start=$SECONDS
    printf '\n'
    printf '=%.0s' {1..88}
    printf '\n==> step %d/%d: %s\n' "$step_no" "$TOTAL_STEPS" "$step_name"
    printf '=%.0s' {1..88}
    printf '\n'
}
on_exit() {
    local rc=$?
    if ((rc != 0)); then
        printf '\n==> FAILED at step %d/%d: %s (exit status %d)\n' "$step_no" "$TOTAL_STEPS" "$step_name" "$rc" >&2
    fi
}
trap on_exit EXIT

step "formatting: cargo fmt --all -- --check"
cargo fmt --all -- --check

step "lints: cargo clippy --workspace --all-targets -- -D warnings (and the core with one serializer each)"
cargo clippy --workspace --all-targets -- -D warnings
for features in json msgpack cbor ubjson; do
    cargo clippy -p ferrobahn-core --no-default-features --features "$features" -- -D warnings
done

step "unit and integration tests: cargo test --workspace"
cargo test --workspace

step "no_std: ferrobahn-core for $EMBEDDED_TARGET (no features, alloc, alloc+deflate, WAMP json+cbor+auth without alloc, everything)"
if ! command -v rustup >/dev/null 2>&1; then
    echo "rustup not found: it is needed to install the $EMBEDDED_TARGET standard library" >&2
    exit 1
fi
installed_targets="$(rustup target list --installed)"
if ! grep -qx "$EMBEDDED_TARGET" <<<"$installed_targets"; then
    rustup target add "$EMBEDDED_TARGET"
fi
cargo build -p ferrobahn-core --target "$EMBEDDED_TARGET" --no-default-features
cargo build -p ferrobahn-core --target "$EMBEDDED_TARGET" --no-default-features --features alloc
cargo build -p ferrobahn-core --target "$EMBEDDED_TARGET" --no-default-features --features alloc,deflate
cargo build -p ferrobahn-core --target "$EMBEDDED_TARGET" --no-default-features --features json,cbor,auth-cra,auth-cryptosign
cargo build -p ferrobahn-core --target "$EMBEDDED_TARGET" --no-default-features --features alloc,deflate,wamp-all,wamp-auth
cargo build -p ferrobahn-wamp-device --target "$EMBEDDED_TARGET" --no-default-features --features json,cbor
scripts/embedded-size.sh

step "examples and the ferrobahn command: cargo build --release --bins --examples"
cargo build --release --bins --examples

step "Autobahn TestSuite: scripts/autobahn.sh (server and client roles)"
venv="$(scripts/venv.sh)"
echo "kosoku venv: $venv"
AUTOBAHN_VENV="$venv" scripts/autobahn.sh
step "per-message compression interop (deflate, brotli, bzip2, snappy) with Autobahn|Python: scripts/interop.sh"
AUTOBAHN_VENV="$venv" scripts/interop.sh
step "WAMP messages with Autobahn|Python, every type x serializer: scripts/wamp-compat.sh"
scripts/wamp-compat.sh
step "wss:// interop with Autobahn|Python and the TestSuite over TLS: scripts/tls-interop.sh"
AUTOBAHN_VENV="$venv" scripts/tls-interop.sh
step "HTTP CONNECT proxy with proxy.py: scripts/proxy.sh"
AUTOBAHN_VENV="$venv" scripts/proxy.sh
step "WAMP client against Crossbar.io (every serializer, WebSocket and RawSocket, auth): scripts/crossbar.sh"
scripts/crossbar.sh
step "embedded router with Autobahn|Python sessions (every serializer, WebSocket and RawSocket): scripts/router-interop.sh"
AUTOBAHN_VENV="$venv" scripts/router-interop.sh
step "Autobahn|JS in Node and in headless Chromium on our router: scripts/router-js.sh"
scripts/router-js.sh
step "the no-heap WAMP firmware in QEMU (mps2-an386) on our router, with our client and Autobahn|Python: scripts/firmware-qemu.sh"
AUTOBAHN_VENV="$venv" scripts/firmware-qemu.sh

step_done
printf '\n==> all %d steps passed (%d s)\n' "$TOTAL_STEPS" $((SECONDS - all_start))
