//! Strict, streaming, fail-fast UTF-8 validation of text messages (RFC 6455 §8.1, §5.6).
//!
//! A text message arrives in pieces: frames, and within a frame, socket reads. An invalid
//! sequence must close the connection (1007) as soon as its bytes arrive, not when the message
//! ends (Autobahn TestSuite 6.4.*). [`Utf8Validator`] therefore checks every piece as it comes
//! and keeps only the ≤3 bytes of a character split between pieces.
//!
//! The bulk of each piece goes through `simdutf8::basic` (the fast path, no error details);
//! the ≤3-byte tail that may be an incomplete character is checked with `simdutf8::compat`,
//! which tells a merely incomplete sequence (`error_len() == None`) from an invalid one, so a
//! tail like `F4 90` (above U+10FFFF) or `ED A0` (a surrogate) fails at once.

/// The bytes are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

/// Validates `bytes` as a whole and returns them as `&str`.
pub fn from_utf8(bytes: &[u8]) -> Result<&str, Utf8Error> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| Utf8Error)
}

/// Streaming validator state: at most three bytes of an incomplete character.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    carry: [u8; 4],
    carry_len: u8,
}

/// Width of the sequence a lead byte starts (1 for anything that is not a multi-byte lead).
const fn seq_width(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Checks that `bytes` (1..=3 bytes) are a prefix of some valid UTF-8 sequence.
fn valid_prefix(bytes: &[u8]) -> bool {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Self {
            carry: [0; 4],
            carry_len: 0,
        }
    }

    /// Forgets any carried bytes (a new message starts).
    pub fn reset(&mut self) {
        self.carry_len = 0;
    }

    /// Whether a character is split and waiting for its remaining bytes.
    pub fn is_incomplete(&self) -> bool {
        self.carry_len != 0
    }

    /// Validates the next piece of the message. Fails as soon as `piece` makes the text
    /// invalid, including when it ends in bytes that no continuation could make valid.
    pub fn feed(&mut self, mut piece: &[u8]) -> Result<(), Utf8Error> {
        if self.carry_len != 0 {
            let have = self.carry_len as usize;
            let width = seq_width(self.carry[0]);
            let take = (width - have).min(piece.len());
            self.carry[have..have + take].copy_from_slice(&piece[..take]);
            let now = have + take;
            piece = &piece[take..];
            if now == width {
                from_utf8(&self.carry[..width])?;
                self.carry_len = 0;
            } else {
                if !valid_prefix(&self.carry[..now]) {
                    return Err(Utf8Error);
                }
                self.carry_len = now as u8;
                return Ok(());
            }
        }
        let cut = incomplete_tail_start(piece);
        from_utf8(&piece[..cut])?;
        let tail = &piece[cut..];
        if !tail.is_empty() {
            if !valid_prefix(tail) {
                return Err(Utf8Error);
            }
            self.carry[..tail.len()].copy_from_slice(tail);
            self.carry_len = tail.len() as u8;
        }
        Ok(())
    }

    /// Ends the message: a character still incomplete is an error. Resets the validator.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let incomplete = self.carry_len != 0;
        self.carry_len = 0;
        if incomplete {
            Err(Utf8Error)
        } else {
            Ok(())
        }
    }
}

/// Index where a possibly incomplete final multi-byte sequence starts (`bytes.len()` if the
/// last character, as far as its lead byte tells, is complete).
fn incomplete_tail_start(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(3) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte: keep looking for the lead
        }
        return if b >= 0xC0 && seq_width(b) > back {
            len - back
        } else {
            len
        };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_ok(pieces: &[&[u8]]) -> bool {
        let mut v = Utf8Validator::new();
        for p in pieces {
            if v.feed(p).is_err() {
                return false;
            }
        }
        v.finish().is_ok()
    }

    #[test]
    fn whole_and_split_agree_with_std() {
        let samples: &[&[u8]] = &[
            "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
            "κόσμε".as_bytes(),
            b"\xf0\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xed\xa0\x80",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf8\x88\x80\x80\x80",
            b"\x80",
            b"abc\xe2\x82",
            b"",
        ];
        for s in samples {
            let expect = core::str::from_utf8(s).is_ok();
            assert_eq!(stream_ok(&[s]), expect, "{s:?}");
            for cut in 0..=s.len() {
                assert_eq!(
                    stream_ok(&[&s[..cut], &s[cut..]]),
                    expect,
                    "{s:?} cut {cut}"
                );
            }
            assert_eq!(byte_by_byte_ok(s), expect, "{s:?} byte by byte");
        }
    }

    fn byte_by_byte_ok(s: &[u8]) -> bool {
        let mut v = Utf8Validator::new();
        s.chunks(1).all(|b| v.feed(b).is_ok()) && v.finish().is_ok()
    }

    #[test]
    fn fails_fast_on_invalid_prefix() {
        // U+110000 would start F4 90: invalid as soon as the second byte arrives.
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"ok \xf4").is_ok());
        assert!(v.feed(b"\x90").is_err());
        // A surrogate lead ED A0 fails before the third byte.
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xed\xa0").is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_match_std(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64), cut in 0usize..64) {
            let cut = cut.min(data.len());
            let expect = core::str::from_utf8(&data).is_ok();
            proptest::prop_assert_eq!(stream_ok(&[&data[..cut], &data[cut..]]), expect);
        }
    }
}
