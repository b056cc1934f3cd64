//! Our WAMP client against our embedded router, over WebSocket and RawSocket (TCP and Unix)
//! with each serializer: calls, progressive results, events, authentication, a callee
//! killed mid-call, and garbage from a peer.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ferrobahn::args;
use ferrobahn::wamp::router::{Principal, RealmConfig, Router, RouterOptions, Secret};
use ferrobahn::wamp::{
    Client, ClientOptions, Credential, Format, PublishOptions, RegisterOptions, Serializer,
    SubscribeOptions, WampError,
};

fn router() -> Router {
    Router::start(RouterOptions {
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    })
    .expect("router starts")
}

/// A router whose realm1 takes only these principals (no anonymous sessions).
fn router_with_principals(principals: Vec<Principal>) -> Router {
    let mut realm = RealmConfig::open("realm1");
    realm.anonymous = None;
    realm.principals = principals;
    Router::start(RouterOptions {
        listen: "127.0.0.1:0".into(),
        config: ferrobahn::wamp::router::RouterConfig {
            realms: vec![realm],
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("router starts")
}

fn join(url: &str, f: impl Into<Serializer>) -> Client {
    Client::connect(url, ClientOptions::new("realm1").serializer(f)).expect("joins")
}

#[test]
fn calls_and_events_with_every_serializer_over_websocket_and_rawsocket() {
    let r = router();
    let callee = join(&r.rs_url(), Format::Json);
    callee
        .register("com.add", RegisterOptions::default(), |a, _| {
            let (x, y): (i64, i64) = a.decode()?;
            Ok(args![x + y])
        })
        .unwrap();
    for f in Serializer::ALL {
        for url in [r.ws_url(), r.rs_url()] {
            let c = join(&url, f);
            assert_eq!(c.serializer(), f);
            assert_eq!(c.format(), f.payload_format());
            // JSON callee, `f` caller: the router transcodes both ways.
            let sum: i64 = c.call("com.add", args![40, 2]).unwrap().get(0).unwrap();
            assert_eq!(sum, 42, "{f:?} over {url}");
            let (_, events) = c
                .subscribe_channel("com.topic", SubscribeOptions::default())
                .unwrap();
            callee
                .publish(
                    "com.topic",
                    args!["hi", 7],
                    &PublishOptions {
                        acknowledge: true,
                        ..Default::default()
                    },
                )
                .unwrap();
            let (a, _) = events.recv_timeout(Duration::from_secs(5)).unwrap();
            let (s, n): (String, u32) = a.decode().unwrap();
            assert_eq!((s.as_str(), n), ("hi", 7));
            c.leave(Duration::from_secs(5)).unwrap();
        }
    }
    assert_eq!(r.session_count(), 1);
    r.stop();
}

#[test]
fn progressive_results_and_unknown_procedures() {
    let r = router();
    let callee = join(&r.ws_url(), Format::Cbor);
    callee
        .register("com.count", RegisterOptions::default(), |a, info| {
            let n: u32 = a.get(0)?;
            for i in 1..=n {
                info.progress(args![i])?;
            }
            Ok(args!["done"])
        })
        .unwrap();
    let caller = join(&r.rs_url(), Format::MsgPack);
    let mut call = caller
        .call_progressive("com.count", args![3], &Default::default())
        .unwrap();
    let mut seen = Vec::new();
    while let Some(item) = call.next_result() {
        let (a, progress) = item.unwrap();
        if progress {
            seen.push(a.get::<u32>(0).unwrap());
        } else {
            assert_eq!(a.get::<String>(0).unwrap(), "done");
        }
    }
    assert_eq!(seen, [1, 2, 3]);
    match caller.call("com.nope", args![]) {
        Err(WampError::Application { error, .. }) => {
            assert_eq!(error, "wamp.error.no_such_procedure")
        }
        other => panic!("{other:?}"),
    }
    r.stop();
}

/// A RawSocket JSON connection driven by hand (handshake done).
fn raw_json(r: &Router) -> TcpStream {
    let mut s = TcpStream::connect(r.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&[0x7F, 0xF1, 0, 0]).unwrap();
    let mut reply = [0u8; 4];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply[0], 0x7F);
    s
}

fn raw_send(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(&(msg.len() as u32).to_be_bytes()).unwrap();
    s.write_all(msg).unwrap();
}

fn raw_recv(s: &mut TcpStream) -> String {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).unwrap();
    let mut b = vec![0u8; u32::from_be_bytes(h) as usize & 0xFF_FFFF];
    s.read_exact(&mut b).unwrap();
    String::from_utf8(b).unwrap()
}

#[test]
fn a_callee_killed_mid_call_fails_the_call_and_leaves_nothing_behind() {
    let r = router();
    let mut callee = raw_json(&r);
    raw_send(&mut callee, br#"[1,"realm1",{"roles":{"callee":{}}}]"#);
    assert!(raw_recv(&mut callee).starts_with("[2,"));
    raw_send(&mut callee, br#"[64,1,{},"com.hang"]"#);
    assert!(raw_recv(&mut callee).starts_with("[65,1,"));
    let caller = join(&r.ws_url(), Format::Json);
    let pending = std::thread::spawn(move || caller.call("com.hang", args![]));
    assert!(raw_recv(&mut callee).starts_with("[68,"), "INVOCATION");
    assert_eq!(r.pending_call_count(), 1);
    drop(callee); // the transport ends without GOODBYE
    match pending.join().unwrap() {
        Err(WampError::Application { error, .. }) => assert_eq!(error, "wamp.error.canceled"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.pending_call_count(), 0);
    assert_eq!(r.registration_count(), 0);
    r.stop();
}

#[test]
fn ticket_and_wampcra_principals_and_a_wrong_ticket() {
    let principals = vec![
        Principal {
            authid: "joe".into(),
            authrole: "user".into(),
            secret: Secret::Ticket("s3cret".into()),
        },
        Principal {
            authid: "peter".into(),
            authrole: "admin".into(),
            secret: Secret::WampCra {
                secret: "pw".into(),
                salt: Some(("salt123".into(), 100, 32)),
            },
        },
    ];
    let r = router_with_principals(principals);
    let opts = |id: &str, c: Credential| ClientOptions::new("realm1").auth(id, vec![c]);
    let joe = Client::connect(
        &r.ws_url(),
        opts("joe", Credential::Ticket("s3cret".into())),
    )
    .unwrap();
    assert_eq!(joe.authrole(), Some("user"));
    let peter =
        Client::connect(&r.rs_url(), opts("peter", Credential::WampCra("pw".into()))).unwrap();
    assert_eq!(peter.authrole(), Some("admin"));
    match Client::connect(&r.ws_url(), opts("joe", Credential::Ticket("wrong".into()))) {
        Err(WampError::Aborted { reason, .. }) => {
            assert_eq!(reason, "wamp.error.authentication_failed")
        }
        other => panic!("{other:?}"),
    }
    match Client::connect(&r.ws_url(), ClientOptions::new("realm1")) {
        Err(WampError::Aborted { reason, .. }) => assert_eq!(reason, "wamp.error.no_auth_method"),
        other => panic!("{other:?}"),
    }
    r.stop();
}

/// WAMP-SCRAM: the router keeps only the stored and server keys; our client's proof is
/// checked, and the client checks the router's signature in WELCOME (it refuses to join
/// otherwise), over JSON and CBOR, argon2id and PBKDF2.
#[test]
fn scram_principals_argon2id_and_pbkdf2_and_a_wrong_password() {
    use ferrobahn::wamp::router::scram_secret;
    let principals = vec![
        Principal {
            authid: "carol".into(),
            authrole: "user".into(),
            secret: Secret::Scram(
                scram_secret("secret3", "argon2id-13", b"0123456789abcdef", 4, Some(512)).unwrap(),
            ),
        },
        Principal {
            authid: "dave".into(),
            authrole: "admin".into(),
            secret: Secret::Scram(
                scram_secret("pw4", "pbkdf2", b"fedcba9876543210", 1000, None).unwrap(),
            ),
        },
    ];
    let r = router_with_principals(principals);
    let opts = |id: &str, pw: &str, f: Format| {
        ClientOptions::new("realm1")
            .serializer(f)
            .auth(id, vec![Credential::Scram(pw.into())])
    };
    let carol = Client::connect(&r.ws_url(), opts("carol", "secret3", Format::Json)).unwrap();
    assert_eq!(carol.authrole(), Some("user"));
    let dave = Client::connect(&r.rs_url(), opts("dave", "pw4", Format::Cbor)).unwrap();
    assert_eq!(dave.authrole(), Some("admin"));
    for (id, pw) in [("carol", "secret4"), ("dave", "secret3"), ("nobody", "x")] {
        match Client::connect(&r.ws_url(), opts(id, pw, Format::MsgPack)) {
            Err(WampError::Aborted { reason, .. }) => assert!(
                reason == "wamp.error.authentication_failed"
                    || (id == "nobody" && reason == "wamp.error.no_auth_method"),
                "{id}: {reason}"
            ),
            other => panic!("{id} with a wrong password: {other:?}"),
        }
    }
    r.stop();
}

/// Registration and subscription revocation: `force_reregister` takes a procedure over,
/// `wamp.registration.remove_callee` and `wamp.subscription.remove_subscriber` end a session's
/// registration or subscription (each told with UNREGISTERED/UNSUBSCRIBED, request 0), and
/// `wamp.session.kill` ends a session.
#[test]
fn revocation_and_killing_sessions_through_the_meta_api() {
    let r = router();
    let a = join(&r.ws_url(), Format::Json);
    let b = join(&r.rs_url(), Format::MsgPack);
    let admin = join(&r.ws_url(), Format::Cbor);
    let reg_a = a
        .register("com.x.proc", RegisterOptions::default(), |_, _| {
            Ok(args!["a"])
        })
        .unwrap();
    let again = b.register("com.x.proc", RegisterOptions::default(), |_, _| {
        Ok(args!["b"])
    });
    assert!(
        matches!(&again, Err(WampError::Application { error, .. }) if error == "wamp.error.procedure_already_exists"),
        "{again:?}"
    );
    let force = RegisterOptions {
        force_reregister: true,
        ..Default::default()
    };
    let reg_b = b
        .register("com.x.proc", force, |_, _| Ok(args!["b"]))
        .unwrap();
    assert_eq!(
        admin
            .call("com.x.proc", args![])
            .unwrap()
            .get::<String>(0)
            .unwrap(),
        "b"
    );
    wait(
        || !a.is_registered(reg_a),
        "a is told its registration was revoked",
    );
    assert!(b.is_registered(reg_b));

    // remove_callee: b loses the procedure, and callers learn there is none.
    admin
        .call(
            "wamp.registration.remove_callee",
            args![reg_b, b.session_id()],
        )
        .unwrap();
    wait(|| !b.is_registered(reg_b), "b is told");
    let gone = admin.call("com.x.proc", args![]);
    assert!(
        matches!(&gone, Err(WampError::Application { error, .. }) if error == "wamp.error.no_such_procedure"),
        "{gone:?}"
    );
    let again = admin.call(
        "wamp.registration.remove_callee",
        args![reg_b, b.session_id()],
    );
    assert!(
        matches!(&again, Err(WampError::Application { error, .. }) if error == "wamp.error.no_such_registration"),
        "{again:?}"
    );

    // remove_subscriber: a no longer gets the topic's events.
    let (sub, events) = a
        .subscribe_channel("com.x.topic", SubscribeOptions::default())
        .unwrap();
    let acked = PublishOptions {
        acknowledge: true,
        ..Default::default()
    };
    admin.publish("com.x.topic", args![1], &acked).unwrap();
    events
        .recv_timeout(Duration::from_secs(5))
        .expect("the first event");
    admin
        .call(
            "wamp.subscription.remove_subscriber",
            args![sub, a.session_id(), "wamp.error.bye"],
        )
        .unwrap();
    wait(
        || !a.is_subscribed(sub),
        "a is told its subscription was revoked",
    );
    admin.publish("com.x.topic", args![2], &acked).unwrap();
    assert!(events.recv_timeout(Duration::from_millis(300)).is_err());

    // kill: the session ends; killing an unknown session is an error.
    admin
        .call("wamp.session.kill", args![b.session_id()])
        .unwrap();
    assert!(b.wait_closed(Some(Duration::from_secs(5))), "b was killed");
    assert_eq!(admin.session_count().unwrap(), 2);
    let none = admin.call("wamp.session.kill", args![12345u64]);
    assert!(
        matches!(&none, Err(WampError::Application { error, .. }) if error == "wamp.error.no_such_session"),
        "{none:?}"
    );
    r.stop();
}

/// Limits: sessions, calls in flight per session, message size, and a subscriber that does
/// not read (dropped once its queue is full, while everyone else goes on).
#[test]
fn limits_and_a_slow_consumer() {
    use ferrobahn::wamp::router::RouterConfig;
    let r = Router::start(RouterOptions {
        listen: "127.0.0.1:0".into(),
        config: RouterConfig {
            max_sessions: 3,
            max_pending_calls: 1,
            ..Default::default()
        },
        max_message: 64 * 1024,
        queue: 64,
        ..Default::default()
    })
    .unwrap();
    let callee = join(&r.rs_url(), Format::Json);
    let caller = join(&r.ws_url(), Format::MsgPack);
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    callee
        .register("com.x.slow", RegisterOptions::default(), move |_, _| {
            let _ = release_rx
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10));
            Ok(args!["done"])
        })
        .unwrap();
    let first = caller
        .call_with("com.x.slow", args![], &Default::default())
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let second = caller.call("com.x.slow", args![]);
    assert!(
        matches!(&second, Err(WampError::Application { error, .. }) if error == "ferrobahn.error.limit_exceeded"),
        "{second:?}"
    );
    release_tx.send(()).unwrap();
    assert_eq!(first.wait().unwrap().get::<String>(0).unwrap(), "done");

    // A message over max_message ends that session only.
    let big = join(&r.ws_url(), Format::Json);
    let too_big = big.call("com.x.slow", args!["x".repeat(100 * 1024)]);
    assert!(too_big.is_err(), "{too_big:?}");
    assert!(big.wait_closed(Some(Duration::from_secs(5))));
    // The client sees the close before the router has counted the session out.
    wait(
        || caller.session_count().is_ok_and(|n| n == 2),
        "the oversized session left",
    );

    // The third session is the last one allowed.
    let third = join(&r.ws_url(), Format::Cbor);
    match Client::connect(&r.ws_url(), ClientOptions::new("realm1")) {
        Err(WampError::Aborted { reason, .. }) => {
            assert_eq!(reason, "ferrobahn.error.limit_exceeded")
        }
        other => panic!("a fourth session: {other:?}"),
    }
    third.leave(Duration::from_secs(5)).unwrap();
    wait(
        || caller.session_count().is_ok_and(|n| n == 2),
        "the third session left",
    );

    // A subscriber that never reads: 4 KiB events until its queue of 64 and the socket
    // buffers are full; the router drops it and goes on.
    let mut slow = raw_json(&r);
    raw_send(&mut slow, br#"[1,"realm1",{"roles":{"subscriber":{}}}]"#);
    assert!(raw_recv(&mut slow).starts_with("[2,"));
    raw_send(&mut slow, br#"[32,1,{},"com.x.flood"]"#);
    assert!(raw_recv(&mut slow).starts_with("[33,1,"));
    assert_eq!(caller.session_count().unwrap(), 3);
    let acked = PublishOptions {
        acknowledge: true,
        ..Default::default()
    };
    let payload = "y".repeat(4096);
    let mut dropped = false;
    for i in 0..20_000 {
        caller
            .publish("com.x.flood", args![i, payload.clone()], &acked)
            .unwrap();
        if i % 100 == 0 && caller.session_count().unwrap() == 2 {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the subscriber that does not read was not dropped");
    release_tx.send(()).unwrap();
    assert_eq!(
        caller
            .call("com.x.slow", args![])
            .unwrap()
            .get::<String>(0)
            .unwrap(),
        "done"
    );
    r.stop();
}

/// permessage-deflate between our client and the router (the router's writer compresses):
/// calls and events, small and 1 MiB, both ways.
#[test]
fn permessage_deflate_on_websocket() {
    let mut options = RouterOptions {
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    options.websocket.deflate = Some(ferrobahn::DeflateAccept::default());
    let r = Router::start(options).unwrap();
    let deflating = |f: Format| {
        let mut o = ClientOptions::new("realm1").serializer(f);
        o.websocket = Some(std::sync::Arc::new(|b: ferrobahn::ClientBuilder| {
            b.deflate(ferrobahn::DeflateOffer::default())
        }));
        Client::connect(&r.ws_url(), o).unwrap()
    };
    let callee = deflating(Format::Json);
    let caller = deflating(Format::MsgPack);
    callee
        .register("com.x.echo", RegisterOptions::default(), |a, _| Ok(a))
        .unwrap();
    let (_, events) = callee
        .subscribe_channel("com.x.topic", SubscribeOptions::default())
        .unwrap();
    for size in [10, 1 << 20] {
        let text = "z".repeat(size);
        let back = caller.call("com.x.echo", args![text.clone()]).unwrap();
        assert_eq!(back.get::<String>(0).unwrap(), text);
        let acked = PublishOptions {
            acknowledge: true,
            ..Default::default()
        };
        caller
            .publish("com.x.topic", args![text.clone()], &acked)
            .unwrap();
        let (a, _) = events.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(a.get::<String>(0).unwrap(), text);
    }
    r.stop();
}

fn wait(ok: impl Fn() -> bool, what: &str) {
    for _ in 0..500 {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out: {what}");
}

#[test]
fn garbage_from_a_peer_is_aborted_and_the_router_stays_up() {
    let r = router();
    // A HELLO, then a frame that is not WAMP.
    let mut s = raw_json(&r);
    raw_send(&mut s, br#"[1,"realm1",{"roles":{}}]"#);
    raw_send(&mut s, b"\x00\x01garbage");
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("[2,"), "WELCOME first: {text}");
    assert!(text.contains("wamp.error.protocol_violation"), "{text}");
    // Random bytes instead of a handshake.
    let mut s = TcpStream::connect(r.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&[0x7F, 0x0F, 0xAA, 0x55]).unwrap();
    let _ = s.read_to_end(&mut Vec::new());
    // Still serving.
    let c = join(&r.ws_url(), Format::Json);
    assert_eq!(c.session_count().unwrap(), 1);
    r.stop();
}

#[cfg(unix)]
#[test]
fn rawsocket_over_a_unix_socket() {
    let dir = std::env::temp_dir().join(format!("ferrobahn-router-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("router.sock");
    let r = Router::start(RouterOptions {
        listen: "127.0.0.1:0".into(),
        unix: Some(path.clone()),
        ..Default::default()
    })
    .unwrap();
    let c = join(&format!("unix://{}", path.display()), Format::Cbor);
    c.register("com.echo", RegisterOptions::default(), |a, _| Ok(a))
        .unwrap();
    let tcp = join(&r.ws_url(), Format::Json);
    let v: String = tcp.call("com.echo", args!["x"]).unwrap().get(0).unwrap();
    assert_eq!(v, "x");
    r.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keepalive_pings_keep_answering_peers_and_drop_silent_ones() {
    let r = Router::start(RouterOptions {
        listen: "127.0.0.1:0".into(),
        ping_interval: Some(Duration::from_millis(50)),
        ..Default::default()
    })
    .unwrap();
    // Our client answers pings on both transports.
    let rs = join(&r.rs_url(), Format::Json);
    let ws = join(&r.ws_url(), Format::Cbor);
    rs.register("com.x.echo", RegisterOptions::default(), |a, _| Ok(a))
        .unwrap();
    // A peer that joins and then never answers a ping.
    let mut silent = raw_json(&r);
    raw_send(&mut silent, br#"[1,"realm1",{"roles":{"caller":{}}}]"#);
    assert!(raw_recv(&mut silent).starts_with("[2,"));
    wait(|| r.session_count() == 3, "three sessions");
    // Many intervals later: the silent peer is gone, the others are not.
    wait(|| r.session_count() == 2, "the silent peer dropped");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(r.session_count(), 2);
    let got = ws.call("com.x.echo", args![7]).unwrap();
    assert_eq!(got.get::<i64>(0).unwrap(), 7);
    // What the silent peer was sent: RawSocket PING frames (kind 1), then the end.
    let mut pings = 0;
    loop {
        let mut h = [0u8; 4];
        if silent.read_exact(&mut h).is_err() {
            break;
        }
        let mut b = vec![0u8; u32::from_be_bytes(h) as usize & 0xFF_FFFF];
        silent.read_exact(&mut b).unwrap();
        assert_eq!(h[0], 1, "only pings after WELCOME");
        pings += 1;
    }
    assert!(pings >= 1);
    r.stop();
}

/// Threads of this process (the router runs in it).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[test]
#[cfg(target_os = "linux")]
fn a_peer_that_stops_reading_then_breaks_the_protocol_is_cut_loose() {
    // Its writer is blocked on a full socket when its reader ends: the connection must not
    // hang on to its threads (the router no longer knows it, so nothing else would cut it).
    let r = router();
    let publisher = join(&r.ws_url(), Format::Json);
    let baseline = threads();
    let mut silent = raw_json(&r);
    raw_send(&mut silent, br#"[1,"realm1",{"roles":{"subscriber":{}}}]"#);
    assert!(raw_recv(&mut silent).starts_with("[2,"));
    raw_send(&mut silent, br#"[32,1,{},"com.x.flood"]"#);
    assert!(raw_recv(&mut silent).starts_with("[33,"));
    let big = "x".repeat(256 * 1024);
    // 32 MiB of events: far more than the loopback buffers hold; the subscriber reads none.
    for _ in 0..128 {
        publisher
            .publish(
                "com.x.flood",
                args![big.clone()],
                &PublishOptions::default(),
            )
            .unwrap();
    }
    // Its reader thread and the writer thread the full socket needed.
    wait(
        || threads() >= baseline + 2,
        "a writer thread for the full socket",
    );
    // Now a broken frame (a RawSocket header with a reserved type): its reader ends.
    silent.write_all(&[0x07, 0, 0, 1, b'x']).unwrap();
    for _ in 0..1500 {
        if threads() <= baseline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        threads() <= baseline,
        "the broken peer's threads are gone ({} > {baseline})",
        threads()
    );
    publisher.leave(Duration::from_secs(5)).unwrap();
    r.stop();
}
