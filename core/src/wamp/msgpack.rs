//! MessagePack (`wamp.2.msgpack`): tokens from `rmp`'s marker table, binary as the `bin`
//! family.
//!
//! `rmp` gives the markers (`Marker::from_u8` / `to_u8`); its value writers need
//! `std::io::Write` or its heap `ByteBuf` (the `RmpWrite` trait is sealed), so the few
//! big-endian length fields are written here, into any [`Out`], with no heap. Extension
//! types have no meaning in WAMP: reading one is an error.

use rmp::Marker;

use super::error::{Error, ErrorKind};
use super::out::Out;
use super::value::{put_bytes, put_str, Bytes, Str, Token};

fn take<'a>(input: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], Error> {
    let end = pos.checked_add(n).ok_or(Error::truncated())?;
    let s = input.get(*pos..end).ok_or(Error::truncated())?;
    *pos = end;
    Ok(s)
}

fn be(input: &[u8], pos: &mut usize, n: usize) -> Result<u64, Error> {
    Ok(take(input, pos, n)?
        .iter()
        .fold(0u64, |v, &b| (v << 8) | b as u64))
}

pub(crate) fn token<'a>(input: &'a [u8], pos: &mut usize) -> Result<Token<'a>, Error> {
    let m = Marker::from_u8(*input.get(*pos).ok_or(Error::truncated())?);
    *pos += 1;
    let str_of = |input: &'a [u8], pos: &mut usize, n: u64| -> Result<Token<'a>, Error> {
        let b = take(input, pos, n as usize)?;
        let s = simdutf8::basic::from_utf8(b).map_err(|_| Error::syntax("UTF-8"))?;
        Ok(Token::Str(Str::new(s)))
    };
    let int = |v: i64| {
        if v >= 0 {
            Token::U64(v as u64)
        } else {
            Token::I64(v)
        }
    };
    Ok(match m {
        Marker::Null => Token::Null,
        Marker::True => Token::Bool(true),
        Marker::False => Token::Bool(false),
        Marker::FixPos(v) => Token::U64(v as u64),
        Marker::FixNeg(v) => Token::I64(v as i64),
        Marker::U8 => Token::U64(be(input, pos, 1)?),
        Marker::U16 => Token::U64(be(input, pos, 2)?),
        Marker::U32 => Token::U64(be(input, pos, 4)?),
        Marker::U64 => Token::U64(be(input, pos, 8)?),
        Marker::I8 => int(be(input, pos, 1)? as u8 as i8 as i64),
        Marker::I16 => int(be(input, pos, 2)? as u16 as i16 as i64),
        Marker::I32 => int(be(input, pos, 4)? as u32 as i32 as i64),
        Marker::I64 => int(be(input, pos, 8)? as i64),
        Marker::F32 => Token::F64(f32::from_bits(be(input, pos, 4)? as u32) as f64),
        Marker::F64 => Token::F64(f64::from_bits(be(input, pos, 8)?)),
        Marker::FixStr(n) => str_of(input, pos, n as u64)?,
        Marker::Str8 => {
            let n = be(input, pos, 1)?;
            str_of(input, pos, n)?
        }
        Marker::Str16 => {
            let n = be(input, pos, 2)?;
            str_of(input, pos, n)?
        }
        Marker::Str32 => {
            let n = be(input, pos, 4)?;
            str_of(input, pos, n)?
        }
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
            let w = match m {
                Marker::Bin8 => 1,
                Marker::Bin16 => 2,
                _ => 4,
            };
            let n = be(input, pos, w)?;
            Token::Bytes(Bytes::new(take(input, pos, n as usize)?))
        }
        Marker::FixArray(n) => Token::Array(Some(n as usize)),
        Marker::Array16 => Token::Array(Some(be(input, pos, 2)? as usize)),
        Marker::Array32 => Token::Array(Some(be(input, pos, 4)? as usize)),
        Marker::FixMap(n) => Token::Map(Some(n as usize)),
        Marker::Map16 => Token::Map(Some(be(input, pos, 2)? as usize)),
        Marker::Map32 => Token::Map(Some(be(input, pos, 4)? as usize)),
        _ => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "no MessagePack extension types",
            ))
        }
    })
}

fn head<O: Out + ?Sized>(out: &mut O, m: Marker, len: &[u8]) -> Result<(), Error> {
    let mut b = [0u8; 9];
    b[0] = m.to_u8();
    b[1..1 + len.len()].copy_from_slice(len);
    out.put(&b[..1 + len.len()])
}

/// A fix form: lengths below the limit fit in the marker.
type FixForm = (usize, fn(u8) -> Marker);

/// A length-prefixed header: the smallest of the fix / 8 / 16 / 32-bit forms.
fn sized<O: Out + ?Sized>(
    out: &mut O,
    n: usize,
    fix: Option<FixForm>,
    m8: Option<Marker>,
    m16: Marker,
    m32: Marker,
) -> Result<(), Error> {
    if let Some((limit, f)) = fix {
        if n < limit {
            return head(out, f(n as u8), &[]);
        }
    }
    match (n, m8) {
        (0..=0xFF, Some(m)) => head(out, m, &[n as u8]),
        (0..=0xFFFF, _) => head(out, m16, &(n as u16).to_be_bytes()),
        _ => {
            let n = u32::try_from(n)
                .map_err(|_| Error::new(ErrorKind::OutOfRange, "a length below 2^32"))?;
            head(out, m32, &n.to_be_bytes())
        }
    }
}

pub(crate) fn write<O: Out + ?Sized>(out: &mut O, t: Token<'_>) -> Result<(), Error> {
    match t {
        Token::Null => head(out, Marker::Null, &[]),
        Token::Bool(b) => head(out, if b { Marker::True } else { Marker::False }, &[]),
        Token::U64(v) => match v {
            0..=0x7F => head(out, Marker::FixPos(v as u8), &[]),
            0x80..=0xFF => head(out, Marker::U8, &[v as u8]),
            0x100..=0xFFFF => head(out, Marker::U16, &(v as u16).to_be_bytes()),
            0x1_0000..=0xFFFF_FFFF => head(out, Marker::U32, &(v as u32).to_be_bytes()),
            _ => head(out, Marker::U64, &v.to_be_bytes()),
        },
        Token::I64(v) => match v {
            -32..=-1 => head(out, Marker::FixNeg(v as i8), &[]),
            -128..=127 => head(out, Marker::I8, &[v as i8 as u8]),
            -32768..=32767 => head(out, Marker::I16, &(v as i16).to_be_bytes()),
            -2_147_483_648..=2_147_483_647 => head(out, Marker::I32, &(v as i32).to_be_bytes()),
            _ => head(out, Marker::I64, &v.to_be_bytes()),
        },
        Token::F64(v) => head(out, Marker::F64, &v.to_bits().to_be_bytes()),
        Token::Str(s) => {
            sized(
                out,
                s.len(),
                Some((32, Marker::FixStr)),
                Some(Marker::Str8),
                Marker::Str16,
                Marker::Str32,
            )?;
            put_str(out, s)
        }
        Token::Bytes(b) => {
            sized(
                out,
                b.len(),
                None,
                Some(Marker::Bin8),
                Marker::Bin16,
                Marker::Bin32,
            )?;
            put_bytes(out, b)
        }
        Token::Array(n) => {
            let n = n.ok_or(Error::new(ErrorKind::WrongType, "an array length"))?;
            sized(
                out,
                n,
                Some((16, Marker::FixArray)),
                None,
                Marker::Array16,
                Marker::Array32,
            )
        }
        Token::Map(n) => {
            let n = n.ok_or(Error::new(ErrorKind::WrongType, "a map length"))?;
            sized(
                out,
                n,
                Some((16, Marker::FixMap)),
                None,
                Marker::Map16,
                Marker::Map32,
            )
        }
        Token::End => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::out::SliceOut;
    use super::super::value::{Format, Raw, Reader, Writer};
    use super::*;

    #[test]
    fn integers_and_lengths_round_trip() {
        let values: [i128; 12] = [
            0,
            127,
            128,
            255,
            65535,
            65536,
            1 << 40,
            u64::MAX as i128,
            -1,
            -33,
            -40000,
            i64::MIN as i128,
        ];
        for v in values {
            let mut buf = [0u8; 16];
            let mut out = SliceOut::new(&mut buf);
            let t = if v >= 0 {
                Token::U64(v as u64)
            } else {
                Token::I64(v as i64)
            };
            write(&mut out, t).unwrap();
            let bytes = out.as_slice();
            let mut r = Reader::new(Format::MsgPack, bytes);
            assert_eq!(r.next().unwrap(), t, "{v}");
            r.finish().unwrap();
        }
    }

    #[test]
    #[cfg(feature = "json")]
    fn transcodes_json_with_escapes_and_binary() {
        let json = Raw {
            format: Format::Json,
            bytes: br#"[{"k\u00e9y":"a\nb"},"\u0000AQID",[],-3,1.5,null]"#,
        };
        let mut buf = [0u8; 64];
        let mut out = SliceOut::new(&mut buf);
        Writer::new(Format::MsgPack, &mut out).raw(json).unwrap();
        let mp = Raw {
            format: Format::MsgPack,
            bytes: out.as_slice(),
        };
        let mut back = [0u8; 128];
        let mut out2 = SliceOut::new(&mut back);
        Writer::new(Format::Json, &mut out2).raw(mp).unwrap();
        assert_eq!(
            core::str::from_utf8(out2.as_slice()).unwrap(),
            "[{\"k\u{e9}y\":\"a\\nb\"},\"\\u0000AQID\",[],-3,1.5,null]"
        );
    }

    #[test]
    fn lying_lengths_and_ext_types_are_errors() {
        for bad in [
            &[0xDD, 0xFF, 0xFF, 0xFF, 0xFF][..],
            &[0xDB, 0, 0, 0, 9, b'a'],
            &[0xD4, 1, 2],
            &[0xC1],
        ] {
            let mut r = Reader::new(Format::MsgPack, bad);
            assert!(r.skip().is_err(), "{bad:02x?}");
        }
    }
}
