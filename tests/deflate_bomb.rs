//! A decompression bomb: a small compressed message that inflates far past the server's
//! `max_message_payload`. The server stops inflating at the limit (its buffer never holds
//! more than limit + 1 bytes; see the core's unit test), fails with `MessageTooLarge`, and the
//! client receives close 1009.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ferrobahn::core::{CloseCode, Config, ProtocolError};
use ferrobahn::{
    ClientBuilder, DeflateAccept, DeflateOffer, Error, Message, Server, ServerConfig, Settings,
};

#[test]
fn bomb_closes_with_1009() {
    let limit = 1 << 20;
    let settings = Settings {
        config: Config {
            max_message_payload: limit,
            ..Config::DEFAULT
        },
        ..Settings::default()
    };
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig {
            deflate: Some(DeflateAccept::default()),
            settings,
            ..Default::default()
        },
    )
    .unwrap();
    let port = server.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        server.serve(move |mut ws| {
            let _ = tx.send(ws.read());
        })
    });

    let mut ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
        .deflate(DeflateOffer {
            level: 9,
            ..Default::default()
        })
        .connect()
        .unwrap();
    assert!(ws.deflate().is_some());
    // 16 MiB of zeros compress to about 16 KiB.
    ws.send(Message::binary(vec![0u8; 16 << 20])).unwrap();

    let server_result = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(
            server_result,
            Err(Error::Protocol(ProtocolError::MessageTooLarge))
        ),
        "server got {server_result:?}"
    );
    match ws.read() {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("expected close 1009, got {other:?}"),
    }
}
