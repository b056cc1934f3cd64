//! The WebSocket variant's link: WAMP over WebSocket (`wamp.2.json` or `wamp.2.cbor`) on
//! the UART, with the core's blocking WebSocket driver (`ferrobahn_core::io`): the router
//! sees an ordinary WebSocket client.
//!
//! A client masks what it sends (RFC 6455 §5.3) with keys from an entropy source. This
//! board has no random number generator, so keys and the handshake nonce come from an
//! xorshift generator seeded by the SysTick counter at connect time: masking keys protect
//! proxies from scripts in browsers choosing the bytes on the wire, which a device does not
//! run; a device with a hardware RNG would seed from it.

use embedded_io::{Read, ReadReady, Write};
use ferrobahn_core::handshake::{client_key, ClientRequest};
use ferrobahn_core::io::{Message, WebSocket};
use ferrobahn_core::wamp::Format;
use ferrobahn_core::{Config, MaskKeySource, MessageKind};

use crate::app::{End, Link};

/// Masking keys and the handshake nonce.
pub struct Xorshift(u32);

impl Xorshift {
    pub fn new(seed: u32) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

impl MaskKeySource for Xorshift {
    fn next_mask_key(&mut self) -> [u8; 4] {
        self.next().to_le_bytes()
    }
}

/// WAMP over the core's WebSocket client.
pub struct WsLink<'b, T> {
    ws: WebSocket<'b, T, Xorshift>,
    /// Where a received message is assembled.
    msg: &'b mut [u8],
    /// JSON goes in text messages, CBOR in binary ones.
    text: bool,
    pings: u32,
}

impl<'b, T: Read + Write> WsLink<'b, T> {
    /// The opening handshake for `format`'s WAMP subprotocol on path `/ws`. `rbuf` takes
    /// socket reads (and the 101 response), `wbuf` each outgoing frame (and the request),
    /// `msg` each incoming message.
    pub fn connect(
        io: T,
        format: Format,
        mut keys: Xorshift,
        rbuf: &'b mut [u8],
        wbuf: &'b mut [u8],
        msg: &'b mut [u8],
    ) -> Result<Self, End> {
        let mut nonce = [0u8; 16];
        for chunk in nonce.chunks_mut(4) {
            chunk.copy_from_slice(&keys.next().to_le_bytes());
        }
        let key = client_key(nonce);
        let request = ClientRequest {
            host: "router",
            path: "/ws",
            key: &key,
            protocols: &[format.subprotocol()],
            extensions: "",
            origin: None,
            headers: &[],
        };
        let (ws, chosen) = WebSocket::connect(io, &request, Config::DEFAULT, keys, rbuf, wbuf)
            .map_err(|_| End::Link)?;
        if chosen != Some(0) {
            return Err(End::Protocol);
        }
        Ok(Self {
            ws,
            msg,
            text: format == Format::Json,
            pings: 0,
        })
    }
}

impl<T: Read + Write + ReadReady> Link for WsLink<'_, T> {
    fn send_message(&mut self, message: &[u8]) -> Result<(), End> {
        let kind = if self.text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        self.ws.send(kind, message).map_err(|_| End::Link)
    }

    fn ready(&mut self) -> Result<bool, End> {
        self.ws.ready().map_err(|_| End::Link)
    }

    fn recv_message(&mut self) -> Result<Option<&[u8]>, End> {
        match self.ws.read_message(&mut *self.msg) {
            Ok(Message::Text(t)) => Ok(Some(t.as_bytes())),
            Ok(Message::Binary(b)) => Ok(Some(b)),
            // The pong already went out (auto-pong).
            Ok(Message::Ping(_)) => {
                self.pings = self.pings.wrapping_add(1);
                Ok(None)
            }
            Ok(Message::Pong(_)) => Ok(None),
            Ok(Message::Close(_)) | Err(_) => Err(End::Link),
        }
    }

    fn pings(&self) -> u32 {
        self.pings
    }
}
