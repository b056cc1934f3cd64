//! Router-side authentication: HELLO → (CHALLENGE → AUTHENTICATE) → WELCOME or ABORT.
//!
//! Methods are tried in the order the client offers them; the first one the realm can do
//! for this client wins (Crossbar's rule). A dynamic authenticator, when set, is asked
//! first. anonymous and ticket need nothing; `wampcra` needs the `auth-cra` feature,
//! `cryptosign` `auth-cryptosign`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::super::dict::{self, ChallengeExtra, HelloDetails};
use super::super::id::Entropy;
use super::super::message::{Authenticate, Challenge, Hello, Message};
use super::super::value::Str;
use super::{text, uris, AuthDecision, ConnId, Identity, Outbox, Principal, Router, Secret, State};

/// What the router waits for after its CHALLENGE.
#[derive(Debug)]
pub(super) struct Pending {
    realm: usize,
    authid: String,
    authrole: String,
    method: &'static str,
    provider: &'static str,
    expect: Expect,
}

#[derive(Debug)]
enum Expect {
    Ticket(String),
    #[cfg(feature = "auth-cra")]
    Cra([u8; super::super::auth::cra::SIGNATURE_LEN]),
    #[cfg(feature = "auth-cryptosign")]
    Cryptosign {
        data: [u8; 32],
        keys: Vec<[u8; 32]>,
    },
    /// The SCRAM AuthMessage both sides sign, and the stored keys to check the proof with.
    #[cfg(feature = "auth-cra")]
    Scram {
        auth_message: String,
        stored_key: [u8; 32],
        server_key: [u8; 32],
    },
}

fn authmethods(d: &HelloDetails<'_>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(list) = d.authmethods {
        if let Ok(it) = dict::strs(list) {
            v.extend(it.flatten().map(text));
        }
    }
    if v.is_empty() {
        v.push("anonymous".to_string());
    }
    v
}

/// `authextra.<key>` of a HELLO, as text.
fn authextra(d: &HelloDetails<'_>, key: &str) -> Option<String> {
    let extra = d.authextra?;
    let v = extra.get(key).ok()??;
    v.reader().str().ok().map(text)
}

impl<E: Entropy> Router<E> {
    pub(super) fn hello(&mut self, conn: ConnId, h: &Hello<'_>, out: &mut Outbox) {
        let name = text(h.realm);
        let Some(realm) = self.realm_index(&name) else {
            return self.abort(conn, uris::NO_SUCH_REALM, "no such realm", out);
        };
        if self.config.max_sessions != 0 && self.joined >= self.config.max_sessions {
            return self.abort(conn, uris::LIMIT_EXCEEDED, "too many sessions", out);
        }
        let roles = h.details.roles;
        let callee = roles.and_then(|r| r.callee);
        let subscriber = roles.and_then(|r| r.subscriber);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.callee_cancel = callee.is_some_and(|f| dict::has_feature(f, "call_canceling"));
            c.callee_revocation =
                callee.is_some_and(|f| dict::has_feature(f, "registration_revocation"));
            c.subscriber_revocation =
                subscriber.is_some_and(|f| dict::has_feature(f, "subscription_revocation"));
        }
        let methods = authmethods(&h.details);
        let authid = h.details.authid.map(text);

        if let Some(a) = self.authenticator.clone() {
            match a(&name, authid.as_deref(), &methods) {
                AuthDecision::Accept { authid, authrole } => {
                    let method = methods.first().cloned().unwrap_or_default();
                    let who = Identity {
                        authid,
                        authrole,
                        authmethod: &method,
                        authprovider: "dynamic",
                        server_signature: None,
                    };
                    return self.welcome(conn, realm, who, out);
                }
                AuthDecision::Challenge(p) => {
                    return self.challenge(conn, realm, p, "dynamic", &h.details, out)
                }
                AuthDecision::Deny(reason) => return self.abort(conn, &reason, "", out),
                AuthDecision::Pass => {}
            }
        }

        let config = &self.realms[realm].config;
        for m in &methods {
            match m.as_str() {
                "anonymous" => {
                    if let Some(role) = config.anonymous.clone() {
                        let authid = self.anonymous_authid();
                        let who = Identity {
                            authid,
                            authrole: role,
                            authmethod: "anonymous",
                            authprovider: "static",
                            server_signature: None,
                        };
                        return self.welcome(conn, realm, who, out);
                    }
                }
                method => {
                    let principal = match (&authid, method) {
                        // One authid may have a principal entry per method.
                        (Some(id), _) => config
                            .principals
                            .iter()
                            .find(|p| p.authid == *id && p.secret.method() == method),
                        // cryptosign may name the key instead of an authid.
                        (None, "cryptosign") => authextra(&h.details, "pubkey").and_then(|pk| {
                            config.principals.iter().find(|p| match &p.secret {
                                Secret::Cryptosign(keys) => keys.iter().any(|k| hex_eq(k, &pk)),
                                _ => false,
                            })
                        }),
                        _ => None,
                    };
                    if let Some(p) = principal.cloned() {
                        return self.challenge(conn, realm, p, "static", &h.details, out);
                    }
                }
            }
        }
        self.abort(
            conn,
            uris::NO_AUTH_METHOD,
            "no authentication method offered is available for this client",
            out,
        )
    }

    /// Crossbar-style anonymous authid: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX` (base32 letters).
    fn anonymous_authid(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut s = String::with_capacity(29);
        for group in 0..6 {
            if group > 0 {
                s.push('-');
            }
            let mut r = self.entropy.next_u64();
            for _ in 0..4 {
                s.push(ALPHABET[(r & 31) as usize] as char);
                r >>= 5;
            }
        }
        s
    }

    fn challenge(
        &mut self,
        conn: ConnId,
        realm: usize,
        p: Principal,
        provider: &'static str,
        hello: &HelloDetails<'_>,
        out: &mut Outbox,
    ) {
        let _ = hello;
        let mut extra = ChallengeExtra::default();
        let expect;
        // Text the CHALLENGE borrows.
        #[allow(unused_mut, unused_variables)]
        let mut challenge_text = String::new();
        #[allow(unused_mut, unused_variables)]
        let mut salt_text = String::new();
        match &p.secret {
            Secret::Ticket(t) => expect = Expect::Ticket(t.clone()),
            #[cfg(feature = "auth-cra")]
            Secret::WampCra { secret, salt } => {
                use super::super::auth::cra;
                let session = self.new_id();
                let nonce = self.nonce_hex();
                challenge_text = alloc::format!(
                    "{{\"authid\":{},\"authrole\":{},\"authmethod\":\"wampcra\",\"authprovider\":\"{}\",\"nonce\":\"{}\",\"session\":{}}}",
                    json_string(&p.authid),
                    json_string(&p.authrole),
                    provider,
                    nonce,
                    session
                );
                let sig = match salt {
                    None => cra::sign(secret.as_bytes(), challenge_text.as_bytes()),
                    Some((s, iterations, keylen)) => {
                        let mut key = [0u8; 88];
                        match cra::derive_key(
                            secret.as_bytes(),
                            s.as_bytes(),
                            *iterations,
                            *keylen as usize,
                            &mut key,
                        ) {
                            Ok(k) => cra::sign(k, challenge_text.as_bytes()),
                            Err(_) => {
                                return self.abort(
                                    conn,
                                    uris::AUTHENTICATION_FAILED,
                                    "bad salt parameters",
                                    out,
                                )
                            }
                        }
                    }
                };
                if let Some((s, iterations, keylen)) = salt {
                    salt_text = s.clone();
                    extra.iterations = Some(u64::from(*iterations));
                    extra.keylen = Some(u64::from(*keylen));
                }
                expect = Expect::Cra(sig);
            }
            #[cfg(feature = "auth-cryptosign")]
            Secret::Cryptosign(keys) => {
                let mut data = [0u8; 32];
                for chunk in data.chunks_mut(8) {
                    chunk.copy_from_slice(&self.entropy.next_u64().to_le_bytes());
                }
                let mut hex = [0u8; 64];
                challenge_text = super::super::auth::hex_into(&data, &mut hex)
                    .unwrap_or_default()
                    .to_string();
                let binding = self
                    .conns
                    .get(&conn)
                    .and_then(|c| c.transport.channel_binding);
                let wants = authextra(hello, "channel_binding");
                if wants.as_deref() == Some("tls-exporter") {
                    match binding {
                        Some(b) => {
                            for (d, b) in data.iter_mut().zip(b) {
                                *d ^= b;
                            }
                        }
                        None => {
                            return self.abort(
                                conn,
                                uris::AUTHENTICATION_FAILED,
                                "channel binding tls-exporter needs TLS",
                                out,
                            )
                        }
                    }
                }
                expect = Expect::Cryptosign {
                    data,
                    keys: keys.clone(),
                };
            }
            #[cfg(feature = "auth-cra")]
            Secret::Scram(secret) => {
                use base64::Engine as _;
                let b64 = &base64::engine::general_purpose::STANDARD;
                // The client's nonce, extended by ours (the client checks that it is).
                let Some(client_nonce) = authextra(hello, "nonce") else {
                    return self.abort(
                        conn,
                        uris::AUTHENTICATION_FAILED,
                        "SCRAM needs authextra.nonce",
                        out,
                    );
                };
                let Ok(mut nonce) = b64.decode(&client_nonce) else {
                    return self.abort(
                        conn,
                        uris::AUTHENTICATION_FAILED,
                        "SCRAM nonce is not base64",
                        out,
                    );
                };
                if nonce.len() > 64 {
                    return self.abort(conn, uris::AUTHENTICATION_FAILED, "SCRAM nonce", out);
                }
                for _ in 0..2 {
                    nonce.extend_from_slice(&self.entropy.next_u64().to_le_bytes());
                }
                let nonce = b64.encode(nonce);
                salt_text = b64.encode(&secret.salt);
                extra.iterations = Some(u64::from(secret.iterations));
                extra.memory = secret.memory.map(u64::from);
                extra.kdf = Some(Str::new(&secret.kdf));
                let auth_message = super::super::auth::scram::auth_message(
                    &p.authid,
                    &client_nonce,
                    &nonce,
                    &salt_text,
                    u64::from(secret.iterations),
                );
                challenge_text = nonce;
                expect = Expect::Scram {
                    auth_message,
                    stored_key: secret.stored_key,
                    server_key: secret.server_key,
                };
            }
            #[allow(unreachable_patterns)]
            _ => {
                return self.abort(
                    conn,
                    uris::NO_AUTH_METHOD,
                    "this build has no such method",
                    out,
                )
            }
        }
        if !challenge_text.is_empty() {
            if p.secret.method() == "scram" {
                extra.nonce = Some(Str::new(&challenge_text));
            } else {
                extra.challenge = Some(Str::new(&challenge_text));
            }
        }
        if !salt_text.is_empty() {
            extra.salt = Some(Str::new(&salt_text));
        }
        let method = p.secret.method();
        let m = Message::Challenge(Challenge {
            authmethod: Str::new(method),
            extra,
        });
        self.send(conn, &m, out);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = State::Challenged(Pending {
                realm,
                authid: p.authid,
                authrole: p.authrole,
                method,
                provider,
                expect,
            });
        }
    }

    pub(super) fn authenticate(&mut self, conn: ConnId, a: &Authenticate<'_>, out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let State::Challenged(p) = core::mem::replace(&mut c.state, State::Hello) else {
            return;
        };
        let sig = text(a.signature);
        #[allow(unused_mut)]
        let mut server_signature = None;
        let ok = match &p.expect {
            Expect::Ticket(t) => ct_eq(sig.as_bytes(), t.as_bytes()),
            #[cfg(feature = "auth-cra")]
            Expect::Cra(expected) => ct_eq(sig.as_bytes(), expected),
            #[cfg(feature = "auth-cryptosign")]
            Expect::Cryptosign { data, keys } => verify_cryptosign(&sig, data, keys),
            #[cfg(feature = "auth-cra")]
            Expect::Scram {
                auth_message,
                stored_key,
                server_key,
            } => {
                let ok = verify_scram(&sig, auth_message, stored_key);
                if ok {
                    server_signature = Some(scram_server_signature(auth_message, server_key));
                }
                ok
            }
        };
        if ok {
            let who = Identity {
                authid: p.authid,
                authrole: p.authrole,
                authmethod: p.method,
                authprovider: p.provider,
                server_signature,
            };
            self.welcome(conn, p.realm, who, out);
        } else {
            self.abort(
                conn,
                uris::AUTHENTICATION_FAILED,
                "authentication failed",
                out,
            );
        }
    }

    #[cfg(feature = "auth-cra")]
    fn nonce_hex(&mut self) -> String {
        let mut bytes = [0u8; 16];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.entropy.next_u64().to_le_bytes());
        }
        let mut hex = [0u8; 32];
        super::super::auth::hex_into(&bytes, &mut hex)
            .unwrap_or_default()
            .to_string()
    }
}

/// Compares without an early exit.
/// A SCRAM proof (base64 of 32 bytes) checked against the stored key.
#[cfg(feature = "auth-cra")]
fn verify_scram(proof_b64: &str, auth_message: &str, stored_key: &[u8; 32]) -> bool {
    use base64::Engine as _;
    let mut proof = [0u8; 32];
    matches!(
        base64::engine::general_purpose::STANDARD.decode_slice(proof_b64, &mut proof),
        Ok(32)
    ) && super::super::auth::scram::verify_proof(&proof, auth_message.as_bytes(), stored_key)
}

/// WELCOME's `scram_server_signature`: base64(HMAC(ServerKey, AuthMessage)).
#[cfg(feature = "auth-cra")]
fn scram_server_signature(auth_message: &str, server_key: &[u8; 32]) -> String {
    use base64::Engine as _;
    let sig = super::super::auth::scram::server_signature(server_key, auth_message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sig)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `hex` is the lowercase or uppercase hex of `key`.
fn hex_eq(key: &[u8; 32], hex: &str) -> bool {
    let mut buf = [0u8; 32];
    hex.len() == 64
        && super::super::auth::hex_decode(hex.as_bytes(), &mut buf).is_ok()
        && &buf == key
}

#[cfg(feature = "auth-cryptosign")]
fn verify_cryptosign(sig_hex: &str, data: &[u8; 32], keys: &[[u8; 32]]) -> bool {
    let mut signed = [0u8; 96];
    let n = sig_hex.len();
    if n != 128 && n != 192 {
        return false;
    }
    if super::super::auth::hex_decode(sig_hex.as_bytes(), &mut signed[..n / 2]).is_err() {
        return false;
    }
    if n == 192 && &signed[64..96] != data {
        return false;
    }
    let Ok(sig) = ed25519_compact::Signature::from_slice(&signed[..64]) else {
        return false;
    };
    keys.iter().any(|k| {
        ed25519_compact::PublicKey::new(*k)
            .verify(data, &sig)
            .is_ok()
    })
}

/// A JSON string literal.
#[cfg(feature = "auth-cra")]
fn json_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&alloc::format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}
