//! Prepared messages for broadcast: a message made ready once and sent to many connections.
//!
//! ```text
//!   PreparedMessage::new(msg)            payload shared (Arc), nothing copied per receiver
//!     └─ Writer::write_prepared(&p)      per connection: its header (2–10 bytes, state
//!          │                             checks), then the shared payload
//!          ├─ no compression / short message ─▶ the payload as is
//!          ├─ output that depends on the message alone: deflate without context
//!          │  takeover in our direction, brotli, bzip2, snappy restarting its stream
//!          │     ─▶ compressed once per variant (method, window bits, level), cached
//!          └─ deflate (or snappy) with context takeover ─▶ compressed by the
//!                connection's own compressor (its window holds that connection's history)
//! ```
//!
//! A client masks every frame with its own key (RFC 6455 §5.3), so a client connection
//! copies and masks the (shared, possibly compressed) payload; a server writes it unmasked.

use std::sync::{Arc, Mutex};

use ferrobahn_core::MessageKind;

use crate::compress::{Codec, Variant};
use crate::message::Message;

/// A data message prepared for sending to many connections
/// ([`Writer::write_prepared`](crate::Writer::write_prepared)).
pub struct PreparedMessage {
    pub(crate) kind: MessageKind,
    pub(crate) payload: Arc<[u8]>,
    /// Compressed payloads for receivers whose compression does not depend on what they
    /// were sent before, by variant.
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

    /// How many compressed variants were made so far (one per method, window size and
    /// level among the receivers whose compression keeps no history).
    pub fn compressed_variants(&self) -> usize {
        self.compressed.lock().map_or(0, |v| v.len())
    }

    /// The payload compressed as `codec` would compress it, when that does not depend on
    /// what the connection sent before: made on first use, then shared. `None`: the
    /// connection must compress it itself.
    pub(crate) fn compressed_for(&self, codec: &Codec, is_client: bool) -> Option<Arc<[u8]>> {
        let key = codec.variant(is_client)?;
        let mut cache = self.compressed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
            return Some(Arc::clone(c));
        }
        let mut out = Vec::new();
        Codec::fresh(key).compress(&self.payload, &mut out);
        let c: Arc<[u8]> = Arc::from(out);
        cache.push((key, Arc::clone(&c)));
        Some(c)
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
