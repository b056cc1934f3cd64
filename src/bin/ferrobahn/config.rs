//! `ferrobahn router --config FILE`: the router's TOML configuration, read into
//! [`RouterOptions`]. `examples/router.toml` shows every key.
//!
//! The shape follows Crossbar.io's node configuration where it can (realms with roles,
//! permissions as URI patterns with the four actions and disclosure, static principals per
//! auth method), flattened for TOML. Unknown keys are errors, so a misspelt key is not
//! silently ignored.

use std::path::Path;
use std::time::Duration;

use ferrobahn::core::wamp::uri::{Check, Match};
use ferrobahn::wamp::router::{
    scram_secret, Permission, Principal, RealmConfig, Role, RouterConfig, RouterOptions,
    ScramSecret, Secret,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    unix: Option<String>,
    #[serde(default)]
    auto_create_realms: bool,
    #[serde(default)]
    max_sessions: usize,
    #[serde(default)]
    max_pending_calls: usize,
    max_message: Option<u32>,
    queue: Option<usize>,
    handshake_timeout_ms: Option<u64>,
    /// Keepalive pings (RawSocket and WebSocket); 0 or absent: none.
    #[serde(default)]
    ping_interval_ms: u64,
    /// permessage-deflate on WebSocket connections whose client offers it (off by default,
    /// as in Crossbar: each compressing connection holds a compressor's state).
    #[serde(default)]
    deflate: bool,
    /// Per-message compression methods accepted on WebSocket connections, in the router's
    /// order of preference: "deflate", "brotli", "bzip2", "snappy" (`deflate = true` is
    /// `compression = ["deflate"]`).
    #[serde(default)]
    compression: Vec<String>,
    /// `strict` or `loose` (the default, as Crossbar).
    uri_check: Option<String>,
    tls: Option<Tls>,
    #[serde(default)]
    realms: Vec<Realm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tls {
    cert: String,
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Realm {
    name: String,
    /// The role anonymous sessions get; absent: anonymous is refused.
    anonymous: Option<String>,
    #[serde(default)]
    roles: Vec<RoleFile>,
    #[serde(default)]
    principals: Vec<PrincipalFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    name: String,
    #[serde(default)]
    permissions: Vec<PermissionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionFile {
    uri: String,
    #[serde(rename = "match", default)]
    match_: Option<String>,
    #[serde(default)]
    call: bool,
    #[serde(default)]
    register: bool,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    subscribe: bool,
    #[serde(default)]
    disclose_caller: bool,
    #[serde(default)]
    disclose_publisher: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalFile {
    authid: String,
    role: String,
    ticket: Option<String>,
    wampcra: Option<Cra>,
    /// Ed25519 public keys, hex.
    cryptosign: Option<Vec<String>>,
    scram: Option<ScramFile>,
}

/// WAMP-SCRAM: a password (the keys are derived at start), or the stored keys as Crossbar
/// keeps them (`stored_key`, `server_key`), so the file need not hold the password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScramFile {
    password: Option<String>,
    stored_key: Option<String>,
    server_key: Option<String>,
    /// Hex.
    salt: String,
    #[serde(default = "default_kdf")]
    kdf: String,
    iterations: u32,
    /// argon2 memory in KiB.
    memory: Option<u32>,
}

fn default_kdf() -> String {
    "argon2id-13".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cra {
    secret: String,
    salt: Option<String>,
    #[serde(default = "default_iterations")]
    iterations: u32,
    #[serde(default = "default_keylen")]
    keylen: u32,
}

fn default_iterations() -> u32 {
    1000
}

fn default_keylen() -> u32 {
    32
}

/// A configuration error: the file, and what is wrong in it.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Reads `path` into router options (paths in it are relative to the file's directory).
pub fn load(path: &Path) -> Result<RouterOptions, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
}

/// Parses a configuration; relative TLS paths are taken from `base`.
pub fn parse(text: &str, base: &Path) -> Result<RouterOptions, ConfigError> {
    let f: File = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    let mut o = RouterOptions::default();
    let mut config = RouterConfig {
        auto_create_realms: f.auto_create_realms,
        max_sessions: f.max_sessions,
        max_pending_calls: f.max_pending_calls,
        ..RouterConfig::default()
    };
    if let Some(c) = f.uri_check.as_deref() {
        config.uri_check = match c {
            "strict" => Check::Strict,
            "loose" => Check::Loose,
            other => {
                return Err(ConfigError(format!(
                    "uri_check: {other:?} is not strict/loose"
                )))
            }
        };
    }
    if !f.realms.is_empty() || f.auto_create_realms {
        config.realms = f.realms.into_iter().map(realm).collect::<Result<_, _>>()?;
    }
    o.config = config;
    if let Some(l) = f.listen {
        o.listen = l;
    }
    #[cfg(unix)]
    {
        o.unix = f.unix.map(Into::into);
    }
    #[cfg(not(unix))]
    if f.unix.is_some() {
        return Err(ConfigError("unix: Unix sockets need a Unix system".into()));
    }
    if let Some(m) = f.max_message {
        o.max_message = m;
    }
    if let Some(q) = f.queue {
        o.queue = q;
    }
    let mut methods = f.compression;
    if f.deflate && !methods.iter().any(|m| m == "deflate") {
        methods.push("deflate".into());
    }
    for name in &methods {
        use ferrobahn::compress::Method;
        let ws = &mut o.websocket;
        let m = match name.as_str() {
            "deflate" => {
                ws.deflate = Some(ferrobahn::DeflateAccept::default());
                Method::Deflate
            }
            #[cfg(feature = "brotli")]
            "brotli" => {
                ws.brotli = Some(Default::default());
                Method::Brotli
            }
            #[cfg(feature = "bzip2")]
            "bzip2" => {
                ws.bzip2 = Some(Default::default());
                Method::Bzip2
            }
            #[cfg(feature = "snappy")]
            "snappy" => {
                ws.snappy = Some(Default::default());
                Method::Snappy
            }
            other => {
                return Err(ConfigError(format!(
                    "compression: {other:?} is not one of {:?} (this build)",
                    Method::available()
                        .iter()
                        .map(|m| m.name().trim_start_matches("permessage-"))
                        .collect::<Vec<_>>()
                )))
            }
        };
        ws.compression_order.push(m);
    }
    if let Some(ms) = f.handshake_timeout_ms {
        o.handshake_timeout = Duration::from_millis(ms);
    }
    if f.ping_interval_ms > 0 {
        o.ping_interval = Some(Duration::from_millis(f.ping_interval_ms));
    }
    if let Some(t) = f.tls {
        let tls = ferrobahn::tls::server_config_from_files(base.join(&t.cert), base.join(&t.key))
            .map_err(|e| ConfigError(format!("tls: {e}")))?;
        o.websocket.tls = Some(tls);
    }
    Ok(o)
}

fn realm(r: Realm) -> Result<RealmConfig, ConfigError> {
    let name = r.name;
    let mut roles = Vec::new();
    for role in r.roles {
        let mut permissions = Vec::new();
        for p in role.permissions {
            let match_ = match p.match_.as_deref().unwrap_or("exact") {
                "exact" => Match::Exact,
                "prefix" => Match::Prefix,
                "wildcard" => Match::Wildcard,
                other => {
                    return Err(ConfigError(format!(
                        "realm {name}, role {}: match {other:?} is not exact/prefix/wildcard",
                        role.name
                    )))
                }
            };
            permissions.push(Permission {
                uri: p.uri,
                match_,
                call: p.call,
                register: p.register,
                publish: p.publish,
                subscribe: p.subscribe,
                disclose_caller: p.disclose_caller,
                disclose_publisher: p.disclose_publisher,
            });
        }
        roles.push(Role {
            name: role.name,
            permissions,
        });
    }
    let mut principals = Vec::new();
    for p in r.principals {
        let who = format!("realm {name}, principal {}", p.authid);
        let mut secrets = Vec::new();
        if let Some(t) = p.ticket {
            secrets.push(Secret::Ticket(t));
        }
        if let Some(c) = p.wampcra {
            secrets.push(Secret::WampCra {
                secret: c.secret,
                salt: c.salt.map(|s| (s, c.iterations, c.keylen)),
            });
        }
        if let Some(c) = p.scram {
            let salt = hex(&c.salt)
                .ok_or_else(|| ConfigError(format!("{who}: scram salt {:?} is not hex", c.salt)))?;
            let secret = match (c.password, c.stored_key, c.server_key) {
                (Some(pw), None, None) => scram_secret(&pw, &c.kdf, &salt, c.iterations, c.memory)
                    .map_err(|e| ConfigError(format!("{who}: {e}")))?,
                (None, Some(stored), Some(server)) => {
                    let key = |k: &str| {
                        hex32(k).ok_or_else(|| {
                            ConfigError(format!("{who}: {k:?} is not a 32-byte hex key"))
                        })
                    };
                    ScramSecret {
                        kdf: c.kdf.clone(),
                        iterations: c.iterations,
                        memory: c.memory,
                        salt,
                        stored_key: key(&stored)?,
                        server_key: key(&server)?,
                    }
                }
                _ => {
                    return Err(ConfigError(format!(
                        "{who}: scram takes password, or stored_key and server_key"
                    )))
                }
            };
            if !matches!(secret.kdf.as_str(), "argon2id-13" | "pbkdf2") {
                return Err(ConfigError(format!(
                    "{who}: scram kdf {:?} is not argon2id-13/pbkdf2",
                    secret.kdf
                )));
            }
            secrets.push(Secret::Scram(secret));
        }
        if let Some(keys) = p.cryptosign {
            let mut parsed = Vec::new();
            for k in keys {
                parsed.push(hex32(&k).ok_or_else(|| {
                    ConfigError(format!("{who}: {k:?} is not a 32-byte hex Ed25519 key"))
                })?);
            }
            secrets.push(Secret::Cryptosign(parsed));
        }
        if secrets.is_empty() {
            return Err(ConfigError(format!(
                "{who}: give ticket, wampcra, scram or cryptosign"
            )));
        }
        // One principal entry per method: the router looks them up by authid and method.
        for secret in secrets {
            principals.push(Principal {
                authid: p.authid.clone(),
                authrole: p.role.clone(),
                secret,
            });
        }
    }
    Ok(RealmConfig {
        name,
        anonymous: r.anonymous,
        principals,
        roles,
    })
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex(s)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_reads_into_router_options() {
        let text = include_str!("../../../examples/router.toml");
        let o = parse(text, Path::new("examples")).unwrap();
        assert_eq!(o.listen, "127.0.0.1:8080");
        assert_eq!(o.config.max_sessions, 10_000);
        let realm = &o.config.realms[0];
        assert_eq!(realm.name, "realm1");
        assert_eq!(realm.anonymous.as_deref(), Some("anonymous"));
        let methods: Vec<_> = realm
            .principals
            .iter()
            .map(|p| (p.authid.as_str(), p.secret.method()))
            .collect();
        assert_eq!(
            methods,
            [
                ("alice", "ticket"),
                ("bob", "wampcra"),
                ("carol", "cryptosign"),
                ("dave", "scram"),
                ("erin", "scram")
            ]
        );
        assert!(matches!(
            &realm.principals[1].secret,
            Secret::WampCra { salt: Some((s, 1000, 32)), .. } if s == "salt123"
        ));
        // anonymous may call com.example.* but not register there.
        let p = realm.permission("anonymous", "com.example.add2");
        assert!(p.call && !p.register);
        assert!(realm.permission("user", "com.example.add2").register);
        assert!(!realm.permission("anonymous", "org.other").call);
    }

    #[test]
    fn mistakes_are_reported_not_ignored() {
        let bad = [
            ("lisen = \"x\"", "unknown field"),
            ("[[realms]]\nname = \"r\"\n[[realms.principals]]\nauthid = \"a\"\nrole = \"u\"", "give ticket"),
            ("[[realms]]\nname = \"r\"\n[[realms.principals]]\nauthid = \"a\"\nrole = \"u\"\ncryptosign = [\"00\"]", "32-byte hex"),
            ("[[realms]]\nname = \"r\"\n[[realms.roles]]\nname = \"u\"\npermissions = [{ uri = \"a\", match = \"regex\" }]", "not exact/prefix/wildcard"),
            ("uri_check = \"medium\"", "strict/loose"),
        ];
        for (text, want) in bad {
            let e = parse(text, Path::new(".")).expect_err(text).0;
            assert!(e.contains(want), "{text:?} gave {e:?}, wanted {want:?}");
        }
    }

    #[test]
    fn an_empty_file_is_the_default_router() {
        let o = parse("", Path::new(".")).unwrap();
        assert_eq!(o.listen, "127.0.0.1:8080");
        assert_eq!(o.config.realms.len(), 1);
        assert_eq!(o.config.realms[0].name, "realm1");
        assert_eq!(o.ping_interval, None);
        let o = parse("ping_interval_ms = 250", Path::new(".")).unwrap();
        assert_eq!(o.ping_interval, Some(Duration::from_millis(250)));
    }

    #[test]
    fn compression_methods_are_accepted_in_the_configured_order() {
        use ferrobahn::compress::Method;
        let o = parse("compression = [\"snappy\", \"deflate\"]", Path::new(".")).unwrap();
        assert_eq!(
            o.websocket.compression_order,
            [Method::Snappy, Method::Deflate]
        );
        assert!(o.websocket.snappy.is_some() && o.websocket.deflate.is_some());
        assert!(o.websocket.brotli.is_none());
        let o = parse("deflate = true", Path::new(".")).unwrap();
        assert_eq!(o.websocket.compression_order, [Method::Deflate]);
        let e = parse("compression = [\"lzma\"]", Path::new(".")).unwrap_err();
        assert!(e.0.contains("lzma"), "{}", e.0);
    }
}
