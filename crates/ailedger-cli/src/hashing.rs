//! Hashing what is registered: every file SHA-256'd streaming, files in parallel,
//! with a progress bar when stderr is a terminal. Produces a [`Manifest`].

use std::{
    fs::File,
    io::{IsTerminal, Read},
    path::{Path, PathBuf},
};

use ailedger_core::{
    Sha256Digest,
    manifest::{Manifest, ManifestFile},
};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::client::UserError;

/// Read size: small enough to stay in L2 cache between the copy and the hash.
const BUF: usize = 64 << 10;

/// Files at least this large are hashed through a memory map instead of `read(2)`.
const MAP_MIN: u64 = 1 << 20;

/// Bytes hashed between two progress reports when hashing a map.
const MAP_STEP: usize = 4 << 20;

/// Hashes one file, reporting bytes to `progress`.
pub fn hash_file(path: &Path, progress: &ProgressBar) -> anyhow::Result<(Sha256Digest, u64)> {
    let fail = |e: std::io::Error| UserError(format!("{}: {e}", path.display()));
    let f = File::open(path).map_err(fail)?;
    let before = f.metadata().map_err(fail)?;
    // ring's SHA-256 is the assembly OpenSSL and BoringSSL use (SHA-NI where the CPU has
    // it); measured faster than the portable crates on our benchmark (docs/benchmarks.md).
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    let total = if before.len() >= MAP_MIN && before.is_file() {
        let map = map_file(&f).map_err(fail)?;
        for chunk in map.chunks(MAP_STEP) {
            h.update(chunk);
            progress.inc(chunk.len() as u64);
        }
        let len = map.len() as u64;
        drop(map);
        // A file changed while it was hashed has no one digest: refuse it rather than
        // record bytes that were never on disk at once.
        let after = f.metadata().map_err(fail)?;
        if after.len() != before.len() || after.modified().ok() != before.modified().ok() {
            return Err(UserError(format!(
                "{}: the file changed while it was being hashed",
                path.display()
            ))
            .into());
        }
        len
    } else {
        read_into(f, &mut h, progress).map_err(fail)?
    };
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    Ok((Sha256Digest(out), total))
}

/// Hashes what `f` reads, in [`BUF`]-sized reads.
fn read_into(
    mut f: File,
    h: &mut ring::digest::Context,
    progress: &ProgressBar,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        total += n as u64;
        progress.inc(n as u64);
    }
    Ok(total)
}

/// Maps a regular file read-only for one sequential pass.
///
/// A map saves the copy `read(2)` makes from the page cache: on a two-core machine that
/// copy is a tenth of the time of hashing a model (docs/benchmarks.md). It is the one
/// `unsafe` of the workspace (see ARCHITECTURE.md, "Unsafe code").
#[allow(unsafe_code)]
fn map_file(f: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is private to `hash_file`, read-only, and only read as bytes (no
    // value of any other type is made from it). Another process may still change the
    // file while it is mapped: bytes changed in place give a digest of no version of
    // the file, which `hash_file` detects afterwards by size and modification time and
    // refuses; a file truncated under the map makes reading past its new end raise
    // SIGBUS, which ends the process without recording anything. That is the trade
    // b3sum and ripgrep make for the same saving.
    let map = unsafe { memmap2::MmapOptions::new().map(f)? };
    // Advice only: a failure changes speed, not results.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Lists the files under `root` (a file or a directory), as (relative path, path).
/// Directories named `.git` are skipped; symlinks to files are followed, symlinks to
/// directories are not (no loops).
fn list(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let meta =
        std::fs::metadata(root).map_err(|e| UserError(format!("{}: {e}", root.display())))?;
    if meta.is_file() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| UserError(format!("{}: the file name is not UTF-8", root.display())))?;
        return Ok(vec![(name.to_owned(), root.to_owned())]);
    }
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), root.to_owned())];
    while let Some((rel, dir)) = stack.pop() {
        let rd =
            std::fs::read_dir(&dir).map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
        for item in rd {
            let item = item.map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
            let path = item.path();
            let name = item.file_name().into_string().map_err(|_| {
                UserError(format!("{}: the file name is not UTF-8", path.display()))
            })?;
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = item
                .file_type()
                .with_context(|| path.display().to_string())?;
            if ft.is_dir() {
                if name != ".git" {
                    stack.push((child, path));
                }
            } else if ft.is_file() {
                out.push((child, path));
            } else if ft.is_symlink() {
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => out.push((child, path)),
                    Ok(_) => {}
                    Err(e) => return Err(UserError(format!("{}: {e}", path.display())).into()),
                }
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(UserError(format!("{}: no files to register", root.display())).into());
    }
    Ok(out)
}

/// Hashes every file under `root` in parallel and returns the manifest.
pub fn manifest_of(root: &Path) -> anyhow::Result<Manifest> {
    let files = list(root)?;
    let total: u64 = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let progress = progress_bar(total);
    let hashed: Vec<ManifestFile> = files
        .par_iter()
        .map(|(rel, path)| {
            let (sha256, size) = hash_file(path, &progress)?;
            Ok(ManifestFile {
                path: rel.clone(),
                sha256,
                size,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    progress.finish_and_clear();
    Manifest::new(hashed).map_err(|e| UserError(format!("{}: {e}", root.display())).into())
}

/// A progress bar over `total` bytes on a terminal, hidden otherwise.
fn progress_bar(total: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template(
                "hashing {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    } else {
        ProgressBar::hidden()
    }
}

/// Hashes `files` (name, path) for an OpenSSF model signature: each whole file when
/// `shard_size` is `None`, else every non-empty file cut into `shard_size`-byte shards
/// named `name:start:end`. Files (or shards) are hashed in parallel, large files through
/// one memory map each. Returns (resource name, SHA-256), in no particular order.
pub fn hash_resources(
    files: &[(String, PathBuf)],
    shard_size: Option<u64>,
) -> anyhow::Result<Vec<(String, Sha256Digest)>> {
    let sizes = files
        .iter()
        .map(|(_, p)| {
            std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| UserError(format!("{}: {e}", p.display())).into())
        })
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let progress = progress_bar(sizes.iter().sum());
    let out = match shard_size {
        None => files
            .par_iter()
            .map(|(name, path)| Ok((name.clone(), hash_file(path, &progress)?.0)))
            .collect::<anyhow::Result<Vec<_>>>()?,
        Some(shard) => {
            let shards: Vec<(usize, u64, u64)> = sizes
                .iter()
                .enumerate()
                .flat_map(|(i, &len)| {
                    ailedger_attest::model_signing::shard_ranges(len, shard)
                        .into_iter()
                        .map(move |(s, e)| (i, s, e))
                })
                .collect();
            let opened = files
                .par_iter()
                .zip(&sizes)
                .map(|((_, path), &len)| Opened::new(path, len))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let hashed = shards
                .par_iter()
                .map(|&(i, start, end)| {
                    let d = opened[i].hash_range(start, end, &progress)?;
                    Ok((format!("{}:{start}:{end}", files[i].0), d))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            for o in &opened {
                o.unchanged()?;
            }
            hashed
        }
    };
    progress.finish_and_clear();
    Ok(out)
}

/// A file opened for hashing byte ranges: mapped when large, read with `pread`
/// otherwise; remembers its size and time to detect a change while hashed.
struct Opened {
    path: PathBuf,
    file: File,
    map: Option<memmap2::Mmap>,
    before: std::fs::Metadata,
}

impl Opened {
    fn new(path: &Path, len: u64) -> anyhow::Result<Self> {
        let fail = |e: std::io::Error| UserError(format!("{}: {e}", path.display()));
        let file = File::open(path).map_err(fail)?;
        let before = file.metadata().map_err(fail)?;
        if before.len() != len {
            return Err(changed(path));
        }
        let map = if len >= MAP_MIN && before.is_file() {
            Some(map_file(&file).map_err(fail)?)
        } else {
            None
        };
        Ok(Self {
            path: path.to_owned(),
            file,
            map,
            before,
        })
    }

    fn hash_range(
        &self,
        start: u64,
        end: u64,
        progress: &ProgressBar,
    ) -> anyhow::Result<Sha256Digest> {
        let fail = |e: std::io::Error| UserError(format!("{}: {e}", self.path.display()));
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        if let Some(map) = &self.map {
            let (s, e) = (
                usize::try_from(start).map_err(|_| changed(&self.path))?,
                usize::try_from(end).map_err(|_| changed(&self.path))?,
            );
            let bytes = map.get(s..e).ok_or_else(|| changed(&self.path))?;
            for chunk in bytes.chunks(MAP_STEP) {
                h.update(chunk);
                progress.inc(chunk.len() as u64);
            }
        } else {
            use std::os::unix::fs::FileExt as _;
            let mut buf = vec![0u8; BUF];
            let mut at = start;
            while at < end {
                let want = usize::try_from((end - at).min(BUF as u64)).unwrap_or(BUF);
                let n = match self.file.read_at(&mut buf[..want], at) {
                    Ok(0) => return Err(changed(&self.path)),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(fail(e).into()),
                };
                h.update(&buf[..n]);
                progress.inc(n as u64);
                at += n as u64;
            }
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(h.finish().as_ref());
        Ok(Sha256Digest(out))
    }

    /// Refuses a file whose size or modification time changed since it was opened.
    fn unchanged(&self) -> anyhow::Result<()> {
        let after = self
            .file
            .metadata()
            .map_err(|e| UserError(format!("{}: {e}", self.path.display())))?;
        if after.len() != self.before.len() || after.modified().ok() != self.before.modified().ok()
        {
            return Err(changed(&self.path));
        }
        Ok(())
    }
}

fn changed(path: &Path) -> anyhow::Error {
    UserError(format!(
        "{}: the file changed while it was being hashed",
        path.display()
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::*;

    /// Shards on both sides of the memory-map threshold hash to what `sha2` says of the
    /// same byte ranges, named `name:start:end`; an empty file has no shard.
    #[test]
    fn shards_hash_alike() {
        let dir = tempfile::tempdir().unwrap();
        let min = usize::try_from(MAP_MIN).unwrap();
        let mut files = Vec::new();
        for size in [0, 5, 4096, min + 4097] {
            let bytes: Vec<u8> = (0..size)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let path = dir.path().join(format!("f{size}"));
            std::fs::write(&path, &bytes).unwrap();
            files.push((format!("d/f{size}"), path, bytes));
        }
        let list: Vec<(String, PathBuf)> = files
            .iter()
            .map(|(n, p, _)| (n.clone(), p.clone()))
            .collect();
        let mut got = hash_resources(&list, Some(4096)).unwrap();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let mut want = Vec::new();
        for (name, _, bytes) in &files {
            for (s, e) in ailedger_attest::model_signing::shard_ranges(bytes.len() as u64, 4096) {
                let d = sha2::Sha256::digest(&bytes[s as usize..e as usize]);
                want.push((format!("{name}:{s}:{e}"), d.to_vec()));
            }
        }
        want.sort_by(|a, b| a.0.cmp(&b.0));
        let got: Vec<(String, Vec<u8>)> = got.into_iter().map(|(n, d)| (n, d.0.to_vec())).collect();
        assert_eq!(got, want);
        assert!(!got.iter().any(|(n, _)| n.starts_with("d/f0:")));
        assert_eq!(
            got.iter()
                .filter(|(n, _)| n.starts_with(&format!("d/f{}:", min + 4097)))
                .count(),
            258
        );
        let whole = hash_resources(&list, None).unwrap();
        assert_eq!(whole.len(), 4);
    }

    /// Files on both sides of the memory-map threshold hash to what an independent
    /// SHA-256 (the `sha2` crate, over the bytes read whole) says, with their sizes.
    #[test]
    fn mapped_and_read_files_hash_alike() {
        let dir = tempfile::tempdir().unwrap();
        let min = usize::try_from(MAP_MIN).unwrap();
        for size in [0, 1, min - 1, min, min + 1, 3 * MAP_STEP + 17] {
            // Bytes that differ along the file, so a skipped or repeated piece shows.
            let bytes: Vec<u8> = (0..size)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let path = dir.path().join(format!("f{size}"));
            std::fs::write(&path, &bytes).unwrap();
            let (digest, len) = hash_file(&path, &ProgressBar::hidden()).unwrap();
            assert_eq!(len, size as u64, "size of a {size}-byte file");
            assert_eq!(
                digest.0[..],
                sha2::Sha256::digest(&bytes)[..],
                "digest of a {size}-byte file"
            );
        }
    }
}
