//! Checks the client's HTTP CONNECT proxy support against a real proxy (scripts/proxy.sh
//! starts `proxy.py` with Basic authentication and runs this).
//!
//! `proxy_check PROXY_PORT USER PASSWORD`: starts a `ws://` and a `wss://` echo server on
//! 127.0.0.1 (test certificates made here with rcgen) and checks, printing one line each:
//! ws and wss through the proxy; wrong credentials → 407; an unreachable target → 502;
//! the proxy taken from `http_proxy`/`https_proxy`, and `no_proxy` bypassing it.
//! Exits 1 on the first failure.

use std::net::TcpListener;
use std::process::exit;
use std::sync::Arc;

use ferrobahn::{tls, ClientBuilder, Error, Message, Server, ServerConfig, WebSocket};

fn echo(mut ws: WebSocket) {
    while let Ok(m) = ws.read() {
        if m.is_data() && ws.send(m).is_err() {
            return;
        }
    }
}

fn serve(config: ServerConfig) -> u16 {
    let server = Server::bind("127.0.0.1:0", config).expect("bind");
    let port = server.local_addr().expect("addr").port();
    std::thread::spawn(move || server.serve(echo));
    port
}

fn check(name: &str, ok: bool, detail: impl std::fmt::Display) {
    if ok {
        println!("ok   {name}");
    } else {
        println!("FAIL {name}: {detail}");
        exit(1);
    }
}

fn check_ok(name: &str, res: Result<(), String>) {
    let detail = res.as_ref().err().cloned().unwrap_or_default();
    check(name, res.is_ok(), detail);
}

fn round_trip(r: Result<WebSocket, Error>, text: &str) -> Result<(), String> {
    let mut ws = r.map_err(|e| format!("connect: {e}"))?;
    ws.send(Message::text(text)).map_err(|e| e.to_string())?;
    match ws.read() {
        Ok(m) if m == Message::text(text) => {
            let _ = ws.close(None);
            Ok(())
        }
        other => Err(format!("echo: {other:?}")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: proxy_check PROXY_PORT USER PASSWORD");
        exit(2);
    }
    let (proxy_port, user, pass) = (&args[1], &args[2], &args[3]);
    let proxy = format!("http://{user}:{pass}@127.0.0.1:{proxy_port}");
    let wrong = format!("http://{user}:wrong@127.0.0.1:{proxy_port}");

    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("certificate");
    let tls_config = tls::server_config(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
        .expect("TLS config");
    let ws_port = serve(ServerConfig::default());
    let wss_port = serve(ServerConfig {
        tls: Some(Arc::clone(&tls_config)),
        ..Default::default()
    });
    let ca_pem = ca.pem();

    let r = ClientBuilder::new(format!("ws://localhost:{ws_port}/")).proxy(&proxy);
    let r = r.and_then(ClientBuilder::connect);
    let res = round_trip(r, "plain through the proxy");
    check_ok("ws:// through the proxy", res);

    let r = ClientBuilder::new(format!("wss://localhost:{wss_port}/"))
        .add_root_pem(ca_pem.as_bytes())
        .proxy(&proxy)
        .and_then(ClientBuilder::connect);
    let res = round_trip(r, "TLS inside the tunnel");
    check_ok("wss:// through the proxy", res);

    let r = ClientBuilder::new(format!("ws://localhost:{ws_port}/"))
        .proxy(&wrong)
        .and_then(ClientBuilder::connect);
    check(
        "wrong credentials: 407",
        matches!(r, Err(Error::Proxy { status: 407, .. })),
        format!("{:?}", r.err()),
    );

    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let r = ClientBuilder::new(format!("ws://127.0.0.1:{closed}/"))
        .proxy(&proxy)
        .and_then(ClientBuilder::connect);
    check(
        "unreachable target: 502",
        matches!(r, Err(Error::Proxy { status: 502, .. })),
        format!("{:?}", r.err()),
    );

    // From the environment. Wrong credentials in one variable prove which one is read.
    std::env::remove_var("no_proxy");
    std::env::remove_var("NO_PROXY");
    std::env::set_var("http_proxy", &wrong);
    std::env::set_var("https_proxy", &proxy);
    let r = ClientBuilder::new(format!("ws://localhost:{ws_port}/"))
        .proxy_from_env(true)
        .connect();
    check(
        "ws:// takes http_proxy from the environment",
        matches!(r, Err(Error::Proxy { status: 407, .. })),
        format!("{:?}", r.err()),
    );
    std::env::set_var("http_proxy", &proxy);
    std::env::set_var("https_proxy", &wrong);
    let r = ClientBuilder::new(format!("wss://localhost:{wss_port}/"))
        .add_root_pem(ca_pem.as_bytes())
        .proxy_from_env(true)
        .connect();
    check(
        "wss:// takes https_proxy from the environment",
        matches!(r, Err(Error::Proxy { status: 407, .. })),
        format!("{:?}", r.err()),
    );
    let r = ClientBuilder::new(format!("ws://localhost:{ws_port}/"))
        .proxy_from_env(true)
        .connect();
    check_ok("ws:// through http_proxy", round_trip(r, "env proxy"));
    std::env::set_var("http_proxy", &wrong);
    std::env::set_var("no_proxy", "example.org, localhost");
    let r = ClientBuilder::new(format!("ws://localhost:{ws_port}/"))
        .proxy_from_env(true)
        .connect();
    check_ok("no_proxy bypasses it (ws)", round_trip(r, "direct"));
    let r = ClientBuilder::new(format!("wss://localhost:{wss_port}/"))
        .add_root_pem(ca_pem.as_bytes())
        .proxy_from_env(true)
        .connect();
    check_ok("no_proxy bypasses it (wss)", round_trip(r, "direct"));
    // Without proxy_from_env the environment is not read.
    std::env::remove_var("no_proxy");
    let res = round_trip(
        ClientBuilder::new(format!("ws://localhost:{ws_port}/")).connect(),
        "env ignored",
    );
    check_ok("environment ignored unless asked", res);
    println!("all proxy checks passed");
}
