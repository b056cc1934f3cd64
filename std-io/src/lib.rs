//! Blocking `std::net` WebSocket client and server on the sans-IO `ferrobahn-core`.
//!
//! ```text
//!  your code ── Message ──▶ Writer ── Connection::encode_* ──▶ wbuf ──▶ Transport
//!  your code ◀── Message ── Reader ◀── Connection::read ◀── rbuf ◀── Transport
//!                              │  (pong / close reply owed) ──▶ wbuf
//!  Transport = TcpStream | TlsStream (rustls; one session shared by both halves)
//!  server: Server::serve → thread per connection → accept_with: TLS (if configured),
//!          handshake (status page for plain GETs, origin, hook) → handler(WebSocket)
//!  client: connect(url) / ClientBuilder → TCP → CONNECT proxy (if any) → TLS (wss://)
//!          → handshake → WebSocket
//!  keepalive thread (auto-ping, optional) ── ping ──▶ Writer;  Reader ── pong ──▶ RTT event
//!  PreparedMessage ── Writer::write_prepared ──▶ many connections (compressed once)
//!  compress: offers / policies → Negotiated::compression → Codec per direction
//!            (deflate from the core; brotli, bzip2, snappy here, each a Cargo feature)
//! ```
//!
//! The path of a frame: the reader thread reads socket bytes (decrypted by the
//! [`tls::TlsStream`] under `wss://`) into its growable read buffer;
//! [`ferrobahn_core::Connection::read`] unmasks them in place, checks them (RFC 6455 rules,
//! limits, UTF-8 as it arrives) and yields frame events; the message API appends data to a
//! message buffer and returns a [`Message`] when the frame with FIN ends. Pongs and close
//! replies the core owes go into the shared write buffer, flushed before the reader blocks
//! again. The core owns every protocol decision; this crate owns sockets, TLS, threads,
//! buffers, timeouts and randomness (masking keys and ping payloads from the OS). Every
//! connection counts its traffic ([`stats`]).
//!
//! A WAMP CALL ([`wamp::Client::call`]) is one text or binary message on this path (or a
//! RawSocket frame on a plain stream): the client's core session writes it, a reader thread
//! decodes the RESULT and hands it to the waiting caller (see [`wamp`]).
//!
//! The embedded router ([`wamp::router::Router`]) accepts WebSocket and RawSocket on one port
//! (the first byte tells them apart), runs a thread per connection and keeps the sans-IO
//! `ferrobahn_core::wamp::router::Router` under one lock: a reader hands it each message, it
//! answers with send/close actions, each send goes into the bounded queue of its connection
//! (a full queue disconnects that slow consumer), and after the lock the same thread writes
//! those queues to their sockets without blocking; a connection whose socket is full gets a
//! writer thread for the rest (`wamp::outgoing`). With `ping_interval` set, the timer thread
//! pings every connection through the same queues and drops one that stopped answering.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod compress;
pub mod entropy;
pub mod error;
pub mod keepalive;
pub mod message;
pub mod prepared;
pub mod proxy;
pub mod server;
pub mod stats;
#[cfg(feature = "tls")]
pub mod tls;
pub mod transport;
#[cfg(feature = "wamp")]
pub mod wamp;
pub mod websocket;

pub use client::{connect, ClientBuilder};
pub use compress::{Compression, Method, Offer};
pub use error::{Error, Result};
pub use ferrobahn_core as core_crate;
pub use ferrobahn_core::deflate::{ClientOffer, DeflateAccept, DeflateOffer, DeflateParams};
/// The `http` crate, whose request and response types the handshake hook uses.
pub use http;
pub use keepalive::{AutoPing, PingEvent};
pub use message::{Close, Message, Text};
pub use prepared::PreparedMessage;
pub use proxy::Proxy;
pub use server::{accept, accept_with, Server, ServerConfig};
pub use stats::TrafficStats;
#[cfg(feature = "tls")]
pub use tls::{TlsClientOptions, TlsStream};
pub use transport::Transport;
pub use websocket::{
    Incoming, MessageWriter, Negotiated, Reader, Settings, Stream, WebSocket, Writer,
};
