#!/usr/bin/env bash
# Builds the no-heap WAMP device program (embedded/wamp-device) as a Cortex-M4 image
# (embedded/size-probe, release, LTO, opt-level "s") with JSON and with CBOR, and prints its
# flash (.vector_table + .text + .rodata + .data) and static RAM (.data + .bss); the 2 KiB of
# buffers are on the stack. Needs the thumbv7em-none-eabihf target (rustup) and GNU `size`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../embedded/size-probe"
elf=target/thumbv7em-none-eabihf/release/ferrobahn-size-probe
for ser in json cbor; do
    cargo build --release --quiet --no-default-features --features "$ser"
    size -A "$elf" | awk -v ser="$ser" '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 == ".bss" { ram += $2 }
        $1 == ".text" { text = $2 } $1 == ".rodata" { rodata = $2 }
        END { printf "embedded-size: %-4s flash %6d bytes (.text %d, .rodata %d), static RAM %d bytes\n", ser, flash, text, rodata, ram }'
done
