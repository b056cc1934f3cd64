//! Protocol violations fail the connection with the close code RFC 6455 §7.4.1 asks for:
//! the server sends a close frame with it, closes the TCP connection, and its `read`
//! returns the matching `ProtocolError`. Frames are written and the close frame is parsed
//! by hand over a raw `TcpStream`.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{mpsc, Mutex};

use common::*;
use ferrobahn::core::ProtocolError;
use ferrobahn::{ClientBuilder, Error, Message, ServerConfig, WebSocket};

/// A server whose handler echoes data and reports how the connection ended.
fn server() -> (SocketAddr, mpsc::Receiver<Result<Message, Error>>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |mut ws: WebSocket| loop {
        match ws.read() {
            Ok(m) if m.is_data() => {
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

/// Sends `bytes` after a hand-made handshake; returns the code of the server's close frame
/// and the server's error. Also checks that the server closes the TCP connection.
fn violate(bytes: &[u8]) -> (Option<u16>, Error) {
    let (addr, ended) = server();
    let mut s = raw_ws_client(addr);
    // A valid message first: the connection works until the violation.
    s.write_all(&frame(true, TEXT, b"ok", Some(MASK))).unwrap();
    let echo = read_frame(&mut s).unwrap();
    assert_eq!((echo.opcode, echo.payload.as_slice()), (TEXT, &b"ok"[..]));

    s.write_all(bytes).unwrap();
    let close = read_until_close(&mut s).expect("no close frame from the server");
    assert!(!close.masked, "server frames are not masked");
    assert!(close.fin);
    assert!(
        std::str::from_utf8(&close.payload[2.min(close.payload.len())..]).is_ok(),
        "close reason must be UTF-8"
    );
    // The server closes the TCP connection after its close frame (RFC 6455 §7.1.1).
    assert!(sees_eof(&mut s), "the server kept the connection open");
    drop(s);
    let err = match recv(&ended, "server's read result") {
        Err(e) => e,
        Ok(m) => panic!(
            "server read returned {} instead of an error",
            describe(&Ok(m))
        ),
    };
    (close.close_code(), err)
}

fn masked(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(first_byte, payload, Some(MASK))
}

#[test]
fn unmasked_client_frame_gets_1002() {
    let (code, err) = violate(&frame(true, TEXT, b"naked", None));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::UnmaskedFrame)),
        "{err:?}"
    );
}

#[test]
fn reserved_data_opcode_gets_1002() {
    let (code, err) = violate(&masked(0x80 | 0x3, b"x"));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ReservedOpcode(3))),
        "{err:?}"
    );
}

#[test]
fn reserved_control_opcode_gets_1002() {
    let (code, err) = violate(&masked(0x80 | 0xB, b""));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ReservedOpcode(0xB))),
        "{err:?}"
    );
}

#[test]
fn invalid_utf8_text_gets_1007() {
    let (code, err) = violate(&frame(true, TEXT, b"caf\xc3\x28", Some(MASK)));
    assert_eq!(code, Some(1007));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err:?}"
    );
}

#[test]
fn invalid_utf8_in_a_later_fragment_gets_1007() {
    let mut bytes = frame(false, TEXT, "κόσ".as_bytes(), Some(MASK));
    // A lone continuation byte: invalid whatever follows.
    bytes.extend(frame(true, CONT, b"\x80me", Some(MASK)));
    let (code, err) = violate(&bytes);
    assert_eq!(code, Some(1007));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err:?}"
    );
}

#[test]
fn text_ending_inside_a_character_gets_1007() {
    // Valid as far as it goes, but the message ends in the middle of "€".
    let (code, err) = violate(&frame(true, TEXT, b"price: \xe2\x82", Some(MASK)));
    assert_eq!(code, Some(1007));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err:?}"
    );
}

#[test]
fn close_code_1005_gets_1002() {
    let (code, err) = violate(&frame(true, CLOSE, &close_payload(1005, ""), Some(MASK)));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidCloseCode(1005))),
        "{err:?}"
    );
}

#[test]
fn other_unsendable_close_codes_get_1002() {
    for bad in [0u16, 999, 1004, 1006, 1015, 1016, 2999, 5000, 65535] {
        let (code, err) = violate(&frame(true, CLOSE, &close_payload(bad, ""), Some(MASK)));
        assert_eq!(code, Some(1002), "close code {bad}");
        assert!(
            matches!(err, Error::Protocol(ProtocolError::InvalidCloseCode(c)) if c == bad),
            "close code {bad}: {err:?}"
        );
    }
}

#[test]
fn one_byte_close_payload_gets_1002() {
    let (code, err) = violate(&frame(true, CLOSE, &[0x03], Some(MASK)));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::CloseOneByte)),
        "{err:?}"
    );
}

#[test]
fn reserved_bits_without_an_extension_get_1002() {
    let (code, err) = violate(&masked(0x80 | 0x40 | TEXT, b"rsv1"));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ReservedBits(_))),
        "{err:?}"
    );
}

#[test]
fn continuation_without_a_message_gets_1002() {
    let (code, err) = violate(&frame(true, CONT, b"orphan", Some(MASK)));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::UnexpectedContinuation)),
        "{err:?}"
    );
}

#[test]
fn new_message_inside_a_fragmented_one_gets_1002() {
    let mut bytes = frame(false, TEXT, b"start", Some(MASK));
    bytes.extend(frame(true, BINARY, b"intruder", Some(MASK)));
    let (code, err) = violate(&bytes);
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ExpectedContinuation)),
        "{err:?}"
    );
}

#[test]
fn control_frame_over_125_bytes_gets_1002() {
    let (code, err) = violate(&frame(true, PING, &[0u8; 126], Some(MASK)));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ControlFrameTooLong)),
        "{err:?}"
    );
}

#[test]
fn fragmented_control_frame_gets_1002() {
    let (code, err) = violate(&frame(false, PING, b"split", Some(MASK)));
    assert_eq!(code, Some(1002));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::FragmentedControlFrame)),
        "{err:?}"
    );
}

#[test]
fn client_fails_a_masked_server_frame_with_1002() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = raw_ws_accept(&listener, &frame(true, TEXT, b"masked", Some(MASK)));
        let close = read_until_close(&mut s).map(|f| (f.masked, f.close_code()));
        let _ = tx.send(close.ok());
    });
    let mut ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    let r = ws.read();
    assert!(
        matches!(r, Err(Error::Protocol(ProtocolError::MaskedFrame))),
        "client read {}",
        describe(&r)
    );
    let (was_masked, code) = recv(&rx, "the client's close frame").expect("no close frame");
    assert!(was_masked, "client frames are masked");
    assert_eq!(code, Some(1002));
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
}

#[test]
fn invalid_utf8_fails_fast_before_the_message_ends() {
    // The first fragment already holds an encoded surrogate; the rest never comes. The
    // server must not wait for the end of the message to fail it.
    let (code, err) = violate(&frame(false, TEXT, b"\xce\xba\xed\xa0\x80", Some(MASK)));
    assert_eq!(code, Some(1007));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err:?}"
    );
}

#[test]
fn close_reason_that_is_not_utf8_gets_1007() {
    let mut payload = close_payload(1000, "");
    payload.extend_from_slice(b"\xff\xfe");
    let (code, err) = violate(&frame(true, CLOSE, &payload, Some(MASK)));
    assert_eq!(code, Some(1007));
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err:?}"
    );
}
