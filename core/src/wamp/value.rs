//! The serializer-neutral value model: a pull [`Reader`] that turns one serialized value
//! into [`Token`]s borrowing from the input, a [`Writer`] that emits tokens in a chosen
//! [`Format`], and [`Raw`], a serialized value kept as its bytes.
//!
//! Why a token stream and not `serde` here: a WAMP message is a short array whose payload
//! (`Arguments`, `ArgumentsKw`) and dictionaries a router must pass on untouched. The reader
//! finds where each value starts and ends ([`Reader::skip`] → [`Raw`]) without decoding it,
//! with no heap; the writer copies a `Raw` of the same format byte for byte and transcodes
//! one of another format token by token. Applications decode payloads into their own types
//! with `serde` (in the std layer), only when they ask.
//!
//! Containers: every reader reports `Array(len)` / `Map(len)` (`len` when the format knows
//! it up front, `None` for JSON and CBOR's indefinite lengths) and a matching [`Token::End`]
//! after the last element, whatever the format, so consumers are written once. Nesting is
//! limited to [`MAX_DEPTH`]: deeper input is an error, not a stack overflow.

use core::fmt;

use super::error::{Error, ErrorKind};
use super::out::Out;

/// How deep containers may nest in anything we read.
pub const MAX_DEPTH: usize = 64;

/// A WAMP serializer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `wamp.2.json`, RawSocket serializer 1.
    Json,
    /// `wamp.2.msgpack`, RawSocket serializer 2.
    MsgPack,
    /// `wamp.2.cbor`, RawSocket serializer 3.
    Cbor,
    /// `wamp.2.ubjson`, RawSocket serializer 4.
    Ubjson,
}

impl Format {
    /// Every format, in RawSocket id order.
    pub const ALL: [Format; 4] = [Format::Json, Format::MsgPack, Format::Cbor, Format::Ubjson];

    /// The WebSocket subprotocol name (`wamp.2.json`, ...).
    pub fn subprotocol(self) -> &'static str {
        match self {
            Format::Json => "wamp.2.json",
            Format::MsgPack => "wamp.2.msgpack",
            Format::Cbor => "wamp.2.cbor",
            Format::Ubjson => "wamp.2.ubjson",
        }
    }

    /// The batched subprotocol name (`wamp.2.json.batched`, ...).
    pub fn batched_subprotocol(self) -> &'static str {
        match self {
            Format::Json => "wamp.2.json.batched",
            Format::MsgPack => "wamp.2.msgpack.batched",
            Format::Cbor => "wamp.2.cbor.batched",
            Format::Ubjson => "wamp.2.ubjson.batched",
        }
    }

    /// The format and whether it is batched, from a subprotocol name.
    pub fn from_subprotocol(name: &str) -> Option<(Format, bool)> {
        Format::ALL.into_iter().find_map(|f| {
            if name == f.subprotocol() {
                Some((f, false))
            } else if name == f.batched_subprotocol() {
                Some((f, true))
            } else {
                None
            }
        })
    }

    /// The RawSocket serializer id (1..=4).
    pub fn rawsocket_id(self) -> u8 {
        match self {
            Format::Json => 1,
            Format::MsgPack => 2,
            Format::Cbor => 3,
            Format::Ubjson => 4,
        }
    }

    /// The format for a RawSocket serializer id.
    pub fn from_rawsocket_id(id: u8) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.rawsocket_id() == id)
    }

    /// Whether this build has a reader and writer for the format (each is a feature).
    pub fn enabled(self) -> bool {
        match self {
            Format::Json => cfg!(feature = "json"),
            Format::MsgPack => cfg!(feature = "msgpack"),
            Format::Cbor => cfg!(feature = "cbor"),
            Format::Ubjson => cfg!(feature = "ubjson"),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.subprotocol())
    }
}

/// One serialized value, kept as its bytes in its format: a payload or a dictionary passed
/// through without decoding it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a> {
    /// The format the bytes are in.
    pub format: Format,
    /// Exactly one complete value.
    pub bytes: &'a [u8],
}

impl<'a> Raw<'a> {
    /// A reader over the value's tokens.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.format, self.bytes)
    }

    /// The value's first token: its type (and length, for containers that know it).
    pub fn head(&self) -> Result<Token<'a>, Error> {
        self.reader().next()
    }

    /// Whether the value is an array.
    pub fn is_array(&self) -> bool {
        matches!(self.head(), Ok(Token::Array(_)))
    }

    /// Whether the value is a map (a WAMP dictionary).
    pub fn is_map(&self) -> bool {
        matches!(self.head(), Ok(Token::Map(_)))
    }

    /// Whether the value is an empty array or an empty map.
    pub fn is_empty_container(&self) -> bool {
        let mut r = self.reader();
        matches!(r.next(), Ok(Token::Array(_) | Token::Map(_)))
            && matches!(r.next(), Ok(Token::End))
    }

    /// The entries of a map, as (key, value) pairs; an error for anything else.
    pub fn entries(&self) -> Result<Entries<'a>, Error> {
        let mut r = self.reader();
        match r.next()? {
            Token::Map(_) => Ok(Entries { r, done: false }),
            _ => Err(Error::new(ErrorKind::WrongType, "a dictionary")),
        }
    }

    /// The elements of an array; an error for anything else.
    pub fn elements(&self) -> Result<Elements<'a>, Error> {
        let mut r = self.reader();
        match r.next()? {
            Token::Array(_) => Ok(Elements { r, done: false }),
            _ => Err(Error::new(ErrorKind::WrongType, "a list")),
        }
    }

    /// The value of `key` in a map (the first one, if the input repeats it).
    pub fn get(&self, key: &str) -> Result<Option<Raw<'a>>, Error> {
        for entry in self.entries()? {
            let (k, v) = entry?;
            if k.eq_str(key) {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// Number of elements of an array or entries of a map.
    pub fn len(&self) -> Result<usize, Error> {
        let mut r = self.reader();
        let map = match r.next()? {
            Token::Array(Some(n)) | Token::Map(Some(n)) => return Ok(n),
            Token::Array(None) => false,
            Token::Map(None) => true,
            _ => return Err(Error::new(ErrorKind::WrongType, "a container")),
        };
        let mut n = 0;
        while !r.at_end()? {
            if map {
                r.skip()?;
            }
            r.skip()?;
            n += 1;
        }
        Ok(n)
    }

    /// Whether an array or map has no elements (an error for other values).
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.len().map(|n| n == 0)
    }
}

impl fmt::Debug for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            Format::Json => match core::str::from_utf8(self.bytes) {
                Ok(s) => write!(f, "Raw(json {s})"),
                Err(_) => write!(f, "Raw(json {:?})", self.bytes),
            },
            other => write!(f, "Raw({other:?} {:02x?})", self.bytes),
        }
    }
}

/// The entries of a map ([`Raw::entries`]): keys must be strings.
pub struct Entries<'a> {
    r: Reader<'a>,
    done: bool,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<(Str<'a>, Raw<'a>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = (|| {
            if self.r.at_end()? {
                return Ok(None);
            }
            let key = match self.r.next()? {
                Token::Str(s) => s,
                _ => return Err(Error::new(ErrorKind::WrongType, "a string key")),
            };
            Ok(Some((key, self.r.skip()?)))
        })();
        match r {
            Ok(Some(kv)) => Some(Ok(kv)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The elements of an array ([`Raw::elements`]).
pub struct Elements<'a> {
    r: Reader<'a>,
    done: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Raw<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.r.at_end() {
            Ok(false) => {}
            Ok(true) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        }
        let r = self.r.skip();
        self.done = r.is_err();
        Some(r)
    }
}

/// A string as it appears in the input: UTF-8 bytes, or for JSON the text between the quotes
/// with its escapes (checked when read, decoded only on demand).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    raw: &'a [u8],
    escaped: bool,
}

impl<'a> Str<'a> {
    /// A string without escapes.
    pub fn new(s: &'a str) -> Self {
        Self {
            raw: s.as_bytes(),
            escaped: false,
        }
    }

    /// Bytes a reader has checked to be UTF-8.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn utf8(raw: &'a [u8]) -> Self {
        Self {
            raw,
            escaped: false,
        }
    }

    /// JSON string contents whose escapes the reader has checked.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn json_escaped(raw: &'a [u8]) -> Self {
        Self { raw, escaped: true }
    }

    /// The string itself, when the input holds it as is (always, except JSON text with
    /// escapes in it).
    pub fn as_str(&self) -> Option<&'a str> {
        if self.escaped {
            None
        } else {
            // The readers hand out validated UTF-8 only.
            core::str::from_utf8(self.raw).ok()
        }
    }

    /// The bytes as in the input (with JSON escapes when [`is_escaped`](Self::is_escaped)).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether [`raw`](Self::raw) holds JSON escapes.
    pub fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// The characters, escapes decoded.
    pub fn chars(&self) -> StrChars<'a> {
        StrChars {
            rest: self.raw,
            escaped: self.escaped,
        }
    }

    /// Length in UTF-8 bytes once unescaped.
    pub fn len(&self) -> usize {
        if self.escaped {
            self.chars().map(char::len_utf8).sum()
        } else {
            self.raw.len()
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Compares with `s`, escapes decoded.
    pub fn eq_str(&self, s: &str) -> bool {
        if self.escaped {
            self.chars().eq(s.chars())
        } else {
            self.raw == s.as_bytes()
        }
    }

    /// Unescapes into `buf`; `None` when it does not fit.
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Option<&'b str> {
        let mut n = 0;
        for c in self.chars() {
            let w = c.len_utf8();
            if n + w > buf.len() {
                return None;
            }
            c.encode_utf8(&mut buf[n..n + w]);
            n += w;
        }
        core::str::from_utf8(&buf[..n]).ok()
    }

    /// The string, borrowed when it has no escapes.
    #[cfg(feature = "alloc")]
    pub fn to_cow(&self) -> alloc::borrow::Cow<'a, str> {
        match self.as_str() {
            Some(s) => alloc::borrow::Cow::Borrowed(s),
            None => alloc::borrow::Cow::Owned(self.chars().collect()),
        }
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.chars() {
            fmt::Display::fmt(&c.escape_debug(), f)?;
        }
        f.write_str("\"")
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.chars() {
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for Str<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

/// The characters of a [`Str`].
pub struct StrChars<'a> {
    rest: &'a [u8],
    escaped: bool,
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0;
    for &c in b.get(..4)? {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

impl Iterator for StrChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let b = *self.rest.first()?;
        if self.escaped && b == b'\\' {
            let e = *self.rest.get(1)?;
            let (c, used) = match e {
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'/' => ('/', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                _ => {
                    // \uXXXX, a surrogate pair as two of them (checked by the reader).
                    let hi = hex4(&self.rest[2..])?;
                    if (0xD800..0xDC00).contains(&hi) {
                        let lo = hex4(self.rest.get(8..)?)?;
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        (char::from_u32(c)?, 12)
                    } else {
                        (char::from_u32(hi)?, 6)
                    }
                }
            };
            self.rest = &self.rest[used..];
            return Some(c);
        }
        let w = match b {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let s = core::str::from_utf8(self.rest.get(..w)?).ok()?;
        self.rest = &self.rest[w..];
        s.chars().next()
    }
}

/// A byte string as it appears in the input: the bytes, or for JSON the base64 text after
/// the `\u0000` that marks a binary string (WAMP's JSON convention).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bytes<'a> {
    raw: &'a [u8],
    base64: bool,
}

impl<'a> Bytes<'a> {
    /// Plain bytes.
    pub fn new(b: &'a [u8]) -> Self {
        Self {
            raw: b,
            base64: false,
        }
    }

    pub(crate) fn json_base64(raw: &'a [u8]) -> Self {
        Self { raw, base64: true }
    }

    /// The bytes, when the input holds them as is (every format but JSON).
    pub fn as_slice(&self) -> Option<&'a [u8]> {
        (!self.base64).then_some(self.raw)
    }

    /// The bytes as in the input (base64 text for JSON).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether [`raw`](Self::raw) is base64 text.
    pub fn is_base64(&self) -> bool {
        self.base64
    }

    /// Decoded length.
    pub fn len(&self) -> usize {
        if self.base64 {
            base64::decoded_len_estimate(self.raw.len()).min(decoded_len(self.raw))
        } else {
            self.raw.len()
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Decodes into `buf` (a copy for non-JSON formats); `None` when it does not fit.
    pub fn decode_into<'b>(&self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        if self.base64 {
            use base64::Engine;
            let n = BASE64.decode_slice(self.raw, buf).ok()?;
            Some(&buf[..n])
        } else {
            let out = buf.get_mut(..self.raw.len())?;
            out.copy_from_slice(self.raw);
            Some(out)
        }
    }

    /// The bytes, borrowed when not base64.
    #[cfg(feature = "alloc")]
    pub fn to_cow(&self) -> alloc::borrow::Cow<'a, [u8]> {
        use base64::Engine;
        match self.as_slice() {
            Some(b) => alloc::borrow::Cow::Borrowed(b),
            // The reader checked the base64.
            None => alloc::borrow::Cow::Owned(BASE64.decode(self.raw).unwrap_or_default()),
        }
    }
}

/// Standard padded base64, reading leniently: non-zero bits after the last byte are allowed
/// on input (Python's decoder allows them; the JSON reader checks the rest of the shape).
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Exact decoded length of padded standard base64 text.
fn decoded_len(b64: &[u8]) -> usize {
    let pad = b64.iter().rev().take_while(|&&c| c == b'=').count();
    (b64.len() / 4 * 3).saturating_sub(pad)
}

impl fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.base64 {
            write!(
                f,
                "Bytes(base64 {:?})",
                core::str::from_utf8(self.raw).unwrap_or("?")
            )
        } else {
            write!(f, "Bytes({:02x?})", self.raw)
        }
    }
}

/// One step of a serialized value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Token<'a> {
    /// `null` / nil.
    Null,
    /// A boolean.
    Bool(bool),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// A text string.
    Str(Str<'a>),
    /// A byte string.
    Bytes(Bytes<'a>),
    /// An array begins; its length when known. Its elements follow, then [`Token::End`].
    Array(Option<usize>),
    /// A map begins; its number of entries when known. Key, value, key, ... then
    /// [`Token::End`].
    Map(Option<usize>),
    /// The innermost open array or map ends.
    End,
}

/// A pull reader over one serialized value (or, for batched input, one message).
pub struct Reader<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) pos: usize,
    inner: Inner,
}

// The counted formats' stack of remaining counts makes that variant big; boxing it would
// need a heap, which the core must not.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Inner {
    #[cfg(feature = "json")]
    Json(super::json::State),
    #[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
    Counted(Counted),
    /// A format this build does not have.
    Disabled,
}

/// Remaining element counts of the open containers of a length-prefixed format.
#[cfg_attr(
    not(any(feature = "msgpack", feature = "cbor", feature = "ubjson")),
    allow(dead_code)
)]
#[derive(Clone)]
pub(crate) struct Counted {
    pub(crate) format: Format,
    /// Per open container: items left (map entries count twice), or [`INDEFINITE`].
    pub(crate) left: [u32; MAX_DEPTH],
    pub(crate) depth: usize,
    /// Bit `d`: the container at depth `d` is a map.
    object: u64,
    /// Bit `d`: in the map at depth `d`, the next item is a key.
    key_next: u64,
}

/// A CBOR container of indefinite length (ended by a break byte) or a UBJSON container
/// without a count (ended by `]`/`}`).
#[cfg_attr(
    not(any(feature = "msgpack", feature = "cbor", feature = "ubjson")),
    allow(dead_code)
)]
pub(crate) const INDEFINITE: u32 = u32::MAX;

impl<'a> Reader<'a> {
    /// A reader over `input` in `format`.
    pub fn new(format: Format, input: &'a [u8]) -> Self {
        let inner = match format {
            #[cfg(feature = "json")]
            Format::Json => Inner::Json(super::json::State::new()),
            #[cfg(feature = "msgpack")]
            Format::MsgPack => Inner::Counted(Counted::new(format)),
            #[cfg(feature = "cbor")]
            Format::Cbor => Inner::Counted(Counted::new(format)),
            #[cfg(feature = "ubjson")]
            Format::Ubjson => Inner::Counted(Counted::new(format)),
            #[allow(unreachable_patterns)]
            _ => Inner::Disabled,
        };
        Self {
            input,
            pos: 0,
            inner,
        }
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        match &self.inner {
            #[cfg(feature = "json")]
            Inner::Json(_) => Format::Json,
            #[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
            Inner::Counted(c) => c.format,
            Inner::Disabled => Format::Json,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next token. (Not an `Iterator`: every step can fail, and `End` is a token.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Token<'a>, Error> {
        match &mut self.inner {
            #[cfg(feature = "json")]
            Inner::Json(st) => st.next(self.input, &mut self.pos),
            #[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
            Inner::Counted(c) => c.next(self.input, &mut self.pos),
            Inner::Disabled => Err(Error::new(ErrorKind::Unsupported, "this serializer")),
        }
    }

    /// Whether the innermost open container has no more elements (the next token is
    /// [`Token::End`], which this then consumes).
    pub fn at_end(&mut self) -> Result<bool, Error> {
        match &mut self.inner {
            #[cfg(feature = "json")]
            Inner::Json(st) => st.at_end(self.input, &mut self.pos),
            #[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
            Inner::Counted(c) => c.at_end(self.input, &mut self.pos),
            Inner::Disabled => Err(Error::new(ErrorKind::Unsupported, "this serializer")),
        }
    }

    /// Whether the innermost container ends next, without consuming its end.
    pub fn at_end_peek(&self) -> Result<bool, Error> {
        let mut probe = self.clone_state();
        probe.at_end()
    }

    fn clone_state(&self) -> Reader<'a> {
        Reader {
            input: self.input,
            pos: self.pos,
            inner: self.inner.clone(),
        }
    }

    /// Where the next value starts (after JSON whitespace and separators).
    pub(crate) fn value_start(&mut self) -> Result<usize, Error> {
        match &mut self.inner {
            #[cfg(feature = "json")]
            Inner::Json(st) => st.value_start(self.input, &mut self.pos),
            #[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
            Inner::Counted(_) => Ok(self.pos),
            Inner::Disabled => Err(Error::new(ErrorKind::Unsupported, "this serializer")),
        }
    }

    /// Reads past the next value and returns its bytes.
    pub fn skip(&mut self) -> Result<Raw<'a>, Error> {
        #[cfg(feature = "json")]
        if let Inner::Json(st) = &mut self.inner {
            st.value_start(self.input, &mut self.pos)?;
            let start = self.pos;
            if st.skip_value(self.input, &mut self.pos)? {
                return Ok(Raw {
                    format: Format::Json,
                    bytes: &self.input[start..self.pos],
                });
            }
            st.lazy = true;
            let r = self.skip_tokens();
            if let Inner::Json(st) = &mut self.inner {
                st.lazy = false;
            }
            return r;
        }
        self.skip_tokens()
    }

    /// Reads past the next value; returns its bytes and its first token (its type, and its
    /// length for containers that know it).
    pub fn skip_with_head(&mut self) -> Result<(Raw<'a>, Token<'a>), Error> {
        #[cfg(feature = "json")]
        if let Inner::Json(st) = &mut self.inner {
            // Containers: the fast skip; the head is the bracket.
            let start = st.value_start(self.input, &mut self.pos)?;
            let head = match self.input.get(start) {
                Some(b'[') => Some(Token::Array(None)),
                Some(b'{') => Some(Token::Map(None)),
                _ => None,
            };
            if let Some(head) = head {
                if st.skip_value(self.input, &mut self.pos)? {
                    let raw = Raw {
                        format: Format::Json,
                        bytes: &self.input[start..self.pos],
                    };
                    return Ok((raw, head));
                }
            }
        }
        let start = self.value_start()?;
        let head = self.next()?;
        let raw = match head {
            Token::Array(_) | Token::Map(_) => {
                // The rest of the container, as `skip` does.
                #[cfg(feature = "json")]
                if let Inner::Json(st) = &mut self.inner {
                    st.lazy = true;
                }
                let r = self.skip_rest(start, 1);
                #[cfg(feature = "json")]
                if let Inner::Json(st) = &mut self.inner {
                    st.lazy = false;
                }
                r?
            }
            Token::End => return Err(Error::new(ErrorKind::Arity, "more elements")),
            _ => Raw {
                format: self.format(),
                bytes: &self.input[start..self.pos],
            },
        };
        Ok((raw, head))
    }

    /// Reads tokens until the container opened at `start` (now `depth` deep) closes.
    fn skip_rest(&mut self, start: usize, mut depth: usize) -> Result<Raw<'a>, Error> {
        while depth > 0 {
            match self.next()? {
                Token::Array(_) | Token::Map(_) => depth += 1,
                Token::End => depth -= 1,
                _ => {}
            }
        }
        Ok(Raw {
            format: self.format(),
            bytes: &self.input[start..self.pos],
        })
    }

    fn skip_tokens(&mut self) -> Result<Raw<'a>, Error> {
        let start = self.value_start()?;
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Token::Array(_) | Token::Map(_) => depth += 1,
                Token::End => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or(Error::new(ErrorKind::Arity, "more elements"))?;
                }
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
        Ok(Raw {
            format: self.format(),
            bytes: &self.input[start..self.pos],
        })
    }

    /// Checks that nothing but (JSON) whitespace follows the value read.
    pub fn finish(&mut self) -> Result<(), Error> {
        #[cfg(feature = "json")]
        if let Inner::Json(_) = self.inner {
            while self.pos < self.input.len() && super::json::is_ws(self.input[self.pos]) {
                self.pos += 1;
            }
        }
        if self.pos == self.input.len() {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::Trailing, "the end of the message"))
        }
    }

    /// The next token, which must be a non-negative integer.
    pub fn u64(&mut self) -> Result<u64, Error> {
        match self.next()? {
            Token::U64(v) => Ok(v),
            // Some encoders write whole numbers as floats.
            Token::F64(f)
                if (0.0..=9_007_199_254_740_992.0).contains(&f) && f == (f as u64) as f64 =>
            {
                Ok(f as u64)
            }
            Token::End => Err(Error::new(ErrorKind::Arity, "more elements")),
            _ => Err(Error::new(ErrorKind::WrongType, "an integer")),
        }
    }

    /// The next token, which must be a string.
    pub fn str(&mut self) -> Result<Str<'a>, Error> {
        match self.next()? {
            Token::Str(s) => Ok(s),
            Token::End => Err(Error::new(ErrorKind::Arity, "more elements")),
            _ => Err(Error::new(ErrorKind::WrongType, "a string")),
        }
    }

    /// The next value, which must be a map.
    pub fn map(&mut self) -> Result<Raw<'a>, Error> {
        match self.skip_with_head()? {
            (raw, Token::Map(_)) => Ok(raw),
            _ => Err(Error::new(ErrorKind::WrongType, "a dictionary")),
        }
    }

    /// The next value, which must be an array.
    pub fn array(&mut self) -> Result<Raw<'a>, Error> {
        match self.skip_with_head()? {
            (raw, Token::Array(_)) => Ok(raw),
            _ => Err(Error::new(ErrorKind::WrongType, "a list")),
        }
    }

    /// If the next value is null, consumes it and says so (optional fields sent as null).
    pub fn null_next(&mut self) -> Result<bool, Error> {
        let is_null = match &mut self.inner {
            #[cfg(feature = "json")]
            Inner::Json(st) => {
                let start = st.value_start(self.input, &mut self.pos)?;
                self.input.get(start) == Some(&b'n')
            }
            #[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
            Inner::Counted(c) => {
                let b = self.input.get(self.pos).copied();
                match c.format {
                    Format::MsgPack => b == Some(0xC0),
                    Format::Cbor => matches!(b, Some(0xF6 | 0xF7)),
                    Format::Ubjson => b == Some(b'Z'),
                    Format::Json => false,
                }
            }
            Inner::Disabled => false,
        };
        if is_null {
            // Consumes it, checking it is what it looked like.
            if self.next()? != Token::Null {
                return Err(Error::syntax("null"));
            }
        }
        Ok(is_null)
    }

    /// The next token, which must be a boolean.
    pub fn bool(&mut self) -> Result<bool, Error> {
        match self.next()? {
            Token::Bool(b) => Ok(b),
            Token::End => Err(Error::new(ErrorKind::Arity, "more elements")),
            _ => Err(Error::new(ErrorKind::WrongType, "a boolean")),
        }
    }

    /// The input being read.
    pub fn input(&self) -> &'a [u8] {
        self.input
    }
}

#[cfg(any(feature = "msgpack", feature = "cbor", feature = "ubjson"))]
impl Counted {
    fn new(format: Format) -> Self {
        Self {
            format,
            left: [0; MAX_DEPTH],
            depth: 0,
            object: 0,
            key_next: 0,
        }
    }

    fn top_bit(&self) -> u64 {
        1u64 << (self.depth - 1)
    }

    fn at_end(&mut self, input: &[u8], pos: &mut usize) -> Result<bool, Error> {
        if self.depth == 0 {
            return Err(Error::new(ErrorKind::WrongType, "a container"));
        }
        let ended = match self.left[self.depth - 1] {
            INDEFINITE => match self.format {
                #[cfg(feature = "cbor")]
                Format::Cbor => input.get(*pos) == Some(&0xFF),
                // A UBJSON object closes only where a key could start.
                #[cfg(feature = "ubjson")]
                Format::Ubjson => {
                    let bit = self.top_bit();
                    if self.object & bit != 0 && self.key_next & bit == 0 {
                        false
                    } else {
                        super::ubjson::at_close(input, pos, self.object & bit != 0)?
                    }
                }
                _ => false,
            },
            n => n == 0,
        };
        if ended {
            self.close(input, pos)?;
        }
        Ok(ended)
    }

    /// Consumes the end of the innermost container.
    fn close(&mut self, input: &[u8], pos: &mut usize) -> Result<(), Error> {
        if self.left[self.depth - 1] == INDEFINITE {
            // CBOR's break byte, UBJSON's `]` or `}`.
            if *pos >= input.len() {
                return Err(Error::truncated());
            }
            *pos += 1;
        }
        self.depth -= 1;
        Ok(())
    }

    fn next<'a>(&mut self, input: &'a [u8], pos: &mut usize) -> Result<Token<'a>, Error> {
        if self.depth > 0 {
            if self.at_end(input, pos)? {
                return Ok(Token::End);
            }
            let left = &mut self.left[self.depth - 1];
            if *left != INDEFINITE {
                *left -= 1;
            }
        } else if *pos > 0 {
            return Err(Error::new(ErrorKind::Trailing, "the end of the value"));
        }
        let mut key = false;
        if self.depth > 0 {
            let bit = self.top_bit();
            if self.object & bit != 0 {
                key = self.key_next & bit != 0;
                self.key_next ^= bit;
            }
        }
        let t = match self.format {
            #[cfg(feature = "msgpack")]
            Format::MsgPack => super::msgpack::token(input, pos)?,
            #[cfg(feature = "cbor")]
            Format::Cbor => super::cbor::token(input, pos)?,
            #[cfg(feature = "ubjson")]
            Format::Ubjson => super::ubjson::token(input, pos, key)?,
            _ => return Err(Error::new(ErrorKind::Unsupported, "this serializer")),
        };
        if key && !matches!(t, Token::Str(_)) {
            return Err(Error::new(ErrorKind::WrongType, "a string key"));
        }
        let (n, per) = match t {
            Token::Array(n) => (n, 1),
            Token::Map(n) => (n, 2),
            _ => return Ok(t),
        };
        if self.depth == MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep, "fewer nested containers"));
        }
        let left = match n {
            None => INDEFINITE,
            // Every item takes at least one byte: a count beyond the input is a lie.
            Some(n)
                if n.saturating_mul(per) <= input.len() - *pos && n * per < INDEFINITE as usize =>
            {
                (n * per) as u32
            }
            Some(_) => return Err(Error::truncated()),
        };
        self.left[self.depth] = left;
        let bit = 1u64 << self.depth;
        if per == 2 {
            self.object |= bit;
            self.key_next |= bit;
        } else {
            self.object &= !bit;
        }
        self.depth += 1;
        Ok(t)
    }
}

/// Emits tokens in a format into an [`Out`].
pub struct Writer<'o, O: Out + ?Sized> {
    pub(crate) out: &'o mut O,
    pub(crate) format: Format,
    /// JSON: per open container, whether an element was written (a comma is due) and, for
    /// maps, whether the next item is a key.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) json: JsonNesting,
}

/// Separator state of the JSON writer.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
#[derive(Default)]
pub(crate) struct JsonNesting {
    pub(crate) depth: usize,
    /// Bit `d`: the container at depth `d` has an element.
    pub(crate) nonempty: u64,
    /// Bit `d`: the container at depth `d` is a map.
    pub(crate) map: u64,
    /// Bit `d`: in the map at depth `d`, the next item is a value.
    pub(crate) value_next: u64,
}

impl<'o, O: Out + ?Sized> Writer<'o, O> {
    /// A writer of `format` into `out`.
    pub fn new(format: Format, out: &'o mut O) -> Self {
        Self {
            out,
            format,
            json: JsonNesting::default(),
        }
    }

    /// The format written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes one token. Arrays and maps need their length for every format but JSON.
    pub fn token(&mut self, t: Token<'_>) -> Result<(), Error> {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => super::json::write(self, t),
            #[cfg(feature = "msgpack")]
            Format::MsgPack => super::msgpack::write(self.out, t),
            #[cfg(feature = "cbor")]
            Format::Cbor => super::cbor::write(self.out, t),
            #[cfg(feature = "ubjson")]
            Format::Ubjson => super::ubjson::write(self, t),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = t;
                Err(Error::new(ErrorKind::Unsupported, "this serializer"))
            }
        }
    }

    /// `null`.
    pub fn null(&mut self) -> Result<(), Error> {
        self.token(Token::Null)
    }

    /// A boolean.
    pub fn bool(&mut self, v: bool) -> Result<(), Error> {
        self.token(Token::Bool(v))
    }

    /// An unsigned integer.
    pub fn u64(&mut self, v: u64) -> Result<(), Error> {
        self.token(Token::U64(v))
    }

    /// A signed integer.
    pub fn i64(&mut self, v: i64) -> Result<(), Error> {
        if v >= 0 {
            self.token(Token::U64(v as u64))
        } else {
            self.token(Token::I64(v))
        }
    }

    /// A float.
    pub fn f64(&mut self, v: f64) -> Result<(), Error> {
        self.token(Token::F64(v))
    }

    /// A string.
    pub fn str(&mut self, s: &str) -> Result<(), Error> {
        self.token(Token::Str(Str::new(s)))
    }

    /// A byte string.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Error> {
        self.token(Token::Bytes(Bytes::new(b)))
    }

    /// An array of `len` elements begins; end it with [`end`](Self::end).
    pub fn array(&mut self, len: usize) -> Result<(), Error> {
        self.token(Token::Array(Some(len)))
    }

    /// A map of `len` entries begins; end it with [`end`](Self::end).
    pub fn map(&mut self, len: usize) -> Result<(), Error> {
        self.token(Token::Map(Some(len)))
    }

    /// The innermost array or map ends.
    pub fn end(&mut self) -> Result<(), Error> {
        self.token(Token::End)
    }

    /// A serialized value: copied when it is in this writer's format, transcoded otherwise.
    pub fn raw(&mut self, raw: Raw<'_>) -> Result<(), Error> {
        if raw.format == self.format {
            #[cfg(feature = "json")]
            if self.format == Format::Json {
                super::json::before_value(self)?;
                self.out.put(raw.bytes)?;
                return super::json::after_value(self);
            }
            self.out.put(raw.bytes)?;
            #[cfg(feature = "ubjson")]
            if self.format == Format::Ubjson {
                super::ubjson::flip(self)?;
            }
            return Ok(());
        }
        self.transcode(raw)
    }

    /// Re-emits `raw` token by token, counting elements first where the source does not
    /// know them and this format needs them.
    fn transcode(&mut self, raw: Raw<'_>) -> Result<(), Error> {
        let mut r = raw.reader();
        let mut depth = 0usize;
        loop {
            let start = r.value_start()?;
            let t = r.next()?;
            let t = match t {
                Token::Array(None) | Token::Map(None) if self.format != Format::Json => {
                    let rest = Raw {
                        format: raw.format,
                        bytes: &raw.bytes[start..],
                    };
                    let n = rest.len()?;
                    if matches!(t, Token::Array(_)) {
                        Token::Array(Some(n))
                    } else {
                        Token::Map(Some(n))
                    }
                }
                t => t,
            };
            match t {
                Token::Array(_) | Token::Map(_) => depth += 1,
                Token::End => depth -= 1,
                _ => {}
            }
            self.token(t)?;
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

/// A string's UTF-8 bytes, JSON escapes decoded through a small stack buffer.
#[allow(dead_code)]
pub(crate) fn put_str<O: Out + ?Sized>(out: &mut O, s: Str<'_>) -> Result<(), Error> {
    if let Some(plain) = s.as_str() {
        return out.put(plain.as_bytes());
    }
    let mut buf = [0u8; 64];
    let mut n = 0;
    for c in s.chars() {
        if n + 4 > buf.len() {
            out.put(&buf[..n])?;
            n = 0;
        }
        n += c.encode_utf8(&mut buf[n..]).len();
    }
    out.put(&buf[..n])
}

/// A byte string's bytes, base64 (from JSON) decoded through a small stack buffer.
#[allow(dead_code)]
pub(crate) fn put_bytes<O: Out + ?Sized>(out: &mut O, b: Bytes<'_>) -> Result<(), Error> {
    if let Some(plain) = b.as_slice() {
        return out.put(plain);
    }
    let mut buf = [0u8; 48];
    for chunk in b.raw().chunks(64) {
        let part = Bytes::json_base64(chunk);
        let d = part
            .decode_into(&mut buf)
            .ok_or(Error::syntax("base64 after \\u0000"))?;
        out.put(d)?;
    }
    Ok(())
}

/// An IEEE 754 half-precision value (RFC 8949, Appendix D), for CBOR and BJData. (`core` has
/// no `powi`; powers of two are built from their bits.)
#[allow(dead_code)]
pub(crate) fn half_to_f64(h: u16) -> f64 {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    let exp = (h >> 10) & 0x1F;
    let mant = (h & 0x3FF) as f64;
    let v = match exp {
        0 => mant * pow2(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (mant + 1024.0) * pow2(e as i32 - 25),
    };
    if h & 0x8000 != 0 {
        -v
    } else {
        v
    }
}
