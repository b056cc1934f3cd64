//! Per-connection settings shared by the decoder, the encoder and the connection.

/// Which end of the connection we are; it decides who masks (RFC 6455 §5.1, §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We opened the connection; our frames are masked.
    Client,
    /// We accepted it; our frames are not masked.
    Server,
}

/// Connection settings, named after Autobahn|Python's options where it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest frame payload accepted (`maxFramePayloadSize`); larger → close 1009.
    pub max_frame_payload: u64,
    /// Largest message accepted (`maxMessagePayloadSize`); larger → close 1009.
    pub max_message_payload: u64,
    /// Outgoing messages longer than this go out in frames of this size (`autoFragmentSize`);
    /// 0 sends every message in one frame.
    pub auto_fragment_size: usize,
    /// Server: refuse unmasked client frames (`requireMaskedClientFrames`).
    pub require_masked_client_frames: bool,
    /// Client: accept masked server frames (`acceptMaskedServerFrames`).
    pub accept_masked_server_frames: bool,
    /// Server: mask what we send (`maskServerFrames`), for testing peers.
    pub mask_server_frames: bool,
    /// Client: mask what we send (`maskClientFrames`); turning it off breaks RFC 6455 and is
    /// only for testing servers.
    pub mask_client_frames: bool,
    /// Answer every ping with a pong (`autoPingResponse`... Autobahn always does).
    pub auto_pong: bool,
    /// Reply to a close with the peer's own code (`echoCloseCodeReason` sans the reason).
    pub echo_close_code: bool,
    /// RSV bits a negotiated extension allows on the first frame of a data message
    /// (permessage-deflate claims [`RSV1`](crate::frame::RSV1)).
    pub message_rsv: u8,
    /// Whether a message flagged with `message_rsv` bits is transformed by the extension, so
    /// its payload is validated (UTF-8) after the transform rather than on the wire.
    pub transform_on_rsv: bool,
}

impl Config {
    /// The defaults: 16 MiB frames, 64 MiB messages, no auto-fragmentation, RFC masking rules,
    /// automatic pongs, close codes echoed, no extension.
    pub const DEFAULT: Self = Self {
        max_frame_payload: 16 << 20,
        max_message_payload: 64 << 20,
        auto_fragment_size: 0,
        require_masked_client_frames: true,
        accept_masked_server_frames: false,
        mask_server_frames: false,
        mask_client_frames: true,
        auto_pong: true,
        echo_close_code: true,
        message_rsv: 0,
        transform_on_rsv: false,
    };

    /// Whether frames we send in `role` carry a mask.
    pub const fn masks_outgoing(&self, role: Role) -> bool {
        match role {
            Role::Client => self.mask_client_frames,
            Role::Server => self.mask_server_frames,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where masking keys come from. The core has no randomness: the driver supplies it
/// (RFC 6455 §5.3 asks for keys that are not predictable).
pub trait MaskKeySource {
    /// A fresh 4-byte masking key.
    fn next_mask_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4]> MaskKeySource for F {
    fn next_mask_key(&mut self) -> [u8; 4] {
        self()
    }
}

/// A key source for servers, which do not mask: it always yields zeros.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMask;

impl MaskKeySource for NoMask {
    fn next_mask_key(&mut self) -> [u8; 4] {
        [0; 4]
    }
}
