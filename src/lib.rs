//! # ferrobahn
//!
//! WebSocket (RFC 6455) — and, in coming layers, WAMP — for Rust: a sans-IO `no_std` core
//! and a blocking `std::net` layer with threads.
//!
//! ```text
//!  ferrobahn (this facade)
//!  ├── core  = ferrobahn-core   #![no_std], sans-IO, no heap required
//!  │           frame · mask · utf8 · close · handshake · decode · connection · io
//!  └── (std) = ferrobahn-std    sockets, threads, timeouts: connect / Server / WebSocket
//! ```
//!
//! With the default `std` feature the blocking API is at the top level
//! (`ferrobahn::connect`, `ferrobahn::Server`); `default-features = false` leaves the
//! embedded core at `ferrobahn::core`.
#![no_std]

pub use ferrobahn_core as core;

#[cfg(feature = "std")]
pub use ferrobahn_std::*;
