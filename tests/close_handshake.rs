//! The close handshake (RFC 6455 §5.5.1, §7): either side starts it, the other's `read`
//! returns the close with its code and reason, the initiator's `read` returns the reply and
//! then `ConnectionClosed`; a peer that never answers is dropped after `close_timeout`.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use ferrobahn::core::CloseCode;
use ferrobahn::{connect, ClientBuilder, Close, Error, Message, ServerConfig, Settings, WebSocket};

type ReadResult = Result<Message, Error>;

/// A server whose handler reports its first two read results.
fn reporting_server() -> (
    std::net::SocketAddr,
    mpsc::Receiver<(ReadResult, ReadResult)>,
) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |mut ws: WebSocket| {
        let first = ws.read();
        let second = ws.read();
        let _ = tx.lock().unwrap().send((first, second));
    });
    (addr, rx)
}

fn short_close_timeout() -> Settings {
    Settings {
        close_timeout: Duration::from_millis(300),
        ..Settings::default()
    }
}

#[test]
fn client_initiated_close_with_code_and_reason() {
    let (addr, server_rx) = reporting_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    ws.close(Some(Close::new(4000, "bye now"))).unwrap();

    match ws.read() {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode(4000), "echoed code"),
        other => panic!(
            "client: expected the server's close reply, got {}",
            describe(&other)
        ),
    }
    assert!(
        matches!(ws.read(), Err(Error::ConnectionClosed)),
        "client: read after the close handshake"
    );

    let (first, second) = recv(&server_rx, "server reads");
    match first {
        Ok(Message::Close(Some(c))) => {
            assert_eq!((c.code, c.reason.as_str()), (CloseCode(4000), "bye now"))
        }
        other => panic!(
            "server: expected the client's close, got {}",
            describe(&other)
        ),
    }
    assert!(
        matches!(second, Err(Error::ConnectionClosed)),
        "server: read after the close handshake: {}",
        describe(&second)
    );
}

#[test]
fn server_initiated_close_with_code_and_reason() {
    let (tx, server_rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let (addr, _server) = start_server(ServerConfig::default(), move |mut ws: WebSocket| {
        ws.close(Some(Close::new(CloseCode::GOING_AWAY, "shutting down")))
            .unwrap();
        let first = ws.read();
        let second = ws.read();
        let _ = tx.lock().unwrap().send((first, second));
    });
    let mut ws = connect(&ws_url(addr)).unwrap();
    match ws.read() {
        Ok(Message::Close(Some(c))) => assert_eq!(
            (c.code, c.reason.as_str()),
            (CloseCode::GOING_AWAY, "shutting down")
        ),
        other => panic!(
            "client: expected the server's close, got {}",
            describe(&other)
        ),
    }
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));

    let (first, second) = recv(&server_rx, "server reads");
    match first {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::GOING_AWAY, "echoed code"),
        other => panic!(
            "server: expected the client's reply, got {}",
            describe(&other)
        ),
    }
    assert!(
        matches!(second, Err(Error::ConnectionClosed)),
        "server: {}",
        describe(&second)
    );
}

#[test]
fn close_without_status_code_is_answered_without_one() {
    let (addr, server_rx) = reporting_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    ws.close(None).unwrap();
    match ws.read() {
        Ok(Message::Close(None)) => {}
        other => panic!(
            "client: expected an empty close reply, got {}",
            describe(&other)
        ),
    }
    let (first, _) = recv(&server_rx, "server reads");
    assert!(
        matches!(first, Ok(Message::Close(None))),
        "server: {}",
        describe(&first)
    );
}

#[test]
fn messages_sent_before_the_close_are_delivered_before_it() {
    let (addr, server_rx) = reporting_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    ws.write(Message::text("last words")).unwrap();
    ws.close(Some(Close::new(1000, ""))).unwrap();
    assert!(matches!(ws.read(), Ok(Message::Close(Some(_)))));
    let (first, second) = recv(&server_rx, "server reads");
    assert!(
        matches!(&first, Ok(Message::Text(t)) if t == "last words"),
        "server: {}",
        describe(&first)
    );
    assert!(
        matches!(&second, Ok(Message::Close(Some(c))) if c.code == CloseCode::NORMAL),
        "server: {}",
        describe(&second)
    );
}

#[test]
fn no_data_and_no_second_close_after_our_close() {
    let (addr, _server_rx) = reporting_server();
    let mut ws = connect(&ws_url(addr)).unwrap();
    ws.close(Some(Close::new(1000, ""))).unwrap();
    let r = ws.send(Message::text("too late"));
    assert!(
        matches!(r, Err(Error::AlreadyClosed)),
        "send after close: {r:?}"
    );
    let r = ws.close(Some(Close::new(1000, "")));
    assert!(
        matches!(r, Err(Error::AlreadyClosed)),
        "second close: {r:?}"
    );
}

/// A raw server peer that completes the handshake and then ignores everything it is sent.
/// Reports `true` once its connection has been closed by the client.
fn ignoring_raw_server() -> (std::net::SocketAddr, mpsc::Receiver<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = raw_ws_accept(&listener, b"");
        // Wait for the close frame (ignored), then for the connection to end.
        let _ = tx.send(sees_eof(&mut s));
    });
    (addr, rx)
}

#[test]
fn client_drops_a_server_that_never_answers_its_close() {
    let (addr, peer_rx) = ignoring_raw_server();
    let mut ws = ClientBuilder::new(ws_url(addr))
        .settings(short_close_timeout())
        .connect()
        .unwrap();
    ws.close(Some(Close::new(1000, "bye"))).unwrap();
    let r = within(GENEROUS, move || ws.read()).expect(
        "read after close did not return although the peer never answered \
         (close_timeout is 300 ms)",
    );
    assert!(
        r.is_err(),
        "read after an unanswered close must fail, got {}",
        describe(&r)
    );
    assert!(
        recv(&peer_rx, "the unresponsive peer's connection"),
        "the client did not close the TCP connection"
    );
}

#[test]
fn server_drops_a_client_that_never_answers_its_close() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let config = ServerConfig {
        settings: short_close_timeout(),
        ..ServerConfig::default()
    };
    let (addr, _server) = start_server(config, move |mut ws: WebSocket| {
        ws.close(Some(Close::new(CloseCode::GOING_AWAY, "")))
            .unwrap();
        let _ = tx.lock().unwrap().send(ws.read());
    });
    let mut raw = raw_ws_client(addr);
    // The server's close frame arrives; the raw client ignores it and says nothing.
    let f = read_frame(&mut raw).unwrap();
    assert_eq!(f.close_code(), Some(1001));
    match rx.recv_timeout(GENEROUS) {
        Ok(r) => assert!(
            r.is_err(),
            "read after an unanswered close: {}",
            describe(&r)
        ),
        Err(_) => panic!(
            "the server's read after its close did not return although the client never \
             answered (close_timeout is 300 ms)"
        ),
    }
    assert!(
        sees_eof(&mut raw),
        "the server did not close the TCP connection"
    );
}

#[test]
fn peer_that_answers_the_close_but_keeps_tcp_open_is_dropped_after_drop_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, peer_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = raw_ws_accept(&listener, b"");
        let f = read_until_close(&mut s).unwrap();
        // Answer the close, but never close the TCP connection ourselves.
        s.write_all(&frame(true, CLOSE, &f.payload, None)).unwrap();
        let _ = tx.send((f.close_code(), sees_eof(&mut s)));
    });
    // The close handshake completes; only the TCP close is missing: drop_timeout applies,
    // not the (long) close_timeout.
    let mut ws = ClientBuilder::new(ws_url(addr))
        .settings(Settings {
            close_timeout: Duration::from_secs(60),
            drop_timeout: Duration::from_millis(300),
            ..Settings::default()
        })
        .connect()
        .unwrap();
    ws.close(Some(Close::new(3000, "x"))).unwrap();
    let started = std::time::Instant::now();
    let (first, second) =
        within(GENEROUS, move || (ws.read(), ws.read())).expect("the client's read did not return");
    assert!(started.elapsed() >= Duration::from_millis(300));
    match first {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode(3000)),
        other => panic!("client: expected the close reply, got {}", describe(&other)),
    }
    assert!(
        matches!(second, Err(Error::ConnectionClosed)),
        "second read: {}",
        describe(&second)
    );
    let (code, eof) = recv(&peer_rx, "raw peer");
    assert_eq!(code, Some(3000));
    assert!(eof, "the client never closed the TCP connection");
}
