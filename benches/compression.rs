//! Every per-message compression method side by side, in one run: echo round trips over
//! loopback (ferrobahn client and server, one connection, one message in flight, so each
//! round trip compresses and decompresses the message twice) on JSON-like text and on random
//! bytes of 1 KiB and 64 KiB, each message a different slice of 4 MiB of such data (so a
//! method that keeps context between messages gains only what real traffic would); messages/s, payload MB/s one way, and the compression ratio on
//! the wire (application bytes / WebSocket payload bytes, from the connection's counters).
//!
//! `cargo bench --bench compression` (`-- --quick` for short runs).

use std::thread;
use std::time::{Duration, Instant};

use ferrobahn::compress::TakeoverOffer;
use ferrobahn::compress::{bzip2::Bzip2Accept, bzip2::Bzip2Offer, BrotliAccept, TakeoverAccept};
use ferrobahn::{ClientBuilder, DeflateAccept, DeflateOffer, Message, Offer, Server, ServerConfig};

/// The same JSON-like records as the deflate bench.
fn json_like(len: usize) -> Vec<u8> {
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
    s.into_bytes()
}

fn random(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// (label, client offer, server config accepting it).
fn methods() -> Vec<(&'static str, Offer, ServerConfig)> {
    let deflate = |level| ServerConfig {
        deflate: Some(DeflateAccept {
            level,
            ..Default::default()
        }),
        ..Default::default()
    };
    let brotli = |quality| ServerConfig {
        brotli: Some(BrotliAccept {
            quality,
            ..Default::default()
        }),
        ..Default::default()
    };
    let takeover = TakeoverOffer::default();
    vec![
        (
            "deflate level 1",
            Offer::Deflate(DeflateOffer {
                level: 1,
                ..Default::default()
            }),
            deflate(1),
        ),
        (
            "deflate level 6",
            Offer::Deflate(DeflateOffer {
                level: 6,
                ..Default::default()
            }),
            deflate(6),
        ),
        (
            "brotli quality 5 (ours)",
            Offer::Brotli {
                offer: takeover,
                quality: 5,
            },
            brotli(5),
        ),
        (
            "brotli quality 11 (Autobahn's)",
            Offer::Brotli {
                offer: takeover,
                quality: 11,
            },
            brotli(11),
        ),
        (
            "bzip2 level 9",
            Offer::Bzip2(Bzip2Offer::default()),
            ServerConfig {
                bzip2: Some(Bzip2Accept::default()),
                ..Default::default()
            },
        ),
        (
            "snappy",
            Offer::Snappy(takeover),
            ServerConfig {
                snappy: Some(TakeoverAccept::default()),
                ..Default::default()
            },
        ),
    ]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let duration = Duration::from_millis(if quick { 300 } else { 1500 });
    println!("| method | payload | size | msgs/s | payload MB/s | ratio |");
    println!("|---|---|---:|---:|---:|---:|");
    for (label, offer, config) in methods() {
        let server = Server::bind("127.0.0.1:0", config).unwrap();
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
        for (kind, make) in [
            ("JSON-like", json_like as fn(usize) -> Vec<u8>),
            ("random", random),
        ] {
            let data = make(4 << 20);
            for size in [1024usize, 65536] {
                let messages: Vec<&[u8]> = data.chunks_exact(size).collect();
                let mut ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
                    .offer(offer)
                    .connect()
                    .unwrap();
                assert_eq!(
                    ws.compression().map(|c| c.method()),
                    Some(offer.method()),
                    "{label} not agreed"
                );
                let writer = ws.writer();
                let mut n = 0u64;
                let t0 = Instant::now();
                while t0.elapsed() < duration {
                    writer
                        .write_binary(messages[n as usize % messages.len()])
                        .unwrap();
                    writer.flush().unwrap();
                    match ws.read().unwrap() {
                        Message::Binary(b) => assert_eq!(b.len(), size),
                        other => panic!("{other:?}"),
                    }
                    n += 1;
                }
                let dt = t0.elapsed().as_secs_f64();
                let st = ws.stats();
                let _ = ws.close(None);
                let _ = ws.read();
                println!(
                    "| {label} | {kind} | {size} | {:.0} | {:.1} | {:.2} |",
                    n as f64 / dt,
                    n as f64 * size as f64 / dt / 1e6,
                    st.outgoing_octets_app as f64 / st.outgoing_octets_websocket as f64
                );
            }
        }
    }
}
