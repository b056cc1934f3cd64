//! The device's WAMP program: joins `realm1` over a [`Link`] (RawSocket, or WebSocket with
//! the `websocket` feature), registers
//! `com.device.read_sensor` (answers `[reading, counter]`), subscribes to `com.device.led`
//! (prints each event's arguments on the console), publishes `com.device.heartbeat`
//! (`[count, uptime_ms]`) every second, and leaves when the router says GOODBYE.
//!
//! ```text
//!   loop: heartbeat due? ─▶ Session::publish ─▶ link.send_message
//!         link.ready()? ─▶ link.recv_message (None after a ping) ─▶ Message::decode_from_router
//!                       ─▶ Session::handle ─▶ SessionEvent ─▶ answers ─▶ link.send_message
//!         else wait for an interrupt (the 1 ms SysTick)
//! ```

use embedded_io::{Read, ReadReady, Write};
use ferrobahn_core::wamp::link::RawSocketLink;
use ferrobahn_core::wamp::session::{FixedRequests, Hello, Session, SessionError, SessionEvent};
use ferrobahn_core::wamp::{Format, Message, Payload, Raw, SliceOut, Writer};

use crate::uart::Uart;

/// How the session ended.
pub enum End {
    /// The router said GOODBYE (answered).
    Left,
    /// The router refused the session.
    Aborted,
    /// The link broke.
    Link,
    /// A message could not be decoded or broke the protocol.
    Protocol,
}

/// What the program needs of a transport: whole WAMP messages, one per frame, and a way
/// to tell whether the router sent anything (so the clock keeps running between messages).
pub trait Link {
    /// Sends one WAMP message.
    fn send_message(&mut self, message: &[u8]) -> Result<(), End>;
    /// The router sent something.
    fn ready(&mut self) -> Result<bool, End>;
    /// One frame: a WAMP message, or `None` after a ping (answered) or a pong.
    fn recv_message(&mut self) -> Result<Option<&[u8]>, End>;
    /// The router's pings answered so far.
    fn pings(&self) -> u32;
}

impl<S: Read + Write + ReadReady> Link for RawSocketLink<'_, S> {
    fn send_message(&mut self, message: &[u8]) -> Result<(), End> {
        self.send(message).map_err(|_| End::Link)
    }
    fn ready(&mut self) -> Result<bool, End> {
        RawSocketLink::ready(self).map_err(|_| End::Link)
    }
    fn recv_message(&mut self) -> Result<Option<&[u8]>, End> {
        self.recv_frame().map_err(|_| End::Link)
    }
    fn pings(&self) -> u32 {
        self.pings_answered()
    }
}

impl From<SessionError> for End {
    fn from(_: SessionError) -> Self {
        End::Protocol
    }
}

/// What the device counted, shown on the console at the end.
#[derive(Default)]
pub struct Counters {
    pub invocations: u32,
    pub events: u32,
    pub heartbeats: u32,
    /// The router's RawSocket pings answered.
    pub pings: u32,
}

/// `[a, b]` in `format`, into `buf`.
fn pair(format: Format, a: u64, b: u64, buf: &mut [u8]) -> Result<&[u8], End> {
    let mut out = SliceOut::new(buf);
    let mut w = Writer::new(format, &mut out);
    w.array(2)
        .and_then(|()| w.u64(a))
        .and_then(|()| w.u64(b))
        .and_then(|()| w.end())
        .map_err(|_| End::Protocol)?;
    Ok(out.into_slice())
}

/// A pretend sensor: a temperature in centidegrees that drifts with time.
fn reading(now_ms: u32) -> u64 {
    2150 + u64::from(now_ms / 100 % 50)
}

/// Runs the device program over `link` until the session ends; `tx` holds each message it
/// sends; `now_ms` reads the SysTick clock.
pub fn run(
    link: &mut impl Link,
    format: Format,
    tx: &mut [u8],
    console: &Uart,
    now_ms: impl Fn() -> u32,
    counters: &mut Counters,
) -> Result<End, End> {
    let mut session: Session<FixedRequests<4>> = Session::new(format);
    let mut args = [0u8; 32];
    let mut out = SliceOut::new(tx);
    session.hello(
        &Hello {
            realm: "realm1",
            agent: Some("ferrobahn-firmware"),
            ..Default::default()
        },
        &mut out,
    )?;
    link.send_message(out.as_slice())?;
    let mut joined = false;
    let mut next_heartbeat = 0u32;
    loop {
        out.clear();
        let now = now_ms();
        if joined && now.wrapping_sub(next_heartbeat) < u32::MAX / 2 {
            counters.heartbeats += 1;
            let a = pair(
                format,
                u64::from(counters.heartbeats),
                u64::from(now),
                &mut args,
            )?;
            let payload = Payload {
                args: Some(Raw { format, bytes: a }),
                kwargs: None,
            };
            session.publish(
                "com.device.heartbeat",
                Default::default(),
                payload,
                &mut out,
            )?;
            link.send_message(out.as_slice())?;
            out.clear();
            next_heartbeat = next_heartbeat.wrapping_add(1000);
            if now.wrapping_sub(next_heartbeat) < u32::MAX / 2 {
                // Fell more than a period behind (a long stall): no burst to catch up.
                next_heartbeat = now.wrapping_add(1000);
            }
        }
        counters.pings = link.pings();
        if !link.ready()? {
            cortex_m::asm::wfi();
            continue;
        }
        // One frame: a ping is answered inside, and the loop goes back to the clock.
        let Some(bytes) = link.recv_message()? else {
            continue;
        };
        let msg = Message::decode_from_router(format, bytes).map_err(|_| End::Protocol)?;
        let event = match session.handle(msg, &mut out) {
            Ok(e) => e,
            Err(e) => {
                // An ABORT owed to the router goes out before we stop.
                if !out.as_slice().is_empty() {
                    link.send_message(out.as_slice())?;
                }
                return Err(e.into());
            }
        };
        match event {
            SessionEvent::Welcome { session: id, .. } => {
                console.puts(b"firmware: joined realm1 as session ");
                console.put_u64(id);
                console.puts(b"\n");
                joined = true;
                next_heartbeat = now_ms().wrapping_add(1000);
                // One message per RawSocket frame.
                session.register("com.device.read_sensor", Default::default(), &mut out)?;
                link.send_message(out.as_slice())?;
                out.clear();
                session.subscribe("com.device.led", Default::default(), &mut out)?;
            }
            SessionEvent::Registered { .. } => {
                console.puts(b"firmware: registered com.device.read_sensor\n")
            }
            SessionEvent::Subscribed { .. } => {
                console.puts(b"firmware: subscribed to com.device.led\n")
            }
            SessionEvent::Invocation(inv) => {
                counters.invocations += 1;
                let a = pair(
                    format,
                    reading(now_ms()),
                    u64::from(counters.invocations),
                    &mut args,
                )?;
                let payload = Payload {
                    args: Some(Raw { format, bytes: a }),
                    kwargs: None,
                };
                session.yield_result(inv.request, false, payload, &mut out)?;
            }
            SessionEvent::Event(ev) => {
                counters.events += 1;
                console.puts(b"firmware: led ");
                let args = ev.payload.args.map_or(&[][..], |a| a.bytes);
                if format == Format::Json {
                    console.puts(args);
                } else {
                    // Binary serializers: the bytes in hex.
                    console.put_hex(args);
                }
                console.puts(b"\n");
            }
            SessionEvent::Left(_) => {
                // Our GOODBYE answer is in `out`.
                if !out.as_slice().is_empty() {
                    link.send_message(out.as_slice())?;
                }
                return Ok(End::Left);
            }
            SessionEvent::Aborted(_) => return Ok(End::Aborted),
            _ => {}
        }
        if !out.as_slice().is_empty() {
            link.send_message(out.as_slice())?;
        }
    }
}
