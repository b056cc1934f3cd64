//! `wamp.2.ubjson` as Autobahn|Python and Crossbar.io speak it today: Binary JData
//! (BJData, the `bjdata` package, which replaced the unmaintained `py-ubjson` in Autobahn).
//! BJData is UBJSON with little-endian numbers, unsigned integer markers (`u` 16, `m` 32,
//! `M` 64 bits) and a byte type (`[$B#n` for a byte string). It is *not* byte-compatible
//! with ubjson.org's big-endian draft 12; we follow the reference implementation, as the
//! peers on the other end of a WAMP connection are Autobahn and Crossbar. No well-kept Rust
//! crate implements either, and the format is small: markers `Z N T F i U I u l m L M h d D
//! H C S [ ] { }`, object keys without the `S` marker, optimized headers (`$type`, `#count`).
//!
//! Reading: counted containers (`[#n`, `{#n`), and `[$B#n` / `[$U#n` as byte strings;
//! other strongly typed containers are refused. `N` (no-op) is skipped where a value may
//! start. `H` (high-precision number) reads as an integer when it is one, else a float.
//! Writing, as `bjdata` does: containers with end markers, integers in the smallest marker,
//! floats as `D`, strings as `S`, byte strings as `[$B#n`.

use super::error::{Error, ErrorKind};
use super::out::Out;
use super::value::{half_to_f64, put_bytes, put_str, Bytes, Str, Token, Writer, MAX_DEPTH};

fn byte(input: &[u8], pos: &mut usize) -> Result<u8, Error> {
    let b = *input.get(*pos).ok_or(Error::truncated())?;
    *pos += 1;
    Ok(b)
}

fn take<'a>(input: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], Error> {
    let end = pos.checked_add(n).ok_or(Error::truncated())?;
    let s = input.get(*pos..end).ok_or(Error::truncated())?;
    *pos = end;
    Ok(s)
}

fn skip_noop(input: &[u8], pos: &mut usize) {
    while input.get(*pos) == Some(&b'N') {
        *pos += 1;
    }
}

/// An integer after its marker `m` (little-endian).
fn int_of(input: &[u8], pos: &mut usize, m: u8) -> Result<Token<'static>, Error> {
    fn le<const N: usize>(input: &[u8], pos: &mut usize) -> Result<[u8; N], Error> {
        let mut b = [0u8; N];
        b.copy_from_slice(take(input, pos, N)?);
        Ok(b)
    }
    let signed = |v: i64| {
        if v >= 0 {
            Token::U64(v as u64)
        } else {
            Token::I64(v)
        }
    };
    Ok(match m {
        b'i' => signed(le::<1>(input, pos)?[0] as i8 as i64),
        b'U' => Token::U64(le::<1>(input, pos)?[0] as u64),
        b'I' => signed(i16::from_le_bytes(le(input, pos)?) as i64),
        b'u' => Token::U64(u16::from_le_bytes(le(input, pos)?) as u64),
        b'l' => signed(i32::from_le_bytes(le(input, pos)?) as i64),
        b'm' => Token::U64(u32::from_le_bytes(le(input, pos)?) as u64),
        b'L' => signed(i64::from_le_bytes(le(input, pos)?)),
        b'M' => Token::U64(u64::from_le_bytes(le(input, pos)?)),
        _ => return Err(Error::syntax("a BJData integer marker")),
    })
}

/// A length: an integer with its marker, not negative.
fn length(input: &[u8], pos: &mut usize) -> Result<usize, Error> {
    let m = byte(input, pos)?;
    match int_of(input, pos, m)? {
        Token::U64(n) => usize::try_from(n).map_err(|_| Error::truncated()),
        _ => Err(Error::syntax("a non-negative length")),
    }
}

fn string<'a>(input: &'a [u8], pos: &mut usize) -> Result<Str<'a>, Error> {
    let n = length(input, pos)?;
    let b = take(input, pos, n)?;
    Ok(Str::new(
        simdutf8::basic::from_utf8(b).map_err(|_| Error::syntax("UTF-8"))?,
    ))
}

/// Whether the innermost container without a count closes here (after no-ops).
pub(crate) fn at_close(input: &[u8], pos: &mut usize, object: bool) -> Result<bool, Error> {
    skip_noop(input, pos);
    match input.get(*pos) {
        None => Err(Error::truncated()),
        Some(b']') if !object => Ok(true),
        Some(b'}') if object => Ok(true),
        Some(b']' | b'}') => Err(Error::syntax("the matching close")),
        Some(_) => Ok(false),
    }
}

/// The next token; `key`: an object key is due (a string without its `S`).
pub(crate) fn token<'a>(input: &'a [u8], pos: &mut usize, key: bool) -> Result<Token<'a>, Error> {
    skip_noop(input, pos);
    if key {
        return Ok(Token::Str(string(input, pos)?));
    }
    let m = byte(input, pos)?;
    Ok(match m {
        b'Z' => Token::Null,
        b'T' => Token::Bool(true),
        b'F' => Token::Bool(false),
        b'i' | b'U' | b'I' | b'u' | b'l' | b'm' | b'L' | b'M' => int_of(input, pos, m)?,
        b'h' => {
            let b = take(input, pos, 2)?;
            Token::F64(half_to_f64(u16::from_le_bytes([b[0], b[1]])))
        }
        b'd' => {
            let b = take(input, pos, 4)?;
            Token::F64(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
        }
        b'D' => {
            let mut a = [0u8; 8];
            a.copy_from_slice(take(input, pos, 8)?);
            Token::F64(f64::from_le_bytes(a))
        }
        b'H' => {
            let s = string(input, pos)?;
            let text = s.as_str().unwrap_or("");
            if let Ok(v) = text.parse::<u64>() {
                Token::U64(v)
            } else if let Ok(v) = text.parse::<i64>() {
                Token::I64(v)
            } else {
                Token::F64(
                    text.parse::<f64>()
                        .map_err(|_| Error::syntax("a number after H"))?,
                )
            }
        }
        b'C' => {
            let c = take(input, pos, 1)?;
            if c[0] >= 0x80 {
                return Err(Error::syntax("an ASCII char after C"));
            }
            // One ASCII byte is valid UTF-8.
            Token::Str(Str::new(
                core::str::from_utf8(c).map_err(|_| Error::syntax("ASCII"))?,
            ))
        }
        b'S' => Token::Str(string(input, pos)?),
        b'[' | b'{' => {
            let object = m == b'{';
            match input.get(*pos) {
                Some(b'$') => {
                    *pos += 1;
                    let ty = byte(input, pos)?;
                    if byte(input, pos)? != b'#' {
                        return Err(Error::syntax("'#' after a container type"));
                    }
                    let n = length(input, pos)?;
                    if (ty == b'B' || ty == b'U') && !object {
                        return Ok(Token::Bytes(Bytes::new(take(input, pos, n)?)));
                    }
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "typed UBJSON containers other than bytes",
                    ));
                }
                Some(b'#') => {
                    *pos += 1;
                    let n = length(input, pos)?;
                    if object {
                        Token::Map(Some(n))
                    } else {
                        Token::Array(Some(n))
                    }
                }
                _ => {
                    if object {
                        Token::Map(None)
                    } else {
                        Token::Array(None)
                    }
                }
            }
        }
        _ => return Err(Error::syntax("a UBJSON marker")),
    })
}

/// An integer in the smallest marker, as `bjdata` picks it.
fn int<O: Out + ?Sized>(out: &mut O, t: Token<'_>) -> Result<(), Error> {
    let mut b = [0u8; 9];
    let n = match t {
        Token::U64(v) => {
            if v <= 0xFF {
                b[0] = b'U';
                b[1] = v as u8;
                2
            } else if v <= 0xFFFF {
                b[0] = b'u';
                b[1..3].copy_from_slice(&(v as u16).to_le_bytes());
                3
            } else if v <= 0xFFFF_FFFF {
                b[0] = b'm';
                b[1..5].copy_from_slice(&(v as u32).to_le_bytes());
                5
            } else {
                b[0] = b'M';
                b[1..9].copy_from_slice(&v.to_le_bytes());
                9
            }
        }
        Token::I64(v) => {
            if v >= -128 {
                b[0] = b'i';
                b[1] = v as i8 as u8;
                2
            } else if v >= -32768 {
                b[0] = b'I';
                b[1..3].copy_from_slice(&(v as i16).to_le_bytes());
                3
            } else if v >= i32::MIN as i64 {
                b[0] = b'l';
                b[1..5].copy_from_slice(&(v as i32).to_le_bytes());
                5
            } else {
                b[0] = b'L';
                b[1..9].copy_from_slice(&v.to_le_bytes());
                9
            }
        }
        _ => return Err(Error::new(ErrorKind::WrongType, "an integer")),
    };
    out.put(&b[..n])
}

fn len<O: Out + ?Sized>(out: &mut O, n: usize) -> Result<(), Error> {
    int(out, Token::U64(n as u64))
}

pub(crate) fn write<O: Out + ?Sized>(w: &mut Writer<'_, O>, t: Token<'_>) -> Result<(), Error> {
    let n = &mut w.json;
    let bit = if n.depth > 0 {
        1u64 << (n.depth - 1)
    } else {
        0
    };
    let key = n.map & bit != 0 && n.value_next & bit == 0;
    if key {
        // An object key: length and bytes, no marker.
        let Token::Str(s) = t else {
            if let Token::End = t {
                n.depth -= 1;
                return w.out.put(b"}").and_then(|()| flip(w));
            }
            return Err(Error::new(ErrorKind::WrongType, "a string key"));
        };
        len(w.out, s.len())?;
        put_str(w.out, s)?;
        return flip(w);
    }
    match t {
        Token::Null => w.out.put(b"Z")?,
        Token::Bool(b) => w.out.put(if b { b"T" } else { b"F" })?,
        Token::U64(_) | Token::I64(_) => int(w.out, t)?,
        Token::F64(v) => {
            let mut b = [0u8; 9];
            b[0] = b'D';
            b[1..].copy_from_slice(&v.to_le_bytes());
            w.out.put(&b)?;
        }
        Token::Str(s) => {
            w.out.put(b"S")?;
            len(w.out, s.len())?;
            put_str(w.out, s)?;
        }
        Token::Bytes(b) => {
            w.out.put(b"[$B#")?;
            len(w.out, b.len())?;
            put_bytes(w.out, b)?;
        }
        Token::Array(_) | Token::Map(_) => {
            let n = &mut w.json;
            if n.depth == MAX_DEPTH {
                return Err(Error::new(ErrorKind::TooDeep, "fewer nested containers"));
            }
            let bit = 1u64 << n.depth;
            n.value_next &= !bit;
            if matches!(t, Token::Map(_)) {
                n.map |= bit;
            } else {
                n.map &= !bit;
            }
            n.depth += 1;
            return w.out.put(if n.map & bit != 0 { b"{" } else { b"[" });
        }
        Token::End => {
            let n = &mut w.json;
            if n.depth == 0 || n.map & (1u64 << (n.depth - 1)) != 0 {
                // (A map ends at a key position, handled above.)
                return Err(Error::new(ErrorKind::WrongType, "an open container to end"));
            }
            n.depth -= 1;
            w.out.put(b"]")?;
        }
    }
    flip(w)
}

/// A value was written: in a map, keys and values alternate.
pub(crate) fn flip<O: Out + ?Sized>(w: &mut Writer<'_, O>) -> Result<(), Error> {
    let n = &mut w.json;
    if n.depth > 0 {
        let bit = 1u64 << (n.depth - 1);
        if n.map & bit != 0 {
            n.value_next ^= bit;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::out::SliceOut;
    use super::super::value::{Format, Raw, Reader};
    use super::*;

    #[test]
    #[cfg(feature = "json")]
    fn writes_what_bjdata_writes() {
        // bjdata 0.6.6: dumpb([1, -1, 300, 70000, 2**40, -2**40, {"ab": "c"}, b"\x01\x02",
        // None, True, 2**64 - 1, "x"]) (a one-character string is written as C).
        let json = Raw {
            format: Format::Json,
            bytes: br#"[1,-1,300,70000,1099511627776,-1099511627776,{"ab":"c"},"\u0000AQI=",null,true,18446744073709551615,"xy"]"#,
        };
        let mut buf = [0u8; 160];
        let mut out = SliceOut::new(&mut buf);
        Writer::new(Format::Ubjson, &mut out).raw(json).unwrap();
        let want: &[u8] = b"[U\x01i\xffu,\x01mp\x11\x01\x00M\x00\x00\x00\x00\x00\x01\x00\x00L\x00\x00\x00\x00\x00\xff\xff\xff{U\x02abSU\x01c}[$B#U\x02\x01\x02ZTM\xff\xff\xff\xff\xff\xff\xff\xffSU\x02xy]";
        assert_eq!(out.as_slice(), want);
        // And back.
        let ub = Raw {
            format: Format::Ubjson,
            bytes: want,
        };
        let mut back = [0u8; 160];
        let mut out2 = SliceOut::new(&mut back);
        Writer::new(Format::Json, &mut out2).raw(ub).unwrap();
        assert_eq!(out2.as_slice(), json.bytes);
    }

    #[test]
    fn counted_containers_and_noops() {
        let bytes = b"[#U\x02NCx{#U\x01U\x01kZ";
        let mut r = Reader::new(Format::Ubjson, bytes);
        let raw = r.skip().unwrap();
        r.finish().unwrap();
        assert_eq!(raw.len().unwrap(), 2);
        let map = raw.elements().unwrap().nth(1).unwrap().unwrap();
        assert_eq!(map.get("k").unwrap().unwrap().head().unwrap(), Token::Null);
    }

    #[test]
    fn mismatched_close_is_an_error() {
        let mut r = Reader::new(Format::Ubjson, b"[U\x01}");
        assert!(r.skip().is_err());
    }
}
