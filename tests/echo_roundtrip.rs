//! Text and binary messages of every length class (7-bit, 16-bit and 64-bit payload
//! lengths, their boundaries, and the 16 MiB default frame limit) survive a round trip
//! client → server → client byte for byte, with and without auto-fragmentation.

mod common;

use common::*;
use ferrobahn::core::MessageKind;
use ferrobahn::{ClientBuilder, Incoming, Message, ServerConfig, Settings, WebSocket};

/// 0; 7-bit max, 16-bit min; 16-bit max, 64-bit min; 1 MiB.
const SIZES: [usize; 7] = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const SIXTEEN_MIB: usize = 16 << 20;

fn round_trip(ws: &mut WebSocket, msg: Message) {
    let what = format!(
        "{} of {} bytes",
        if matches!(msg, Message::Text(_)) {
            "text"
        } else {
            "binary"
        },
        msg.len()
    );
    ws.send(msg.clone())
        .unwrap_or_else(|e| panic!("{what}: send failed: {e}"));
    let got = ws.read();
    match (&got, &msg) {
        (Ok(Message::Text(a)), Message::Text(b)) => {
            assert_eq!(a.len(), b.len(), "{what}: echoed length");
            assert!(a == b, "{what}: echoed content differs");
        }
        (Ok(Message::Binary(a)), Message::Binary(b)) => {
            assert_eq!(a.len(), b.len(), "{what}: echoed length");
            if let Some(i) = a.iter().zip(b.iter()).position(|(x, y)| x != y) {
                panic!("{what}: echoed content differs first at byte {i}");
            }
        }
        _ => panic!(
            "{what}: expected the same message back, got {}",
            describe(&got)
        ),
    }
}

fn settings_with_fragments(size: usize) -> Settings {
    let mut s = Settings::default();
    s.config.auto_fragment_size = size;
    s
}

fn client(addr: std::net::SocketAddr, settings: Settings) -> WebSocket {
    ClientBuilder::new(ws_url(addr))
        .settings(settings)
        .connect()
        .expect("connect")
}

#[test]
fn text_messages_of_every_length_class_echo_intact() {
    let addr = start_echo_server();
    let mut ws = client(addr, Settings::default());
    for n in SIZES {
        round_trip(&mut ws, Message::text(text_payload(n)));
    }
}

#[test]
fn binary_messages_of_every_length_class_echo_intact() {
    let addr = start_echo_server();
    let mut ws = client(addr, Settings::default());
    for (i, n) in SIZES.into_iter().enumerate() {
        round_trip(&mut ws, Message::Binary(binary_payload(n, i as u32)));
    }
}

#[test]
fn sixteen_mib_binary_message_echoes_intact() {
    let addr = start_echo_server();
    let mut ws = client(addr, Settings::default());
    round_trip(&mut ws, Message::Binary(binary_payload(SIXTEEN_MIB, 16)));
}

#[test]
fn client_auto_fragmented_messages_echo_intact() {
    let addr = start_echo_server();
    // An odd fragment size, so frames end at every masking-key phase.
    let mut ws = client(addr, settings_with_fragments(1021));
    for (i, n) in SIZES.into_iter().enumerate() {
        round_trip(&mut ws, Message::text(text_payload(n)));
        round_trip(&mut ws, Message::Binary(binary_payload(n, 100 + i as u32)));
    }
}

#[test]
fn auto_fragmented_sixteen_mib_message_echoes_intact() {
    let addr = start_echo_server();
    let mut ws = client(addr, settings_with_fragments(64 * 1024 + 3));
    round_trip(&mut ws, Message::Binary(binary_payload(SIXTEEN_MIB, 7)));
}

#[test]
fn both_sides_auto_fragmenting_echo_intact() {
    let config = ServerConfig {
        settings: settings_with_fragments(4000),
        ..ServerConfig::default()
    };
    let (addr, _server) = start_server(config, echo);
    let mut ws = client(addr, settings_with_fragments(333));
    for (i, n) in SIZES.into_iter().enumerate() {
        round_trip(&mut ws, Message::text(text_payload(n)));
        round_trip(&mut ws, Message::Binary(binary_payload(n, 200 + i as u32)));
    }
}

/// The server describes the frames of each message it receives: one line per frame
/// `kind start fin len`, separated by `;`.
fn frame_reporter(mut ws: WebSocket) {
    let mut report = String::new();
    loop {
        let line = match ws.read_event() {
            Ok(Incoming::FrameStart {
                kind,
                message_start,
                fin,
                len,
            }) => format!("{kind:?} {message_start} {fin} {len};"),
            Ok(Incoming::FrameEnd { message_end: true }) => {
                let r = std::mem::take(&mut report);
                if ws.send(Message::text(r)).is_err() {
                    return;
                }
                continue;
            }
            Ok(Incoming::Close(_)) | Err(_) => return,
            Ok(_) => continue,
        };
        report.push_str(&line);
    }
}

#[test]
fn auto_fragment_size_splits_messages_into_frames_of_that_size() {
    let (addr, _server) = start_server(ServerConfig::default(), frame_reporter);
    let mut ws = client(addr, settings_with_fragments(1000));
    let cases: [(usize, MessageKind, &str); 5] = [
        (0, MessageKind::Text, "Text true true 0;"),
        (999, MessageKind::Binary, "Binary true true 999;"),
        (1000, MessageKind::Binary, "Binary true true 1000;"),
        (
            1001,
            MessageKind::Binary,
            "Binary true false 1000;Binary false true 1;",
        ),
        (
            2500,
            MessageKind::Text,
            "Text true false 1000;Text false false 1000;Text false true 500;",
        ),
    ];
    for (n, kind, expected) in cases {
        let msg = match kind {
            MessageKind::Text => Message::text(text_payload(n)),
            MessageKind::Binary => Message::Binary(binary_payload(n, 1)),
        };
        ws.send(msg).unwrap();
        match ws.read() {
            Ok(Message::Text(report)) => {
                assert_eq!(report, expected, "frames of a {n}-byte {kind:?} message")
            }
            other => panic!("expected the frame report, got {}", describe(&other)),
        }
    }
}
