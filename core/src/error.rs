//! Errors of the WebSocket layer, each mapped to the close code it is answered with.

use crate::close::{CloseCode, ClosePayloadError};

/// A peer broke RFC 6455 (or a limit we set). Every variant says which rule broke and
/// [`close_code`](Self::close_code) gives the close code the connection answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A reserved opcode (3–7, 0xB–0xF).
    ReservedOpcode(u8),
    /// RSV bits set that no negotiated extension claims (the bits are in the value).
    ReservedBits(u8),
    /// The 64-bit payload length had its most significant bit set.
    LengthTopBitSet,
    /// A control frame without FIN.
    FragmentedControlFrame,
    /// A control frame with more than 125 bytes of payload.
    ControlFrameTooLong,
    /// A client frame without a mask, while masks are required.
    UnmaskedFrame,
    /// A masked frame from a server, while masked server frames are refused.
    MaskedFrame,
    /// A continuation frame with no message in progress.
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message was in progress.
    ExpectedContinuation,
    /// A text message (or close reason) that is not valid UTF-8.
    InvalidUtf8,
    /// A close frame with a one-byte payload.
    CloseOneByte,
    /// A close frame with a code that may not be sent.
    InvalidCloseCode(u16),
    /// A frame payload over `max_frame_payload`.
    FrameTooLarge,
    /// A message over `max_message_payload`.
    MessageTooLarge,
    /// A message of a type the endpoint does not accept.
    UnsupportedData,
    /// An extension failed to transform a message (e.g. corrupt compressed data).
    Extension,
}

impl ProtocolError {
    /// The close code this error is answered with.
    pub const fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge | Self::MessageTooLarge => CloseCode::MESSAGE_TOO_BIG,
            Self::UnsupportedData => CloseCode::UNSUPPORTED_DATA,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// A short reason for the close frame.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::ReservedOpcode(_) => "reserved opcode",
            Self::ReservedBits(_) => "reserved bits set",
            Self::LengthTopBitSet => "invalid payload length",
            Self::FragmentedControlFrame => "fragmented control frame",
            Self::ControlFrameTooLong => "control frame too long",
            Self::UnmaskedFrame => "unmasked client frame",
            Self::MaskedFrame => "masked server frame",
            Self::UnexpectedContinuation => "continuation without message",
            Self::ExpectedContinuation => "expected continuation frame",
            Self::InvalidUtf8 => "invalid UTF-8",
            Self::CloseOneByte => "one-byte close payload",
            Self::InvalidCloseCode(_) => "invalid close code",
            Self::FrameTooLarge => "frame too large",
            Self::MessageTooLarge => "message too large",
            Self::UnsupportedData => "unsupported data",
            Self::Extension => "extension error",
        }
    }
}

impl From<ClosePayloadError> for ProtocolError {
    fn from(e: ClosePayloadError) -> Self {
        match e {
            ClosePayloadError::OneByte => Self::CloseOneByte,
            ClosePayloadError::InvalidCode(c) => Self::InvalidCloseCode(c),
            ClosePayloadError::InvalidReason => Self::InvalidUtf8,
        }
    }
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (close {})", self.reason(), self.close_code().0)
    }
}

impl core::error::Error for ProtocolError {}
