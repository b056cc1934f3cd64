//! The device program against a scripted router over an in-memory RawSocket pipe, with
//! JSON and with CBOR, 1 KiB buffers on the stack: joins, registers, calls, serves an
//! invocation (and refuses a bad one), leaves on the router's GOODBYE.

use std::sync::mpsc;

use ferrobahn_core::wamp::rawsocket::{self, FrameKind};
use ferrobahn_core::wamp::{Format, Message, Raw, Writer};
use ferrobahn_wamp_device::{run, Report};

/// One end of an in-memory byte pipe.
struct End {
    tx: mpsc::Sender<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

fn pipe() -> (End, End) {
    let (a_tx, b_rx) = mpsc::channel();
    let (b_tx, a_rx) = mpsc::channel();
    (
        End {
            tx: a_tx,
            rx: a_rx,
            pending: Vec::new(),
        },
        End {
            tx: b_tx,
            rx: b_rx,
            pending: Vec::new(),
        },
    )
}

#[derive(Debug)]
struct Gone;

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the other end is gone")
    }
}

impl std::error::Error for Gone {}

impl embedded_io::Error for Gone {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::BrokenPipe
    }
}

impl embedded_io::ErrorType for End {
    type Error = Gone;
}

impl embedded_io::Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Gone> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(v) => self.pending = v,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl embedded_io::Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Gone> {
        self.tx.send(buf.to_vec()).map_err(|_| Gone)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Gone> {
        Ok(())
    }
}

/// The router's side: frames in and out, messages written as JSON and sent in `format`.
struct Router {
    end: End,
    format: Format,
}

impl Router {
    fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        let mut at = 0;
        while at < n {
            let got = embedded_io::Read::read(&mut self.end, &mut out[at..]).unwrap();
            assert!(got > 0, "the device closed the pipe");
            at += got;
        }
        out
    }

    /// The next message from the device, as JSON text.
    fn recv(&mut self) -> String {
        let h = self.read_exact(4);
        let (kind, len) = rawsocket::parse_header([h[0], h[1], h[2], h[3]], 1 << 24).unwrap();
        assert_eq!(kind, FrameKind::Message);
        let payload = self.read_exact(len as usize);
        let m = Message::decode(self.format, &payload).unwrap();
        let mut json = Vec::new();
        m.encode(Format::Json, &mut json).unwrap();
        String::from_utf8(json).unwrap()
    }

    fn send(&mut self, json: &str) {
        let mut out = Vec::new();
        Writer::new(self.format, &mut out)
            .raw(Raw {
                format: Format::Json,
                bytes: json.as_bytes(),
            })
            .unwrap();
        let h = rawsocket::header(FrameKind::Message, out.len(), 1024).unwrap();
        embedded_io::Write::write_all(&mut self.end, &h).unwrap();
        embedded_io::Write::write_all(&mut self.end, &out).unwrap();
    }
}

fn script(end: End, format: Format) {
    let mut r = Router { end, format };
    let hs = r.read_exact(4);
    // 1 KiB receive buffer: the device announces 2^(9+1).
    assert_eq!(hs[1] >> 4, 1);
    let (ours, _) =
        rawsocket::server_handshake([hs[0], hs[1], hs[2], hs[3]], |_| true, 15).unwrap();
    embedded_io::Write::write_all(&mut r.end, &ours.encode()).unwrap();
    let hello = r.recv();
    assert!(
        hello.starts_with(r#"[1,"realm1",{"roles":{"caller""#),
        "{hello}"
    );
    r.send(r#"[2,9007199254740992,{"authrole":"anonymous"}]"#);
    assert_eq!(r.recv(), r#"[64,1,{},"com.device.add"]"#);
    r.send("[65,1,4242]");
    assert_eq!(r.recv(), r#"[48,2,{},"com.example.add2",[21,21]]"#);
    // A ping on the way is answered with a pong carrying the same bytes.
    let h = rawsocket::header(FrameKind::Ping, 3, 1024).unwrap();
    embedded_io::Write::write_all(&mut r.end, &h).unwrap();
    embedded_io::Write::write_all(&mut r.end, b"abc").unwrap();
    r.send("[50,2,{},[42]]");
    let pong = r.read_exact(7);
    assert_eq!(&pong, &[2, 0, 0, 3, b'a', b'b', b'c']);
    r.send("[68,7,4242,{},[-5,3]]");
    assert_eq!(r.recv(), "[70,7,{},[-2]]");
    r.send(r#"[68,8,4242,{},["x"]]"#);
    assert_eq!(r.recv(), r#"[8,68,8,{},"wamp.error.invalid_argument"]"#);
    r.send(r#"[6,{},"wamp.close.system_shutdown"]"#);
    assert_eq!(r.recv(), r#"[6,{},"wamp.close.goodbye_and_out"]"#);
}

#[test]
fn the_device_joins_calls_and_serves_without_a_heap() {
    for format in [Format::Json, Format::Cbor] {
        let (device_end, router_end) = pipe();
        let router = std::thread::spawn(move || script(router_end, format));
        let mut rx = [0u8; 1024];
        let mut tx = [0u8; 1024];
        let report = run(device_end, format, &mut rx, &mut tx).unwrap();
        router.join().unwrap();
        assert_eq!(
            report,
            Report {
                session: 9007199254740992,
                add2: Some(42),
                invocations: 1
            },
            "{format:?}"
        );
    }
}
