//! `Message::decode` on arbitrary bytes in every serializer (the first byte picks it). A
//! message that decodes must encode in every serializer, decode again from each to the same
//! message, and encode back to identical bytes in its own serializer.
#![no_main]

use ferrobahn_core::wamp::{ErrorKind, Format, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[sel as usize % 4];
    let Ok(m) = Message::decode(format, input) else {
        return;
    };
    let mut own = Vec::new();
    m.encode(format, &mut own)
        .expect("a decoded message encodes");
    let again = Message::decode(format, &own).expect("our own encoding decodes");
    let mut own2 = Vec::new();
    again.encode(format, &mut own2).unwrap();
    assert_eq!(own, own2, "encoding is stable");
    for to in Format::ALL {
        let mut out = Vec::new();
        match m.encode(to, &mut out) {
            // JSON has no NaN/infinity, and a string starting with U+0000 means bytes there.
            Err(e)
                if to == Format::Json
                    && matches!(e.kind, ErrorKind::OutOfRange | ErrorKind::Unsupported) =>
            {
                continue
            }
            r => r.expect("transcodes to every serializer"),
        }
        let back = Message::decode(to, &out).expect("the transcoded message decodes");
        assert_eq!(back.code(), m.code());
        // Back into the original serializer: it decodes again as the same message type.
        let mut round = Vec::new();
        back.encode(format, &mut round).unwrap();
        let r = Message::decode(format, &round).unwrap();
        assert_eq!(r.code(), m.code());
    }
});
