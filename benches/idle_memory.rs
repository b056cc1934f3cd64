//! Memory per idle server connection: resident set growth of the server process after 1,000
//! WebSocket connections are open and idle, divided by 1,000; ferrobahn next to tungstenite.
//!
//! `cargo bench --bench idle_memory` (`-- --quick` for 200 connections).

mod peers;

use std::time::Duration;

use peers::{run_server, ServerProcess};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--server") {
        run_server(&args[i + 1]);
    }
    let n = if args.iter().any(|a| a == "--quick") {
        200
    } else {
        1000
    };
    println!(
        "| server | connections | RSS before (KiB) | RSS after (KiB) | KiB per idle connection |"
    );
    println!("|---|---:|---:|---:|---:|");
    for name in ["ferrobahn", "tungstenite"] {
        let server = ServerProcess::start(name);
        std::thread::sleep(Duration::from_millis(200));
        let before = server.rss_kib();
        let url = format!("ws://127.0.0.1:{}/", server.port);
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let mut ws = ferrobahn::connect(&url).unwrap();
            // One round trip so the server's read path has run once.
            ws.send(ferrobahn::Message::text("hi")).unwrap();
            ws.read().unwrap();
            conns.push(ws);
        }
        std::thread::sleep(Duration::from_millis(1000));
        let after = server.rss_kib();
        println!(
            "| {name} | {n} | {before} | {after} | {:.1} |",
            (after - before) as f64 / n as f64
        );
        drop(conns);
    }
}
