//! Checks permessage-deflate (RFC 7692) against any echo server.
//!
//! `cargo run --release --example deflate_check -- ws://127.0.0.1:PORT [--no-context-takeover] [--window-bits N]`
//!
//! Connects offering permessage-deflate (`--no-context-takeover`: ask the server not to keep
//! context; `--window-bits N`: ask it for at most a 2^N-byte window), checks the server
//! accepted it and honoured both requests, then sends text and binary messages of 1 B,
//! 100 B, 1 KiB, 64 KiB and 1 MiB, each compressible (JSON-like) and incompressible
//! (random bytes; random ASCII letters for text), and compares every echo. Prints the agreed
//! parameters and `N passed, M failed`; exits with 1 on any mismatch or error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrobahn::{ClientBuilder, DeflateOffer, Message, Settings};

const SIZES: [usize; 5] = [1, 100, 1024, 64 * 1024, 1 << 20];

struct Args {
    url: String,
    no_context_takeover: bool,
    window_bits: u8,
}

fn parse_args() -> Result<Args, String> {
    let usage = "usage: deflate_check ws://HOST:PORT [--no-context-takeover] [--window-bits N]";
    let mut url = None;
    let mut no_context_takeover = false;
    let mut window_bits = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--no-context-takeover" => no_context_takeover = true,
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
        no_context_takeover,
        window_bits,
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
    let offer = DeflateOffer {
        request_no_context_takeover: args.no_context_takeover,
        request_max_window_bits: args.window_bits,
        ..Default::default()
    };
    let settings = Settings {
        read_timeout: Some(Duration::from_secs(60)),
        ..Settings::default()
    };
    let mut ws = ClientBuilder::new(args.url.as_str())
        .settings(settings)
        .deflate(offer)
        .connect()?;
    let agreed = *ws
        .deflate()
        .ok_or("the server did not accept permessage-deflate")?;
    println!("agreed: {agreed:?}");
    if args.no_context_takeover && !agreed.server_no_context_takeover {
        return Err("server_no_context_takeover was requested but not agreed".into());
    }
    if args.window_bits != 0 && agreed.server_max_window_bits > args.window_bits {
        return Err(format!(
            "server_max_window_bits={} agreed, at most {} was requested",
            agreed.server_max_window_bits, args.window_bits
        )
        .into());
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
