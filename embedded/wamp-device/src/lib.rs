//! A WAMP device program without a heap: what a sensor or actuator runs. Over any
//! `embedded-io` stream carrying RawSocket it joins `realm1`, registers
//! `com.device.add` (adds two integers), calls `com.example.add2(21, 21)` on the router,
//! serves invocations, and leaves when the router says GOODBYE.
//!
//! ```text
//!   device ── RawSocketLink (core) ── stream (UART, TCP of an embedded stack, a test pipe)
//!     │ Session (core, FixedRequests<4>) writes HELLO/REGISTER/CALL/YIELD into `tx`
//!     └ every received message: Message::decode → Session::handle → SessionEvent
//! ```
//!
//! Memory: two caller-owned buffers (receive and transmit) and the session, a few hundred
//! bytes; no allocator is linked. `scripts/test-all.sh` builds it for `thumbv7em-none-eabihf`.
#![no_std]

use embedded_io::{Read, Write};
use ferrobahn_core::wamp::link::{LinkError, RawSocketLink};
use ferrobahn_core::wamp::session::{FixedRequests, Hello, Session, SessionError, SessionEvent};
use ferrobahn_core::wamp::{Format, Message, Payload, Raw, Reader, SliceOut, Token, Writer};

/// What the device did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The session ID it got.
    pub session: u64,
    /// The result of its call of `com.example.add2(21, 21)`.
    pub add2: Option<i64>,
    /// Invocations of `com.device.add` it answered.
    pub invocations: u32,
}

/// Why the device stopped early.
#[derive(Debug)]
pub enum DeviceError<E> {
    /// The link failed.
    Link(LinkError<E>),
    /// The session failed (a protocol violation was answered with ABORT).
    Session(SessionError),
    /// The router refused to let us join.
    Aborted,
    /// A message could not be decoded.
    Malformed,
}

impl<E> From<LinkError<E>> for DeviceError<E> {
    fn from(e: LinkError<E>) -> Self {
        DeviceError::Link(e)
    }
}

impl<E> From<SessionError> for DeviceError<E> {
    fn from(e: SessionError) -> Self {
        DeviceError::Session(e)
    }
}

/// The two integers of an `[a, b]` argument list.
fn two_ints(args: Option<Raw<'_>>) -> Option<(i64, i64)> {
    let mut r = args?.reader();
    if !matches!(r.next().ok()?, Token::Array(_)) {
        return None;
    }
    let int = |t: Token<'_>| match t {
        Token::U64(v) => i64::try_from(v).ok(),
        Token::I64(v) => Some(v),
        _ => None,
    };
    let a = int(r.next().ok()?)?;
    let b = int(r.next().ok()?)?;
    Some((a, b))
}

/// A list of integers serialized in `format` into `buf`.
fn ints<'b, E>(
    format: Format,
    vals: &[i64],
    buf: &'b mut [u8],
) -> Result<&'b [u8], DeviceError<E>> {
    let mut out = SliceOut::new(buf);
    let mut w = Writer::new(format, &mut out);
    let written = w
        .array(vals.len())
        .and_then(|()| vals.iter().try_for_each(|v| w.i64(*v)))
        .and_then(|()| w.end());
    written.map_err(|e| DeviceError::Session(SessionError::Codec(e)))?;
    Ok(out.into_slice())
}

fn first_int(args: Option<Raw<'_>>) -> Option<i64> {
    let mut r: Reader<'_> = args?.reader();
    if !matches!(r.next().ok()?, Token::Array(_)) {
        return None;
    }
    match r.next().ok()? {
        Token::U64(v) => i64::try_from(v).ok(),
        Token::I64(v) => Some(v),
        _ => None,
    }
}

/// Runs the device program over `stream` with `format` (JSON or CBOR), `rx` and `tx` as the
/// receive and transmit buffers.
pub fn run<S: Read + Write>(
    stream: S,
    format: Format,
    rx: &mut [u8],
    tx: &mut [u8],
) -> Result<Report, DeviceError<S::Error>> {
    let mut link = RawSocketLink::connect(stream, format, rx)?;
    let mut session: Session<FixedRequests<4>> = Session::new(format);
    let mut report = Report::default();
    let mut args_buf = [0u8; 32];

    let mut out = SliceOut::new(tx);
    session.hello(
        &Hello {
            realm: "realm1",
            agent: Some("ferrobahn-wamp-device"),
            ..Default::default()
        },
        &mut out,
    )?;
    link.send(out.as_slice())?;

    loop {
        let bytes = link.recv()?;
        let msg = Message::decode_from_router(format, bytes).map_err(|_| DeviceError::Malformed)?;
        out.clear();
        let event = session.handle(msg, &mut out);
        // Owed answers (GOODBYE, ABORT) go out first.
        let owed = !out.as_slice().is_empty();
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                if owed {
                    link.send(out.as_slice())?;
                }
                return Err(e.into());
            }
        };
        match event {
            SessionEvent::Welcome { session: id, .. } => {
                report.session = id;
                session.register("com.device.add", Default::default(), &mut out)?;
            }
            SessionEvent::Registered { .. } => {
                let args = ints(format, &[21, 21], &mut args_buf)?;
                let payload = Payload {
                    args: Some(Raw {
                        format,
                        bytes: args,
                    }),
                    kwargs: None,
                };
                session.call(
                    "com.example.add2",
                    Default::default(),
                    payload,
                    None,
                    &mut out,
                )?;
            }
            SessionEvent::Result { payload, .. } => report.add2 = first_int(payload.args),
            SessionEvent::Invocation(inv) => match two_ints(inv.payload.args) {
                Some((a, b)) => {
                    let sum = ints(format, &[a.wrapping_add(b)], &mut args_buf)?;
                    let payload = Payload {
                        args: Some(Raw { format, bytes: sum }),
                        kwargs: None,
                    };
                    session.yield_result(inv.request, false, payload, &mut out)?;
                    report.invocations += 1;
                }
                None => session.invocation_error(
                    inv.request,
                    "wamp.error.invalid_argument",
                    Payload::NONE,
                    &mut out,
                )?,
            },
            SessionEvent::Left(_) => {
                if owed {
                    link.send(out.as_slice())?;
                }
                return Ok(report);
            }
            SessionEvent::Aborted(_) => return Err(DeviceError::Aborted),
            _ => {}
        }
        if !out.as_slice().is_empty() {
            link.send(out.as_slice())?;
        }
    }
}
