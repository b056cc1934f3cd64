//! Close codes and close frames (RFC 6455 §5.5.1, §7.4).
//!
//! Which codes may travel on the wire is decided here, once: 1000–1003 and 1007–1014 from the
//! IANA registry, and 3000–4999 for libraries and applications. Everything else (0–999, 1004–1006,
//! 1015, 1016–2999, ≥5000) is a protocol error (1002) when a peer sends it.

use crate::utf8;

/// A WebSocket close status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: reserved, means "no status code was present"; never sent.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: reserved, means "closed without a close frame"; never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: payload inconsistent with the message type (invalid UTF-8 in a text message).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: the message violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a frame or message is too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway got an invalid response upstream.
    pub const BAD_GATEWAY: Self = Self(1014);

    /// Whether this code may appear in a close frame on the wire.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(v: u16) -> Self {
        Self(v)
    }
}

/// A decoded close frame payload: a code and a UTF-8 reason (≤123 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, valid UTF-8, possibly empty.
    pub reason: &'a str,
}

/// Why a close frame's payload was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosePayloadError {
    /// A one-byte payload: a code needs two bytes.
    OneByte,
    /// A code that may not be sent (see [`CloseCode::is_sendable`]).
    InvalidCode(u16),
    /// The reason is not valid UTF-8.
    InvalidReason,
}

impl<'a> CloseFrame<'a> {
    /// Parses and validates a close frame payload. `Ok(None)` is an empty payload (no code).
    pub fn parse(payload: &'a [u8]) -> Result<Option<Self>, ClosePayloadError> {
        match payload.len() {
            0 => Ok(None),
            1 => Err(ClosePayloadError::OneByte),
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                if !CloseCode(code).is_sendable() {
                    return Err(ClosePayloadError::InvalidCode(code));
                }
                let reason =
                    utf8::from_utf8(&payload[2..]).map_err(|_| ClosePayloadError::InvalidReason)?;
                Ok(Some(Self {
                    code: CloseCode(code),
                    reason,
                }))
            }
        }
    }

    /// Writes the payload (code + reason, reason cut at a char boundary to fit 123 bytes)
    /// into `out` and returns its length. `out` must hold 125 bytes.
    pub fn emit(&self, out: &mut [u8; 125]) -> usize {
        out[..2].copy_from_slice(&self.code.0.to_be_bytes());
        let mut n = self.reason.len().min(123);
        while !self.reason.is_char_boundary(n) {
            n -= 1;
        }
        out[2..2 + n].copy_from_slice(&self.reason.as_bytes()[..n]);
        2 + n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes() {
        for c in 0..=u16::MAX {
            let ok = CloseCode(c).is_sendable();
            let expect = (1000..=1003).contains(&c)
                || (1007..=1014).contains(&c)
                || (3000..=4999).contains(&c);
            assert_eq!(ok, expect, "code {c}");
        }
    }

    #[test]
    fn parse_rules() {
        assert_eq!(CloseFrame::parse(&[]), Ok(None));
        assert_eq!(CloseFrame::parse(&[3]), Err(ClosePayloadError::OneByte));
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xED]),
            Err(ClosePayloadError::InvalidCode(1005))
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xE8, 0xFF]),
            Err(ClosePayloadError::InvalidReason)
        );
        let f = CloseFrame::parse(b"\x0f\xa0bye").unwrap().unwrap();
        assert_eq!((f.code, f.reason), (CloseCode(4000), "bye"));
    }

    #[test]
    fn emit_truncates_on_char_boundary() {
        let reason = "é".repeat(100); // 200 bytes
        let mut out = [0u8; 125];
        let n = CloseFrame {
            code: CloseCode::NORMAL,
            reason: &reason,
        }
        .emit(&mut out);
        assert_eq!(n, 2 + 122);
        assert!(CloseFrame::parse(&out[..n]).is_ok());
    }
}
