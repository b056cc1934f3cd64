//! What a server operator expects beyond the protocol: a status page for plain HTTP GETs,
//! the client's address behind trusted reverse proxies, and clients that give up on a
//! server that never answers the opening handshake (plain and TLS).

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ferrobahn::{ClientBuilder, Error, ServerConfig};

#[test]
fn plain_get_gets_a_status_page_or_426() {
    let addr = start_server(
        ServerConfig {
            server_name: Some("status <test>".into()),
            ..Default::default()
        },
        echo,
    )
    .0;
    let resp = http_exchange(addr, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header_count("Content-Type"), 1);
    assert!(resp
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    let body = resp.body_text();
    assert!(body.contains("WebSocket server"), "{body}");
    assert!(body.contains("status &lt;test>"), "escaped name: {body}");

    let addr = start_server(
        ServerConfig {
            status_page: false,
            ..Default::default()
        },
        echo,
    )
    .0;
    let resp = http_exchange(addr, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(resp.status, 426);
    assert_eq!(resp.header("Upgrade"), Some("websocket"));
    // An upgrade request still gets its 101.
    assert_eq!(http_exchange(addr, &upgrade_request("")).status, 101);
}

/// The peer address the server saw for a handshake with `extra` headers.
fn seen_peer(trusted_proxies: usize, extra: &str) -> Option<SocketAddr> {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let addr = start_server(
        ServerConfig {
            trusted_proxies,
            ..Default::default()
        },
        move |ws| {
            let _ = tx.lock().unwrap().send(ws.peer_addr());
        },
    )
    .0;
    let resp = http_exchange(addr, &upgrade_request(extra));
    assert_eq!(resp.status, 101);
    rx.recv_timeout(GENEROUS).expect("handler ran")
}

#[test]
fn x_forwarded_for_is_used_only_with_trusted_proxies() {
    let xff = "X-Forwarded-For: 203.0.113.7, 198.51.100.2\r\n";
    // Not trusted: the TCP peer, whatever the header says.
    let peer = seen_peer(0, xff).unwrap();
    assert_eq!(peer.ip().to_string(), "127.0.0.1");
    assert_ne!(peer.port(), 0);
    // One proxy in front: it appended the last entry.
    assert_eq!(seen_peer(1, xff).unwrap().ip().to_string(), "198.51.100.2");
    // Two: the one before.
    assert_eq!(seen_peer(2, xff).unwrap().ip().to_string(), "203.0.113.7");
    // More trusted than entries: the leftmost; headers repeated count as one list.
    let split = "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: [2001:db8::1]:443\r\n";
    assert_eq!(seen_peer(1, split).unwrap().ip().to_string(), "2001:db8::1");
    assert_eq!(seen_peer(5, split).unwrap().ip().to_string(), "203.0.113.7");
    // Garbage: the TCP peer.
    assert_eq!(
        seen_peer(1, "X-Forwarded-For: not-an-address\r\n")
            .unwrap()
            .ip()
            .to_string(),
        "127.0.0.1"
    );
}

/// A listener that accepts and then says nothing.
fn mute_server() -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        // Hold the connection until the client gives up.
        let mut buf = [0u8; 1024];
        let _ = s.set_read_timeout(Some(GENEROUS));
        let mut s = s;
        while matches!(std::io::Read::read(&mut s, &mut buf), Ok(n) if n > 0) {}
    });
    (addr, t)
}

fn gives_up(url: String) {
    let started = Instant::now();
    let r = ClientBuilder::new(url)
        .handshake_timeout(Duration::from_millis(300))
        .connect();
    let elapsed = started.elapsed();
    match r {
        Err(Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            "{e:?}"
        ),
        other => panic!("expected a timeout, got {:?}", other.err()),
    }
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < GENEROUS, "{elapsed:?}");
}

#[test]
fn client_gives_up_on_a_server_that_never_answers_the_handshake() {
    let (addr, t) = mute_server();
    gives_up(format!("ws://{addr}/"));
    t.join().unwrap();
    // The same when the TLS handshake is what never completes.
    let (addr, t) = mute_server();
    gives_up(format!("wss://localhost:{}/", addr.port()));
    t.join().unwrap();
}
