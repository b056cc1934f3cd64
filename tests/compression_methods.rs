//! Autobahn's other compression methods over real connections (our client, our server):
//! which offer the server picks, messages whole, in frames and streamed, and bombs → 1009.
#![cfg(all(feature = "brotli", feature = "bzip2", feature = "snappy"))]

use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ferrobahn::compress::{bzip2::Bzip2Accept, bzip2::Bzip2Offer, BrotliAccept, TakeoverAccept};
use ferrobahn::compress::{Method, TakeoverOffer};
use ferrobahn::core::{CloseCode, Config, MessageKind, ProtocolError};
use ferrobahn::{
    ClientBuilder, DeflateAccept, DeflateOffer, Error, Message, Offer, Server, ServerConfig,
    Settings, WebSocket,
};

fn all_methods(order: Vec<Method>) -> ServerConfig {
    ServerConfig {
        deflate: Some(DeflateAccept::default()),
        brotli: Some(BrotliAccept::default()),
        bzip2: Some(Bzip2Accept::default()),
        snappy: Some(TakeoverAccept::default()),
        compression_order: order,
        ..Default::default()
    }
}

/// An echo server; returns its port and a channel with each connection's read error.
fn echo(config: ServerConfig) -> (u16, mpsc::Receiver<Result<(), Error>>) {
    let server = Server::bind("127.0.0.1:0", config).unwrap();
    let port = server.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        server.serve(move |mut ws| loop {
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    if ws.send(m).is_err() {
                        return;
                    }
                }
                Ok(Message::Close(_)) => {
                    let _ = tx.send(Ok(()));
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        })
    });
    (port, rx)
}

fn brotli() -> Offer {
    Offer::default_for(Method::Brotli).unwrap()
}

fn snappy() -> Offer {
    Offer::Snappy(TakeoverOffer::default())
}

fn bzip2() -> Offer {
    Offer::Bzip2(Bzip2Offer::default())
}

fn connect(port: u16, offers: &[Offer]) -> WebSocket {
    offers
        .iter()
        .fold(
            ClientBuilder::new(format!("ws://127.0.0.1:{port}/")),
            |b, o| b.offer(*o),
        )
        .connect()
        .unwrap()
}

fn method(ws: &WebSocket) -> Option<Method> {
    ws.compression().map(|c| c.method())
}

#[test]
fn the_server_takes_the_clients_first_acceptable_offer_or_its_own_order() {
    let offers = [snappy(), brotli(), DeflateOffer::default().into()];
    let (port, _) = echo(all_methods(Vec::new()));
    assert_eq!(method(&connect(port, &offers)), Some(Method::Snappy));
    let (port, _) = echo(all_methods(vec![Method::Brotli, Method::Deflate]));
    assert_eq!(method(&connect(port, &offers)), Some(Method::Brotli));
    // Methods without a policy are declined; deflate is the fallback.
    let (port, _) = echo(ServerConfig {
        deflate: Some(DeflateAccept::default()),
        ..Default::default()
    });
    let ws = connect(port, &offers);
    assert_eq!(method(&ws), Some(Method::Deflate));
    assert!(ws.deflate().is_some());
    // Nothing acceptable: no compression, the connection still opens.
    let (port, _) = echo(ServerConfig::default());
    assert_eq!(method(&connect(port, &offers)), None);
    // A malformed offer is declined, the next one taken.
    let (port, _) = echo(all_methods(Vec::new()));
    let mut ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
        .header(
            "Sec-WebSocket-Extensions",
            "permessage-brotli; x=1, permessage-bzip2; client_max_compress_level",
        )
        .connect();
    // Our client sent no offer of its own, so any accepted extension fails its handshake:
    // the server must have answered the bzip2 offer (not the malformed brotli one).
    assert!(
        matches!(ws, Err(Error::Handshake(_))),
        "{:?}",
        ws.as_ref().err()
    );
    ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
        .header("Sec-WebSocket-Extensions", "permessage-brotli; x=1")
        .connect();
    assert!(ws.is_ok(), "a declined offer must not fail the handshake");
}

#[test]
fn every_method_echoes_whole_framed_and_streamed_messages() {
    let text: String = (0..8_000)
        .map(|i| format!("{{\"id\":{i},\"v\":\"sensor\"}}"))
        .collect();
    let (port, rx) = echo(all_methods(Vec::new()));
    for offer in [brotli(), bzip2(), snappy()] {
        for nct in [false, true] {
            let offer = match offer {
                Offer::Snappy(_) => Offer::Snappy(TakeoverOffer {
                    accept_no_context_takeover: true,
                    request_no_context_takeover: nct,
                }),
                o => o,
            };
            let mut ws = connect(port, &[offer]);
            assert_eq!(method(&ws), Some(offer.method()));
            for _ in 0..2 {
                ws.send(Message::text(text.clone())).unwrap();
                assert_eq!(ws.read().unwrap(), Message::text(text.clone()));
                ws.send(Message::binary(Vec::new())).unwrap();
                assert_eq!(ws.read().unwrap(), Message::binary(Vec::new()));
            }
            // Frame API: the compressed stream spread over frames.
            let parts: Vec<&[u8]> = text.as_bytes().chunks(30_000).collect();
            for (i, p) in parts.iter().enumerate() {
                ws.writer()
                    .write_frame_compressed(MessageKind::Text, i + 1 == parts.len(), p)
                    .unwrap();
            }
            ws.flush().unwrap();
            assert_eq!(ws.read().unwrap(), Message::text(text.clone()));
            // Streaming API.
            let writer = ws.writer();
            let mut w = writer.stream_message(MessageKind::Binary, true);
            for p in &parts {
                w.write_all(p).unwrap();
            }
            w.finish().unwrap();
            assert_eq!(
                ws.read().unwrap(),
                Message::binary(text.clone().into_bytes())
            );
            let st = ws.stats();
            assert!(
                st.incoming_octets_websocket * 3 < st.incoming_octets_app,
                "{:?}: echoes not compressed: {st:?}",
                offer.method()
            );
            ws.close(None).unwrap();
            let _ = ws.read();
            let served = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert!(served.is_ok(), "{served:?}");
        }
    }
}

#[test]
fn bombs_close_with_1009_for_every_method() {
    let limit = 256 << 10;
    let settings = Settings {
        config: Config {
            max_message_payload: limit,
            ..Config::DEFAULT
        },
        ..Settings::default()
    };
    let (port, rx) = echo(ServerConfig {
        settings,
        ..all_methods(Vec::new())
    });
    for offer in [brotli(), bzip2(), snappy()] {
        let mut ws = connect(port, &[offer]);
        // 4 MiB of zeros compress to a few KiB (snappy: ~200 KiB, still under the limit).
        ws.send(Message::binary(vec![0u8; 4 << 20])).unwrap();
        let served = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(
            matches!(served, Err(Error::Protocol(ProtocolError::MessageTooLarge))),
            "{:?}: server got {served:?}",
            offer.method()
        );
        match ws.read() {
            Ok(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::MESSAGE_TOO_BIG),
            other => panic!("{:?}: expected close 1009, got {other:?}", offer.method()),
        }
    }
}

/// A raw client (no library on our side): the handshake offering `extension`, then one
/// masked binary frame with RSV1 set and `payload`; returns the server's close code.
fn raw_compressed_frame(port: u16, extension: &str, payload: &[u8]) -> u16 {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {extension}\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(
        head.contains(extension.split(';').next().unwrap()),
        "{head}"
    );
    // FIN + RSV1 + binary; masked with a zero key, so the payload goes as it is.
    let mut frame = vec![0xC2, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    s.write_all(&frame).unwrap();
    let mut close = [0u8; 4];
    s.read_exact(&mut close).unwrap();
    assert_eq!(close[0], 0x88, "a close frame");
    u16::from_be_bytes([close[2], close[3]])
}

#[test]
fn corrupt_compressed_data_closes_with_1002_for_every_method() {
    let (port, rx) = echo(all_methods(Vec::new()));
    for (extension, garbage) in [
        ("permessage-brotli", &b"\xff\xff\xff\xff not brotli"[..]),
        ("permessage-bzip2", b"BZh9 not bzip2 at all"),
        // An unskippable reserved chunk type.
        ("permessage-snappy", b"\x02\x01\x00\x00x"),
        // A data chunk whose CRC does not match.
        ("permessage-snappy", b"\x01\x05\x00\x00\x00\x00\x00\x00x"),
    ] {
        assert_eq!(
            raw_compressed_frame(port, extension, garbage),
            1002,
            "{extension}"
        );
        let served = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            matches!(served, Err(Error::Protocol(ProtocolError::Extension))),
            "{extension}: {served:?}"
        );
    }
}

#[test]
fn read_event_hands_out_decompressed_data_as_it_arrives_for_every_method() {
    use ferrobahn::Incoming;
    let text: Vec<u8> = (0..6_000)
        .flat_map(|i| format!("[{i},\"reading\"],").into_bytes())
        .collect();
    let (port, _) = echo(all_methods(Vec::new()));
    for offer in [brotli(), bzip2(), snappy()] {
        let mut ws = connect(port, &[offer]);
        for _ in 0..2 {
            ws.send(Message::binary(text.clone())).unwrap();
            let (mut got, mut ended) = (Vec::new(), false);
            while !ended {
                match ws.read_event().unwrap() {
                    Incoming::Data(d) => got.extend_from_slice(d),
                    Incoming::FrameEnd { message_end } => ended = message_end,
                    Incoming::FrameStart { .. } => {}
                    other => panic!("{:?}: {other:?}", offer.method()),
                }
            }
            assert_eq!(got, text, "{:?}", offer.method());
        }
    }
}

#[test]
fn a_prepared_message_is_compressed_once_per_method_for_many_receivers() {
    use ferrobahn::PreparedMessage;
    let (tx, rx) = mpsc::channel::<ferrobahn::Writer>();
    let server = Server::bind("127.0.0.1:0", all_methods(Vec::new())).unwrap();
    let port = server.local_addr().unwrap().port();
    thread::spawn(move || {
        server.serve(move |mut ws| {
            let _ = tx.send(ws.writer());
            while ws.read().is_ok() {}
        })
    });
    // Three receivers each of brotli and bzip2 (no history), two of snappy keeping its
    // stream (each compresses for itself), two of snappy restarting it.
    let snappy_reset = Offer::Snappy(TakeoverOffer {
        accept_no_context_takeover: true,
        request_no_context_takeover: true,
    });
    let offers = [
        brotli(),
        brotli(),
        brotli(),
        bzip2(),
        bzip2(),
        bzip2(),
        snappy(),
        snappy(),
        snappy_reset,
        snappy_reset,
    ];
    let mut clients: Vec<WebSocket> = offers.iter().map(|o| connect(port, &[*o])).collect();
    let writers: Vec<_> = (0..offers.len())
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    let text: String = (0..3_000).map(|i| format!("{{\"n\":{i}}}")).collect();
    let prepared = PreparedMessage::text(&text);
    for round in 0..2 {
        for w in &writers {
            w.send_prepared(&prepared).unwrap();
        }
        for ws in &mut clients {
            assert_eq!(
                ws.read().unwrap(),
                Message::text(text.clone()),
                "round {round}: {:?}",
                ws.compression()
            );
        }
    }
    // brotli, bzip2 and restarting snappy: one variant each, whatever the receivers.
    assert_eq!(prepared.compressed_variants(), 3);
}
