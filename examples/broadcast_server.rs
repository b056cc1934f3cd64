//! A broadcast (chat) server: every text message a client sends goes to every connected
//! client, prepared once ([`PreparedMessage`]) and, with permessage-deflate, compressed
//! once for all clients that agreed to no context takeover.
//!
//! `cargo run --release --example broadcast_server -- 127.0.0.1:9000`
//! (port 0 picks a free port; prints `listening on ADDR`). Try it with two clients:
//! `cargo run --release --example client -- ws://127.0.0.1:9000/`.
//!
//! One thread per connection reads; the sender's thread writes to everyone. A client that
//! stops reading eventually blocks that writer (its socket buffer fills): a production
//! server would drop such a client or queue per connection; here it is dropped after the
//! write timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ferrobahn::{DeflateAccept, Message, PreparedMessage, Server, ServerConfig, Writer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let config = ServerConfig {
        // No context takeover on our side: one compression serves every receiver.
        deflate: Some(DeflateAccept {
            no_context_takeover: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let server = Server::bind(&addr, config)?;
    println!("listening on {}", server.local_addr()?);
    let clients: Arc<Mutex<Vec<(u64, Writer)>>> = Arc::default();
    let next_id = AtomicU64::new(1);
    server.serve(move |ws| {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let peer = ws.peer_addr();
        let (mut reader, writer) = ws.split();
        clients.lock().unwrap().push((id, writer));
        println!("client {id} ({peer:?}) joined");
        while let Ok(msg) = reader.read() {
            if let Message::Text(t) = msg {
                let prepared = PreparedMessage::text(&format!("{id}: {}", t.as_str()));
                // Snapshot the writers so that the lock is not held while writing.
                let everyone: Vec<Writer> = clients
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(_, w)| w.clone())
                    .collect();
                for w in everyone {
                    let _ = w.send_prepared(&prepared);
                }
            }
        }
        clients.lock().unwrap().retain(|(i, _)| *i != id);
        println!("client {id} left");
    })?;
    Ok(())
}
