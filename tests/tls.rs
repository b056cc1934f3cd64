//! `wss://`: our client and our server over rustls, with certificates made at test time;
//! certificates that must not verify are refused with a typed error.

mod common;

use std::sync::{mpsc, Arc};

use common::pki::{pki, Pki};
use common::{echo, start_server, GENEROUS};
use ferrobahn::tls::rustls::pki_types::pem::PemObject;
use ferrobahn::tls::rustls::{self, CertificateError};
use ferrobahn::{tls, ClientBuilder, Error, Message, ServerConfig};

fn tls_server(p: &Pki) -> ServerConfig {
    ServerConfig {
        tls: Some(
            tls::server_config(p.server_cert_pem.as_bytes(), p.server_key_pem.as_bytes())
                .expect("server config"),
        ),
        ..Default::default()
    }
}

#[test]
fn wss_echo_with_channel_binding_and_stats() {
    let p = pki(&["localhost"]);
    let (bound_tx, bound_rx) = mpsc::channel();
    let bound_tx = std::sync::Mutex::new(bound_tx);
    let (addr, _server) = start_server(tls_server(&p), move |ws| {
        let _ = bound_tx.lock().unwrap().send(ws.channel_binding());
        echo(ws);
    });
    let mut ws = ClientBuilder::new(format!("wss://localhost:{}/", addr.port()))
        .add_root_pem(p.ca_pem.as_bytes())
        .connect()
        .expect("wss connect");
    let server_binding = bound_rx.recv_timeout(GENEROUS).expect("server side");
    assert!(ws.channel_binding().is_some());
    assert_eq!(ws.channel_binding(), server_binding);

    ws.send(Message::text("hello over TLS")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("hello over TLS"));
    // Larger than a TLS record (16 KiB) and than the direct-write threshold.
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i * 31 % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Binary(big));

    let s = ws.stats();
    assert_eq!((s.outgoing_messages, s.incoming_messages), (2, 2));
    assert_eq!(s.outgoing_octets_app, 14 + (1 << 20));
    assert_eq!(s.incoming_octets_app, s.outgoing_octets_app);
    // Client frames carry a 4-byte mask key: the wire sees more than the payloads.
    assert!(s.outgoing_octets_wire > s.outgoing_octets_websocket);
    ws.close(None).unwrap();
    assert!(matches!(ws.read(), Ok(Message::Close(_))));
}

/// A client connected over TLS to an echo server with a fresh test certificate.
fn wss_echo_client() -> ferrobahn::WebSocket {
    let p = pki(&["localhost"]);
    let (addr, _server) = start_server(tls_server(&p), echo);
    ClientBuilder::new(format!("wss://localhost:{}", addr.port()))
        .add_root_pem(p.ca_pem.as_bytes())
        .connect()
        .unwrap()
}

#[test]
fn reader_and_writer_threads_share_one_tls_session() {
    let (mut reader, writer) = wss_echo_client().split();
    const N: usize = 2000;
    let sender = std::thread::spawn(move || {
        for i in 0..N {
            writer.write(Message::text(format!("message {i}"))).unwrap();
        }
        writer.flush().unwrap();
        writer
    });
    for i in 0..N {
        assert_eq!(
            reader.read().unwrap(),
            Message::text(format!("message {i}"))
        );
    }
    let writer = sender.join().unwrap();
    writer.close(None).unwrap();
}

fn refused(url: String, builder: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Error {
    match builder(ClientBuilder::new(url)).connect() {
        Ok(_) => panic!("connected, but the certificate should have been refused"),
        Err(e) => e,
    }
}

#[test]
fn wrong_host_name_is_refused() {
    let p = pki(&["localhost"]);
    let (addr, _server) = start_server(tls_server(&p), echo);
    // The certificate names localhost, not 127.0.0.1.
    let e = refused(format!("wss://127.0.0.1:{}/", addr.port()), |b| {
        b.add_root_pem(p.ca_pem.as_bytes())
    });
    assert!(
        matches!(
            e,
            Error::Tls(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("TLS"), "{e}");
}

#[test]
fn unknown_issuer_is_refused() {
    let p = pki(&["localhost"]);
    let (addr, _server) = start_server(tls_server(&p), echo);
    // Only the built-in Mozilla roots: our test CA is not among them.
    let e = refused(format!("wss://localhost:{}/", addr.port()), |b| b);
    assert!(
        matches!(
            e,
            Error::Tls(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ),
        "{e:?}"
    );
    // A plain ws:// client talking to the TLS port gets no WebSocket either.
    assert!(
        ClientBuilder::new(format!("ws://localhost:{}/", addr.port()))
            .handshake_timeout(std::time::Duration::from_secs(2))
            .connect()
            .is_err()
    );
}

#[test]
fn client_certificates_are_presented_and_required() {
    let p = pki(&["localhost"]);
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(p.ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(p.server_key_pem.as_bytes()).unwrap();
    let chain: Vec<_> =
        rustls::pki_types::CertificateDer::pem_slice_iter(p.server_cert_pem.as_bytes())
            .map(Result::unwrap)
            .collect();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let (addr, _server) = start_server(
        ServerConfig {
            tls: Some(Arc::new(config)),
            ..Default::default()
        },
        echo,
    );
    let url = format!("wss://localhost:{}/", addr.port());
    let mut ws = ClientBuilder::new(url.clone())
        .add_root_pem(p.ca_pem.as_bytes())
        .client_cert_pem(p.client_cert_pem.as_bytes(), p.client_key_pem.as_bytes())
        .connect()
        .expect("with a client certificate");
    ws.send(Message::text("mutual")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("mutual"));

    // Without one, the server refuses: TLS 1.3 reports it at the first read at the latest.
    let outcome = ClientBuilder::new(url)
        .add_root_pem(p.ca_pem.as_bytes())
        .connect()
        .and_then(|mut ws| ws.read());
    assert!(outcome.is_err(), "{outcome:?}");
}

#[test]
fn a_message_in_thousands_of_small_frames() {
    // Autobahn 9.3.1 over TLS: 4 MiB of text in 64-byte frames, echoed whole.
    let (mut reader, writer) = wss_echo_client().split();
    let text: Vec<u8> = (0..4 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let sending = {
        let text = text.clone();
        std::thread::spawn(move || {
            let chunks: Vec<&[u8]> = text.chunks(64).collect();
            for (i, c) in chunks.iter().enumerate() {
                writer
                    .write_frame(ferrobahn::core::MessageKind::Text, i + 1 == chunks.len(), c)
                    .unwrap();
            }
            writer.flush().unwrap();
            writer
        })
    };
    match reader.read().unwrap() {
        Message::Text(t) => assert!(t.as_bytes() == &text[..]),
        other => panic!("{other:?}"),
    }
    sending.join().unwrap().close(None).unwrap();
}
