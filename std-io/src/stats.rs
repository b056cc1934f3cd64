//! Traffic statistics per connection, as Autobahn's `TrafficStats` keeps them: octets at
//! three levels (wire, WebSocket payload, application payload), frames and messages, each
//! direction; the compression ratio follows from the last two levels.
//!
//! "Wire" is what crossed the WebSocket stream after the opening handshake: frame headers
//! and payloads (inside TLS, when there is TLS). "WebSocket" is frame payloads as sent
//! (compressed, with permessage-deflate). "Application" is message payloads as the
//! application sees them (before compression / after decompression).

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a connection's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficStats {
    /// Bytes sent on the stream.
    pub outgoing_octets_wire: u64,
    /// Frame payload bytes sent (data and control).
    pub outgoing_octets_websocket: u64,
    /// Message payload bytes the application sent (before compression).
    pub outgoing_octets_app: u64,
    /// Frames sent.
    pub outgoing_frames: u64,
    /// Data messages sent.
    pub outgoing_messages: u64,
    /// Bytes received on the stream.
    pub incoming_octets_wire: u64,
    /// Frame payload bytes received (data and control).
    pub incoming_octets_websocket: u64,
    /// Message payload bytes delivered to the application (after decompression).
    pub incoming_octets_app: u64,
    /// Frames received.
    pub incoming_frames: u64,
    /// Data messages received.
    pub incoming_messages: u64,
}

impl TrafficStats {
    /// WebSocket-level over application-level octets sent (below 1: compression saved).
    pub fn outgoing_compression_ratio(&self) -> Option<f64> {
        ratio(self.outgoing_octets_websocket, self.outgoing_octets_app)
    }

    /// WebSocket-level over application-level octets received.
    pub fn incoming_compression_ratio(&self) -> Option<f64> {
        ratio(self.incoming_octets_websocket, self.incoming_octets_app)
    }

    /// Wire overhead of what was sent: wire over WebSocket-level octets.
    pub fn outgoing_wire_overhead(&self) -> Option<f64> {
        ratio(self.outgoing_octets_wire, self.outgoing_octets_websocket)
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The live counters (relaxed atomics: statistics, not synchronization).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) out_wire: AtomicU64,
    pub(crate) out_ws: AtomicU64,
    pub(crate) out_app: AtomicU64,
    pub(crate) out_frames: AtomicU64,
    pub(crate) out_messages: AtomicU64,
    pub(crate) in_wire: AtomicU64,
    pub(crate) in_ws: AtomicU64,
    pub(crate) in_app: AtomicU64,
    pub(crate) in_frames: AtomicU64,
    pub(crate) in_messages: AtomicU64,
}

impl Counters {
    pub(crate) fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TrafficStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TrafficStats {
            outgoing_octets_wire: g(&self.out_wire),
            outgoing_octets_websocket: g(&self.out_ws),
            outgoing_octets_app: g(&self.out_app),
            outgoing_frames: g(&self.out_frames),
            outgoing_messages: g(&self.out_messages),
            incoming_octets_wire: g(&self.in_wire),
            incoming_octets_websocket: g(&self.in_ws),
            incoming_octets_app: g(&self.in_app),
            incoming_frames: g(&self.in_frames),
            incoming_messages: g(&self.in_messages),
        }
    }
}
