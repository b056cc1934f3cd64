//! A connection split into a `Reader` and `Writer`s: one thread blocks in `read` while
//! others send through cloned writers; nothing is lost, duplicated or reordered.

mod common;

use std::sync::mpsc;
use std::thread;

use common::*;
use ferrobahn::{connect, Close, Error, Message, ServerConfig, WebSocket};

const COUNT: usize = 1000;

/// Reads `n` text messages on its own thread; the result comes back on the receiver.
fn spawn_reader(
    mut reader: ferrobahn::Reader,
    n: usize,
) -> (mpsc::Receiver<()>, mpsc::Receiver<Vec<String>>) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        ready_tx.send(()).unwrap();
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            match reader.read() {
                Ok(Message::Text(t)) => got.push(t.to_string()),
                other => panic!(
                    "reader: after {} messages got {}",
                    got.len(),
                    describe(&other)
                ),
            }
        }
        let _ = done_tx.send(got);
    });
    (ready_rx, done_rx)
}

fn wait_all(done: &mpsc::Receiver<Vec<String>>) -> Vec<String> {
    done.recv_timeout(GENEROUS * 3)
        .expect("the reader thread did not receive every echo")
}

#[test]
fn reader_blocked_in_read_while_cloned_writer_sends_1000_in_order() {
    let addr = start_echo_server();
    let ws = connect(&ws_url(addr)).unwrap();
    let (reader, writer) = ws.split();
    let (ready, done) = spawn_reader(reader, COUNT);
    recv(&ready, "reader thread start");
    // Give the reader time to block in the socket read (not asserted).
    thread::sleep(std::time::Duration::from_millis(50));

    let w = writer.clone();
    let sender = thread::spawn(move || {
        for i in 0..COUNT {
            w.send(Message::text(format!("message {i}"))).unwrap();
        }
    });
    sender.join().expect("sender thread");
    let got = wait_all(&done);
    let expected: Vec<String> = (0..COUNT).map(|i| format!("message {i}")).collect();
    assert_eq!(got, expected);
    drop(writer);
}

#[test]
fn buffered_writes_from_another_thread_go_out_on_flush() {
    let addr = start_echo_server();
    let ws = connect(&ws_url(addr)).unwrap();
    let (reader, writer) = ws.split();
    let (ready, done) = spawn_reader(reader, COUNT);
    recv(&ready, "reader thread start");
    thread::sleep(std::time::Duration::from_millis(50));

    let w = writer.clone();
    thread::spawn(move || {
        for i in 0..COUNT {
            w.write_text(&format!("queued {i}")).unwrap();
        }
        w.flush().unwrap();
    })
    .join()
    .unwrap();
    let got = wait_all(&done);
    let expected: Vec<String> = (0..COUNT).map(|i| format!("queued {i}")).collect();
    assert_eq!(got, expected);
}

#[test]
fn two_writer_threads_keep_their_own_order_and_lose_nothing() {
    let addr = start_echo_server();
    let ws = connect(&ws_url(addr)).unwrap();
    let (reader, writer) = ws.split();
    let (ready, done) = spawn_reader(reader, COUNT);
    recv(&ready, "reader thread start");

    let senders: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|tag| {
            let w = writer.clone();
            thread::spawn(move || {
                for i in 0..COUNT / 2 {
                    w.send(Message::text(format!("{tag} {i}"))).unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let got = wait_all(&done);
    for tag in ["a", "b"] {
        let mine: Vec<&String> = got
            .iter()
            .filter(|m| m.starts_with(&format!("{tag} ")))
            .collect();
        let expected: Vec<String> = (0..COUNT / 2).map(|i| format!("{tag} {i}")).collect();
        assert_eq!(
            mine.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            expected.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "messages of writer {tag}"
        );
    }
    assert_eq!(got.len(), COUNT);
}

#[test]
fn server_pushes_from_a_writer_thread_while_its_reader_blocks() {
    let (result_tx, result_rx) = mpsc::channel();
    let (addr, _server) = start_server(ServerConfig::default(), move |ws: WebSocket| {
        let (mut reader, writer) = ws.split();
        let pusher = thread::spawn(move || {
            for i in 0..COUNT {
                writer
                    .send(Message::binary((i as u32).to_be_bytes().to_vec()))
                    .unwrap();
            }
        });
        // Blocks until the client closes.
        let r = reader.read();
        pusher.join().unwrap();
        let _ = result_tx.send(r);
    });
    let mut ws = connect(&ws_url(addr)).unwrap();
    for i in 0..COUNT {
        match ws.read() {
            Ok(Message::Binary(b)) => assert_eq!(b, (i as u32).to_be_bytes(), "message {i}"),
            other => panic!("message {i}: got {}", describe(&other)),
        }
    }
    ws.close(Some(Close::new(1000, "done"))).unwrap();
    match ws.read() {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code.0, 1000),
        other => panic!("expected the close reply, got {}", describe(&other)),
    }
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    match recv(&result_rx, "server reader result") {
        Ok(Message::Close(Some(c))) => assert_eq!((c.code.0, c.reason.as_str()), (1000, "done")),
        other => panic!("server reader got {}", describe(&other)),
    }
}
