//! Size limits: a message over `max_message_payload` or a frame over `max_frame_payload`
//! fails the connection with close code 1009 (RFC 6455 §7.4.1); the side that hit the limit
//! reports `ProtocolError::MessageTooLarge` / `FrameTooLarge`.

mod common;

use std::net::SocketAddr;
use std::sync::{mpsc, Mutex};

use common::*;
use ferrobahn::core::{CloseCode, ProtocolError};
use ferrobahn::{ClientBuilder, Error, Message, ServerConfig, Settings, WebSocket};

type ReadResult = Result<Message, Error>;

/// A server with `settings` that echoes and reports how its connection ended.
fn limited_server(settings: Settings) -> (SocketAddr, mpsc::Receiver<ReadResult>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let config = ServerConfig {
        settings,
        ..ServerConfig::default()
    };
    let (addr, _server) = start_server(config, move |mut ws: WebSocket| loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.write(m).is_err() {
                    return;
                }
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            end => {
                let _ = tx.lock().unwrap().send(end);
                return;
            }
        }
    });
    (addr, rx)
}

fn with_limits(max_frame: u64, max_message: u64) -> Settings {
    let mut s = Settings::default();
    s.config.max_frame_payload = max_frame;
    s.config.max_message_payload = max_message;
    s
}

fn fragmenting_client(addr: SocketAddr, fragment: usize) -> WebSocket {
    let mut s = Settings::default();
    s.config.auto_fragment_size = fragment;
    ClientBuilder::new(ws_url(addr))
        .settings(s)
        .connect()
        .unwrap()
}

/// Sends `msg`, expects the server's close 1009, and returns the server's error.
fn send_too_much(ws: &mut WebSocket, msg: Message, server: &mpsc::Receiver<ReadResult>) -> Error {
    ws.send(msg).unwrap();
    match ws.read() {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("client: expected close 1009, got {}", describe(&other)),
    }
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    match recv(server, "server's last read") {
        Err(e) => e,
        Ok(m) => panic!(
            "server: expected a protocol error, got {}",
            describe(&Ok(m))
        ),
    }
}

fn echo_ok(ws: &mut WebSocket, msg: Message) {
    ws.send(msg.clone()).unwrap();
    let got = ws.read();
    assert!(
        matches!(&got, Ok(m) if *m == msg),
        "expected the {}-byte message back, got {}",
        msg.len(),
        describe(&got)
    );
}

#[test]
fn message_over_max_message_payload_closes_with_1009() {
    let (addr, server) = limited_server(with_limits(1 << 20, 1000));
    let mut ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    echo_ok(&mut ws, Message::binary(binary_payload(1000, 1)));
    let e = send_too_much(&mut ws, Message::binary(binary_payload(2000, 2)), &server);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::MessageTooLarge)),
        "server error {e:?}"
    );
}

#[test]
fn text_message_over_max_message_payload_closes_with_1009() {
    let (addr, server) = limited_server(with_limits(1 << 20, 1000));
    let mut ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    let e = send_too_much(&mut ws, Message::text(text_payload(2000)), &server);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::MessageTooLarge)),
        "server error {e:?}"
    );
}

#[test]
fn fragmented_message_over_max_message_payload_closes_with_1009() {
    // Frames of 600: each frame is small, the message (2000) is not.
    let (addr, server) = limited_server(with_limits(1 << 20, 1000));
    let mut ws = fragmenting_client(addr, 600);
    echo_ok(&mut ws, Message::binary(binary_payload(1000, 3)));
    let e = send_too_much(&mut ws, Message::binary(binary_payload(2000, 4)), &server);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::MessageTooLarge)),
        "server error {e:?}"
    );
}

#[test]
fn frame_over_max_frame_payload_closes_with_1009() {
    let (addr, server) = limited_server(with_limits(1000, 1 << 20));
    let mut ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    echo_ok(&mut ws, Message::binary(binary_payload(1000, 5)));
    let e = send_too_much(&mut ws, Message::binary(binary_payload(2000, 6)), &server);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::FrameTooLarge)),
        "server error {e:?}"
    );
}

#[test]
fn message_in_frames_under_max_frame_payload_is_accepted() {
    let (addr, _server) = limited_server(with_limits(1000, 1 << 20));
    let mut ws = fragmenting_client(addr, 500);
    echo_ok(&mut ws, Message::binary(binary_payload(2000, 7)));
    echo_ok(&mut ws, Message::text(text_payload(5000)));
}

#[test]
fn client_enforces_its_own_max_message_payload() {
    // The server sends what the client's limit refuses; the client fails the connection.
    let (tx, server_rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |mut ws: WebSocket| {
        ws.send(Message::binary(vec![7u8; 2000])).unwrap();
        let _ = tx.lock().unwrap().send(ws.read());
    });
    let mut ws = ClientBuilder::new(ws_url(addr))
        .settings(with_limits(1 << 20, 1000))
        .connect()
        .unwrap();
    let r = ws.read();
    assert!(
        matches!(r, Err(Error::Protocol(ProtocolError::MessageTooLarge))),
        "client read {}",
        describe(&r)
    );
    match recv(&server_rx, "server read") {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!(
            "server: expected the client's close 1009, got {}",
            describe(&other)
        ),
    }
}

#[test]
fn huge_message_far_over_the_limit_still_gets_1009() {
    // The server refuses at the frame header; the client is still writing megabytes.
    let (addr, server) = limited_server(with_limits(1 << 20, 1000));
    let mut ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    let e = send_too_much(&mut ws, Message::binary(vec![1u8; 8 << 20]), &server);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::FrameTooLarge)),
        "server error {e:?}"
    );
}
