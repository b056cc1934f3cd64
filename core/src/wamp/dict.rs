//! Typed `Details` / `Options` dictionaries: every key a client or router of the basic and
//! advanced profiles uses, as fields; every other key kept in `extra` (the dictionary as it
//! arrived) and written back out, so a router forwards what it does not understand.
//!
//! Each type is declared with the `dict!` macro: its fields, their wire keys and value types. Values
//! borrow from the input ([`Str`], [`Raw`]); lists (`exclude`, `eligible`, `authmethods`)
//! stay [`Raw`] with typed iterators ([`ids`], [`strs`]).

use super::error::{Error, ErrorKind};
use super::out::Out;
use super::uri::Match;
use super::value::{Raw, Reader, Str, Token, Writer};

/// A value type a dictionary field can hold.
pub trait Field<'a>: Sized {
    /// Reads the field from its serialized value.
    fn read(v: Raw<'a>) -> Result<Self, Error>;
    /// Reads the field's value from a reader positioned at it.
    fn read_from(r: &mut Reader<'a>) -> Result<Self, Error> {
        Self::read(r.skip()?)
    }
    /// Writes the field's value.
    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error>;
    /// Reads the field's value into `slot`: one out-of-line function per value type, so a
    /// dictionary's field dispatch is a compare and a call per field (code size on devices).
    #[inline(never)]
    fn read_into(r: &mut Reader<'a>, slot: &mut Option<Self>) -> Result<(), Error> {
        *slot = Some(Self::read_from(r)?);
        Ok(())
    }
    /// For `write_dict`: whether `slot` is set, and with a writer, writes its value.
    #[inline(never)]
    fn write_slot<O: Out + ?Sized>(
        slot: &Option<Self>,
        w: Option<&mut Writer<'_, O>>,
    ) -> Result<bool, Error> {
        match (slot, w) {
            (None, _) => Ok(false),
            (Some(_), None) => Ok(true),
            (Some(v), Some(w)) => v.write(w).map(|()| true),
        }
    }
}

impl<'a> Field<'a> for bool {
    fn read(v: Raw<'a>) -> Result<Self, Error> {
        v.reader().bool()
    }
    fn read_from(r: &mut Reader<'a>) -> Result<Self, Error> {
        r.bool()
    }
    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        w.bool(*self)
    }
}

impl<'a> Field<'a> for u64 {
    fn read(v: Raw<'a>) -> Result<Self, Error> {
        v.reader().u64()
    }
    fn read_from(r: &mut Reader<'a>) -> Result<Self, Error> {
        r.u64()
    }
    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        w.u64(*self)
    }
}

impl<'a> Field<'a> for Str<'a> {
    fn read(v: Raw<'a>) -> Result<Self, Error> {
        v.reader().str()
    }
    fn read_from(r: &mut Reader<'a>) -> Result<Self, Error> {
        r.str()
    }
    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        w.token(Token::Str(*self))
    }
}

impl<'a> Field<'a> for Raw<'a> {
    fn read(v: Raw<'a>) -> Result<Self, Error> {
        Ok(v)
    }
    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        w.raw(*self)
    }
}

/// Declares an enum read from and written as a string option value.
macro_rules! str_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v),* }

        impl $name {
            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
            /// From the wire string.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$v),)* _ => None }
            }
        }

        impl<'a> Field<'a> for $name {
            fn read(v: Raw<'a>) -> Result<Self, Error> {
                let s = v.reader().str()?;
                [$($name::$v),*]
                    .into_iter()
                    .find(|x| s.eq_str(x.as_str()))
                    .ok_or(Error::new(ErrorKind::WrongType, concat!("a known ", stringify!($name))))
            }
            fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
                w.str(self.as_str())
            }
        }
    };
}

impl<'a> Field<'a> for Match {
    fn read(v: Raw<'a>) -> Result<Self, Error> {
        let s = v.reader().str()?;
        [Match::Exact, Match::Prefix, Match::Wildcard]
            .into_iter()
            .find(|m| s.eq_str(m.as_str()))
            .ok_or(Error::new(
                ErrorKind::WrongType,
                "match: exact, prefix or wildcard",
            ))
    }
    fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
        w.str(self.as_str())
    }
}

str_enum! {
    /// How a dealer picks among shared registrations (option `invoke`).
    pub enum Invoke {
        /// Only one registration allowed (the default).
        Single = "single",
        /// The first callee that registered.
        First = "first",
        /// The last callee that registered.
        Last = "last",
        /// Each in turn.
        RoundRobin = "roundrobin",
        /// A random one.
        Random = "random",
    }
}

str_enum! {
    /// How a call is canceled (CANCEL/INTERRUPT option `mode`).
    pub enum CancelMode {
        /// Answer the caller at once; the callee is not told.
        Skip = "skip",
        /// Interrupt the callee and wait for its answer.
        Kill = "kill",
        /// Interrupt the callee and answer the caller at once.
        KillNoWait = "killnowait",
    }
}

/// Counts the entries of `extra` whose keys are not in `known`.
fn count_unknown(extra: Option<Raw<'_>>, known: &[&str]) -> Result<usize, Error> {
    let mut n = 0;
    if let Some(d) = extra {
        for e in d.entries()? {
            let (k, _) = e?;
            if !known.iter().any(|kk| k.eq_str(kk)) {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Writes the entries of `extra` whose keys are not in `known`.
fn write_unknown<O: Out + ?Sized>(
    extra: Option<Raw<'_>>,
    known: &[&str],
    w: &mut Writer<'_, O>,
) -> Result<(), Error> {
    if let Some(d) = extra {
        for e in d.entries()? {
            let (k, v) = e?;
            if !known.iter().any(|kk| k.eq_str(kk)) {
                w.token(Token::Str(k))?;
                w.raw(v)?;
            }
        }
    }
    Ok(())
}

/// Reads a dictionary at `r`: for each entry whose key is `keys[i]` (and whose value is
/// not null), `field(i, r)` reads the value; other entries are skipped. Returns the whole
/// dictionary as raw bytes when it had keys not in `keys` (kept for forwarding). Shared by
/// every [`dict!`] type, so that each type only adds its field dispatch to the code size.
fn read_dict<'a>(
    r: &mut Reader<'a>,
    keys: &[&str],
    field: &mut dyn FnMut(usize, &mut Reader<'a>) -> Result<(), Error>,
) -> Result<Option<Raw<'a>>, Error> {
    let start = r.value_start()?;
    match r.next()? {
        Token::Map(_) => {}
        Token::End => return Err(Error::new(ErrorKind::Arity, "more elements")),
        _ => return Err(Error::new(ErrorKind::WrongType, "a dictionary")),
    }
    let mut unknown = false;
    while !r.at_end()? {
        let k = match r.next()? {
            Token::Str(k) => k,
            _ => return Err(Error::new(ErrorKind::WrongType, "a string key")),
        };
        match keys.iter().position(|key| k.eq_str(key)) {
            // null: as if absent (some routers send optional keys as null).
            Some(i) => {
                if !r.null_next()? {
                    field(i, r)?;
                }
            }
            None => {
                r.skip()?;
                unknown = true;
            }
        }
    }
    Ok(unknown.then(|| Raw {
        format: r.format(),
        bytes: &r.input()[start..r.position()],
    }))
}

/// What [`write_dict`] asks of a dictionary type: `field(i, None)` says whether field `i` is
/// set, `field(i, Some(w))` writes its value into `w`.
type FieldWriter<'f, O> = dyn FnMut(usize, Option<&mut Writer<'_, O>>) -> Result<bool, Error> + 'f;

/// Writes a dictionary: `field(i, None)` says whether the field of `keys[i]` is set,
/// `field(i, Some(w))` writes its value; then the entries of `extra` with other keys. Shared by
/// every [`dict!`] type, like [`read_dict`].
fn write_dict<O: Out + ?Sized>(
    w: &mut Writer<'_, O>,
    keys: &[&str],
    extra: Option<Raw<'_>>,
    field: &mut FieldWriter<'_, O>,
) -> Result<(), Error> {
    let mut n = count_unknown(extra, keys)?;
    for i in 0..keys.len() {
        n += usize::from(field(i, None)?);
    }
    w.map(n)?;
    for (i, key) in keys.iter().enumerate() {
        if field(i, None)? {
            w.str(key)?;
            field(i, Some(w))?;
        }
    }
    write_unknown(extra, keys, w)?;
    w.end()
}

/// Declares a typed dictionary: `field: Type = "wire_key"`.
macro_rules! dict {
    ($(#[$m:meta])* pub struct $name:ident<'a> {
        $($(#[$fm:meta])* $field:ident : $ty:ty = $key:literal),* $(,)?
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct $name<'a> {
            $($(#[$fm])* pub $field: Option<$ty>,)*
            /// The dictionary as received when it had keys this type does not know; they
            /// are written back out after the known ones.
            pub extra: Option<Raw<'a>>,
        }

        impl<'a> $name<'a> {
            /// The wire keys this type knows.
            pub const KEYS: &'static [&'static str] = &[$($key),*];

            /// Reads a dictionary: known keys into fields (a wrong value type is an error),
            /// the rest kept.
            pub fn read(dict: Raw<'a>) -> Result<Self, Error> {
                let mut s = Self::default();
                let mut unknown = false;
                for e in dict.entries()? {
                    let (k, v) = e?;
                    $(if k.eq_str($key) {
                        // null: as if absent (some routers send optional keys as null).
                        if !matches!(v.reader().next(), Ok(Token::Null)) {
                            s.$field = Some(<$ty as Field<'a>>::read(v)?);
                        }
                        continue;
                    })*
                    let _ = v;
                    unknown = true;
                }
                if unknown {
                    s.extra = Some(dict);
                }
                Ok(s)
            }

            /// Reads the dictionary straight from a reader positioned at it, in one pass.
            pub fn read_from(r: &mut Reader<'a>) -> Result<Self, Error> {
                let mut s = Self::default();
                // The loop over entries is shared by every dictionary type (`read_dict`);
                // only this field dispatch is per type.
                s.extra = read_dict(r, Self::KEYS, &mut |i, r| {
                    let mut n = 0usize;
                    $(
                        if i == n {
                            return <$ty as Field<'a>>::read_into(r, &mut s.$field);
                        }
                        n += 1;
                    )*
                    let _ = n;
                    Ok(())
                })?;
                Ok(s)
            }

            /// Writes the dictionary: set fields, then the unknown entries kept.
            pub fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
                // The loop over keys is shared by every dictionary type (`write_dict`); only
                // this field dispatch is per type.
                write_dict(w, Self::KEYS, self.extra, &mut |i, w| {
                    let mut n = 0usize;
                    $(
                        if i == n {
                            return <$ty as Field<'a>>::write_slot(&self.$field, w);
                        }
                        n += 1;
                    )*
                    let _ = (n, w);
                    Ok(false)
                })
            }
        }

        impl<'a> Field<'a> for $name<'a> {
            fn read(v: Raw<'a>) -> Result<Self, Error> {
                $name::read(v)
            }
            fn read_from(r: &mut Reader<'a>) -> Result<Self, Error> {
                $name::read_from(r)
            }
            fn write<O: Out + ?Sized>(&self, w: &mut Writer<'_, O>) -> Result<(), Error> {
                $name::write(self, w)
            }
        }
    };
}

/// The IDs in a list (`exclude`, `eligible`).
pub fn ids<'a>(list: Raw<'a>) -> Result<impl Iterator<Item = Result<u64, Error>> + 'a, Error> {
    Ok(list.elements()?.map(|e| e.and_then(|v| v.reader().u64())))
}

/// The strings in a list (`authmethods`, `exclude_authid`, ...).
pub fn strs<'a>(list: Raw<'a>) -> Result<impl Iterator<Item = Result<Str<'a>, Error>> + 'a, Error> {
    Ok(list.elements()?.map(|e| e.and_then(|v| v.reader().str())))
}

/// The features announced for one role: `{"features": {name: true, ...}}`.
pub type RoleDetails<'a> = Raw<'a>;

dict! {
    /// `roles` in HELLO and WELCOME: which roles the peer plays, each with its features
    /// (see [`has_feature`]).
    pub struct Roles<'a> {
        /// Client roles.
        caller: RoleDetails<'a> = "caller",
        /// Client roles.
        callee: RoleDetails<'a> = "callee",
        /// Client roles.
        publisher: RoleDetails<'a> = "publisher",
        /// Client roles.
        subscriber: RoleDetails<'a> = "subscriber",
        /// Router roles.
        broker: RoleDetails<'a> = "broker",
        /// Router roles.
        dealer: RoleDetails<'a> = "dealer",
    }
}

/// Whether a role's details announce `feature` (`{"features": {feature: true}}`).
pub fn has_feature(role: RoleDetails<'_>, feature: &str) -> bool {
    (|| -> Result<bool, Error> {
        let Some(f) = role.get("features")? else {
            return Ok(false);
        };
        Ok(matches!(
            f.get(feature)?.map(|v| v.head()),
            Some(Ok(Token::Bool(true)))
        ))
    })()
    .unwrap_or(false)
}

dict! {
    /// HELLO.Details.
    pub struct HelloDetails<'a> {
        /// Roles and features.
        roles: Roles<'a> = "roles",
        /// Authentication methods the client offers, in order (a list of strings).
        authmethods: Raw<'a> = "authmethods",
        /// Who the client says it is.
        authid: Str<'a> = "authid",
        /// The role it asks for.
        authrole: Str<'a> = "authrole",
        /// Method-specific data (cryptosign's `pubkey`, `channel_binding`, SCRAM's `nonce`).
        authextra: Raw<'a> = "authextra",
        /// The client library.
        agent: Str<'a> = "agent",
        /// Session resumption (not used by the basic profile).
        resumable: bool = "resumable",
    }
}

dict! {
    /// WELCOME.Details.
    pub struct WelcomeDetails<'a> {
        /// The router's roles and features.
        roles: Roles<'a> = "roles",
        /// The realm joined.
        realm: Str<'a> = "realm",
        /// Who the session is.
        authid: Str<'a> = "authid",
        /// Its role.
        authrole: Str<'a> = "authrole",
        /// How it was authenticated.
        authmethod: Str<'a> = "authmethod",
        /// Who authenticated it (`static`, `dynamic`, ...).
        authprovider: Str<'a> = "authprovider",
        /// Method-specific data.
        authextra: Raw<'a> = "authextra",
        /// The router software.
        agent: Str<'a> = "agent",
    }
}

dict! {
    /// ABORT.Details, GOODBYE.Details, ERROR.Details of a router, CHALLENGE.Extra,
    /// AUTHENTICATE.Extra: a human message and whatever else.
    pub struct Details<'a> {
        /// A human-readable explanation.
        message: Str<'a> = "message",
    }
}

dict! {
    /// CHALLENGE.Extra (WAMP-CRA salting, WAMP-SCRAM, cryptosign).
    pub struct ChallengeExtra<'a> {
        /// The challenge (CRA: a JSON string; cryptosign: hex).
        challenge: Str<'a> = "challenge",
        /// CRA / SCRAM salt.
        salt: Str<'a> = "salt",
        /// CRA key length.
        keylen: u64 = "keylen",
        /// CRA / SCRAM iterations.
        iterations: u64 = "iterations",
        /// SCRAM: the KDF (`argon2id13`, `pbkdf2`).
        kdf: Str<'a> = "kdf",
        /// SCRAM: argon2 memory.
        memory: u64 = "memory",
        /// SCRAM: the server's nonce.
        nonce: Str<'a> = "nonce",
        /// cryptosign channel binding.
        channel_binding: Str<'a> = "channel_binding",
    }
}

dict! {
    /// SUBSCRIBE.Options.
    pub struct SubscribeOptions<'a> {
        /// Pattern matching policy.
        match_: Match = "match",
        /// Deliver the retained event at once.
        get_retained: bool = "get_retained",
    }
}

dict! {
    /// PUBLISH.Options.
    pub struct PublishOptions<'a> {
        /// Ask for PUBLISHED.
        acknowledge: bool = "acknowledge",
        /// Do not send the event to the publisher (default true).
        exclude_me: bool = "exclude_me",
        /// Session IDs not to send to (list).
        exclude: Raw<'a> = "exclude",
        /// authids not to send to (list).
        exclude_authid: Raw<'a> = "exclude_authid",
        /// authroles not to send to (list).
        exclude_authrole: Raw<'a> = "exclude_authrole",
        /// Only these session IDs (list).
        eligible: Raw<'a> = "eligible",
        /// Only these authids (list).
        eligible_authid: Raw<'a> = "eligible_authid",
        /// Only these authroles (list).
        eligible_authrole: Raw<'a> = "eligible_authrole",
        /// Disclose the publisher to subscribers.
        disclose_me: bool = "disclose_me",
        /// Keep the event as the topic's retained event.
        retain: bool = "retain",
        /// Payload passthru: scheme.
        ppt_scheme: Str<'a> = "ppt_scheme",
        /// Payload passthru: serializer.
        ppt_serializer: Str<'a> = "ppt_serializer",
        /// Payload passthru: cipher.
        ppt_cipher: Str<'a> = "ppt_cipher",
        /// Payload passthru: key id.
        ppt_keyid: Str<'a> = "ppt_keyid",
        /// Autobahn's end-to-end encryption: algorithm.
        enc_algo: Str<'a> = "enc_algo",
        /// Autobahn's end-to-end encryption: serializer.
        enc_serializer: Str<'a> = "enc_serializer",
        /// Autobahn's end-to-end encryption: key.
        enc_key: Str<'a> = "enc_key",
    }
}

dict! {
    /// EVENT.Details.
    pub struct EventDetails<'a> {
        /// The publisher's session ID (disclosure).
        publisher: u64 = "publisher",
        /// The publisher's authid.
        publisher_authid: Str<'a> = "publisher_authid",
        /// The publisher's authrole.
        publisher_authrole: Str<'a> = "publisher_authrole",
        /// The concrete topic, for pattern subscriptions.
        topic: Str<'a> = "topic",
        /// The event is the retained one.
        retained: bool = "retained",
        /// Payload passthru: scheme.
        ppt_scheme: Str<'a> = "ppt_scheme",
        /// Payload passthru: serializer.
        ppt_serializer: Str<'a> = "ppt_serializer",
        /// Payload passthru: cipher.
        ppt_cipher: Str<'a> = "ppt_cipher",
        /// Payload passthru: key id.
        ppt_keyid: Str<'a> = "ppt_keyid",
        /// Autobahn's end-to-end encryption: algorithm.
        enc_algo: Str<'a> = "enc_algo",
        /// Autobahn's end-to-end encryption: serializer.
        enc_serializer: Str<'a> = "enc_serializer",
        /// Autobahn's end-to-end encryption: key.
        enc_key: Str<'a> = "enc_key",
    }
}

dict! {
    /// REGISTER.Options.
    pub struct RegisterOptions<'a> {
        /// Pattern matching policy.
        match_: Match = "match",
        /// Shared registration policy.
        invoke: Invoke = "invoke",
        /// Ask the dealer to disclose callers.
        disclose_caller: bool = "disclose_caller",
        /// Maximum concurrent invocations.
        concurrency: u64 = "concurrency",
        /// Force-replace an existing registration.
        force_reregister: bool = "force_reregister",
    }
}

dict! {
    /// CALL.Options.
    pub struct CallOptions<'a> {
        /// Progressive results wanted.
        receive_progress: bool = "receive_progress",
        /// Progressive call invocations: more CALLs follow.
        progress: bool = "progress",
        /// Call timeout in milliseconds (0: none).
        timeout: u64 = "timeout",
        /// Disclose the caller to the callee.
        disclose_me: bool = "disclose_me",
        /// Payload passthru: scheme.
        ppt_scheme: Str<'a> = "ppt_scheme",
        /// Payload passthru: serializer.
        ppt_serializer: Str<'a> = "ppt_serializer",
        /// Payload passthru: cipher.
        ppt_cipher: Str<'a> = "ppt_cipher",
        /// Payload passthru: key id.
        ppt_keyid: Str<'a> = "ppt_keyid",
        /// Autobahn's end-to-end encryption: algorithm.
        enc_algo: Str<'a> = "enc_algo",
        /// Autobahn's end-to-end encryption: serializer.
        enc_serializer: Str<'a> = "enc_serializer",
        /// Autobahn's end-to-end encryption: key.
        enc_key: Str<'a> = "enc_key",
    }
}

dict! {
    /// INVOCATION.Details.
    pub struct InvocationDetails<'a> {
        /// The caller's session ID (disclosure).
        caller: u64 = "caller",
        /// The caller's authid.
        caller_authid: Str<'a> = "caller_authid",
        /// The caller's authrole.
        caller_authrole: Str<'a> = "caller_authrole",
        /// The concrete procedure, for pattern registrations.
        procedure: Str<'a> = "procedure",
        /// The caller wants progressive results.
        receive_progress: bool = "receive_progress",
        /// Progressive call invocations: more INVOCATIONs follow.
        progress: bool = "progress",
        /// Timeout the dealer forwards (ms).
        timeout: u64 = "timeout",
        /// Payload passthru: scheme.
        ppt_scheme: Str<'a> = "ppt_scheme",
        /// Payload passthru: serializer.
        ppt_serializer: Str<'a> = "ppt_serializer",
        /// Payload passthru: cipher.
        ppt_cipher: Str<'a> = "ppt_cipher",
        /// Payload passthru: key id.
        ppt_keyid: Str<'a> = "ppt_keyid",
        /// Autobahn's end-to-end encryption: algorithm.
        enc_algo: Str<'a> = "enc_algo",
        /// Autobahn's end-to-end encryption: serializer.
        enc_serializer: Str<'a> = "enc_serializer",
        /// Autobahn's end-to-end encryption: key.
        enc_key: Str<'a> = "enc_key",
    }
}

dict! {
    /// RESULT.Details and YIELD.Options.
    pub struct ResultDetails<'a> {
        /// A progressive result; more follow.
        progress: bool = "progress",
        /// Payload passthru: scheme.
        ppt_scheme: Str<'a> = "ppt_scheme",
        /// Payload passthru: serializer.
        ppt_serializer: Str<'a> = "ppt_serializer",
        /// Payload passthru: cipher.
        ppt_cipher: Str<'a> = "ppt_cipher",
        /// Payload passthru: key id.
        ppt_keyid: Str<'a> = "ppt_keyid",
        /// Autobahn's end-to-end encryption: algorithm.
        enc_algo: Str<'a> = "enc_algo",
        /// Autobahn's end-to-end encryption: serializer.
        enc_serializer: Str<'a> = "enc_serializer",
        /// Autobahn's end-to-end encryption: key.
        enc_key: Str<'a> = "enc_key",
    }
}

dict! {
    /// CANCEL.Options and INTERRUPT.Options.
    pub struct CancelOptions<'a> {
        /// How to cancel.
        mode: CancelMode = "mode",
        /// INTERRUPT: why (an error URI, e.g. `wamp.error.timeout`).
        reason: Str<'a> = "reason",
    }
}

dict! {
    /// ERROR.Details (application errors carry anything; routers add `message`).
    pub struct ErrorDetails<'a> {
        /// A human-readable explanation.
        message: Str<'a> = "message",
        /// Payload passthru: scheme.
        ppt_scheme: Str<'a> = "ppt_scheme",
        /// Payload passthru: serializer.
        ppt_serializer: Str<'a> = "ppt_serializer",
        /// Payload passthru: cipher.
        ppt_cipher: Str<'a> = "ppt_cipher",
        /// Payload passthru: key id.
        ppt_keyid: Str<'a> = "ppt_keyid",
        /// Autobahn's end-to-end encryption: algorithm.
        enc_algo: Str<'a> = "enc_algo",
        /// Autobahn's end-to-end encryption: serializer.
        enc_serializer: Str<'a> = "enc_serializer",
        /// Autobahn's end-to-end encryption: key.
        enc_key: Str<'a> = "enc_key",
    }
}
