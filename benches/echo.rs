//! Echo round trips over loopback TCP, ferrobahn's server next to tungstenite's in the same
//! run: 1 connection; 16 B, 1 KiB, 64 KiB and 1 MiB text messages; 1 and 16 in flight. Each
//! server runs in its own process; we report messages/s and the server's CPU time per message
//! (user and sys, from /proc/PID/stat), alternating the servers over 3 rounds, medians.
//!
//! `cargo bench --bench echo` (add `-- --quick` for one short round). Criterion cannot
//! measure another process's CPU time, so this harness is our own.

mod peers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use ferrobahn::{ClientBuilder, Message};
use peers::{median, run_server, ServerProcess};

const SERVERS: [&str; 2] = ["ferrobahn", "tungstenite"];

struct Sample {
    msgs_per_s: f64,
    user_us: f64,
    sys_us: f64,
}

fn run_case(server: &ServerProcess, size: usize, inflight: usize, duration: Duration) -> Sample {
    let ws = ClientBuilder::new(format!("ws://127.0.0.1:{}/", server.port))
        .connect()
        .unwrap();
    let payload: String = "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .cycle()
        .take(size)
        .collect();
    let (mut reader, writer) = ws.split();
    // A window of `inflight` messages: the writer takes a token per message (flushing when
    // the window is full), the reader gives one back per echo. Writing and reading run on
    // two threads, so large messages cannot deadlock on full socket buffers.
    let (tokens, window) = mpsc::sync_channel::<()>(inflight);
    let stop = Arc::new(AtomicBool::new(false));
    let stop_w = Arc::clone(&stop);
    let sender = thread::spawn(move || {
        while !stop_w.load(Ordering::Relaxed) {
            if let Err(mpsc::TrySendError::Full(())) = tokens.try_send(()) {
                writer.flush().unwrap();
                if tokens.send(()).is_err() {
                    break;
                }
            }
            writer.write_text(&payload).unwrap();
        }
        writer.flush().unwrap();
        writer
    });
    let recv = |reader: &mut ferrobahn::Reader| {
        match reader.read().unwrap() {
            Message::Text(t) => assert_eq!(t.len(), size),
            other => panic!("unexpected {other:?}"),
        }
        window.recv().unwrap();
    };
    let warm = Instant::now();
    while warm.elapsed() < duration / 5 {
        recv(&mut reader);
    }
    let (u0, s0) = server.cpu();
    let t0 = Instant::now();
    let mut n = 0usize;
    while t0.elapsed() < duration {
        recv(&mut reader);
        n += 1;
    }
    let dt = t0.elapsed().as_secs_f64();
    let (u1, s1) = server.cpu();
    stop.store(true, Ordering::Relaxed);
    // Drain the echoes still in flight so the writer's last flush completes.
    while window.try_recv().is_ok() {
        let _ = reader.read();
    }
    let writer = sender.join().unwrap();
    let _ = writer.close(None);
    Sample {
        msgs_per_s: n as f64 / dt,
        user_us: (u1 - u0) * 1e6 / n as f64,
        sys_us: (s1 - s0) * 1e6 / n as f64,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--server") {
        run_server(&args[i + 1]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { 3 };
    let duration = Duration::from_millis(if quick { 500 } else { 2000 });
    println!("| size | in flight | server | msgs/s | server user µs/msg | server sys µs/msg | server total µs/msg |");
    println!("|---:|---:|---|---:|---:|---:|---:|");
    let mut ratios = Vec::new();
    // ECHO_SIZES=65536,1048576 and ECHO_INFLIGHT=16 narrow the matrix (for profiling).
    let list = |var: &str, default: &[usize]| -> Vec<usize> {
        std::env::var(var).map_or(default.to_vec(), |v| {
            v.split(',').map(|x| x.trim().parse().unwrap()).collect()
        })
    };
    for size in list("ECHO_SIZES", &[16, 1024, 65536, 1 << 20]) {
        for inflight in list("ECHO_INFLIGHT", &[1, 16]) {
            let only = std::env::var("ECHO_SERVER").ok();
            let mut samples: Vec<Vec<Sample>> = vec![Vec::new(), Vec::new()];
            for _ in 0..rounds {
                for (i, name) in SERVERS.iter().enumerate() {
                    if only.as_deref().is_some_and(|o| o != *name) {
                        samples[i].push(Sample {
                            msgs_per_s: 0.0,
                            user_us: 0.0,
                            sys_us: 0.0,
                        });
                        continue;
                    }
                    let server = ServerProcess::start(name);
                    samples[i].push(run_case(&server, size, inflight, duration));
                }
            }
            let mut totals = [0.0; 2];
            let mut users = [0.0; 2];
            for (i, name) in SERVERS.iter().enumerate() {
                let s = &samples[i];
                let rate = median(s.iter().map(|x| x.msgs_per_s).collect());
                let user = median(s.iter().map(|x| x.user_us).collect());
                let sys = median(s.iter().map(|x| x.sys_us).collect());
                let total = median(s.iter().map(|x| x.user_us + x.sys_us).collect());
                totals[i] = total;
                users[i] = user;
                println!("| {size} | {inflight} | {name} | {rate:.0} | {user:.2} | {sys:.2} | {total:.2} |");
            }
            ratios.push((size, inflight, totals[0] / totals[1], users[0] / users[1]));
        }
    }
    println!();
    println!("| size | in flight | ferrobahn/tungstenite total CPU per msg | user CPU per msg |");
    println!("|---:|---:|---:|---:|");
    for (size, inflight, total, user) in ratios {
        println!("| {size} | {inflight} | {total:.2}× | {user:.2}× |");
    }
}
