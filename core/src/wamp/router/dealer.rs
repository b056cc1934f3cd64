//! The dealer: registrations (exact, prefix, wildcard; shared with an invoke policy), calls
//! routed to callees as INVOCATIONs, results and errors routed back, progressive results,
//! cancel (skip, kill, killnowait), router-side call timeouts, caller disclosure.
//!
//! Matching: an exact registration beats any prefix one, a prefix beats a wildcard, the
//! longest prefix wins, and among wildcards the one with the most non-empty components (then
//! the lexically smallest) does. A pending call is keyed by the INVOCATION's request ID
//! (router-wide sequential, so unique for every callee) and found from the caller's side by
//! `(caller connection, CALL request ID)`.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::super::dict::{
    CallOptions, CancelMode, CancelOptions, InvocationDetails, Invoke, ResultDetails,
};
use super::super::id::Entropy;
use super::super::message::{
    code, Ack, Call, Cancel, ErrorMsg, Invocation, Message, Outcome, Register, Unacked,
};
use super::super::uri::{self, Match};
use super::super::value::Str;
use super::{text, uris, Action4, ConnId, Outbox, Router};

#[derive(Debug)]
pub(super) struct Registration {
    pub id: u64,
    pub uri: String,
    pub match_: Match,
    pub invoke: Invoke,
    /// `(connection, session)`, in the order they registered.
    pub callees: Vec<(ConnId, u64)>,
    rr: usize,
    pub created: u64,
}

#[derive(Debug)]
struct PendingCall {
    caller: ConnId,
    caller_request: u64,
    callee: ConnId,
    receive_progress: bool,
    deadline: Option<u64>,
    /// The caller was already answered (cancel skip): the callee's answer is dropped.
    answered: bool,
}

#[derive(Debug, Default)]
pub(super) struct Dealer {
    regs: BTreeMap<u64, Registration>,
    index: BTreeMap<(u8, String), u64>,
    calls: BTreeMap<u64, PendingCall>,
    by_caller: BTreeMap<(ConnId, u64), u64>,
    next_invocation: u64,
}

fn rank(m: Match) -> u8 {
    match m {
        Match::Exact => 0,
        Match::Prefix => 1,
        Match::Wildcard => 2,
    }
}

impl Dealer {
    pub fn pending_len(&self) -> usize {
        self.calls.len()
    }

    pub fn registration_len(&self) -> usize {
        self.regs.len()
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.calls.values().filter_map(|c| c.deadline).min()
    }

    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.regs.values()
    }

    pub fn get(&self, id: u64) -> Option<&Registration> {
        self.regs.get(&id)
    }

    /// The registration with exactly this URI and policy.
    pub fn lookup(&self, uri: &str, m: Match) -> Option<u64> {
        self.index.get(&(rank(m), String::from(uri))).copied()
    }

    /// The registration a call of `uri` goes to.
    pub fn best_match(&self, uri: &str) -> Option<u64> {
        if let Some(id) = self.lookup(uri, Match::Exact) {
            return Some(id);
        }
        let mut best: Option<(usize, &Registration)> = None;
        for r in self.regs.values().filter(|r| r.match_ == Match::Prefix) {
            if uri::matches(&r.uri, Match::Prefix, uri) && best.is_none_or(|(l, _)| r.uri.len() > l)
            {
                best = Some((r.uri.len(), r));
            }
        }
        if let Some((_, r)) = best {
            return Some(r.id);
        }
        let mut best: Option<(usize, &Registration)> = None;
        for r in self.regs.values().filter(|r| r.match_ == Match::Wildcard) {
            if !uri::matches(&r.uri, Match::Wildcard, uri) {
                continue;
            }
            let fixed = r.uri.split('.').filter(|c| !c.is_empty()).count();
            let better = match best {
                None => true,
                Some((f, b)) => fixed > f || (fixed == f && r.uri < b.uri),
            };
            if better {
                best = Some((fixed, r));
            }
        }
        best.map(|(_, r)| r.id)
    }
}

impl<E: Entropy> Router<E> {
    pub(super) fn register(&mut self, conn: ConnId, m: &Register<'_>, now: u64, out: &mut Outbox) {
        let uri = text(m.procedure);
        let policy = m.options.match_.unwrap_or_default();
        let invoke = m.options.invoke.unwrap_or(Invoke::Single);
        let c = &self.conns[&conn];
        let (realm, session) = (c.realm, c.session);
        if uri::validate(&uri, self.config.uri_check, policy).is_err() || uri::is_reserved(&uri) {
            return self.error(conn, code::REGISTER, m.request, uris::INVALID_URI, "", out);
        }
        if self.authorize(conn, &uri, Action4::Register).is_none() {
            let msg = alloc::format!("not authorized to register procedure '{uri}'");
            return self.error(
                conn,
                code::REGISTER,
                m.request,
                uris::NOT_AUTHORIZED,
                &msg,
                out,
            );
        }
        // force_reregister: the procedure's current callees give way to this one (each is
        // told, when it announced registration_revocation).
        if m.options.force_reregister == Some(true) {
            if let Some(old) = self.realms[realm].dealer.lookup(&uri, policy) {
                let others: Vec<ConnId> = self.realms[realm].dealer.regs[&old]
                    .callees
                    .iter()
                    .map(|(c, _)| *c)
                    .filter(|c| *c != conn)
                    .collect();
                for other in others {
                    self.revoke_callee(realm, other, old, Some(uris::FORCE_REREGISTER), out);
                }
            }
        }
        let dealer = &mut self.realms[realm].dealer;
        let id = match dealer.lookup(&uri, policy) {
            Some(id) => {
                let r = dealer.regs.get_mut(&id).expect("indexed");
                if r.invoke != invoke {
                    let error = if r.invoke == Invoke::Single || invoke == Invoke::Single {
                        uris::PROCEDURE_ALREADY_EXISTS
                    } else {
                        uris::DIFFERENT_INVOCATION_POLICY
                    };
                    let msg = alloc::format!("register for already registered procedure '{uri}'");
                    return self.error(conn, code::REGISTER, m.request, error, &msg, out);
                }
                if r.invoke == Invoke::Single {
                    let msg = alloc::format!("register for already registered procedure '{uri}'");
                    return self.error(
                        conn,
                        code::REGISTER,
                        m.request,
                        uris::PROCEDURE_ALREADY_EXISTS,
                        &msg,
                        out,
                    );
                }
                if r.callees.iter().any(|(c, _)| *c == conn) {
                    let msg = alloc::format!("register for already registered procedure '{uri}'");
                    return self.error(
                        conn,
                        code::REGISTER,
                        m.request,
                        uris::PROCEDURE_ALREADY_EXISTS,
                        &msg,
                        out,
                    );
                }
                r.callees.push((conn, session));
                id
            }
            None => {
                let mut id = self.new_id();
                while self.realms[realm].dealer.regs.contains_key(&id) {
                    id = self.new_id();
                }
                let dealer = &mut self.realms[realm].dealer;
                dealer.regs.insert(
                    id,
                    Registration {
                        id,
                        uri: uri.clone(),
                        match_: policy,
                        invoke,
                        callees: alloc::vec![(conn, session)],
                        rr: 0,
                        created: now,
                    },
                );
                dealer.index.insert((rank(policy), uri.clone()), id);
                self.meta_registration_created(realm, session, id, out);
                id
            }
        };
        self.send(
            conn,
            &Message::Registered(Ack {
                request: m.request,
                id,
            }),
            out,
        );
        self.meta_registration_event(realm, "wamp.registration.on_register", session, id, out);
    }

    pub(super) fn unregister(&mut self, conn: ConnId, request: u64, id: u64, out: &mut Outbox) {
        let c = &self.conns[&conn];
        let (realm, session) = (c.realm, c.session);
        if !self.remove_callee(realm, conn, session, id, out) {
            return self.error(
                conn,
                code::UNREGISTER,
                request,
                uris::NO_SUCH_REGISTRATION,
                "",
                out,
            );
        }
        self.send(
            conn,
            &Message::Unregistered(Unacked {
                request,
                details: None,
            }),
            out,
        );
    }

    /// Registration revocation: takes `conn` off registration `id` and, when it announced
    /// `registration_revocation`, tells it. Calls already invoked on it still take its
    /// answer.
    pub(super) fn revoke_callee(
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
        let (session, tell) = (c.session, c.callee_revocation);
        let removed = self.remove_callee(realm, conn, session, id, out);
        if removed && tell {
            self.tell_revoked(conn, super::Revoked::Registration, id, reason, out);
        }
        removed
    }

    /// Takes `conn` off registration `id`; deletes the registration when it was the last.
    fn remove_callee(
        &mut self,
        realm: usize,
        conn: ConnId,
        session: u64,
        id: u64,
        out: &mut Outbox,
    ) -> bool {
        let dealer = &mut self.realms[realm].dealer;
        let Some(r) = dealer.regs.get_mut(&id) else {
            return false;
        };
        let Some(i) = r.callees.iter().position(|(c, _)| *c == conn) else {
            return false;
        };
        r.callees.remove(i);
        let empty = r.callees.is_empty();
        if empty {
            let r = dealer.regs.remove(&id).expect("present");
            dealer.index.remove(&(rank(r.match_), r.uri));
        }
        self.meta_registration_event(realm, "wamp.registration.on_unregister", session, id, out);
        if empty {
            self.meta_registration_event(realm, "wamp.registration.on_delete", session, id, out);
        }
        true
    }

    pub(super) fn call(&mut self, conn: ConnId, m: &Call<'_>, now: u64, out: &mut Outbox) {
        let uri = text(m.procedure);
        let c = &self.conns[&conn];
        let (realm, caller_session) = (c.realm, c.session);
        if uri::validate(&uri, self.config.uri_check, Match::Exact).is_err() {
            return self.error(conn, code::CALL, m.request, uris::INVALID_URI, "", out);
        }
        let Some(permission) = self.authorize(conn, &uri, Action4::Call) else {
            let msg = alloc::format!("not authorized to call procedure '{uri}'");
            return self.error(conn, code::CALL, m.request, uris::NOT_AUTHORIZED, &msg, out);
        };
        let limit = self.config.max_pending_calls;
        if limit != 0 && self.conns[&conn].pending_calls >= limit {
            return self.error(conn, code::CALL, m.request, uris::LIMIT_EXCEEDED, "", out);
        }
        let Some(reg_id) = self.realms[realm].dealer.best_match(&uri) else {
            if uri::is_reserved(&uri) {
                return self.meta_call(conn, m, &uri, out);
            }
            let msg = alloc::format!("no callee registered for procedure <{uri}>");
            return self.error(
                conn,
                code::CALL,
                m.request,
                uris::NO_SUCH_PROCEDURE,
                &msg,
                out,
            );
        };
        let pick = self.entropy.next_u64();
        let dealer = &mut self.realms[realm].dealer;
        let r = dealer.regs.get_mut(&reg_id).expect("matched");
        let n = r.callees.len();
        let i = match r.invoke {
            Invoke::Single | Invoke::First => 0,
            Invoke::Last => n - 1,
            Invoke::RoundRobin => {
                let i = r.rr % n;
                r.rr = (i + 1) % n;
                i
            }
            Invoke::Random => (pick % n as u64) as usize,
        };
        let callee = r.callees[i].0;
        let exact = r.match_ == Match::Exact;
        let registration = r.id;
        dealer.next_invocation = dealer.next_invocation % super::MAX_ID + 1;
        let request = dealer.next_invocation;

        let o: &CallOptions<'_> = &m.options;
        let disclose = o.disclose_me == Some(true) || permission.disclose_caller;
        let c = &self.conns[&conn];
        let receive_progress = o.receive_progress == Some(true);
        let details = InvocationDetails {
            caller: disclose.then_some(caller_session),
            caller_authid: disclose.then(|| Str::new(&c.authid)),
            caller_authrole: disclose.then(|| Str::new(&c.authrole)),
            procedure: (!exact).then_some(m.procedure),
            receive_progress: receive_progress.then_some(true),
            progress: o.progress,
            timeout: None,
            ppt_scheme: o.ppt_scheme,
            ppt_serializer: o.ppt_serializer,
            ppt_cipher: o.ppt_cipher,
            ppt_keyid: o.ppt_keyid,
            enc_algo: o.enc_algo,
            enc_serializer: o.enc_serializer,
            enc_key: o.enc_key,
            extra: None,
        };
        let inv = Message::Invocation(Invocation {
            request,
            registration,
            details,
            payload: m.payload,
        });
        if !self.send(callee, &inv, out) {
            return self.error(
                conn,
                code::CALL,
                m.request,
                uris::INVALID_ARGUMENT,
                "the arguments cannot be carried in the callee's serializer",
                out,
            );
        }
        let deadline = o.timeout.filter(|t| *t > 0).map(|t| now.saturating_add(t));
        let dealer = &mut self.realms[realm].dealer;
        dealer.calls.insert(
            request,
            PendingCall {
                caller: conn,
                caller_request: m.request,
                callee,
                receive_progress,
                deadline,
                answered: false,
            },
        );
        dealer.by_caller.insert((conn, m.request), request);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.pending_calls += 1;
        }
    }

    fn finish_call(&mut self, realm: usize, request: u64) -> Option<PendingCall> {
        let dealer = &mut self.realms[realm].dealer;
        let call = dealer.calls.remove(&request)?;
        dealer.by_caller.remove(&(call.caller, call.caller_request));
        if let Some(c) = self.conns.get_mut(&call.caller) {
            c.pending_calls = c.pending_calls.saturating_sub(1);
        }
        Some(call)
    }

    pub(super) fn yield_(&mut self, conn: ConnId, m: &Outcome<'_>, out: &mut Outbox) {
        let realm = self.conns[&conn].realm;
        let dealer = &self.realms[realm].dealer;
        let Some(call) = dealer.calls.get(&m.request) else {
            return; // canceled (killnowait) or timed out: dropped, as Crossbar does
        };
        if call.callee != conn {
            return;
        }
        let progress = m.details.progress == Some(true);
        if progress && (!call.receive_progress || call.answered) {
            return;
        }
        let (caller, caller_request, answered) = (call.caller, call.caller_request, call.answered);
        if !progress {
            self.finish_call(realm, m.request);
        }
        if answered {
            return;
        }
        let d = &m.details;
        let result = Message::Result(Outcome {
            request: caller_request,
            details: ResultDetails {
                progress: progress.then_some(true),
                ppt_scheme: d.ppt_scheme,
                ppt_serializer: d.ppt_serializer,
                ppt_cipher: d.ppt_cipher,
                ppt_keyid: d.ppt_keyid,
                enc_algo: d.enc_algo,
                enc_serializer: d.enc_serializer,
                enc_key: d.enc_key,
                extra: None,
            },
            payload: m.payload,
        });
        if !self.send(caller, &result, out) {
            self.error(
                caller,
                code::CALL,
                caller_request,
                uris::INVALID_ARGUMENT,
                "the result cannot be carried in the caller's serializer",
                out,
            );
        }
    }

    pub(super) fn callee_error(&mut self, conn: ConnId, m: &ErrorMsg<'_>, out: &mut Outbox) {
        if m.request_type != code::INVOCATION {
            return self.abort(
                conn,
                uris::PROTOCOL_VIOLATION,
                "a client sends ERROR only for INVOCATION",
                out,
            );
        }
        let realm = self.conns[&conn].realm;
        match self.realms[realm].dealer.calls.get(&m.request) {
            Some(call) if call.callee == conn => {}
            _ => return,
        }
        let call = self.finish_call(realm, m.request).expect("present");
        if call.answered {
            return;
        }
        let e = Message::Error(ErrorMsg {
            request_type: code::CALL,
            request: call.caller_request,
            details: m.details,
            error: m.error,
            payload: m.payload,
        });
        if !self.send(call.caller, &e, out) {
            self.error(
                call.caller,
                code::CALL,
                call.caller_request,
                &text(m.error),
                "",
                out,
            );
        }
    }

    pub(super) fn cancel(&mut self, conn: ConnId, m: &Cancel<'_>, out: &mut Outbox) {
        let realm = self.conns[&conn].realm;
        let dealer = &mut self.realms[realm].dealer;
        let Some(&request) = dealer.by_caller.get(&(conn, m.request)) else {
            return; // answered already
        };
        let call = dealer.calls.get_mut(&request).expect("indexed");
        if call.answered {
            return;
        }
        let callee = call.callee;
        let mut mode = m.options.mode.unwrap_or(CancelMode::KillNoWait);
        let can_interrupt = self.conns.get(&callee).is_some_and(|c| c.callee_cancel);
        if !can_interrupt {
            mode = CancelMode::Skip;
        }
        if mode != CancelMode::Skip {
            let i = Message::Interrupt(Cancel {
                request,
                options: CancelOptions {
                    mode: Some(mode),
                    reason: Some(Str::new(uris::CANCELED)),
                    extra: None,
                },
            });
            self.send(callee, &i, out);
        }
        match mode {
            // The callee answers; that answer goes to the caller.
            CancelMode::Kill => {}
            CancelMode::Skip => {
                let dealer = &mut self.realms[realm].dealer;
                if let Some(call) = dealer.calls.get_mut(&request) {
                    call.answered = true;
                }
                dealer.by_caller.remove(&(conn, m.request));
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.pending_calls = c.pending_calls.saturating_sub(1);
                }
                self.error(conn, code::CALL, m.request, uris::CANCELED, "", out);
            }
            CancelMode::KillNoWait => {
                self.finish_call(realm, request);
                self.error(conn, code::CALL, m.request, uris::CANCELED, "", out);
            }
        }
    }

    /// Calls whose `timeout` (milliseconds, as the spec says) passed: the caller gets
    /// `wamp.error.canceled` with "timeout reached" (as Crossbar.io), the callee an INTERRUPT
    /// (killnowait) when it can take one.
    pub(super) fn expire_calls(&mut self, realm: usize, now: u64, out: &mut Outbox) {
        let due: Vec<u64> = self.realms[realm]
            .dealer
            .calls
            .iter()
            .filter(|(_, c)| c.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for request in due {
            let Some(call) = self.finish_call(realm, request) else {
                continue;
            };
            if self
                .conns
                .get(&call.callee)
                .is_some_and(|c| c.callee_cancel)
            {
                let i = Message::Interrupt(Cancel {
                    request,
                    options: CancelOptions {
                        mode: Some(CancelMode::KillNoWait),
                        reason: Some(Str::new(uris::TIMEOUT)),
                        extra: None,
                    },
                });
                self.send(call.callee, &i, out);
            }
            if !call.answered {
                self.error(
                    call.caller,
                    code::CALL,
                    call.caller_request,
                    uris::CANCELED,
                    "timeout reached",
                    out,
                );
            }
        }
    }

    /// `conn` left: its registrations go; its calls are interrupted; calls to it fail.
    pub(super) fn dealer_leave(
        &mut self,
        realm: usize,
        conn: ConnId,
        session: u64,
        out: &mut Outbox,
    ) {
        let regs: Vec<u64> = self.realms[realm]
            .dealer
            .regs
            .values()
            .filter(|r| r.callees.iter().any(|(c, _)| *c == conn))
            .map(|r| r.id)
            .collect();
        for id in regs {
            self.remove_callee(realm, conn, session, id, out);
        }
        let calls: Vec<(u64, bool)> = self.realms[realm]
            .dealer
            .calls
            .iter()
            .filter(|(_, c)| c.caller == conn || c.callee == conn)
            .map(|(id, c)| (*id, c.caller == conn))
            .collect();
        for (request, as_caller) in calls {
            let Some(call) = self.finish_call(realm, request) else {
                continue;
            };
            if as_caller {
                if call.callee != conn
                    && self
                        .conns
                        .get(&call.callee)
                        .is_some_and(|c| c.callee_cancel)
                {
                    let i = Message::Interrupt(Cancel {
                        request,
                        options: CancelOptions {
                            mode: Some(CancelMode::KillNoWait),
                            reason: Some(Str::new(uris::CANCELED)),
                            extra: None,
                        },
                    });
                    self.send(call.callee, &i, out);
                }
            } else if !call.answered {
                self.error(
                    call.caller,
                    code::CALL,
                    call.caller_request,
                    uris::CANCELED,
                    "callee disconnected from in-flight request",
                    out,
                );
            }
        }
    }
}
