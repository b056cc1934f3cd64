//! Echo servers for the side-by-side benchmarks, each run in its own process (the bench
#![allow(dead_code)] // each bench binary uses part of it
//! binary re-executes itself with `--server NAME`) so its CPU time and memory can be read
//! from /proc without the client's.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

/// Runs the named echo server on 127.0.0.1:0, prints the port, serves until killed.
pub fn run_server(name: &str) -> ! {
    match name {
        "ferrobahn" => {
            let server =
                ferrobahn::Server::bind("127.0.0.1:0", ferrobahn::ServerConfig::default()).unwrap();
            announce(server.local_addr().unwrap().port());
            server
                .serve(|mut ws| loop {
                    match ws.read() {
                        Ok(m) if m.is_data() => {
                            if ws.write(m).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                })
                .unwrap();
            unreachable!()
        }
        "tungstenite" => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            announce(listener.local_addr().unwrap().port());
            for stream in listener.incoming() {
                let stream = stream.unwrap();
                stream.set_nodelay(true).unwrap();
                std::thread::spawn(move || {
                    let config = tungstenite::protocol::WebSocketConfig::default()
                        .max_message_size(Some(64 << 20))
                        .max_frame_size(Some(64 << 20));
                    let Ok(mut ws) = tungstenite::accept_with_config(stream, Some(config)) else {
                        return;
                    };
                    loop {
                        match ws.read() {
                            Ok(m) if m.is_text() || m.is_binary() => {
                                if ws.send(m).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                            Err(_) => return,
                        }
                    }
                });
            }
            unreachable!()
        }
        other => panic!("unknown server {other}"),
    }
}

fn announce(port: u16) {
    let mut out = std::io::stdout();
    writeln!(out, "{port}").unwrap();
    out.flush().unwrap();
}

/// A server process and its port.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
}

impl ServerProcess {
    pub fn start(name: &str) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args(["--server", name])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        Self {
            port: line.trim().parse().unwrap(),
            child,
        }
    }

    /// (user, sys) CPU seconds the process has used.
    pub fn cpu(&self) -> (f64, f64) {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
        let tick = clock_ticks();
        (
            f[11].parse::<f64>().unwrap() / tick,
            f[12].parse::<f64>().unwrap() / tick,
        )
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
            .unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The median of three or more values.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
