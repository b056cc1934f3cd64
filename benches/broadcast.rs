//! Broadcast: a 1 KiB message to 100 and 1,000 connections on this machine, deliveries/s,
//! prepared ([`PreparedMessage`], compressed once) next to per-connection sending
//! (`write_binary`, compressed per connection), in the same run. With and without
//! permessage-deflate (no context takeover, so one compression can serve everyone).
//!
//! A delivery counts when the client's reader thread has the whole message. Every client
//! and server connection lives in this process (2 threads per connection), so the figures
//! include both ends' work on 2 cores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrobahn::{
    ClientBuilder, DeflateAccept, DeflateOffer, PreparedMessage, Server, ServerConfig, Writer,
};

struct Fleet {
    writers: Vec<Writer>,
    delivered: Arc<AtomicU64>,
}

fn fleet(n: usize, deflate: bool) -> Fleet {
    let config = ServerConfig {
        deflate: deflate.then(|| DeflateAccept {
            no_context_takeover: true,
            ..Default::default()
        }),
        max_connections: n + 10,
        thread_stack_size: 128 * 1024,
        ..Default::default()
    };
    let server = Server::bind("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, rx) = mpsc::channel::<Writer>();
    let tx = Mutex::new(tx);
    std::thread::spawn(move || {
        server.serve(move |ws| {
            let (mut reader, writer) = ws.split();
            let _ = tx.lock().unwrap().send(writer);
            while reader.read().is_ok() {}
        })
    });
    let delivered = Arc::new(AtomicU64::new(0));
    for _ in 0..n {
        let mut b = ClientBuilder::new(format!("ws://{addr}/"));
        if deflate {
            b = b.deflate(DeflateOffer::default());
        }
        let ws = b.connect().unwrap();
        let counter = Arc::clone(&delivered);
        std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let mut ws = ws;
                while let Ok(m) = ws.read() {
                    if m.is_data() {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .unwrap();
    }
    let writers = (0..n)
        .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
        .collect();
    Fleet { writers, delivered }
}

/// Sends `iters` rounds (the message to every connection) and waits for all deliveries.
fn rounds(f: &Fleet, iters: u64, send: &dyn Fn(&Writer)) -> Duration {
    let want = f.delivered.load(Ordering::Relaxed) + iters * f.writers.len() as u64;
    let t = Instant::now();
    for _ in 0..iters {
        for w in &f.writers {
            send(w);
        }
        for w in &f.writers {
            w.flush().unwrap();
        }
    }
    while f.delivered.load(Ordering::Relaxed) < want {
        std::thread::yield_now();
    }
    t.elapsed()
}

fn broadcast(c: &mut Criterion) {
    // JSON-like text, as chat and telemetry broadcasts are: compressible.
    let mut payload = String::new();
    let mut i = 0;
    while payload.len() < 1024 {
        payload.push_str(&format!(
            r#"{{"sensor":{i},"value":{}.5,"unit":"C"}},"#,
            20 + i % 9
        ));
        i += 1;
    }
    payload.truncate(1024);
    let payload = payload.into_bytes();
    let mut g = c.benchmark_group("broadcast_1k");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));
    for n in [100usize, 1000] {
        for deflate in [false, true] {
            let f = fleet(n, deflate);
            g.throughput(Throughput::Elements(n as u64));
            let tag = if deflate { "deflate" } else { "plain" };
            let prepared = PreparedMessage::binary(&payload);
            g.bench_function(BenchmarkId::new(format!("prepared_{tag}"), n), |b| {
                b.iter_custom(|iters| rounds(&f, iters, &|w| w.write_prepared(&prepared).unwrap()))
            });
            g.bench_function(BenchmarkId::new(format!("per_connection_{tag}"), n), |b| {
                b.iter_custom(|iters| rounds(&f, iters, &|w| w.write_binary(&payload).unwrap()))
            });
            for w in &f.writers {
                let _ = w.close(None);
            }
        }
    }
    g.finish();
}

criterion_group!(benches, broadcast);
criterion_main!(benches);
