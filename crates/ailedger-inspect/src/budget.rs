//! What the archives of one inspected file may cost: decompressed bytes and wall-clock
//! time. One budget is shared by every archive of the file, archives inside archives
//! included, so a zip of overlapping entries (many directory entries naming the same
//! compressed data) or a 7z of many members costs at most the budget, not members × the
//! member limit. Spending it stops the scan with one `AIL-PKL-006` finding naming the
//! budget.

use crate::findings::Sink;
use std::io::{self, Read};
use std::time::{Duration, Instant};

/// Which budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spent {
    Bytes,
    Time,
}

/// How a capped read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The whole stream was read.
    Complete,
    /// The stream goes on past the cap it was read with.
    Cap,
    /// The budget ran out before the stream or the cap ended.
    Budget,
}

/// Read size: how much decoded data one step moves, and how often the clock is looked at.
const CHUNK: usize = 64 << 10;

#[derive(Debug)]
pub(crate) struct Budget {
    started: Instant,
    timeout: Duration,
    max_bytes: u64,
    used: u64,
    spent: Option<Spent>,
    reported: bool,
}

impl Budget {
    pub fn new(max_bytes: u64, timeout: Duration) -> Self {
        Self {
            started: Instant::now(),
            timeout,
            max_bytes,
            used: 0,
            spent: None,
            reported: false,
        }
    }

    /// Decompressed bytes read so far.
    #[cfg(test)]
    pub fn used(&self) -> u64 {
        self.used
    }

    fn left(&self) -> u64 {
        self.max_bytes.saturating_sub(self.used)
    }

    /// Whether the budget is spent (looks at the clock).
    pub fn spent(&mut self) -> bool {
        if self.spent.is_none() && self.started.elapsed() >= self.timeout {
            self.spent = Some(Spent::Time);
        }
        self.spent.is_some()
    }

    /// Records the spent budget as a finding, once per inspected file.
    pub fn report(&mut self, sink: &mut Sink) {
        let Some(which) = self.spent else { return };
        if self.reported {
            return;
        }
        self.reported = true;
        let member = sink.member.take();
        let (message, evidence) = match which {
            Spent::Bytes => (
                format!(
                    "archive byte budget spent: {} decompressed bytes read, the limit; the rest of the archive was not scanned",
                    self.used
                ),
                format!(
                    "budget=bytes decompressed={} limit={}",
                    self.used, self.max_bytes
                ),
            ),
            Spent::Time => (
                format!(
                    "archive time budget of {} ms spent after {} decompressed bytes; the rest of the archive was not scanned",
                    self.timeout.as_millis(),
                    self.used
                ),
                format!(
                    "budget=time decompressed={} timeout_ms={}",
                    self.used,
                    self.timeout.as_millis()
                ),
            ),
        };
        sink.add("AIL-PKL-006", message, evidence, None);
        sink.member = member;
    }

    /// Reads `r` to its end or `cap` bytes, whichever comes first, charging what it
    /// reads. The clock is looked at between chunks. A read error ends the read: the
    /// bytes before it are returned with it (a decoder may fail after the payload).
    pub fn read(&mut self, r: &mut dyn Read, cap: u64) -> (Vec<u8>, io::Result<End>) {
        let mut out = Vec::new();
        let end = self.read_into(r, cap, &mut out);
        (out, end)
    }

    fn read_into(&mut self, r: &mut dyn Read, cap: u64, out: &mut Vec<u8>) -> io::Result<End> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            if self.spent() {
                return Ok(End::Budget);
            }
            let room = cap.saturating_sub(out.len() as u64);
            let allowed = room.min(self.left()).min(CHUNK as u64);
            if allowed == 0 {
                // Whether the stream goes on: one byte tells.
                if read_some(r, &mut [0u8; 1])? == 0 {
                    return Ok(End::Complete);
                }
                if self.left() == 0 {
                    self.spent = Some(Spent::Bytes);
                    return Ok(End::Budget);
                }
                self.used += 1;
                return Ok(End::Cap);
            }
            let dst = buf
                .get_mut(..usize::try_from(allowed).unwrap_or(CHUNK))
                .unwrap_or_default();
            let n = read_some(r, dst)?;
            if n == 0 {
                return Ok(End::Complete);
            }
            self.used += n as u64;
            out.extend_from_slice(dst.get(..n).unwrap_or_default());
        }
    }

    /// Reads `r` to its end and drops the bytes (a solid 7z block must be decoded to
    /// reach its next member), charging them. `false` when the budget ran out first.
    pub fn drain(&mut self, r: &mut dyn Read) -> io::Result<bool> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            if self.spent() {
                return Ok(false);
            }
            let allowed = self.left().min(CHUNK as u64);
            let len = usize::try_from(allowed).unwrap_or(CHUNK).max(1);
            let n = read_some(r, buf.get_mut(..len).unwrap_or_default())?;
            if n == 0 {
                return Ok(true);
            }
            if allowed == 0 {
                self.spent = Some(Spent::Bytes);
                return Ok(false);
            }
            self.used += n as u64;
        }
    }
}

/// One `read`, retried when interrupted.
fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_stops_at_the_cap_then_at_the_budget() {
        let data = vec![7u8; 300_000];
        let mut b = Budget::new(250_000, Duration::from_secs(3600));
        let (v, end) = b.read(&mut data.as_slice(), 100_000);
        assert_eq!((v.len(), end.unwrap()), (100_000, End::Cap));
        let (v, end) = b.read(&mut data.as_slice(), 1_000_000);
        assert_eq!(end.unwrap(), End::Budget);
        assert_eq!(b.used(), 250_000);
        assert_eq!(v.len(), 250_000 - 100_001);
        assert!(b.spent());
    }

    #[test]
    fn a_stream_that_ends_at_the_cap_is_complete() {
        let data = vec![1u8; 1000];
        let mut b = Budget::new(1000, Duration::from_secs(3600));
        let (v, end) = b.read(&mut data.as_slice(), 1000);
        assert_eq!((v.len(), end.unwrap()), (1000, End::Complete));
        assert!(!b.spent());
    }

    /// A reader that fails after `ok` bytes.
    struct Failing {
        ok: usize,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("corrupt"));
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_keeps_the_bytes_before_it() {
        let mut b = Budget::new(1 << 20, Duration::from_secs(3600));
        let (v, end) = b.read(&mut Failing { ok: 100 }, 1000);
        assert_eq!(v.len(), 100);
        assert!(end.is_err());
    }

    #[test]
    fn drain_charges_and_stops_at_the_budget() {
        let data = vec![0u8; 200_000];
        let mut b = Budget::new(1 << 20, Duration::from_secs(3600));
        assert!(b.drain(&mut data.as_slice()).unwrap());
        assert_eq!(b.used(), 200_000);
        let mut b = Budget::new(150_000, Duration::from_secs(3600));
        assert!(!b.drain(&mut data.as_slice()).unwrap());
        assert_eq!(b.used(), 150_000);
    }

    #[test]
    fn a_zero_timeout_is_spent_at_once() {
        let mut b = Budget::new(u64::MAX, Duration::ZERO);
        let (v, end) = b.read(&mut [1u8; 10].as_slice(), 100);
        assert_eq!((v.len(), end.unwrap()), (0, End::Budget));
        let mut sink = Sink::new("f");
        b.report(&mut sink);
        b.report(&mut sink);
        let f = sink.finish();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "AIL-PKL-006");
        assert!(f[0].evidence.starts_with("budget=time decompressed=0"));
    }
}
