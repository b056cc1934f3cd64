//! # ferrobahn
//!
//! WebSocket (RFC 6455) and WAMP for Rust: a sans-IO `no_std` core and a blocking
//! `std::net` layer with threads.
//!
//! ```text
//!  ferrobahn (this facade)
//!  ├── core  = ferrobahn-core   no_std, sans-IO, no heap required
//!  │           frame · mask · utf8 · close · handshake · decode · connection · io
//!  │           deflate (alloc) · wamp: message · serializers · session · auth · link
//!  └── (std) = ferrobahn-std    sockets, TLS, threads, timeouts: connect / Server /
//!              WebSocket, proxies, auto-ping, prepared messages, and wamp::Client
//! ```
//!
//! Features: `std` (default) puts the blocking API at the top level (`ferrobahn::connect`,
//! `ferrobahn::Server`, `ferrobahn::wamp::Client`); `tls` (default) adds `wss://` with
//! rustls; `wamp` (default) the WAMP serializers, authentication and client;
//! `default-features = false` leaves the embedded core at `ferrobahn::core`.
#![no_std]

pub use ferrobahn_core as core;

#[cfg(feature = "std")]
pub use ferrobahn_std::*;
