//! Checks the WAMP client against a real router: Crossbar.io (scripts/crossbar.sh starts it
//! with a config it writes and runs this) and our own (scripts/router-interop.sh).
//!
//! `wamp_check WS_URL RS_URL`: for every serializer over WebSocket and over RawSocket, two
//! sessions of ours on realm `realm1` exercise RPC (results, errors with URI and args,
//! progressive results, cancel, client-side timeout, caller disclosure, pattern and shared
//! registrations) and PubSub (events, exclude_me, acknowledge, black/white listing,
//! publisher disclosure, pattern subscriptions, binary payloads); then authentication:
//! ticket, WAMP-CRA (plain and salted), cryptosign, and their failures. Prints one line per
//! check; exits 1 on the first failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use ferrobahn::args;
use ferrobahn::wamp::{
    bytes_value, value_bytes, Args, CallOptions, CancelMode, Client, ClientOptions, Credential,
    CryptosignKey, Format, Invoke, Match, PublishOptions, RegisterOptions, Serializer,
    SubscribeOptions, WampError,
};

const T: Duration = Duration::from_secs(10);

fn check(name: &str, ok: bool, detail: impl std::fmt::Debug) {
    if ok {
        println!("ok   {name}");
    } else {
        println!("FAIL {name}: {detail:?}");
        std::process::exit(1);
    }
}

fn join(url: &str, format: impl Into<Serializer>) -> Client {
    let format = format.into();
    match Client::connect(url, ClientOptions::new("realm1").serializer(format)) {
        Ok(c) => c,
        Err(e) => {
            println!("FAIL join {url} {format}: {e}");
            std::process::exit(1);
        }
    }
}

/// What the disclosure checks expect over FlatBuffers.
fn fb_note(s: Serializer) -> &'static str {
    if s.is_flatbuffers() {
        " (not over FlatBuffers: no field for it)"
    } else {
        ""
    }
}

fn rpc_and_pubsub(url: &str, format: Serializer) {
    let tag = format!(
        "{} {}",
        url.split("://").next().unwrap_or(""),
        format.name()
    );
    // FlatBuffers has no field for `disclose_me` nor `disclose_caller` (Autobahn's schema):
    // over it nobody is disclosed, and that is what is checked.
    let disclosed = |id: u64| (!format.is_flatbuffers()).then_some(id);
    let callee = join(url, format);
    let caller = join(url, format);
    check(
        &format!("{tag}: joined"),
        callee.session_id() != caller.session_id(),
        (),
    );

    // A plain procedure, with caller disclosure.
    let reg = callee
        .register(
            "com.example.add2",
            RegisterOptions {
                disclose_caller: true,
                ..Default::default()
            },
            |a, info| {
                let (x, y): (i64, i64) = a.decode()?;
                Ok(args![x + y, info.caller])
            },
        )
        .unwrap();
    let r = caller
        .call_with(
            "com.example.add2",
            args![20, 22],
            &CallOptions {
                disclose_me: true,
                ..Default::default()
            },
        )
        .and_then(|p| p.wait());
    check(
        &format!("{tag}: call → result, caller disclosed{}", fb_note(format)),
        matches!(&r, Ok(a) if a.get::<i64>(0).ok() == Some(42)
            && a.get::<Option<u64>>(1).ok() == Some(disclosed(caller.session_id()))),
        &r,
    );

    // Errors with URI and payload.
    callee
        .register("com.example.fail", Default::default(), |_, _| {
            Err(WampError::app(
                "com.example.error.bad",
                args!["why"].kwarg("code", 7),
            ))
        })
        .unwrap();
    let r = caller.call("com.example.fail", Args::new());
    check(
        &format!("{tag}: application error with args"),
        matches!(&r, Err(WampError::Application { error, args })
            if error == "com.example.error.bad" && args.get::<String>(0).ok().as_deref() == Some("why")
            && args.kw::<i64>("code").ok() == Some(7)),
        &r,
    );
    let r = caller.call("com.example.nothing_here", Args::new());
    check(
        &format!("{tag}: no such procedure"),
        matches!(&r, Err(WampError::Application { error, .. }) if error == "wamp.error.no_such_procedure"),
        &r,
    );

    // Binary payloads both ways.
    callee
        .register("com.example.reverse", Default::default(), |a, _| {
            let mut b = value_bytes(&a.args[0])
                .ok_or_else(|| WampError::app("com.error.type", Args::new()))?;
            b.reverse();
            Ok(args![bytes_value(&b)])
        })
        .unwrap();
    let r = caller.call(
        "com.example.reverse",
        args![bytes_value(&[1, 2, 3, 0, 255])],
    );
    check(
        &format!("{tag}: binary arguments"),
        matches!(&r, Ok(a) if value_bytes(&a.args[0]) == Some(vec![255, 0, 3, 2, 1])),
        &r,
    );

    // Progressive results.
    callee
        .register("com.example.countdown", Default::default(), |a, info| {
            let n: i64 = a.get(0)?;
            for i in (1..=n).rev() {
                info.progress(args![i])?;
            }
            Ok(args!["liftoff"])
        })
        .unwrap();
    let results: Vec<_> = caller
        .call_progressive("com.example.countdown", args![3], &CallOptions::default())
        .unwrap()
        .collect();
    let got: Vec<serde_json::Value> = results
        .iter()
        .map(|r| r.as_ref().map(|a| a.args[0].clone()).unwrap_or_default())
        .collect();
    check(
        &format!("{tag}: progressive results"),
        got == vec![
            serde_json::json!(3),
            serde_json::json!(2),
            serde_json::json!(1),
            serde_json::json!("liftoff"),
        ],
        &got,
    );

    // Cancel (kill): the callee sees the interrupt, the caller gets wamp.error.canceled.
    let (started_tx, started_rx) = mpsc::channel();
    let started_tx = std::sync::Mutex::new(started_tx);
    callee
        .register("com.example.slow", Default::default(), move |_, info| {
            let _ = started_tx.lock().unwrap().send(());
            for _ in 0..200 {
                if info.is_interrupted() {
                    return Ok(args!["interrupted"]);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(args!["finished"])
        })
        .unwrap();
    let pending = caller
        .call_with("com.example.slow", Args::new(), &CallOptions::default())
        .unwrap();
    started_rx.recv_timeout(T).unwrap();
    pending.canceler().cancel(CancelMode::Kill).unwrap();
    let r = pending.wait();
    check(
        &format!("{tag}: cancel (kill)"),
        matches!(&r, Err(WampError::Application { error, .. }) if error == "wamp.error.canceled"),
        &r,
    );
    started_rx.recv_timeout(T).ok();

    // Client-side timeout.
    let r = caller
        .call_with(
            "com.example.slow",
            Args::new(),
            &CallOptions {
                timeout: Some(Duration::from_millis(200)),
                ..Default::default()
            },
        )
        .and_then(|p| p.wait());
    check(
        &format!("{tag}: call timeout"),
        matches!(r, Err(WampError::Timeout)),
        &r,
    );

    // Pattern registration and shared registrations.
    callee
        .register(
            "com.example.pattern.",
            RegisterOptions {
                match_: Some(Match::Prefix),
                ..Default::default()
            },
            |_, info| Ok(args![info.procedure]),
        )
        .unwrap();
    let r = caller.call("com.example.pattern.deep.name", Args::new());
    check(
        &format!("{tag}: prefix registration sees the procedure"),
        matches!(&r, Ok(a) if a.get::<String>(0).ok().as_deref() == Some("com.example.pattern.deep.name")),
        &r,
    );
    let shared = RegisterOptions {
        invoke: Some(Invoke::RoundRobin),
        ..Default::default()
    };
    callee
        .register("com.example.shared", shared, |_, _| Ok(args!["callee"]))
        .unwrap();
    caller
        .register("com.example.shared", shared, |_, _| Ok(args!["caller"]))
        .unwrap();
    let mut seen: Vec<String> = (0..4)
        .map(|_| {
            caller
                .call("com.example.shared", Args::new())
                .unwrap()
                .get(0)
                .unwrap()
        })
        .collect();
    seen.sort();
    check(
        &format!("{tag}: shared registration, round robin"),
        seen == ["callee", "callee", "caller", "caller"],
        &seen,
    );
    callee.unregister(reg).unwrap();
    let r = caller.call("com.example.add2", args![1, 2]);
    check(
        &format!("{tag}: unregistered"),
        matches!(&r, Err(WampError::Application { error, .. }) if error == "wamp.error.no_such_procedure"),
        &r,
    );

    // PubSub.
    let (sub, events) = callee
        .subscribe_channel("com.example.topic", SubscribeOptions::default())
        .unwrap();
    let pubd = caller
        .publish(
            "com.example.topic",
            args!["hello"].kwarg("n", 1),
            &PublishOptions {
                acknowledge: true,
                disclose_me: true,
                ..Default::default()
            },
        )
        .unwrap();
    let ev = events.recv_timeout(T);
    check(
        &format!(
            "{tag}: acknowledged publish → event, publisher disclosed{}",
            fb_note(format)
        ),
        pubd.is_some()
            && matches!(&ev, Ok((a, info)) if a.get::<String>(0).ok().as_deref() == Some("hello")
                && info.publisher == disclosed(caller.session_id()) && Some(info.publication) == pubd),
        &ev,
    );
    // exclude_me (default): a publisher subscribed to its own topic does not get its event;
    // with exclude_me false it does.
    let (_, own) = caller
        .subscribe_channel("com.example.topic", SubscribeOptions::default())
        .unwrap();
    caller
        .publish("com.example.topic", args![1], &PublishOptions::default())
        .unwrap();
    caller
        .publish(
            "com.example.topic",
            args![2],
            &PublishOptions {
                exclude_me: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    // Black- and whitelisting by session.
    caller
        .publish(
            "com.example.topic",
            args!["not for callee"],
            &PublishOptions {
                exclude: vec![callee.session_id()],
                exclude_me: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    caller
        .publish(
            "com.example.topic",
            args!["only callee"],
            &PublishOptions {
                eligible: vec![callee.session_id()],
                exclude_me: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    let first = |rx: &mpsc::Receiver<(Args, ferrobahn::wamp::EventInfo)>,
                 n: usize|
     -> Vec<serde_json::Value> {
        (0..n)
            .filter_map(|_| rx.recv_timeout(T).ok())
            .map(|(a, _)| a.args[0].clone())
            .collect()
    };
    let to_callee = first(&events, 3);
    let to_caller = first(&own, 2);
    check(
        &format!("{tag}: exclude_me, exclude, eligible"),
        to_callee
            == vec![
                serde_json::json!(1),
                serde_json::json!(2),
                serde_json::json!("only callee"),
            ]
            && to_caller == vec![serde_json::json!(2), serde_json::json!("not for callee")],
        (&to_callee, &to_caller),
    );
    // Wildcard subscription.
    let count = Arc::new(AtomicUsize::new(0));
    let c2 = Arc::clone(&count);
    let (wtx, wrx) = mpsc::channel();
    let wtx = std::sync::Mutex::new(wtx);
    callee
        .subscribe(
            "com.example..status",
            SubscribeOptions {
                match_: Some(Match::Wildcard),
                ..Default::default()
            },
            move |_, info| {
                c2.fetch_add(1, Ordering::SeqCst);
                let _ = wtx.lock().unwrap().send(info.topic);
            },
        )
        .unwrap();
    caller
        .publish(
            "com.example.pump7.status",
            Args::new(),
            &PublishOptions::default(),
        )
        .unwrap();
    let topic = wrx.recv_timeout(T);
    check(
        &format!("{tag}: wildcard subscription sees the topic"),
        matches!(&topic, Ok(Some(t)) if t == "com.example.pump7.status"),
        &topic,
    );
    // Meta API.
    let count = caller.session_count();
    check(
        &format!("{tag}: wamp.session.count"),
        matches!(count, Ok(n) if n >= 2),
        &count,
    );
    let list = caller.session_list();
    check(
        &format!("{tag}: wamp.session.list"),
        matches!(&list, Ok(l) if l.contains(&caller.session_id()) && l.contains(&callee.session_id())),
        &list,
    );
    let info = caller.session_get(callee.session_id());
    check(
        &format!("{tag}: wamp.session.get"),
        matches!(&info, Ok(v) if v["session"] == serde_json::json!(callee.session_id())),
        &info,
    );
    let found = caller.registration_lookup("com.example.countdown", Match::Exact);
    let callees = found
        .as_ref()
        .ok()
        .copied()
        .flatten()
        .map(|id| caller.registration_callees(id));
    check(
        &format!("{tag}: wamp.registration.lookup / list_callees"),
        matches!(&callees, Some(Ok(c)) if c == &vec![callee.session_id()]),
        (&found, &callees),
    );
    let sub_found = caller.subscription_lookup("com.example.topic", Match::Exact);
    check(
        &format!("{tag}: wamp.subscription.lookup"),
        matches!(&sub_found, Ok(Some(id)) if *id == sub),
        &sub_found,
    );
    callee.unsubscribe(sub).unwrap();
    caller.leave(T).unwrap();
    callee.leave(T).unwrap();
    check(
        &format!("{tag}: left"),
        !callee.is_connected() && !caller.is_connected(),
        (),
    );
}

fn auth(url: &str) {
    let with = |authid: &str, creds: Vec<Credential>| {
        Client::connect(url, ClientOptions::new("realm1").auth(authid, creds))
    };
    let r = with("joe", vec![Credential::Ticket("secret!!!".into())]);
    check(
        "ticket",
        matches!(&r, Ok(c) if c.authid() == Some("joe")),
        r.as_ref().err(),
    );
    let r = with("joe", vec![Credential::Ticket("wrong".into())]);
    check(
        "ticket, wrong: ABORT",
        matches!(&r, Err(WampError::Aborted { reason, .. }) if reason.starts_with("wamp.error.")),
        r.as_ref().err(),
    );
    let r = with("peter", vec![Credential::WampCra("secret1".into())]);
    check(
        "wampcra",
        matches!(&r, Ok(c) if c.authid() == Some("peter")),
        r.as_ref().err(),
    );
    let r = with("salted", vec![Credential::WampCra("secret2".into())]);
    check("wampcra, salted", r.is_ok(), r.as_ref().err());
    let r = with("peter", vec![Credential::WampCra("nope".into())]);
    check(
        "wampcra, wrong: ABORT",
        matches!(r, Err(WampError::Aborted { .. })),
        r.as_ref().err(),
    );
    let r = with("carol", vec![Credential::Scram("secret3".into())]);
    check(
        "scram (argon2id), server signature checked",
        matches!(&r, Ok(c) if c.authid() == Some("carol")),
        r.as_ref().err(),
    );
    let r = with("carol", vec![Credential::Scram("wrong".into())]);
    check(
        "scram, wrong password: ABORT",
        matches!(r, Err(WampError::Aborted { .. })),
        r.as_ref().err(),
    );
    let key = CryptosignKey::from_hex(&"4d".repeat(32)).unwrap();
    let r = with(
        "alice",
        vec![Credential::Cryptosign {
            key: key.clone(),
            channel_binding: false,
        }],
    );
    check(
        "cryptosign",
        matches!(&r, Ok(c) if c.authid() == Some("alice")),
        r.as_ref().err(),
    );
    let other = CryptosignKey::from_hex(&"5e".repeat(32)).unwrap();
    let r = with(
        "alice",
        vec![Credential::Cryptosign {
            key: other,
            channel_binding: false,
        }],
    );
    check(
        "cryptosign, unknown key: ABORT",
        matches!(r, Err(WampError::Aborted { .. })),
        r.as_ref().err(),
    );
}

/// RawSocket over a Unix socket, many calls from several threads on one session,
/// retained events, cancel in mode killnowait.
fn more(ws: &str, unix: &str) {
    let callee = join(unix, Format::Cbor);
    check("unix socket RawSocket: joined", callee.is_connected(), ());
    callee
        .register("com.example.twice", RegisterOptions::default(), |a, _| {
            Ok(args![a.get::<i64>(0)? * 2])
        })
        .unwrap();
    let caller = join(ws, Format::MsgPack);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = caller.clone();
            std::thread::spawn(move || {
                (0..50)
                    .filter(|i| {
                        let n = t * 1000 + i;
                        c.call("com.example.twice", args![n])
                            .ok()
                            .and_then(|a| a.get::<i64>(0).ok())
                            == Some(2 * n)
                    })
                    .count()
            })
        })
        .collect();
    let right: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    check(
        "200 calls from 4 threads on one session (ws caller, unix callee)",
        right == 200,
        right,
    );

    // Retained events.
    caller
        .publish(
            "com.example.retained",
            args!["kept"],
            &PublishOptions {
                retain: true,
                acknowledge: true,
                ..Default::default()
            },
        )
        .unwrap();
    let (_, retained) = callee
        .subscribe_channel(
            "com.example.retained",
            SubscribeOptions {
                get_retained: true,
                ..Default::default()
            },
        )
        .unwrap();
    let got = retained.recv_timeout(T);
    check(
        "retain / get_retained",
        matches!(&got, Ok((a, info)) if a.get::<String>(0).ok().as_deref() == Some("kept") && info.retained),
        &got,
    );

    // Cancel, mode killnowait: the caller is answered at once.
    callee
        .register("com.example.sleepy", RegisterOptions::default(), |_, _| {
            std::thread::sleep(Duration::from_secs(3));
            Ok(Args::new())
        })
        .unwrap();
    let p = caller
        .call_with("com.example.sleepy", Args::new(), &CallOptions::default())
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = std::time::Instant::now();
    p.cancel(CancelMode::KillNoWait).unwrap();
    let r = p.wait();
    let took = started.elapsed();
    check(
        "cancel (killnowait) answers before the callee finishes",
        matches!(&r, Err(WampError::Application { error, .. }) if error == "wamp.error.canceled")
            && took < Duration::from_millis(2500),
        (&r, took),
    );
    caller.leave(T).unwrap();
    callee.leave(T).unwrap();
}

/// `wss://` and `rss://` (RawSocket over TLS) with a test CA.
fn tls(wss: &str, rss: &str, ca: &str) {
    let config = ferrobahn::tls::client_config(&ferrobahn::TlsClientOptions {
        root_pem: vec![std::fs::read(ca).expect("CA file")],
        // Crossbar's TLS fails on ALPN it does not know.
        alpn: Some(Vec::new()),
        ..Default::default()
    })
    .unwrap();
    let with_tls = |url: &str, f: Format| {
        let mut o = ClientOptions::new("realm1").serializer(f);
        o.tls = Some(config.clone());
        Client::connect(url, o)
    };
    let callee = with_tls(rss, Format::MsgPack);
    check("rss:// joined", callee.is_ok(), callee.as_ref().err());
    let callee = callee.unwrap();
    callee
        .register("com.example.tls", RegisterOptions::default(), |_, _| {
            Ok(args!["secure"])
        })
        .unwrap();
    let caller = with_tls(wss, Format::Json);
    check("wss:// joined", caller.is_ok(), caller.as_ref().err());
    let r = caller.unwrap().call("com.example.tls", Args::new());
    check(
        "wss:// caller → rss:// callee",
        matches!(&r, Ok(a) if a.get::<String>(0).ok().as_deref() == Some("secure")),
        &r,
    );
    // Without the test CA the router's certificate is refused.
    let r = Client::connect(wss, ClientOptions::new("realm1"));
    check(
        "wss:// with an unknown CA is refused",
        matches!(&r, Err(WampError::Transport(e)) if e.contains("TLS")),
        r.as_ref().err(),
    );
}

/// Interop with an Autobahn|Python session (tests/wamp_crossbar/autobahn_peer.py) on the
/// same router, each side using its own serializer.
fn peer(url: &str, format: Serializer) {
    let tag = format!("Autobahn|Python peer, we speak {}", format.name());
    let c = join(url, format);
    let r = c.call("com.peer.add2", args![20, 22]);
    check(
        &format!("{tag}: our call → their callee"),
        matches!(&r, Ok(a) if a.get::<i64>(0).ok() == Some(42)),
        &r,
    );
    let r = c.call("com.peer.reverse", args![bytes_value(&[1, 2, 3, 0xff])]);
    check(
        &format!("{tag}: binary argument and result"),
        matches!(&r, Ok(a) if value_bytes(&a.args[0]) == Some(vec![0xff, 3, 2, 1])),
        &r,
    );
    let r = c.call("com.peer.reverse", args!["not bytes"]);
    check(
        &format!("{tag}: their ApplicationError"),
        matches!(&r, Err(WampError::Application { error, args }) if error == "com.peer.error.not_bytes"
            && args.get::<String>(0).ok().as_deref() == Some("str")),
        &r,
    );
    let (_, echo) = c
        .subscribe_channel("com.peer.echo", SubscribeOptions::default())
        .unwrap();
    let sent = args![1, "two", bytes_value(&[0, 9])]
        .kwarg("k", serde_json::json!({"nested": [true, null]}));
    c.publish(
        "com.peer.topic",
        sent.clone(),
        &PublishOptions {
            acknowledge: true,
            ..Default::default()
        },
    )
    .unwrap();
    let got = echo.recv_timeout(T).map(|(a, _)| a);
    check(
        &format!("{tag}: our event → their subscriber → their event → us"),
        got.as_ref().ok() == Some(&sent),
        &got,
    );
    c.register("com.ours.mul", RegisterOptions::default(), |a, _| {
        let (x, y): (i64, i64) = a.decode()?;
        Ok(args![x * y])
    })
    .unwrap();
    let (_, result) = c
        .subscribe_channel("com.peer.result", SubscribeOptions::default())
        .unwrap();
    c.publish(
        "com.peer.go",
        Args::new(),
        &PublishOptions {
            acknowledge: true,
            ..Default::default()
        },
    )
    .unwrap();
    let got = result.recv_timeout(T).map(|(a, _)| a.args.first().cloned());
    check(
        &format!("{tag}: their call → our callee"),
        matches!(&got, Ok(Some(v)) if *v == serde_json::json!(42)),
        &got,
    );
    c.leave(T).unwrap();
}

/// Reconnects: scripts/crossbar.sh restarts Crossbar after `ready 1` is printed; the
/// component rejoins on its own and registers again, and a call from another session
/// reaches the new registration.
fn reconnect(url: &str) {
    use ferrobahn::wamp::{Component, Lifecycle, Retry};
    let (ready_tx, ready_rx) = mpsc::channel();
    let ready_tx = std::sync::Mutex::new(ready_tx);
    let readies = AtomicUsize::new(0);
    let handle = Component::new(vec![url.to_owned()], ClientOptions::new("realm1"), |c| {
        let me = c.session_id();
        c.register(
            "com.example.reco",
            RegisterOptions::default(),
            move |_, _| Ok(args![me]),
        )?;
        Ok(())
    })
    .retry(Retry {
        initial_retry_delay: Duration::from_millis(200),
        max_retry_delay: Duration::from_secs(1),
        ..Retry::default()
    })
    .on_event(move |e| {
        if let Lifecycle::Ready(session) = e {
            let n = readies.fetch_add(1, Ordering::SeqCst) + 1;
            println!("ready {n}");
            let _ = ready_tx.lock().unwrap().send(*session);
        } else {
            println!("lifecycle {e:?}");
        }
    })
    .start();
    let first = ready_rx.recv_timeout(T).expect("first join");
    // Crossbar is restarted now; the component must come back by itself.
    let second = ready_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("rejoined");
    check(
        "reconnect: rejoined with a new session",
        first != second,
        (first, second),
    );
    let other = join(url, Format::Json);
    let r = other.call("com.example.reco", Args::new());
    check(
        "reconnect: registration re-established",
        matches!(&r, Ok(a) if a.get::<u64>(0).ok() == Some(second)),
        &r,
    );
    let stopped = handle.stop();
    check("reconnect: stopped", stopped.is_ok(), &stopped);
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() == 3 && argv[1] == "reconnect" {
        reconnect(&argv[2]);
        println!("all reconnect checks passed");
        return;
    }
    if argv.len() == 4 && argv[1] == "peer" {
        let format = Serializer::from_name(&argv[3]).expect("a serializer name");
        peer(&argv[2], format);
        println!("all peer checks passed");
        return;
    }
    if argv.len() == 4 && argv[1] == "flatbuffers" {
        rpc_and_pubsub(&argv[2], Serializer::FlatBuffers);
        rpc_and_pubsub(&argv[3], Serializer::FlatBuffers);
        println!("all FlatBuffers checks passed");
        return;
    }
    if argv.len() != 8 {
        eprintln!(
            "usage: wamp_check WS_URL RS_URL AUTH_WS_URL UNIX_URL WSS_URL RSS_URL CA.pem | \
             wamp_check peer WS_URL SERIALIZER | wamp_check flatbuffers WS_URL RS_URL | \
             wamp_check reconnect WS_URL"
        );
        std::process::exit(2);
    }
    for format in Format::ALL.map(Serializer::from) {
        rpc_and_pubsub(&argv[1], format);
        rpc_and_pubsub(&argv[2], format);
    }
    auth(&argv[3]);
    more(&argv[1], &argv[4]);
    tls(&argv[5], &argv[6], &argv[7]);
    println!("all WAMP checks passed");
}
