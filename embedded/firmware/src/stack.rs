//! Peak stack measurement by painting: at boot every free word between the end of static
//! data and the stack pointer gets a pattern; the lowest word that lost it is how deep the
//! stack has been.

const PATTERN: u32 = 0xC0DE_F00D;

extern "C" {
    /// End of .bss/.uninit (cortex-m-rt): the lowest address the stack may reach.
    static __sheap: u32;
    /// Top of the stack (cortex-m-rt: the end of RAM).
    static _stack_start: u32;
}

/// Only the symbols' addresses are used, never their values.
fn bounds() -> (usize, usize) {
    (
        core::ptr::addr_of!(__sheap) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    )
}

/// Paints the free stack below the current frame (a margin of 256 bytes is left for the
/// frames running now).
pub fn paint() {
    let (low, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize - 256;
    let mut at = low;
    while at + 4 <= sp {
        // SAFETY: [low, sp) is RAM between the end of static data and the live stack: no
        // Rust object lives there (nothing is allocated on a heap; the stack is above sp).
        unsafe { core::ptr::write_volatile(at as *mut u32, PATTERN) };
        at += 4;
    }
}

/// The deepest the stack has been, in bytes from its top.
pub fn peak() -> usize {
    let (low, top) = bounds();
    let mut at = low;
    // SAFETY: as in `paint`: reads of plain RAM below the stack's deepest point so far.
    while at < top && unsafe { core::ptr::read_volatile(at as *const u32) } == PATTERN {
        at += 4;
    }
    top - at
}
