//! Where encoders write: a caller's fixed buffer ([`SliceOut`]) or, with `alloc`, a `Vec`.

use super::error::Error;

/// A byte sink that may run out of room.
pub trait Out {
    /// Appends `bytes`, or fails with [`ErrorKind::BufferFull`](super::ErrorKind::BufferFull)
    /// having written nothing.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error>;

    /// Appends one byte (punctuation: sinks that can, do it without a copy call).
    #[inline]
    fn put_byte(&mut self, b: u8) -> Result<(), Error> {
        self.put(&[b])
    }

    /// Bytes written so far.
    fn written(&self) -> usize;
}

/// Writes into a caller's buffer.
#[derive(Debug)]
pub struct SliceOut<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> SliceOut<'b> {
    /// An empty sink over `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// What was written.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// What was written, for the buffer's lifetime.
    pub fn into_slice(self) -> &'b mut [u8] {
        &mut self.buf[..self.len]
    }

    /// Forgets what was written.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Out for SliceOut<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.len + bytes.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::full())?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    #[inline]
    fn put_byte(&mut self, b: u8) -> Result<(), Error> {
        let dst = self.buf.get_mut(self.len).ok_or(Error::full())?;
        *dst = b;
        self.len += 1;
        Ok(())
    }

    fn written(&self) -> usize {
        self.len
    }
}

#[cfg(feature = "alloc")]
impl Out for alloc::vec::Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn put_byte(&mut self, b: u8) -> Result<(), Error> {
        self.push(b);
        Ok(())
    }

    fn written(&self) -> usize {
        self.len()
    }
}

/// Counts bytes without storing them (to size a buffer or a length prefix).
#[derive(Debug, Default)]
pub struct CountOut(pub usize);

impl Out for CountOut {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0 += bytes.len();
        Ok(())
    }

    fn written(&self) -> usize {
        self.0
    }
}
