//! The demo the README's first command runs: an echo server and a client in one process,
//! exchanging text, binary, fragmented and ping messages, then closing cleanly.

use std::thread;

use ferrobahn::core::MessageKind;
use ferrobahn::{ClientBuilder, Close, Message, Server, ServerConfig, Settings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig {
            protocols: vec!["echo".into()],
            ..Default::default()
        },
    )?;
    let addr = server.local_addr()?;
    println!("server: listening on {addr}");
    thread::spawn(move || {
        server.serve(|mut ws| {
            println!("server: client connected (subprotocol {:?})", ws.protocol());
            while let Ok(msg) = ws.read() {
                match msg {
                    Message::Text(_) | Message::Binary(_) => {
                        println!("server: echoing {} bytes", msg.len());
                        let _ = ws.send(msg);
                    }
                    Message::Close(c) => println!("server: client closed with {c:?}"),
                    other => println!("server: got {other:?}"),
                }
            }
        })
    });

    let settings = Settings {
        config: ferrobahn::core::Config {
            auto_fragment_size: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut ws = ClientBuilder::new(format!("ws://{addr}/demo"))
        .protocols(["echo"])
        .settings(settings)
        .connect()?;
    println!("client: connected, subprotocol {:?}", ws.protocol());

    ws.send(Message::text("Hello, ferrobahn!"))?;
    println!(
        "client: sent text (auto-fragmented into 4-byte frames), got back {:?}",
        ws.read()?
    );

    ws.send(Message::binary(vec![0xde, 0xad, 0xbe, 0xef]))?;
    println!("client: sent binary, got back {:?}", ws.read()?);

    let writer = ws.writer();
    writer.write_frame(MessageKind::Text, false, b"frame API: ")?;
    writer.write_frame(MessageKind::Text, true, b"two frames")?;
    writer.flush()?;
    println!(
        "client: sent a message as two frames, got back {:?}",
        ws.read()?
    );

    ws.send(Message::Ping(b"are you there?".to_vec()))?;
    println!("client: sent ping, got {:?}", ws.read()?);

    ws.close(Some(Close::new(1000, "demo done")))?;
    loop {
        match ws.read() {
            Ok(Message::Close(c)) => {
                println!("client: close handshake complete: {c:?}");
                break;
            }
            Ok(other) => println!("client: got {other:?}"),
            Err(e) => {
                println!("client: {e}");
                break;
            }
        }
    }
    Ok(())
}
