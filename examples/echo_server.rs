//! Echoes every text and binary message back, until killed.
//!
//! `cargo run --release --example echo_server -- [--tls CERT.pem KEY.pem] [--versions 13,8]
//!  [--client-no-context-takeover] [--client-level N] [--brotli-quality Q] 127.0.0.1:9001`
//! (port 0 picks a free port; the bound address is printed as `listening on ADDR`).
//! Messages up to 64 MiB; every compression method this build has is accepted
//! (permessage-deflate, -brotli, -bzip2, -snappy), the client's first offer winning. With
//! `--tls`: `wss://`, the certificate chain and key read from PEM files. `--versions`: the
//! `Sec-WebSocket-Version`s accepted (13 alone by default; 8 lets hybi-10 clients in).
//! `--client-no-context-takeover` asks brotli and snappy clients not to keep context,
//! `--client-level N` bounds bzip2 clients' level (when their offers allow it);
//! `--brotli-quality Q` (0..=11; default 5, Autobahn|Python uses 11) is ours for brotli.

use ferrobahn::compress::{bzip2::Bzip2Accept, BrotliAccept, TakeoverAccept};
use ferrobahn::{tls, DeflateAccept, Error, Message, Server, ServerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut tls = None;
    if args.first().map(String::as_str) == Some("--tls") {
        if args.len() < 3 {
            return Err("--tls needs CERT.pem KEY.pem".into());
        }
        tls = Some(tls::server_config_from_files(&args[1], &args[2])?);
        args.drain(..3);
    }
    let mut versions = vec![13];
    if args.first().map(String::as_str) == Some("--versions") {
        let list = args.get(1).ok_or("--versions needs a list, e.g. 13,8")?;
        versions = list
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--versions {list}: {e}"))?;
        args.drain(..2);
    }
    let mut takeover = TakeoverAccept::default();
    let mut bzip2 = Bzip2Accept::default();
    let mut brotli = BrotliAccept::default();
    loop {
        match args.first().map(String::as_str) {
            Some("--client-no-context-takeover") => {
                takeover.request_no_context_takeover = true;
                args.remove(0);
            }
            Some("--brotli-quality") => {
                let q = args.get(1).and_then(|q| q.parse().ok());
                brotli.quality = q.ok_or("--brotli-quality needs 0..=11")?;
                args.drain(..2);
            }
            Some("--client-level") => {
                let level = args.get(1).and_then(|l| l.parse().ok());
                bzip2.request_max_compress_level = level.ok_or("--client-level needs 1..=9")?;
                args.drain(..2);
            }
            _ => break,
        }
    }
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let config = ServerConfig {
        server_name: Some("ferrobahn".into()),
        // Accept permessage-deflate offers (RFC 7692) on the client's terms.
        deflate: Some(DeflateAccept::default()),
        // And Autobahn's other methods.
        brotli: Some(BrotliAccept { takeover, ..brotli }),
        bzip2: Some(bzip2),
        snappy: Some(takeover),
        tls,
        versions,
        ..Default::default()
    };
    let server = Server::bind(&addr, config)?;
    println!("listening on {}", server.local_addr()?);
    server.serve(|mut ws| loop {
        match ws.read() {
            // `write` queues the reply; the reader flushes before it blocks, so the
            // replies to one read batch go out in one syscall.
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.write(msg).is_err() {
                    return;
                }
            }
            Ok(Message::Close(_)) | Err(Error::ConnectionClosed) => return,
            Ok(_) => {}
            Err(_) => return,
        }
    })?;
    Ok(())
}
