//! A blocking WAMP client: RPC and PubSub over WebSocket or RawSocket, for scripts and
//! threaded programs without async.
//!
//! ```text
//!   your threads ── call/publish/subscribe/register ──▶ Client
//!        │             session (core, sans-IO) under a lock writes the message ──▶ link
//!        └─ wait on a per-request channel
//!   reader thread ◀── link ◀── router
//!        │ Message::decode → Session::handle → SessionEvent
//!        ├─ RESULT / ERROR / acks ──▶ the waiting caller's channel
//!        └─ EVENT / INVOCATION ──▶ worker pool ──▶ your handler ──▶ YIELD / ERROR
//! ```
//!
//! The path of a CALL: [`Client::call`] serializes the [`Args`] in the session's serializer,
//! the core session assigns the request ID and writes the CALL, the link sends it (a
//! WebSocket message or a RawSocket frame); the reader thread decodes the RESULT, the
//! session matches it to the request, and the caller's channel receives the result, whose
//! payload is turned into [`Args`] only then.

mod client;
mod component;
mod link;
mod outgoing;
mod payload;
mod pool;
pub mod router;
mod scram;

pub use client::{
    CallOptions, Canceler, Client, ClientOptions, Credential, EventInfo, InvocationInfo, Progress,
    PublishOptions, RegisterOptions, SubscribeOptions,
};
pub use component::{default_is_fatal, Component, ComponentHandle, Lifecycle, Retry};
pub use ferrobahn_core::wamp::auth::cryptosign::Key as CryptosignKey;
pub use ferrobahn_core::wamp::dict::{CancelMode, Invoke};
pub use ferrobahn_core::wamp::uri::Match;
pub use ferrobahn_core::wamp::{Format, Serializer};
pub use payload::{bytes_value, value_bytes, Args};
/// The JSON data model payloads are given and returned in (`Value`, `json!`), re-exported so
/// users name the same version this crate was built with.
pub use serde_json;

/// An error of the WAMP client.
#[derive(Debug)]
#[non_exhaustive]
pub enum WampError {
    /// The transport failed or was refused.
    Transport(String),
    /// The router refused to let us join (ABORT): its reason URI and message.
    Aborted {
        /// The reason URI (`wamp.error.not_authorized`, `wamp.error.no_such_realm`, ...).
        reason: String,
        /// The router's message, if any.
        message: Option<String>,
    },
    /// The peer answered with a WAMP error: its URI and arguments (Autobahn's
    /// `ApplicationError`). Also what a handler returns to fail an invocation.
    Application {
        /// The error URI.
        error: String,
        /// Its arguments.
        args: Args,
    },
    /// A client-side call timeout passed (the call was canceled).
    Timeout,
    /// The session is gone (left, aborted, or the transport closed).
    SessionClosed,
    /// The router broke the protocol (we sent ABORT).
    Protocol(String),
    /// A payload could not be (de)serialized.
    Payload(String),
    /// Authentication could not be answered (no credential for the method, bad key).
    Auth(String),
}

impl WampError {
    /// An application error to return from a handler: `WampError::app("com.error.x", args)`.
    pub fn app(error: impl Into<String>, args: Args) -> Self {
        WampError::Application {
            error: error.into(),
            args,
        }
    }

    /// The WAMP error URI, for application errors.
    pub fn uri(&self) -> Option<&str> {
        match self {
            WampError::Application { error, .. } => Some(error),
            WampError::Aborted { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl std::fmt::Display for WampError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WampError::Transport(e) => write!(f, "transport: {e}"),
            WampError::Aborted { reason, message } => {
                write!(f, "aborted: {reason}")?;
                if let Some(m) = message {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
            WampError::Application { error, args } => write!(f, "{error} {:?}", args.args),
            WampError::Timeout => f.write_str("call timed out"),
            WampError::SessionClosed => f.write_str("session closed"),
            WampError::Protocol(e) => write!(f, "protocol violation: {e}"),
            WampError::Payload(e) => write!(f, "payload: {e}"),
            WampError::Auth(e) => write!(f, "authentication: {e}"),
        }
    }
}

impl std::error::Error for WampError {}

impl From<std::io::Error> for WampError {
    fn from(e: std::io::Error) -> Self {
        WampError::Transport(e.to_string())
    }
}

impl From<crate::Error> for WampError {
    fn from(e: crate::Error) -> Self {
        WampError::Transport(e.to_string())
    }
}

impl From<ferrobahn_core::wamp::session::SessionError> for WampError {
    fn from(e: ferrobahn_core::wamp::session::SessionError) -> Self {
        use ferrobahn_core::wamp::session::SessionError as S;
        match e {
            S::ProtocolViolation(w) => WampError::Protocol(w.into()),
            S::InvalidState => WampError::SessionClosed,
            other => WampError::Transport(other.to_string()),
        }
    }
}
