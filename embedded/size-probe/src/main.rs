//! The no-heap WAMP device program (ferrobahn-wamp-device) as a Cortex-M4 image, for its
//! flash and RAM figures. Its stream replays bytes and discards what it writes through
//! `black_box`, so the optimizer keeps the whole program: what is measured is what a device
//! would carry. (Running it against a real router under QEMU is the firmware issue's job.)
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use ferrobahn_core::wamp::Format;
use panic_halt as _;

/// Replays bytes the optimizer cannot see through.
struct Replay {
    inbox: [u8; 256],
    at: usize,
}

impl embedded_io::ErrorType for Replay {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.inbox.len() - self.at);
        buf[..n].copy_from_slice(&self.inbox[self.at..self.at + n]);
        self.at += n;
        Ok(black_box(n))
    }
}

impl embedded_io::Write for Replay {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        black_box(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let format = if cfg!(feature = "cbor") {
        Format::Cbor
    } else {
        Format::Json
    };
    // 1 KiB buffers on the stack.
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let stream = Replay {
        inbox: black_box([0u8; 256]),
        at: 0,
    };
    let report = ferrobahn_wamp_device::run(stream, format, &mut rx, &mut tx);
    black_box(report.is_ok());
    #[allow(clippy::empty_loop)]
    loop {}
}
