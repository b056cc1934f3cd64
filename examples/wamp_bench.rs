//! Load driver for the WAMP benchmark against a router (benches/wamp_crossbar/run.py).
//!
//! ```text
//! wamp_bench URL callee                  registers com.bench.echo; prints `ready`; runs until killed
//! wamp_bench URL caller N INFLIGHT       N calls, at most INFLIGHT outstanding
//! wamp_bench URL subscriber N            prints `ready`, then waits for N events on com.bench.topic
//! wamp_bench URL publisher N             publishes N events on com.bench.topic
//! ```
//!
//! The measuring modes print one line: `N SECONDS USER_MS SYS_MS` (this process's CPU time
//! over the measured part, from /proc/self/stat).

use std::collections::VecDeque;
use std::io::Write;
use std::time::Instant;

use ferrobahn::args;
use ferrobahn::wamp::{CallOptions, Client, ClientOptions, PublishOptions, SubscribeOptions};

/// This process's user and system CPU time in milliseconds.
fn cpu_ms() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name (state
    // first); in clock ticks of 1/100 s (USER_HZ).
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) * 10, ticks(12) * 10)
}

fn report(n: usize, started: Instant, cpu0: (u64, u64)) {
    let secs = started.elapsed().as_secs_f64();
    let cpu1 = cpu_ms();
    println!("{n} {secs:.4} {} {}", cpu1.0 - cpu0.0, cpu1.1 - cpu0.1);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let url = &a[1];
    let client = Client::connect(
        url,
        ClientOptions::new("realm1").serializer(ferrobahn::wamp::Format::Json),
    )?;
    match a[2].as_str() {
        "callee" => {
            client.register("com.bench.echo", Default::default(), |args, _| Ok(args))?;
            println!("ready");
            std::io::stdout().flush()?;
            client.wait_closed(None);
        }
        "caller" => {
            let n: usize = a[3].parse()?;
            let inflight: usize = a[4].parse()?;
            let (t, cpu) = (Instant::now(), cpu_ms());
            let mut window = VecDeque::new();
            for i in 0..n {
                if window.len() == inflight {
                    let p: ferrobahn::wamp::Progress = window.pop_front().unwrap();
                    p.wait()?;
                }
                window.push_back(client.call_with(
                    "com.bench.echo",
                    args![i, "payload"],
                    &CallOptions::default(),
                )?);
            }
            for p in window {
                p.wait()?;
            }
            report(n, t, cpu);
        }
        "subscriber" => {
            let n: usize = a[3].parse()?;
            let (_, events) =
                client.subscribe_channel("com.bench.topic", SubscribeOptions::default())?;
            println!("ready");
            std::io::stdout().flush()?;
            events.recv()?;
            let (t, cpu) = (Instant::now(), cpu_ms());
            for _ in 1..n {
                events.recv()?;
            }
            report(n - 1, t, cpu);
        }
        "publisher" => {
            let n: usize = a[3].parse()?;
            let (t, cpu) = (Instant::now(), cpu_ms());
            for i in 0..n {
                client.publish(
                    "com.bench.topic",
                    args![i, "payload"],
                    &PublishOptions::default(),
                )?;
            }
            report(n, t, cpu);
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}
