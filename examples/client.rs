//! The smallest client: connect, send a message, read the echo, close.
//!
//! Start `cargo run --example echo_server` first, then `cargo run --example client`.

use ferrobahn::{connect, Close, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    let mut ws = connect(&url)?;
    ws.send(Message::text("Hello, ferrobahn!"))?;
    let reply = ws.read()?;
    println!("got: {reply:?}");
    ws.close(Some(Close::new(1000, "bye")))?;
    // Read until the server's close reply completes the handshake.
    while let Ok(msg) = ws.read() {
        if let Message::Close(c) = msg {
            println!("closed: {c:?}");
            break;
        }
    }
    Ok(())
}
