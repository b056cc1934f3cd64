//! URI rules (WAMP basic profile, "URIs"; advanced profile, pattern-based subscriptions and
//! registrations).
//!
//! A URI is dot-separated components. *Loose* components are any characters but whitespace,
//! `.` and `#`; *strict* ones only `[0-9a-z_]`. Components may be empty only in wildcard
//! patterns (`com..update`); a prefix pattern may end in a dot. URIs starting with `wamp.`
//! are reserved for the protocol: clients may call and subscribe to them (the meta API) but
//! not register or publish under them.

use super::error::{Error, ErrorKind};

/// How strictly components are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Check {
    /// Anything but whitespace, `.` and `#` (Crossbar.io's default).
    #[default]
    Loose,
    /// Only lowercase letters, digits and `_`.
    Strict,
}

/// How a subscription or registration URI matches (option `match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Match {
    /// The URI itself.
    #[default]
    Exact,
    /// Every URI that starts with it.
    Prefix,
    /// Every URI with as many components, equal wherever the pattern's are not empty.
    Wildcard,
}

impl Match {
    /// From the option's value (`exact`, `prefix`, `wildcard`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exact" => Some(Match::Exact),
            "prefix" => Some(Match::Prefix),
            "wildcard" => Some(Match::Wildcard),
            _ => None,
        }
    }

    /// The option's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Exact => "exact",
            Match::Prefix => "prefix",
            Match::Wildcard => "wildcard",
        }
    }
}

fn component_ok(c: &str, check: Check) -> bool {
    match check {
        Check::Loose => !c
            .chars()
            .any(|ch| ch.is_whitespace() || ch == '.' || ch == '#'),
        Check::Strict => c
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
    }
}

/// Checks `uri` as a URI or, with `policy` other than exact, as a pattern.
pub fn validate(uri: &str, check: Check, policy: Match) -> Result<(), Error> {
    let bad = Err(Error::new(ErrorKind::InvalidUri, "a valid URI"));
    if uri.is_empty() && policy != Match::Prefix {
        return bad;
    }
    let n = uri.split('.').count();
    for (i, c) in uri.split('.').enumerate() {
        let empty_ok = match policy {
            Match::Exact => false,
            Match::Prefix => i == n - 1,
            Match::Wildcard => true,
        };
        if c.is_empty() {
            if !empty_ok {
                return bad;
            }
        } else if !component_ok(c, check) {
            return bad;
        }
    }
    Ok(())
}

/// Whether `uri` is in the protocol's reserved `wamp.` namespace.
pub fn is_reserved(uri: &str) -> bool {
    uri.starts_with("wamp.")
}

/// Whether `uri` is matched by `pattern` under `policy`.
pub fn matches(pattern: &str, policy: Match, uri: &str) -> bool {
    match policy {
        Match::Exact => pattern == uri,
        Match::Prefix => uri.starts_with(pattern),
        Match::Wildcard => {
            let (mut p, mut u) = (pattern.split('.'), uri.split('.'));
            loop {
                match (p.next(), u.next()) {
                    (None, None) => return true,
                    (Some(a), Some(b)) if a.is_empty() || a == b => {}
                    _ => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_and_strict() {
        assert!(validate("com.myapp.mytopic1", Check::Strict, Match::Exact).is_ok());
        assert!(validate("com.myapp.Topic-ü", Check::Loose, Match::Exact).is_ok());
        assert!(validate("com.myapp.Topic", Check::Strict, Match::Exact).is_err());
        for bad in ["", ".com", "com.", "com..a", "com.my app", "com.a#b"] {
            assert!(validate(bad, Check::Loose, Match::Exact).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns() {
        assert!(validate("com..update", Check::Strict, Match::Wildcard).is_ok());
        assert!(validate("com.myapp.", Check::Strict, Match::Prefix).is_ok());
        assert!(validate("com..update", Check::Strict, Match::Prefix).is_err());
        assert!(matches("com..update", Match::Wildcard, "com.x.update"));
        assert!(!matches("com..update", Match::Wildcard, "com.x.y.update"));
        assert!(!matches("com..update", Match::Wildcard, "com.x.delete"));
        assert!(matches("com.myapp", Match::Prefix, "com.myapp.topic"));
        assert!(is_reserved("wamp.session.count"));
        assert!(!is_reserved("wampx.a"));
    }
}
