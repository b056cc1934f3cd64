//! The WAMP meta API, as Crossbar.io answers it: `wamp.session.*` procedures and
//! `on_join`/`on_leave` events, `wamp.registration.*` and `wamp.subscription.*` procedures
//! and their `on_create`/`on_register`/`on_unregister`/`on_delete` (`on_subscribe`/
//! `on_unsubscribe`) events. Procedures are served by the router itself when no session
//! registered the URI; results are written in the caller's serializer, events once and
//! transcoded for each subscriber.

use alloc::string::String;
use alloc::vec::Vec;

use super::super::dict::Details;
use super::super::error::Error;
use super::super::id::Entropy;
use super::super::message::{code, Call, Message, Outcome, Payload, Reason};
use super::super::uri::Match;
use super::super::value::{Format, Raw, Reader, Str, Token, Writer};
use super::{text, uris, Action, Conn, ConnId, Outbox, Router};

type W<'o> = Writer<'o, Vec<u8>>;

/// Serializes one value with `f`.
fn build(format: Format, f: impl FnOnce(&mut W<'_>) -> Result<(), Error>) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    let mut w = Writer::new(format, &mut v);
    f(&mut w).ok().map(|()| v)
}

/// Events are written in JSON (transcoded for other subscribers) when the build has it.
fn event_format() -> Format {
    if Format::Json.enabled() {
        Format::Json
    } else if Format::Cbor.enabled() {
        Format::Cbor
    } else if Format::MsgPack.enabled() {
        Format::MsgPack
    } else {
        Format::Ubjson
    }
}

/// `ms` since the UNIX epoch as ISO 8601 (`2026-12-04T09:30:00.000Z`), as Crossbar writes
/// `created`.
fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    alloc::format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

fn write_session(w: &mut W<'_>, c: &Conn) -> Result<(), Error> {
    w.map(6)?;
    w.str("session")?;
    w.u64(c.session)?;
    w.str("authid")?;
    w.str(&c.authid)?;
    w.str("authrole")?;
    w.str(&c.authrole)?;
    w.str("authmethod")?;
    w.str(&c.authmethod)?;
    w.str("authprovider")?;
    w.str(&c.authprovider)?;
    w.str("transport")?;
    w.map(3)?;
    w.str("type")?;
    w.str(c.transport.kind)?;
    w.str("peer")?;
    w.str(&c.transport.peer)?;
    w.str("protocol")?;
    w.str(&c.transport.protocol)?;
    w.end()?;
    w.end()
}

fn write_ids(w: &mut W<'_>, ids: &[u64]) -> Result<(), Error> {
    w.array(ids.len())?;
    for id in ids {
        w.u64(*id)?;
    }
    w.end()
}

/// The arguments of a meta call: the first as an ID or a string, the second's `match`.
struct Args<'a> {
    first: Option<Token<'a>>,
    /// The second argument when it is an ID (`remove_callee`, `remove_subscriber`).
    second_id: Option<u64>,
    /// The third argument when it is a string (their `reason`).
    third: Option<String>,
    match_: Match,
    list: Vec<String>,
}

fn args<'a>(payload: &Payload<'a>) -> Args<'a> {
    let mut a = Args {
        first: None,
        second_id: None,
        third: None,
        match_: Match::Exact,
        list: Vec::new(),
    };
    let Some(raw) = payload.args else { return a };
    let Ok(mut it) = raw.elements() else { return a };
    if let Some(Ok(v)) = it.next() {
        a.first = v.reader().next().ok();
        // A list of authroles (session.count/list filter).
        if let Ok(l) = v.elements() {
            a.list = l
                .flatten()
                .filter_map(|e| e.reader().str().ok().map(text))
                .collect();
        }
    }
    if let Some(Ok(opts)) = it.next() {
        if let Ok(Token::U64(id)) = opts.reader().next() {
            a.second_id = Some(id);
        }
        if let Some(Ok(reason)) = it.next() {
            a.third = reason.reader().str().ok().map(text);
        }
        if let Ok(Some(m)) = opts.get("match") {
            if let Ok(s) = Reader::str(&mut m.reader()) {
                a.match_ = Match::parse(&text(s)).unwrap_or(Match::Exact);
            }
        }
    }
    a
}

fn first_id(a: &Args<'_>) -> Option<u64> {
    match a.first {
        Some(Token::U64(v)) => Some(v),
        _ => None,
    }
}

fn first_str(a: &Args<'_>) -> Option<String> {
    match a.first {
        Some(Token::Str(s)) => Some(text(s)),
        _ => None,
    }
}

enum Answer {
    /// RESULT with `[value]`.
    Value(Vec<u8>),
    /// ERROR with this URI.
    Error(&'static str),
}

impl<E: Entropy> Router<E> {
    pub(super) fn meta_call(&mut self, conn: ConnId, m: &Call<'_>, uri: &str, out: &mut Outbox) {
        let c = &self.conns[&conn];
        let (format, realm) = (c.format, c.realm);
        let a = args(&m.payload);
        let r = &self.realms[realm];
        let value = |f: &dyn Fn(&mut W<'_>) -> Result<(), Error>| {
            build(format, |w| {
                w.array(1)?;
                f(w)?;
                w.end()
            })
            .map_or(Answer::Error(uris::INVALID_ARGUMENT), Answer::Value)
        };
        let sessions_of = |roles: &[String]| -> Vec<u64> {
            r.sessions
                .iter()
                .filter(|(_, conn)| {
                    roles.is_empty()
                        || self
                            .conns
                            .get(conn)
                            .is_some_and(|c| roles.contains(&c.authrole))
                })
                .map(|(s, _)| *s)
                .collect()
        };
        let answer = match uri {
            "wamp.session.count" => {
                let n = sessions_of(&a.list).len() as u64;
                value(&|w| w.u64(n))
            }
            "wamp.session.list" => {
                let ids = sessions_of(&a.list);
                value(&|w| write_ids(w, &ids))
            }
            "wamp.session.get" => match first_id(&a).and_then(|s| r.sessions.get(&s)) {
                Some(target) => {
                    let t = &self.conns[target];
                    value(&|w| write_session(w, t))
                }
                None => Answer::Error(uris::NO_SUCH_SESSION),
            },
            "wamp.session.kill" => match first_id(&a).and_then(|s| r.sessions.get(&s)) {
                Some(&target) if target != conn => {
                    let g = Message::Goodbye(Reason {
                        details: Details::default(),
                        reason: Str::new(uris::KILLED),
                    });
                    self.send(target, &g, out);
                    self.leave(target, out);
                    out.push(Action::Close { to: target });
                    let r = build(format, |w| {
                        w.array(0)?;
                        w.end()
                    });
                    r.map_or(Answer::Error(uris::INVALID_ARGUMENT), Answer::Value)
                }
                Some(_) => Answer::Error(uris::INVALID_ARGUMENT),
                None => Answer::Error(uris::NO_SUCH_SESSION),
            },
            "wamp.registration.remove_callee" | "wamp.subscription.remove_subscriber" => {
                let target = a.second_id.and_then(|s| r.sessions.get(&s)).copied();
                match (first_id(&a), target) {
                    (Some(id), Some(target)) => {
                        let reason = a.third.clone();
                        let done = if uri == "wamp.registration.remove_callee" {
                            self.revoke_callee(realm, target, id, reason.as_deref(), out)
                        } else {
                            self.revoke_subscriber(realm, target, id, reason.as_deref(), out)
                        };
                        if done {
                            build(format, |w| {
                                w.array(0)?;
                                w.end()
                            })
                            .map_or(Answer::Error(uris::INVALID_ARGUMENT), Answer::Value)
                        } else if uri == "wamp.registration.remove_callee" {
                            Answer::Error(uris::NO_SUCH_REGISTRATION)
                        } else {
                            Answer::Error(uris::NO_SUCH_SUBSCRIPTION)
                        }
                    }
                    (_, None) => Answer::Error(uris::NO_SUCH_SESSION),
                    (None, _) => Answer::Error(uris::INVALID_ARGUMENT),
                }
            }
            "wamp.registration.list" | "wamp.subscription.list" => {
                let regs = uri.starts_with("wamp.registration");
                let mut by = [Vec::new(), Vec::new(), Vec::new()];
                if regs {
                    for x in r.dealer.registrations() {
                        by[x.match_ as usize].push(x.id);
                    }
                } else {
                    for x in r.broker.subscriptions() {
                        by[x.match_ as usize].push(x.id);
                    }
                }
                value(&|w| {
                    w.map(3)?;
                    for (k, ids) in ["exact", "prefix", "wildcard"].iter().zip(&by) {
                        w.str(k)?;
                        write_ids(w, ids)?;
                    }
                    w.end()
                })
            }
            "wamp.registration.lookup" | "wamp.subscription.lookup" => {
                let found = first_str(&a).and_then(|u| {
                    if uri.starts_with("wamp.registration") {
                        r.dealer.lookup(&u, a.match_)
                    } else {
                        r.broker.lookup(&u, a.match_)
                    }
                });
                value(&|w| match found {
                    Some(id) => w.u64(id),
                    None => w.null(),
                })
            }
            "wamp.registration.match" => {
                let found = first_str(&a).and_then(|u| r.dealer.best_match(&u));
                value(&|w| match found {
                    Some(id) => w.u64(id),
                    None => w.null(),
                })
            }
            "wamp.subscription.match" => {
                let found = first_str(&a).map(|u| r.broker.matching(&u));
                value(&|w| match &found {
                    Some(ids) if !ids.is_empty() => write_ids(w, ids),
                    _ => w.null(),
                })
            }
            "wamp.registration.get" => match first_id(&a).and_then(|id| r.dealer.get(id)) {
                Some(x) => {
                    let created = iso8601(x.created);
                    value(&|w| {
                        w.map(5)?;
                        w.str("id")?;
                        w.u64(x.id)?;
                        w.str("created")?;
                        w.str(&created)?;
                        w.str("uri")?;
                        w.str(&x.uri)?;
                        w.str("match")?;
                        w.str(x.match_.as_str())?;
                        w.str("invoke")?;
                        w.str(x.invoke.as_str())?;
                        w.end()
                    })
                }
                None => Answer::Error(uris::NO_SUCH_REGISTRATION),
            },
            "wamp.subscription.get" => match first_id(&a).and_then(|id| r.broker.get(id)) {
                Some(x) => {
                    let created = iso8601(x.created);
                    value(&|w| {
                        w.map(4)?;
                        w.str("id")?;
                        w.u64(x.id)?;
                        w.str("created")?;
                        w.str(&created)?;
                        w.str("uri")?;
                        w.str(&x.uri)?;
                        w.str("match")?;
                        w.str(x.match_.as_str())?;
                        w.end()
                    })
                }
                None => Answer::Error(uris::NO_SUCH_SUBSCRIPTION),
            },
            "wamp.registration.list_callees" | "wamp.registration.count_callees" => {
                match first_id(&a).and_then(|id| r.dealer.get(id)) {
                    Some(x) => {
                        let ids: Vec<u64> = x.callees.iter().map(|(_, s)| *s).collect();
                        if uri.ends_with("count_callees") {
                            value(&|w| w.u64(ids.len() as u64))
                        } else {
                            value(&|w| write_ids(w, &ids))
                        }
                    }
                    None => Answer::Error(uris::NO_SUCH_REGISTRATION),
                }
            }
            "wamp.subscription.list_subscribers" | "wamp.subscription.count_subscribers" => {
                match first_id(&a).and_then(|id| r.broker.get(id)) {
                    Some(x) => {
                        let ids: Vec<u64> = x.subscribers.iter().map(|(_, s)| *s).collect();
                        if uri.ends_with("count_subscribers") {
                            value(&|w| w.u64(ids.len() as u64))
                        } else {
                            value(&|w| write_ids(w, &ids))
                        }
                    }
                    None => Answer::Error(uris::NO_SUCH_SUBSCRIPTION),
                }
            }
            _ => Answer::Error(uris::NO_SUCH_PROCEDURE),
        };
        match answer {
            Answer::Value(v) => {
                let res = Message::Result(Outcome {
                    request: m.request,
                    details: Default::default(),
                    payload: Payload {
                        args: Some(Raw { format, bytes: &v }),
                        kwargs: None,
                    },
                });
                self.send(conn, &res, out);
            }
            Answer::Error(e) => self.error(conn, code::CALL, m.request, e, "", out),
        }
    }

    /// `wamp.session.on_join` with the new session's details.
    pub(super) fn meta_on_join(&mut self, conn: ConnId, out: &mut Outbox) {
        let c = &self.conns[&conn];
        let realm = c.realm;
        let f = event_format();
        if let Some(v) = build(f, |w| {
            w.array(1)?;
            write_session(w, c)?;
            w.end()
        }) {
            let p = Payload {
                args: Some(Raw {
                    format: f,
                    bytes: &v,
                }),
                kwargs: None,
            };
            self.publish_internal(realm, "wamp.session.on_join", p, out);
        }
    }

    /// `wamp.session.on_leave` with `[session]` (as Crossbar.io).
    pub(super) fn meta_on_leave(&mut self, conn: ConnId, out: &mut Outbox) {
        let c = &self.conns[&conn];
        let realm = c.realm;
        let f = event_format();
        if let Some(v) = build(f, |w| {
            w.array(1)?;
            w.u64(c.session)?;
            w.end()
        }) {
            let p = Payload {
                args: Some(Raw {
                    format: f,
                    bytes: &v,
                }),
                kwargs: None,
            };
            self.publish_internal(realm, "wamp.session.on_leave", p, out);
        }
    }

    /// `<topic>` with `[session, id]`.
    pub(super) fn meta_registration_event(
        &mut self,
        realm: usize,
        topic: &str,
        session: u64,
        id: u64,
        out: &mut Outbox,
    ) {
        let f = event_format();
        if let Some(v) = build(f, |w| {
            w.array(2)?;
            w.u64(session)?;
            w.u64(id)?;
            w.end()
        }) {
            let p = Payload {
                args: Some(Raw {
                    format: f,
                    bytes: &v,
                }),
                kwargs: None,
            };
            self.publish_internal(realm, topic, p, out);
        }
    }

    pub(super) fn meta_subscription_event(
        &mut self,
        realm: usize,
        topic: &str,
        session: u64,
        id: u64,
        out: &mut Outbox,
    ) {
        self.meta_registration_event(realm, topic, session, id, out);
    }

    /// `on_create` with `[session, {id, created, uri, match, invoke}]`.
    pub(super) fn meta_registration_created(
        &mut self,
        realm: usize,
        session: u64,
        id: u64,
        out: &mut Outbox,
    ) {
        let Some(x) = self.realms[realm].dealer.get(id) else {
            return;
        };
        let created = iso8601(x.created);
        let f = event_format();
        if let Some(v) = build(f, |w| {
            w.array(2)?;
            w.u64(session)?;
            w.map(5)?;
            w.str("id")?;
            w.u64(x.id)?;
            w.str("created")?;
            w.str(&created)?;
            w.str("uri")?;
            w.str(&x.uri)?;
            w.str("match")?;
            w.str(x.match_.as_str())?;
            w.str("invoke")?;
            w.str(x.invoke.as_str())?;
            w.end()?;
            w.end()
        }) {
            let p = Payload {
                args: Some(Raw {
                    format: f,
                    bytes: &v,
                }),
                kwargs: None,
            };
            self.publish_internal(realm, "wamp.registration.on_create", p, out);
        }
    }

    pub(super) fn meta_subscription_created(
        &mut self,
        realm: usize,
        session: u64,
        id: u64,
        out: &mut Outbox,
    ) {
        let Some(x) = self.realms[realm].broker.get(id) else {
            return;
        };
        let created = iso8601(x.created);
        let f = event_format();
        if let Some(v) = build(f, |w| {
            w.array(2)?;
            w.u64(session)?;
            w.map(4)?;
            w.str("id")?;
            w.u64(x.id)?;
            w.str("created")?;
            w.str(&created)?;
            w.str("uri")?;
            w.str(&x.uri)?;
            w.str("match")?;
            w.str(x.match_.as_str())?;
            w.end()?;
            w.end()
        }) {
            let p = Payload {
                args: Some(Raw {
                    format: f,
                    bytes: &v,
                }),
                kwargs: None,
            };
            self.publish_internal(realm, "wamp.subscription.on_create", p, out);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_dates() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::iso8601(1_796_376_600_123),
            "2026-12-04T09:30:00.123Z"
        );
        assert_eq!(super::iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
