//! The router driven with JSON messages over in-memory connections.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;

fn router_with(config: RouterConfig) -> Router<impl Entropy> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    Router::new(config, move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}

struct Net<E: Entropy> {
    r: Router<E>,
    now: u64,
}

/// What one message caused: `(to, text)`, `"CLOSE"` for a close.
type Sent = Vec<(ConnId, String)>;

impl<E: Entropy> Net<E> {
    fn send(&mut self, conn: ConnId, json: &str) -> Sent {
        let mut out = Outbox::new();
        self.r.receive(conn, json.as_bytes(), self.now, &mut out);
        render(out)
    }

    /// Opens `conn` and joins realm1 anonymously; returns the session ID.
    fn join(&mut self, conn: ConnId, roles: &str) -> u64 {
        self.r.open(conn, Format::Json, TransportInfo::default());
        let sent = self.send(conn, &alloc::format!(r#"[1,"realm1",{{"roles":{roles}}}]"#));
        let (to, welcome) = &sent[0];
        assert_eq!(*to, conn);
        assert!(welcome.starts_with("[2,"), "{welcome}");
        welcome[3..].split(',').next().unwrap().parse().unwrap()
    }
}

fn render(out: Outbox) -> Sent {
    out.into_iter()
        .map(|a| match a {
            Action::Send { to, bytes } => (to, String::from_utf8(bytes.to_vec()).unwrap()),
            Action::Close { to } => (to, "CLOSE".to_string()),
        })
        .collect()
}

fn net() -> Net<impl Entropy> {
    Net {
        r: router_with(RouterConfig::default()),
        now: 1_000,
    }
}

const CALLEE: &str =
    r#"{"callee":{"features":{"call_canceling":true,"progressive_call_results":true}}}"#;
const CLIENT: &str = r#"{"caller":{},"subscriber":{},"publisher":{}}"#;

/// The ID in `[code, request, id]`.
fn ack_id(s: &str) -> u64 {
    s.trim_end_matches(']')
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn welcome_announces_the_router_roles_and_an_anonymous_identity() {
    let mut n = net();
    n.r.open(1, Format::Json, TransportInfo::default());
    let sent = n.send(1, r#"[1,"realm1",{"roles":{"caller":{}}}]"#);
    let w = &sent[0].1;
    assert!(
        w.contains(r#""dealer":{"features":{"progressive_call_results":true"#),
        "{w}"
    );
    assert!(w.contains(r#""authmethod":"anonymous""#) && w.contains(r#""authrole":"anonymous""#));
    assert_eq!(n.r.session_count(), 1);
    let sent = n.send(1, r#"[6,{},"wamp.close.close_realm"]"#);
    assert_eq!(sent[0].1, r#"[6,{},"wamp.close.goodbye_and_out"]"#);
    assert_eq!(sent[1].1, "CLOSE");
    assert_eq!(n.r.session_count(), 0);
}

#[test]
fn unknown_realm_and_garbage_are_aborted() {
    let mut n = net();
    n.r.open(1, Format::Json, TransportInfo::default());
    let sent = n.send(1, r#"[1,"nope",{"roles":{"caller":{}}}]"#);
    assert!(sent[0].1.contains("wamp.error.no_such_realm"), "{sent:?}");
    assert_eq!(sent[1].1, "CLOSE");

    n.join(2, CLIENT);
    let sent = n.send(2, "[48,1,{},\"a.b\"");
    assert!(sent[0].1.starts_with("[3,") && sent[0].1.contains("protocol_violation"));
    assert_eq!(sent[1].1, "CLOSE");
    // A client may not send WELCOME.
    n.join(3, CLIENT);
    let sent = n.send(3, r#"[2,1,{}]"#);
    assert!(sent[0].1.contains("protocol_violation"), "{sent:?}");
    assert_eq!(n.r.session_count(), 0);
}

#[test]
fn a_call_goes_to_the_callee_and_its_result_back_with_the_payload_untouched() {
    let mut n = net();
    let callee = n.join(1, CALLEE);
    let caller = n.join(2, CLIENT);
    let sent = n.send(1, r#"[64,1,{},"com.add"]"#);
    let reg = ack_id(&sent[0].1);
    assert!(sent[0].1.starts_with("[65,1,"));

    let sent = n.send(
        2,
        r#"[48,7,{"disclose_me":true},"com.add",[2,3],{"k":"\u00e9"}]"#,
    );
    assert_eq!(sent.len(), 1);
    let (to, inv) = &sent[0];
    assert_eq!(*to, 1);
    let expect = alloc::format!(r#"[68,1,{reg},{{"caller":{caller},"caller_authid":"#);
    assert!(inv.starts_with(&expect), "{inv}");
    assert!(inv.ends_with(r#",[2,3],{"k":"\u00e9"}]"#), "{inv}");

    let sent = n.send(1, r#"[70,1,{},[5]]"#);
    assert_eq!(sent, [(2, "[50,7,{},[5]]".to_string())]);
    assert_eq!(n.r.pending_call_count(), 0);
    let _ = callee;
}

#[test]
fn exact_beats_prefix_beats_wildcard_and_no_match_is_no_such_procedure() {
    let mut n = net();
    n.join(1, CALLEE);
    n.join(2, CALLEE);
    n.join(3, CALLEE);
    n.join(4, CLIENT);
    n.send(1, r#"[64,1,{"match":"wildcard"},"com..get"]"#);
    n.send(2, r#"[64,1,{"match":"prefix"},"com.app"]"#);
    n.send(3, r#"[64,1,{},"com.app.get"]"#);
    assert_eq!(n.send(4, r#"[48,1,{},"com.app.get"]"#)[0].0, 3);
    let sent = n.send(4, r#"[48,2,{},"com.app.x"]"#);
    assert_eq!(sent[0].0, 2);
    assert!(sent[0].1.contains(r#""procedure":"com.app.x""#), "{sent:?}");
    assert_eq!(n.send(4, r#"[48,3,{},"com.x.get"]"#)[0].0, 1);
    let sent = n.send(4, r#"[48,4,{},"org.x"]"#);
    assert!(sent[0]
        .1
        .starts_with(r#"[8,48,4,{},"wamp.error.no_such_procedure""#));
}

#[test]
fn shared_registrations_take_turns_and_single_ones_refuse_a_second_callee() {
    let mut n = net();
    n.join(1, CALLEE);
    n.join(2, CALLEE);
    n.join(3, CLIENT);
    n.send(1, r#"[64,1,{"invoke":"roundrobin"},"com.rr"]"#);
    let sent = n.send(2, r#"[64,1,{"invoke":"roundrobin"},"com.rr"]"#);
    assert!(sent[0].1.starts_with("[65,"), "{sent:?}");
    let to: Vec<ConnId> = (1..=4)
        .map(|i| n.send(3, &alloc::format!(r#"[48,{i},{{}},"com.rr"]"#))[0].0)
        .collect();
    assert_eq!(to, [1, 2, 1, 2]);
    n.send(1, r#"[64,2,{},"com.one"]"#);
    let sent = n.send(2, r#"[64,2,{},"com.one"]"#);
    assert!(sent[0].1.contains("procedure_already_exists"), "{sent:?}");
}

#[test]
fn progressive_results_then_the_callee_leaves_and_the_caller_is_told() {
    let mut n = net();
    n.join(1, CALLEE);
    n.join(2, CLIENT);
    n.send(1, r#"[64,1,{},"com.slow"]"#);
    n.send(2, r#"[48,1,{"receive_progress":true},"com.slow"]"#);
    let sent = n.send(1, r#"[70,1,{"progress":true},[1]]"#);
    assert_eq!(sent, [(2, r#"[50,1,{"progress":true},[1]]"#.to_string())]);
    let mut out = Outbox::new();
    n.r.close(1, &mut out);
    let sent = render(out);
    assert!(
        sent.iter()
            .any(|(to, m)| *to == 2 && m.starts_with(r#"[8,48,1,{},"wamp.error.canceled""#)),
        "{sent:?}"
    );
    assert_eq!(n.r.pending_call_count(), 0);
    assert_eq!(n.r.registration_count(), 0);
    assert_eq!(n.r.connection_count(), 1);
}

#[test]
fn cancel_modes_and_timeouts() {
    let mut n = net();
    n.join(1, CALLEE);
    n.join(2, CLIENT);
    n.send(1, r#"[64,1,{},"com.slow"]"#);
    // killnowait: INTERRUPT to the callee, ERROR to the caller at once.
    n.send(2, r#"[48,1,{},"com.slow"]"#);
    let sent = n.send(2, r#"[49,1,{"mode":"killnowait"}]"#);
    assert!(
        sent[0].0 == 1 && sent[0].1.starts_with(r#"[69,"#),
        "{sent:?}"
    );
    assert!(sent[1].0 == 2 && sent[1].1.contains("wamp.error.canceled"));
    // The callee's late answer goes nowhere.
    assert!(n.send(1, r#"[70,1,{},[1]]"#).is_empty());
    // kill: the callee's ERROR is the caller's answer.
    n.send(2, r#"[48,2,{},"com.slow"]"#);
    let sent = n.send(2, r#"[49,2,{"mode":"kill"}]"#);
    assert_eq!(sent.len(), 1);
    let sent = n.send(1, r#"[8,68,2,{},"wamp.error.canceled"]"#);
    assert_eq!(
        sent,
        [(2, r#"[8,48,2,{},"wamp.error.canceled"]"#.to_string())]
    );
    // timeout: after 500 ms the router answers.
    n.send(2, r#"[48,3,{"timeout":500},"com.slow"]"#);
    assert_eq!(n.r.next_deadline(), Some(1_500));
    let mut out = Outbox::new();
    n.r.poll(1_499, &mut out);
    assert!(out.is_empty());
    n.r.poll(1_500, &mut out);
    let sent = render(out);
    assert!(
        sent.iter()
            .any(|(to, m)| *to == 2 && m.contains(r#""wamp.error.canceled",["timeout reached"]"#)),
        "{sent:?}"
    );
    assert_eq!(n.r.pending_call_count(), 0);
}

#[test]
fn events_honour_exclusion_eligibility_patterns_and_acknowledge() {
    let mut n = net();
    let s1 = n.join(1, CLIENT);
    let s2 = n.join(2, CLIENT);
    n.join(3, CLIENT);
    let sub = ack_id(&n.send(1, r#"[32,1,{},"com.t"]"#)[0].1);
    n.send(2, r#"[32,1,{},"com.t"]"#);
    n.send(3, r#"[32,1,{"match":"prefix"},"com."]"#);
    // exclude_me is the default: 1 does not hear itself.
    let sent = n.send(1, r#"[16,5,{"acknowledge":true},"com.t",["hi"]]"#);
    let to: Vec<ConnId> = sent.iter().map(|(t, _)| *t).collect();
    // Events first, then PUBLISHED.
    assert_eq!(to, [2, 3, 1]);
    assert!(sent[2].1.starts_with("[17,5,"), "{sent:?}");
    let ev2 = sent.iter().find(|(t, _)| *t == 2).unwrap();
    assert!(ev2.1.starts_with(&alloc::format!("[36,{sub},")) && ev2.1.ends_with(r#",{},["hi"]]"#));
    let ev3 = sent.iter().find(|(t, _)| *t == 3).unwrap();
    assert!(ev3.1.contains(r#"{"topic":"com.t"}"#), "{ev3:?}");
    // exclude_me false, eligible 1 and 2, exclude 2: only 1.
    let sent = n.send(
        1,
        &alloc::format!(
            r#"[16,6,{{"exclude_me":false,"eligible":[{s1},{s2}],"exclude":[{s2}]}},"com.t",[]]"#
        ),
    );
    assert_eq!(sent.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [1]);
    // disclose_me.
    let sent = n.send(2, r#"[16,7,{"disclose_me":true},"com.t"]"#);
    assert!(
        sent[0].1.contains(&alloc::format!(r#""publisher":{s2}"#)),
        "{sent:?}"
    );
}

#[test]
fn retained_events_reach_late_subscribers() {
    let mut n = net();
    n.join(1, CLIENT);
    n.join(2, CLIENT);
    n.send(1, r#"[16,1,{"retain":true},"com.state",[42]]"#);
    let sent = n.send(2, r#"[32,1,{"get_retained":true},"com.state"]"#);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].1.contains(r#""retained":true"#) && sent[1].1.ends_with(",[42]]"));
}

#[test]
fn meta_api_counts_sessions_and_announces_joins() {
    let mut n = net();
    let s1 = n.join(1, CLIENT);
    n.send(1, r#"[32,1,{},"wamp.session.on_join"]"#);
    n.r.open(2, Format::Json, TransportInfo::default());
    let sent = n.send(2, r#"[1,"realm1",{"roles":{"caller":{}}}]"#);
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].0 == 1 && sent[1].1.contains(r#""authrole":"anonymous""#),
        "{sent:?}"
    );
    let sent = n.send(1, r#"[48,1,{},"wamp.session.count"]"#);
    assert_eq!(sent[0].1, "[50,1,{},[2]]");
    let sent = n.send(
        1,
        &alloc::format!(r#"[48,2,{{}},"wamp.session.get",[{s1}]]"#),
    );
    assert!(
        sent[0].1.contains(&alloc::format!(r#"[{{"session":{s1},"#)),
        "{sent:?}"
    );
    let sent = n.send(1, r#"[48,3,{},"wamp.session.get",[1]]"#);
    assert!(sent[0].1.contains("wamp.error.no_such_session"));
    n.send(1, r#"[64,4,{},"com.p"]"#);
    let sent = n.send(1, r#"[48,5,{},"wamp.registration.lookup",["com.p"]]"#);
    assert!(
        sent[0].1.starts_with("[50,5,{},[") && !sent[0].1.contains("null"),
        "{sent:?}"
    );
}

#[test]
fn ticket_and_wampcra_principals() {
    let mut realm = RealmConfig::open("realm1");
    realm.anonymous = None;
    realm.principals.push(Principal {
        authid: "joe".into(),
        authrole: "user".into(),
        secret: Secret::Ticket("secret!".into()),
    });
    realm.principals.push(Principal {
        authid: "peter".into(),
        authrole: "admin".into(),
        secret: Secret::WampCra {
            secret: "pw".into(),
            salt: None,
        },
    });
    let mut n = Net {
        r: router_with(RouterConfig {
            realms: alloc::vec![realm],
            ..Default::default()
        }),
        now: 0,
    };
    n.r.open(1, Format::Json, TransportInfo::default());
    let sent = n.send(
        1,
        r#"[1,"realm1",{"roles":{},"authmethods":["ticket"],"authid":"joe"}]"#,
    );
    assert_eq!(sent[0].1, r#"[4,"ticket",{}]"#);
    let sent = n.send(1, r#"[5,"secret!",{}]"#);
    assert!(sent[0].1.contains(r#""authid":"joe""#) && sent[0].1.contains(r#""authrole":"user""#));

    n.r.open(2, Format::Json, TransportInfo::default());
    let sent = n.send(
        2,
        r#"[1,"realm1",{"roles":{},"authmethods":["ticket"],"authid":"joe"}]"#,
    );
    assert!(sent[0].1.starts_with("[4,"));
    let sent = n.send(2, r#"[5,"wrong",{}]"#);
    assert!(
        sent[0].1.contains("wamp.error.authentication_failed"),
        "{sent:?}"
    );

    n.r.open(3, Format::Json, TransportInfo::default());
    let sent = n.send(
        3,
        r#"[1,"realm1",{"roles":{},"authmethods":["anonymous"]}]"#,
    );
    assert!(sent[0].1.contains("wamp.error.no_auth_method"), "{sent:?}");

    #[cfg(feature = "auth-cra")]
    {
        use super::super::message::Message;
        n.r.open(4, Format::Json, TransportInfo::default());
        let sent = n.send(
            4,
            r#"[1,"realm1",{"roles":{},"authmethods":["wampcra"],"authid":"peter"}]"#,
        );
        let Message::Challenge(c) = Message::decode(Format::Json, sent[0].1.as_bytes()).unwrap()
        else {
            panic!("{sent:?}")
        };
        let challenge = c.extra.challenge.unwrap().to_cow().into_owned();
        assert!(challenge.contains(r#""authid":"peter""#), "{challenge}");
        let sig = crate::wamp::auth::cra::respond(b"pw", challenge.as_bytes(), None).unwrap();
        let sig = core::str::from_utf8(&sig).unwrap();
        let sent = n.send(4, &alloc::format!(r#"[5,"{sig}",{{}}]"#));
        assert!(sent[0].1.contains(r#""authrole":"admin""#), "{sent:?}");
    }
}

#[test]
fn roles_restrict_what_sessions_may_do() {
    let mut realm = RealmConfig::open("realm1");
    realm.roles.push(Role {
        name: "anonymous".into(),
        permissions: alloc::vec![Permission {
            uri: "com.public.".into(),
            match_: super::super::uri::Match::Prefix,
            call: true,
            subscribe: true,
            ..Default::default()
        }],
    });
    let mut n = Net {
        r: router_with(RouterConfig {
            realms: alloc::vec![realm],
            ..Default::default()
        }),
        now: 0,
    };
    n.join(1, CALLEE);
    let sent = n.send(1, r#"[64,1,{},"com.public.x"]"#);
    assert!(sent[0].1.contains("wamp.error.not_authorized"), "{sent:?}");
    let sent = n.send(1, r#"[32,2,{},"com.public.t"]"#);
    assert!(sent[0].1.starts_with("[33,2,"));
    let sent = n.send(1, r#"[16,3,{"acknowledge":true},"com.public.t"]"#);
    assert!(sent[0].1.contains("wamp.error.not_authorized"));
}

/// A FlatBuffers session and a JSON session on one router: calls, events and errors cross
/// between them with their payloads (transcoded JSON ↔ CBOR), the FlatBuffers side's HELLO
/// without roles (as Autobahn|Python sends it) joins.
#[cfg(feature = "flatbuffers")]
#[test]
fn flatbuffers_and_json_sessions_interoperate() {
    let mut n = net();
    let fb = |json: &str| {
        let m = Message::decode(Format::Json, json.as_bytes()).unwrap();
        let mut v = Vec::new();
        m.encode_as(Serializer::FlatBuffers, &mut v).unwrap();
        v
    };
    // What the router sent, as JSON text (FlatBuffers decoded for conn 1).
    let run = |n: &mut Net<_>, conn: ConnId, bytes: &[u8]| -> Sent {
        let mut out = Outbox::new();
        n.r.receive(conn, bytes, n.now, &mut out);
        out.into_iter()
            .map(|a| match a {
                Action::Send { to: 1, bytes } => {
                    let mut scratch = Vec::new();
                    let m = Message::decode_as_vec(Serializer::FlatBuffers, &bytes, &mut scratch)
                        .unwrap();
                    let mut v = Vec::new();
                    m.encode(Format::Json, &mut v).unwrap();
                    (1, String::from_utf8(v).unwrap())
                }
                Action::Send { to, bytes } => (to, String::from_utf8(bytes.to_vec()).unwrap()),
                Action::Close { to } => (to, "CLOSE".to_string()),
            })
            .collect()
    };
    n.r.open(1, Serializer::FlatBuffers, TransportInfo::default());
    let sent = run(&mut n, 1, &fb(r#"[1,"realm1",{}]"#));
    assert!(sent[0].1.starts_with("[2,"), "{sent:?}");
    n.join(2, CLIENT);

    // The FlatBuffers side registers; the JSON side calls with args and kwargs.
    let sent = run(&mut n, 1, &fb(r#"[64,1,{},"com.fb.add"]"#));
    let reg = ack_id(&sent[0].1);
    let sent = run(
        &mut n,
        2,
        r#"[48,7,{},"com.fb.add",[2,3],{"k":"v"}]"#.as_bytes(),
    );
    let inv = &sent[0].1;
    assert_eq!(sent[0].0, 1);
    assert!(inv.starts_with("[68,"), "{inv}");
    assert!(inv.contains(&alloc::format!(",{reg},")), "{inv}");
    assert!(inv.ends_with(r#"[2,3],{"k":"v"}]"#), "{inv}");
    let inv_id: u64 = inv[4..].split(',').next().unwrap().parse().unwrap();
    let sent = run(
        &mut n,
        1,
        &fb(&alloc::format!(r#"[70,{inv_id},{{}},[5],{{"sum":5}}]"#)),
    );
    assert_eq!(sent, [(2, r#"[50,7,{},[5],{"sum":5}]"#.to_string())]);

    // An error from the FlatBuffers callee reaches the JSON caller with its payload.
    let sent = run(&mut n, 2, r#"[48,8,{},"com.fb.add",[1]]"#.as_bytes());
    let inv_id: u64 = sent[0].1[4..].split(',').next().unwrap().parse().unwrap();
    let sent = run(
        &mut n,
        1,
        &fb(&alloc::format!(
            r#"[8,68,{inv_id},{{}},"com.fb.oops",["bad"]]"#
        )),
    );
    assert_eq!(
        sent,
        [(2, r#"[8,48,8,{},"com.fb.oops",["bad"]]"#.to_string())]
    );

    // Events both ways.
    let sent = run(&mut n, 1, &fb(r#"[32,2,{},"com.topic"]"#));
    let sub = ack_id(&sent[0].1);
    let sent = run(
        &mut n,
        2,
        r#"[16,9,{},"com.topic",["hi"],{"n":1}]"#.as_bytes(),
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 1);
    assert!(sent[0].1.starts_with(&alloc::format!("[36,{sub},")));
    assert!(sent[0].1.ends_with(r#"["hi"],{"n":1}]"#), "{}", sent[0].1);
    run(&mut n, 2, r#"[32,3,{},"com.back"]"#.as_bytes());
    let sent = run(
        &mut n,
        1,
        &fb(r#"[16,3,{"acknowledge":true,"exclude_me":false},"com.back",[1.5]]"#),
    );
    assert!(
        sent.iter()
            .any(|(to, m)| *to == 2 && m.ends_with(",{},[1.5]]")),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|(to, m)| *to == 1 && m.starts_with("[17,3,")),
        "{sent:?}"
    );
}
