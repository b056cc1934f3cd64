//! Owned messages for the message API.

use ferrobahn_core::{CloseCode, CloseFrame};

/// An owned close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Close {
    /// The status code.
    pub code: CloseCode,
    /// The reason (≤123 bytes of UTF-8 on the wire).
    pub reason: String,
}

impl Close {
    /// A close with `code` and `reason`.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn frame(&self) -> CloseFrame<'_> {
        CloseFrame {
            code: self.code,
            reason: &self.reason,
        }
    }
}

impl From<CloseFrame<'_>> for Close {
    fn from(f: CloseFrame<'_>) -> Self {
        Self {
            code: f.code,
            reason: f.reason.to_owned(),
        }
    }
}

/// The UTF-8 text of a message. Received text was validated as it arrived (fail-fast, in the
/// core), so it is kept as bytes: an echo or a forward never validates it again, and
/// [`as_str`](Self::as_str) costs one SIMD validation pass (no `unsafe` outside the masking
/// kernels means no unchecked conversion).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Vec<u8>);

impl Text {
    /// Bytes the core already validated as UTF-8.
    pub(crate) fn from_validated(bytes: Vec<u8>) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The text (validated again with simdutf8: it cannot fail).
    pub fn as_str(&self) -> &str {
        ferrobahn_core::utf8::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes, without any check.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Into a `String` (std validates once more; it cannot fail).
    pub fn into_string(self) -> String {
        String::from_utf8(self.0).unwrap_or_default()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.into_string()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A whole message, or a control frame, as the message API returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (validated UTF-8).
    Text(Text),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (already answered when auto-pong is on).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The peer's close frame (`None`: no status code); our reply is already sent.
    Close(Option<Close>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<Text>) -> Self {
        Self::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Vec<u8>>) -> Self {
        Self::Binary(b.into())
    }

    /// Text or binary.
    pub fn is_data(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Binary(_))
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Close(c) => c.as_ref().map_or(&[], |c| c.reason.as_bytes()),
        }
    }

    /// The payload length.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Self::Text(s.into())
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Self::Text(s.into())
    }
}

impl From<Text> for Message {
    fn from(t: Text) -> Self {
        Self::Text(t)
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Self::Binary(b)
    }
}
