//! The server side of the opening handshake as seen on the wire (RFC 6455 §4.2): HTTP
//! errors for bad requests, origin checks, subprotocol negotiation and the handshake hook.
//! Requests are written by hand over plain `TcpStream`s.

// `HandshakeHook`'s error type (an `http::Response`) is the library's choice.
#![allow(clippy::result_large_err)]

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use common::*;
use ferrobahn::core::handshake::HandshakeError;
use ferrobahn::server::HandshakeHook;
use ferrobahn::{ClientBuilder, Error, Message, ServerConfig};
// The hook's signature uses the `http` crate's types; ferrobahn does not re-export the
// crate, tungstenite (a dev-dependency) does, and both use http 1.x.
use tungstenite::http;

fn server(config: ServerConfig) -> SocketAddr {
    start_server(config, echo).0
}

fn request(lines: &[&str]) -> String {
    let mut r = lines.join("\r\n");
    r.push_str("\r\n\r\n");
    r
}

#[test]
fn valid_request_gets_101_with_the_rfc_accept_value() {
    let addr = server(ServerConfig::default());
    let resp = http_exchange(addr, &upgrade_request(""));
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header("Sec-WebSocket-Accept"), Some(ACCEPT));
    assert!(resp
        .header("Upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket")));
    assert!(resp
        .header("Connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("upgrade")));
    assert_eq!(resp.header_count("Sec-WebSocket-Protocol"), 0);
    assert_eq!(resp.header_count("Sec-WebSocket-Extensions"), 0);
}

#[test]
fn version_8_gets_426_naming_version_13() {
    let addr = server(ServerConfig::default());
    let resp = http_exchange(
        addr,
        &request(&[
            "GET / HTTP/1.1",
            "Host: 127.0.0.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            &format!("Sec-WebSocket-Key: {KEY}"),
            "Sec-WebSocket-Version: 8",
        ]),
    );
    assert_eq!(resp.status, 426);
    assert_eq!(resp.header("Sec-WebSocket-Version"), Some("13"));
}

#[test]
fn missing_key_gets_400() {
    let addr = server(ServerConfig::default());
    let resp = http_exchange(
        addr,
        &request(&[
            "GET / HTTP/1.1",
            "Host: 127.0.0.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Version: 13",
        ]),
    );
    assert_eq!(resp.status, 400);
}

#[test]
fn post_gets_405() {
    let addr = server(ServerConfig::default());
    let resp = http_exchange(
        addr,
        &request(&[
            "POST / HTTP/1.1",
            "Host: 127.0.0.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            &format!("Sec-WebSocket-Key: {KEY}"),
            "Sec-WebSocket-Version: 13",
        ]),
    );
    assert_eq!(resp.status, 405);
}

fn hybi10_request(origin: &str) -> String {
    request(&[
        "GET / HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        &format!("Sec-WebSocket-Key: {KEY}"),
        &format!("Sec-WebSocket-Origin: {origin}"),
        "Sec-WebSocket-Version: 8",
    ])
}

#[test]
fn hybi_10_clients_where_version_8_is_allowed() {
    let addr = server(ServerConfig {
        versions: vec![13, 8],
        allowed_origins: vec!["http://*.example.com".to_owned()],
        ..ServerConfig::default()
    });
    let resp = http_exchange(addr, &hybi10_request("http://app.example.com"));
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header("Sec-WebSocket-Accept"), Some(ACCEPT));
    // hybi-10's origin header is checked like Origin.
    let resp = http_exchange(addr, &hybi10_request("http://evil.com"));
    assert_eq!(resp.status, 403);
    // RFC 6455 clients still get in.
    assert_eq!(http_exchange(addr, &upgrade_request("")).status, 101);
    // Only 8: a version 13 request gets 426 naming 8.
    let addr = server(ServerConfig {
        versions: vec![8],
        ..ServerConfig::default()
    });
    let resp = http_exchange(addr, &upgrade_request(""));
    assert_eq!(resp.status, 426);
    assert_eq!(resp.header("Sec-WebSocket-Version"), Some("8"));
}

fn origin_config(allow_null: bool) -> ServerConfig {
    ServerConfig {
        allowed_origins: vec![
            "https://*.example.com".to_owned(),
            "http://localhost:8080".to_owned(),
        ],
        allow_null_origin: allow_null,
        ..ServerConfig::default()
    }
}

fn status_with_origin(addr: SocketAddr, origin: &str) -> u16 {
    http_exchange(addr, &upgrade_request(&format!("Origin: {origin}\r\n"))).status
}

#[test]
fn origin_outside_the_allowed_list_gets_403() {
    let addr = server(origin_config(false));
    assert_eq!(status_with_origin(addr, "https://evil.com"), 403);
    assert_eq!(
        status_with_origin(addr, "https://example.com.evil.com"),
        403
    );
    assert_eq!(status_with_origin(addr, "http://localhost:8081"), 403);
    // The ferrobahn client sees the refusal as the status.
    let r = ClientBuilder::new(ws_url(addr))
        .origin("https://evil.com")
        .connect();
    assert!(
        matches!(r, Err(Error::Handshake(HandshakeError::Status(403)))),
        "{:?}",
        r.err()
    );
}

#[test]
fn origin_matching_a_wildcard_pattern_gets_101() {
    let addr = server(origin_config(false));
    assert_eq!(status_with_origin(addr, "https://app.example.com"), 101);
    assert_eq!(status_with_origin(addr, "https://a.b.example.com"), 101);
    assert_eq!(status_with_origin(addr, "http://localhost:8080"), 101);
    let mut ws = ClientBuilder::new(ws_url(addr))
        .origin("https://chat.example.com")
        .connect()
        .expect("an allowed origin connects");
    ws.send(Message::text("hi")).unwrap();
    assert!(matches!(ws.read(), Ok(Message::Text(t)) if t == "hi"));
}

#[test]
fn null_origin_refused_unless_allowed() {
    let strict = server(origin_config(false));
    assert_eq!(status_with_origin(strict, "null"), 403);
    let lenient = server(origin_config(true));
    assert_eq!(status_with_origin(lenient, "null"), 101);
    // `allow_null_origin` lets in `null`, not every origin.
    assert_eq!(status_with_origin(lenient, "https://evil.com"), 403);
}

fn protocol_server() -> SocketAddr {
    server(ServerConfig {
        protocols: vec!["wamp.2.cbor".to_owned(), "wamp.2.json".to_owned()],
        ..ServerConfig::default()
    })
}

#[test]
fn subprotocol_is_the_servers_first_preference_the_client_offered() {
    let addr = protocol_server();
    // The client prefers json, the server prefers cbor: the server's order decides.
    let ws = ClientBuilder::new(ws_url(addr))
        .protocols(["wamp.2.json", "wamp.2.cbor"])
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), Some("wamp.2.cbor"));
    let ws = ClientBuilder::new(ws_url(addr))
        .protocols(["x.unknown", "wamp.2.json"])
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), Some("wamp.2.json"));
    let resp = http_exchange(
        addr,
        &upgrade_request(
            "Sec-WebSocket-Protocol: foo, wamp.2.json\r\nSec-WebSocket-Protocol: wamp.2.cbor\r\n",
        ),
    );
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header("Sec-WebSocket-Protocol"), Some("wamp.2.cbor"));
    assert_eq!(resp.header_count("Sec-WebSocket-Protocol"), 1);
}

#[test]
fn no_subprotocol_header_when_none_matches_or_none_offered() {
    let addr = protocol_server();
    let resp = http_exchange(addr, &upgrade_request(""));
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header_count("Sec-WebSocket-Protocol"), 0);
    let resp = http_exchange(addr, &upgrade_request("Sec-WebSocket-Protocol: mqtt\r\n"));
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header_count("Sec-WebSocket-Protocol"), 0);
    let ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    assert_eq!(ws.protocol(), None);
    let ws = ClientBuilder::new(ws_url(addr))
        .protocols(["mqtt"])
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), None);
}

#[test]
fn configured_headers_are_added_to_every_101() {
    let addr = server(ServerConfig {
        headers: vec![("X-Served-By".to_owned(), "test-suite".to_owned())],
        server_name: Some("ferrobahn-test".to_owned()),
        ..ServerConfig::default()
    });
    for _ in 0..2 {
        let resp = http_exchange(addr, &upgrade_request(""));
        assert_eq!(resp.status, 101);
        assert_eq!(resp.header("X-Served-By"), Some("test-suite"));
        assert_eq!(resp.header("Server"), Some("ferrobahn-test"));
    }
}

type Deny = http::Response<Option<String>>;

fn hook_server(config: ServerConfig, hook: Arc<HandshakeHook>) -> SocketAddr {
    server(ServerConfig {
        hook: Some(hook),
        ..config
    })
}

#[test]
fn hook_adds_a_response_header() {
    let hook: Arc<HandshakeHook> = Arc::new(
        |req: &http::Request<()>, resp: &mut http::Response<()>| -> Result<(), Deny> {
            let seen = req.uri().path().to_owned();
            resp.headers_mut()
                .insert("x-hook", http::HeaderValue::from_str(&seen).unwrap());
            Ok(())
        },
    );
    let addr = hook_server(ServerConfig::default(), hook);
    let mut s = raw_connect(addr);
    s.write_all(
        upgrade_request("")
            .replacen("GET / ", "GET /chat/room1?x=1 ", 1)
            .as_bytes(),
    )
    .unwrap();
    let resp = read_http_response(&mut s).unwrap();
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header("X-Hook"), Some("/chat/room1"));
    assert_eq!(resp.header("Sec-WebSocket-Accept"), Some(ACCEPT));
}

#[test]
fn hook_changes_the_subprotocol() {
    let hook: Arc<HandshakeHook> = Arc::new(
        |_req: &http::Request<()>, resp: &mut http::Response<()>| -> Result<(), Deny> {
            // The hook sees the server's choice and overrides it.
            assert_eq!(
                resp.headers()
                    .get("sec-websocket-protocol")
                    .map(|v| v.to_str().unwrap()),
                Some("wamp.2.cbor")
            );
            resp.headers_mut().insert(
                "sec-websocket-protocol",
                http::HeaderValue::from_static("wamp.2.json"),
            );
            Ok(())
        },
    );
    let config = ServerConfig {
        protocols: vec!["wamp.2.cbor".to_owned(), "wamp.2.json".to_owned()],
        ..ServerConfig::default()
    };
    let addr = hook_server(config, hook);
    let mut ws = ClientBuilder::new(ws_url(addr))
        .protocols(["wamp.2.cbor", "wamp.2.json"])
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), Some("wamp.2.json"));
    ws.send(Message::text("after the hook")).unwrap();
    assert!(matches!(ws.read(), Ok(Message::Text(t)) if t == "after the hook"));
    let resp = http_exchange(
        addr,
        &upgrade_request("Sec-WebSocket-Protocol: wamp.2.cbor, wamp.2.json\r\n"),
    );
    assert_eq!(resp.header("Sec-WebSocket-Protocol"), Some("wamp.2.json"));
    assert_eq!(resp.header_count("Sec-WebSocket-Protocol"), 1);
}

fn auth_hook() -> Arc<HandshakeHook> {
    Arc::new(
        |req: &http::Request<()>, _resp: &mut http::Response<()>| -> Result<(), Deny> {
            if req.uri().path() == "/old" {
                return Err(http::Response::builder()
                    .status(302)
                    .header("Location", "/new")
                    .body(None)
                    .unwrap());
            }
            match req.headers().get("authorization") {
                Some(v) if v == "Bearer secret" => Ok(()),
                _ => Err(http::Response::builder()
                    .status(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body(Some("token required\n".to_owned()))
                    .unwrap()),
            }
        },
    )
}

#[test]
fn hook_denies_with_401_and_a_body() {
    let addr = hook_server(ServerConfig::default(), auth_hook());
    let resp = http_exchange(addr, &upgrade_request(""));
    assert_eq!(resp.status, 401);
    assert_eq!(resp.header("WWW-Authenticate"), Some("Bearer"));
    assert_eq!(resp.body_text(), "token required\n");
    let r = ClientBuilder::new(ws_url(addr)).connect();
    assert!(
        matches!(r, Err(Error::Handshake(HandshakeError::Status(401)))),
        "{:?}",
        r.err()
    );
    // With the token the hook lets the client in.
    let resp = http_exchange(addr, &upgrade_request("Authorization: Bearer secret\r\n"));
    assert_eq!(resp.status, 101);
    let mut ws = ClientBuilder::new(ws_url(addr))
        .header("Authorization", "Bearer secret")
        .connect()
        .unwrap();
    ws.send(Message::text("authorized")).unwrap();
    assert!(matches!(ws.read(), Ok(Message::Text(t)) if t == "authorized"));
}

#[test]
fn hook_redirects_with_302_and_location() {
    let addr = hook_server(ServerConfig::default(), auth_hook());
    let mut s = raw_connect(addr);
    s.write_all(
        upgrade_request("")
            .replacen("GET / ", "GET /old ", 1)
            .as_bytes(),
    )
    .unwrap();
    let resp = read_http_response(&mut s).unwrap();
    assert_eq!(resp.status, 302);
    assert_eq!(resp.header("Location"), Some("/new"));
    let r = ClientBuilder::new(format!("ws://{addr}/old")).connect();
    assert!(
        matches!(r, Err(Error::Handshake(HandshakeError::Status(302)))),
        "{:?}",
        r.err()
    );
}

#[test]
fn every_refusal_is_an_http_response_even_with_a_hook() {
    // httparse accepts this request target, the `http` crate's Uri does not: the server
    // must still answer with an HTTP error rather than drop the connection silently.
    let hook: Arc<HandshakeHook> = Arc::new(
        |_req: &http::Request<()>, _resp: &mut http::Response<()>| -> Result<(), Deny> { Ok(()) },
    );
    let odd_target = upgrade_request("").replacen("GET / ", "GET /a<b> ", 1);
    // Without a hook the request is served.
    let plain = server(ServerConfig::default());
    assert_eq!(http_exchange(plain, &odd_target).status, 101);
    // With one, it must at least be refused over HTTP.
    let addr = hook_server(ServerConfig::default(), hook);
    let mut s = raw_connect(addr);
    s.write_all(odd_target.as_bytes()).unwrap();
    match read_http_response(&mut s) {
        Ok(r) => assert!(
            r.status == 101 || (400..500).contains(&r.status),
            "status {}",
            r.status
        ),
        Err(e) => panic!("with a hook, the server closed without an HTTP response: {e}"),
    }
}

#[test]
fn frames_sent_right_behind_the_request_are_not_lost() {
    let addr = server(ServerConfig::default());
    let mut s = raw_connect(addr);
    let mut bytes = upgrade_request("").into_bytes();
    bytes.extend_from_slice(&frame(true, TEXT, b"early bird", Some(MASK)));
    s.write_all(&bytes).unwrap();
    let resp = read_http_response(&mut s).unwrap();
    assert_eq!(resp.status, 101);
    let f = read_frame(&mut s).unwrap();
    assert_eq!((f.opcode, f.fin, f.masked), (TEXT, true, false));
    assert_eq!(f.payload, b"early bird");
}

#[test]
fn client_keeps_frames_sent_right_behind_the_101() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut s = raw_ws_accept(&listener, &frame(true, TEXT, b"welcome", None));
        // Keep the connection open until the client is done.
        sees_eof(&mut s)
    });
    let mut ws = ClientBuilder::new(ws_url(addr)).connect().unwrap();
    assert!(matches!(ws.read(), Ok(Message::Text(t)) if t == "welcome"));
    drop(ws);
    assert!(peer.join().unwrap());
}
