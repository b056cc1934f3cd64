//! Echoes every text and binary message back, until killed.
//!
//! `cargo run --release --example echo_server -- 127.0.0.1:9001` (port 0 picks a free port;
//! the bound address is printed as `listening on ADDR`). Messages up to 64 MiB;
//! permessage-deflate accepted.

use ferrobahn::{DeflateAccept, Error, Message, Server, ServerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let config = ServerConfig {
        server_name: Some("ferrobahn".into()),
        // Accept permessage-deflate offers (RFC 7692) on the client's terms.
        deflate: Some(DeflateAccept::default()),
        ..Default::default()
    };
    let server = Server::bind(&addr, config)?;
    println!("listening on {}", server.local_addr()?);
    server.serve(|mut ws| loop {
        match ws.read() {
            // `write` queues the reply; the reader flushes before it blocks, so the
            // replies to one read batch go out in one syscall.
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.write(msg).is_err() {
                    return;
                }
            }
            Ok(Message::Close(_)) | Err(Error::ConnectionClosed) => return,
            Ok(_) => {}
            Err(_) => return,
        }
    })?;
    Ok(())
}
