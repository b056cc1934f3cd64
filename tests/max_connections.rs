//! `max_connections`: connections beyond the limit are answered with HTTP 503, and a slot
//! frees up once a connection's handler has ended.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use ferrobahn::core::handshake::HandshakeError;
use ferrobahn::{connect, Close, Error, Message, ServerConfig, WebSocket};

fn connect_echo(url: &str, tag: &str) -> WebSocket {
    let mut ws = connect(url).unwrap_or_else(|e| panic!("{tag}: connect failed: {e}"));
    ws.send(Message::text(tag)).unwrap();
    match ws.read() {
        Ok(Message::Text(t)) => assert_eq!(t, tag),
        other => panic!("{tag}: echo failed: {}", describe(&other)),
    }
    ws
}

fn assert_refused_with_503(url: &str) {
    match connect(url) {
        Err(Error::Handshake(HandshakeError::Status(503))) => {}
        Err(e) => panic!("over the limit: expected HTTP 503, got the error {e:?}"),
        Ok(_) => panic!("over the limit: the connection was accepted"),
    }
}

#[test]
fn third_connection_gets_503_until_one_closes() {
    let config = ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    };
    let (addr, server) = start_server(config, echo);
    let url = ws_url(addr);

    let mut first = connect_echo(&url, "first");
    let mut second = connect_echo(&url, "second");
    assert_eq!(server.active_connections(), 2);

    assert_refused_with_503(&url);
    // The raw refusal: a 503 with Retry-After; the refused connection is not counted.
    let resp = http_exchange(addr, &upgrade_request(""));
    assert_eq!(resp.status, 503);
    assert!(resp.header("Retry-After").is_some());
    assert_eq!(server.active_connections(), 2);

    // The first client leaves with a full close handshake.
    first.close(Some(Close::new(1000, "bye"))).unwrap();
    assert!(matches!(first.read(), Ok(Message::Close(_))));
    drop(first);

    // The slot frees when the handler thread ends: poll with retries.
    let deadline = Instant::now() + GENEROUS;
    let mut third = loop {
        match connect(&url) {
            Ok(ws) => break ws,
            Err(Error::Handshake(HandshakeError::Status(503))) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("after a close, a new client must get in; last error {e:?}"),
        }
    };
    third.send(Message::text("third")).unwrap();
    assert!(matches!(third.read(), Ok(Message::Text(t)) if t == "third"));

    // Full again.
    assert_refused_with_503(&url);

    // The second client works throughout.
    second.send(Message::text("still here")).unwrap();
    assert!(matches!(second.read(), Ok(Message::Text(t)) if t == "still here"));
}

#[test]
fn a_dropped_connection_frees_its_slot_too() {
    let config = ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    };
    let (addr, server) = start_server(config, echo);
    let url = ws_url(addr);
    let only = connect_echo(&url, "only");
    assert_refused_with_503(&url);
    // No close handshake: the TCP connection just goes away.
    drop(only);
    let deadline = Instant::now() + GENEROUS;
    while server.active_connections() != 0 {
        assert!(
            Instant::now() < deadline,
            "the count did not drop after the client vanished"
        );
        thread::sleep(Duration::from_millis(20));
    }
    connect_echo(&url, "next");
}
