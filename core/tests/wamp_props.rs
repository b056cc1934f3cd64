//! Property tests of the WAMP codec: generated values survive a write → read in every
//! serializer (and a transcode through every other), messages survive encode → decode, and
//! random, truncated or corrupted input into every decoder returns an error, never a panic.
//! (The decoders never allocate: they borrow from the input and count nesting in a fixed
//! array, so "bounded memory" holds by construction.)
#![cfg(all(
    feature = "json",
    feature = "msgpack",
    feature = "cbor",
    feature = "ubjson"
))]

use ferrobahn_core::wamp::message::{Call, Event, Payload};
use ferrobahn_core::wamp::{Format, Message, Raw, Reader, Str, Token, Writer};
use proptest::prelude::*;

/// A value tree, owned, to generate and compare.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Null,
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    S(String),
    B(Vec<u8>),
    A(Vec<V>),
    M(Vec<(String, V)>),
}

/// Any text but a leading U+0000: in WAMP's JSON that marks a byte string.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max)
        .prop_map(|c| c.into_iter().collect::<String>())
        .prop_filter("no leading NUL", |s| !s.starts_with('\0'))
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Null),
        any::<bool>().prop_map(V::Bool),
        any::<u64>().prop_map(V::U),
        (i64::MIN..0i64).prop_map(V::I),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(V::F),
        text(12).prop_map(V::S),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(V::B),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(V::A),
            proptest::collection::vec((text(6), inner), 0..6).prop_map(V::M),
        ]
    })
}

fn write(w: &mut Writer<'_, Vec<u8>>, v: &V) {
    match v {
        V::Null => w.null(),
        V::Bool(b) => w.bool(*b),
        V::U(u) => w.u64(*u),
        V::I(i) => w.i64(*i),
        V::F(f) => w.f64(*f),
        V::S(s) => w.str(s),
        V::B(b) => w.bytes(b),
        V::A(items) => {
            w.array(items.len()).unwrap();
            for x in items {
                write(w, x);
            }
            w.end()
        }
        V::M(entries) => {
            w.map(entries.len()).unwrap();
            for (k, x) in entries {
                w.str(k).unwrap();
                write(w, x);
            }
            w.end()
        }
    }
    .unwrap()
}

fn string(s: Str<'_>) -> String {
    s.chars().collect()
}

fn read(r: &mut Reader<'_>) -> V {
    match r.next().unwrap() {
        Token::Null => V::Null,
        Token::Bool(b) => V::Bool(b),
        Token::U64(u) => V::U(u),
        Token::I64(i) => V::I(i),
        Token::F64(f) => V::F(f),
        Token::Str(s) => V::S(string(s)),
        Token::Bytes(b) => V::B(b.to_cow().into_owned()),
        Token::Array(_) => {
            let mut items = Vec::new();
            while !r.at_end().unwrap() {
                items.push(read(r));
            }
            V::A(items)
        }
        Token::Map(_) => {
            let mut entries = Vec::new();
            while !r.at_end().unwrap() {
                let Token::Str(k) = r.next().unwrap() else {
                    panic!("key")
                };
                entries.push((string(k), read(r)));
            }
            V::M(entries)
        }
        Token::End => panic!("unexpected end"),
    }
}

fn encode(format: Format, v: &V) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut Writer::new(format, &mut out), v);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn values_round_trip_and_transcode(v in value()) {
        for from in Format::ALL {
            let bytes = encode(from, &v);
            let mut r = Reader::new(from, &bytes);
            prop_assert_eq!(&read(&mut r), &v, "{}", from);
            r.finish().unwrap();
            // The span of the whole value is the whole encoding.
            prop_assert_eq!(Reader::new(from, &bytes).skip().unwrap().bytes.len(), bytes.len());
            for to in Format::ALL {
                let mut out = Vec::new();
                Writer::new(to, &mut out).raw(Raw { format: from, bytes: &bytes }).unwrap();
                prop_assert_eq!(&read(&mut Reader::new(to, &out)), &v, "{} -> {}", from, to);
            }
        }
    }

    #[test]
    fn messages_round_trip(request in 1u64..=1 << 53, proc_ in "[a-z]{1,8}(\\.[a-z_0-9]{1,8}){0,3}",
                           args in value(), timeout in proptest::option::of(any::<u64>())) {
        let args = V::A(vec![args]);
        for format in Format::ALL {
            let args_bytes = encode(format, &args);
            let mut call = Call {
                request,
                options: Default::default(),
                procedure: Str::new(&proc_),
                payload: Payload { args: Some(Raw { format, bytes: &args_bytes }), kwargs: None },
            };
            call.options.timeout = timeout;
            let m = Message::Call(call);
            let mut bytes = Vec::new();
            m.encode(format, &mut bytes).unwrap();
            let back = Message::decode(format, &bytes).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for format in Format::ALL {
            let _ = Message::decode(format, &bytes);
            let _ = Reader::new(format, &bytes).skip();
        }
    }

    #[test]
    fn truncated_and_corrupted_messages_are_errors(args in value(), cut in any::<prop::sample::Index>(),
                                                   flip in any::<prop::sample::Index>(), bits in 1u8..) {
        for format in Format::ALL {
            let args_bytes = encode(format, &V::A(vec![args.clone()]));
            let m = Message::Event(Event {
                subscription: 1,
                publication: 2,
                details: Default::default(),
                payload: Payload { args: Some(Raw { format, bytes: &args_bytes }), kwargs: None },
            });
            let mut bytes = Vec::new();
            m.encode(format, &mut bytes).unwrap();
            let n = cut.index(bytes.len());
            // JSON's whitespace-free prefixes of a list never parse as a whole message.
            prop_assert!(Message::decode(format, &bytes[..n]).is_err(), "{} cut at {}", format, n);
            let mut bad = bytes.clone();
            let i = flip.index(bad.len());
            bad[i] ^= bits;
            let _ = Message::decode(format, &bad);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    assert!(Message::decode(Format::Json, deep.as_bytes()).is_err());
    let deep_cbor = vec![0x81u8; 100_000];
    assert!(Message::decode(Format::Cbor, &deep_cbor).is_err());
    let deep_mp = vec![0x91u8; 100_000];
    assert!(Message::decode(Format::MsgPack, &deep_mp).is_err());
}
