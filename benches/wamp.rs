//! WAMP codec: decode and encode per serializer for a CALL with small args, an EVENT with
//! 1 KiB of kwargs and a batched WebSocket message of 100 EVENTs; and a router's CALL →
//! INVOCATION step done our way (payload passed on as bytes) next to a full decode and
//! re-encode through `serde_json::Value`, in the same run.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrobahn::core::wamp::batched::{self, JsonSeparator};
use ferrobahn::core::wamp::message::Invocation;
use ferrobahn::core::wamp::{Format, Message, Writer};
use std::hint::black_box;

fn json_call() -> Vec<u8> {
    br#"[48,7814135,{"timeout":1000},"com.example.add2",[23,19]]"#.to_vec()
}

fn json_event() -> Vec<u8> {
    let mut kw = String::from("{");
    let mut i = 0;
    while kw.len() < 1024 {
        if i > 0 {
            kw.push(',');
        }
        kw.push_str(&format!(
            r#""sensor_{i}":{{"value":{}.{},"unit":"C","ok":true}}"#,
            20 + i % 7,
            i % 10
        ));
        i += 1;
    }
    kw.push('}');
    format!(r#"[36,5512315355,4429313566,{{"topic":"com.example.readings"}},[],{kw}]"#).into_bytes()
}

/// `json` transcoded into `format`.
fn in_format(format: Format, json: &[u8]) -> Vec<u8> {
    let m = Message::decode(Format::Json, json).unwrap();
    let mut out = Vec::new();
    m.encode(format, &mut out).unwrap();
    out
}

fn codec(c: &mut Criterion) {
    for (name, json) in [
        ("call_small", json_call()),
        ("event_1k_kwargs", json_event()),
    ] {
        let mut g = c.benchmark_group(format!("wamp_{name}"));
        g.throughput(Throughput::Elements(1));
        for format in Format::ALL {
            let bytes = in_format(format, &json);
            g.bench_function(format!("decode_{format:?}"), |b| {
                b.iter(|| Message::decode(format, black_box(&bytes)).unwrap())
            });
            let m = Message::decode(format, &bytes).unwrap();
            let mut out = Vec::with_capacity(bytes.len() * 2);
            g.bench_function(format!("encode_{format:?}"), |b| {
                b.iter(|| {
                    out.clear();
                    black_box(&m).encode(format, &mut out).unwrap();
                })
            });
        }
        g.finish();
    }
    let mut g = c.benchmark_group("wamp_batch_100_events");
    g.throughput(Throughput::Elements(100));
    for format in Format::ALL {
        let one = in_format(format, &json_event());
        let m = Message::decode(format, &one).unwrap();
        let mut batch = Vec::new();
        for _ in 0..100 {
            batched::encode(&m, format, JsonSeparator::Autobahn, &mut batch).unwrap();
        }
        g.bench_function(format!("split_decode_{format:?}"), |b| {
            b.iter(|| {
                let mut n = 0;
                for piece in batched::split(format, black_box(&batch)) {
                    Message::decode(format, piece.unwrap()).unwrap();
                    n += 1;
                }
                assert_eq!(n, 100);
            })
        });
    }
    g.finish();
}

fn passthrough(c: &mut Criterion) {
    let mut g = c.benchmark_group("wamp_call_to_invocation");
    g.throughput(Throughput::Elements(1));
    for (name, json) in [
        ("small", json_call()),
        ("1k_kwargs", {
            let e = json_event();
            // The same kwargs in a CALL.
            let m = Message::decode(Format::Json, &e).unwrap();
            let Message::Event(ev) = m else {
                unreachable!()
            };
            let mut out = Vec::new();
            let mut w = Writer::new(Format::Json, &mut out);
            w.array(6).unwrap();
            w.u64(48).unwrap();
            w.u64(7814135).unwrap();
            w.map(0).unwrap();
            w.end().unwrap();
            w.str("com.example.store").unwrap();
            w.raw(ev.payload.args.unwrap()).unwrap();
            w.raw(ev.payload.kwargs.unwrap()).unwrap();
            w.end().unwrap();
            out
        }),
    ] {
        let mut out = Vec::with_capacity(json.len() * 2);
        g.bench_function(format!("ferrobahn_raw_{name}"), |b| {
            b.iter(|| {
                let Message::Call(call) = Message::decode(Format::Json, black_box(&json)).unwrap()
                else {
                    unreachable!()
                };
                let inv = Message::Invocation(Invocation {
                    request: 4_233_412,
                    registration: 9_129_137_332,
                    details: Default::default(),
                    payload: call.payload,
                });
                out.clear();
                inv.encode(Format::Json, &mut out).unwrap();
            })
        });
        g.bench_function(format!("serde_json_value_{name}"), |b| {
            b.iter(|| {
                let v: serde_json::Value = serde_json::from_slice(black_box(&json)).unwrap();
                let a = v.as_array().unwrap();
                let mut inv = vec![
                    serde_json::Value::from(68),
                    serde_json::Value::from(4_233_412u64),
                    serde_json::Value::from(9_129_137_332u64),
                    serde_json::Value::Object(Default::default()),
                ];
                inv.extend(a[4..].iter().cloned());
                out.clear();
                serde_json::to_writer(&mut out, &serde_json::Value::Array(inv)).unwrap();
            })
        });
        // Across serializers: JSON in, MessagePack out (the payload transcoded).
        g.bench_function(format!("ferrobahn_json_to_msgpack_{name}"), |b| {
            b.iter(|| {
                let Message::Call(call) = Message::decode(Format::Json, black_box(&json)).unwrap()
                else {
                    unreachable!()
                };
                let inv = Message::Invocation(Invocation {
                    request: 4_233_412,
                    registration: 9_129_137_332,
                    details: Default::default(),
                    payload: call.payload,
                });
                out.clear();
                inv.encode(Format::MsgPack, &mut out).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, codec, passthrough);
criterion_main!(benches);
