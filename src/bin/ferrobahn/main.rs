//! The `ferrobahn` command: an embedded WAMP router, a demo, and WAMP client commands that
//! work against any router.
//!
//! ```text
//! ferrobahn router [--config FILE] [--listen ADDR]    run a router (default 127.0.0.1:8080, realm1)
//! ferrobahn demo                                        a router plus a demo client, then exit
//! ferrobahn call URL PROCEDURE [JSON-ARG]...            call and print the result
//! ferrobahn publish URL TOPIC [JSON-ARG]...             publish (acknowledged)
//! ferrobahn subscribe URL TOPIC [--count N]             print events
//! ferrobahn register URL PROCEDURE [--exec CMD]         echo, or run a shell command
//! ferrobahn sessions URL                                the session meta API
//! ferrobahn bench URL [--serializer S] [--router-pid P]  load generator (see `bench`)
//! ```
//!
//! URLs: `ws://host:port/ws`, `rs://host:port`, `unix:///path`; realm from `--realm`
//! (default `realm1`); `--authid ID` with `--ticket`, `--wampcra` or `--scram` SECRET to
//! authenticate; `--serializer json|msgpack|cbor|ubjson|flatbuffers` to speak only that one
//! (default: the first four offered, the router picks). The router's config file: `examples/router.toml`.

mod bench;
mod config;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrobahn::wamp::router::{RealmConfig, Router, RouterOptions};
use ferrobahn::wamp::serde_json;
use ferrobahn::wamp::{
    Args, Client, ClientOptions, Credential, PublishOptions, RegisterOptions, Serializer,
};

const USAGE: &str = "usage:
  ferrobahn router [--config FILE] [--listen ADDR] [--realm NAME]... [--unix PATH]
  ferrobahn demo
  ferrobahn call URL PROCEDURE [JSON-ARG]... [--realm NAME]
  ferrobahn publish URL TOPIC [JSON-ARG]... [--realm NAME]
  ferrobahn subscribe URL TOPIC [--count N] [--realm NAME]
  ferrobahn register URL PROCEDURE [--exec SHELL-COMMAND] [--realm NAME]
  ferrobahn sessions URL [--realm NAME]
  (client commands: --authid ID with --ticket T | --wampcra SECRET | --scram PASSWORD,
   --serializer json|msgpack|cbor|ubjson|flatbuffers)
  ferrobahn bench URL [--serializer json|msgpack|cbor|ubjson|flatbuffers] [--secs S]
                  [--scenarios call,call100,pub1,fan10,fan1000] [--router-pid PID] [--label L]";

type Res = Result<(), Box<dyn std::error::Error>>;

/// Positional arguments and `--name value` options.
struct Cli {
    pos: Vec<String>,
    opts: Vec<(String, String)>,
}

impl Cli {
    fn parse(args: impl Iterator<Item = String>) -> Cli {
        let mut pos = Vec::new();
        let mut opts = Vec::new();
        let mut it = args.peekable();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let v = it.next().unwrap_or_default();
                opts.push((name.to_owned(), v));
            } else {
                pos.push(a);
            }
        }
        Cli { pos, opts }
    }

    fn opt(&self, name: &str) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.opts
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn realm(&self) -> String {
        self.opt("realm").unwrap_or("realm1").to_owned()
    }
}

/// JSON command-line values as WAMP arguments (a bare word that is not JSON is a string).
fn json_args(values: &[String]) -> Args {
    let mut a = Args::new();
    for v in values {
        let j = serde_json::from_str::<serde_json::Value>(v)
            .unwrap_or_else(|_| serde_json::Value::String(v.clone()));
        a = a.arg(j);
    }
    a
}

fn show(a: &Args) -> String {
    let args = serde_json::Value::Array(a.args.clone());
    if a.kwargs.is_empty() {
        args.to_string()
    } else {
        format!("{args} {}", serde_json::Value::Object(a.kwargs.clone()))
    }
}

/// `router`: options from `--config FILE` (or the defaults), then the flags on top.
fn router(cli: &Cli) -> Res {
    let mut o = match cli.opt("config") {
        Some(path) => config::load(std::path::Path::new(path))?,
        None => RouterOptions::default(),
    };
    let realms = cli.all("realm");
    if !realms.is_empty() {
        o.config.realms = realms.iter().map(|r| RealmConfig::open(r)).collect();
    }
    if let Some(l) = cli.opt("listen") {
        o.listen = l.to_owned();
    }
    #[cfg(unix)]
    if let Some(u) = cli.opt("unix") {
        o.unix = Some(u.into());
    }
    let names: Vec<String> = o.config.realms.iter().map(|r| r.name.clone()).collect();
    let r = Router::start(o)?;
    println!(
        "ferrobahn router: {} (WebSocket), {} (RawSocket); realms {}",
        r.ws_url(),
        r.rs_url(),
        names.join(", ")
    );
    r.wait();
    Ok(())
}

/// The main job on defaults: a router on 127.0.0.1:8080 (or a free port when that is
/// taken), a callee and a subscriber, a caller and a publisher, in one process.
fn demo() -> Res {
    let r = Router::start(RouterOptions::default()).or_else(|_| {
        Router::start(RouterOptions {
            listen: "127.0.0.1:0".into(),
            ..Default::default()
        })
    })?;
    println!("router: {} and {}", r.ws_url(), r.rs_url());
    let callee = Client::connect(&r.rs_url(), ClientOptions::new("realm1"))?;
    callee.register("com.demo.add2", RegisterOptions::default(), |a, _| {
        let (x, y): (i64, i64) = a.decode()?;
        Ok(ferrobahn::args![x + y])
    })?;
    let (_, events) = callee.subscribe_channel("com.demo.tick", Default::default())?;
    println!(
        "callee/subscriber joined over RawSocket ({:?}) as session {}",
        callee.format(),
        callee.session_id()
    );
    let caller = Client::connect(&r.ws_url(), ClientOptions::new("realm1"))?;
    println!(
        "caller/publisher joined over WebSocket ({:?}) as session {}",
        caller.format(),
        caller.session_id()
    );
    let sum: i64 = caller
        .call("com.demo.add2", ferrobahn::args![20, 22])?
        .get(0)?;
    println!("call com.demo.add2(20, 22) -> {sum}");
    let started = Instant::now();
    let n = 10_000;
    for i in 0..n {
        let _: i64 = caller
            .call("com.demo.add2", ferrobahn::args![i, 1])?
            .get(0)?;
    }
    let took = started.elapsed();
    println!(
        "{n} sequential calls in {:.2} s ({:.0} calls/s)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    for i in 0..3 {
        caller.publish(
            "com.demo.tick",
            ferrobahn::args![i],
            &PublishOptions {
                acknowledge: true,
                ..Default::default()
            },
        )?;
        let (a, _) = events.recv_timeout(Duration::from_secs(5))?;
        println!("event com.demo.tick {}", show(&a));
    }
    println!("sessions on the router: {}", caller.session_count()?);
    caller.leave(Duration::from_secs(5))?;
    callee.leave(Duration::from_secs(5))?;
    r.stop();
    println!("done");
    Ok(())
}

/// A session for the client commands: `--authid` with `--ticket`, `--wampcra` or `--scram`
/// secrets (each offered), anonymous without.
fn client(cli: &Cli) -> Result<Client, Box<dyn std::error::Error>> {
    let url = cli.pos.get(1).ok_or(USAGE)?;
    let mut o = ClientOptions::new(cli.realm());
    if let Some(name) = cli.opt("serializer") {
        o = o.serializer(
            Serializer::from_name(name).ok_or_else(|| format!("unknown serializer {name}"))?,
        );
    }
    let mut credentials = Vec::new();
    credentials.extend(cli.opt("ticket").map(|t| Credential::Ticket(t.into())));
    credentials.extend(cli.opt("wampcra").map(|t| Credential::WampCra(t.into())));
    credentials.extend(cli.opt("scram").map(|t| Credential::Scram(t.into())));
    if let Some(id) = cli.opt("authid") {
        o = o.auth(id, credentials);
    } else if !credentials.is_empty() {
        return Err("--ticket, --wampcra and --scram need --authid".into());
    }
    Ok(Client::connect(url, o)?)
}

/// The options each command takes: anything else is an error, not silently ignored.
fn known_options(cmd: &str) -> &'static [&'static str] {
    const CLIENT: &[&str] = &[
        "realm",
        "authid",
        "ticket",
        "wampcra",
        "scram",
        "serializer",
    ];
    match cmd {
        "router" => &["config", "listen", "realm", "unix"],
        "call" | "publish" | "sessions" => CLIENT,
        "subscribe" => &[
            "realm",
            "authid",
            "ticket",
            "wampcra",
            "scram",
            "serializer",
            "count",
        ],
        "register" => &[
            "realm",
            "authid",
            "ticket",
            "wampcra",
            "scram",
            "serializer",
            "exec",
        ],
        "bench" => &[
            "serializer",
            "secs",
            "scenarios",
            "router-pid",
            "label",
            "realm",
        ],
        _ => &[],
    }
}

fn run(cli: Cli) -> Res {
    let cmd = cli.pos.first().map(String::as_str).unwrap_or("");
    if let Some((name, _)) = cli
        .opts
        .iter()
        .find(|(n, _)| !known_options(cmd).contains(&n.as_str()))
    {
        return Err(format!("ferrobahn {cmd}: unknown option --{name}\n{USAGE}").into());
    }
    match cmd {
        "router" => router(&cli),
        "demo" => demo(),
        "bench" => bench::run(&cli),
        "call" => {
            let c = client(&cli)?;
            let proc_ = cli.pos.get(2).ok_or(USAGE)?;
            let res = c.call(proc_, json_args(&cli.pos[3..]))?;
            println!("{}", show(&res));
            c.leave(Duration::from_secs(5))?;
            Ok(())
        }
        "publish" => {
            let c = client(&cli)?;
            let topic = cli.pos.get(2).ok_or(USAGE)?;
            let id = c.publish(
                topic,
                json_args(&cli.pos[3..]),
                &PublishOptions {
                    acknowledge: true,
                    ..Default::default()
                },
            )?;
            println!("published {}", id.unwrap_or(0));
            c.leave(Duration::from_secs(5))?;
            Ok(())
        }
        "subscribe" => {
            let c = client(&cli)?;
            let topic = cli.pos.get(2).ok_or(USAGE)?;
            let count: Option<usize> = cli.opt("count").map(str::parse).transpose()?;
            let (_, events) = c.subscribe_channel(topic, Default::default())?;
            println!("subscribed to {topic}");
            let mut seen = 0;
            while count.is_none_or(|n| seen < n) {
                let Ok((a, info)) = events.recv() else { break };
                println!("{} {}", info.topic.as_deref().unwrap_or(topic), show(&a));
                seen += 1;
            }
            c.leave(Duration::from_secs(5))?;
            Ok(())
        }
        "register" => {
            let c = client(&cli)?;
            let procedure = cli.pos.get(2).ok_or(USAGE)?;
            match cli.opt("exec") {
                None => {
                    c.register(procedure, RegisterOptions::default(), |a, _| Ok(a))?;
                    println!("registered {procedure} (echo); Ctrl-C to stop");
                }
                Some(cmd) => {
                    let cmd = cmd.to_owned();
                    c.register(procedure, RegisterOptions::default(), move |a, _| {
                        run_command(&cmd, &a)
                    })?;
                    println!("registered {procedure} (runs a command); Ctrl-C to stop");
                }
            }
            while c.is_connected() {
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(())
        }
        "sessions" => {
            let c = client(&cli)?;
            for s in c.session_list()? {
                println!("{s} {}", c.session_get(s)?);
            }
            c.leave(Duration::from_secs(5))?;
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

/// `register --exec CMD`: runs `sh -c CMD` with the call's arguments as a JSON array on its
/// standard input; its standard output is the result (JSON when it parses, else the text).
/// A non-zero exit is the WAMP error `ferrobahn.error.command_failed` with its standard error.
fn run_command(cmd: &str, a: &Args) -> Result<Args, ferrobahn::wamp::WampError> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let fail = |msg: String| {
        ferrobahn::wamp::WampError::app("ferrobahn.error.command_failed", ferrobahn::args![msg])
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    let input = serde_json::Value::Array(a.args.clone()).to_string();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let value =
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or(serde_json::Value::String(text));
    Ok(Args::new().arg(value))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args[0] == "help" || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(Cli::parse(args.into_iter())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
