//! RawSocket on arbitrary bytes: the server handshake on the first four, then frames read
//! one after another from the rest with a small limit, each payload decoded as a message.
//! Never a panic; a frame's length never exceeds the limit or the input.
#![no_main]

use ferrobahn_core::wamp::rawsocket::{self, FrameKind};
use ferrobahn_core::wamp::{batched, Message};
use ferrobahn_core::Status;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(hs) = data.get(..4) else {
        return;
    };
    let (ours, _theirs) =
        match rawsocket::server_handshake([hs[0], hs[1], hs[2], hs[3]], |_| true, 2) {
            Ok(x) => x,
            Err(e) => {
                if let Some(reply) = e.reply() {
                    assert_eq!(reply[0], rawsocket::MAGIC);
                }
                return;
            }
        };
    let max = ours.max_len();
    let mut rest = &data[4..];
    loop {
        match rawsocket::decode_frame(rest, max) {
            Ok(Status::Complete(f)) => {
                assert!(f.payload.len() as u32 <= max && f.used <= rest.len());
                if f.kind == FrameKind::Message {
                    let _ = Message::decode(ours.format, f.payload);
                    for piece in batched::split(ours.format, f.payload).flatten() {
                        let _ = Message::decode(ours.format, piece);
                    }
                }
                rest = &rest[f.used..];
            }
            Ok(Status::Partial) | Err(_) => return,
        }
    }
});
