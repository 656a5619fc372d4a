//! The manifest of a model or dataset: the sorted list of its files' relative paths and
//! SHA-256 digests. Its digest is the artifact's identity, so the same bytes under the
//! same layout are one artifact however often they are registered.
//!
//! The manifest text is one line per file, sorted by path bytes, in `sha256sum` form:
//! `<64 hex>  <relative/path>\n`. An auditor can recompute it with
//! `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum`.

use serde::{Deserialize, Serialize};

use crate::{Error, Sha256Digest};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: Sha256Digest,
    pub size: u64,
}

/// A validated manifest: paths are relative, `/`-separated, unique and sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    files: Vec<ManifestFile>,
}

impl Manifest {
    pub fn new(mut files: Vec<ManifestFile>) -> Result<Self, Error> {
        for f in &files {
            check_path(&f.path)?;
        }
        files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        if let Some(w) = files.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(Error::ManifestPath {
                path: w[0].path.clone(),
                reason: "listed twice",
            });
        }
        if files.is_empty() {
            return Err(Error::ManifestPath {
                path: String::new(),
                reason: "no files",
            });
        }
        Ok(Self { files })
    }

    pub fn files(&self) -> &[ManifestFile] {
        &self.files
    }

    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.files.len() * 100);
        for f in &self.files {
            out.push_str(&f.sha256.hex());
            out.push_str("  ");
            out.push_str(&f.path);
            out.push('\n');
        }
        out
    }

    pub fn digest(&self) -> Sha256Digest {
        Sha256Digest::of(self.text().as_bytes())
    }

    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Checks a file path as a manifest (and a `contains` edge) may hold it: relative,
/// `/`-separated, no `.`/`..` segments, no control characters.
pub fn check_path(path: &str) -> Result<(), Error> {
    let err = |reason| Error::ManifestPath {
        path: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Err(err("empty path"));
    }
    if path.starts_with('/') || path.contains('\\') {
        return Err(err("paths are relative and use '/'"));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(err("empty, '.' or '..' path component"));
    }
    if path.chars().any(char::is_control) {
        return Err(err("control character in path"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &[u8]) -> ManifestFile {
        ManifestFile {
            path: path.into(),
            sha256: Sha256Digest::of(content),
            size: content.len() as u64,
        }
    }

    #[test]
    fn order_independent_and_sha256sum_shaped() {
        let a = Manifest::new(vec![file("b.bin", b"b"), file("a/x.json", b"x")]).unwrap();
        let b = Manifest::new(vec![file("a/x.json", b"x"), file("b.bin", b"b")]).unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_eq!(
            a.text(),
            format!(
                "{}  a/x.json\n{}  b.bin\n",
                Sha256Digest::of(b"x").hex(),
                Sha256Digest::of(b"b").hex()
            )
        );
    }

    #[test]
    fn rejects_bad_paths() {
        for p in ["", "/etc/passwd", "a/../b", "a//b", "a\nb", "a\\b"] {
            assert!(Manifest::new(vec![file(p, b"")]).is_err(), "{p:?}");
        }
        assert!(Manifest::new(vec![file("a", b""), file("a", b"1")]).is_err());
        assert!(Manifest::new(vec![]).is_err());
    }
}
