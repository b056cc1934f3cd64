//! Compressed echo round trips (permessage-deflate, RFC 7692) over loopback: JSON-like text of
//! 1 KiB, 64 KiB and 1 MiB, with context takeover on and off; messages/s and MB/s of payload
//! (one way), plus the compression ratio on the wire. Client and server are ferrobahn, one
//! connection, one message in flight.
//!
//! `cargo bench --bench deflate_echo` (`-- --quick` for short runs).

use std::thread;
use std::time::{Duration, Instant};

use ferrobahn::{ClientBuilder, DeflateAccept, DeflateOffer, Message, Server, ServerConfig};

fn json_like(len: usize) -> String {
    let mut s = String::with_capacity(len + 128);
    let mut i = 0u64;
    while s.len() < len {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push_str(&format!(
            "{{\"id\":{},\"name\":\"sensor-{}\",\"value\":{}.{},\"tags\":[\"a\",\"b{}\"]}},",
            i % 100_000,
            i % 97,
            i % 1000,
            i % 10,
            i % 13
        ));
    }
    s.truncate(len);
    s
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let duration = Duration::from_millis(if quick { 500 } else { 2000 });
    println!(
        "| size | context takeover | msgs/s | payload MB/s | wire bytes per message | ratio |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for no_ctx in [false, true] {
        let policy = DeflateAccept {
            no_context_takeover: no_ctx,
            request_no_context_takeover: no_ctx,
            ..Default::default()
        };
        let server = Server::bind(
            "127.0.0.1:0",
            ServerConfig {
                deflate: Some(policy),
                ..Default::default()
            },
        )
        .unwrap();
        let port = server.local_addr().unwrap().port();
        thread::spawn(move || {
            server.serve(|mut ws| {
                while let Ok(m) = ws.read() {
                    if m.is_data() && ws.write(m).is_err() {
                        return;
                    }
                }
            })
        });
        for size in [1024usize, 65536, 1 << 20] {
            let payload = json_like(size);
            let mut ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
                .deflate(DeflateOffer {
                    request_no_context_takeover: no_ctx,
                    ..Default::default()
                })
                .connect()
                .unwrap();
            let writer = ws.writer();
            let mut n = 0u64;
            let t0 = Instant::now();
            while t0.elapsed() < duration {
                writer.write_text(&payload).unwrap();
                writer.flush().unwrap();
                match ws.read().unwrap() {
                    Message::Text(t) => assert_eq!(t.len(), size),
                    other => panic!("{other:?}"),
                }
                n += 1;
            }
            let dt = t0.elapsed().as_secs_f64();
            // One more message to read the wire size of a compressed copy.
            let mut codec =
                ferrobahn::core::deflate::DeflateCodec::new(*ws.deflate().unwrap(), true, 1);
            let mut wire = Vec::new();
            codec.compress(payload.as_bytes(), &mut wire);
            let _ = ws.close(None);
            let _ = ws.read();
            println!(
                "| {size} | {} | {:.0} | {:.1} | {} | {:.2} |",
                if no_ctx { "off" } else { "on" },
                n as f64 / dt,
                n as f64 * size as f64 / dt / 1e6,
                wire.len(),
                size as f64 / wire.len() as f64
            );
        }
    }
}
