//! No-heap WAMP firmware for a Cortex-M4, run in QEMU (`mps2-an386`): UART0 carries
//! RawSocket (or, with the `websocket` feature, WebSocket) to the router (QEMU connects it
//! to a TCP port), UART1 is the console, SysTick counts milliseconds. The WAMP program is in
//! [`app`]; it drives `ferrobahn-core` only (RawSocket link or WebSocket driver, client
//! session, JSON or CBOR) in buffers for 1 KiB messages on the stack.
//!
//! ```text
//!   router ◀─ TCP ─▶ QEMU chardev ◀─▶ UART0 ◀─▶ RawSocketLink | ws::WsLink ◀─▶ Session ◀─▶ app
//!                                        UART1 ─▶ console (QEMU's second -serial)
//! ```
//!
//! When the session ends, the console gets the counters and the peak stack (painted at
//! boot), and the firmware stops QEMU through semihosting (exit status 0 after GOODBYE).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::debug;
use panic_halt as _;

#[cfg(not(feature = "empty"))]
mod app;
mod stack;
mod uart;
#[cfg(all(feature = "websocket", not(feature = "empty")))]
mod ws;

/// Milliseconds since boot.
static MILLIS: AtomicU32 = AtomicU32::new(0);

/// The core clock of the MPS2 FPGA images (and QEMU's model of them).
const CORE_HZ: u32 = 25_000_000;

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}

#[cfg_attr(feature = "empty", allow(dead_code))]
fn now_ms() -> u32 {
    MILLIS.load(Ordering::Relaxed)
}

#[entry]
fn main() -> ! {
    stack::paint();
    let Some(mut p) = cortex_m::Peripherals::take() else {
        debug::exit(debug::EXIT_FAILURE);
        halt();
    };
    p.SYST.set_clock_source(SystClkSource::Core);
    p.SYST.set_reload(CORE_HZ / 1000 - 1);
    p.SYST.clear_current();
    p.SYST.enable_interrupt();
    p.SYST.enable_counter();
    let console = uart::Uart::new(uart::Port::Uart1);
    console.puts(b"firmware: boot\n");
    let ok = device(&console);
    console.puts(b"firmware: peak stack ");
    console.put_u64(stack::peak() as u64);
    console.puts(b" bytes\n");
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    halt();
}

/// Where the firmware would rest if the semihosting exit returned (it does not: without a
/// debugger or QEMU's semihosting the breakpoint faults, which stops the core as well).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "empty"))]
fn device(console: &uart::Uart) -> bool {
    use ferrobahn_core::wamp::Format;
    let format = if cfg!(feature = "cbor") {
        Format::Cbor
    } else {
        Format::Json
    };
    let uart0 = uart::Uart::new(uart::Port::Uart0);
    // Buffers for 1 KiB messages.
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let mut counters = app::Counters::default();
    #[cfg(not(feature = "websocket"))]
    let end = match ferrobahn_core::wamp::link::RawSocketLink::connect(uart0, format, &mut rx) {
        Ok(mut link) => {
            console.puts(b"firmware: RawSocket link up\n");
            app::run(&mut link, format, &mut tx, console, now_ms, &mut counters)
        }
        Err(_) => Err(app::End::Link),
    };
    #[cfg(feature = "websocket")]
    let end = {
        // The socket read buffer holds the 101 response head; frames pass through it.
        let mut sock = [0u8; 512];
        // Each outgoing frame: a message and its header.
        let mut frame = [0u8; 1024 + 8];
        let keys = ws::Xorshift::new(cortex_m::peripheral::SYST::get_current() ^ now_ms());
        match ws::WsLink::connect(uart0, format, keys, &mut sock, &mut frame, &mut rx) {
            Ok(mut link) => {
                console.puts(b"firmware: WebSocket link up\n");
                app::run(&mut link, format, &mut tx, console, now_ms, &mut counters)
            }
            Err(e) => Err(e),
        }
    };
    console.puts(b"firmware: invocations ");
    console.put_u64(u64::from(counters.invocations));
    console.puts(b", led events ");
    console.put_u64(u64::from(counters.events));
    console.puts(b", heartbeats ");
    console.put_u64(u64::from(counters.heartbeats));
    console.puts(b", pings answered ");
    console.put_u64(u64::from(counters.pings));
    console.puts(b"\n");
    let (ok, what): (bool, &[u8]) = match end {
        Ok(app::End::Left) => (true, b"left after GOODBYE"),
        Ok(app::End::Aborted) => (false, b"aborted by the router"),
        Ok(app::End::Link) | Err(app::End::Link) => (false, b"link broken"),
        Ok(app::End::Protocol) | Err(app::End::Protocol) => (false, b"protocol error"),
        Err(_) => (false, b"failed"),
    };
    console.puts(b"firmware: ");
    console.puts(what);
    console.puts(b"\n");
    ok
}

/// The baseline image: cortex-m-rt, the clock and the console, no WAMP.
#[cfg(feature = "empty")]
fn device(_: &uart::Uart) -> bool {
    true
}
