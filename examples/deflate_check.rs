//! Checks permessage-deflate against any echo server: offers it (optionally asking for no
//! context takeover and a window size), sends text and binary messages of 1 B to 1 MiB,
//! compressible and not, and compares every echo.
//!
//! `cargo run --release --example deflate_check -- ws://127.0.0.1:9001 [--no-context-takeover] [--window-bits N]`

use ferrobahn::{ClientBuilder, DeflateOffer, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    let no_context = args.iter().any(|a| a == "--no-context-takeover");
    let bits = args
        .iter()
        .position(|a| a == "--window-bits")
        .map_or(Ok(0), |i| args[i + 1].parse())?;
    let offer = DeflateOffer {
        request_no_context_takeover: no_context,
        request_max_window_bits: bits,
        ..Default::default()
    };
    let mut ws = ClientBuilder::new(url).deflate(offer).connect()?;
    let agreed = *ws.deflate().ok_or("permessage-deflate was not accepted")?;
    println!("agreed: {agreed:?}");

    let mut x = 0x2545_F491u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let (mut passed, mut failed) = (0, 0);
    for n in [1usize, 100, 1024, 65536, 1 << 20] {
        let json: String = "{\"id\": 1, \"name\": \"sensor\", \"values\": [1, 2, 3]}, "
            .chars()
            .cycle()
            .take(n)
            .collect();
        let letters: String = (0..n)
            .map(|_| (b'a' + (next() % 26) as u8) as char)
            .collect();
        let random: Vec<u8> = (0..n).map(|_| next() as u8).collect();
        for msg in [
            Message::text(json),
            Message::text(letters),
            Message::binary(random),
        ] {
            ws.send(msg.clone())?;
            if ws.read()? == msg {
                passed += 1;
            } else {
                failed += 1;
                println!("mismatch on a {n}-byte message");
            }
        }
    }
    ws.close(None)?;
    let _ = ws.read();
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
