//! `FrameHeader::parse` on arbitrary bytes. A complete header must survive `emit` → `parse`
//! with every field unchanged; only the length form may shrink to the shortest one.
#![no_main]

use ferrobahn_core::frame::{FrameHeader, HeaderView, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use ferrobahn_core::Status;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (h, used) = match FrameHeader::parse(data) {
        Err(_) => return,
        Ok(Status::Partial) => {
            // Partial only when the view also lacks bytes, which a 14-byte input never does.
            assert!(matches!(HeaderView::new(data), Status::Partial));
            assert!(data.len() < MAX_HEADER_LEN);
            return;
        }
        Ok(Status::Complete(hl)) => hl,
    };
    assert!((2..=MAX_HEADER_LEN).contains(&used) && used <= data.len());
    assert!(h.rsv <= 7);
    assert!(h.payload_len >> 63 == 0);
    assert_eq!(h.mask.is_some(), data[1] & 0x80 != 0);
    if h.opcode.is_control() {
        assert!(h.fin && h.payload_len <= MAX_CONTROL_PAYLOAD as u64);
    }

    let mut buf = [0u8; MAX_HEADER_LEN];
    let n = h.emit(&mut buf).expect("emit into MAX_HEADER_LEN bytes");
    assert_eq!(n, h.encoded_len());
    assert!(n <= used, "emit is never longer than what was parsed");
    // Too small a buffer: `None`, never a panic.
    assert!(h.emit(&mut [0u8; MAX_HEADER_LEN][..n - 1]).is_none());

    match FrameHeader::parse(&buf[..n]) {
        Ok(Status::Complete((h2, n2))) => {
            assert_eq!(n2, n);
            assert_eq!(h2.fin, h.fin);
            assert_eq!(h2.rsv, h.rsv);
            assert_eq!(h2.opcode, h.opcode);
            assert_eq!(h2.mask, h.mask);
            assert_eq!(h2.payload_len, h.payload_len);
        }
        other => panic!(
            "re-parsing the emitted header {:?} gave {other:?}",
            &buf[..n]
        ),
    }
    // Every proper prefix of the emitted header is Partial.
    for cut in 0..n {
        assert_eq!(FrameHeader::parse(&buf[..cut]), Ok(Status::Partial));
    }
    // When the input already used the shortest form, emit reproduces it byte for byte.
    if n == used {
        assert_eq!(&buf[..n], &data[..used]);
    }
});
