//! `log` events: connection lifecycle and protocol errors at debug level, frames at trace
//! level when `Settings::log_frames` asks for them.

mod common;

use std::io::Write;
use std::sync::{mpsc, Mutex};

use common::*;
use ferrobahn::{ServerConfig, Settings};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Collect;

impl log::Log for Collect {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {} {}", r.level(), r.target(), r.args()));
    }
    fn flush(&self) {}
}

#[test]
fn lifecycle_protocol_errors_and_frames_are_logged() {
    log::set_logger(&Collect).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let (done_tx, done_rx) = mpsc::channel();
    let done_tx = Mutex::new(done_tx);
    let config = ServerConfig {
        settings: Settings {
            log_frames: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let (addr, _server) = start_server(config, move |mut ws| {
        while ws.read().is_ok() {}
        let _ = done_tx.lock().unwrap().send(());
    });
    let mut s = raw_ws_client(addr);
    s.write_all(&frame(true, TEXT, b"hello", Some(MASK)))
        .unwrap();
    // An unmasked client frame: a protocol error (1002).
    s.write_all(&frame(true, TEXT, b"bad", None)).unwrap();
    let close = read_until_close(&mut s).unwrap();
    assert_eq!(&close.payload[..2], &1002u16.to_be_bytes());
    drop(s);
    done_rx.recv_timeout(GENEROUS).unwrap();
    let lines = LINES.lock().unwrap().clone();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("WebSocket open"), "{lines:#?}");
    assert!(
        has("ferrobahn::frames in: Text frame, 5 bytes"),
        "{lines:#?}"
    );
    assert!(has("protocol error"), "{lines:#?}");
    assert!(has("closing with 1002"), "{lines:#?}");
    assert!(has("connection closed"), "{lines:#?}");
}
