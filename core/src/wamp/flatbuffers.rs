//! WAMP over FlatBuffers (`wamp.2.flatbuffers`, RawSocket serializer 5), the way
//! Autobahn|Python speaks it: its schemas (`autobahn/wamp/flatbuffers/*.fbs`, root table
//! `wamp.proto.Message` holding the union `AnyMessage`) with `args`/`kwargs` as byte vectors
//! holding CBOR (Autobahn's default payload serializer).
//!
//! ```text
//!   bytes ──► root uoffset ──► Message { msg_type: u8, msg: table } ──► e.g. Call table
//!              bounds-checked reads (Table, vtables)    │
//!                                                        ▼
//!   Message<'a>: URIs, authid, ... as Str into the input; args/kwargs as Raw CBOR spans
//!   into the input (zero copy, checked to be one CBOR value each); typed Details/Options
//!   from the table's fields
//!                                                        │ encode()
//!                                                        ▼
//!   a forward builder into any Out: tables first, then the strings, vectors and tables
//!   they point to (every uoffset points forward); payloads in another format transcoded
//!   to CBOR (counted first, so no heap).
//! ```
//!
//! **Why not the `flatbuffers` crate.** Its builder grows a `Vec` back to front (it needs
//! `alloc`; the core's serializers need no heap), its typed access needs `flatc`-generated
//! code (thousands of lines with `unsafe` for 27 tables, of which we read a few fields
//! each), and a `Message<'a>` borrowing from the input needs only bounds-checked reads of
//! offsets and vtables. So this module reads with its own small checked `Table` view (every
//! offset, length and field is checked against the buffer before use: malformed input is an
//! [`Error`], never a panic or an out-of-bounds read) and writes with a forward builder.
//!
//! **Where the schema and our `Message` differ.** A few option fields are vectors or tables
//! in FlatBuffers but [`Raw`] values in our dictionaries: HELLO/WELCOME `roles`,
//! `authmethods`, `authextra` (a `Map` table of one string key and value), PUBLISH's
//! `exclude*`/`eligible*` lists, CHALLENGE/AUTHENTICATE `extra` keys we have no field for,
//! UNSUBSCRIBED/UNREGISTERED revocation details, and a passthru `payload`. Decoding renders
//! those into small CBOR values in a caller's scratch buffer
//! ([`decode`]'s `scratch`; [`scratch_len`] bounds what an honest encoding needs, and a
//! buffer too small is [`ErrorKind::BufferFull`], so a caller can retry with a larger one).
//! The payload (`args`, `kwargs`) never goes there.
//!
//! The schema has fixed fields, so what has no field is not carried: unknown Details/Options
//! keys, `agent`, ERROR's details (`message`), CALL/INVOCATION `progress`, `disclose_me`,
//! `disclose_caller`, EVENT_RECEIVED's details and payload, GOODBYE/ABORT details other than
//! `message`; a `Map` carries one entry (CHALLENGE: `challenge`, else the first string
//! entry), so WAMP-CRA with salting and WAMP-SCRAM cannot authenticate over FlatBuffers;
//! `timeout` is a u32 and `concurrency` a u16 (larger values are written as the maximum);
//! payload passthru schemes and serializers are enums (`cryptobox`, `mqtt`, `xbr`, `opaque`;
//! `json` ... `flexbuffers`): others are dropped. Decoded passthru fields come out under
//! Autobahn's names (`enc_algo`, `enc_serializer`, `enc_key`; `ppt_cipher`).
//!
//! **Autobahn|Python 26.10.2's side** (checked by `scripts/wamp-compat.sh`):
//! - The union's type tag is the WAMP message code (CALL = 48), not the schema's union index
//!   (CALL = 16); EVENT_RECEIVED is 37 (the schema's `MessageType`), not 337. We read and
//!   write the codes, as Autobahn does (the two numberings collide: 8, 16, 17).
//! - It never writes HELLO `roles` (a required field), `authmethods`, `authextra`, WELCOME
//!   `roles`, `authmethod`, `authextra`, CHALLENGE and AUTHENTICATE `extra`; it reads all of
//!   them as empty (WELCOME `authmethod` as `"authmethod_<n>"`).
//! - It reads ERROR's `args` from the `error` string's slot and `kwargs` from `args`' (its
//!   hand-written accessors use the vtable offsets of CALL's layout), so an ERROR with a
//!   payload reads back wrong; without one it reads fine. On a live session an ERROR with
//!   args gives its ApplicationError garbage args (the URI's bytes read as CBOR), and one with
//!   args and kwargs fails its connection (1011, "argument after ** must be a mapping, not
//!   list"). We write ERROR as the schema says; the other direction (its ERRORs to us) works.
//! - Reading SUBSCRIBE it ignores `match` (always `exact`) and adds `get_retained: false`;
//!   REGISTER: ignores `match` and `invoke`; CANCEL: `mode` always `skip`; INTERRUPT: drops
//!   `mode`; UNSUBSCRIBED/UNREGISTERED: adds `subscription`/`registration` 0; PUBLISH
//!   passthru: `enc_key` comes back as bytes, not a string.
//! - Its FlatBuffers serializer refuses to be batched; there is no `wamp.2.flatbuffers.batched`.
//! - It sends HELLO without `roles`, so a router that needs announced features (callee
//!   `call_canceling`, subscriber revocation) sees none from it; ours lets it join.

use super::dict::{
    self, CallOptions, CancelMode, CancelOptions, ChallengeExtra, Details, ErrorDetails,
    EventDetails, HelloDetails, InvocationDetails, Invoke, PublishOptions, RegisterOptions,
    ResultDetails, Roles, SubscribeOptions, WelcomeDetails,
};
use super::error::{Error, ErrorKind};
use super::id;
use super::message::{
    code, Ack, Authenticate, Call, Cancel, Challenge, ErrorMsg, Event, EventReceived, Hello,
    Invocation, Message, Outcome, Payload, Publish, Reason, Register, Subscribe, Unacked, Welcome,
};
use super::out::{CountOut, Out, SliceOut};
use super::uri::Match;
use super::value::{put_bytes, put_str, Format, Raw, Reader, Str, Token, Writer};

/// The union type tag Autobahn writes for EVENT_RECEIVED (`MessageType.EVENT_RECEIVED`).
const TAG_EVENT_RECEIVED: u8 = 37;

/// Scratch bytes that always suffice for decoding an honest `len`-byte message: twice the
/// input (CBOR of a FlatBuffers list is at most about as long as the list) and room for the
/// role features rendered as names.
pub fn scratch_len(len: usize) -> usize {
    len.saturating_mul(2).saturating_add(4096)
}

fn bad(expected: &'static str) -> Error {
    Error::syntax(expected)
}

// --- reading --------------------------------------------------------------------------

fn get<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N], Error> {
    let end = pos.checked_add(N).ok_or(Error::truncated())?;
    let b = buf.get(pos..end).ok_or(Error::truncated())?;
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    Ok(a)
}

fn u16_at(buf: &[u8], pos: usize) -> Result<u16, Error> {
    get::<2>(buf, pos).map(u16::from_le_bytes)
}

fn u32_at(buf: &[u8], pos: usize) -> Result<u32, Error> {
    get::<4>(buf, pos).map(u32::from_le_bytes)
}

/// A table in a buffer, its vtable found and checked: every field read is checked to lie
/// inside the table and the buffer.
#[derive(Clone, Copy)]
struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vt: usize,
    vt_len: usize,
    len: usize,
}

impl<'a> Table<'a> {
    fn at(buf: &'a [u8], pos: usize) -> Result<Self, Error> {
        let soff = get::<4>(buf, pos).map(i32::from_le_bytes)?;
        let vt = (pos as i64)
            .checked_sub(soff as i64)
            .filter(|v| *v >= 0)
            .ok_or(bad("a vtable inside the buffer"))? as usize;
        let vt_len = usize::from(u16_at(buf, vt)?);
        let len = usize::from(u16_at(buf, vt + 2)?);
        if vt_len < 4 || vt_len % 2 != 0 || vt + vt_len > buf.len() {
            return Err(bad("a well-formed vtable"));
        }
        if len < 4 || pos + len > buf.len() {
            return Err(bad("a table inside the buffer"));
        }
        Ok(Self {
            buf,
            pos,
            vt,
            vt_len,
            len,
        })
    }

    /// Where field `id`'s `size` bytes are, when present.
    fn field(&self, id: usize, size: usize) -> Result<Option<usize>, Error> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vt_len {
            return Ok(None);
        }
        let off = usize::from(u16_at(self.buf, self.vt + slot)?);
        if off == 0 {
            return Ok(None);
        }
        if off < 4 || off + size > self.len {
            return Err(bad("a field inside its table"));
        }
        Ok(Some(self.pos + off))
    }

    fn u8(&self, id: usize) -> Result<Option<u8>, Error> {
        Ok(self.field(id, 1)?.map(|p| self.buf[p]))
    }

    fn bool(&self, id: usize) -> Result<Option<bool>, Error> {
        match self.u8(id)? {
            None => Ok(None),
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            Some(_) => Err(bad("a boolean 0 or 1")),
        }
    }

    fn u16(&self, id: usize) -> Result<Option<u16>, Error> {
        self.field(id, 2)?.map(|p| u16_at(self.buf, p)).transpose()
    }

    fn u32(&self, id: usize) -> Result<Option<u32>, Error> {
        self.field(id, 4)?.map(|p| u32_at(self.buf, p)).transpose()
    }

    fn u64(&self, id: usize) -> Result<Option<u64>, Error> {
        self.field(id, 8)?
            .map(|p| get::<8>(self.buf, p).map(u64::from_le_bytes))
            .transpose()
    }

    /// Follows the uoffset in field `id`.
    fn target(&self, id: usize) -> Result<Option<usize>, Error> {
        let Some(p) = self.field(id, 4)? else {
            return Ok(None);
        };
        let off = u32_at(self.buf, p)? as usize;
        let t = p
            .checked_add(off)
            .filter(|t| off != 0 && *t < self.buf.len())
            .ok_or(bad("an offset inside the buffer"))?;
        Ok(Some(t))
    }

    /// The `n` and the first element's position of a vector of `size`-byte elements.
    fn vector(&self, id: usize, size: usize) -> Result<Option<(usize, usize)>, Error> {
        let Some(t) = self.target(id)? else {
            return Ok(None);
        };
        vector_at(self.buf, t, size).map(Some)
    }

    fn bytes(&self, id: usize) -> Result<Option<&'a [u8]>, Error> {
        Ok(self
            .vector(id, 1)?
            .map(|(n, start)| &self.buf[start..start + n]))
    }

    fn str(&self, id: usize) -> Result<Option<Str<'a>>, Error> {
        self.target(id)?.map(|t| str_at(self.buf, t)).transpose()
    }

    fn table(&self, id: usize) -> Result<Option<Table<'a>>, Error> {
        self.target(id)?.map(|t| Table::at(self.buf, t)).transpose()
    }
}

fn vector_at(buf: &[u8], t: usize, size: usize) -> Result<(usize, usize), Error> {
    let n = u32_at(buf, t)? as usize;
    let start = t + 4;
    let end = n
        .checked_mul(size)
        .and_then(|b| b.checked_add(start))
        .ok_or(bad("a vector inside the buffer"))?;
    if end > buf.len() {
        return Err(bad("a vector inside the buffer"));
    }
    Ok((n, start))
}

fn str_at(buf: &[u8], t: usize) -> Result<Str<'_>, Error> {
    let (n, start) = vector_at(buf, t, 1)?;
    let s = core::str::from_utf8(&buf[start..start + n]).map_err(|_| bad("UTF-8 text"))?;
    Ok(Str::new(s))
}

/// The `i`th string of a vector of strings (offsets) starting at `start`.
fn str_in(buf: &[u8], start: usize, i: usize) -> Result<Str<'_>, Error> {
    let p = start + 4 * i;
    let off = u32_at(buf, p)? as usize;
    let t = p
        .checked_add(off)
        .filter(|t| off != 0 && *t < buf.len())
        .ok_or(bad("an offset inside the buffer"))?;
    str_at(buf, t)
}

fn id_field(t: &Table<'_>, id: usize) -> Result<u64, Error> {
    match t.u64(id)? {
        Some(v) if id::is_valid(v) => Ok(v),
        _ => Err(Error::new(ErrorKind::InvalidId, "an ID in 1..=2^53")),
    }
}

fn id_or_zero(t: &Table<'_>, id: usize) -> Result<u64, Error> {
    match t.u64(id)?.unwrap_or(0) {
        v if v <= id::MAX_ID => Ok(v),
        _ => Err(Error::new(ErrorKind::InvalidId, "an ID in 0..=2^53")),
    }
}

fn required_str<'a>(t: &Table<'a>, id: usize, what: &'static str) -> Result<Str<'a>, Error> {
    t.str(id)?.ok_or(Error::new(ErrorKind::Arity, what))
}

/// A payload field's bytes: one complete CBOR value of the expected kind.
fn cbor_value<'a>(bytes: &'a [u8], list: bool) -> Result<Raw<'a>, Error> {
    let mut r = Reader::new(Format::Cbor, bytes);
    let (raw, head) = r.skip_with_head()?;
    r.finish()?;
    match (head, list) {
        (Token::Array(_), true) | (Token::Map(_), false) => Ok(raw),
        (_, true) => Err(Error::new(ErrorKind::WrongType, "Arguments: a CBOR list")),
        (_, false) => Err(Error::new(ErrorKind::WrongType, "ArgumentsKw: a CBOR map")),
    }
}

// Enum values of the schema (types.fbs, auth.fbs).

const AUTH_METHODS: [&str; 5] = ["anonymous", "ticket", "wampcra", "wamp-scram", "cryptosign"];
const PPT_SCHEMES: [&str; 5] = ["", "cryptobox", "mqtt", "xbr", "opaque"];
const PPT_SERIALIZERS: [&str; 8] = [
    "",
    "json",
    "msgpack",
    "cbor",
    "ubjson",
    "opaque",
    "flatbuffers",
    "flexbuffers",
];
const PPT_CIPHERS: [&str; 3] = ["", "xsalsa20poly1305", "aes256gcm"];
const MATCHES: [Match; 3] = [Match::Exact, Match::Prefix, Match::Wildcard];
const INVOKES: [Invoke; 5] = [
    Invoke::Single,
    Invoke::First,
    Invoke::Last,
    Invoke::RoundRobin,
    Invoke::Random,
];
const CANCEL_MODES: [CancelMode; 3] = [CancelMode::Skip, CancelMode::Kill, CancelMode::KillNoWait];

fn enum_of<T: Copy>(values: &[T], v: Option<u8>, what: &'static str) -> Result<Option<T>, Error> {
    match v {
        None => Ok(None),
        Some(v) => values
            .get(usize::from(v))
            .copied()
            .map(Some)
            .ok_or(Error::new(ErrorKind::WrongType, what)),
    }
}

fn name_of(
    names: &[&'static str],
    v: Option<u8>,
    what: &'static str,
) -> Result<Option<Str<'static>>, Error> {
    // 0 is "not set" for the passthru enums (their first name is empty).
    Ok(enum_of(names, v, what)?
        .filter(|s| !s.is_empty())
        .map(Str::new))
}

fn index_of(names: &[&str], s: Option<Str<'_>>) -> Option<u8> {
    let s = s?;
    names
        .iter()
        .position(|n| !n.is_empty() && s.eq_str(n))
        .map(|i| i as u8)
}

/// Role features as in the schema (roles.fbs), in field order.
const PUBLISHER: &[&str] = &[
    "publisher_identification",
    "publisher_exclusion",
    "subscriber_blackwhite_listing",
    "acknowledge_event_received",
    "payload_transparency",
    "payload_encryption_cryptobox",
];
const SUBSCRIBER: &[&str] = &[
    "publisher_identification",
    "pattern_based_subscription",
    "publication_trustlevels",
    "subscription_revocation",
    "event_history",
    "acknowledge_subscriber_received",
    "payload_transparency",
    "payload_encryption_cryptobox",
];
const CALLER: &[&str] = &[
    "caller_identification",
    "call_timeout",
    "call_canceling",
    "progressive_call_results",
    "payload_transparency",
    "payload_encryption_cryptobox",
];
const CALLEE: &[&str] = &[
    "caller_identification",
    "call_trustlevels",
    "call_timeout",
    "call_canceling",
    "progressive_call_results",
    "registration_revocation",
    "pattern_based_registration",
    "shared_registration",
    "payload_transparency",
    "payload_encryption_cryptobox",
];
const BROKER: &[&str] = &[
    "publisher_identification",
    "publisher_exclusion",
    "subscriber_blackwhite_listing",
    "pattern_based_subscription",
    "publication_trustlevels",
    "subscription_revocation",
    "session_meta_api",
    "subscription_meta_api",
    "event_retention",
    "event_history",
    "acknowledge_event_received",
    "acknowledge_subscriber_received",
    "payload_transparency",
    "payload_encryption_cryptobox",
];
const DEALER: &[&str] = &[
    "caller_identification",
    "call_trustlevels",
    "call_timeout",
    "call_canceling",
    "progressive_call_results",
    "registration_revocation",
    "pattern_based_registration",
    "shared_registration",
    "session_meta_api",
    "registration_meta_api",
    "testament_meta_api",
    "payload_transparency",
    "payload_encryption_cryptobox",
];
/// ClientRoles: (role, features) by field id.
const CLIENT_ROLES: [(&str, &[&str]); 4] = [
    ("publisher", PUBLISHER),
    ("subscriber", SUBSCRIBER),
    ("caller", CALLER),
    ("callee", CALLEE),
];
/// RouterRoles.
const ROUTER_ROLES: [(&str, &[&str]); 2] = [("broker", BROKER), ("dealer", DEALER)];

// --- scratch: the few option values FlatBuffers holds as vectors or tables ----------------

/// CBOR values rendered into the caller's scratch buffer, then handed out as [`Raw`]s.
struct Pieces<'s> {
    out: SliceOut<'s>,
    marks: [(usize, usize); 8],
    n: usize,
}

/// A piece written into [`Pieces`].
#[derive(Clone, Copy)]
struct Piece(usize);

impl<'s> Pieces<'s> {
    fn new(scratch: &'s mut [u8]) -> Self {
        Self {
            out: SliceOut::new(scratch),
            marks: [(0, 0); 8],
            n: 0,
        }
    }

    /// Writes one CBOR value with `f` (which says whether it wrote anything).
    fn put(
        &mut self,
        f: impl FnOnce(&mut Writer<'_, SliceOut<'s>>) -> Result<bool, Error>,
    ) -> Result<Option<Piece>, Error> {
        let start = self.out.written();
        let wrote = f(&mut Writer::new(Format::Cbor, &mut self.out))?;
        if !wrote {
            return Ok(None);
        }
        let i = self.n;
        *self.marks.get_mut(i).ok_or(Error::full())? = (start, self.out.written());
        self.n += 1;
        Ok(Some(Piece(i)))
    }

    fn freeze(self) -> Frozen<'s> {
        Frozen {
            bytes: self.out.into_slice(),
            marks: self.marks,
        }
    }
}

struct Frozen<'s> {
    bytes: &'s [u8],
    marks: [(usize, usize); 8],
}

impl<'s> Frozen<'s> {
    fn raw(&self, p: Option<Piece>) -> Option<Raw<'s>> {
        p.map(|Piece(i)| {
            let (a, b) = self.marks[i];
            Raw {
                format: Format::Cbor,
                bytes: &self.bytes[a..b],
            }
        })
    }
}

type W<'w, 's> = Writer<'w, SliceOut<'s>>;

/// `{role: {"features": {name: true, ...}}, ...}` from ClientRoles / RouterRoles.
fn write_roles(w: &mut W<'_, '_>, t: Option<Table<'_>>, client: bool) -> Result<bool, Error> {
    let Some(t) = t else { return Ok(false) };
    let roles: &[(&str, &[&str])] = if client { &CLIENT_ROLES } else { &ROUTER_ROLES };
    let mut present = 0;
    for i in 0..roles.len() {
        present += usize::from(t.table(i)?.is_some());
    }
    // An empty roles table (we write one where the schema requires it) reads as none.
    if present == 0 {
        return Ok(false);
    }
    w.map(present)?;
    for (i, (role, features)) in roles.iter().enumerate() {
        let Some(f) = t.table(i)? else { continue };
        let mut on = 0;
        for j in 0..features.len() {
            on += usize::from(f.bool(j)? == Some(true));
        }
        w.str(role)?;
        w.map(1)?;
        w.str("features")?;
        w.map(on)?;
        for (j, name) in features.iter().enumerate() {
            if f.bool(j)? == Some(true) {
                w.str(name)?;
                w.bool(true)?;
            }
        }
        w.end()?;
        w.end()?;
    }
    w.end()?;
    Ok(true)
}

/// A `Map` table (one string key, one string value) as `{key: value}`.
fn write_map(w: &mut W<'_, '_>, t: Option<Table<'_>>) -> Result<bool, Error> {
    let Some(t) = t else { return Ok(false) };
    let key = required_str(&t, 0, "a Map key")?;
    w.map(1)?;
    w.token(Token::Str(key))?;
    match t.str(1)? {
        Some(v) => w.token(Token::Str(v))?,
        None => w.null()?,
    }
    w.end()?;
    Ok(true)
}

/// A vector of u64 (`exclude`, `eligible`) as a list.
fn write_u64s(w: &mut W<'_, '_>, t: &Table<'_>, id: usize) -> Result<bool, Error> {
    let Some((n, start)) = t.vector(id, 8)? else {
        return Ok(false);
    };
    w.array(n)?;
    for i in 0..n {
        w.u64(u64::from_le_bytes(get::<8>(t.buf, start + 8 * i)?))?;
    }
    w.end()?;
    Ok(true)
}

/// A vector of strings as a list.
fn write_strs(w: &mut W<'_, '_>, t: &Table<'_>, id: usize) -> Result<bool, Error> {
    let Some((n, start)) = t.vector(id, 4)? else {
        return Ok(false);
    };
    w.array(n)?;
    for i in 0..n {
        w.token(Token::Str(str_in(t.buf, start, i)?))?;
    }
    w.end()?;
    Ok(true)
}

/// HELLO's `[AuthMethod]` as a list of names.
fn write_authmethods(w: &mut W<'_, '_>, t: &Table<'_>, id: usize) -> Result<bool, Error> {
    let Some((n, start)) = t.vector(id, 1)? else {
        return Ok(false);
    };
    w.array(n)?;
    for i in 0..n {
        let name = enum_of(&AUTH_METHODS, Some(t.buf[start + i]), "a known AuthMethod")?;
        w.str(name.unwrap_or_default())?;
    }
    w.end()?;
    Ok(true)
}

/// The passthru fields under Autobahn's names (and `ppt_cipher`).
struct Ppt<'a> {
    scheme: Option<Str<'a>>,
    serializer: Option<Str<'a>>,
    cipher: Option<Str<'a>>,
    keyid: Option<Str<'a>>,
}

fn read_ppt<'a>(t: &Table<'a>, first: usize) -> Result<Ppt<'a>, Error> {
    Ok(Ppt {
        scheme: name_of(&PPT_SCHEMES, t.u8(first)?, "a known PPTScheme")?,
        serializer: name_of(&PPT_SERIALIZERS, t.u8(first + 1)?, "a known PPTSerializer")?,
        cipher: name_of(&PPT_CIPHERS, t.u8(first + 2)?, "a known PPTCipher")?,
        keyid: t.str(first + 3)?,
    })
}

/// `args`, `kwargs` (CBOR, zero copy) and a passthru `payload` (into scratch, as a CBOR
/// byte string: the one payload that is copied).
fn read_payload<'a>(
    t: &Table<'a>,
    first: usize,
    pieces: &mut Pieces<'_>,
) -> Result<(Payload<'a>, Option<Piece>), Error> {
    let args = t.bytes(first)?.map(|b| cbor_value(b, true)).transpose()?;
    let kwargs = t
        .bytes(first + 1)?
        .map(|b| cbor_value(b, false))
        .transpose()?;
    let passthru = match t.bytes(first + 2)? {
        Some(p) if args.is_none() && kwargs.is_none() => pieces.put(|w| {
            w.bytes(p)?;
            Ok(true)
        })?,
        Some(_) => {
            return Err(Error::new(
                ErrorKind::Arity,
                "either args/kwargs or a passthru payload",
            ))
        }
        None => None,
    };
    Ok((Payload { args, kwargs }, passthru))
}

fn with_passthru<'a>(p: Payload<'a>, passthru: Option<Raw<'a>>) -> Payload<'a> {
    match passthru {
        Some(b) => Payload {
            args: Some(b),
            kwargs: None,
        },
        None => p,
    }
}

/// Decodes one FlatBuffers WAMP message. Strings and payloads borrow from `bytes`; the few
/// option values held as FlatBuffers vectors or tables (see the module docs) are written
/// into `scratch` as CBOR, which the message then borrows too. A `scratch` too small for them
/// is [`ErrorKind::BufferFull`]: [`scratch_len`] of the input always suffices for honest
/// input, and an empty scratch does for every message without such fields.
pub fn decode<'a>(bytes: &'a [u8], scratch: &'a mut [u8]) -> Result<Message<'a>, Error> {
    let root = u32_at(bytes, 0)? as usize;
    let top = Table::at(bytes, root)?;
    let tag = top
        .u8(0)?
        .ok_or(Error::new(ErrorKind::Arity, "a message"))?;
    let t = top
        .table(1)?
        .ok_or(Error::new(ErrorKind::Arity, "a message table"))?;
    let mut pieces = Pieces::new(scratch);
    let code = if tag == TAG_EVENT_RECEIVED {
        code::EVENT_RECEIVED
    } else {
        u64::from(tag)
    };
    use code::*;
    let m = match code {
        HELLO => {
            let roles = pieces.put(|w| write_roles(w, t.table(1)?, true))?;
            let authmethods = pieces.put(|w| write_authmethods(w, &t, 3))?;
            let authextra = pieces.put(|w| write_map(w, t.table(6)?))?;
            let s = pieces.freeze();
            let roles = s.raw(roles).map(Roles::read).transpose()?;
            Message::Hello(Hello {
                realm: required_str(&t, 2, "a realm")?,
                details: HelloDetails {
                    roles,
                    authmethods: s.raw(authmethods),
                    authid: t.str(4)?,
                    authrole: t.str(5)?,
                    authextra: s.raw(authextra),
                    resumable: t.bool(7)?,
                    ..Default::default()
                },
            })
        }
        WELCOME => {
            let roles = pieces.put(|w| write_roles(w, t.table(1)?, false))?;
            let authextra = pieces.put(|w| write_map(w, t.table(7)?))?;
            let s = pieces.freeze();
            let roles = s.raw(roles).map(Roles::read).transpose()?;
            Message::Welcome(Welcome {
                session: id_field(&t, 0)?,
                details: WelcomeDetails {
                    roles,
                    realm: t.str(2)?,
                    authid: t.str(3)?,
                    authrole: t.str(4)?,
                    authmethod: name_of(&AUTH_METHODS, t.u8(5)?, "a known AuthMethod")?,
                    authprovider: t.str(6)?,
                    authextra: s.raw(authextra),
                    ..Default::default()
                },
            })
        }
        ABORT | GOODBYE => {
            let r = Reason {
                details: Details {
                    message: t.str(2)?,
                    ..Default::default()
                },
                reason: required_str(&t, 1, "a reason")?,
            };
            if code == ABORT {
                Message::Abort(r)
            } else {
                Message::Goodbye(r)
            }
        }
        CHALLENGE => {
            let authmethod = name_of(
                &AUTH_METHODS,
                Some(t.u8(1)?.unwrap_or(0)),
                "a known AuthMethod",
            )?
            .unwrap_or(Str::new("anonymous"));
            let mut extra = ChallengeExtra::default();
            let mut unknown = None;
            if let Some(map) = t.table(2)? {
                let k = required_str(&map, 0, "a Map key")?;
                let v = map.str(1)?;
                let slot = if k.eq_str("challenge") {
                    Some(&mut extra.challenge)
                } else if k.eq_str("salt") {
                    Some(&mut extra.salt)
                } else if k.eq_str("kdf") {
                    Some(&mut extra.kdf)
                } else if k.eq_str("nonce") {
                    Some(&mut extra.nonce)
                } else if k.eq_str("channel_binding") {
                    Some(&mut extra.channel_binding)
                } else {
                    None
                };
                match (slot, v) {
                    (Some(slot), Some(v)) => *slot = Some(v),
                    _ => unknown = pieces.put(|w| write_map(w, Some(map)))?,
                }
            }
            extra.extra = pieces.freeze().raw(unknown);
            Message::Challenge(Challenge { authmethod, extra })
        }
        AUTHENTICATE => {
            let mut extra = Details::default();
            let mut unknown = None;
            if let Some(map) = t.table(2)? {
                match (required_str(&map, 0, "a Map key")?, map.str(1)?) {
                    (k, Some(v)) if k.eq_str("message") => extra.message = Some(v),
                    _ => unknown = pieces.put(|w| write_map(w, Some(map)))?,
                }
            }
            extra.extra = pieces.freeze().raw(unknown);
            Message::Authenticate(Authenticate {
                signature: required_str(&t, 1, "a signature")?,
                extra,
            })
        }
        ERROR => {
            let (payload, passthru) = read_payload(&t, 4, &mut pieces)?;
            let ppt = read_ppt(&t, 7)?;
            let s = pieces.freeze();
            Message::Error(ErrorMsg {
                request_type: u64::from(t.u16(1)?.unwrap_or(0)),
                request: id_field(&t, 2)?,
                details: ErrorDetails {
                    enc_algo: ppt.scheme,
                    enc_serializer: ppt.serializer,
                    ppt_cipher: ppt.cipher,
                    enc_key: ppt.keyid,
                    ..Default::default()
                },
                error: required_str(&t, 3, "an error URI")?,
                payload: with_passthru(payload, s.raw(passthru)),
            })
        }
        PUBLISH => {
            let (payload, passthru) = read_payload(&t, 3, &mut pieces)?;
            let ppt = read_ppt(&t, 6)?;
            let exclude = pieces.put(|w| write_u64s(w, &t, 12))?;
            let exclude_authid = pieces.put(|w| write_strs(w, &t, 13))?;
            let exclude_authrole = pieces.put(|w| write_strs(w, &t, 14))?;
            let eligible = pieces.put(|w| write_u64s(w, &t, 15))?;
            let eligible_authid = pieces.put(|w| write_strs(w, &t, 16))?;
            let eligible_authrole = pieces.put(|w| write_strs(w, &t, 17))?;
            let s = pieces.freeze();
            Message::Publish(Publish {
                request: id_field(&t, 1)?,
                options: PublishOptions {
                    acknowledge: t.bool(10)?,
                    exclude_me: t.bool(11)?,
                    exclude: s.raw(exclude),
                    exclude_authid: s.raw(exclude_authid),
                    exclude_authrole: s.raw(exclude_authrole),
                    eligible: s.raw(eligible),
                    eligible_authid: s.raw(eligible_authid),
                    eligible_authrole: s.raw(eligible_authrole),
                    retain: t.bool(18)?,
                    enc_algo: ppt.scheme,
                    enc_serializer: ppt.serializer,
                    ppt_cipher: ppt.cipher,
                    enc_key: ppt.keyid,
                    ..Default::default()
                },
                topic: required_str(&t, 2, "a topic")?,
                payload: with_passthru(payload, s.raw(passthru)),
            })
        }
        PUBLISHED | SUBSCRIBED | UNSUBSCRIBE | REGISTERED | UNREGISTER => {
            let a = Ack {
                request: id_field(&t, 1)?,
                id: id_field(&t, 2)?,
            };
            match code {
                PUBLISHED => Message::Published(a),
                SUBSCRIBED => Message::Subscribed(a),
                UNSUBSCRIBE => Message::Unsubscribe(a),
                REGISTERED => Message::Registered(a),
                _ => Message::Unregister(a),
            }
        }
        SUBSCRIBE => Message::Subscribe(Subscribe {
            request: id_field(&t, 1)?,
            options: SubscribeOptions {
                match_: enum_of(&MATCHES, t.u8(3)?, "a known Match")?,
                get_retained: t.bool(4)?,
                ..Default::default()
            },
            topic: required_str(&t, 2, "a topic")?,
        }),
        UNSUBSCRIBED | UNREGISTERED => {
            let key = if code == UNSUBSCRIBED {
                "subscription"
            } else {
                "registration"
            };
            let revoked = id_or_zero(&t, 2)?;
            let reason = t.str(3)?;
            let details = pieces.put(|w| {
                if revoked == 0 && reason.is_none() {
                    return Ok(false);
                }
                w.map(usize::from(revoked != 0) + usize::from(reason.is_some()))?;
                if revoked != 0 {
                    w.str(key)?;
                    w.u64(revoked)?;
                }
                if let Some(r) = reason {
                    w.str("reason")?;
                    w.token(Token::Str(r))?;
                }
                w.end()?;
                Ok(true)
            })?;
            let u = Unacked {
                request: id_or_zero(&t, 1)?,
                details: pieces.freeze().raw(details),
            };
            if code == UNSUBSCRIBED {
                Message::Unsubscribed(u)
            } else {
                Message::Unregistered(u)
            }
        }
        EVENT => {
            let (payload, passthru) = read_payload(&t, 3, &mut pieces)?;
            let ppt = read_ppt(&t, 6)?;
            let s = pieces.freeze();
            Message::Event(Event {
                subscription: id_field(&t, 1)?,
                publication: id_field(&t, 2)?,
                details: EventDetails {
                    publisher: t.u64(10)?,
                    publisher_authid: t.str(11)?,
                    publisher_authrole: t.str(12)?,
                    topic: t.str(13)?,
                    retained: t.bool(14)?,
                    enc_algo: ppt.scheme,
                    enc_serializer: ppt.serializer,
                    ppt_cipher: ppt.cipher,
                    enc_key: ppt.keyid,
                    ..Default::default()
                },
                payload: with_passthru(payload, s.raw(passthru)),
            })
        }
        EVENT_RECEIVED => Message::EventReceived(EventReceived {
            publication: id_field(&t, 1)?,
            details: None,
            payload: Payload::NONE,
        }),
        CALL => {
            let (payload, passthru) = read_payload(&t, 3, &mut pieces)?;
            let ppt = read_ppt(&t, 6)?;
            let s = pieces.freeze();
            Message::Call(Call {
                request: id_field(&t, 1)?,
                options: CallOptions {
                    timeout: t.u32(10)?.map(u64::from),
                    receive_progress: t.bool(11)?,
                    enc_algo: ppt.scheme,
                    enc_serializer: ppt.serializer,
                    ppt_cipher: ppt.cipher,
                    enc_key: ppt.keyid,
                    ..Default::default()
                },
                procedure: required_str(&t, 2, "a procedure")?,
                payload: with_passthru(payload, s.raw(passthru)),
            })
        }
        CANCEL | INTERRUPT => {
            let c = Cancel {
                request: id_field(&t, 1)?,
                options: CancelOptions {
                    mode: enum_of(&CANCEL_MODES, t.u8(2)?, "a known CancelMode")?,
                    reason: if code == INTERRUPT { t.str(3)? } else { None },
                    ..Default::default()
                },
            };
            if code == CANCEL {
                Message::Cancel(c)
            } else {
                Message::Interrupt(c)
            }
        }
        RESULT | YIELD => {
            let (payload, passthru) = read_payload(&t, 2, &mut pieces)?;
            let ppt = read_ppt(&t, 5)?;
            let s = pieces.freeze();
            let o = Outcome {
                request: id_field(&t, 1)?,
                details: ResultDetails {
                    progress: t.bool(9)?,
                    enc_algo: ppt.scheme,
                    enc_serializer: ppt.serializer,
                    ppt_cipher: ppt.cipher,
                    enc_key: ppt.keyid,
                    ..Default::default()
                },
                payload: with_passthru(payload, s.raw(passthru)),
            };
            if code == RESULT {
                Message::Result(o)
            } else {
                Message::Yield(o)
            }
        }
        REGISTER => Message::Register(Register {
            request: id_field(&t, 1)?,
            options: RegisterOptions {
                match_: enum_of(&MATCHES, t.u8(3)?, "a known Match")?,
                invoke: enum_of(&INVOKES, t.u8(4)?, "a known InvocationPolicy")?,
                concurrency: t.u16(5)?.map(u64::from),
                force_reregister: t.bool(6)?,
                ..Default::default()
            },
            procedure: required_str(&t, 2, "a procedure")?,
        }),
        INVOCATION => {
            let (payload, passthru) = read_payload(&t, 3, &mut pieces)?;
            let ppt = read_ppt(&t, 6)?;
            let s = pieces.freeze();
            Message::Invocation(Invocation {
                request: id_field(&t, 1)?,
                registration: id_field(&t, 2)?,
                details: InvocationDetails {
                    procedure: t.str(10)?,
                    timeout: t.u32(11)?.map(u64::from),
                    receive_progress: t.bool(12)?,
                    caller: t.u64(14)?,
                    caller_authid: t.str(15)?,
                    caller_authrole: t.str(16)?,
                    enc_algo: ppt.scheme,
                    enc_serializer: ppt.serializer,
                    ppt_cipher: ppt.cipher,
                    enc_key: ppt.keyid,
                    ..Default::default()
                },
                payload: with_passthru(payload, s.raw(passthru)),
            })
        }
        _ => return Err(Error::new(ErrorKind::UnknownMessage, "a WAMP message type")),
    };
    Ok(m)
}

// --- writing ----------------------------------------------------------------------------

/// Fields per table, at most (PUBLISH has 21).
const MAX_FIELDS: usize = 22;

/// A field's value.
#[derive(Clone, Copy)]
enum Val<'x> {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    /// A uoffset to something written after the table.
    Child(Child<'x>),
}

impl Val<'_> {
    fn size(&self) -> usize {
        match self {
            Val::U8(_) => 1,
            Val::U16(_) => 2,
            Val::U32(_) | Val::Child(_) => 4,
            Val::U64(_) => 8,
        }
    }
}

/// What a uoffset points to.
#[derive(Clone, Copy)]
enum Child<'x> {
    Str(Str<'x>),
    /// A payload value as a CBOR byte vector (copied when CBOR, transcoded otherwise).
    Payload(Raw<'x>),
    /// A passthru payload: a byte string's bytes.
    Passthru(Raw<'x>),
    /// A list of IDs as `[uint64]`.
    U64s(Raw<'x>),
    /// A list of strings as `[string]`.
    Strs(Raw<'x>),
    /// A list of authmethod names as `[AuthMethod]` (unknown names left out).
    AuthMethods(Raw<'x>),
    /// A `Map` table.
    Map(Str<'x>, Str<'x>),
    /// ClientRoles (`true`) or RouterRoles from our roles dictionary.
    Roles(Roles<'x>, bool),
    /// A features table: the role's `{"features": {...}}` and the schema's feature names.
    Features(Raw<'x>, &'static [&'static str]),
}

/// A table to write: its fields by id.
struct TableW<'x> {
    fields: [Option<Val<'x>>; MAX_FIELDS],
}

impl<'x> TableW<'x> {
    fn new() -> Self {
        Self {
            fields: [None; MAX_FIELDS],
        }
    }

    fn set(&mut self, id: usize, v: Val<'x>) {
        self.fields[id] = Some(v);
    }

    fn opt(&mut self, id: usize, v: Option<Val<'x>>) {
        if let Some(v) = v {
            self.set(id, v);
        }
    }

    fn str(&mut self, id: usize, s: Option<Str<'x>>) {
        self.opt(id, s.map(|s| Val::Child(Child::Str(s))));
    }

    fn bool(&mut self, id: usize, b: Option<bool>) {
        self.opt(id, b.map(|b| Val::U8(u8::from(b))));
    }

    fn u64(&mut self, id: usize, v: u64) {
        self.set(id, Val::U64(v));
    }

    /// Fields up to the last one set: the vtable's entries.
    fn len(&self) -> usize {
        self.fields
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1)
    }

    /// Where the table starts when laid out from `pos`: after its vtable, 8-aligned.
    fn start_at(&self, pos: usize) -> usize {
        let vt_end = pos + 4 + 2 * self.len();
        vt_end + pad_to(vt_end, 8)
    }
}

fn pad_to(pos: usize, align: usize) -> usize {
    (align - pos % align) % align
}

fn zeros<O: Out + ?Sized>(out: Option<&mut O>, n: usize) -> Result<(), Error> {
    if let Some(o) = out {
        for _ in 0..n {
            o.put_byte(0)?;
        }
    }
    Ok(())
}

/// Lays out `t` at `pos` (its vtable, the table, then what its fields point to) and, with
/// an `out`, writes it. Returns (where the table starts, where everything ends). The same
/// code sizes and writes, so the offsets written are the offsets the sizing computed.
fn emit_table<O: Out + ?Sized>(
    t: &TableW<'_>,
    pos: usize,
    out: Option<&mut O>,
) -> Result<(usize, usize), Error> {
    let n = t.len();
    let vt_len = 4 + 2 * n;
    // The vtable (2-aligned: pos always is), then the table, 8-aligned for u64 fields.
    let table = t.start_at(pos);
    // Field offsets inside the table: soffset, then 8-, 4-, 2-, 1-byte fields.
    let mut offs = [0u16; MAX_FIELDS];
    let mut at = 4;
    let has64 = t.fields.iter().flatten().any(|v| v.size() == 8);
    if has64 {
        at = 8;
    }
    for size in [8, 4, 2, 1] {
        for (i, f) in t.fields.iter().enumerate() {
            if let Some(v) = f {
                if v.size() == size {
                    offs[i] = at as u16;
                    at += size;
                }
            }
        }
    }
    let table_len = at;
    // Children, in field order, after the table.
    let mut child_at = [0usize; MAX_FIELDS];
    let mut end = table + table_len;
    for (i, f) in t.fields.iter().enumerate() {
        if let Some(Val::Child(c)) = f {
            let (start, e) = emit_child::<O>(c, end, None)?;
            child_at[i] = start;
            end = e;
        }
    }
    if let Some(o) = out {
        if table_len > usize::from(u16::MAX) {
            return Err(Error::new(ErrorKind::OutOfRange, "a smaller table"));
        }
        o.put(&(vt_len as u16).to_le_bytes())?;
        o.put(&(table_len as u16).to_le_bytes())?;
        for off in &offs[..n] {
            o.put(&off.to_le_bytes())?;
        }
        zeros(Some(&mut *o), table - (pos + vt_len))?;
        o.put(&((table - pos) as i32).to_le_bytes())?;
        if has64 {
            o.put(&[0; 4])?;
        }
        for size in [8, 4, 2, 1] {
            for (i, f) in t.fields.iter().enumerate() {
                match f {
                    Some(Val::U64(v)) if size == 8 => o.put(&v.to_le_bytes())?,
                    Some(Val::U32(v)) if size == 4 => o.put(&v.to_le_bytes())?,
                    Some(Val::Child(_)) if size == 4 => {
                        let field = table + usize::from(offs[i]);
                        let rel = u32::try_from(child_at[i] - field)
                            .map_err(|_| Error::new(ErrorKind::OutOfRange, "a smaller message"))?;
                        o.put(&rel.to_le_bytes())?;
                    }
                    Some(Val::U16(v)) if size == 2 => o.put(&v.to_le_bytes())?,
                    Some(Val::U8(v)) if size == 1 => o.put_byte(*v)?,
                    _ => {}
                }
            }
        }
        let mut at = table + table_len;
        for f in t.fields.iter() {
            if let Some(Val::Child(c)) = f {
                let (_, e) = emit_child(c, at, Some(&mut *o))?;
                at = e;
            }
        }
        debug_assert_eq!(at, end);
    }
    Ok((table, end))
}

/// Lays out (and with `out` writes) one child at `pos`: (where it starts, where it ends).
fn emit_child<O: Out + ?Sized>(
    c: &Child<'_>,
    pos: usize,
    mut out: Option<&mut O>,
) -> Result<(usize, usize), Error> {
    // Vectors and strings: a u32 length (4-aligned, or at 4 mod 8 for u64 elements), the
    // elements, padding to 4.
    let vector = |out: Option<&mut O>,
                  n: usize,
                  body: usize,
                  elem8: bool,
                  write: &mut dyn FnMut(&mut O) -> Result<(), Error>|
     -> Result<(usize, usize), Error> {
        let mut start = pos + pad_to(pos, 4);
        if elem8 && start % 8 == 0 {
            start += 4;
        }
        let end = start + 4 + body;
        let end = end + pad_to(end, 4);
        if let Some(o) = out {
            zeros(Some(&mut *o), start - pos)?;
            let n = u32::try_from(n)
                .map_err(|_| Error::new(ErrorKind::OutOfRange, "a shorter vector"))?;
            o.put(&n.to_le_bytes())?;
            write(o)?;
            zeros(Some(o), end - (start + 4 + body))?;
        }
        Ok((start, end))
    };
    match *c {
        Child::Str(s) => vector(out, s.len(), s.len() + 1, false, &mut |o| {
            put_str(o, s)?;
            o.put_byte(0)
        }),
        Child::Payload(raw) => {
            let n = if raw.format == Format::Cbor {
                raw.bytes.len()
            } else {
                let mut count = CountOut::default();
                Writer::new(Format::Cbor, &mut count).raw(raw)?;
                count.0
            };
            vector(out, n, n, false, &mut |o| {
                Writer::new(Format::Cbor, o).raw(raw)
            })
        }
        Child::Passthru(raw) => {
            let Token::Bytes(b) = raw.head()? else {
                return Err(Error::new(ErrorKind::WrongType, "passthru bytes"));
            };
            vector(out, b.len(), b.len(), false, &mut |o| put_bytes(o, b))
        }
        Child::U64s(raw) => {
            let n = dict::ids(raw)?.count();
            vector(out, n, 8 * n, true, &mut |o| {
                for v in dict::ids(raw)? {
                    o.put(&v?.to_le_bytes())?;
                }
                Ok(())
            })
        }
        Child::AuthMethods(raw) => {
            let mut n = 0;
            for name in dict::strs(raw)? {
                n += usize::from(index_of(&AUTH_METHODS, Some(name?)).is_some());
            }
            vector(out, n, n, false, &mut |o| {
                for name in dict::strs(raw)? {
                    if let Some(v) = index_of(&AUTH_METHODS, Some(name?)) {
                        o.put_byte(v)?;
                    }
                }
                Ok(())
            })
        }
        Child::Strs(raw) => {
            // The vector of offsets, then the strings one after another.
            let n = dict::strs(raw)?.count();
            let start = pos + pad_to(pos, 4);
            let strings = start + 4 + 4 * n;
            let mut end = strings;
            for s in dict::strs(raw)? {
                end = emit_child::<O>(&Child::Str(s?), end, None)?.1;
            }
            if let Some(o) = out.as_deref_mut() {
                zeros(Some(&mut *o), start - pos)?;
                o.put(&(n as u32).to_le_bytes())?;
                let mut at = strings;
                for (k, s) in dict::strs(raw)?.enumerate() {
                    let (st, e) = emit_child::<O>(&Child::Str(s?), at, None)?;
                    o.put(&((st - (start + 4 + 4 * k)) as u32).to_le_bytes())?;
                    at = e;
                }
                let mut at = strings;
                for s in dict::strs(raw)? {
                    at = emit_child(&Child::Str(s?), at, Some(&mut *o))?.1;
                }
            }
            Ok((start, end))
        }
        Child::Map(k, v) => {
            let mut t = TableW::new();
            t.str(0, Some(k));
            t.str(1, Some(v));
            emit_table(&t, pos, out)
        }
        Child::Roles(roles, client) => {
            let mut t = TableW::new();
            let slots: [(usize, Option<Raw<'_>>, &'static [&'static str]); 4] = if client {
                [
                    (0, roles.publisher, PUBLISHER),
                    (1, roles.subscriber, SUBSCRIBER),
                    (2, roles.caller, CALLER),
                    (3, roles.callee, CALLEE),
                ]
            } else {
                [
                    (0, roles.broker, BROKER),
                    (1, roles.dealer, DEALER),
                    (MAX_FIELDS, None, &[]),
                    (MAX_FIELDS, None, &[]),
                ]
            };
            for (id, role, names) in slots {
                if let Some(r) = role {
                    t.set(id, Val::Child(Child::Features(r, names)));
                }
            }
            emit_table(&t, pos, out)
        }
        Child::Features(role, names) => {
            let mut t = TableW::new();
            for (i, name) in names.iter().enumerate() {
                if dict::has_feature(role, name) {
                    t.set(i, Val::U8(1));
                }
            }
            emit_table(&t, pos, out)
        }
    }
}

/// The payload fields (args, kwargs, payload) from `first`.
fn set_payload<'x>(t: &mut TableW<'x>, first: usize, p: &Payload<'x>) -> Result<(), Error> {
    if let Some(a) = p.args {
        match a.head()? {
            Token::Bytes(_) => {
                t.set(first + 2, Val::Child(Child::Passthru(a)));
                return Ok(());
            }
            _ => t.set(first, Val::Child(Child::Payload(a))),
        }
    }
    if let Some(k) = p.kwargs {
        t.set(first + 1, Val::Child(Child::Payload(k)));
    }
    Ok(())
}

/// The passthru enums and key id from `first` (ppt_* preferred, else Autobahn's enc_*).
#[allow(clippy::too_many_arguments)]
fn set_ppt<'x>(
    t: &mut TableW<'x>,
    first: usize,
    scheme: Option<Str<'x>>,
    serializer: Option<Str<'x>>,
    cipher: Option<Str<'x>>,
    keyid: Option<Str<'x>>,
    enc_algo: Option<Str<'x>>,
    enc_serializer: Option<Str<'x>>,
    enc_key: Option<Str<'x>>,
) {
    let pick = |a: Option<Str<'x>>, b: Option<Str<'x>>, names: &[&str]| {
        index_of(names, a).or_else(|| index_of(names, b))
    };
    t.opt(first, pick(scheme, enc_algo, &PPT_SCHEMES).map(Val::U8));
    t.opt(
        first + 1,
        pick(serializer, enc_serializer, &PPT_SERIALIZERS).map(Val::U8),
    );
    t.opt(first + 2, index_of(&PPT_CIPHERS, cipher).map(Val::U8));
    t.str(first + 3, keyid.or(enc_key));
}

fn enum_index<T: PartialEq>(values: &[T], v: Option<T>) -> Option<Val<'static>> {
    let v = v?;
    values
        .iter()
        .position(|x| *x == v)
        .map(|i| Val::U8(i as u8))
}

/// The first entry of a dictionary whose value is a string: what a `Map` can carry.
fn first_str_entry(d: Option<Raw<'_>>) -> Result<Option<(Str<'_>, Str<'_>)>, Error> {
    let Some(d) = d else { return Ok(None) };
    for e in d.entries()? {
        let (k, v) = e?;
        if let Ok(Token::Str(s)) = v.head() {
            return Ok(Some((k, s)));
        }
    }
    Ok(None)
}

fn map_child<'x>(kv: Option<(Str<'x>, Str<'x>)>) -> Option<Val<'x>> {
    kv.map(|(k, v)| Val::Child(Child::Map(k, v)))
}

/// Encodes `m` as a FlatBuffers WAMP message the way Autobahn|Python reads it (see the
/// module docs for what the schema cannot carry). Payloads in another format than CBOR
/// are transcoded to CBOR.
pub fn encode<O: Out + ?Sized>(m: &Message<'_>, out: &mut O) -> Result<(), Error> {
    let mut t = TableW::new();
    let code = m.code();
    match m {
        Message::Hello(h) => {
            let d = &h.details;
            t.str(2, Some(h.realm));
            t.opt(
                1,
                Some(Val::Child(Child::Roles(d.roles.unwrap_or_default(), true))),
            );
            t.opt(3, d.authmethods.map(|a| Val::Child(Child::AuthMethods(a))));
            t.str(4, d.authid);
            t.str(5, d.authrole);
            t.opt(6, map_child(first_str_entry(d.authextra)?));
            t.bool(7, d.resumable);
        }
        Message::Welcome(w) => {
            let d = &w.details;
            t.u64(0, w.session);
            t.opt(
                1,
                Some(Val::Child(Child::Roles(d.roles.unwrap_or_default(), false))),
            );
            t.str(2, d.realm);
            t.str(3, d.authid);
            t.str(4, d.authrole);
            t.opt(
                5,
                d.authmethod
                    .and_then(|s| AUTH_METHODS.iter().position(|n| s.eq_str(n)))
                    .map(|i| Val::U8(i as u8)),
            );
            t.str(6, d.authprovider);
            t.opt(7, map_child(first_str_entry(d.authextra)?));
        }
        Message::Abort(r) | Message::Goodbye(r) => {
            t.str(1, Some(r.reason));
            t.str(2, r.details.message);
        }
        Message::Challenge(c) => {
            let method = AUTH_METHODS
                .iter()
                .position(|n| c.authmethod.eq_str(n))
                .ok_or(Error::new(
                    ErrorKind::Unsupported,
                    "an authmethod FlatBuffers knows",
                ))?;
            t.set(1, Val::U8(method as u8));
            let e = &c.extra;
            let entry = [
                ("challenge", e.challenge),
                ("nonce", e.nonce),
                ("salt", e.salt),
                ("kdf", e.kdf),
                ("channel_binding", e.channel_binding),
            ]
            .into_iter()
            .find_map(|(k, v)| v.map(|v| (Str::new(k), v)));
            let entry = match entry {
                Some(kv) => Some(kv),
                None => first_str_entry(e.extra)?,
            };
            t.opt(2, map_child(entry));
        }
        Message::Authenticate(a) => {
            t.str(1, Some(a.signature));
            let entry = match a.extra.message {
                Some(msg) => Some((Str::new("message"), msg)),
                None => first_str_entry(a.extra.extra)?,
            };
            t.opt(2, map_child(entry));
        }
        Message::Error(e) => {
            let rt = u16::try_from(e.request_type)
                .map_err(|_| Error::new(ErrorKind::OutOfRange, "a message type code"))?;
            t.set(1, Val::U16(rt));
            t.u64(2, e.request);
            t.str(3, Some(e.error));
            set_payload(&mut t, 4, &e.payload)?;
            let d = &e.details;
            set_ppt(
                &mut t,
                7,
                d.ppt_scheme,
                d.ppt_serializer,
                d.ppt_cipher,
                d.ppt_keyid,
                d.enc_algo,
                d.enc_serializer,
                d.enc_key,
            );
        }
        Message::Publish(p) => {
            let o = &p.options;
            t.u64(1, p.request);
            t.str(2, Some(p.topic));
            set_payload(&mut t, 3, &p.payload)?;
            set_ppt(
                &mut t,
                6,
                o.ppt_scheme,
                o.ppt_serializer,
                o.ppt_cipher,
                o.ppt_keyid,
                o.enc_algo,
                o.enc_serializer,
                o.enc_key,
            );
            t.bool(10, o.acknowledge);
            t.bool(11, o.exclude_me);
            t.opt(12, o.exclude.map(|r| Val::Child(Child::U64s(r))));
            t.opt(13, o.exclude_authid.map(|r| Val::Child(Child::Strs(r))));
            t.opt(14, o.exclude_authrole.map(|r| Val::Child(Child::Strs(r))));
            t.opt(15, o.eligible.map(|r| Val::Child(Child::U64s(r))));
            t.opt(16, o.eligible_authid.map(|r| Val::Child(Child::Strs(r))));
            t.opt(17, o.eligible_authrole.map(|r| Val::Child(Child::Strs(r))));
            t.bool(18, o.retain);
        }
        Message::Published(a)
        | Message::Subscribed(a)
        | Message::Unsubscribe(a)
        | Message::Registered(a)
        | Message::Unregister(a) => {
            t.u64(1, a.request);
            t.u64(2, a.id);
        }
        Message::Subscribe(s) => {
            t.u64(1, s.request);
            t.str(2, Some(s.topic));
            t.opt(3, enum_index(&MATCHES, s.options.match_));
            t.bool(4, s.options.get_retained);
        }
        Message::Unsubscribed(u) | Message::Unregistered(u) => {
            let key = if code == code::UNSUBSCRIBED {
                "subscription"
            } else {
                "registration"
            };
            t.u64(1, u.request);
            if let Some(d) = u.details {
                if let Some(v) = d.get(key)? {
                    t.u64(2, v.reader().u64()?);
                }
                if let Some(v) = d.get("reason")? {
                    t.str(3, Some(v.reader().str()?));
                }
            }
        }
        Message::Event(e) => {
            let d = &e.details;
            t.u64(1, e.subscription);
            t.u64(2, e.publication);
            set_payload(&mut t, 3, &e.payload)?;
            set_ppt(
                &mut t,
                6,
                d.ppt_scheme,
                d.ppt_serializer,
                d.ppt_cipher,
                d.ppt_keyid,
                d.enc_algo,
                d.enc_serializer,
                d.enc_key,
            );
            t.opt(10, d.publisher.map(Val::U64));
            t.str(11, d.publisher_authid);
            t.str(12, d.publisher_authrole);
            t.str(13, d.topic);
            t.bool(14, d.retained);
        }
        Message::EventReceived(e) => t.u64(1, e.publication),
        Message::Call(c) => {
            let o = &c.options;
            t.u64(1, c.request);
            t.str(2, Some(c.procedure));
            set_payload(&mut t, 3, &c.payload)?;
            set_ppt(
                &mut t,
                6,
                o.ppt_scheme,
                o.ppt_serializer,
                o.ppt_cipher,
                o.ppt_keyid,
                o.enc_algo,
                o.enc_serializer,
                o.enc_key,
            );
            t.opt(
                10,
                o.timeout.map(|v| Val::U32(v.min(u32::MAX.into()) as u32)),
            );
            t.bool(11, o.receive_progress);
        }
        Message::Cancel(c) | Message::Interrupt(c) => {
            t.u64(1, c.request);
            t.opt(2, enum_index(&CANCEL_MODES, c.options.mode));
            if code == code::INTERRUPT {
                t.str(3, c.options.reason);
            }
        }
        Message::Result(r) | Message::Yield(r) => {
            let d = &r.details;
            t.u64(1, r.request);
            set_payload(&mut t, 2, &r.payload)?;
            set_ppt(
                &mut t,
                5,
                d.ppt_scheme,
                d.ppt_serializer,
                d.ppt_cipher,
                d.ppt_keyid,
                d.enc_algo,
                d.enc_serializer,
                d.enc_key,
            );
            t.bool(9, d.progress);
        }
        Message::Register(r) => {
            let o = &r.options;
            t.u64(1, r.request);
            t.str(2, Some(r.procedure));
            t.opt(3, enum_index(&MATCHES, o.match_));
            t.opt(4, enum_index(&INVOKES, o.invoke));
            t.opt(
                5,
                o.concurrency
                    .map(|v| Val::U16(v.min(u16::MAX.into()) as u16)),
            );
            t.bool(6, o.force_reregister);
        }
        Message::Invocation(i) => {
            let d = &i.details;
            t.u64(1, i.request);
            t.u64(2, i.registration);
            set_payload(&mut t, 3, &i.payload)?;
            set_ppt(
                &mut t,
                6,
                d.ppt_scheme,
                d.ppt_serializer,
                d.ppt_cipher,
                d.ppt_keyid,
                d.enc_algo,
                d.enc_serializer,
                d.enc_key,
            );
            t.str(10, d.procedure);
            t.opt(
                11,
                d.timeout.map(|v| Val::U32(v.min(u32::MAX.into()) as u32)),
            );
            t.bool(12, d.receive_progress);
            t.opt(14, d.caller.map(Val::U64));
            t.str(15, d.caller_authid);
            t.str(16, d.caller_authrole);
        }
    }
    let tag = if code == code::EVENT_RECEIVED {
        TAG_EVENT_RECEIVED
    } else {
        code as u8
    };
    // The root uoffset and the Message table { msg_type: u8 (field 0), msg (field 1) },
    // laid out by hand: vtable at 4, table at 16, the message's own table from 28.
    let mut head = [0u8; ROOT_LEN];
    head[0..4].copy_from_slice(&16u32.to_le_bytes());
    head[4..12].copy_from_slice(&[8, 0, 9, 0, 8, 0, 4, 0]);
    head[16..20].copy_from_slice(&12i32.to_le_bytes());
    let table = t.start_at(ROOT_LEN) as u32;
    head[20..24].copy_from_slice(&(table - 20).to_le_bytes());
    head[24] = tag;
    out.put(&head)?;
    emit_table(&t, ROOT_LEN, Some(out)).map(|_| ())
}

/// Bytes before the message's own table: root uoffset, Message vtable and table, padding.
const ROOT_LEN: usize = 28;

#[cfg(all(test, feature = "json-float"))]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    /// Every message type, with every option FlatBuffers has a field for.
    const CASES: &[&str] = &[
        r#"[1,"realm1",{"roles":{"caller":{"features":{"call_canceling":true,"progressive_call_results":true}},"callee":{"features":{"shared_registration":true}},"publisher":{"features":{}},"subscriber":{"features":{"pattern_based_subscription":true}}},"authmethods":["cryptosign","ticket","anonymous"],"authid":"alice","authrole":"user","authextra":{"pubkey":"abcd"},"resumable":false}]"#,
        r#"[1,"realm1",{}]"#,
        r#"[2,9007199254740992,{"roles":{"broker":{"features":{"session_meta_api":true,"event_retention":true}},"dealer":{"features":{"call_canceling":true}}},"realm":"realm1","authid":"alice","authrole":"user","authmethod":"ticket","authprovider":"static","authextra":{"scram_server_signature":"c2ln"}}]"#,
        r#"[3,{"message":"no realm é"},"wamp.error.no_such_realm"]"#,
        r#"[4,"wampcra",{"challenge":"{'nonce': 'x'}"}]"#,
        r#"[4,"cryptosign",{"x_other":"y"}]"#,
        r#"[5,"c2lnbmF0dXJl",{"message":"hi"}]"#,
        r#"[5,"sig",{"x":"y"}]"#,
        r#"[6,{},"wamp.close.normal"]"#,
        r#"[8,48,123,{},"com.example.error",[1,-2,9007199254740992,1.5,"ü",null,true,[],{}],{"a":{"b":[1]}}]"#,
        r#"[8,64,9007199254740992,{},"wamp.error.procedure_already_exists"]"#,
        r#"[16,1,{"acknowledge":true,"exclude_me":false,"exclude":[1,2],"exclude_authid":["a","bb"],"exclude_authrole":["r"],"eligible":[3],"eligible_authid":["b"],"eligible_authrole":["s",""],"retain":true},"com.example.topic",[1],{"k":"v"}]"#,
        r#"[16,2,{},"com.example.topic",[],{"k":[1]}]"#,
        r#"[16,3,{"enc_algo":"cryptobox","enc_serializer":"json","enc_key":"key"},"com.example.e2e","\u0000AAF/gP7/"]"#,
        r#"[17,1,9007199254740992]"#,
        r#"[32,2,{"match":"prefix","get_retained":true},"com.example."]"#,
        r#"[33,2,77]"#,
        r#"[34,3,77]"#,
        r#"[35,3]"#,
        r#"[35,0,{"subscription":77,"reason":"wamp.subscription.revoked"}]"#,
        r#"[36,77,88,{"publisher":5,"publisher_authid":"alice","publisher_authrole":"user","topic":"com.example.topic","retained":true},[1,"x"],{"y":2}]"#,
        r#"[36,77,89,{}]"#,
        r#"[337,88]"#,
        r#"[48,4,{"receive_progress":true,"timeout":1000},"com.example.add",[1,2],{"k":"v"}]"#,
        r#"[48,5,{},"com.example.echo",["\u0000AAF/"]]"#,
        r#"[49,4,{"mode":"killnowait"}]"#,
        r#"[50,4,{"progress":true},[1],{"a":1}]"#,
        r#"[50,5,{}]"#,
        r#"[64,6,{"match":"wildcard","invoke":"roundrobin","concurrency":4,"force_reregister":true},"com..x"]"#,
        r#"[65,6,99]"#,
        r#"[66,7,99]"#,
        r#"[67,7]"#,
        r#"[67,0,{"registration":99,"reason":"wamp.registration.revoked"}]"#,
        r#"[68,8,99,{"caller":5,"caller_authid":"bob","caller_authrole":"user","procedure":"com.example.add","receive_progress":true,"timeout":500},[1],{"x":null}]"#,
        r#"[69,8,{"mode":"kill","reason":"wamp.error.timeout"}]"#,
        r#"[70,8,{"progress":true},[1,2]]"#,
        r#"[70,9,{}]"#,
    ];

    fn json(m: &Message<'_>) -> String {
        let mut v = Vec::new();
        m.encode(Format::Json, &mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    fn fb(m: &Message<'_>) -> Vec<u8> {
        let mut v = Vec::new();
        encode(m, &mut v).unwrap();
        v
    }

    #[test]
    fn every_message_type_round_trips() {
        let mut seen = std::collections::BTreeSet::new();
        for case in CASES {
            let m = Message::decode(Format::Json, case.as_bytes()).unwrap();
            seen.insert(m.code());
            let bytes = fb(&m);
            let mut scratch = [0u8; 4096];
            let back = decode(&bytes, &mut scratch).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(json(&back), json(&m), "{case}");
            // Payloads are spans of the FlatBuffers input, not copies.
            let payload = match back {
                Message::Call(c) => Some(c.payload),
                Message::Event(e) => Some(e.payload),
                _ => None,
            };
            if let Some(Payload { args: Some(a), .. }) = payload {
                if a.is_array() {
                    let inside = bytes.as_ptr_range();
                    assert!(inside.contains(&a.bytes.as_ptr()), "{case}: args copied");
                    assert_eq!(a.format, Format::Cbor);
                }
            }
            // Writing it again gives the same bytes.
            assert_eq!(fb(&back), bytes, "{case}");
        }
        assert_eq!(seen.len(), 25, "every message type");
    }

    #[test]
    fn what_the_schema_has_no_field_for_is_dropped() {
        let m = Message::decode(
            Format::Json,
            br#"[48,1,{"disclose_me":true,"x_custom":1,"timeout":5000000000},"p",[1]]"#,
        )
        .unwrap();
        let bytes = fb(&m);
        let back = decode(&bytes, &mut []).unwrap();
        assert_eq!(
            json(&back),
            r#"[48,1,{"timeout":4294967295},"p",[1]]"#,
            "unknown keys and disclose_me dropped, timeout saturated"
        );
        // Payloads in any format arrive as CBOR.
        for f in Format::ALL {
            let mut v = Vec::new();
            m.encode(f, &mut v).unwrap();
            let m2 = Message::decode(f, &v).unwrap();
            let back2 = fb(&m2);
            assert_eq!(back2, bytes, "{f}");
        }
    }

    #[test]
    fn the_union_tag_is_the_wamp_code() {
        let m = Message::decode(Format::Json, br#"[48,1,{},"p"]"#).unwrap();
        let b = fb(&m);
        assert_eq!(b[24], 48);
        let m = Message::decode(Format::Json, br#"[337,1]"#).unwrap();
        assert_eq!(fb(&m)[24], 37);
    }

    #[test]
    fn scratch_too_small_says_so_and_scratch_len_suffices() {
        let m = Message::decode(Format::Json, CASES[0].as_bytes()).unwrap();
        let bytes = fb(&m);
        let e = decode(&bytes, &mut []).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferFull);
        let mut scratch = std::vec![0u8; scratch_len(bytes.len())];
        assert!(decode(&bytes, &mut scratch).is_ok());
        // No scratch needed without such fields.
        let m = Message::decode(Format::Json, CASES[23].as_bytes()).unwrap();
        assert!(decode(&fb(&m), &mut []).is_ok());
    }

    #[test]
    fn truncated_or_corrupted_input_is_an_error_not_a_panic() {
        for case in CASES {
            let m = Message::decode(Format::Json, case.as_bytes()).unwrap();
            let bytes = fb(&m);
            let mut scratch = [0u8; 8192];
            for n in 0..bytes.len() {
                // Truncation: fields past the end must be refused, never read.
                let _ = decode(&bytes[..n], &mut scratch);
            }
            for i in 0..bytes.len() {
                for flip in [0x01u8, 0x80, 0xFF] {
                    let mut b = bytes.clone();
                    b[i] ^= flip;
                    let _ = decode(&b, &mut scratch);
                }
            }
        }
        let cases: [(&[u8], ErrorKind); 4] = [
            (b"", ErrorKind::Truncated),
            (&[4, 0, 0, 0], ErrorKind::Truncated),
            // A root offset past the end.
            (&[0xFF, 0, 0, 0, 0, 0, 0, 0], ErrorKind::Truncated),
            // A vtable offset pointing before the buffer.
            (&[4, 0, 0, 0, 0x10, 0, 0, 0], ErrorKind::Syntax),
        ];
        for (b, kind) in cases {
            assert_eq!(decode(b, &mut []).unwrap_err().kind, kind, "{b:?}");
        }
    }

    #[test]
    fn unknown_tags_and_bad_payloads_are_refused() {
        let m = Message::decode(Format::Json, br#"[48,1,{},"p",[1]]"#).unwrap();
        let mut b = fb(&m);
        b[24] = 99;
        assert_eq!(
            decode(&b, &mut []).unwrap_err().kind,
            ErrorKind::UnknownMessage
        );
        // args that are a CBOR map, not a list.
        let m = Message::decode(Format::Json, br#"[48,1,{},"p",[1]]"#).unwrap();
        let mut b = fb(&m);
        let at = b.windows(2).position(|w| w == [0x81, 0x01]).unwrap();
        b[at] = 0xA0; // an empty map, then a trailing byte
        assert!(decode(&b, &mut []).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let mut scratch = [0u8; 1024];
            let _ = decode(&bytes, &mut scratch);
        }

        #[test]
        fn mutated_messages_never_panic(case in 0..CASES.len(), at in 0usize..4096, v in proptest::prelude::any::<u8>()) {
            let m = Message::decode(Format::Json, CASES[case].as_bytes()).unwrap();
            let mut b = fb(&m);
            let i = at % b.len();
            b[i] = v;
            let mut scratch = [0u8; 4096];
            if let Ok(m) = decode(&b, &mut scratch) {
                // What decodes encodes again.
                let mut out = Vec::new();
                let _ = encode(&m, &mut out);
            }
        }
    }
}
