//! Decodes WAMP messages written by another implementation and writes them back: the Rust
//! half of the Autobahn|Python compatibility test (`scripts/wamp-compat.sh`).
//!
//!     cargo run --example wamp_recode -- DIR
//!
//! For every entry of `DIR/manifest.json` (`file`, `serializer`, `batched`, `messages`): decode
//! the file (split first when batched), check the message count, write the messages back in
//! the same serializer to `FILE.ours` (batched the same way), and each message as JSON to
//! `FILE.json-lines`, one per line. Serializers: json, msgpack, cbor, ubjson, flatbuffers
//! (never batched). Exits 1 on the first file that does not decode.

use std::path::Path;

use ferrobahn::core::wamp::batched::{self, JsonSeparator};
use ferrobahn::core::wamp::{Format, Message, Serializer};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: wamp_recode DIR");
    let dir = Path::new(&dir);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("manifest is JSON");
    let mut files = 0;
    for entry in manifest.as_array().expect("a list") {
        let file = entry["file"].as_str().unwrap();
        let name = entry["serializer"].as_str().unwrap();
        let ser = Serializer::from_name(name).unwrap_or_else(|| fail(file, "unknown serializer"));
        let is_batched = entry["batched"].as_bool().unwrap();
        // Batched framing exists for the token formats only.
        let batch_format = || ser.format().unwrap_or_else(|| fail(file, "not batchable"));
        let want = entry["messages"].as_u64().unwrap() as usize;
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let pieces: Vec<&[u8]> = if is_batched {
            batched::split(batch_format(), &bytes)
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| fail(file, e))
        } else {
            vec![&bytes]
        };
        let mut scratch = vec![Vec::new(); pieces.len()];
        let msgs: Vec<Message<'_>> = pieces
            .iter()
            .zip(scratch.iter_mut())
            .map(|(p, s)| Message::decode_as_vec(ser, p, s).unwrap_or_else(|e| fail(file, e)))
            .collect();
        if msgs.len() != want {
            fail(file, format!("{} messages, want {want}", msgs.len()));
        }
        let mut ours = Vec::new();
        let mut lines = Vec::new();
        for m in &msgs {
            if is_batched {
                batched::encode(m, batch_format(), JsonSeparator::Autobahn, &mut ours)
            } else {
                m.encode_as(ser, &mut ours)
            }
            .unwrap_or_else(|e| fail(file, e));
            m.encode(Format::Json, &mut lines)
                .unwrap_or_else(|e| fail(file, e));
            lines.push(b'\n');
        }
        std::fs::write(dir.join(format!("{file}.ours")), &ours).unwrap();
        std::fs::write(dir.join(format!("{file}.json-lines")), &lines).unwrap();
        files += 1;
    }
    println!("wamp_recode: {files} files decoded and written back");
}

fn fail(file: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("wamp_recode: {file}: {e}");
    std::process::exit(1)
}
