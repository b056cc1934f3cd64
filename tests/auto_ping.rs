//! Auto-ping: pings on a timer, round-trip times reported for their pongs, and a peer that
//! stops answering dropped after the timeout, with `Error::PingTimeout` (both roles).

mod common;

use std::net::TcpListener;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{echo, raw_ws_accept, raw_ws_client, read_frame, start_server, GENEROUS, PING};
use ferrobahn::{AutoPing, ClientBuilder, Error, Message, PingEvent, ServerConfig, Settings};

/// Settings with auto-ping, its events sent to the returned channel.
fn pinging(
    interval: Duration,
    timeout: Duration,
    restart_on_any_traffic: bool,
) -> (Settings, mpsc::Receiver<PingEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let auto_ping = AutoPing {
        size: 20,
        restart_on_any_traffic,
        on_event: Some(Arc::new(move |e| {
            let _ = tx.lock().unwrap().send(e);
        })),
        ..AutoPing::new(interval, timeout)
    };
    let settings = Settings {
        auto_ping: Some(auto_ping),
        ..Default::default()
    };
    (settings, rx)
}

/// A client whose reader runs on its own thread (pongs are read by the reader).
fn reading_client(
    addr: std::net::SocketAddr,
    settings: Settings,
) -> (ferrobahn::Writer, std::thread::JoinHandle<()>) {
    let ws = ClientBuilder::new(common::ws_url(addr))
        .settings(settings)
        .connect()
        .unwrap();
    let (mut reader, writer) = ws.split();
    (
        writer,
        std::thread::spawn(move || while reader.read().is_ok() {}),
    )
}

#[test]
fn pongs_report_round_trip_times() {
    let (addr, _server) = start_server(ServerConfig::default(), echo);
    let (settings, events) = pinging(Duration::from_millis(30), Duration::from_secs(5), true);
    let (writer, reading) = reading_client(addr, settings);
    let mut pongs = 0;
    let mut sent = 0;
    let deadline = Instant::now() + GENEROUS;
    while pongs < 3 && Instant::now() < deadline {
        match events.recv_timeout(GENEROUS) {
            Ok(PingEvent::Sent) => sent += 1,
            Ok(PingEvent::Pong { rtt }) => {
                assert!(rtt < GENEROUS, "{rtt:?}");
                pongs += 1;
                // A pong answers the ping sent before it.
                assert!(sent >= pongs);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pongs, 3);
    writer.close(None).unwrap();
    reading.join().unwrap();
}

#[test]
fn client_drops_a_server_that_stops_answering() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = std::thread::spawn(move || {
        let mut s = raw_ws_accept(&listener, b"");
        // Reads the pings and never answers; returns at EOF.
        let mut pings = 0;
        while let Ok(f) = read_frame(&mut s) {
            if f.opcode == PING {
                assert_eq!(f.payload.len(), 20);
                pings += 1;
            }
        }
        pings
    });
    let (settings, events) = pinging(Duration::from_millis(50), Duration::from_millis(200), true);
    let mut ws = ClientBuilder::new(format!("ws://{addr}/"))
        .settings(settings)
        .connect()
        .unwrap();
    let started = Instant::now();
    let r = ws.read();
    assert!(matches!(r, Err(Error::PingTimeout)), "{r:?}");
    // One interval and one timeout, with room for a slow machine.
    assert!(started.elapsed() < GENEROUS);
    let seen: Vec<_> = events.try_iter().collect();
    assert_eq!(seen, [PingEvent::Sent, PingEvent::Timeout]);
    assert_eq!(silent.join().unwrap(), 1);
}

#[test]
fn server_drops_a_client_that_stops_answering() {
    let (settings, events) = pinging(Duration::from_millis(50), Duration::from_millis(200), true);
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let config = ServerConfig {
        settings,
        ..Default::default()
    };
    let (addr, _server) = start_server(config, move |mut ws| {
        let _ = tx.lock().unwrap().send(ws.read());
    });
    // A raw client: handshake, then silence (it never reads or answers).
    let _client = raw_ws_client(addr);
    let r = rx.recv_timeout(GENEROUS).expect("the server's read ended");
    assert!(matches!(r, Err(Error::PingTimeout)), "{r:?}");
    assert_eq!(
        events.try_iter().collect::<Vec<_>>(),
        [PingEvent::Sent, PingEvent::Timeout]
    );
}

/// Counts the pings a client sends over `period` while it also sends a message every
/// 10 ms (the server echoes them).
fn pings_during_traffic(restart_on_any_traffic: bool, period: Duration) -> usize {
    let (addr, _server) = start_server(ServerConfig::default(), echo);
    let (settings, events) = pinging(
        Duration::from_millis(300),
        Duration::from_secs(5),
        restart_on_any_traffic,
    );
    let (writer, reading) = reading_client(addr, settings);
    let end = Instant::now() + period;
    while Instant::now() < end {
        writer.send(Message::text("tick")).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    writer.close(None).unwrap();
    reading.join().unwrap();
    events.try_iter().filter(|e| *e == PingEvent::Sent).count()
}

#[test]
fn traffic_postpones_pings_only_when_asked() {
    let period = Duration::from_millis(1000);
    assert_eq!(pings_during_traffic(true, period), 0);
    assert!(pings_during_traffic(false, period) >= 2);
}
