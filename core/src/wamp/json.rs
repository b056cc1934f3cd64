//! JSON (`wamp.2.json`): a pull tokenizer over borrowed text and a writer.
//!
//! Hand-written because what WAMP needs of JSON is what the crates do not offer without a
//! heap: the byte span of every value (to pass payloads on untouched) and strings borrowed
//! with their escapes checked but not yet decoded. `serde-json-core` / `serde_json` decode
//! payloads into application types in the layers above; numbers are printed with `ryu` and
//! `itoa`. Binary values follow WAMP's convention: a string whose first character is U+0000
//! (`"\u0000"` in the text), then standard base64 of the bytes.
//!
//! Floats (a fraction or an exponent) need the `json-float` feature, on in `wamp-all`:
//! without it a device saves the float parser's and `ryu`'s tables (~25 KB of flash), such
//! numbers are [`ErrorKind::Unsupported`] when decoded, and payloads holding them are still
//! checked and passed on as bytes.
//!
//! Numbers: integers without fraction or exponent are read as `u64` / `i64` when they fit
//! (IDs up to 2^53 and full-range 64-bit payload integers round-trip), anything else as
//! `f64`. Non-finite floats cannot be written (JSON has none): they are an error. So is a
//! text string starting with U+0000 (from another serializer): in JSON it would read back as
//! a byte string.

use super::error::{Error, ErrorKind};
use super::out::Out;
use super::value::{Bytes, Str, Token, Writer, MAX_DEPTH};

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// What the innermost container expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Just opened: its first element, or its close.
    First,
    /// After an element: a comma or the close.
    Comma,
    /// After a comma: an element (a key in an object), not a close.
    Element,
    /// After a key: a colon.
    Colon,
    /// After a colon: the entry's value.
    Value,
}

/// Reader state: the open containers. Only the innermost one's expectation is kept: when a
/// container closes, its parent has just received an element, so it expects a comma or its
/// close, whatever it expected before.
#[derive(Clone)]
pub(crate) struct State {
    /// Bit `d`: the container at depth `d` is an object.
    object: u64,
    /// What the innermost container expects.
    top: Expect,
    depth: usize,
    /// The top-level value has been read.
    done: bool,
    /// Skipping: numbers are checked but not converted (their tokens are not looked at).
    pub(crate) lazy: bool,
}

/// A copy of the innermost level, as the code below reads it.
#[derive(Clone, Copy)]
struct Level {
    object: bool,
    expect: Expect,
}

impl State {
    pub(crate) fn new() -> Self {
        Self {
            object: 0,
            top: Expect::First,
            depth: 0,
            done: false,
            lazy: false,
        }
    }

    fn level(&self) -> Level {
        Level {
            object: self.object & (1u64 << (self.depth - 1)) != 0,
            expect: self.top,
        }
    }

    fn skip_ws(input: &[u8], pos: &mut usize) {
        while *pos < input.len() && is_ws(input[*pos]) {
            *pos += 1;
        }
    }

    fn peek(input: &[u8], pos: &mut usize) -> Result<u8, Error> {
        Self::skip_ws(input, pos);
        input.get(*pos).copied().ok_or(Error::truncated())
    }

    fn expect(&mut self, e: Expect) {
        self.top = e;
    }

    /// Consumes the separator before the next value, if any, and says where the value
    /// starts; never consumes a close.
    pub(crate) fn value_start(&mut self, input: &[u8], pos: &mut usize) -> Result<usize, Error> {
        let b = Self::peek(input, pos)?;
        if self.depth > 0 {
            match self.top {
                Expect::Comma if b == b',' => {
                    *pos += 1;
                    self.expect(Expect::Element);
                    Self::skip_ws(input, pos);
                }
                Expect::Colon if b == b':' => {
                    *pos += 1;
                    self.expect(Expect::Value);
                    Self::skip_ws(input, pos);
                }
                _ => {}
            }
        }
        Ok(*pos)
    }

    pub(crate) fn at_end(&mut self, input: &[u8], pos: &mut usize) -> Result<bool, Error> {
        if self.depth == 0 {
            return Err(Error::new(ErrorKind::WrongType, "a container"));
        }
        let lvl = self.level();
        let b = Self::peek(input, pos)?;
        let close = if lvl.object { b'}' } else { b']' };
        if b == close && matches!(lvl.expect, Expect::First | Expect::Comma) {
            *pos += 1;
            self.close();
            return Ok(true);
        }
        Ok(false)
    }

    fn close(&mut self) {
        self.depth -= 1;
        self.after_value();
    }

    /// The innermost container got an element (or a map entry its value).
    pub(crate) fn after_value(&mut self) {
        if self.depth > 0 {
            self.expect(Expect::Comma);
        } else {
            self.done = true;
        }
    }

    pub(crate) fn next<'a>(
        &mut self,
        input: &'a [u8],
        pos: &mut usize,
    ) -> Result<Token<'a>, Error> {
        if self.depth == 0 && self.done {
            return Err(Error::new(ErrorKind::Trailing, "the end of the value"));
        }
        let b = Self::peek(input, pos)?;
        if self.depth == 0 {
            return self.value(input, pos);
        }
        let lvl = self.level();
        let close = if lvl.object { b'}' } else { b']' };
        match lvl.expect {
            Expect::First | Expect::Comma if b == close => {
                *pos += 1;
                self.close();
                Ok(Token::End)
            }
            Expect::First | Expect::Element => self.element(input, pos),
            Expect::Comma => {
                if b != b',' {
                    return Err(Error::syntax("',' or the end of a container"));
                }
                *pos += 1;
                Self::peek(input, pos)?;
                self.element(input, pos)
            }
            Expect::Colon => {
                if b != b':' {
                    return Err(Error::syntax("':'"));
                }
                *pos += 1;
                Self::peek(input, pos)?;
                self.value(input, pos)
            }
            Expect::Value => self.value(input, pos),
        }
    }

    /// An element of the innermost container: in an object a key, which a colon follows.
    fn element<'a>(&mut self, input: &'a [u8], pos: &mut usize) -> Result<Token<'a>, Error> {
        if !self.level().object {
            return self.value(input, pos);
        }
        if input[*pos] != b'"' {
            return Err(Error::syntax("a string key"));
        }
        match string(input, pos)? {
            Token::Bytes(_) => Err(Error::new(ErrorKind::WrongType, "a string key")),
            t => {
                self.expect(Expect::Colon);
                Ok(t)
            }
        }
    }

    /// Skips the next value without producing tokens, when the reader stands before a value
    /// (`Ok(false)` when it does not, e.g. before a key or a close: the caller then falls
    /// back to tokens). Checks exactly what the tokenizer checks.
    pub(crate) fn skip_value(&mut self, input: &[u8], pos: &mut usize) -> Result<bool, Error> {
        let at_value = if self.depth == 0 {
            !self.done
        } else {
            match self.top {
                Expect::Value => true,
                Expect::First | Expect::Element => !self.level().object,
                _ => false,
            }
        };
        if !at_value {
            return Ok(false);
        }
        Self::skip_ws(input, pos);
        if self.depth > 0 && self.top == Expect::First && input.get(*pos) == Some(&b']') {
            // The close, not a value.
            return Ok(false);
        }
        skip_value(input, pos, MAX_DEPTH - self.depth)?;
        self.after_value();
        Ok(true)
    }

    fn value<'a>(&mut self, input: &'a [u8], pos: &mut usize) -> Result<Token<'a>, Error> {
        let b = *input.get(*pos).ok_or(Error::truncated())?;
        let t = match b {
            b'[' | b'{' => {
                if self.depth == MAX_DEPTH {
                    return Err(Error::new(ErrorKind::TooDeep, "fewer nested containers"));
                }
                *pos += 1;
                if b == b'{' {
                    self.object |= 1u64 << self.depth;
                } else {
                    self.object &= !(1u64 << self.depth);
                }
                self.top = Expect::First;
                self.depth += 1;
                return Ok(if b == b'{' {
                    Token::Map(None)
                } else {
                    Token::Array(None)
                });
            }
            b'"' => string(input, pos)?,
            b'-' | b'0'..=b'9' => number(input, pos, self.lazy)?,
            b't' => literal(input, pos, b"true", Token::Bool(true))?,
            b'f' => literal(input, pos, b"false", Token::Bool(false))?,
            b'n' => literal(input, pos, b"null", Token::Null)?,
            _ => return Err(Error::syntax("a JSON value")),
        };
        self.after_value();
        Ok(t)
    }
}

/// Moves past one value starting at `input[*pos]`, checking it as the tokenizer would but
/// without its per-token state: the hot path of passing payloads on (a router validates
/// every `Arguments`/`ArgumentsKw` it forwards). At most `max_depth` nested containers.
fn skip_value(input: &[u8], pos: &mut usize, max_depth: usize) -> Result<(), Error> {
    let mut i = *pos;
    // Bit `d`: the container at depth `d` is an object.
    let mut object: u64 = 0;
    let mut depth = 0usize;
    'value: loop {
        // A value starts at `i` (after whitespace).
        while i < input.len() && is_ws(input[i]) {
            i += 1;
        }
        let b = *input.get(i).ok_or(Error::truncated())?;
        match b {
            b'[' | b'{' => {
                if depth == max_depth {
                    return Err(Error::new(ErrorKind::TooDeep, "fewer nested containers"));
                }
                i += 1;
                let is_object = b == b'{';
                if is_object {
                    object |= 1u64 << depth;
                } else {
                    object &= !(1u64 << depth);
                }
                depth += 1;
                while i < input.len() && is_ws(input[i]) {
                    i += 1;
                }
                let c = *input.get(i).ok_or(Error::truncated())?;
                if c == if is_object { b'}' } else { b']' } {
                    i += 1;
                    depth -= 1;
                } else {
                    if is_object {
                        i = skip_key(input, i)?;
                    }
                    continue 'value;
                }
            }
            b'"' => {
                string(input, &mut i)?;
            }
            b'-' | b'0'..=b'9' => {
                number(input, &mut i, true)?;
            }
            b't' => {
                literal(input, &mut i, b"true", Token::Bool(true))?;
            }
            b'f' => {
                literal(input, &mut i, b"false", Token::Bool(false))?;
            }
            b'n' => {
                literal(input, &mut i, b"null", Token::Null)?;
            }
            _ => return Err(Error::syntax("a JSON value")),
        }
        // After a value: a comma (then the next element) or closes.
        loop {
            if depth == 0 {
                *pos = i;
                return Ok(());
            }
            while i < input.len() && is_ws(input[i]) {
                i += 1;
            }
            let c = *input.get(i).ok_or(Error::truncated())?;
            let is_object = object & (1u64 << (depth - 1)) != 0;
            if c == b',' {
                i += 1;
                if is_object {
                    while i < input.len() && is_ws(input[i]) {
                        i += 1;
                    }
                    if *input.get(i).ok_or(Error::truncated())? != b'"' {
                        return Err(Error::syntax("a string key"));
                    }
                    i = skip_key(input, i)?;
                }
                continue 'value;
            }
            if c != if is_object { b'}' } else { b']' } {
                return Err(Error::syntax("',' or the end of a container"));
            }
            i += 1;
            depth -= 1;
        }
    }
}

/// Moves past an object key at `input[i]` and the colon after it.
fn skip_key(input: &[u8], mut i: usize) -> Result<usize, Error> {
    if input[i] != b'"' {
        return Err(Error::syntax("a string key"));
    }
    if let Token::Bytes(_) = string(input, &mut i)? {
        return Err(Error::new(ErrorKind::WrongType, "a string key"));
    }
    while i < input.len() && is_ws(input[i]) {
        i += 1;
    }
    match input.get(i) {
        Some(b':') => Ok(i + 1),
        Some(_) => Err(Error::syntax("':'")),
        None => Err(Error::truncated()),
    }
}

/// Whether any of the eight bytes in `x` is a quote, a backslash, a control character or
/// not ASCII: the bytes a string scan must stop at. (Bit tricks from "Bit Twiddling Hacks":
/// `has_less` and `has_zero` on each byte; false positives only stop the fast scan early.)
#[inline]
fn special_in(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    let q = x ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let e = x ^ (ONES * b'\\' as u64);
    let backslash = e.wrapping_sub(ONES) & !e;
    (x | control | quote | backslash) & HIGH != 0
}

fn literal<'a>(
    input: &[u8],
    pos: &mut usize,
    word: &[u8],
    t: Token<'a>,
) -> Result<Token<'a>, Error> {
    let end = *pos + word.len();
    match input.get(*pos..end) {
        Some(w) if w == word => {
            *pos = end;
            Ok(t)
        }
        Some(_) => Err(Error::syntax("true, false or null")),
        None => Err(Error::truncated()),
    }
}

fn number<'a>(input: &[u8], pos: &mut usize, lazy: bool) -> Result<Token<'a>, Error> {
    let start = *pos;
    let mut i = start;
    let neg = input[i] == b'-';
    if neg {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < input.len() && input[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 {
        return Err(if i == input.len() {
            Error::truncated()
        } else {
            Error::syntax("a digit")
        });
    }
    if n > 1 && input[int_start] == b'0' {
        return Err(Error::syntax("no leading zeros"));
    }
    let mut float = false;
    if input.get(i) == Some(&b'.') {
        i += 1;
        float = true;
        if digits(&mut i) == 0 {
            return Err(Error::syntax("a digit after '.'"));
        }
    }
    if matches!(input.get(i), Some(b'e' | b'E')) {
        i += 1;
        float = true;
        if matches!(input.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return Err(Error::syntax("a digit in the exponent"));
        }
    }
    *pos = i;
    if lazy {
        return Ok(Token::Null);
    }
    if !float {
        // Accumulate the digits; on overflow fall through to f64.
        let mut v: u64 = 0;
        let mut fits = true;
        for &d in &input[int_start..i] {
            match v
                .checked_mul(10)
                .and_then(|x| x.checked_add((d - b'0') as u64))
            {
                Some(x) => v = x,
                None => {
                    fits = false;
                    break;
                }
            }
        }
        if fits && !neg {
            return Ok(Token::U64(v));
        }
        if fits && v == 0 {
            return Ok(Token::U64(0));
        }
        if fits && v <= i64::MAX as u64 + 1 {
            return Ok(Token::I64((v as i64).wrapping_neg()));
        }
    }
    parse_float(&input[start..i])
}

/// A number that is not a 64-bit integer, as `f64`.
#[cfg(feature = "json-float")]
fn parse_float<'a>(text: &[u8]) -> Result<Token<'a>, Error> {
    // ASCII digits, signs, '.', 'e': valid UTF-8.
    let text = core::str::from_utf8(text).map_err(|_| Error::syntax("a number"))?;
    text.parse::<f64>()
        .map(Token::F64)
        .map_err(|_| Error::syntax("a number"))
}

/// Without `json-float`, fractions and exponents are refused (a device saves the float
/// parser's tables).
#[cfg(not(feature = "json-float"))]
fn parse_float<'a>(_: &[u8]) -> Result<Token<'a>, Error> {
    Err(Error::new(
        ErrorKind::Unsupported,
        "an integer (JSON floats need the json-float feature)",
    ))
}

/// Reads a string starting at the opening quote; checks escapes and UTF-8.
fn string<'a>(input: &'a [u8], pos: &mut usize) -> Result<Token<'a>, Error> {
    let start = *pos + 1;
    let mut i = start;
    let mut escaped = false;
    let mut ascii = true;
    loop {
        // Plain ASCII, eight bytes at a time.
        while let Some(chunk) = input.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            if special_in(x) {
                break;
            }
            i += 8;
        }
        let b = *input.get(i).ok_or(Error::truncated())?;
        match b {
            b'"' => break,
            0x20..=0x7F if b != b'\\' => i += 1,
            b'\\' => {
                escaped = true;
                let e = *input.get(i + 1).ok_or(Error::truncated())?;
                i += match e {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                    b'u' => {
                        let hi = hex(input, i + 2)?;
                        if (0xDC00..0xE000).contains(&hi) {
                            return Err(Error::syntax("no lone low surrogate"));
                        }
                        if (0xD800..0xDC00).contains(&hi) {
                            if input.get(i + 6..i + 8) != Some(b"\\u") {
                                return Err(Error::syntax("a low surrogate"));
                            }
                            let lo = hex(input, i + 8)?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err(Error::syntax("a low surrogate"));
                            }
                            12
                        } else {
                            6
                        }
                    }
                    _ => return Err(Error::syntax("a JSON escape")),
                };
            }
            0x00..=0x1F => return Err(Error::syntax("no control characters in strings")),
            _ => {
                ascii = false;
                i += 1;
            }
        }
    }
    let raw = &input[start..i];
    *pos = i + 1;
    if !ascii && simdutf8::basic::from_utf8(raw).is_err() {
        return Err(Error::syntax("UTF-8"));
    }
    if escaped {
        if let Some(b64) = raw.strip_prefix(b"\\u0000") {
            check_base64(b64)?;
            return Ok(Token::Bytes(Bytes::json_base64(b64)));
        }
        return Ok(Token::Str(Str::json_escaped(raw)));
    }
    Ok(Token::Str(Str::utf8(raw)))
}

fn hex(input: &[u8], at: usize) -> Result<u32, Error> {
    let digits = input.get(at..at + 4).ok_or(Error::truncated())?;
    let mut v = 0;
    for &d in digits {
        v = v * 16
            + (d as char)
                .to_digit(16)
                .ok_or(Error::syntax("four hex digits"))?;
    }
    Ok(v)
}

fn check_base64(b: &[u8]) -> Result<(), Error> {
    let body = b.iter().rposition(|&c| c != b'=').map_or(0, |p| p + 1);
    let ok = b.len() % 4 == 0
        && b.len() - body <= 2
        && b[..body]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
    if ok {
        Ok(())
    } else {
        Err(Error::syntax("base64 after \\u0000"))
    }
}

// ---- writing ------------------------------------------------------------------------------

/// Writes the separator a value needs before it (`,` or `:`).
pub(crate) fn before_value<O: Out + ?Sized>(w: &mut Writer<'_, O>) -> Result<(), Error> {
    let n = &mut w.json;
    if n.depth == 0 {
        return Ok(());
    }
    let bit = 1u64 << (n.depth - 1);
    if n.map & bit != 0 && n.value_next & bit != 0 {
        w.out.put_byte(b':')
    } else if n.nonempty & bit != 0 {
        w.out.put_byte(b',')
    } else {
        Ok(())
    }
}

/// Records that a value (or key) was written in the innermost container.
pub(crate) fn after_value<O: Out + ?Sized>(w: &mut Writer<'_, O>) -> Result<(), Error> {
    let n = &mut w.json;
    if n.depth > 0 {
        let bit = 1u64 << (n.depth - 1);
        n.nonempty |= bit;
        if n.map & bit != 0 {
            n.value_next ^= bit;
        }
    }
    Ok(())
}

pub(crate) fn write<O: Out + ?Sized>(w: &mut Writer<'_, O>, t: Token<'_>) -> Result<(), Error> {
    if let Token::End = t {
        let n = &mut w.json;
        if n.depth == 0 {
            return Err(Error::new(ErrorKind::WrongType, "an open container to end"));
        }
        let bit = 1u64 << (n.depth - 1);
        let close = if n.map & bit != 0 { b'}' } else { b']' };
        n.depth -= 1;
        w.out.put_byte(close)?;
        return after_value(w);
    }
    before_value(w)?;
    match t {
        Token::Null => w.out.put(b"null")?,
        Token::Bool(b) => w.out.put(if b { b"true" } else { b"false" })?,
        Token::U64(v) => w.out.put(itoa::Buffer::new().format(v).as_bytes())?,
        Token::I64(v) => w.out.put(itoa::Buffer::new().format(v).as_bytes())?,
        Token::F64(v) => {
            if !v.is_finite() {
                return Err(Error::new(ErrorKind::OutOfRange, "a finite number"));
            }
            #[cfg(feature = "json-float")]
            w.out.put(ryu::Buffer::new().format_finite(v).as_bytes())?;
            #[cfg(not(feature = "json-float"))]
            return Err(Error::new(
                ErrorKind::Unsupported,
                "an integer (JSON floats need the json-float feature)",
            ));
        }
        Token::Str(s) => {
            if s.chars().next() == Some('\0') {
                // It would read back as a byte string (WAMP's JSON convention).
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "a JSON string not starting with U+0000",
                ));
            }
            w.out.put_byte(b'"')?;
            if s.is_escaped() {
                // Escapes checked when read: valid JSON as it is.
                w.out.put(s.raw())?;
            } else {
                escape(w.out, s.raw())?;
            }
            w.out.put_byte(b'"')?;
        }
        Token::Bytes(b) => {
            w.out.put(b"\"\\u0000")?;
            if b.is_base64() {
                w.out.put(b.raw())?;
            } else {
                base64_into(w.out, b.raw())?;
            }
            w.out.put_byte(b'"')?;
        }
        Token::Array(_) | Token::Map(_) => {
            let n = &mut w.json;
            if n.depth == MAX_DEPTH {
                return Err(Error::new(ErrorKind::TooDeep, "fewer nested containers"));
            }
            let bit = 1u64 << n.depth;
            n.nonempty &= !bit;
            n.value_next &= !bit;
            if matches!(t, Token::Map(_)) {
                n.map |= bit;
                w.out.put_byte(b'{')?;
            } else {
                n.map &= !bit;
                w.out.put_byte(b'[')?;
            }
            n.depth += 1;
            return Ok(());
        }
        Token::End => unreachable!("handled above"),
    }
    after_value(w)
}

/// Writes string contents with JSON escapes (quote, backslash, control characters).
fn escape<O: Out + ?Sized>(out: &mut O, s: &[u8]) -> Result<(), Error> {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1F => b"",
            _ => continue,
        };
        out.put(&s[start..i])?;
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.put(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ])?;
        } else {
            out.put(esc)?;
        }
        start = i + 1;
    }
    out.put(&s[start..])
}

/// Standard padded base64 of `data`, in pieces through a stack buffer.
pub(crate) fn base64_into<O: Out + ?Sized>(out: &mut O, data: &[u8]) -> Result<(), Error> {
    use base64::Engine;
    let mut buf = [0u8; 256];
    for chunk in data.chunks(192) {
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(chunk, &mut buf)
            .map_err(|_| Error::full())?;
        out.put(&buf[..n])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::out::SliceOut;
    use super::super::value::{Format, Raw, Reader};
    use super::*;

    fn tokens(s: &str) -> Result<([Option<Token<'_>>; 16], usize), Error> {
        let mut r = Reader::new(Format::Json, s.as_bytes());
        let mut out = [None; 16];
        let mut n = 0;
        let mut depth = 0i32;
        loop {
            let t = r.next()?;
            match t {
                Token::Array(_) | Token::Map(_) => depth += 1,
                Token::End => depth -= 1,
                _ => {}
            }
            out[n] = Some(t);
            n += 1;
            if depth == 0 {
                r.finish()?;
                return Ok((out, n));
            }
        }
    }

    /// Skips one value with the tokenizer: where it ends, or whether it fails.
    fn skip_by_tokens(input: &[u8]) -> Result<usize, Error> {
        let mut st = State::new();
        st.lazy = true;
        let mut pos = 0;
        loop {
            st.next(input, &mut pos)?;
            if st.depth == 0 {
                return Ok(pos);
            }
        }
    }

    /// JSON-like text: mostly well formed, with bad strings, numbers and keys among the
    /// leaves, so both paths see valid and invalid input of every kind.
    fn json_like() -> impl proptest::strategy::Strategy<Value = std::string::String> {
        use proptest::prelude::*;
        const LEAVES: &[&str] = &[
            "\"a\"",
            "\"\\u0000AAE=\"",
            "\"\\u0000A\"",
            "\"x\\n\"",
            "\"\\q\"",
            "\"\u{e9}\"",
            "\"\u{1}\"",
            "\"0123456789abcdef\\\"\"",
            "1",
            "-0",
            "01",
            "2.5e3",
            "1.",
            "-",
            "true",
            "tru",
            "null",
            "false",
            "x",
            "\"\\ud800\"",
        ];
        let leaf = proptest::sample::select(LEAVES).prop_map(std::string::String::from);
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| std::format!("[{}]", v.join(","))),
                proptest::collection::vec((proptest::sample::select(LEAVES), inner), 0..6)
                    .prop_map(|v| {
                        let body: std::vec::Vec<_> =
                            v.iter().map(|(k, v)| std::format!("{k} : {v}")).collect();
                        std::format!("{{{}}}", body.join(","))
                    }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// The fast skip accepts and refuses what the tokenizer does, and ends where it does,
        /// also on text cut short or with a byte changed.
        #[test]
        fn fast_skip_agrees_with_the_tokenizer(
            text in json_like(),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            change in proptest::option::of((
                proptest::prelude::any::<proptest::sample::Index>(),
                proptest::sample::select(&b"[]{},:\" \\0"[..]),
            )),
        ) {
            let mut input = text.into_bytes();
            if let Some((at, b)) = change {
                if !input.is_empty() {
                    let i = at.index(input.len());
                    input[i] = b;
                }
            }
            if cut.index(8) == 0 {
                input.truncate(cut.index(input.len() + 1));
            }
            let mut pos = 0;
            let fast = skip_value(&input, &mut pos, MAX_DEPTH).map(|()| pos);
            let slow = skip_by_tokens(&input);
            proptest::prop_assert_eq!(
                fast.is_ok(), slow.is_ok(),
                "{:?}: {:?} vs {:?}", std::string::String::from_utf8_lossy(&input), fast, slow
            );
            if let (Ok(a), Ok(b)) = (fast, slow) {
                proptest::prop_assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn fast_skip_sees_specials_in_every_lane() {
        for lane in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1F, 0x80, 0xFF] {
                let mut x = [b'a'; 8];
                x[lane] = special;
                assert!(special_in(u64::from_le_bytes(x)), "{special:#x} at {lane}");
            }
        }
        assert!(!special_in(u64::from_le_bytes(*b" !#[]~\x7f ")));
    }

    #[test]
    fn reads_nested_values() {
        let (t, n) = tokens(r#" [1, -2, 3.5, "a\"b", {"k": [true, null]}, [] ] "#).unwrap();
        assert_eq!(n, 15);
        assert_eq!(t[1], Some(Token::U64(1)));
        assert_eq!(t[2], Some(Token::I64(-2)));
        assert_eq!(t[3], Some(Token::F64(3.5)));
        match t[4] {
            Some(Token::Str(s)) => assert!(s.eq_str("a\"b")),
            other => panic!("{other:?}"),
        }
        assert_eq!(t[5], Some(Token::Map(None)));
        assert_eq!(t[13], Some(Token::End));
    }

    #[test]
    fn rejects_bad_json() {
        for bad in [
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "[01]",
            "[1.]",
            "\"\\x\"",
            "\"\\ud800\"",
            "[\"a\u{1}\"]",
            "[1] 2",
            "[",
            "{\"a\":",
            "tru",
            "[-]",
            "{\"a\":1,}",
        ] {
            assert!(tokens(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_keep_their_range() {
        let (t, _) =
            tokens("[18446744073709551615, -9223372036854775808, 9007199254740993]").unwrap();
        assert_eq!(t[1], Some(Token::U64(u64::MAX)));
        assert_eq!(t[2], Some(Token::I64(i64::MIN)));
        assert_eq!(t[3], Some(Token::U64(9_007_199_254_740_993)));
    }

    #[test]
    fn skip_returns_the_span_and_binary_is_base64() {
        let text = br#"[ {"a": [1, 2]} , "\u0000AQID" ]"#;
        let mut r = Reader::new(Format::Json, text);
        assert_eq!(r.next().unwrap(), Token::Array(None));
        assert_eq!(r.skip().unwrap().bytes, br#"{"a": [1, 2]}"#);
        match r.next().unwrap() {
            Token::Bytes(b) => {
                let mut buf = [0u8; 8];
                assert_eq!(b.decode_into(&mut buf).unwrap(), &[1, 2, 3]);
            }
            other => panic!("{other:?}"),
        }
        assert!(r.at_end().unwrap());
    }

    #[test]
    fn base64_with_trailing_bits_is_read_and_transcoded() {
        // "AQ7=" has non-zero bits after its two bytes; Python's decoder accepts it.
        let mut r = Reader::new(Format::Json, br#""\u0000AQ7=""#);
        let Token::Bytes(b) = r.next().unwrap() else {
            panic!()
        };
        let mut buf = [0u8; 4];
        assert_eq!(b.decode_into(&mut buf).unwrap(), &[0x01, 0x0E]);
    }

    #[test]
    fn writes_and_escapes() {
        let mut buf = [0u8; 128];
        let mut out = SliceOut::new(&mut buf);
        let mut w = Writer::new(Format::Json, &mut out);
        w.array(5).unwrap();
        w.str("q\"\n\u{1}").unwrap();
        w.map(1).unwrap();
        w.str("k").unwrap();
        w.i64(-5).unwrap();
        w.end().unwrap();
        w.bytes(&[1, 2, 3]).unwrap();
        w.f64(0.5).unwrap();
        w.raw(Raw {
            format: Format::Json,
            bytes: b"[1,{}]",
        })
        .unwrap();
        w.end().unwrap();
        assert_eq!(
            core::str::from_utf8(out.as_slice()).unwrap(),
            r#"["q\"\n\u0001",{"k":-5},"\u0000AQID",0.5,[1,{}]]"#
        );
    }
}
