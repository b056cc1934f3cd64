//! The small-client subset of WAMP in fixed stack buffers, no heap: encode HELLO, CALL and
//! SUBSCRIBE and decode WELCOME, RESULT and EVENT, with JSON and with CBOR (the two
//! serializers a no-`alloc` device would pick). `scripts/test-all.sh` also builds the core
//! with only `json,cbor` for `thumbv7em-none-eabihf`, where there is no allocator at all.
#![cfg(all(feature = "json", feature = "cbor"))]

use ferrobahn_core::wamp::dict::{has_feature, CallOptions, HelloDetails, Roles, SubscribeOptions};
use ferrobahn_core::wamp::message::{Call, Hello, Subscribe};
use ferrobahn_core::wamp::uri::Match;
use ferrobahn_core::wamp::{Format, Message, Payload, Raw, SliceOut, Str, Token};

fn encode<'b>(m: &Message<'_>, format: Format, buf: &'b mut [u8]) -> &'b [u8] {
    let mut out = SliceOut::new(buf);
    m.encode(format, &mut out).unwrap();
    out.into_slice()
}

#[test]
fn a_small_client_in_stack_buffers() {
    // Roles as a device announces them: a prebuilt dict in the device's format.
    let json_roles: &[u8] =
        br#"{"caller":{"features":{"progressive_call_results":true}},"subscriber":{}}"#;
    // The same dict in CBOR.
    let mut cbor_roles = [0u8; 96];
    let mut out = SliceOut::new(&mut cbor_roles);
    ferrobahn_core::wamp::Writer::new(Format::Cbor, &mut out)
        .raw(Raw {
            format: Format::Json,
            bytes: json_roles,
        })
        .unwrap();
    let cbor_roles = out.into_slice();

    for (format, roles) in [(Format::Json, json_roles), (Format::Cbor, &*cbor_roles)] {
        let mut buf = [0u8; 256];
        let hello = Message::Hello(Hello {
            realm: Str::new("realm1"),
            details: HelloDetails {
                roles: Some(
                    Roles::read(Raw {
                        format,
                        bytes: roles,
                    })
                    .unwrap(),
                ),
                authid: Some(Str::new("device-7")),
                ..Default::default()
            },
        });
        let bytes = encode(&hello, format, &mut buf);
        let Message::Hello(h) = Message::decode(format, bytes).unwrap() else {
            panic!()
        };
        assert!(has_feature(
            h.details.roles.unwrap().caller.unwrap(),
            "progressive_call_results"
        ));

        let args = match format {
            Format::Json => &b"[21,21]"[..],
            _ => &[0x82, 0x15, 0x15][..],
        };
        let options = CallOptions {
            timeout: Some(500),
            ..Default::default()
        };
        let call = Message::Call(Call {
            request: 1,
            options,
            procedure: Str::new("com.example.add"),
            payload: Payload {
                args: Some(Raw {
                    format,
                    bytes: args,
                }),
                kwargs: None,
            },
        });
        let mut buf = [0u8; 128];
        let bytes = encode(&call, format, &mut buf);
        if format == Format::Json {
            assert_eq!(
                bytes,
                br#"[48,1,{"timeout":500},"com.example.add",[21,21]]"#
            );
        }

        let sub_options = SubscribeOptions {
            match_: Some(Match::Prefix),
            ..Default::default()
        };
        let sub = Message::Subscribe(Subscribe {
            request: 2,
            options: sub_options,
            topic: Str::new("com.example."),
        });
        let mut buf = [0u8; 96];
        let bytes = encode(&sub, format, &mut buf);
        assert_eq!(Message::decode(format, bytes).unwrap(), sub);
        // A buffer too small is an error, not a panic.
        let mut tiny = [0u8; 8];
        assert!(sub.encode(format, &mut SliceOut::new(&mut tiny)).is_err());
    }
}

#[test]
fn router_replies_decode_in_place() {
    let welcome = br#"[2,9007199254740992,{"roles":{"dealer":{"features":{"call_canceling":true}},"broker":{}},"authid":"device-7","authrole":"anonymous","x_router":"ferrobahn"}]"#;
    let Message::Welcome(w) = Message::decode(Format::Json, welcome).unwrap() else {
        panic!()
    };
    assert_eq!(w.session, 1 << 53);
    assert!(has_feature(
        w.details.roles.unwrap().dealer.unwrap(),
        "call_canceling"
    ));
    assert!(w.details.authrole.unwrap().eq_str("anonymous"));
    assert!(w.details.extra.is_some(), "x_router is kept");

    let result = br#"[50,1,{"progress":true},[42],{"unit":"\u00b0C"}]"#;
    let Message::Result(r) = Message::decode(Format::Json, result).unwrap() else {
        panic!()
    };
    assert_eq!(r.details.progress, Some(true));
    let mut args = r.payload.args.unwrap().elements().unwrap();
    assert_eq!(
        args.next().unwrap().unwrap().head().unwrap(),
        Token::U64(42)
    );
    let unit = r.payload.kwargs.unwrap().get("unit").unwrap().unwrap();
    let Token::Str(s) = unit.head().unwrap() else {
        panic!()
    };
    let mut text = [0u8; 8];
    assert_eq!(s.unescape_into(&mut text), Some("\u{b0}C"));

    // EVENT in CBOR: [36, 5, 6, {"topic": "t"}, ["on"]]
    let event = [
        0x85, 0x18, 0x24, 0x05, 0x06, 0xA1, 0x65, b't', b'o', b'p', b'i', b'c', 0x61, b't', 0x81,
        0x62, b'o', b'n',
    ];
    let Message::Event(e) = Message::decode(Format::Cbor, &event).unwrap() else {
        panic!()
    };
    assert_eq!((e.subscription, e.publication), (5, 6));
    assert_eq!(e.details.topic.unwrap().as_str(), Some("t"));
    assert_eq!(e.payload.args.unwrap().bytes, &[0x81, 0x62, b'o', b'n']);
}
