//! Payloads as the application sees them: positional and keyword arguments as
//! `serde_json::Value`s (WAMP's data model is JSON's plus binary), decoded into your own types
//! with serde when you ask.
//!
//! On the wire a payload stays in the session's serializer: [`Args`] are serialized to JSON
//! by `serde_json` and transcoded token by token by the core when the session speaks
//! MessagePack, CBOR or UBJSON (and back). Binary values follow WAMP's JSON convention:
//! a string starting with U+0000 followed by base64 ([`bytes_value`], [`value_bytes`]); the
//! other serializers carry them as their native byte strings.

use base64::Engine as _;
use ferrobahn_core::wamp::{Format, Payload, Raw, Writer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::WampError;

/// Positional and keyword arguments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args {
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Map<String, Value>,
}

/// Builds [`Args`] from positional values: `args![1, "two", vec![3]]`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        $crate::wamp::Args::new()$(.arg($v))*
    };
}

/// Builds [`Args`] from keyword values: `kwargs!{"name" => "joe", "age" => 42}`.
#[macro_export]
macro_rules! kwargs {
    ($($k:expr => $v:expr),* $(,)?) => {
        $crate::wamp::Args::new()$(.kwarg($k, $v))*
    };
}

impl Args {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a positional argument (anything serde can serialize; panics only if its
    /// `Serialize` impl fails, as for a map with non-string keys).
    pub fn arg(mut self, v: impl Serialize) -> Self {
        self.args
            .push(serde_json::to_value(v).expect("a WAMP argument must serialize to JSON"));
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, k: impl Into<String>, v: impl Serialize) -> Self {
        self.kwargs.insert(
            k.into(),
            serde_json::to_value(v).expect("a WAMP argument must serialize to JSON"),
        );
        self
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty() && self.kwargs.is_empty()
    }

    /// Positional argument `i` as a `T`.
    pub fn get<T: DeserializeOwned>(&self, i: usize) -> Result<T, WampError> {
        let v = self
            .args
            .get(i)
            .ok_or_else(|| WampError::Payload(format!("no argument {i}")))?;
        T::deserialize(v).map_err(|e| WampError::Payload(format!("argument {i}: {e}")))
    }

    /// Keyword argument `k` as a `T`.
    pub fn kw<T: DeserializeOwned>(&self, k: &str) -> Result<T, WampError> {
        let v = self
            .kwargs
            .get(k)
            .ok_or_else(|| WampError::Payload(format!("no keyword argument {k:?}")))?;
        T::deserialize(v).map_err(|e| WampError::Payload(format!("argument {k:?}: {e}")))
    }

    /// All positional arguments as one `T` (a tuple, a `Vec`, a tuple struct).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, WampError> {
        T::deserialize(Value::Array(self.args.clone()))
            .map_err(|e| WampError::Payload(format!("arguments: {e}")))
    }

    /// The keyword arguments as one `T` (a struct).
    pub fn decode_kwargs<T: DeserializeOwned>(&self) -> Result<T, WampError> {
        T::deserialize(Value::Object(self.kwargs.clone()))
            .map_err(|e| WampError::Payload(format!("keyword arguments: {e}")))
    }

    /// Serialized for `format`: (Arguments, ArgumentsKw), each omitted when empty (an empty
    /// list is kept when keyword arguments follow).
    pub(crate) fn encode(&self, format: Format) -> Result<EncodedArgs, WampError> {
        let mut e = EncodedArgs::default();
        if !self.kwargs.is_empty() {
            e.kwargs = Some(to_format(&self.kwargs, format)?);
        }
        if !self.args.is_empty() || e.kwargs.is_some() {
            e.args = Some(to_format(&self.args, format)?);
        }
        e.format = Some(format);
        Ok(e)
    }

    /// From a received payload in any serializer.
    pub(crate) fn from_payload(p: &Payload<'_>) -> Result<Self, WampError> {
        let mut out = Args::new();
        if let Some(a) = p.args {
            match from_raw(a)? {
                Value::Array(v) => out.args = v,
                // Payload passthru: the encrypted/foreign payload as one binary value.
                other => out.args = vec![other],
            }
        }
        if let Some(k) = p.kwargs {
            match from_raw(k)? {
                Value::Object(m) => out.kwargs = m,
                _ => return Err(WampError::Payload("ArgumentsKw is not a dict".into())),
            }
        }
        Ok(out)
    }
}

/// A payload serialized for the wire.
#[derive(Clone, Debug, Default)]
pub(crate) struct EncodedArgs {
    format: Option<Format>,
    args: Option<Vec<u8>>,
    kwargs: Option<Vec<u8>>,
}

impl EncodedArgs {
    /// The core's view of it.
    pub(crate) fn payload(&self) -> Payload<'_> {
        let format = self.format.unwrap_or(Format::Json);
        Payload {
            args: self.args.as_deref().map(|bytes| Raw { format, bytes }),
            kwargs: self.kwargs.as_deref().map(|bytes| Raw { format, bytes }),
        }
    }
}

fn to_format<T: Serialize>(v: &T, format: Format) -> Result<Vec<u8>, WampError> {
    let json = serde_json::to_vec(v).map_err(|e| WampError::Payload(e.to_string()))?;
    if format == Format::Json {
        return Ok(json);
    }
    let mut out = Vec::with_capacity(json.len());
    Writer::new(format, &mut out)
        .raw(Raw {
            format: Format::Json,
            bytes: &json,
        })
        .map_err(|e| WampError::Payload(format!("transcoding to {format:?}: {e}")))?;
    Ok(out)
}

fn from_raw(raw: Raw<'_>) -> Result<Value, WampError> {
    let transcoded;
    let json = if raw.format == Format::Json {
        raw.bytes
    } else {
        let mut out = Vec::with_capacity(raw.bytes.len() * 2);
        Writer::new(Format::Json, &mut out)
            .raw(raw)
            .map_err(|e| WampError::Payload(format!("transcoding from {:?}: {e}", raw.format)))?;
        transcoded = out;
        &transcoded
    };
    serde_json::from_slice(json).map_err(|e| WampError::Payload(e.to_string()))
}

/// A binary value (WAMP's JSON convention: U+0000 then base64; any serializer carries it as
/// bytes).
pub fn bytes_value(b: &[u8]) -> Value {
    let mut s = String::with_capacity(1 + b.len().div_ceil(3) * 4);
    s.push('\0');
    base64::engine::general_purpose::STANDARD.encode_string(b, &mut s);
    Value::String(s)
}

/// The bytes of a binary value made by [`bytes_value`] or received as binary.
pub fn value_bytes(v: &Value) -> Option<Vec<u8>> {
    let s = v.as_str()?.strip_prefix('\0')?;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_round_trip_through_every_serializer() {
        let a = Args::new()
            .arg(1)
            .arg(-2i64)
            .arg(u64::MAX)
            .arg("text")
            .arg(bytes_value(&[0, 1, 2, 255]))
            .arg(vec![1.5, 2.25])
            .kwarg("nested", serde_json::json!({"a": [null, true]}));
        for format in Format::ALL {
            let e = a.encode(format).unwrap();
            let back = Args::from_payload(&e.payload()).unwrap();
            assert_eq!(back, a, "{format:?}");
            assert_eq!(value_bytes(&back.args[4]).unwrap(), [0, 1, 2, 255]);
        }
        let t: (i32, i64) = Args::new().arg(3).arg(4).decode().unwrap();
        assert_eq!(t, (3, 4));
        assert!(Args::new().arg("x").get::<i32>(0).is_err());
        assert!(Args::new().get::<i32>(0).is_err());
        // Only kwargs: an empty list goes before them; nothing at all: nothing.
        let e = Args::new().kwarg("k", 1).encode(Format::Json).unwrap();
        assert_eq!(e.payload().args.unwrap().bytes, b"[]");
        assert!(Args::new()
            .encode(Format::Json)
            .unwrap()
            .payload()
            .args
            .is_none());
    }
}
