//! Prepared messages for broadcast: a message made ready once and sent to many connections.
//!
//! ```text
//!   PreparedMessage::new(msg)            payload shared (Arc), nothing copied per receiver
//!     └─ Writer::write_prepared(&p)      per connection: its header (2–10 bytes, state
//!          │                             checks), then the shared payload
//!          ├─ no deflate / short message ─▶ the payload as is
//!          ├─ deflate, no context takeover in our direction
//!          │     ─▶ compressed once per (window bits, level), cached in the message
//!          └─ deflate with context takeover ─▶ compressed by the connection's own
//!                compressor (its window holds that connection's history)
//! ```
//!
//! A client masks every frame with its own key (RFC 6455 §5.3), so a client connection
//! copies and masks the (shared, possibly compressed) payload; a server writes it unmasked.

use std::sync::{Arc, Mutex};

use ferrobahn_core::deflate::DeflateCodec;
use ferrobahn_core::MessageKind;

use crate::message::Message;

/// Which compressed form: (we are the client, window bits, level).
type Variant = (bool, u8, u8);

/// A data message prepared for sending to many connections
/// ([`Writer::write_prepared`](crate::Writer::write_prepared)).
pub struct PreparedMessage {
    pub(crate) kind: MessageKind,
    pub(crate) payload: Arc<[u8]>,
    /// Compressed payloads for receivers without context takeover, by (client role, window
    /// bits, level).
    compressed: Mutex<Vec<(Variant, Arc<[u8]>)>>,
}

impl PreparedMessage {
    /// Prepares a text or binary message; `None` for control messages.
    pub fn new(msg: impl Into<Message>) -> Option<Self> {
        let (kind, payload): (MessageKind, Arc<[u8]>) = match msg.into() {
            Message::Text(t) => (MessageKind::Text, Arc::from(t.as_bytes())),
            Message::Binary(b) => (MessageKind::Binary, Arc::from(b)),
            _ => return None,
        };
        Some(Self {
            kind,
            payload,
            compressed: Mutex::new(Vec::new()),
        })
    }

    /// A text message.
    pub fn text(s: &str) -> Self {
        Self {
            kind: MessageKind::Text,
            payload: Arc::from(s.as_bytes()),
            compressed: Mutex::new(Vec::new()),
        }
    }

    /// A binary message.
    pub fn binary(b: &[u8]) -> Self {
        Self {
            kind: MessageKind::Binary,
            payload: Arc::from(b),
            compressed: Mutex::new(Vec::new()),
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// How many compressed variants were made so far (one per window size and level among
    /// the receivers without context takeover).
    pub fn compressed_variants(&self) -> usize {
        self.compressed.lock().map_or(0, |v| v.len())
    }

    /// The payload compressed as `codec` (which keeps no context between the messages it
    /// sends) would compress it: made on first use, then shared.
    pub(crate) fn compressed_for(&self, codec: &DeflateCodec, is_client: bool) -> Arc<[u8]> {
        let key = (is_client, codec.send_window_bits(), codec.level());
        let mut cache = self.compressed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
            return Arc::clone(c);
        }
        // A fresh codec of the same parameters: an empty window, as the receiver expects.
        let mut fresh = DeflateCodec::new(*codec.params(), is_client, codec.level());
        let mut out = Vec::new();
        fresh.compress(&self.payload, &mut out);
        let c: Arc<[u8]> = Arc::from(out);
        cache.push((key, Arc::clone(&c)));
        c
    }
}

impl std::fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("kind", &self.kind)
            .field("len", &self.payload.len())
            .field("compressed_variants", &self.compressed_variants())
            .finish()
    }
}
