//! The frame and streaming APIs. Sending: `Writer::start_frame` + `write_frame_data`
//! chunks (a frame whose length is known up front) and `write_frame` (one frame of a
//! message at a time). Receiving: `read_event` hands out payload as it arrives, without
//! buffering the message; `read` reassembles the whole message.

mod common;

use std::net::SocketAddr;
use std::sync::{mpsc, Mutex};

use common::*;
use ferrobahn::core::MessageKind;
use ferrobahn::{connect, Error, Incoming, Message, ServerConfig, WebSocket};

/// An owned copy of an `Incoming` event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Start {
        kind: MessageKind,
        message_start: bool,
        fin: bool,
        len: u64,
    },
    Data(Vec<u8>),
    End {
        message_end: bool,
    },
    Other(String),
}

/// A server that forwards every event it reads to the test, until the connection ends.
fn event_server() -> (SocketAddr, mpsc::Receiver<Ev>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |mut ws: WebSocket| {
        let tx = tx.lock().unwrap().clone();
        loop {
            let ev = match ws.read_event() {
                Ok(Incoming::FrameStart {
                    kind,
                    message_start,
                    fin,
                    len,
                }) => Ev::Start {
                    kind,
                    message_start,
                    fin,
                    len,
                },
                Ok(Incoming::Data(d)) => Ev::Data(d.to_vec()),
                Ok(Incoming::FrameEnd { message_end }) => Ev::End { message_end },
                Ok(other) => Ev::Other(format!("{other:?}")),
                Err(e) => {
                    let _ = tx.send(Ev::Other(format!("{e:?}")));
                    return;
                }
            };
            if tx.send(ev).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

/// Collects events up to the end of the current message.
fn events_to_message_end(rx: &mpsc::Receiver<Ev>) -> Vec<Ev> {
    let mut out = Vec::new();
    loop {
        let ev = recv(rx, "server event");
        let end = matches!(ev, Ev::End { message_end: true } | Ev::Other(_));
        out.push(ev);
        if end {
            return out;
        }
    }
}

/// The frame layout (data replaced by its length) and the payload of a message's events.
fn summarize(events: &[Ev]) -> (Vec<String>, Vec<u8>) {
    let mut layout = Vec::new();
    let mut data = Vec::new();
    for ev in events {
        match ev {
            Ev::Data(d) => data.extend_from_slice(d),
            other => layout.push(format!("{other:?}")),
        }
    }
    (layout, data)
}

const MIB: usize = 1 << 20;

#[test]
fn streamed_frame_is_delivered_as_events_before_it_is_complete() {
    let (addr, events) = event_server();
    let ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();
    let payload = binary_payload(MIB, 9);
    w.start_frame(MessageKind::Binary, true, MIB as u64)
        .unwrap();
    for chunk in payload[..MIB / 2].chunks(64 * 1024) {
        w.write_frame_data(chunk).unwrap();
    }
    w.flush().unwrap();

    // Half the frame is out and the rest is not sent yet: the server must already see
    // the frame start and payload data.
    assert_eq!(
        recv(&events, "frame start"),
        Ev::Start {
            kind: MessageKind::Binary,
            message_start: true,
            fin: true,
            len: MIB as u64
        }
    );
    let mut received = match recv(&events, "payload data before the frame is complete") {
        Ev::Data(d) => d,
        other => panic!("expected data, got {other:?}"),
    };
    assert!(!received.is_empty() && received.len() <= MIB / 2);

    for chunk in payload[MIB / 2..].chunks(64 * 1024) {
        w.write_frame_data(chunk).unwrap();
    }
    w.flush().unwrap();
    let rest = events_to_message_end(&events);
    let mut data_events = 1;
    for ev in &rest[..rest.len() - 1] {
        match ev {
            Ev::Data(d) => {
                assert!(d.len() < MIB, "a data event held the whole frame");
                received.extend_from_slice(d);
                data_events += 1;
            }
            other => panic!("unexpected event inside the frame: {other:?}"),
        }
    }
    assert_eq!(rest.last(), Some(&Ev::End { message_end: true }));
    assert!(data_events > 1);
    assert_eq!(received.len(), MIB);
    assert!(received == payload, "streamed payload differs");
    drop(ws);
}

#[test]
fn read_returns_the_whole_streamed_message() {
    let addr = start_echo_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();

    // One streamed binary frame of 1 MiB in uneven chunks.
    let payload = binary_payload(MIB, 11);
    w.start_frame(MessageKind::Binary, true, MIB as u64)
        .unwrap();
    for chunk in payload.chunks(40_000) {
        w.write_frame_data(chunk).unwrap();
    }
    w.flush().unwrap();
    match ws.read() {
        Ok(Message::Binary(b)) => assert!(b == payload, "echo of the streamed frame differs"),
        other => panic!("expected the binary echo, got {}", describe(&other)),
    }

    // A text message streamed as two frames, chunks cutting through multi-byte characters.
    let text = text_payload(100_003);
    let (a, b) = text.as_bytes().split_at(50_001);
    w.start_frame(MessageKind::Text, false, a.len() as u64)
        .unwrap();
    for chunk in a.chunks(7) {
        w.write_frame_data(chunk).unwrap();
    }
    w.start_frame(MessageKind::Text, true, b.len() as u64)
        .unwrap();
    for chunk in b.chunks(4099) {
        w.write_frame_data(chunk).unwrap();
    }
    w.flush().unwrap();
    match ws.read() {
        Ok(Message::Text(t)) => assert!(t == text, "echo of the streamed text differs"),
        other => panic!("expected the text echo, got {}", describe(&other)),
    }
}

#[test]
fn frame_api_fragments_arrive_as_frames_and_read_reassembles_them() {
    let (addr, events) = event_server();
    let ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();
    w.write_frame(MessageKind::Text, false, b"Hello, ").unwrap();
    w.write_frame(MessageKind::Text, false, b"wor").unwrap();
    w.write_frame(MessageKind::Text, true, b"ld").unwrap();
    w.flush().unwrap();
    let (layout, data) = summarize(&events_to_message_end(&events));
    let start = |message_start, fin, len| {
        format!(
            "{:?}",
            Ev::Start {
                kind: MessageKind::Text,
                message_start,
                fin,
                len
            }
        )
    };
    let end = |message_end| format!("{:?}", Ev::End { message_end });
    assert_eq!(
        layout,
        [
            start(true, false, 7),
            end(false),
            start(false, false, 3),
            end(false),
            start(false, true, 2),
            end(true)
        ]
    );
    assert_eq!(data, b"Hello, world");

    let addr = start_echo_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();
    w.write_frame(MessageKind::Binary, false, &[1, 2]).unwrap();
    w.write_frame(MessageKind::Binary, false, &[]).unwrap();
    w.write_frame(MessageKind::Binary, true, &[3]).unwrap();
    w.write_frame(MessageKind::Text, false, "Grüß ".as_bytes())
        .unwrap();
    w.write_frame(MessageKind::Text, true, "Gott".as_bytes())
        .unwrap();
    w.flush().unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(vec![1, 2, 3]));
    assert_eq!(ws.read().unwrap(), Message::text("Grüß Gott"));
}

#[test]
fn streamed_data_beyond_the_announced_length_is_refused() {
    let addr = start_echo_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();
    w.start_frame(MessageKind::Binary, true, 10).unwrap();
    w.write_frame_data(b"12345").unwrap();
    let r = w.write_frame_data(b"678901");
    assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
    // Nor may a new frame or message begin while the frame is incomplete.
    let r = w.start_frame(MessageKind::Binary, true, 1);
    assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
    let r = w.write_binary(b"x");
    assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
    // The refused calls sent nothing: the frame completes as announced.
    w.write_frame_data(b"67890").unwrap();
    w.flush().unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(b"1234567890".to_vec()));
}

#[test]
fn client_cannot_send_a_whole_message_inside_a_fragmented_one() {
    let addr = start_echo_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    let w = ws.writer();
    w.write_frame(MessageKind::Text, false, b"a").unwrap();
    for r in [
        w.write_text("x"),
        w.write_binary(&[0u8; 100]),
        w.write_binary(&vec![0u8; 100_000]),
    ] {
        assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
    }
    w.write_frame(MessageKind::Text, true, b"b").unwrap();
    w.flush().unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("ab"));
}

#[test]
fn server_cannot_send_a_whole_message_inside_a_fragmented_one() {
    // Same rule on the server, whose large unmasked messages take a different path.
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |ws: WebSocket| {
        let w = ws.writer();
        w.write_frame(MessageKind::Text, false, b"abc").unwrap();
        let small = w.write_binary(&[0xFF; 100]);
        let large = w.write_binary(&vec![0xFF; 100_000]);
        let _ = w.write_frame(MessageKind::Text, true, b"def");
        let _ = w.flush();
        let _ = tx.lock().unwrap().send((small, large));
        let mut ws = ws;
        let _ = ws.read();
    });
    let mut ws = connect(&ws_url(addr)).unwrap();
    let (small, large) = recv(&rx, "server write results");
    assert!(
        matches!(small, Err(Error::InvalidState(_))),
        "small message: {small:?}"
    );
    assert!(
        matches!(large, Err(Error::InvalidState(_))),
        "large message: {large:?}"
    );
    let r = ws.read();
    assert!(
        matches!(&r, Ok(Message::Text(t)) if t == "abcdef"),
        "client read {}",
        describe(&r)
    );
}
