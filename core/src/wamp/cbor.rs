//! CBOR (`wamp.2.cbor`, RFC 8949): read with `minicbor`'s decoder, binary as byte strings.
//!
//! Decoding goes through `minicbor::Decoder` (types, lengths, UTF-8, floats of every width,
//! tags). Writing needs only CBOR's item heads (major type + argument) and float64, written
//! here into any [`Out`], so strings that arrive JSON-escaped or base64 can be re-encoded
//! piecewise without a heap. Indefinite-length arrays and maps are read (a break ends them);
//! indefinite-length (chunked) strings cannot be borrowed whole and are refused. Tags are
//! read through (the tagged value is returned); `undefined` reads as null.

use minicbor::data::Type;
use minicbor::Decoder;

use super::error::{Error, ErrorKind};
use super::out::Out;
use super::value::{half_to_f64, put_bytes, put_str, Bytes, Str, Token};

fn err(e: minicbor::decode::Error) -> Error {
    if e.is_end_of_input() {
        Error::truncated()
    } else {
        Error::syntax("well-formed CBOR")
    }
}

pub(crate) fn token<'a>(input: &'a [u8], pos: &mut usize) -> Result<Token<'a>, Error> {
    let mut d = Decoder::new(input);
    d.set_position(*pos);
    // A few nested tags at most; then the value.
    let mut tags = 0;
    let t = loop {
        let ty = d.datatype().map_err(err)?;
        let t = match ty {
            Type::Tag => {
                tags += 1;
                if tags > 4 {
                    return Err(Error::new(ErrorKind::Unsupported, "fewer nested CBOR tags"));
                }
                d.tag().map_err(err)?;
                continue;
            }
            Type::Bool => Token::Bool(d.bool().map_err(err)?),
            Type::Null => {
                d.null().map_err(err)?;
                Token::Null
            }
            Type::Undefined => {
                d.undefined().map_err(err)?;
                Token::Null
            }
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => Token::U64(d.u64().map_err(err)?),
            Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
                let i = d.int().map_err(err)?;
                match i64::try_from(i) {
                    Ok(v) if v >= 0 => Token::U64(v as u64),
                    Ok(v) => Token::I64(v),
                    Err(_) => match u64::try_from(i) {
                        Ok(v) => Token::U64(v),
                        Err(_) => {
                            return Err(Error::new(ErrorKind::OutOfRange, "an integer above -2^63"))
                        }
                    },
                }
            }
            Type::F16 => {
                // minicbor decodes halves only with its `half` feature; RFC 8949 App. D.
                let p = d.position();
                let b = input.get(p + 1..p + 3).ok_or(Error::truncated())?;
                d.set_position(p + 3);
                Token::F64(half_to_f64(u16::from_be_bytes([b[0], b[1]])))
            }
            Type::F32 => Token::F64(d.f32().map_err(err)? as f64),
            Type::F64 => Token::F64(d.f64().map_err(err)?),
            Type::String => Token::Str(Str::new(d.str().map_err(err)?)),
            Type::Bytes => Token::Bytes(Bytes::new(d.bytes().map_err(err)?)),
            Type::Array => Token::Array(d.array().map_err(err)?.map(|n| n as usize)),
            Type::ArrayIndef => {
                d.array().map_err(err)?;
                Token::Array(None)
            }
            Type::Map => Token::Map(d.map().map_err(err)?.map(|n| n as usize)),
            Type::MapIndef => {
                d.map().map_err(err)?;
                Token::Map(None)
            }
            Type::StringIndef | Type::BytesIndef => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "definite-length strings",
                ))
            }
            Type::Break => return Err(Error::syntax("a value, not a break")),
            _ => return Err(Error::syntax("a CBOR data item WAMP can carry")),
        };
        break t;
    };
    // Lengths beyond usize (on 32-bit targets) or the input are caught by the caller.
    *pos = d.position();
    Ok(t)
}

/// Major type + argument, in the shortest form.
fn head<O: Out + ?Sized>(out: &mut O, major: u8, n: u64) -> Result<(), Error> {
    let m = major << 5;
    match n {
        0..=23 => out.put(&[m | n as u8]),
        24..=0xFF => out.put(&[m | 24, n as u8]),
        0x100..=0xFFFF => {
            let b = (n as u16).to_be_bytes();
            out.put(&[m | 25, b[0], b[1]])
        }
        0x1_0000..=0xFFFF_FFFF => {
            let b = (n as u32).to_be_bytes();
            out.put(&[m | 26, b[0], b[1], b[2], b[3]])
        }
        _ => {
            let mut b = [0u8; 9];
            b[0] = m | 27;
            b[1..].copy_from_slice(&n.to_be_bytes());
            out.put(&b)
        }
    }
}

pub(crate) fn write<O: Out + ?Sized>(out: &mut O, t: Token<'_>) -> Result<(), Error> {
    match t {
        Token::Null => out.put(&[0xF6]),
        Token::Bool(b) => out.put(&[if b { 0xF5 } else { 0xF4 }]),
        Token::U64(v) => head(out, 0, v),
        // -1 - n
        Token::I64(v) => head(out, 1, !(v as u64)),
        Token::F64(v) => {
            let mut b = [0u8; 9];
            b[0] = 0xFB;
            b[1..].copy_from_slice(&v.to_bits().to_be_bytes());
            out.put(&b)
        }
        Token::Str(s) => {
            head(out, 3, s.len() as u64)?;
            put_str(out, s)
        }
        Token::Bytes(b) => {
            head(out, 2, b.len() as u64)?;
            put_bytes(out, b)
        }
        Token::Array(n) => head(
            out,
            4,
            n.ok_or(Error::new(ErrorKind::WrongType, "an array length"))? as u64,
        ),
        Token::Map(n) => head(
            out,
            5,
            n.ok_or(Error::new(ErrorKind::WrongType, "a map length"))? as u64,
        ),
        Token::End => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::{Format, Reader};
    use super::*;

    #[test]
    fn reads_rfc8949_examples() {
        let cases: [(&[u8], Token<'_>); 8] = [
            (&[0x00], Token::U64(0)),
            (
                &[0x1B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                Token::U64(u64::MAX),
            ),
            (&[0x38, 0x63], Token::I64(-100)),
            (&[0xF9, 0x3C, 0x00], Token::F64(1.0)),
            (&[0xFA, 0x47, 0xC3, 0x50, 0x00], Token::F64(100000.0)),
            (&[0x62, 0xC3, 0xBC], Token::Str(Str::new("\u{fc}"))),
            (&[0x43, 1, 2, 3], Token::Bytes(Bytes::new(&[1, 2, 3]))),
            (
                &[0xC1, 0x1A, 0x51, 0x4B, 0x67, 0xB0],
                Token::U64(1363896240),
            ),
        ];
        for (bytes, want) in cases {
            let mut r = Reader::new(Format::Cbor, bytes);
            assert_eq!(r.next().unwrap(), want, "{bytes:02x?}");
            r.finish().unwrap();
        }
    }

    #[test]
    fn indefinite_containers_end_at_break() {
        // [_ 1, [2, 3], {_ "a": 4}]
        let bytes = [
            0x9F, 0x01, 0x82, 0x02, 0x03, 0xBF, 0x61, b'a', 0x04, 0xFF, 0xFF,
        ];
        let mut r = Reader::new(Format::Cbor, &bytes);
        let raw = r.skip().unwrap();
        assert_eq!(raw.bytes.len(), bytes.len());
        assert_eq!(raw.len().unwrap(), 3);
        let map = raw.elements().unwrap().nth(2).unwrap().unwrap();
        assert_eq!(
            map.get("a").unwrap().unwrap().head().unwrap(),
            Token::U64(4)
        );
    }

    #[test]
    fn negative_beyond_i64_is_out_of_range() {
        let bytes = [0x3B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        let e = Reader::new(Format::Cbor, &bytes).next().unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfRange);
    }
}
