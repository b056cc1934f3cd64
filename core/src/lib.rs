#![no_std]
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod close;
pub mod config;
pub mod connection;
pub mod decode;
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod io;
pub mod mask;
pub mod utf8;
#[cfg(feature = "wamp")]
pub mod wamp;

pub use close::{CloseCode, CloseFrame};
pub use config::{Config, MaskKeySource, NoMask, Role};
pub use connection::{CloseState, Connection};
pub use decode::{Decoder, Event, MessageKind};
pub use error::ProtocolError;
pub use frame::{FrameHeader, OpCode};
pub use httparse;

/// The result of feeding a push parser: complete, or more bytes needed (not an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Status<T> {
    /// Parsed; the value is ready.
    Complete(T),
    /// The input ended before the item did: call again with more bytes.
    Partial,
}
