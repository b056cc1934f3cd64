//! permessage-deflate with the frame and streaming send APIs: a message sent in parts goes
//! out as one compressed message (RSV1 on its first frame only, continuation frames after),
//! whose concatenated frame payloads inflate to the parts. A hand-written server peer reads
//! the frames off the wire.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::thread;

use common::{raw_ws_accept_headers, read_frame, RawFrame, BINARY, CONT, TEXT};
use ferrobahn::core::deflate::{DeflateCodec, DeflateParams};
use ferrobahn::core::MessageKind;
use ferrobahn::{ClientBuilder, DeflateOffer, Error, WebSocket};

const RSV1: u8 = 0b100;

fn json(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::new();
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(
            format!(
                "{{\"id\":{},\"name\":\"sensor-{}\",\"ok\":true}},",
                x % 10_000,
                x % 71
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

/// A connected client and the raw server side; `deflate` answers the client's offer.
fn connect(deflate: bool) -> (WebSocket, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let headers = if deflate {
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        } else {
            ""
        };
        raw_ws_accept_headers(&listener, headers, b"")
    });
    let ws = ClientBuilder::new(format!("ws://{addr}/"))
        .deflate(DeflateOffer::default())
        .connect()
        .unwrap();
    assert_eq!(ws.deflate().is_some(), deflate);
    (ws, server.join().unwrap())
}

/// Frames up to and including the one with FIN.
fn read_message(s: &mut TcpStream) -> Vec<RawFrame> {
    let mut frames = Vec::new();
    loop {
        let f = read_frame(s).unwrap();
        let fin = f.fin;
        frames.push(f);
        if fin {
            return frames;
        }
    }
}

/// Checks the framing of a compressed message and inflates it as the server would.
fn inflate(frames: &[RawFrame], opcode: u8, rx: &mut DeflateCodec) -> Vec<u8> {
    assert_eq!((frames[0].opcode, frames[0].rsv), (opcode, RSV1));
    for f in &frames[1..] {
        assert_eq!(
            (f.opcode, f.rsv),
            (CONT, 0),
            "continuation frames carry no RSV1"
        );
    }
    let mut out = Vec::new();
    for f in frames {
        rx.decompress(&f.payload, &mut out, 1 << 24).unwrap();
    }
    rx.finish(&mut out, 1 << 24).unwrap();
    out
}

fn server_codec() -> DeflateCodec {
    DeflateCodec::new(DeflateParams::default(), false, 1)
}

#[test]
fn streamed_text_is_one_compressed_message() {
    let (ws, mut raw) = connect(true);
    let writer = ws.writer();
    let mut rx = server_codec();
    let text = json(200_000, 3);
    for round in 0..2 {
        let mut m = writer.stream_message(MessageKind::Text, true);
        for piece in text.chunks(10_000) {
            m.write_all(piece).unwrap();
        }
        m.finish().unwrap();
        let frames = read_message(&mut raw);
        assert_eq!(frames.len(), 21, "a frame per write and the last one");
        let wire: usize = frames.iter().map(|f| f.payload.len()).sum();
        assert!(
            wire < text.len() / 3,
            "round {round}: {wire} bytes on the wire"
        );
        assert!(inflate(&frames, TEXT, &mut rx) == text, "round {round}");
    }
}

#[test]
fn frame_api_compresses_parts_of_one_message() {
    let (ws, mut raw) = connect(true);
    let writer = ws.writer();
    let mut rx = server_codec();
    let parts = [json(5000, 1), json(1, 2), Vec::new(), json(70_000, 4)];
    for (i, p) in parts.iter().enumerate() {
        writer
            .write_frame_compressed(MessageKind::Binary, i == parts.len() - 1, p)
            .unwrap();
    }
    writer.flush().unwrap();
    let frames = read_message(&mut raw);
    assert_eq!(frames.len(), parts.len());
    assert_eq!(inflate(&frames, BINARY, &mut rx), parts.concat());
    // A whole message after it shares the compression context and still inflates.
    writer
        .send(ferrobahn::Message::binary(json(3000, 1)))
        .unwrap();
    let frames = read_message(&mut raw);
    assert_eq!(inflate(&frames, BINARY, &mut rx), json(3000, 1));
}

#[test]
fn uncompressed_stream_sends_the_pieces_as_they_are() {
    let (ws, mut raw) = connect(true);
    let writer = ws.writer();
    let mut m = writer.stream_message(MessageKind::Binary, false);
    m.write_all(b"abc").unwrap();
    m.write_all(b"defg").unwrap();
    m.finish().unwrap();
    let frames = read_message(&mut raw);
    let seen: Vec<_> = frames
        .iter()
        .map(|f| (f.opcode, f.rsv, f.fin, f.payload.as_slice()))
        .collect();
    assert_eq!(
        seen,
        [
            (BINARY, 0, false, &b"abc"[..]),
            (CONT, 0, false, &b"defg"[..]),
            (CONT, 0, true, &b""[..]),
        ]
    );
}

#[test]
fn without_deflate_compressed_frames_go_plain() {
    let (ws, mut raw) = connect(false);
    let writer = ws.writer();
    writer
        .write_frame_compressed(MessageKind::Text, true, b"plain")
        .unwrap();
    writer.flush().unwrap();
    let f = read_frame(&mut raw).unwrap();
    assert_eq!(
        (f.opcode, f.rsv, f.fin, &f.payload[..]),
        (TEXT, 0, true, &b"plain"[..])
    );
}

#[test]
fn mixing_compressed_and_plain_frames_is_refused() {
    let (ws, mut raw) = connect(true);
    let writer = ws.writer();
    writer
        .write_frame_compressed(MessageKind::Binary, false, b"part one")
        .unwrap();
    assert!(matches!(
        writer.write_frame(MessageKind::Binary, true, b"plain"),
        Err(Error::InvalidState(_))
    ));
    writer
        .write_frame_compressed(MessageKind::Binary, true, b" and two")
        .unwrap();
    writer
        .write_frame(MessageKind::Binary, false, b"plain")
        .unwrap();
    assert!(matches!(
        writer.write_frame_compressed(MessageKind::Binary, true, b"x"),
        Err(Error::InvalidState(_))
    ));
    writer
        .write_frame(MessageKind::Binary, true, b" end")
        .unwrap();
    writer.flush().unwrap();
    let mut rx = server_codec();
    assert_eq!(
        inflate(&read_message(&mut raw), BINARY, &mut rx),
        b"part one and two"
    );
    let plain: Vec<u8> = read_message(&mut raw)
        .into_iter()
        .flat_map(|f| f.payload)
        .collect();
    assert_eq!(plain, b"plain end");
}

#[test]
fn streamed_text_must_be_utf8() {
    let (ws, mut raw) = connect(true);
    let writer = ws.writer();
    let mut m = writer.stream_message(MessageKind::Text, true);
    // "é" split across two writes is fine.
    m.write_all(b"caf\xC3").unwrap();
    m.write_all(b"\xA9 ").unwrap();
    let err = m.write_all(b"\xFF").unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
    m.write_all(b"ok").unwrap();
    m.finish().unwrap();
    let mut rx = server_codec();
    assert_eq!(
        inflate(&read_message(&mut raw), TEXT, &mut rx),
        "café ok".as_bytes()
    );
}
