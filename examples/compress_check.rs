//! Checks per-message compression against any echo server.
//!
//! `cargo run --release --example compress_check -- ws://127.0.0.1:PORT [--method M]
//!  [--no-context-takeover] [--window-bits N] [--level N] [--expect-client-no-context-takeover]`
//!
//! Connects offering one method (`--method`: deflate (default), brotli, bzip2, snappy;
//! `--no-context-takeover`: ask the server not to keep context (deflate, brotli, snappy);
//! `--window-bits N`: ask for at most a 2^N-byte window (deflate); `--level N`: bound the
//! server's bzip2 level), checks the server accepted it and honoured the requests (and with
//! `--expect-client-no-context-takeover` that it asked us not to keep context either), then sends text and binary messages of 1 B,
//! 100 B, 1 KiB, 64 KiB and 1 MiB, each compressible (JSON-like) and incompressible
//! (random bytes; random ASCII letters for text), and compares every echo, and that the
//! server's messages came compressed. Prints the agreed
//! parameters and `N passed, M failed`; exits with 1 on any mismatch or error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrobahn::compress::{bzip2::Bzip2Offer, TakeoverOffer};
use ferrobahn::{ClientBuilder, Compression, DeflateOffer, Message, Offer, Settings};

const SIZES: [usize; 5] = [1, 100, 1024, 64 * 1024, 1 << 20];

struct Args {
    url: String,
    method: String,
    no_context_takeover: bool,
    expect_client_no_context_takeover: bool,
    window_bits: u8,
    level: u8,
}

fn parse_args() -> Result<Args, String> {
    let usage = "usage: compress_check ws://HOST:PORT [--method deflate|brotli|bzip2|snappy] \
                 [--no-context-takeover] [--window-bits N] [--level N] \
                 [--expect-client-no-context-takeover]";
    let mut url = None;
    let mut method = "deflate".to_owned();
    let mut no_context_takeover = false;
    let mut expect_client_no_context_takeover = false;
    let mut window_bits = 0;
    let mut level = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--no-context-takeover" => no_context_takeover = true,
            "--expect-client-no-context-takeover" => expect_client_no_context_takeover = true,
            "--method" => method = args.next().ok_or(usage)?,
            "--level" => {
                let v = args.next().ok_or(usage)?;
                level = match v.parse() {
                    Ok(l @ 1..=9) => l,
                    _ => return Err(format!("--level: {v} is not in 1..=9")),
                };
            }
            "--window-bits" => {
                let v = args.next().ok_or(usage)?;
                window_bits = match v.parse() {
                    Ok(b @ 9..=15) => b,
                    _ => return Err(format!("--window-bits: {v} is not in 9..=15")),
                };
            }
            _ if url.is_none() && !a.starts_with("--") => url = Some(a),
            _ => return Err(format!("unexpected argument {a:?}\n{usage}")),
        }
    }
    Ok(Args {
        url: url.ok_or(usage)?,
        method,
        no_context_takeover,
        expect_client_no_context_takeover,
        window_bits,
        level,
    })
}

/// xorshift32: reproducible pseudo-random data without a dependency.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// JSON-like records, cut to exactly `n` bytes (ASCII, so valid UTF-8 wherever it is cut).
fn json(n: usize, rng: &mut Rng) -> String {
    let mut s = String::with_capacity(n + 128);
    let mut id = 0u32;
    while s.len() < n {
        id += 1;
        s.push_str(&format!(
            "{{\"id\": {id}, \"name\": \"sensor-{}\", \"ok\": true, \"values\": [{}, {}, {}]}},\n",
            rng.next() % 64,
            rng.next() % 1000,
            rng.next() % 1000,
            rng.next() % 1000,
        ));
    }
    s.truncate(n);
    s
}

/// The 20 messages: for each size, compressible and incompressible text and binary.
fn messages() -> Vec<(String, Message)> {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = Rng(0x2545_F491);
    let mut out = Vec::new();
    for n in SIZES {
        let text = json(n, &mut rng);
        let letters: String = (0..n)
            .map(|_| LETTERS[rng.next() as usize % LETTERS.len()] as char)
            .collect();
        let binary_json = json(n, &mut rng).into_bytes();
        let random: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        out.push((format!("text/json/{n}"), Message::text(text)));
        out.push((format!("text/random/{n}"), Message::text(letters)));
        out.push((format!("binary/json/{n}"), Message::binary(binary_json)));
        out.push((format!("binary/random/{n}"), Message::binary(random)));
    }
    out
}

fn describe(m: &Message) -> String {
    match m {
        Message::Text(t) => format!("text of {} bytes", t.len()),
        Message::Binary(b) => format!("binary of {} bytes", b.len()),
        other => format!("{other:?}"),
    }
}

/// Runs the check, counting into `passed` and `failed` (an error ends it early).
fn run(
    args: &Args,
    messages: Vec<(String, Message)>,
    passed: &mut usize,
    failed: &mut usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let takeover = TakeoverOffer {
        accept_no_context_takeover: true,
        request_no_context_takeover: args.no_context_takeover,
    };
    let offer = match args.method.as_str() {
        "deflate" => Offer::Deflate(DeflateOffer {
            request_no_context_takeover: args.no_context_takeover,
            request_max_window_bits: args.window_bits,
            ..Default::default()
        }),
        "brotli" => Offer::Brotli {
            offer: takeover,
            quality: ferrobahn::compress::brotli::DEFAULT_QUALITY,
        },
        "bzip2" => Offer::Bzip2(Bzip2Offer {
            request_max_compress_level: args.level,
            ..Default::default()
        }),
        "snappy" => Offer::Snappy(takeover),
        m => return Err(format!("unknown method {m}").into()),
    };
    let settings = Settings {
        read_timeout: Some(Duration::from_secs(60)),
        ..Settings::default()
    };
    let mut ws = ClientBuilder::new(args.url.as_str())
        .settings(settings)
        .offer(offer)
        .connect()?;
    let agreed = *ws
        .compression()
        .ok_or_else(|| format!("the server did not accept permessage-{}", args.method))?;
    println!("agreed: {agreed:?}");
    let (server_nct, client_nct) = match agreed {
        Compression::Deflate { params, .. } => {
            if args.window_bits != 0 && params.server_max_window_bits > args.window_bits {
                return Err(format!(
                    "server_max_window_bits={} agreed, at most {} was requested",
                    params.server_max_window_bits, args.window_bits
                )
                .into());
            }
            (
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            )
        }
        Compression::Brotli { params, .. } | Compression::Snappy { params } => (
            params.server_no_context_takeover,
            params.client_no_context_takeover,
        ),
        Compression::Bzip2 { params, .. } => {
            if params.server_max_compress_level != args.level {
                return Err(format!("server level bound {} not agreed", args.level).into());
            }
            (
                args.no_context_takeover,
                args.expect_client_no_context_takeover,
            )
        }
        _ => return Err("unexpected method".into()),
    };
    if args.no_context_takeover && !server_nct {
        return Err("server_no_context_takeover was requested but not agreed".into());
    }
    if args.expect_client_no_context_takeover && !client_nct {
        return Err("the server did not ask for client_no_context_takeover".into());
    }

    let start = Instant::now();
    for (name, msg) in messages {
        ws.send(msg.clone())?;
        let echo = ws.read()?;
        if echo == msg {
            *passed += 1;
        } else {
            *failed += 1;
            println!(
                "FAIL {name}: sent {}, got {}",
                describe(&msg),
                describe(&echo)
            );
        }
    }
    let elapsed = start.elapsed();
    let st = ws.stats();
    println!(
        "sent {} bytes as {} compressed; received {} compressed bytes as {}",
        st.outgoing_octets_app,
        st.outgoing_octets_websocket,
        st.incoming_octets_websocket,
        st.incoming_octets_app
    );
    // Half the payload bytes are JSON-like: a compressing server sends far less.
    if st.incoming_octets_websocket >= st.incoming_octets_app {
        return Err("the server's messages were not compressed".into());
    }
    ws.close(None)?;
    // Wait for the server's close reply (the read ends with the close or an error).
    let _ = ws.read();
    println!("messages took {:.2} s", elapsed.as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let messages = messages();
    let total = messages.len();
    let (mut passed, mut failed) = (0, 0);
    if let Err(e) = run(&args, messages, &mut passed, &mut failed) {
        // Every message not confirmed by then counts as failed.
        println!("error: {e}");
        failed = total - passed;
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
