//! The Autobahn TestSuite client protocol: `getCaseCount`, every `runCase` echoing each
//! message until the fuzzing server closes, then `updateReports`.
//!
//! `cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 AGENT`

use ferrobahn::{connect, ClientBuilder, DeflateOffer, Error, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "ferrobahn".into());

    let mut ws = connect(&format!("{base}/getCaseCount"))?;
    let count: u32 = match ws.read()? {
        Message::Text(t) => t.as_str().trim().parse()?,
        other => return Err(format!("unexpected reply to getCaseCount: {other:?}").into()),
    };
    drain(&mut ws);
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        // Offer permessage-deflate, letting the server limit our window and context.
        let offer = DeflateOffer {
            // Autobahn's test client offers client_no_context_takeover (cases 13.2, 13.5 and
            // 13.6 expect it) and client_max_window_bits.
            accept_no_context_takeover: true,
            ..DeflateOffer::default()
        };
        let mut ws = match ClientBuilder::new(&url).deflate(offer).connect() {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("case {case}: connect failed: {e}");
                continue;
            }
        };
        loop {
            match ws.read() {
                Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                    if ws.write(msg).is_err() {
                        break;
                    }
                }
                Ok(Message::Close(_)) => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    let mut ws = connect(&format!("{base}/updateReports?agent={agent}"))?;
    drain(&mut ws);
    println!("reports updated");
    Ok(())
}

/// Reads until the server ends the connection.
fn drain(ws: &mut ferrobahn::WebSocket) {
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(Error::ConnectionClosed) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
