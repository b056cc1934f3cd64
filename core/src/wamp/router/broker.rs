//! The broker: subscriptions (exact, prefix, wildcard), events to every matching
//! subscription, publisher exclusion and disclosure, black- and whitelisting by session ID,
//! authid and authrole, acknowledged publications, retained events.
//!
//! An EVENT is encoded once per subscription and serializer, and the same bytes go to
//! every subscriber of that subscription that speaks it (`Arc<[u8]>` in each
//! [`Action::Send`](super::Action::Send)): fan-out costs one encoding, not one per session.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::super::dict::{self, EventDetails, PublishOptions};
use super::super::id::Entropy;
use super::super::message::{code, Ack, Event, Message, Payload, Subscribe, Unacked};
use super::super::serializer::Serializer;
use super::super::uri::{self, Match};
use super::super::value::{Format, Raw, Str};
use super::{encode, text, uris, Action, Action4, ConnId, Outbox, Router};

#[derive(Debug)]
pub(super) struct Subscription {
    pub id: u64,
    pub uri: String,
    pub match_: Match,
    /// `(connection, session)`.
    pub subscribers: Vec<(ConnId, u64)>,
    pub created: u64,
}

/// The last event published with `retain` on a topic, kept in its publisher's format.
#[derive(Debug)]
struct Retained {
    format: Format,
    args: Option<Vec<u8>>,
    kwargs: Option<Vec<u8>>,
    publication: u64,
    publisher: Option<(u64, String, String)>,
}

#[derive(Debug, Default)]
pub(super) struct Broker {
    subs: BTreeMap<u64, Subscription>,
    index: BTreeMap<(u8, String), u64>,
    retained: BTreeMap<String, Retained>,
}

fn rank(m: Match) -> u8 {
    match m {
        Match::Exact => 0,
        Match::Prefix => 1,
        Match::Wildcard => 2,
    }
}

impl Broker {
    pub fn subscription_len(&self) -> usize {
        self.subs.len()
    }

    pub fn subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.subs.values()
    }

    pub fn get(&self, id: u64) -> Option<&Subscription> {
        self.subs.get(&id)
    }

    pub fn lookup(&self, uri: &str, m: Match) -> Option<u64> {
        self.index.get(&(rank(m), String::from(uri))).copied()
    }

    /// Every subscription an event on `topic` goes to.
    pub fn matching(&self, topic: &str) -> Vec<u64> {
        let mut v = Vec::new();
        if let Some(id) = self.lookup(topic, Match::Exact) {
            v.push(id);
        }
        v.extend(
            self.subs
                .values()
                .filter(|s| s.match_ != Match::Exact && uri::matches(&s.uri, s.match_, topic))
                .map(|s| s.id),
        );
        v
    }
}

/// Who an event goes to, from a PUBLISH's options.
struct Filter {
    publisher: Option<ConnId>,
    exclude: Vec<u64>,
    exclude_authid: Vec<String>,
    exclude_authrole: Vec<String>,
    eligible: Option<Vec<u64>>,
    eligible_authid: Option<Vec<String>>,
    eligible_authrole: Option<Vec<String>>,
}

impl Filter {
    fn none() -> Self {
        Filter {
            publisher: None,
            exclude: Vec::new(),
            exclude_authid: Vec::new(),
            exclude_authrole: Vec::new(),
            eligible: None,
            eligible_authid: None,
            eligible_authrole: None,
        }
    }

    fn from_options(o: &PublishOptions<'_>, publisher: ConnId) -> Result<Self, ()> {
        let ids = |l: Option<Raw<'_>>| -> Result<Option<Vec<u64>>, ()> {
            l.map(|l| {
                dict::ids(l)
                    .map_err(|_| ())?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| ())
            })
            .transpose()
        };
        let strs = |l: Option<Raw<'_>>| -> Result<Option<Vec<String>>, ()> {
            l.map(|l| {
                dict::strs(l)
                    .map_err(|_| ())?
                    .map(|s| s.map(text))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| ())
            })
            .transpose()
        };
        Ok(Filter {
            publisher: (o.exclude_me != Some(false)).then_some(publisher),
            exclude: ids(o.exclude)?.unwrap_or_default(),
            exclude_authid: strs(o.exclude_authid)?.unwrap_or_default(),
            exclude_authrole: strs(o.exclude_authrole)?.unwrap_or_default(),
            eligible: ids(o.eligible)?,
            eligible_authid: strs(o.eligible_authid)?,
            eligible_authrole: strs(o.eligible_authrole)?,
        })
    }

    fn admits(&self, conn: ConnId, session: u64, authid: &str, authrole: &str) -> bool {
        let has = |l: &[String], s: &str| l.iter().any(|x| x == s);
        Some(conn) != self.publisher
            && !self.exclude.contains(&session)
            && !has(&self.exclude_authid, authid)
            && !has(&self.exclude_authrole, authrole)
            && self.eligible.as_ref().is_none_or(|l| l.contains(&session))
            && self.eligible_authid.as_ref().is_none_or(|l| has(l, authid))
            && self
                .eligible_authrole
                .as_ref()
                .is_none_or(|l| has(l, authrole))
    }
}

impl<E: Entropy> Router<E> {
    pub(super) fn subscribe(
        &mut self,
        conn: ConnId,
        m: &Subscribe<'_>,
        now: u64,
        out: &mut Outbox,
    ) {
        let uri = text(m.topic);
        let policy = m.options.match_.unwrap_or_default();
        let c = &self.conns[&conn];
        let (realm, session) = (c.realm, c.session);
        if uri::validate(&uri, self.config.uri_check, policy).is_err() {
            return self.error(conn, code::SUBSCRIBE, m.request, uris::INVALID_URI, "", out);
        }
        if self.authorize(conn, &uri, Action4::Subscribe).is_none() {
            let msg = alloc::format!("not authorized to subscribe to topic '{uri}'");
            return self.error(
                conn,
                code::SUBSCRIBE,
                m.request,
                uris::NOT_AUTHORIZED,
                &msg,
                out,
            );
        }
        let broker = &mut self.realms[realm].broker;
        let (id, added) = match broker.lookup(&uri, policy) {
            Some(id) => {
                let s = broker.subs.get_mut(&id).expect("indexed");
                let added = !s.subscribers.iter().any(|(c, _)| *c == conn);
                if added {
                    s.subscribers.push((conn, session));
                }
                (id, added)
            }
            None => {
                let mut id = self.new_id();
                while self.realms[realm].broker.subs.contains_key(&id) {
                    id = self.new_id();
                }
                let broker = &mut self.realms[realm].broker;
                broker.subs.insert(
                    id,
                    Subscription {
                        id,
                        uri: uri.clone(),
                        match_: policy,
                        subscribers: alloc::vec![(conn, session)],
                        created: now,
                    },
                );
                broker.index.insert((rank(policy), uri.clone()), id);
                self.meta_subscription_created(realm, session, id, out);
                (id, true)
            }
        };
        self.send(
            conn,
            &Message::Subscribed(Ack {
                request: m.request,
                id,
            }),
            out,
        );
        if added {
            self.meta_subscription_event(realm, "wamp.subscription.on_subscribe", session, id, out);
        }
        if m.options.get_retained == Some(true) {
            self.send_retained(conn, realm, id, &uri, policy, out);
        }
    }

    fn send_retained(
        &mut self,
        conn: ConnId,
        realm: usize,
        subscription: u64,
        pattern: &str,
        policy: Match,
        out: &mut Outbox,
    ) {
        let broker = &self.realms[realm].broker;
        let mut msgs = Vec::new();
        for (topic, r) in &broker.retained {
            if !uri::matches(pattern, policy, topic) {
                continue;
            }
            let payload = Payload {
                args: r.args.as_deref().map(|b| Raw {
                    format: r.format,
                    bytes: b,
                }),
                kwargs: r.kwargs.as_deref().map(|b| Raw {
                    format: r.format,
                    bytes: b,
                }),
            };
            let (publisher, authid, authrole) = match &r.publisher {
                Some((s, a, r)) => (Some(*s), Some(Str::new(a)), Some(Str::new(r))),
                None => (None, None, None),
            };
            let e = Message::Event(Event {
                subscription,
                publication: r.publication,
                details: EventDetails {
                    publisher,
                    publisher_authid: authid,
                    publisher_authrole: authrole,
                    topic: (policy != Match::Exact).then(|| Str::new(topic)),
                    retained: Some(true),
                    ..Default::default()
                },
                payload,
            });
            if let Ok(b) = encode(&e, self.conns[&conn].serializer) {
                msgs.push(b);
            }
        }
        out.extend(
            msgs.into_iter()
                .map(|bytes| Action::Send { to: conn, bytes }),
        );
    }

    pub(super) fn unsubscribe(&mut self, conn: ConnId, request: u64, id: u64, out: &mut Outbox) {
        let c = &self.conns[&conn];
        let (realm, session) = (c.realm, c.session);
        if !self.remove_subscriber(realm, conn, session, id, out) {
            return self.error(
                conn,
                code::UNSUBSCRIBE,
                request,
                uris::NO_SUCH_SUBSCRIPTION,
                "",
                out,
            );
        }
        self.send(
            conn,
            &Message::Unsubscribed(Unacked {
                request,
                details: None,
            }),
            out,
        );
    }

    /// Subscription revocation: takes `conn` off subscription `id` and, when it announced
    /// `subscription_revocation`, tells it.
    pub(super) fn revoke_subscriber(
        &mut self,
        realm: usize,
        conn: ConnId,
        id: u64,
        reason: Option<&str>,
        out: &mut Outbox,
    ) -> bool {
        let Some(c) = self.conns.get(&conn) else {
            return false;
        };
        let (session, tell) = (c.session, c.subscriber_revocation);
        let removed = self.remove_subscriber(realm, conn, session, id, out);
        if removed && tell {
            self.tell_revoked(conn, super::Revoked::Subscription, id, reason, out);
        }
        removed
    }

    fn remove_subscriber(
        &mut self,
        realm: usize,
        conn: ConnId,
        session: u64,
        id: u64,
        out: &mut Outbox,
    ) -> bool {
        let broker = &mut self.realms[realm].broker;
        let Some(s) = broker.subs.get_mut(&id) else {
            return false;
        };
        let Some(i) = s.subscribers.iter().position(|(c, _)| *c == conn) else {
            return false;
        };
        s.subscribers.remove(i);
        let empty = s.subscribers.is_empty();
        if empty {
            let s = broker.subs.remove(&id).expect("present");
            broker.index.remove(&(rank(s.match_), s.uri));
        }
        self.meta_subscription_event(realm, "wamp.subscription.on_unsubscribe", session, id, out);
        if empty {
            self.meta_subscription_event(realm, "wamp.subscription.on_delete", session, id, out);
        }
        true
    }

    pub(super) fn broker_leave(
        &mut self,
        realm: usize,
        conn: ConnId,
        session: u64,
        out: &mut Outbox,
    ) {
        let subs: Vec<u64> = self.realms[realm]
            .broker
            .subs
            .values()
            .filter(|s| s.subscribers.iter().any(|(c, _)| *c == conn))
            .map(|s| s.id)
            .collect();
        for id in subs {
            self.remove_subscriber(realm, conn, session, id, out);
        }
    }

    pub(super) fn publish(
        &mut self,
        conn: ConnId,
        m: &super::super::message::Publish<'_>,
        out: &mut Outbox,
    ) {
        let uri = text(m.topic);
        let c = &self.conns[&conn];
        let realm = c.realm;
        let o = &m.options;
        let ack = o.acknowledge == Some(true);
        if uri::validate(&uri, self.config.uri_check, Match::Exact).is_err()
            || uri::is_reserved(&uri)
        {
            if ack {
                self.error(conn, code::PUBLISH, m.request, uris::INVALID_URI, "", out);
            }
            return;
        }
        let Some(permission) = self.authorize(conn, &uri, Action4::Publish) else {
            if ack {
                let msg = alloc::format!("not authorized to publish to topic '{uri}'");
                self.error(
                    conn,
                    code::PUBLISH,
                    m.request,
                    uris::NOT_AUTHORIZED,
                    &msg,
                    out,
                );
            }
            return;
        };
        let Ok(filter) = Filter::from_options(o, conn) else {
            if ack {
                self.error(
                    conn,
                    code::PUBLISH,
                    m.request,
                    uris::INVALID_ARGUMENT,
                    "",
                    out,
                );
            }
            return;
        };
        let publication = self.new_id();
        let c = &self.conns[&conn];
        let disclose = o.disclose_me == Some(true) || permission.disclose_publisher;
        let details = EventDetails {
            publisher: disclose.then_some(c.session),
            publisher_authid: disclose.then(|| Str::new(&c.authid)),
            publisher_authrole: disclose.then(|| Str::new(&c.authrole)),
            ppt_scheme: o.ppt_scheme,
            ppt_serializer: o.ppt_serializer,
            ppt_cipher: o.ppt_cipher,
            ppt_keyid: o.ppt_keyid,
            enc_algo: o.enc_algo,
            enc_serializer: o.enc_serializer,
            enc_key: o.enc_key,
            ..Default::default()
        };
        self.deliver(realm, &uri, publication, details, m.payload, &filter, out);
        if o.retain == Some(true) {
            let c = &self.conns[&conn];
            let retained = Retained {
                format: c.format,
                args: m.payload.args.map(|r| r.bytes.to_vec()),
                kwargs: m.payload.kwargs.map(|r| r.bytes.to_vec()),
                publication,
                publisher: disclose.then(|| (c.session, c.authid.clone(), c.authrole.clone())),
            };
            self.realms[realm].broker.retained.insert(uri, retained);
        }
        if ack {
            self.send(
                conn,
                &Message::Published(Ack {
                    request: m.request,
                    id: publication,
                }),
                out,
            );
        }
    }

    /// An event from the router itself (meta events): to every subscriber, no publisher.
    pub(super) fn publish_internal(
        &mut self,
        realm: usize,
        topic: &str,
        payload: Payload<'_>,
        out: &mut Outbox,
    ) {
        if self.realms[realm].broker.matching(topic).is_empty() {
            return;
        }
        let publication = self.new_id();
        self.deliver(
            realm,
            topic,
            publication,
            EventDetails::default(),
            payload,
            &Filter::none(),
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &self,
        realm: usize,
        topic: &str,
        publication: u64,
        details: EventDetails<'_>,
        payload: Payload<'_>,
        filter: &Filter,
        out: &mut Outbox,
    ) {
        let broker = &self.realms[realm].broker;
        for id in broker.matching(topic) {
            let s = &broker.subs[&id];
            let mut d = details;
            if s.match_ != Match::Exact {
                d.topic = Some(Str::new(topic));
            }
            let e = Message::Event(Event {
                subscription: id,
                publication,
                details: d,
                payload,
            });
            // One encoding per serializer.
            let mut cache: [Option<Arc<[u8]>>; Serializer::ALL.len()] = Default::default();
            for &(to, session) in &s.subscribers {
                let Some(c) = self.conns.get(&to) else {
                    continue;
                };
                if !filter.admits(to, session, &c.authid, &c.authrole) {
                    continue;
                }
                let slot = &mut cache[c.serializer.index()];
                if slot.is_none() {
                    *slot = encode(&e, c.serializer).ok();
                }
                if let Some(bytes) = slot {
                    out.push(Action::Send {
                        to,
                        bytes: Arc::clone(bytes),
                    });
                }
            }
        }
    }
}
