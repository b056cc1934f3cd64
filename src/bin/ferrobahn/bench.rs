//! `ferrobahn bench`: a WAMP load generator for any router, so ours and another (Crossbar.io)
//! are measured by the same client code in the same run.
//!
//! Scenarios, each run for a fixed time after its sessions have joined:
//! - `call`: one caller, one callee (an echo procedure), one call at a time;
//! - `call100`: the same with 100 calls in flight (pipelined on one session);
//! - `pub1`, `fan10`, `fan1000`: one publisher, 1, 10 or 1,000 subscribers; events are
//!   published without acknowledgement, and the publisher keeps at most [`WINDOW`] events
//!   ahead of the slowest subscriber, so neither router is asked to buffer without bound (ours
//!   drops a consumer whose queue fills, which a benchmark must not provoke).
//!
//! With `--router-pid`, the router's CPU time (user and system, summed over its process tree,
//! from `/proc`: Crossbar runs its router in a child process) is read before and after each
//! timed phase and reported per message, and its resident memory before and after the
//! `fan1000` sessions joined gives memory per idle session. Output: one JSON object per
//! scenario on stdout.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrobahn::wamp::serde_json::{self, json};
use ferrobahn::wamp::{
    Args, CallOptions, Client, ClientOptions, PublishOptions, RegisterOptions, Serializer,
};

use super::{Cli, Res, USAGE};

/// How many events the publisher may be ahead of the slowest subscriber.
const WINDOW: u64 = 500;
/// The payload of every call and event: a small, typical argument list.
fn payload(i: u64) -> Args {
    ferrobahn::args![i, "hello, world", 3.25]
}

pub fn run(cli: &Cli) -> Res {
    let url = cli.pos.get(1).ok_or(USAGE)?.clone();
    let name = cli.opt("serializer").unwrap_or("json");
    let serializer =
        Serializer::from_name(name).ok_or_else(|| format!("unknown serializer {name}"))?;
    let secs: f64 = cli.opt("secs").map(str::parse).transpose()?.unwrap_or(2.0);
    let pid: Option<u32> = cli.opt("router-pid").map(str::parse).transpose()?;
    let label = cli.opt("label").unwrap_or("router").to_owned();
    let scenarios = cli
        .opt("scenarios")
        .unwrap_or("call,call100,pub1,fan10,fan1000")
        .to_owned();
    let b = Bench {
        url,
        realm: cli.realm(),
        serializer,
        time: Duration::from_secs_f64(secs),
        pid,
        label,
    };
    for s in scenarios.split(',') {
        let r = match s {
            "call" => b.calls(1)?,
            "call100" => b.calls(100)?,
            "pub1" => b.fanout(1)?,
            "fan10" => b.fanout(10)?,
            "fan1000" => b.fanout(1000)?,
            other => return Err(format!("unknown scenario {other}").into()),
        };
        println!("{}", serde_json::to_string(&r.json(s, &b))?);
    }
    Ok(())
}

struct Bench {
    url: String,
    realm: String,
    serializer: Serializer,
    time: Duration,
    pid: Option<u32>,
    label: String,
}

/// What one scenario measured.
struct Outcome {
    messages: u64,
    elapsed: Duration,
    cpu: Option<Cpu>,
    /// Router resident memory per idle session, bytes (`fan1000` only).
    idle_session_bytes: Option<f64>,
}

impl Outcome {
    fn json(&self, scenario: &str, b: &Bench) -> serde_json::Value {
        let n = self.messages.max(1) as f64;
        let transport = if b.url.starts_with("ws") { "ws" } else { "rs" };
        let mut v = json!({
            "router": b.label,
            "scenario": scenario,
            "serializer": b.serializer.name(),
            "transport": transport,
            "messages": self.messages,
            "seconds": self.elapsed.as_secs_f64(),
            "per_second": self.messages as f64 / self.elapsed.as_secs_f64(),
        });
        if let Some(c) = &self.cpu {
            v["router_user_us_per_msg"] = json!(c.user_s * 1e6 / n);
            v["router_sys_us_per_msg"] = json!(c.sys_s * 1e6 / n);
        }
        if let Some(m) = self.idle_session_bytes {
            v["router_bytes_per_idle_session"] = json!(m);
        }
        v
    }
}

impl Bench {
    fn connect(&self, workers: usize) -> Result<Client, Box<dyn std::error::Error>> {
        let mut o = ClientOptions::new(self.realm.clone()).serializer(self.serializer);
        o.workers = workers;
        o.timeout = Duration::from_secs(30);
        Ok(Client::connect(&self.url, o)?)
    }

    /// Calls with `inflight` calls outstanding; "messages" are completed calls.
    fn calls(&self, inflight: usize) -> Result<Outcome, Box<dyn std::error::Error>> {
        let callee = self.connect(4)?;
        let procedure = format!("bench.echo.{}", callee.session_id());
        callee.register(&procedure, RegisterOptions::default(), |a, _| Ok(a))?;
        let caller = self.connect(1)?;
        let opts = CallOptions::default();
        // Warm-up: connections, allocations, the router's registration lookup.
        for i in 0..100 {
            caller.call(&procedure, payload(i))?;
        }
        let before = self.cpu();
        let started = Instant::now();
        let mut pending = VecDeque::with_capacity(inflight);
        let mut done = 0u64;
        let mut i = 0u64;
        loop {
            let running = started.elapsed() < self.time;
            while running && pending.len() < inflight {
                pending.push_back(caller.call_with(&procedure, payload(i), &opts)?);
                i += 1;
            }
            let Some(p) = pending.pop_front() else { break };
            p.wait()?;
            done += 1;
        }
        let elapsed = started.elapsed();
        let cpu = self.cpu_since(before);
        caller.leave(Duration::from_secs(5))?;
        callee.leave(Duration::from_secs(5))?;
        Ok(Outcome {
            messages: done,
            elapsed,
            cpu,
            idle_session_bytes: None,
        })
    }

    /// One publisher, `n` subscribers; "messages" are events delivered.
    fn fanout(&self, n: usize) -> Result<Outcome, Box<dyn std::error::Error>> {
        let publisher = self.connect(1)?;
        let topic = format!("bench.topic.{}", publisher.session_id());
        let rss_before = self.rss();
        // Sessions join from several threads at once (1,000 one after another would take
        // most of a run against a slow router).
        let counts: Vec<Arc<AtomicU64>> = (0..n).map(|_| Arc::new(AtomicU64::new(0))).collect();
        let subscribers = parallel(&counts, |count| {
            let s = self.connect(1)?;
            let c = Arc::clone(count);
            s.subscribe(&topic, Default::default(), move |_, _| {
                c.fetch_add(1, Ordering::Relaxed);
            })?;
            Ok(s)
        })?;
        let idle_session_bytes = match (rss_before, self.rss()) {
            (Some(a), Some(b)) if n >= 100 => Some(b.saturating_sub(a) as f64 / n as f64),
            _ => None,
        };
        let slowest = || counts.iter().map(|c| c.load(Ordering::Relaxed)).min();
        let total = || {
            counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum::<u64>()
        };
        let opts = PublishOptions::default();
        // Warm-up: one acknowledged event, seen by every subscriber.
        publisher.publish(
            &topic,
            payload(0),
            &PublishOptions {
                acknowledge: true,
                ..Default::default()
            },
        )?;
        wait_until(|| slowest() == Some(1), Duration::from_secs(30))?;
        let base = total();
        let before = self.cpu();
        let started = Instant::now();
        let mut published = 1u64;
        while started.elapsed() < self.time {
            if published - slowest().unwrap_or(published) >= WINDOW {
                std::thread::sleep(Duration::from_micros(100));
                continue;
            }
            publisher.publish(&topic, payload(published), &opts)?;
            published += 1;
        }
        wait_until(|| slowest() == Some(published), Duration::from_secs(60))?;
        let elapsed = started.elapsed();
        let cpu = self.cpu_since(before);
        let delivered = total() - base;
        parallel(&subscribers, |s| {
            let _ = s.leave(Duration::from_secs(5));
            Ok(())
        })?;
        publisher.leave(Duration::from_secs(5))?;
        Ok(Outcome {
            messages: delivered,
            elapsed,
            cpu,
            idle_session_bytes,
        })
    }

    fn cpu(&self) -> Option<Cpu> {
        self.pid.and_then(tree_cpu)
    }

    fn cpu_since(&self, before: Option<Cpu>) -> Option<Cpu> {
        let (a, b) = (before?, self.cpu()?);
        Some(Cpu {
            user_s: b.user_s - a.user_s,
            sys_s: b.sys_s - a.sys_s,
        })
    }

    fn rss(&self) -> Option<u64> {
        self.pid.and_then(tree_rss)
    }
}

/// `f` on every item from 8 threads; the results in item order.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, Box<dyn std::error::Error>> + Sync,
) -> Result<Vec<R>, Box<dyn std::error::Error>> {
    let chunk = items.len().div_ceil(8).max(1);
    let results: Vec<Result<Vec<R>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || {
                    part.iter()
                        .map(|t| f(t).map_err(|e| e.to_string()))
                        .collect::<Result<Vec<R>, String>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a bench thread panicked".into()))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

fn wait_until(ok: impl Fn() -> bool, limit: Duration) -> Res {
    let started = Instant::now();
    while !ok() {
        if started.elapsed() > limit {
            return Err("events were lost: not every subscriber got every event".into());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// CPU seconds.
#[derive(Clone, Copy)]
struct Cpu {
    user_s: f64,
    sys_s: f64,
}

/// `pid` and its descendants (Crossbar's router is a worker process under its controller).
fn tree(pid: u32) -> Vec<u32> {
    let mut parent = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(f) = stat_fields(p) {
                if let Some(pp) = f.get(1).and_then(|s| s.parse::<u32>().ok()) {
                    parent.insert(p, pp);
                }
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parent.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// The fields of `/proc/PID/stat` after the command name: state, ppid, ...
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

fn tree_cpu(pid: u32) -> Option<Cpu> {
    // utime and stime are fields 14 and 15 of stat, in USER_HZ (100 on Linux) ticks.
    let mut c = Cpu {
        user_s: 0.0,
        sys_s: 0.0,
    };
    for p in tree(pid) {
        let f = stat_fields(p)?;
        c.user_s += f.get(11)?.parse::<f64>().ok()? / 100.0;
        c.sys_s += f.get(12)?.parse::<f64>().ok()? / 100.0;
    }
    Some(c)
}

fn tree_rss(pid: u32) -> Option<u64> {
    let mut total = 0;
    for p in tree(pid) {
        let s = std::fs::read_to_string(format!("/proc/{p}/status")).ok()?;
        let kb: u64 = s
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        total += kb * 1024;
    }
    Some(total)
}
