//! A server `Connection` (keys: `NoMask`) reading arbitrary input in input-sized chunks,
//! calling `poll_transmit` into a 139-byte buffer (`CONTROL_FRAME_MAX`) after every event
//! and error. It must never panic. Also checked: `poll_transmit` never fails with that
//! buffer, and everything the server transmits is a valid unmasked control frame stream
//! that a client `Decoder` accepts: pongs, then at most one close, nothing after it.
//!
//! Input: `data[0]` is the configuration (bit 0: auto_pong; bit 1: echo_close_code; bit 2:
//! accept unmasked client frames; bits 3..8 × 16: max_message_payload, 0..=496);
//! `data[1] % 8 + 1` chunk sizes follow (each byte + 1); the rest is what the client sent.
#![no_main]

use ferrobahn_core::connection::CONTROL_FRAME_MAX;
use ferrobahn_core::decode::{Decoder, Event};
use ferrobahn_core::{CloseState, Config, Connection, NoMask, Role};
use libfuzzer_sys::fuzz_target;

/// The client end of the wire: decodes what the server transmits.
struct Peer {
    dec: Decoder,
    closed: bool,
}

impl Peer {
    fn receive(&mut self, frame: &mut [u8]) {
        assert!(
            !self.closed,
            "server transmitted after its close frame: {frame:?}"
        );
        let mut at = 0;
        while at < frame.len() {
            let (n, ev) = self
                .dec
                .decode(&mut frame[at..])
                .unwrap_or_else(|e| panic!("server sent an invalid frame ({e:?})"));
            at += n;
            match ev {
                Some(Event::Pong(_)) => {}
                Some(Event::Close(_)) => self.closed = true,
                None => assert_eq!(at, frame.len()),
                Some(other) => panic!("server transmitted a non-control event {other:?}"),
            }
        }
        // One poll_transmit is one whole frame: nothing left half-decoded.
        assert!(!self.dec.in_message());
        assert!(matches!(self.dec.decode(&mut []), Ok((0, None))));
    }
}

fuzz_target!(|data: &[u8]| {
    let [cfg, k, rest @ ..] = data else { return };
    let k = (k % 8) as usize + 1;
    if rest.len() < k {
        return;
    }
    let (sizes, stream) = rest.split_at(k);
    let config = Config {
        auto_pong: cfg & 1 != 0,
        echo_close_code: cfg & 2 != 0,
        require_masked_client_frames: cfg & 4 == 0,
        max_message_payload: u64::from(cfg >> 3) * 16,
        ..Config::DEFAULT
    };
    let mut conn = Connection::new(Role::Server, config, NoMask);
    assert!(!conn.masks_outgoing());
    let mut peer = Peer {
        dec: Decoder::new(Role::Client, Config::DEFAULT),
        closed: false,
    };

    let mut buf = stream.to_vec();
    let len = buf.len();
    let mut sizes = sizes.iter().map(|&s| s as usize + 1).cycle();
    let (mut pos, mut end) = (0usize, 0usize);
    let mut out = [0u8; CONTROL_FRAME_MAX];
    assert_eq!(out.len(), 139);
    let mut calls = 0usize;

    loop {
        calls += 1;
        assert!(calls <= 4 * len + 64, "connection loops without progress");
        let (n, got_event, failed, closed) = match conn.read(&mut buf[pos..end]) {
            Ok((n, ev)) => (n, ev.is_some(), false, matches!(ev, Some(Event::Close(_)))),
            Err(_) => (0, false, true, false),
        };
        if failed || closed {
            assert!(conn.close_state() != CloseState::Open);
        }
        if got_event || failed {
            match conn.poll_transmit(&mut out) {
                Ok(Some(m)) => {
                    assert!(m <= out.len());
                    peer.receive(&mut out[..m]);
                }
                Ok(None) => {}
                Err(e) => panic!("poll_transmit into {} bytes failed: {e:?}", out.len()),
            }
            assert!(
                !conn.wants_transmit(),
                "a frame is still owed after poll_transmit"
            );
        }
        if failed {
            // The error queued (and we sent) a close; a dead decoder swallows the rest.
            assert!(peer.closed);
            break;
        }
        assert!(n <= end - pos);
        pos += n;
        if !got_event {
            if pos < end {
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
        }
    }
    // After a close in both directions there is nothing left to send.
    if conn.close_state() == CloseState::Closed {
        assert!(peer.closed);
        assert_eq!(conn.poll_transmit(&mut out), Ok(None));
    }
});
