//! What went wrong reading or writing WAMP, and the answer the protocol gives.

use core::fmt;

/// Which rule the input broke (or why output could not be written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a value.
    Truncated,
    /// Not well-formed in its serializer (bad byte, bad escape, invalid UTF-8, bad number).
    Syntax,
    /// Well-formed, but not the type the message needs there.
    WrongType,
    /// A message type code we do not know.
    UnknownMessage,
    /// A message with too few or too many elements for its type.
    Arity,
    /// An ID outside 1..=2^53 (or 0..=2^53 where 0 is allowed).
    InvalidId,
    /// A URI that breaks the URI rules.
    InvalidUri,
    /// Bytes after the value.
    Trailing,
    /// Containers nested deeper than [`MAX_DEPTH`](super::value::MAX_DEPTH).
    TooDeep,
    /// A number out of the range we can carry.
    OutOfRange,
    /// The output buffer is full.
    BufferFull,
    /// A serializer this build does not include, or a feature of one we do not read
    /// (CBOR indefinite-length strings, UBJSON typed arrays other than bytes).
    Unsupported,
}

/// A WAMP decoding or encoding error: the rule and what was expected where it broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// The rule.
    pub kind: ErrorKind,
    /// What the decoder expected, for humans ("an integer", "a dictionary", ...).
    pub expected: &'static str,
}

impl Error {
    /// An error of `kind`, expecting `expected`.
    pub const fn new(kind: ErrorKind, expected: &'static str) -> Self {
        Self { kind, expected }
    }

    pub(crate) const fn truncated() -> Self {
        Self::new(ErrorKind::Truncated, "more input")
    }

    pub(crate) const fn syntax(expected: &'static str) -> Self {
        Self::new(ErrorKind::Syntax, expected)
    }

    pub(crate) const fn full() -> Self {
        Self::new(ErrorKind::BufferFull, "a larger output buffer")
    }

    /// The error URI a router or client answers a bad message with: ABORT (before a session
    /// is established) or GOODBYE/ABORT (during one) with `wamp.error.protocol_violation`.
    /// Output errors have none.
    pub fn wamp_uri(&self) -> Option<&'static str> {
        match self.kind {
            ErrorKind::BufferFull => None,
            ErrorKind::InvalidUri => Some("wamp.error.invalid_uri"),
            _ => Some("wamp.error.protocol_violation"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WAMP: {:?}, expected {}", self.kind, self.expected)
    }
}

impl core::error::Error for Error {}
