//! `Utf8Validator` fed the input split at input-chosen points must agree with
//! `core::str::from_utf8` on the whole input, and must fail fast: a piece is rejected exactly
//! when the bytes so far can no longer be the start of valid UTF-8.
//!
//! Input: `k = data[0] % 8` piece lengths in `data[1..=k]`, then the text; the text is cut
//! into pieces of those lengths (0 allowed: an empty `feed`), the rest is the last piece.
#![no_main]

use ferrobahn_core::utf8::Utf8Validator;
use libfuzzer_sys::fuzz_target;

/// Whether `bytes` are valid UTF-8 or a prefix of some valid UTF-8 text.
fn valid_or_prefix(bytes: &[u8]) -> bool {
    match core::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let k = (k % 8) as usize;
    if rest.len() < k {
        return;
    }
    let (sizes, text) = rest.split_at(k);
    let expect = core::str::from_utf8(text).is_ok();

    let mut v = Utf8Validator::new();
    let mut at = 0;
    let mut ok = true;
    let pieces = sizes
        .iter()
        .map(|&s| s as usize)
        .chain(core::iter::once(usize::MAX));
    for size in pieces {
        let end = at + size.min(text.len() - at);
        let fed = v.feed(&text[at..end]).is_ok();
        at = end;
        // Fail-fast, both ways: Ok iff the prefix can still become valid text.
        assert_eq!(
            fed,
            valid_or_prefix(&text[..at]),
            "feed disagrees on prefix {:?} (pieces {sizes:?})",
            &text[..at]
        );
        if !fed {
            ok = false;
            break;
        }
        assert_eq!(
            v.is_incomplete(),
            core::str::from_utf8(&text[..at]).is_err(),
            "is_incomplete wrong after prefix {:?}",
            &text[..at]
        );
    }
    if ok {
        assert_eq!(at, text.len());
        ok = v.finish().is_ok();
        assert!(!v.is_incomplete(), "finish resets the validator");
    }
    assert_eq!(
        ok, expect,
        "validator vs core::str::from_utf8 on {text:?} (pieces {sizes:?})"
    );
});
