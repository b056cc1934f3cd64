//! `handshake::parse_response` on arbitrary bytes, against fixed client requests: one that
//! offers subprotocols and an extension, one that offers neither. On success the chosen
//! subprotocol must be one the request offered, and a response to the bare request must
//! carry no extension.
#![no_main]

use ferrobahn_core::handshake::{self, accept_key, client_key, header, ClientRequest};
use ferrobahn_core::{httparse, Status};
use libfuzzer_sys::fuzz_target;

/// The key of both requests; its accept value is in the seed corpus
/// (`CdXSYUsvsaMthlEXWDNURGWA/1o=` for 16 × 0x07).
const NONCE: [u8; 16] = [7; 16];

fn check(data: &[u8], request: &ClientRequest<'_>) {
    let mut storage = [httparse::EMPTY_HEADER; 32];
    let Ok(Status::Complete((res, used))) = handshake::parse_response(data, &mut storage, request)
    else {
        return;
    };
    assert!(used <= data.len());
    if let Some(p) = res.protocol {
        assert!(
            request.protocols.contains(&p),
            "server chose {p:?}, not offered"
        );
    }
    if request.extensions.is_empty() {
        assert!(header(res.headers, "Sec-WebSocket-Extensions").is_none());
    }
    let accept = header(res.headers, "Sec-WebSocket-Accept").expect("checked accept");
    assert_eq!(accept.trim_ascii(), &accept_key(request.key)[..]);
}

fuzz_target!(|data: &[u8]| {
    let key = client_key(NONCE);
    let full = ClientRequest {
        host: "example.com:8080",
        path: "/ws?room=1",
        key: &key,
        protocols: &["wamp.2.json", "wamp.2.cbor"],
        extensions: "permessage-deflate; client_max_window_bits",
        origin: Some("https://example.com"),
        headers: &[],
    };
    let bare = ClientRequest {
        protocols: &[],
        extensions: "",
        origin: None,
        ..full
    };
    check(data, &full);
    check(data, &bare);
});
