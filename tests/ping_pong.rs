//! Pings and pongs (RFC 6455 §5.5.2, §5.5.3): a ping is answered with a pong carrying the
//! same payload, also between the frames of a fragmented message; the receiver of a ping
//! sees it as `Message::Ping`; unsolicited pongs are accepted and change nothing.

mod common;

use std::net::SocketAddr;
use std::sync::{mpsc, Mutex};

use common::*;
use ferrobahn::core::MessageKind;
use ferrobahn::{connect, Error, Message, ServerConfig, Settings, WebSocket};

/// An echo server that also reports every message it reads.
fn observed_echo(settings: Settings) -> (SocketAddr, mpsc::Receiver<Message>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let config = ServerConfig {
        settings,
        ..ServerConfig::default()
    };
    let (addr, _server) = start_server(config, move |mut ws: WebSocket| {
        let tx = tx.lock().unwrap().clone();
        loop {
            match ws.read() {
                Ok(m) => {
                    let _ = tx.send(m.clone());
                    if m.is_data() && ws.write(m).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    (addr, rx)
}

#[test]
fn ping_is_answered_with_a_pong_carrying_its_payload() {
    let (addr, seen) = observed_echo(Settings::default());
    let mut ws = connect(&ws_url(addr)).unwrap();
    for payload in [b"hello".to_vec(), Vec::new(), vec![0xA5; 125]] {
        ws.send(Message::Ping(payload.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Pong(payload.clone()));
        assert_eq!(recv(&seen, "server read"), Message::Ping(payload));
    }
    // The connection carries on normally.
    ws.send(Message::text("after pings")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("after pings"));
}

#[test]
fn ping_over_125_bytes_is_refused_locally() {
    let (addr, _seen) = observed_echo(Settings::default());
    let mut ws = connect(&ws_url(addr)).unwrap();
    let r = ws.send(Message::Ping(vec![0; 126]));
    assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
    ws.send(Message::text("still fine")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("still fine"));
}

#[test]
fn unsolicited_pong_is_accepted() {
    let (addr, seen) = observed_echo(Settings::default());
    let mut ws = connect(&ws_url(addr)).unwrap();
    ws.send(Message::Pong(b"heartbeat".to_vec())).unwrap();
    assert_eq!(
        recv(&seen, "server read"),
        Message::Pong(b"heartbeat".to_vec())
    );
    ws.send(Message::text("after the pong")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("after the pong"));
    assert_eq!(recv(&seen, "server read"), Message::text("after the pong"));
}

#[test]
fn server_ping_is_answered_by_the_client() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |mut ws: WebSocket| {
        ws.send(Message::Ping(b"are you there".to_vec())).unwrap();
        let _ = tx.lock().unwrap().send(ws.read());
    });
    let mut ws = connect(&ws_url(addr)).unwrap();
    // The client sees the ping, already answered (documented on `Message::Ping`): no
    // further read or flush is needed for the pong to go out.
    assert_eq!(ws.read().unwrap(), Message::Ping(b"are you there".to_vec()));
    match recv(&rx, "server read") {
        Ok(m) => assert_eq!(m, Message::Pong(b"are you there".to_vec())),
        Err(e) => panic!("server: {e:?}"),
    }
    drop(ws);
}

#[test]
fn ping_between_fragments_is_answered_and_the_message_survives() {
    let (addr, seen) = observed_echo(Settings::default());
    let mut ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();
    w.write_frame(MessageKind::Text, false, b"frag").unwrap();
    w.write(Message::Ping(b"mid".to_vec())).unwrap();
    w.write_frame(MessageKind::Text, true, b"mented").unwrap();
    w.flush().unwrap();
    assert_eq!(recv(&seen, "server read"), Message::Ping(b"mid".to_vec()));
    assert_eq!(recv(&seen, "server read"), Message::text("fragmented"));
    assert_eq!(ws.read().unwrap(), Message::Pong(b"mid".to_vec()));
    assert_eq!(ws.read().unwrap(), Message::text("fragmented"));
}

#[test]
fn without_auto_pong_pings_are_left_to_the_application() {
    let mut settings = Settings::default();
    settings.config.auto_pong = false;
    let (addr, seen) = observed_echo(settings);
    let mut ws = connect(&ws_url(addr)).unwrap();
    ws.send(Message::Ping(b"quiet".to_vec())).unwrap();
    assert_eq!(recv(&seen, "server read"), Message::Ping(b"quiet".to_vec()));
    // No pong: the next thing the client gets is the echo of its text.
    ws.send(Message::text("next")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("next"));
}
