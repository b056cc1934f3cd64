//! The blocking WAMP client against a scripted router (our WebSocket server speaking WAMP
//! by hand through the core's codec): joins, calls and their answers, progressive results,
//! errors, invocations and interrupts, event order, timeouts, protocol violations. The
//! real routers (Crossbar.io, with Autobahn|Python peers) are in scripts/crossbar.sh.

mod common;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{start_server, GENEROUS};
use ferrobahn::args;
use ferrobahn::core::wamp::{Format, Message, Raw, Writer};
use ferrobahn::wamp::{
    Args, CallOptions, Client, ClientOptions, RegisterOptions, SubscribeOptions, WampError,
};
use ferrobahn::{Message as WsMessage, ServerConfig, WebSocket};

/// The router's end of one session: messages in and out as JSON text, whatever the
/// serializer on the wire.
struct Router {
    ws: WebSocket,
    format: Format,
}

impl Router {
    fn recv(&mut self) -> String {
        loop {
            match self.ws.read().expect("router read") {
                WsMessage::Text(t) => return self.to_json(t.as_bytes()),
                WsMessage::Binary(b) => return self.to_json(&b),
                _ => {}
            }
        }
    }

    fn to_json(&self, bytes: &[u8]) -> String {
        let m = Message::decode(self.format, bytes).expect("a WAMP message");
        let mut json = Vec::new();
        m.encode(Format::Json, &mut json).unwrap();
        String::from_utf8(json).unwrap()
    }

    fn send(&mut self, json: &str) {
        if self.format == Format::Json {
            self.ws.send(WsMessage::text(json)).unwrap();
        } else {
            let mut out = Vec::new();
            Writer::new(self.format, &mut out)
                .raw(Raw {
                    format: Format::Json,
                    bytes: json.as_bytes(),
                })
                .unwrap();
            self.ws.send(WsMessage::binary(out)).unwrap();
        }
    }

    /// HELLO → WELCOME with session 1001.
    fn welcome(&mut self) {
        let hello = self.recv();
        assert!(hello.starts_with(r#"[1,"realm1",{"#), "{hello}");
        self.send(r#"[2,1001,{"authid":"anon","authrole":"anonymous"}]"#);
    }
}

/// A router on 127.0.0.1:0 running `script` for each session; returns the URL.
fn router(script: impl Fn(&mut Router) + Send + Sync + 'static) -> String {
    let config = ServerConfig {
        protocols: vec![
            "wamp.2.json".into(),
            "wamp.2.cbor".into(),
            "wamp.2.msgpack".into(),
        ],
        ..Default::default()
    };
    let (addr, _server) = start_server(config, move |ws| {
        let format = Format::ALL
            .into_iter()
            .find(|f| Some(f.subprotocol()) == ws.protocol())
            .expect("a WAMP subprotocol");
        let mut r = Router { ws, format };
        script(&mut r);
    });
    format!("ws://{addr}/")
}

fn options() -> ClientOptions {
    let mut o = ClientOptions::new("realm1");
    o.timeout = GENEROUS;
    o
}

#[test]
fn calls_get_results_errors_and_progressive_results() {
    for format in [Format::Json, Format::Cbor, Format::MsgPack] {
        let url = router(|r| {
            r.welcome();
            assert_eq!(r.recv(), r#"[48,1,{},"com.add",[2,3]]"#);
            r.send("[50,1,{},[5]]");
            assert_eq!(r.recv(), r#"[48,2,{},"com.fail"]"#);
            r.send(r#"[8,48,2,{},"com.error.bad",["why"],{"code":7}]"#);
            assert_eq!(r.recv(), r#"[48,3,{"receive_progress":true},"com.count"]"#);
            r.send(r#"[50,3,{"progress":true},[1]]"#);
            r.send(r#"[50,3,{"progress":true},[2]]"#);
            r.send("[50,3,{},[3]]");
            let bye = r.recv();
            assert!(bye.starts_with("[6,{}"), "{bye}");
            r.send(r#"[6,{},"wamp.close.goodbye_and_out"]"#);
        });
        let c = Client::connect(&url, options().serializer(format)).unwrap();
        assert_eq!(
            (c.session_id(), c.authid(), c.format()),
            (1001, Some("anon"), format)
        );
        assert_eq!(
            c.call("com.add", args![2, 3])
                .unwrap()
                .get::<i64>(0)
                .unwrap(),
            5
        );
        match c.call("com.fail", Args::new()) {
            Err(WampError::Application { error, args }) => {
                assert_eq!(error, "com.error.bad");
                assert_eq!(args.get::<String>(0).unwrap(), "why");
                assert_eq!(args.kw::<i64>("code").unwrap(), 7);
            }
            other => panic!("{other:?}"),
        }
        let all: Vec<i64> = c
            .call_progressive("com.count", Args::new(), &CallOptions::default())
            .unwrap()
            .map(|r| r.unwrap().get(0).unwrap())
            .collect();
        assert_eq!(all, [1, 2, 3]);
        c.leave(GENEROUS).unwrap();
        assert!(c.wait_closed(Some(GENEROUS)));
        assert!(c.left_on_purpose());
    }
}

#[test]
fn invocations_are_served_and_interrupts_seen() {
    let (done_tx, done_rx) = mpsc::channel();
    let done_tx = Mutex::new(done_tx);
    let url = router(move |r| {
        r.welcome();
        assert_eq!(r.recv(), r#"[64,1,{},"com.mul"]"#);
        r.send("[65,1,77]");
        assert_eq!(r.recv(), r#"[64,2,{},"com.slow"]"#);
        r.send("[65,2,78]");
        r.send("[68,501,77,{},[6,7]]");
        assert_eq!(r.recv(), "[70,501,{},[42]]");
        r.send(r#"[68,502,77,{},["x"]]"#);
        let err = r.recv();
        assert!(
            err.starts_with(r#"[8,68,502,{},"wamp.error.invalid_argument""#),
            "{err}"
        );
        r.send("[68,503,78,{}]");
        std::thread::sleep(Duration::from_millis(50));
        r.send(r#"[69,503,{"mode":"kill"}]"#);
        assert_eq!(r.recv(), r#"[8,68,503,{},"wamp.error.canceled"]"#);
        // An invocation for no registration of ours.
        r.send("[68,504,999,{}]");
        assert_eq!(
            r.recv(),
            r#"[8,68,504,{},"wamp.error.no_such_registration"]"#
        );
        let _ = done_tx.lock().unwrap().send(());
    });
    let c = Client::connect(&url, options()).unwrap();
    c.register("com.mul", RegisterOptions::default(), |a, _| {
        let (x, y): (i64, i64) = a.decode()?;
        Ok(args![x * y])
    })
    .unwrap();
    c.register("com.slow", RegisterOptions::default(), |_, info| {
        for _ in 0..500 {
            if info.is_interrupted() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(args!["too late"])
    })
    .unwrap();
    done_rx
        .recv_timeout(GENEROUS)
        .expect("the router's script ran to its end");
}

#[test]
fn events_arrive_in_order() {
    let url = router(|r| {
        r.welcome();
        assert_eq!(r.recv(), r#"[32,1,{},"com.topic"]"#);
        r.send("[33,1,55]");
        for i in 0..200 {
            r.send(&format!("[36,55,{},{{}},[{i}]]", i + 1));
        }
        let _ = r.recv();
    });
    let c = Client::connect(&url, options()).unwrap();
    let (_, events) = c
        .subscribe_channel("com.topic", SubscribeOptions::default())
        .unwrap();
    let got: Vec<i64> = (0..200)
        .map(|_| events.recv_timeout(GENEROUS).unwrap().0.get(0).unwrap())
        .collect();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
}

#[test]
fn a_call_that_times_out_is_canceled() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let url = router(move |r| {
        r.welcome();
        assert_eq!(r.recv(), r#"[48,1,{},"com.never"]"#);
        let _ = tx.lock().unwrap().send(r.recv());
    });
    let c = Client::connect(&url, options()).unwrap();
    let opts = CallOptions {
        timeout: Some(Duration::from_millis(100)),
        ..Default::default()
    };
    let r = c.call_with("com.never", Args::new(), &opts).unwrap().wait();
    assert!(matches!(r, Err(WampError::Timeout)), "{r:?}");
    assert_eq!(
        rx.recv_timeout(GENEROUS).unwrap(),
        r#"[49,1,{"mode":"killnowait"}]"#
    );
}

#[test]
fn a_router_that_breaks_the_protocol_gets_abort() {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let tx2 = Arc::clone(&tx);
    let url = router(move |r| {
        r.welcome();
        let _ = r.recv(); // the CALL
        r.send("[50,99,{},[1]]"); // a RESULT for no call
        let _ = tx2.lock().unwrap().send(r.recv());
    });
    let c = Client::connect(&url, options()).unwrap();
    let r = c.call("com.x", Args::new());
    assert!(matches!(r, Err(WampError::SessionClosed)), "{r:?}");
    let abort = rx.recv_timeout(GENEROUS).unwrap();
    assert!(
        abort.ends_with(r#""wamp.error.protocol_violation"]"#),
        "{abort}"
    );
    assert!(c.wait_closed(Some(GENEROUS)));
    assert!(!c.is_connected());
}

#[test]
fn abort_on_join_is_a_typed_error() {
    let url = router(|r| {
        let _ = r.recv();
        r.send(r#"[3,{"message":"no such realm"},"wamp.error.no_such_realm"]"#);
    });
    match Client::connect(&url, options()) {
        Err(WampError::Aborted { reason, message }) => {
            assert_eq!(reason, "wamp.error.no_such_realm");
            assert_eq!(message.as_deref(), Some("no such realm"));
        }
        other => panic!("{:?}", other.map(|c| c.session_id())),
    }
}
