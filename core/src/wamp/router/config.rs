//! What a router is told at start: realms, their principals and roles, limits.
//!
//! Plain data with owned strings, so a program fills it from a config file, from code, or
//! both. Authorization follows Crossbar.io's static model: a role holds permissions, each a
//! URI pattern (exact, prefix or wildcard) with the four actions it allows and whether the
//! router discloses the caller/publisher to the other side.

use alloc::string::String;
use alloc::vec::Vec;

use super::super::uri::{self, Check, Match};

/// The router's configuration.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// The realms served.
    pub realms: Vec<RealmConfig>,
    /// A HELLO for an unknown realm creates it (open to anonymous, every permission)
    /// instead of being answered with `wamp.error.no_such_realm`.
    pub auto_create_realms: bool,
    /// Calls one session may have waiting for results; one more is answered with ERROR
    /// [`LIMIT_EXCEEDED`](super::uris::LIMIT_EXCEEDED). 0: no limit (as Crossbar).
    pub max_pending_calls: usize,
    /// Sessions over all realms; a HELLO beyond is answered with ABORT
    /// [`LIMIT_EXCEEDED`](super::uris::LIMIT_EXCEEDED). 0: no limit.
    pub max_sessions: usize,
    /// How strictly URIs are checked (Crossbar: loose).
    pub uri_check: Check,
    /// The router's `agent` in WELCOME.
    pub agent: String,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            realms: alloc::vec![RealmConfig::open("realm1")],
            auto_create_realms: false,
            max_pending_calls: 0,
            max_sessions: 0,
            uri_check: Check::Loose,
            agent: String::from(concat!("ferrobahn-", env!("CARGO_PKG_VERSION"))),
        }
    }
}

/// One realm.
#[derive(Clone, Debug)]
pub struct RealmConfig {
    /// Its URI.
    pub name: String,
    /// The role anonymous sessions get; `None`: anonymous is refused.
    pub anonymous: Option<String>,
    /// Who may authenticate, and how.
    pub principals: Vec<Principal>,
    /// Roles and their permissions. A role not listed here (and `anonymous`'s role when it
    /// is not listed) may do everything: a realm without roles is open.
    pub roles: Vec<Role>,
}

impl RealmConfig {
    /// A realm open to anonymous sessions (role `anonymous`, every permission): what
    /// `ferrobahn router` serves by default.
    pub fn open(name: &str) -> Self {
        Self {
            name: String::from(name),
            anonymous: Some(String::from("anonymous")),
            principals: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// The first principal with this authid (one authid may have an entry per auth method).
    pub fn principal(&self, authid: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.authid == authid)
    }

    /// The permission a session of `role` has for `uri`, by Crossbar's rule: an exact
    /// pattern beats a prefix beats a wildcard; the longest prefix wins. Roles not configured
    /// may do everything.
    pub fn permission(&self, role: &str, uri: &str) -> Permission {
        let Some(r) = self.roles.iter().find(|r| r.name == role) else {
            return Permission::all("");
        };
        let mut best: Option<(u8, usize, &Permission)> = None;
        for p in &r.permissions {
            if !uri::matches(&p.uri, p.match_, uri) {
                continue;
            }
            let rank = match p.match_ {
                Match::Exact => 2,
                Match::Prefix => 1,
                Match::Wildcard => 0,
            };
            let key = (rank, p.uri.len());
            if best.is_none_or(|(r, l, _)| key > (r, l)) {
                best = Some((rank, p.uri.len(), p));
            }
        }
        best.map(|(_, _, p)| p.clone()).unwrap_or_default()
    }
}

/// Someone who may authenticate.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The authid they give in HELLO.
    pub authid: String,
    /// The role they get.
    pub authrole: String,
    /// How they prove it.
    pub secret: Secret,
}

/// A principal's credential.
#[derive(Clone, Debug)]
pub enum Secret {
    /// `ticket`: the shared secret itself.
    Ticket(String),
    /// `wampcra`: the shared secret; with a salt the client derives its key with PBKDF2
    /// (`salt`, `iterations`, `keylen`), as Crossbar's `wampcra` principals allow.
    WampCra {
        /// The secret.
        secret: String,
        /// Salt, iterations and key length, when the key is salted.
        salt: Option<(String, u32, u32)>,
    },
    /// `cryptosign`: the Ed25519 public keys the principal may sign with.
    Cryptosign(Vec<[u8; 32]>),
    /// `scram` (WAMP-SCRAM): what the router keeps of a password, as Crossbar stores it; the
    /// password itself is never needed (`ferrobahn_std::wamp::router::scram_secret` derives
    /// this from one).
    Scram(ScramSecret),
}

/// A WAMP-SCRAM principal's stored credential (SCRAM-SHA-256 over a salted password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScramSecret {
    /// `argon2id-13` or `pbkdf2`.
    pub kdf: String,
    /// KDF iterations (argon2 time cost, or PBKDF2 rounds).
    pub iterations: u32,
    /// argon2 memory in KiB (`None` for PBKDF2).
    pub memory: Option<u32>,
    /// The salt, raw bytes.
    pub salt: Vec<u8>,
    /// SHA-256(HMAC(salted password, "Client Key")).
    pub stored_key: [u8; 32],
    /// HMAC(salted password, "Server Key").
    pub server_key: [u8; 32],
}

impl Secret {
    /// The WAMP auth method name.
    pub fn method(&self) -> &'static str {
        match self {
            Secret::Ticket(_) => "ticket",
            Secret::WampCra { .. } => "wampcra",
            Secret::Cryptosign(_) => "cryptosign",
            Secret::Scram(_) => "scram",
        }
    }
}

/// A role and what it may do.
#[derive(Clone, Debug)]
pub struct Role {
    /// Its name (a session's `authrole`).
    pub name: String,
    /// Its permissions; a URI none of them matches allows nothing.
    pub permissions: Vec<Permission>,
}

/// What a role may do with the URIs a pattern matches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permission {
    /// The pattern.
    pub uri: String,
    /// How it matches.
    pub match_: Match,
    /// CALL.
    pub call: bool,
    /// REGISTER.
    pub register: bool,
    /// PUBLISH.
    pub publish: bool,
    /// SUBSCRIBE.
    pub subscribe: bool,
    /// The router discloses the caller to callees even when the caller did not ask.
    pub disclose_caller: bool,
    /// The router discloses the publisher to subscribers even when it did not ask.
    pub disclose_publisher: bool,
}

impl Permission {
    /// Every action on URIs starting with `prefix`, nothing disclosed unasked.
    pub fn all(prefix: &str) -> Self {
        Self {
            uri: String::from(prefix),
            match_: Match::Prefix,
            call: true,
            register: true,
            publish: true,
            subscribe: true,
            disclose_caller: false,
            disclose_publisher: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_beats_prefix_beats_wildcard_and_the_longest_prefix_wins() {
        let p = |uri: &str, m: Match, call: bool| Permission {
            uri: uri.into(),
            match_: m,
            call,
            ..Default::default()
        };
        let realm = RealmConfig {
            roles: alloc::vec![Role {
                name: "user".into(),
                permissions: alloc::vec![
                    p("com..get", Match::Wildcard, true),
                    p("com.", Match::Prefix, false),
                    p("com.app.", Match::Prefix, true),
                    p("com.app.secret", Match::Exact, false),
                ],
            }],
            ..RealmConfig::open("r")
        };
        assert!(
            !realm.permission("user", "com.x.get").call,
            "prefix beats wildcard"
        );
        assert!(realm.permission("user", "com.app.x").call, "longest prefix");
        assert!(!realm.permission("user", "com.app.secret").call, "exact");
        assert!(!realm.permission("user", "org.x").call, "nothing matches");
        assert!(realm.permission("other", "org.x").call, "unconfigured role");
    }
}
