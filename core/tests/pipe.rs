//! A client and a server core talk over an in-memory `embedded-io` pipe with fixed stack
//! buffers: handshake, text and binary echo, a fragmented message, ping, close. Only the
//! pipe (test scaffolding) uses std; the connections use no heap.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use ferrobahn_core::handshake::{client_key, ClientRequest};
use ferrobahn_core::io::{Message, WebSocket};
use ferrobahn_core::{CloseCode, CloseFrame, CloseState, Config, MessageKind, NoMask};

/// Bytes in flight and whether the writer hung up.
type Queue = Mutex<(VecDeque<u8>, bool)>;

/// One direction of a byte pipe; `read` blocks until data or the writer hangs up.
#[derive(Clone, Default)]
struct Half(Arc<(Queue, Condvar)>);

struct End {
    rx: Half,
    tx: Half,
}

fn pipe() -> (End, End) {
    let (a, b) = (Half::default(), Half::default());
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
        },
        End { rx: b, tx: a },
    )
}

impl embedded_io::ErrorType for End {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let (lock, cv) = &*self.rx.0;
        let mut q = lock.lock().unwrap();
        while q.0.is_empty() && !q.1 {
            q = cv.wait(q).unwrap();
        }
        // Hand out at most 7 bytes per read so headers and payloads split across reads.
        let n = buf.len().min(q.0.len()).min(7);
        for b in buf.iter_mut().take(n) {
            *b = q.0.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for End {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        let q = self.rx.0 .0.lock().unwrap();
        Ok(!q.0.is_empty() || q.1)
    }
}

impl embedded_io::Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let (lock, cv) = &*self.tx.0;
        lock.lock().unwrap().0.extend(buf);
        cv.notify_all();
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Drop for End {
    fn drop(&mut self) {
        let (lock, cv) = &*self.tx.0;
        lock.lock().unwrap().1 = true;
        cv.notify_all();
    }
}

fn counter_keys() -> impl FnMut() -> [u8; 4] {
    let mut x = 0x1234_5678u32;
    move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x.to_le_bytes()
    }
}

#[test]
fn client_and_server_over_a_pipe() {
    let (client_end, server_end) = pipe();
    let server = thread::spawn(move || {
        let mut rbuf = [0u8; 512];
        let mut wbuf = [0u8; 512];
        let mut msg = [0u8; 256];
        let (mut ws, proto) = WebSocket::accept(
            server_end,
            &["echo"],
            Some("pipe"),
            Config::DEFAULT,
            NoMask,
            &mut rbuf,
            &mut wbuf,
        )
        .unwrap();
        assert_eq!(proto, Some(0));
        let mut echoed = 0;
        loop {
            match ws.read_message(&mut msg).unwrap() {
                Message::Text(t) => {
                    let t: heapless_copy::Buf = heapless_copy::Buf::from(t.as_bytes());
                    ws.send(MessageKind::Text, t.as_slice()).unwrap();
                    echoed += 1;
                }
                Message::Binary(b) => {
                    let b = heapless_copy::Buf::from(b);
                    ws.send(MessageKind::Binary, b.as_slice()).unwrap();
                    echoed += 1;
                }
                Message::Ping(_) | Message::Pong(_) => {}
                Message::Close(f) => {
                    assert_eq!(
                        f,
                        Some(CloseFrame {
                            code: CloseCode(4000),
                            reason: "done"
                        })
                    );
                    assert_eq!(ws.close_state(), CloseState::Closed);
                    return echoed;
                }
            }
        }
    });

    let mut rbuf = [0u8; 512];
    let mut wbuf = [0u8; 512];
    let mut msg = [0u8; 256];
    let key = client_key([3; 16]);
    let req = ClientRequest {
        host: "pipe",
        path: "/",
        key: &key,
        protocols: &["echo"],
        extensions: "",
        origin: None,
        headers: &[],
    };
    let cfg = Config {
        auto_fragment_size: 5,
        ..Config::DEFAULT
    };
    let (mut ws, proto) =
        WebSocket::connect(client_end, &req, cfg, counter_keys(), &mut rbuf, &mut wbuf).unwrap();
    assert_eq!(proto, Some(0));

    ws.send(MessageKind::Text, "héllo wörld, fragmented".as_bytes())
        .unwrap();
    assert_eq!(
        ws.read_message(&mut msg).unwrap(),
        Message::Text("héllo wörld, fragmented")
    );
    ws.send(MessageKind::Binary, &[0, 1, 2, 255]).unwrap();
    assert_eq!(
        ws.read_message(&mut msg).unwrap(),
        Message::Binary(&[0, 1, 2, 255])
    );
    ws.ping(b"p1").unwrap();
    assert_eq!(ws.read_message(&mut msg).unwrap(), Message::Pong(b"p1"));
    ws.close(Some(CloseFrame {
        code: CloseCode(4000),
        reason: "done",
    }))
    .unwrap();
    match ws.read_message(&mut msg).unwrap() {
        Message::Close(Some(f)) => assert_eq!(f.code, CloseCode(4000)),
        other => panic!("expected close, got {other:?}"),
    }
    assert_eq!(ws.close_state(), CloseState::Closed);
    assert_eq!(server.join().unwrap(), 2);
}

#[test]
fn message_larger_than_buffer_closes_1009() {
    let (client_end, server_end) = pipe();
    let server = thread::spawn(move || {
        let mut rbuf = [0u8; 512];
        let mut wbuf = [0u8; 512];
        let mut msg = [0u8; 8];
        let (mut ws, _) = WebSocket::accept(
            server_end,
            &[],
            None,
            Config::DEFAULT,
            NoMask,
            &mut rbuf,
            &mut wbuf,
        )
        .unwrap();
        ws.read_message(&mut msg).err()
    });
    let mut rbuf = [0u8; 512];
    let mut wbuf = [0u8; 512];
    let mut msg = [0u8; 64];
    let key = client_key([4; 16]);
    let req = ClientRequest {
        host: "pipe",
        path: "/",
        key: &key,
        protocols: &[],
        extensions: "",
        origin: None,
        headers: &[],
    };
    let (mut ws, _) = WebSocket::connect(
        client_end,
        &req,
        Config::DEFAULT,
        counter_keys(),
        &mut rbuf,
        &mut wbuf,
    )
    .unwrap();
    ws.send(MessageKind::Binary, &[7; 20]).unwrap();
    assert_eq!(
        server.join().unwrap(),
        Some(ferrobahn_core::io::Error::MessageTooLarge)
    );
    match ws.read_message(&mut msg).unwrap() {
        Message::Close(Some(f)) => assert_eq!(f.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("expected close 1009, got {other:?}"),
    }
}

/// A fixed-capacity copy, so the server can echo a message out of the buffer it was read
/// into without a heap.
mod heapless_copy {
    pub struct Buf {
        data: [u8; 256],
        len: usize,
    }
    impl Buf {
        pub fn as_slice(&self) -> &[u8] {
            &self.data[..self.len]
        }
    }
    impl From<&[u8]> for Buf {
        fn from(s: &[u8]) -> Self {
            let mut data = [0u8; 256];
            data[..s.len()].copy_from_slice(s);
            Self { data, len: s.len() }
        }
    }
}

#[test]
fn ping_between_fragments_keeps_the_message() {
    use embedded_io::Write;
    use ferrobahn_core::connection::write_frame;
    use ferrobahn_core::OpCode;

    let (mut raw_client, server_end) = pipe();
    let server = thread::spawn(move || {
        let mut rbuf = [0u8; 512];
        let mut wbuf = [0u8; 512];
        let mut msg = [0u8; 64];
        let (mut ws, _) = WebSocket::accept(
            server_end,
            &[],
            None,
            Config::DEFAULT,
            NoMask,
            &mut rbuf,
            &mut wbuf,
        )
        .unwrap();
        let first = match ws.read_message(&mut msg).unwrap() {
            Message::Ping(p) => p.to_vec(),
            other => panic!("expected ping, got {other:?}"),
        };
        let text = match ws.read_message(&mut msg).unwrap() {
            Message::Text(t) => t.to_owned(),
            other => panic!("expected text, got {other:?}"),
        };
        (first, text)
    });
    // A hand-written client: handshake request, then "Hel" + ping + "lo" as masked frames.
    let key = client_key([5; 16]);
    let req = ClientRequest {
        host: "pipe",
        path: "/",
        key: &key,
        protocols: &[],
        extensions: "",
        origin: None,
        headers: &[],
    };
    let mut buf = [0u8; 512];
    let n = req.write(&mut buf).unwrap();
    raw_client.write_all(&buf[..n]).unwrap();
    let mut n = write_frame(&mut buf, OpCode::Text, false, 0, b"Hel", Some([1, 2, 3, 4])).unwrap();
    n += write_frame(
        &mut buf[n..],
        OpCode::Ping,
        true,
        0,
        b"!",
        Some([5, 6, 7, 8]),
    )
    .unwrap();
    n += write_frame(
        &mut buf[n..],
        OpCode::Continuation,
        true,
        0,
        b"lo",
        Some([9, 9, 9, 9]),
    )
    .unwrap();
    raw_client.write_all(&buf[..n]).unwrap();
    let (ping, text) = server.join().unwrap();
    assert_eq!(ping, b"!");
    assert_eq!(text, "Hello");
}

#[cfg(feature = "alloc")]
#[test]
fn vec_buffer_grows_to_the_message() {
    let (client_end, server_end) = pipe();
    let server = thread::spawn(move || {
        let mut rbuf = [0u8; 512];
        let mut wbuf = [0u8; 512];
        let mut msg = Vec::new();
        let (mut ws, _) = WebSocket::accept(
            server_end,
            &[],
            None,
            Config::DEFAULT,
            NoMask,
            &mut rbuf,
            &mut wbuf,
        )
        .unwrap();
        match ws.read_message(&mut msg).unwrap() {
            Message::Binary(b) => b.len(),
            other => panic!("expected binary, got {other:?}"),
        }
    });
    let mut rbuf = [0u8; 512];
    let mut wbuf = vec![0u8; 8192];
    let key = client_key([6; 16]);
    let req = ClientRequest {
        host: "pipe",
        path: "/",
        key: &key,
        protocols: &[],
        extensions: "",
        origin: None,
        headers: &[],
    };
    let cfg = Config {
        auto_fragment_size: 1000,
        ..Config::DEFAULT
    };
    let (mut ws, _) =
        WebSocket::connect(client_end, &req, cfg, counter_keys(), &mut rbuf, &mut wbuf).unwrap();
    ws.send(MessageKind::Binary, &[1u8; 5000]).unwrap();
    assert_eq!(server.join().unwrap(), 5000);
}

#[test]
fn ready_tells_whether_the_peer_sent_anything() {
    let (client_end, server_end) = pipe();
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (mut rbuf, mut wbuf) = ([0u8; 512], [0u8; 512]);
        let (mut ws, _) = WebSocket::accept(
            server_end,
            &[],
            None,
            Config::DEFAULT,
            NoMask,
            &mut rbuf,
            &mut wbuf,
        )
        .unwrap();
        wait.recv().unwrap();
        ws.send(MessageKind::Text, b"hi").unwrap();
        ws.ping(b"p").unwrap();
        // Stay open until the client is done.
        let _ = wait.recv();
    });
    let key = client_key([7; 16]);
    let request = ClientRequest {
        host: "pipe",
        path: "/",
        key: &key,
        protocols: &[],
        extensions: "",
        origin: None,
        headers: &[],
    };
    let (mut rbuf, mut wbuf, mut msg) = ([0u8; 512], [0u8; 512], [0u8; 64]);
    let (mut ws, _) = WebSocket::connect(
        client_end,
        &request,
        Config::DEFAULT,
        counter_keys(),
        &mut rbuf,
        &mut wbuf,
    )
    .unwrap();
    assert!(!ws.ready().unwrap(), "nothing sent yet");
    go.send(()).unwrap();
    for _ in 0..1000 {
        if ws.ready().unwrap() {
            break;
        }
        thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(ws.ready().unwrap());
    assert_eq!(ws.read_message(&mut msg).unwrap(), Message::Text("hi"));
    assert_eq!(ws.read_message(&mut msg).unwrap(), Message::Ping(b"p"));
    assert!(!ws.ready().unwrap(), "all read");
    go.send(()).unwrap();
    server.join().unwrap();
}
