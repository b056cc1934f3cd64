//! TLS (`wss://`) with rustls: a [`TlsStream`] that is a [`Stream`] like a `TcpStream`, so
//! the reader thread and writer threads share one TLS session.
//!
//! ```text
//!   reader thread                                writer threads
//!   TcpStream::read (no lock held) ─▶ raw        plaintext ─▶ lock(session): encrypt
//!   lock(session): read_tls, process, take       lock(out): write the records in order
//!   plaintext; TLS records owed (alerts,         (and any the reader left behind)
//!   key updates) go out if `out` is free,
//!   else the writer sends them when done
//! ```
//!
//! The session lock is only held for in-memory work, never across a blocking socket call:
//! a writer blocked on a full socket must not keep the reader from reading, or two peers
//! that both write could wait on each other forever. Ciphertext goes out under a second
//! lock, so records leave in the order they were made.
//!
//! Roots: the client trusts the Mozilla roots of `webpki-roots` (compiled in, the same on
//! every machine, nothing read from the OS at run time) plus the CAs given to
//! [`TlsClientOptions::root_pem`]; or take a whole `rustls::ClientConfig` of your own. The
//! crypto provider is *ring*. ALPN offers `http/1.1` (RFC 8441 WebSocket over HTTP/2 is not
//! spoken).
//!
//! Embedded clients (why `ferrobahn-core` has no TLS over `embedded-io`): rustls can run
//! without std (its unbuffered API, with `alloc`), but it needs a crypto provider and a clock
//! on the device. Checked here for `thumbv7em-none-eabihf`: *ring* 0.17 (rustls's no-std
//! capable provider) does not build, because its `getrandom` 0.2 dependency refuses the
//! target unless the firmware registers its own entropy source (getrandom's `custom`
//! feature); aws-lc-rs needs std. So TLS stays in this std layer; firmware that needs `wss://`
//! brings a provider (or a TLS offload chip) and hands the core a decrypted byte stream.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::error::{Error, Result};
use crate::websocket::Stream;

pub use rustls;

/// The label of RFC 9266 channel binding (`tls-exporter`).
const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";

/// Ciphertext read per socket call.
const RAW_READ: usize = 16 * 1024 + 512;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the client trusts and shows (see [`client_config`]).
#[derive(Clone, Debug, Default)]
pub struct TlsClientOptions {
    /// Extra root CAs, PEM (one or several certificates).
    pub root_pem: Vec<Vec<u8>>,
    /// Leave out the built-in Mozilla roots (trust only `root_pem`).
    pub no_builtin_roots: bool,
    /// A client certificate chain and its private key, PEM.
    pub client_cert_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// ALPN protocols to offer (`None`: `http/1.1`; `Some(vec![])`: none; Crossbar.io's TLS
    /// fails the handshake with an internal-error alert when offered ALPN it does not know).
    pub alpn: Option<Vec<Vec<u8>>>,
}

/// Builds a client configuration: built-in roots plus extras, optional client certificate,
/// ALPN `http/1.1` unless told otherwise.
pub fn client_config(options: &TlsClientOptions) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    if !options.no_builtin_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for pem in &options.root_pem {
        for cert in certs_from_pem(pem)? {
            roots.add(cert).map_err(Error::Tls)?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(Error::Tls)?
        .with_root_certificates(roots);
    let mut config = match &options.client_cert_pem {
        Some((chain, key)) => builder
            .with_client_auth_cert(certs_from_pem(chain)?, key_from_pem(key)?)
            .map_err(Error::Tls)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = options
        .alpn
        .clone()
        .unwrap_or_else(|| vec![b"http/1.1".to_vec()]);
    Ok(Arc::new(config))
}

/// Builds a server configuration from a PEM certificate chain and private key (as
/// strings or file contents); ALPN `http/1.1`.
pub fn server_config(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(Error::Tls)?
        .with_no_client_auth()
        .with_single_cert(certs_from_pem(cert_chain_pem)?, key_from_pem(key_pem)?)
        .map_err(Error::Tls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// [`server_config`] from PEM files.
pub fn server_config_from_files(
    cert_chain: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> Result<Arc<rustls::ServerConfig>> {
    server_config(&std::fs::read(cert_chain)?, &std::fs::read(key)?)
}

fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::TlsConfig(format!("certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::TlsConfig("no certificate in the PEM".into()));
    }
    Ok(certs)
}

fn key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| Error::TlsConfig(format!("private key PEM: {e}")))
}

/// The session and the ordered way out, shared by the halves of one connection.
struct Shared {
    session: Mutex<rustls::Connection>,
    /// The socket handle ciphertext is written through, one writer at a time.
    out: Mutex<TcpStream>,
    /// Records wait to be written (set before trying `out`; whoever holds it looks again).
    owed: AtomicBool,
}

impl Shared {
    /// Writes the records the session has made. Blocking: waits for `out`. Otherwise:
    /// leaves them to whoever holds `out` (it checks `owed` when it lets go).
    fn send_owed(&self, mut block: bool) -> io::Result<()> {
        self.owed.store(true, Ordering::SeqCst);
        let mut records = Vec::new();
        while self.owed.load(Ordering::SeqCst) {
            let mut out = if block {
                lock(&self.out)
            } else {
                match self.out.try_lock() {
                    Ok(g) => g,
                    Err(TryLockError::Poisoned(p)) => p.into_inner(),
                    Err(TryLockError::WouldBlock) => return Ok(()),
                }
            };
            self.owed.store(false, Ordering::SeqCst);
            loop {
                records.clear();
                {
                    let mut s = lock(&self.session);
                    while s.wants_write() {
                        s.write_tls(&mut records)?;
                    }
                }
                if records.is_empty() {
                    break;
                }
                out.write_all(&records)?;
            }
            block = false;
        }
        Ok(())
    }
}

/// A TLS connection over TCP, usable from a reader thread and writer threads at once.
pub struct TlsStream {
    tcp: TcpStream,
    shared: Arc<Shared>,
    /// Ciphertext read from the socket; `raw[raw_pos..raw_end]` not yet given to rustls.
    raw: Vec<u8>,
    raw_pos: usize,
    raw_end: usize,
    /// A plaintext byte read by [`TlsStream::peek_byte`], given out by the next read.
    peeked: Option<u8>,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("peer", &self.tcp.peer_addr().ok())
            .finish_non_exhaustive()
    }
}

fn tls_error(e: io::Error) -> Error {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(t) => Error::Tls(t.clone()),
        None => Error::Io(e),
    }
}

impl TlsStream {
    /// Client handshake over a connected socket, within `timeout`. A certificate that does
    /// not verify for `host` is [`Error::Tls`].
    pub fn connect(
        config: Arc<rustls::ClientConfig>,
        host: &str,
        tcp: TcpStream,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| Error::TlsConfig(format!("server name {host:?}: {e}")))?;
        let session = rustls::ClientConnection::new(config, name).map_err(Error::Tls)?;
        Self::handshake(rustls::Connection::Client(session), tcp, timeout)
    }

    /// Server handshake over an accepted socket, within `timeout`.
    pub fn accept(
        config: Arc<rustls::ServerConfig>,
        tcp: TcpStream,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        let session = rustls::ServerConnection::new(config).map_err(Error::Tls)?;
        Self::handshake(rustls::Connection::Server(session), tcp, timeout)
    }

    fn handshake(
        mut session: rustls::Connection,
        mut tcp: TcpStream,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        tcp.set_read_timeout(timeout)?;
        tcp.set_write_timeout(timeout)?;
        while session.is_handshaking() {
            session.complete_io(&mut tcp).map_err(tls_error)?;
        }
        // Our Finished (client) may still be queued.
        while session.wants_write() {
            session.write_tls(&mut tcp).map_err(tls_error)?;
        }
        tcp.set_write_timeout(None)?;
        let out = tcp.try_clone()?;
        Ok(Self {
            tcp,
            shared: Arc::new(Shared {
                session: Mutex::new(session),
                out: Mutex::new(out),
                owed: AtomicBool::new(false),
            }),
            raw: Vec::new(),
            raw_pos: 0,
            raw_end: 0,
            peeked: None,
        })
    }

    /// The first plaintext byte not yet read, left for the next read (`None`: the peer
    /// closed). A server that serves several protocols over TLS on one port (the WAMP
    /// router: WebSocket, or RawSocket's 0x7F) looks at it to choose.
    pub fn peek_byte(&mut self) -> io::Result<Option<u8>> {
        if self.peeked.is_none() {
            let mut b = [0u8; 1];
            if self.read(&mut b)? == 0 {
                return Ok(None);
            }
            self.peeked = Some(b[0]);
        }
        Ok(self.peeked)
    }

    /// RFC 9266 `tls-exporter` channel binding: 32 bytes both ends derive from the session
    /// (WAMP-cryptosign signs it to bind authentication to this TLS connection).
    pub fn channel_binding(&self) -> Option<[u8; 32]> {
        lock(&self.shared.session)
            .export_keying_material([0u8; 32], EXPORTER_LABEL, None)
            .ok()
    }

    /// The ALPN protocol agreed.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        lock(&self.shared.session)
            .alpn_protocol()
            .map(<[u8]>::to_vec)
    }

    /// The TLS version agreed.
    pub fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        lock(&self.shared.session).protocol_version()
    }

    /// The SNI name the client asked for (server side).
    pub fn server_name(&self) -> Option<String> {
        match &*lock(&self.shared.session) {
            rustls::Connection::Server(s) => s.server_name().map(str::to_owned),
            rustls::Connection::Client(_) => None,
        }
    }

    /// The socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(b) = self.peeked.take() {
            buf[0] = b;
            return Ok(1);
        }
        loop {
            {
                let mut s = lock(&self.shared.session);
                match s.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            let mut eof = false;
            if self.raw_pos == self.raw_end {
                // No plaintext and no ciphertext left: read more without holding the session.
                if self.raw.is_empty() {
                    self.raw = vec![0; RAW_READ];
                }
                let n = self.tcp.read(&mut self.raw)?;
                (self.raw_pos, self.raw_end) = (0, n);
                eof = n == 0;
            }
            let processed = {
                let mut s = lock(&self.shared.session);
                let mut input = &self.raw[self.raw_pos..self.raw_end];
                // Feed records until some plaintext is ready: rustls holds at most 16 KiB
                // of it, so the rest of the ciphertext waits for the next call.
                let r = loop {
                    if let Err(e) = s.read_tls(&mut input) {
                        break Err(e);
                    }
                    match s.process_new_packets() {
                        Err(e) => break Err(io::Error::new(io::ErrorKind::InvalidData, e)),
                        Ok(st) if st.plaintext_bytes_to_read() > 0 || st.peer_has_closed() => {
                            break Ok(())
                        }
                        Ok(_) if input.is_empty() || eof => break Ok(()),
                        Ok(_) => {}
                    }
                };
                self.raw_pos = self.raw_end - input.len();
                r
            };
            // Alerts, key-update answers, session tickets: out when `out` is free.
            let sent = self.shared.send_owed(false);
            processed?;
            sent?;
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            let n = lock(&self.shared.session).writer().write(buf)?;
            self.shared.send_owed(true)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.shared.send_owed(true)
    }
}

impl Stream for TlsStream {
    fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            tcp: self.tcp.try_clone()?,
            shared: Arc::clone(&self.shared),
            raw: Vec::new(),
            raw_pos: 0,
            raw_end: 0,
            peeked: None,
        })
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_read_timeout(timeout)
    }

    /// `Write`: close_notify, then the TCP half-close. `Both` (an abort, possibly while a
    /// writer is blocked): close_notify only if the way out is free, then TCP shutdown.
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how != Shutdown::Read {
            lock(&self.shared.session).send_close_notify();
            let _ = self.shared.send_owed(how == Shutdown::Write);
        }
        self.tcp.shutdown(how)
    }

    fn channel_binding(&self) -> Option<[u8; 32]> {
        TlsStream::channel_binding(self)
    }

    fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.tcp.peer_addr().ok()
    }
}
