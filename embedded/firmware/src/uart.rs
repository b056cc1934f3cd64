//! The CMSDK APB UART of Arm's MPS2 boards (and of QEMU's `mps2-an386`), polled, as an
//! `embedded-io` stream: what the WAMP link reads and writes.
//!
//! Polling suits QEMU, whose serial backend waits while the one-byte receive register is
//! full. Real hardware at speed would overrun that register while the program sleeps or
//! prints; it wants the receive interrupt and a ring buffer.
//!
//! Registers (Arm CMSDK technical reference): DATA at +0x00, STATE at +0x04 (bit 0: the
//! transmit holding register is full, bit 1: a received byte is waiting), CTRL at +0x08
//! (bit 0: transmit enable, bit 1: receive enable), BAUDDIV at +0x10 (at least 16).

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;
const STATE_TX_FULL: u32 = 1;
const STATE_RX_FULL: u32 = 2;
const CTRL_TX_EN: u32 = 1;
const CTRL_RX_EN: u32 = 2;

/// The UARTs this firmware uses, by their place in the MPS2 memory map.
#[derive(Clone, Copy)]
pub enum Port {
    /// UART0 at 0x4000_4000: the link to the router.
    #[cfg_attr(feature = "empty", allow(dead_code))]
    Uart0,
    /// UART1 at 0x4000_5000: the console.
    Uart1,
}

/// One UART.
pub struct Uart {
    base: usize,
}

impl Uart {
    /// Enables transmit and receive on `port`.
    pub fn new(port: Port) -> Self {
        let base = match port {
            Port::Uart0 => 0x4000_4000,
            Port::Uart1 => 0x4000_5000,
        };
        let u = Self { base };
        // 25 MHz peripheral clock / 217 = 115200 baud (QEMU ignores the rate; it must be
        // at least 16).
        u.write_reg(BAUDDIV, 217);
        u.write_reg(CTRL, CTRL_TX_EN | CTRL_RX_EN);
        u
    }

    fn read_reg(&self, offset: usize) -> u32 {
        // SAFETY: `base` is one of the UART register blocks of the MPS2 memory map (only
        // `new` sets it, from a `Port`), so base + offset is a device register, 4-aligned,
        // readable.
        unsafe { read_volatile((self.base + offset) as *const u32) }
    }

    fn write_reg(&self, offset: usize, value: u32) {
        // SAFETY: as in `read_reg`; writing DATA, CTRL or BAUDDIV has no effect on memory.
        unsafe { write_volatile((self.base + offset) as *mut u32, value) }
    }

    fn rx_waiting(&self) -> bool {
        self.read_reg(STATE) & STATE_RX_FULL != 0
    }

    /// Sends one byte, waiting while the transmit register is full.
    pub fn put(&self, b: u8) {
        while self.read_reg(STATE) & STATE_TX_FULL != 0 {}
        self.write_reg(DATA, u32::from(b));
    }

    /// Sends bytes.
    pub fn puts(&self, s: &[u8]) {
        s.iter().for_each(|b| self.put(*b));
    }

    /// Sends bytes in hex.
    #[cfg_attr(feature = "empty", allow(dead_code))]
    pub fn put_hex(&self, bytes: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in bytes {
            self.put(HEX[usize::from(b >> 4)]);
            self.put(HEX[usize::from(b & 15)]);
        }
    }

    /// Sends a number in decimal.
    pub fn put_u64(&self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        digits[..n].iter().rev().for_each(|d| self.put(*d));
    }
}

impl embedded_io::ErrorType for Uart {
    type Error = Infallible;
}

impl embedded_io::Read for Uart {
    /// Waits for the first byte, then takes what else is already waiting.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.rx_waiting() {}
        let mut n = 0;
        while n < buf.len() && self.rx_waiting() {
            buf[n] = self.read_reg(DATA) as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.rx_waiting())
    }
}

impl embedded_io::Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.puts(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
