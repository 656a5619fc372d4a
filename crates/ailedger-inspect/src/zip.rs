//! A small, bounds-checked ZIP reader. We read the central directory ourselves instead
//! of using a general ZIP library because model loaders are lenient where libraries are
//! strict: PyTorch ignores CRC-32 mismatches and odd flag bits, so a scanner that refuses
//! such an archive would miss exactly what the loader runs. Only stored and deflated
//! members are supported; each member is read with a decompressed-size limit, and every
//! byte read is charged to the inspected file's archive budget (`crate::budget`).

use crate::budget::{Budget, End};
use crate::source::Source;
use std::io::Read;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub method: u16,
    pub crc: u32,
    pub csize: u64,
    pub usize_: u64,
    pub local_offset: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ZipError {
    #[error("not a zip archive: {0}")]
    Format(String),
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
}

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map(u16::from_le_bytes)
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
}

fn u64le(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_le_bytes)
}

/// Lists the central directory, at most `max_entries` entries (Err when more).
pub(crate) fn list(src: &dyn Source, max_entries: usize) -> Result<(Vec<Entry>, bool), ZipError> {
    let len = src.len();
    let tail_len = len.min(65_557);
    let tail = src.read_vec(len - tail_len, tail_len as usize)?;
    let Some(eocd) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail.get(i..i + 4) == Some(b"PK\x05\x06"))
    else {
        return Err(ZipError::Format(
            "end of central directory not found".into(),
        ));
    };
    let bad = || ZipError::Format("truncated end of central directory".into());
    let mut count = u64::from(u16le(&tail, eocd + 10).ok_or_else(bad)?);
    let mut cd_size = u64::from(u32le(&tail, eocd + 12).ok_or_else(bad)?);
    let mut cd_off = u64::from(u32le(&tail, eocd + 16).ok_or_else(bad)?);
    // ZIP64: locator 20 bytes before the EOCD.
    if eocd >= 20
        && tail.get(eocd - 20..eocd - 16) == Some(b"PK\x06\x07")
        && let Some(z64_off) = u64le(&tail, eocd - 20 + 8)
        && z64_off.checked_add(56).is_some_and(|e| e <= len)
    {
        let rec = src.read_vec(z64_off, 56)?;
        if rec.get(..4) == Some(b"PK\x06\x06") {
            count = u64le(&rec, 32).ok_or_else(bad)?;
            cd_size = u64le(&rec, 40).ok_or_else(bad)?;
            cd_off = u64le(&rec, 48).ok_or_else(bad)?;
        }
    }
    if cd_off.checked_add(cd_size).is_none_or(|e| e > len) {
        return Err(ZipError::Format(
            "central directory past the end of the file".into(),
        ));
    }
    // Each entry is at least 46 bytes: bound the count by the directory size.
    if count > cd_size / 46 + 1 {
        count = cd_size / 46 + 1;
    }
    let too_many = count > max_entries as u64;
    let cd_size = usize::try_from(cd_size).map_err(|_| bad())?;
    if cd_size > 512 << 20 {
        return Err(ZipError::Format(
            "central directory larger than 512 MiB".into(),
        ));
    }
    let cd = src.read_vec(cd_off, cd_size)?;
    let mut out = Vec::new();
    let mut p = 0usize;
    while out.len() < max_entries && cd.get(p..p + 4) == Some(b"PK\x01\x02") {
        let h = |o: usize| u16le(&cd, p + o).map(usize::from).ok_or_else(bad);
        let method = u16le(&cd, p + 10).ok_or_else(bad)?;
        let crc = u32le(&cd, p + 16).ok_or_else(bad)?;
        let mut csize = u64::from(u32le(&cd, p + 20).ok_or_else(bad)?);
        let mut usz = u64::from(u32le(&cd, p + 24).ok_or_else(bad)?);
        let (nlen, xlen, clen) = (h(28)?, h(30)?, h(32)?);
        let mut local = u64::from(u32le(&cd, p + 42).ok_or_else(bad)?);
        let name = cd.get(p + 46..p + 46 + nlen).ok_or_else(bad)?;
        let name = String::from_utf8_lossy(name).into_owned();
        let extra = cd
            .get(p + 46 + nlen..p + 46 + nlen + xlen)
            .ok_or_else(bad)?;
        // ZIP64 extended information: fields present only for values saturated at 0xFFFFFFFF.
        let mut x = 0usize;
        while let (Some(id), Some(sz)) = (u16le(extra, x), u16le(extra, x + 2)) {
            let body = extra.get(x + 4..x + 4 + usize::from(sz)).unwrap_or(&[]);
            if id == 1 {
                let mut q = 0;
                for field in [&mut usz, &mut csize, &mut local] {
                    if *field == 0xFFFF_FFFF
                        && let Some(v) = u64le(body, q)
                    {
                        *field = v;
                        q += 8;
                    }
                }
            }
            x += 4 + usize::from(sz);
        }
        out.push(Entry {
            name,
            method,
            crc,
            csize,
            usize_: usz,
            local_offset: local,
        });
        p += 46 + nlen + xlen + clen;
    }
    Ok((out, too_many))
}

/// Offset of a member's data (after its local header).
pub(crate) fn data_offset(src: &dyn Source, e: &Entry) -> Result<u64, ZipError> {
    let h = src.read_vec(e.local_offset, 30)?;
    if h.get(..4) != Some(b"PK\x03\x04") {
        return Err(ZipError::Format(format!("bad local header for {}", e.name)));
    }
    let n = u64::from(u16le(&h, 26).unwrap_or(0));
    let x = u64::from(u16le(&h, 28).unwrap_or(0));
    let off = e.local_offset + 30 + n + x;
    if off.checked_add(e.csize).is_none_or(|end| end > src.len()) {
        return Err(ZipError::Format(format!(
            "member {} extends past the end of the archive",
            e.name
        )));
    }
    Ok(off)
}

/// A reader of a member's decompressed bytes.
fn open<'a>(src: &'a dyn Source, e: &Entry) -> Result<Box<dyn Read + 'a>, ZipError> {
    let off = data_offset(src, e)?;
    let raw = crate::source::RangeReader::new(src, off, e.csize);
    match e.method {
        0 => Ok(Box::new(raw)),
        8 => Ok(Box::new(flate2::read::DeflateDecoder::new(
            std::io::BufReader::with_capacity(16 << 10, raw),
        ))),
        m => Err(ZipError::Format(format!(
            "unsupported compression method {m} for {}",
            e.name
        ))),
    }
}

/// Reads (and inflates) a member, at most `limit` decompressed bytes, charged to the
/// budget. Returns the bytes, how the read ended, and whether the CRC-32 matched (only
/// checked when complete).
pub(crate) fn read(
    src: &dyn Source,
    e: &Entry,
    limit: u64,
    budget: &mut Budget,
) -> Result<(Vec<u8>, End, bool), ZipError> {
    let mut r = open(src, e)?;
    let (out, end) = budget.read(&mut r, limit);
    let end = end.map_err(|err| ZipError::Format(format!("inflate {}: {err}", e.name)))?;
    let crc_ok = if end == End::Complete {
        let mut c = flate2::Crc::new();
        c.update(&out);
        c.sum() == e.crc
    } else {
        true
    };
    Ok((out, end, crc_ok))
}

/// Reads up to `n` leading bytes of a member (for content sniffing), charged to the
/// budget.
pub(crate) fn head(
    src: &dyn Source,
    e: &Entry,
    n: usize,
    budget: &mut Budget,
) -> Result<Vec<u8>, ZipError> {
    let mut r = open(src, e)?;
    // A member that does not inflate is sniffed by what came out before the error.
    Ok(budget.read(&mut r, n as u64).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Mem;

    /// A ZIP64 archive: sizes and offset saturated in the central directory, real values
    /// in the ZIP64 extra field, ZIP64 end-of-central-directory record and locator.
    fn zip64(name: &str, data: &[u8]) -> Vec<u8> {
        let mut c = flate2::Crc::new();
        c.update(data);
        let crc = c.sum();
        let mut out = Vec::new();
        out.extend_from_slice(b"PK\x03\x04\x2d\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&[0xff; 8]);
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
        let cd_off = out.len() as u64;
        let mut cd = Vec::new();
        cd.extend_from_slice(b"PK\x01\x02\x2d\x00\x2d\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        cd.extend_from_slice(&crc.to_le_bytes());
        cd.extend_from_slice(&[0xff; 8]);
        cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
        cd.extend_from_slice(&28u16.to_le_bytes());
        cd.extend_from_slice(&[0; 10]);
        cd.extend_from_slice(&[0xff; 4]);
        cd.extend_from_slice(name.as_bytes());
        cd.extend_from_slice(&1u16.to_le_bytes());
        cd.extend_from_slice(&24u16.to_le_bytes());
        cd.extend_from_slice(&(data.len() as u64).to_le_bytes());
        cd.extend_from_slice(&(data.len() as u64).to_le_bytes());
        cd.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&cd);
        let z64 = out.len() as u64;
        out.extend_from_slice(b"PK\x06\x06");
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[0x2d, 0, 0x2d, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&(cd.len() as u64).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(b"PK\x06\x07\x00\x00\x00\x00");
        out.extend_from_slice(&z64.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\xff\xff\xff\xff");
        out.extend_from_slice(&[0xff; 8]);
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn reads_zip64() {
        let data = b"\x80\x02]q\x00.";
        let z = zip64("archive/data.pkl", data);
        let (entries, too_many) = list(&Mem(&z), 10).unwrap();
        assert!(!too_many);
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(
            (e.csize, e.usize_, e.local_offset),
            (data.len() as u64, data.len() as u64, 0)
        );
        let mut budget = Budget::new(u64::MAX, std::time::Duration::from_secs(3600));
        let (bytes, end, crc_ok) = read(&Mem(&z), e, 1 << 20, &mut budget).unwrap();
        assert_eq!(bytes, data);
        assert!(end == End::Complete && crc_ok);
    }

    #[test]
    fn hostile_directories_do_not_panic() {
        let z = zip64("a/data.pkl", b"\x80\x02N.");
        for i in 0..z.len() {
            for v in [0x00, 0xff, 0x7f] {
                let mut m = z.clone();
                m[i] = v;
                if let Ok((entries, _)) = list(&Mem(&m), 10) {
                    let mut budget = Budget::new(1 << 24, std::time::Duration::from_secs(3600));
                    for e in &entries {
                        let _ = read(&Mem(&m), e, 1 << 16, &mut budget);
                        let _ = head(&Mem(&m), e, 64, &mut budget);
                    }
                }
            }
        }
    }
}
