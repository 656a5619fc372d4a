//! Positioned reads over a file or a byte slice, so large model files are read by
//! seeking (a 10 GB safetensors file costs one header read) and the same parsers serve
//! `inspect_path` and `inspect_bytes`.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Random access to the bytes of one artifact.
pub(crate) trait Source {
    fn len(&self) -> u64;
    /// Fills `buf` from `off`; an error when the range is past the end.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()>;

    /// Reads `n` bytes at `off`, clipped to the end of the source.
    fn read_vec(&self, off: u64, n: usize) -> io::Result<Vec<u8>> {
        let avail = self.len().saturating_sub(off);
        let n = n.min(usize::try_from(avail).unwrap_or(usize::MAX));
        let mut v = vec![0u8; n];
        self.read_at(off, &mut v)?;
        Ok(v)
    }
}

/// Bytes in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mem<'a>(pub &'a [u8]);

impl Source for Mem<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        let start =
            usize::try_from(off).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.0.get(start..end))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A file read by seeking.
#[derive(Debug)]
pub(crate) struct FileSource {
    file: RefCell<File>,
    len: u64,
}

impl FileSource {
    pub fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self {
            file: RefCell::new(file),
            len,
        })
    }
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut f = self.file.borrow_mut();
        f.seek(SeekFrom::Start(off))?;
        f.read_exact(buf)
    }
}

/// `Read` over a range of a source.
pub(crate) struct RangeReader<'a> {
    src: &'a dyn Source,
    pos: u64,
    end: u64,
}

impl<'a> RangeReader<'a> {
    pub fn new(src: &'a dyn Source, off: u64, len: u64) -> Self {
        Self {
            src,
            pos: off,
            end: off.saturating_add(len).min(src.len()),
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        let Some(dst) = buf.get_mut(..n) else {
            return Ok(0);
        };
        self.src.read_at(self.pos, dst)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// `Read` and `Seek` over a whole source (for decoders that seek, such as 7z's). It
/// keeps the first read error, so that a caller whose decoder turns errors into its
/// own can still tell a failing file from a malformed archive.
pub(crate) struct SeekReader<'a> {
    src: &'a dyn Source,
    pos: u64,
    error: Option<io::Error>,
}

impl<'a> SeekReader<'a> {
    pub fn new(src: &'a dyn Source) -> Self {
        Self {
            src,
            pos: 0,
            error: None,
        }
    }

    /// The first error reading the source, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}

impl Read for SeekReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.src.len().saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let Some(dst) = buf.get_mut(..n) else {
            return Ok(0);
        };
        if n == 0 {
            return Ok(0);
        }
        if let Err(e) = self.src.read_at(self.pos, dst) {
            if self.error.is_none() {
                self.error = Some(io::Error::new(e.kind(), e.to_string()));
            }
            return Err(e);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SeekReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.src.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let pos = pos
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = pos;
        Ok(pos)
    }
}
