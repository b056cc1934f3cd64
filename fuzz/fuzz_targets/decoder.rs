//! A `Decoder` of either role fed the input in pieces whose sizes the input chooses.
//! It must never panic, must stop after an error or a close event, and the `Data` bytes of a
//! message must never add up to more than `max_message_payload`. Also checked: events come
//! in a legal order, each frame's `Data` adds up to its announced length, a completed text
//! message is valid UTF-8, and the decoder always makes progress.
//!
//! Input: `data[0]` is the configuration (bit 0: server, else client; bit 1: relaxed masking
//! rules; bits 2..8 × 8: `max_message_payload`, 0..=504); `data[1] % 8 + 1` piece sizes
//! follow (each byte + 1); the rest is the byte stream from the peer.
#![no_main]

use ferrobahn_core::decode::{Decoder, Event, MessageKind};
use ferrobahn_core::frame::MAX_CONTROL_PAYLOAD;
use ferrobahn_core::{Config, Role};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [cfg, k, rest @ ..] = data else { return };
    let k = (k % 8) as usize + 1;
    if rest.len() < k {
        return;
    }
    let (sizes, stream) = rest.split_at(k);
    let role = if cfg & 1 != 0 {
        Role::Server
    } else {
        Role::Client
    };
    let relaxed = cfg & 2 != 0;
    let config = Config {
        max_message_payload: u64::from(cfg >> 2) * 8,
        require_masked_client_frames: !relaxed,
        accept_masked_server_frames: relaxed,
        ..Config::DEFAULT
    };
    let limit = config.max_message_payload;
    let mut dec = Decoder::new(role, config);

    let mut buf = stream.to_vec();
    let len = buf.len();
    let mut sizes = sizes.iter().map(|&s| s as usize + 1).cycle();
    let (mut pos, mut end) = (0usize, 0usize);

    // What the events told so far.
    let mut message: Option<MessageKind> = None;
    let mut message_total = 0u64;
    let mut text = Vec::new();
    let mut frame: Option<(u64, u64, bool)> = None; // (announced length, data so far, fin)
    let mut stopped = false;
    let mut calls = 0usize;

    loop {
        calls += 1;
        assert!(calls <= 4 * len + 64, "decoder loops without progress");
        let (n, ev) = match dec.decode(&mut buf[pos..end]) {
            Ok(r) => r,
            Err(_) => {
                stopped = true;
                break;
            }
        };
        assert!(n <= end - pos, "consumed more than it was given");
        pos += n;
        let Some(ev) = ev else {
            if pos < end {
                // Documented: `(n, None)` with bytes left means "call again"; it must move.
                assert!(
                    n > 0,
                    "no event and no byte consumed from a non-empty input"
                );
                continue;
            }
            if end == len {
                break;
            }
            end = (end + sizes.next().unwrap()).min(len);
            continue;
        };
        match ev {
            Event::FrameStart {
                kind,
                message_start,
                fin,
                len: flen,
                ..
            } => {
                assert!(frame.is_none(), "FrameStart inside a frame");
                if message_start {
                    assert!(message.is_none(), "new message inside a message");
                    message = Some(kind);
                    message_total = 0;
                    text.clear();
                } else {
                    assert_eq!(message, Some(kind), "continuation of another kind");
                }
                assert!(flen <= config.max_frame_payload);
                frame = Some((flen, 0, fin));
            }
            Event::Data(d) => {
                let Some((flen, got, _)) = frame.as_mut() else {
                    panic!("Data outside a frame")
                };
                *got += d.len() as u64;
                assert!(*got <= *flen, "more Data than the frame announced");
                message_total += d.len() as u64;
                assert!(
                    message_total <= limit,
                    "message Data {message_total} over max_message_payload {limit}"
                );
                if message == Some(MessageKind::Text) {
                    text.extend_from_slice(d);
                }
            }
            Event::FrameEnd { message_end } => {
                let Some((flen, got, fin)) = frame.take() else {
                    panic!("FrameEnd outside a frame")
                };
                assert_eq!(got, flen, "frame ended before its Data did");
                assert_eq!(message_end, fin);
                if message_end {
                    if message == Some(MessageKind::Text) {
                        assert!(
                            core::str::from_utf8(&text).is_ok(),
                            "invalid UTF-8 text message passed"
                        );
                    }
                    message = None;
                }
            }
            Event::Ping(p) | Event::Pong(p) => {
                assert!(frame.is_none(), "control frame inside a data frame");
                assert!(p.len() <= MAX_CONTROL_PAYLOAD);
            }
            Event::Close(close) => {
                assert!(frame.is_none(), "close inside a data frame");
                if let Some(c) = close {
                    assert!(c.code.is_sendable());
                    assert!(c.reason.len() <= MAX_CONTROL_PAYLOAD - 2);
                }
                stopped = true;
                break;
            }
        }
        assert_eq!(dec.in_message(), message.is_some());
    }

    if stopped {
        // After an error or a close: done, and nothing more comes out, whatever is fed.
        assert!(dec.is_done());
        let left = len - pos;
        assert!(matches!(dec.decode(&mut buf[pos..]), Ok((n, None)) if n == left));
        assert!(matches!(dec.decode(&mut []), Ok((0, None))));
    } else {
        assert!(!dec.is_done());
    }
});
