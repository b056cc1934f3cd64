//! Prepared messages: one message to many connections, compressed once for the receivers
//! without context takeover (per window size), per connection for the others, as is for
//! those without compression; and from a client, masked per connection.

mod common;

use std::sync::{mpsc, Arc, Mutex};

use common::{echo, start_server, text_payload, GENEROUS};
use ferrobahn::{
    ClientBuilder, DeflateAccept, DeflateOffer, Message, PreparedMessage, ServerConfig, Writer,
};

#[test]
fn one_prepared_message_reaches_every_kind_of_receiver() {
    let (tx, rx) = mpsc::channel::<Writer>();
    let tx = Mutex::new(tx);
    let (addr, _server) = start_server(
        ServerConfig {
            deflate: Some(DeflateAccept::default()),
            ..Default::default()
        },
        move |ws| {
            let (mut reader, writer) = ws.split();
            let _ = tx.lock().unwrap().send(writer);
            while reader.read().is_ok() {}
        },
    );
    let offer = |no_context: bool, bits: u8| DeflateOffer {
        request_no_context_takeover: no_context,
        request_max_window_bits: bits,
        ..Default::default()
    };
    // (offer, expected to be compressed)
    let kinds = [
        (None, false),
        (Some(offer(true, 10)), true),
        (Some(offer(true, 10)), true),
        (Some(offer(true, 15)), true),
        (Some(offer(false, 0)), true),
        (Some(offer(false, 12)), true),
    ];
    let mut clients = Vec::new();
    for (o, compressed) in kinds.iter().cycle().take(18) {
        let mut b = ClientBuilder::new(common::ws_url(addr));
        if let Some(o) = o {
            b = b.deflate(*o);
        }
        clients.push((b.connect().unwrap(), *compressed));
    }
    let writers: Vec<Writer> = (0..clients.len())
        .map(|_| rx.recv_timeout(GENEROUS).unwrap())
        .collect();

    let text = text_payload(64 * 1024);
    let prepared = PreparedMessage::text(&text);
    for round in 0..3 {
        for w in &writers {
            w.send_prepared(&prepared).unwrap();
        }
        for (ws, compressed) in &mut clients {
            assert_eq!(
                ws.read().unwrap(),
                Message::text(text.clone()),
                "round {round}"
            );
            let s = ws.stats();
            assert_eq!(s.incoming_messages, round + 1);
            let ratio = s.incoming_compression_ratio().unwrap();
            if *compressed {
                assert!(ratio < 0.5, "{ratio}");
            } else {
                assert_eq!(ratio, 1.0);
            }
        }
    }
    // No context takeover at 10 and 15 bits: two compressed variants, whatever the count of
    // such receivers; the others compressed with their own context.
    assert_eq!(prepared.compressed_variants(), 2);
    for (ws, _) in &mut clients {
        ws.close(None).unwrap();
    }
}

#[test]
fn a_client_sends_a_prepared_message_masked() {
    let (addr, _server) = start_server(
        ServerConfig {
            deflate: Some(DeflateAccept {
                no_context_takeover: true,
                ..Default::default()
            }),
            ..Default::default()
        },
        echo,
    );
    let prepared = Arc::new(PreparedMessage::binary(&[7u8; 5000]));
    for deflate in [false, true] {
        let mut b = ClientBuilder::new(common::ws_url(addr));
        if deflate {
            b = b.deflate(DeflateOffer {
                accept_no_context_takeover: true,
                ..Default::default()
            });
        }
        let mut ws = b.connect().unwrap();
        ws.writer().send_prepared(&prepared).unwrap();
        assert_eq!(ws.read().unwrap(), Message::binary(vec![7u8; 5000]));
        let s = ws.stats();
        assert_eq!(s.outgoing_octets_app, 5000);
        assert_eq!(s.outgoing_octets_websocket < 5000, deflate);
        ws.close(None).unwrap();
    }
    assert!(PreparedMessage::new(Message::Ping(vec![])).is_none());
}
