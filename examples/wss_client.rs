//! A `wss://` client: connects, sends text and binary messages of 0 B .. 1 MiB, checks
//! that each comes back unchanged from an echo server, and closes.
//!
//! `cargo run --release --example wss_client -- wss://localhost:9443/ [--ca CA.pem] [--proxy URL]`
//!
//! Without `--ca` the built-in Mozilla roots decide; `--ca` adds a root (e.g. a test CA).
//! Prints the TLS channel binding (RFC 9266 `tls-exporter`) and the traffic statistics.
//! Exits 1 when an echo differs.

use ferrobahn::{ClientBuilder, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: wss_client URL [--ca CA.pem] [--proxy URL]")?;
    let mut builder = ClientBuilder::new(url.clone());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ca" => {
                builder = builder.add_root_pem(std::fs::read(args.next().ok_or("--ca FILE")?)?)
            }
            "--proxy" => builder = builder.proxy(&args.next().ok_or("--proxy URL")?)?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut ws = builder.connect()?;
    let binding = ws
        .channel_binding()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>());
    println!(
        "connected to {url}; tls-exporter: {}",
        binding.as_deref().unwrap_or("none")
    );
    let mut failures = 0;
    for size in [0usize, 1, 125, 126, 65_535, 65_536, 1 << 20] {
        let text: String = (0..size)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let binary: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
        for msg in [Message::text(text), Message::binary(binary)] {
            ws.send(msg.clone())?;
            let back = ws.read()?;
            if back != msg {
                println!("FAIL: a {size}-byte message came back different");
                failures += 1;
            }
        }
    }
    ws.close(None)?;
    while ws.read().is_ok() {}
    let s = ws.stats();
    println!(
        "sent {} messages ({} bytes, {} on the wire), received {} ({} bytes)",
        s.outgoing_messages,
        s.outgoing_octets_app,
        s.outgoing_octets_wire,
        s.incoming_messages,
        s.incoming_octets_app
    );
    if failures > 0 {
        std::process::exit(1);
    }
    println!("all echoes matched");
    Ok(())
}
