//! The most any router can do for calls one at a time on this machine: a caller, a relay
//! and an echoing callee, three processes on loopback TCP with no protocol at all. A call
//! through a router is the same four socket hops (caller → router → callee → router →
//! caller); this measures what the hops alone cost, so the router benchmark can say how
//! close to the floor each router gets.
//!
//! ```text
//! cargo run --release --example loopback_floor -- [SECONDS]
//! ```
//! prints `{"round_trips_per_s": …, "direct_round_trips_per_s": …}` (direct: caller and
//! callee without the relay, two hops).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A small WAMP CALL's size.
const MESSAGE: usize = 64;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("echo") => echo(),
        Some("relay") => relay(args[2].parse().expect("port")),
        _ => {
            let secs: f64 = args.get(1).map_or(2.0, |s| s.parse().expect("seconds"));
            let (mut e, port) = spawn(&["echo"]);
            let direct = rate(port, secs);
            let (mut r, relay_port) = spawn(&["relay", &port.to_string()]);
            let relayed = rate(relay_port, secs);
            for c in [&mut r, &mut e] {
                let _ = c.kill();
                let _ = c.wait();
            }
            println!(
                "{{\"round_trips_per_s\": {relayed:.0}, \"direct_round_trips_per_s\": {direct:.0}}}"
            );
        }
    }
}

/// Starts this program in another role; reads back the port it listens on.
fn spawn(args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let mut out = child.stdout.take().expect("stdout");
    let mut b = [0u8; 1];
    while out.read(&mut b).expect("port") == 1 && b[0] != b'\n' {
        line.push(b[0] as char);
    }
    (child, line.trim().parse().expect("port"))
}

fn listen() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", l.local_addr().expect("addr").port());
    l
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

fn echo() {
    let l = listen();
    for s in l.incoming() {
        let mut s = s.expect("accept");
        s.set_nodelay(true).expect("nodelay");
        std::thread::spawn(move || {
            let mut b = [0u8; MESSAGE];
            while s.read_exact(&mut b).is_ok() && s.write_all(&b).is_ok() {}
        });
    }
}

/// Forwards each way on its own thread, as a thread-per-connection router reads each
/// connection on its own thread.
fn relay(upstream: u16) {
    let l = listen();
    let mut up = connect(upstream);
    let (mut down, _) = l.accept().expect("accept");
    down.set_nodelay(true).expect("nodelay");
    let (mut up2, mut down2) = (
        up.try_clone().expect("clone"),
        down.try_clone().expect("clone"),
    );
    std::thread::spawn(move || {
        let mut b = [0u8; MESSAGE];
        while up2.read_exact(&mut b).is_ok() && down2.write_all(&b).is_ok() {}
    });
    let mut b = [0u8; MESSAGE];
    while down.read_exact(&mut b).is_ok() && up.write_all(&b).is_ok() {}
}

/// Round trips per second, one at a time, for `secs` after a warm-up.
fn rate(port: u16, secs: f64) -> f64 {
    let mut s = connect(port);
    let out = [1u8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    for _ in 0..100 {
        s.write_all(&out).expect("write");
        s.read_exact(&mut back).expect("read");
    }
    let limit = Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < limit {
        s.write_all(&out).expect("write");
        s.read_exact(&mut back).expect("read");
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}
