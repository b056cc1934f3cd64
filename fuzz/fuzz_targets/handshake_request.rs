//! `handshake::parse_request` with 32 header slots on arbitrary bytes. On success every
//! accessor a server uses runs too: `protocols()`, `extensions()` and each extension's
//! `params()`, `origin_allowed` (wildcard patterns, `null` both ways) and `accept()`.
#![no_main]

use ferrobahn_core::handshake::{self, origin_allowed};
use ferrobahn_core::{httparse, Status};
use libfuzzer_sys::fuzz_target;

const PATTERNS: &[&str] = &[
    "https://example.com",
    "https://*.example.com",
    "http://localhost:*",
    "https://*.example.*",
];

fuzz_target!(|data: &[u8]| {
    let mut storage = [httparse::EMPTY_HEADER; 32];
    let Ok(Status::Complete((hs, used))) = handshake::parse_request(data, &mut storage) else {
        return;
    };
    assert!(used <= data.len());
    assert!(hs.path.len() < used);
    // The key was checked: base64 of 16 bytes.
    assert_eq!(hs.key.len(), 24);

    for p in hs.protocols() {
        assert!(!p.is_empty() && !p.contains(','));
        assert_eq!(p, p.trim());
    }
    for ext in hs.extensions() {
        let Ok(ext) = ext else { continue };
        assert!(!ext.name.is_empty());
        for param in ext.params() {
            if let Ok((name, value)) = param {
                assert!(!name.is_empty());
                if let Some(v) = value {
                    assert!(!v.is_empty() && !v.contains('"'));
                }
            }
        }
    }

    let origin = hs.origin();
    let allowed = origin_allowed(origin, PATTERNS, false);
    let allowed_null = origin_allowed(origin, PATTERNS, true);
    assert!(!allowed || allowed_null, "allow_null can only widen");
    assert!(
        origin_allowed(origin, &["*"], true) == core::str::from_utf8(origin.unwrap_or(b"")).is_ok()
    );
    if origin.is_none() {
        assert!(allowed && origin_allowed(None, &[], false));
    }

    let accept = hs.accept();
    assert!(accept
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b)));
});
