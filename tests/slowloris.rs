//! Slowloris guard: a client that sends part of its request and stalls (or trickles it)
//! is dropped once `handshake_timeout` has passed, while the server goes on serving others.

mod common;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::*;
use ferrobahn::{connect, Message, ServerConfig};

fn config(handshake_timeout: Duration) -> ServerConfig {
    ServerConfig {
        handshake_timeout,
        ..ServerConfig::default()
    }
}

/// Connects and sends the first half of an upgrade request, then nothing more.
fn stall(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = raw_connect(addr);
    let req = upgrade_request("");
    s.write_all(&req.as_bytes()[..req.len() / 2]).unwrap();
    s
}

/// Whatever the server sends until it closes (`None`: it did not close in time).
fn read_until_closed(s: &mut TcpStream) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(GENEROUS)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Some(got),
            Err(_) => return None,
        }
    }
}

#[test]
fn stalled_half_request_gets_408_and_is_dropped() {
    let addr = start_server(config(Duration::from_millis(300)), echo).0;
    let mut s = stall(addr);
    let got = read_until_closed(&mut s).expect("the stalled client was not dropped");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 408 "),
        "expected a 408 before the close, got {text:?}"
    );
}

#[test]
fn server_serves_others_while_clients_stall() {
    // Long enough that a normal client's whole session fits well inside it.
    let addr = start_server(config(Duration::from_secs(3)), echo).0;
    let mut stalled: Vec<TcpStream> = (0..4).map(|_| stall(addr)).collect();

    for i in 0..3 {
        let mut ws = connect(&ws_url(addr)).expect("a normal client connects meanwhile");
        ws.send(Message::text(format!("hello {i}"))).unwrap();
        match ws.read() {
            Ok(Message::Text(t)) => assert_eq!(t, format!("hello {i}")),
            other => panic!("echo while others stall: {}", describe(&other)),
        }
    }
    // The stalled clients were still waiting while the others were served: the server
    // did not finish them first.
    for s in &stalled {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        let r = (&*s).read(&mut b);
        assert!(
            matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "a stalled client was already answered: {r:?}"
        );
        s.set_nonblocking(false).unwrap();
    }
    // And each of them is dropped in the end.
    for s in &mut stalled {
        let got = read_until_closed(s).expect("a stalled client was not dropped");
        assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 408 "));
    }
}

#[test]
fn trickling_request_is_dropped_at_the_overall_deadline() {
    // The deadline covers the whole request, not each read: a byte every 100 ms keeps
    // every single read short but never completes in time.
    let addr = start_server(config(Duration::from_millis(500)), echo).0;
    let s = raw_connect(addr);
    let mut writer = s.try_clone().unwrap();
    let req = upgrade_request("").into_bytes();
    let total = req.len();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut sent = 0;
        for b in req {
            if writer.write_all(&[b]).is_err() {
                break;
            }
            sent += 1;
            thread::sleep(Duration::from_millis(100));
        }
        let _ = tx.send(sent);
    });
    let mut s = s;
    let got = read_until_closed(&mut s).expect("the trickling client was not dropped");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408 "),
        "unexpected answer {text:?}"
    );
    // The connection ended long before the request could be complete: the writer's
    // next bytes were refused.
    let sent = recv(&rx, "trickling writer");
    assert!(
        sent < total,
        "the whole request ({total} bytes) got through"
    );
}
