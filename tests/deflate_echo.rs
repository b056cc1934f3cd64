//! permessage-deflate end to end between our client and our server: many large messages with
//! context takeover, every window size, and no context takeover, content checked.

use std::thread;

use ferrobahn::{ClientBuilder, DeflateAccept, DeflateOffer, Message, Server, ServerConfig};

fn echo_server(policy: DeflateAccept) -> u16 {
    echo_server_with(ServerConfig {
        deflate: Some(policy),
        ..Default::default()
    })
}

fn echo_server_with(config: ServerConfig) -> u16 {
    let server = Server::bind("127.0.0.1:0", config).unwrap();
    let port = server.local_addr().unwrap().port();
    thread::spawn(move || {
        server.serve(|mut ws| {
            while let Ok(m) = ws.read() {
                if m.is_data() && ws.write(m).is_err() {
                    return;
                }
            }
        })
    });
    port
}

fn payload(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b"abcdefghijklmnopqrstuvwxyz {}\":,0123456789"[(x % 42) as usize]
        })
        .collect()
}

fn exchange(port: u16, offer: DeflateOffer, count: usize, len: usize) {
    let mut ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
        .deflate(offer)
        .connect()
        .unwrap();
    assert!(ws.deflate().is_some(), "deflate was not negotiated");
    for i in 0..count {
        let p = payload(i as u32 + 7, len + i);
        let text = String::from_utf8(p.clone()).unwrap();
        ws.send(Message::text(text)).unwrap();
        ws.send(Message::binary(p.clone())).unwrap();
        match ws.read().unwrap() {
            Message::Text(t) => assert_eq!(t.as_bytes(), &p[..], "text message {i}"),
            other => panic!("{other:?}"),
        }
        match ws.read().unwrap() {
            Message::Binary(b) => assert!(b == p, "binary message {i}: {} vs {}", b.len(), p.len()),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn many_large_messages_with_context_takeover() {
    let port = echo_server(DeflateAccept::default());
    exchange(port, DeflateOffer::default(), 60, 65536);
}

#[test]
fn every_window_and_no_context_takeover() {
    for bits in 9..=15u8 {
        let policy = DeflateAccept {
            request_max_window_bits: bits,
            request_no_context_takeover: bits % 2 == 0,
            ..Default::default()
        };
        let port = echo_server(policy);
        let offer = DeflateOffer {
            request_max_window_bits: bits,
            request_no_context_takeover: bits % 2 == 1,
            ..Default::default()
        };
        exchange(port, offer, 5, 20_000);
    }
}

#[test]
fn server_callback_chooses_among_offers() {
    use std::sync::Arc;
    // The callback skips the first offer and answers the second with a 10-bit server window.
    let select = Arc::new(|offers: &[ferrobahn::ClientOffer]| {
        assert_eq!(offers.len(), 2);
        Some((
            1,
            ferrobahn::DeflateParams {
                server_max_window_bits: 10,
                ..Default::default()
            },
        ))
    });
    let port = echo_server_with(ServerConfig {
        deflate_select: Some(select),
        ..Default::default()
    });
    let mut ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
        .deflate(DeflateOffer {
            request_max_window_bits: 9,
            ..Default::default()
        })
        .deflate(DeflateOffer::default())
        .connect()
        .unwrap();
    assert_eq!(ws.deflate().unwrap().server_max_window_bits, 10);
    let p = payload(3, 50_000);
    ws.send(Message::binary(p.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Binary(p));
}
