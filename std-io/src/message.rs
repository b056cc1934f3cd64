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
        Self { code: code.into(), reason: reason.into() }
    }

    pub(crate) fn frame(&self) -> CloseFrame<'_> {
        CloseFrame { code: self.code, reason: &self.reason }
    }
}

impl From<CloseFrame<'_>> for Close {
    fn from(f: CloseFrame<'_>) -> Self {
        Self { code: f.code, reason: f.reason.to_owned() }
    }
}

/// A whole message, or a control frame, as the message API returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (validated UTF-8).
    Text(String),
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
    pub fn text(s: impl Into<String>) -> Self {
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
            Self::Text(s) => s.as_bytes(),
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
        Self::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Self::Binary(b)
    }
}
