#![doc = include_str!("../README.md")]

mod budget;
pub mod codes;
mod findings;
mod gguf;
mod json_dup;
mod keras;
mod mcp;
pub mod model_config;
mod onnx;
mod packages;
mod pickle;
pub mod policy;
mod safetensors;
pub mod sarif;
mod source;
mod table;
mod zip;

pub use ailedger_core::{Finding, Location, Severity};
pub use packages::{
    check_package_name, inspect_requirements, looks_like_requirements, normalize_pypi,
};
pub use pickle::PickleLimits;
pub use table::render_table;

use budget::{Budget, End};
use findings::Sink;
use serde::Serialize;
use source::{FileSource, Source};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What kind of artifact a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DetectedFormat {
    Pickle,
    Joblib,
    PytorchZip,
    PytorchLegacy,
    PytorchTar,
    SevenZip,
    Zip,
    Numpy,
    Safetensors,
    Gguf,
    Onnx,
    Keras,
    Hdf5,
    McpConfig,
    Requirements,
}

impl DetectedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pickle => "pickle",
            Self::Joblib => "joblib",
            Self::PytorchZip => "pytorch-zip",
            Self::PytorchLegacy => "pytorch-legacy",
            Self::PytorchTar => "pytorch-tar",
            Self::SevenZip => "7z",
            Self::Zip => "zip",
            Self::Numpy => "numpy",
            Self::Safetensors => "safetensors",
            Self::Gguf => "gguf",
            Self::Onnx => "onnx",
            Self::Keras => "keras",
            Self::Hdf5 => "hdf5",
            Self::McpConfig => "mcp-config",
            Self::Requirements => "requirements",
        }
    }

    /// Formats that hold pickled weights (for the manifest-trust check).
    fn is_pickle_weights(self) -> bool {
        matches!(
            self,
            Self::Pickle
                | Self::Joblib
                | Self::PytorchZip
                | Self::PytorchLegacy
                | Self::PytorchTar
                | Self::SevenZip
        )
    }
}

/// Size, count, depth and work limits. Exceeding one is a finding (`AIL-PKL-006`), never a
/// panic and never silence.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest raw pickle / ONNX file read into memory.
    pub max_in_memory: u64,
    /// Largest decompressed archive member (zip, 7z, tar); the rest of a larger member is
    /// not scanned.
    pub max_member_bytes: u64,
    /// Decompressed bytes read from the zip and 7z archives of one inspected file, all
    /// members and archives inside archives together (7z members that are skipped still
    /// count: a solid block is decoded to reach its next member). When spent the scan of
    /// the file's archives stops.
    pub max_archive_bytes: u64,
    /// Wall-clock time the zip and 7z archives of one inspected file may take, counted
    /// from the start of the file's inspection and checked between members and between
    /// 64 KiB reads of decompressed data. When spent the scan of the file's archives stops.
    pub archive_timeout: Duration,
    /// Memory the 7z decoder may use for a dictionary or model (LZMA, LZMA2, PPMd) and
    /// for a header buffer. An archive that declares more is refused before anything is
    /// allocated.
    pub max_7z_memory: u64,
    /// Most members of one archive.
    pub max_members: usize,
    /// Most files visited under one directory.
    pub max_files: usize,
    /// Most bytes of an HDF5 file searched for a Keras config.
    pub max_h5_scan: u64,
    pub pickle: PickleLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_in_memory: 1 << 30,
            max_member_bytes: 1 << 30,
            max_archive_bytes: 4 << 30,
            archive_timeout: Duration::from_secs(60),
            max_7z_memory: 1 << 30,
            max_members: 100_000,
            max_files: 1_000_000,
            max_h5_scan: 4 << 30,
            pickle: PickleLimits::default(),
        }
    }
}

/// Inspection options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The lowest severity that makes the CLI exit 1.
    pub fail_on: Severity,
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fail_on: Severity::High,
            limits: Limits::default(),
        }
    }
}

/// The result of inspecting one file (or, for directory-level checks, one directory).
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub format: Option<DetectedFormat>,
    pub findings: Vec<Finding>,
    /// A read error: the file was not (fully) inspected. Never treat as clean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileReport {
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Exit code for the CLI: 2 when any file could not be read, else 1 when a finding
/// reaches `fail_on`, else 0.
pub fn exit_code(reports: &[FileReport], fail_on: Severity) -> i32 {
    if reports.iter().any(|r| r.error.is_some()) {
        2
    } else if reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| f.severity >= fail_on)
    {
        1
    } else {
        0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{name} is not valid JSON: {message}")]
    Json { name: String, message: String },
}

/// Inspects a file, or a directory recursively (sorted, symlinks not followed out of the
/// root), including directory-level checks. `Err` only when `path` itself is unreadable;
/// per-file read errors are in `FileReport::error`.
pub fn inspect_path(path: &Path, opts: &Options) -> Result<Vec<FileReport>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    if meta.is_file() {
        let dir = match path.parent() {
            Some(d) if d.as_os_str().is_empty() => Some(Path::new(".")),
            other => other,
        };
        return Ok(vec![inspect_file(path, dir, opts, true)]);
    }
    let root = path.canonicalize().map_err(|e| Error::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    walk_dir(path, &root, &mut files, &mut errors, opts.limits.max_files).map_err(|e| {
        Error::Read {
            path: path.display().to_string(),
            source: e,
        }
    })?;
    let mut reports: Vec<FileReport> = errors;
    for f in &files {
        reports.push(inspect_file(f, f.parent(), opts, false));
    }
    if files.len() >= opts.limits.max_files {
        let mut sink = Sink::new(&path.display().to_string());
        sink.add(
            "AIL-PKL-006",
            format!(
                "more than {} files; the rest were not inspected",
                opts.limits.max_files
            ),
            "",
            None,
        );
        reports.push(FileReport {
            path: path.display().to_string(),
            format: None,
            findings: sink.finish(),
            error: None,
        });
    }
    reports.extend(manifest_trust(&reports));
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(reports)
}

fn walk_dir(
    dir: &Path,
    root: &Path,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<FileReport>,
    max: usize,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if files.len() >= max {
            return Ok(());
        }
        let Ok(lm) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if lm.file_type().is_symlink() {
            // Follow only links that stay inside the root, and only to files.
            match p.canonicalize() {
                Ok(t) if t.starts_with(root) && t.is_file() => files.push(p),
                _ => {}
            }
            continue;
        }
        if lm.is_dir() {
            if let Err(e) = walk_dir(&p, root, files, errors, max) {
                errors.push(FileReport {
                    path: p.display().to_string(),
                    format: None,
                    findings: Vec::new(),
                    error: Some(format!("cannot read directory: {e}")),
                });
            }
        } else if lm.is_file() {
            files.push(p);
        }
    }
    Ok(())
}

/// A directory that holds safetensors next to pickle weights: whoever loads "the model"
/// may load the pickle.
fn manifest_trust(reports: &[FileReport]) -> Vec<FileReport> {
    let mut by_dir: std::collections::BTreeMap<String, (bool, Vec<String>)> =
        std::collections::BTreeMap::new();
    for r in reports {
        let Some(fmt) = r.format else { continue };
        let p = Path::new(&r.path);
        let dir = p
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let e = by_dir.entry(dir).or_default();
        if fmt == DetectedFormat::Safetensors {
            e.0 = true;
        } else if fmt.is_pickle_weights() {
            e.1.push(
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    let mut out = Vec::new();
    for (dir, (st, pk)) in by_dir {
        if st && !pk.is_empty() {
            let mut sink = Sink::new(&dir);
            sink.add(
                "AIL-PKL-015",
                format!("model directory has safetensors weights and pickle weights ({}); loaders may pick the pickle", pk.join(", ")),
                pk.join(", "),
                None,
            );
            out.push(FileReport {
                path: dir,
                format: None,
                findings: sink.finish(),
                error: None,
            });
        }
    }
    out
}

/// `explicit`: the file was named by the caller, not found by a directory walk; then a
/// requirements file is recognised by content as well as by name.
fn inspect_file(path: &Path, dir: Option<&Path>, opts: &Options, explicit: bool) -> FileReport {
    let name = path.display().to_string();
    let src = match std::fs::File::open(path).and_then(FileSource::new) {
        Ok(s) => s,
        Err(e) => {
            return FileReport {
                path: name,
                format: None,
                findings: Vec::new(),
                error: Some(e.to_string()),
            };
        }
    };
    inspect_source(&name, &src, dir, opts, explicit)
}

/// Inspects bytes already in memory; `name` is used for the extension and as the path.
/// The bytes count as a file named explicitly (a requirements file is recognised by
/// content).
pub fn inspect_bytes(name: &str, bytes: &[u8], opts: &Options) -> FileReport {
    inspect_source(name, &source::Mem(bytes), None, opts, true)
}

/// Checks an MCP client config. `Err` when it is not JSON.
pub fn inspect_mcp_config(name: &str, json: &[u8]) -> Result<Vec<Finding>, Error> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| Error::Json {
        name: name.to_string(),
        message: e.to_string(),
    })?;
    let mut sink = Sink::new(name);
    mcp::check(&v, &mut sink);
    Ok(sorted(sink.finish()))
}

fn sorted(mut f: Vec<Finding>) -> Vec<Finding> {
    f.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.offset.cmp(&b.location.offset))
    });
    f
}

fn ext_of(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `head` is UTF-8, but for a character cut at its end.
fn utf8_prefix(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// Largest file recognised as a requirements file by content.
const REQUIREMENTS_MAX: u64 = 8 << 20;

const LEGACY_TORCH_MAGIC: &[u8] = &[
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];

fn inspect_source(
    name: &str,
    src: &dyn Source,
    dir: Option<&Path>,
    opts: &Options,
    explicit: bool,
) -> FileReport {
    let mut sink = Sink::new(name);
    let mut scan = Scan {
        opts,
        budget: Budget::new(opts.limits.max_archive_bytes, opts.limits.archive_timeout),
    };
    let res = dispatch(name, src, dir, &mut scan, &mut sink, 0, explicit);
    let (format, error) = match res {
        Ok(f) => (f, None),
        Err(e) => (None, Some(e.to_string())),
    };
    FileReport {
        path: name.to_string(),
        format,
        findings: sorted(sink.finish()),
        error,
    }
}

/// The options and the archive budget of one inspected file.
struct Scan<'a> {
    opts: &'a Options,
    budget: Budget,
}

fn read_all(src: &dyn Source, opts: &Options, sink: &mut Sink) -> std::io::Result<Vec<u8>> {
    let len = src.len();
    if len > opts.limits.max_in_memory {
        sink.add(
            "AIL-PKL-006",
            format!(
                "file is larger than the {}-byte in-memory limit; only the start was scanned",
                opts.limits.max_in_memory
            ),
            format!("file_len={len}"),
            None,
        );
    }
    src.read_vec(
        0,
        usize::try_from(len.min(opts.limits.max_in_memory)).unwrap_or(usize::MAX),
    )
}

fn dispatch(
    name: &str,
    src: &dyn Source,
    dir: Option<&Path>,
    scan: &mut Scan<'_>,
    sink: &mut Sink,
    depth: u32,
    explicit: bool,
) -> std::io::Result<Option<DetectedFormat>> {
    let opts = scan.opts;
    let head = src.read_vec(0, 4096)?;
    let ext = ext_of(name);
    let base = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if head.starts_with(b"GGUF") || ext == "gguf" {
        gguf::check(src, sink)?;
        return Ok(Some(DetectedFormat::Gguf));
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return zip_archive(src, scan, sink, &ext, depth).map(Some);
    }
    if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        return seven_zip(src, scan, sink).map(|()| Some(DetectedFormat::SevenZip));
    }
    if head.starts_with(b"\x93NUMPY") {
        return numpy(src, opts, sink, 0).map(|()| Some(DetectedFormat::Numpy));
    }
    if [0usize, 512, 1024, 2048]
        .iter()
        .any(|&o| head.get(o..o + 8) == Some(b"\x89HDF\r\n\x1a\n"))
        || (matches!(ext.as_str(), "h5" | "hdf5") && src.len() >= 8)
    {
        keras::check_h5(src, sink, opts.limits.max_h5_scan)?;
        return Ok(Some(DetectedFormat::Hdf5));
    }
    if head.get(257..262) == Some(b"ustar") {
        return tar(src, opts, sink).map(Some);
    }
    if ext == "safetensors" || safetensors::sniff(&head, src.len()) {
        safetensors::check(src, sink)?;
        return Ok(Some(DetectedFormat::Safetensors));
    }
    if ext == "onnx" || onnx::sniff(&head) {
        let data = read_all(src, opts, sink)?;
        onnx::check(&data, dir, sink);
        return Ok(Some(DetectedFormat::Onnx));
    }
    if base.starts_with("requirements") && matches!(ext.as_str(), "txt" | "in") {
        let data = read_all(src, opts, sink)?;
        let text = String::from_utf8_lossy(&data);
        sink.findings.extend(inspect_requirements(name, &text));
        return Ok(Some(DetectedFormat::Requirements));
    }
    let first = head.iter().find(|c| !c.is_ascii_whitespace());
    if (ext == "json" || first == Some(&b'{')) && src.len() <= 64 << 20 {
        let data = read_all(src, opts, sink)?;
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data) {
            let is_mcp = [
                "mcpServers",
                "servers",
                "mcp.servers",
                "mcp",
                "context_servers",
                "projects",
            ]
            .iter()
            .any(|k| v.get(k).is_some_and(serde_json::Value::is_object));
            if is_mcp {
                mcp::check(&v, sink);
                return Ok(Some(DetectedFormat::McpConfig));
            }
            if v.get("class_name").is_some() && v.get("config").is_some() {
                keras::check_config(&data, sink);
                return Ok(Some(DetectedFormat::Keras));
            }
        }
        return Ok(None);
    }
    let pickle_ext = matches!(
        ext.as_str(),
        "pkl" | "pickle" | "pt" | "pth" | "ckpt" | "joblib" | "p" | "pk" | "npz"
    );
    // A file named explicitly is a requirements file by content too (`deps.txt` of pins);
    // a directory walk keeps the name rule above. Before the pickle sniff: a line such as
    // `cython==3.0` starts like a protocol-0 GLOBAL.
    if explicit && !pickle_ext && src.len() <= REQUIREMENTS_MAX && utf8_prefix(&head) {
        let data = read_all(src, opts, sink)?;
        if let Ok(text) = std::str::from_utf8(&data)
            && looks_like_requirements(text)
        {
            sink.findings.extend(inspect_requirements(name, text));
            return Ok(Some(DetectedFormat::Requirements));
        }
    }
    if pickle_ext || pickle::looks_like_pickle(&head) {
        let data = read_all(src, opts, sink)?;
        let fmt = scan_pickle(&data, 0, opts, sink, false);
        let fmt = if fmt == DetectedFormat::Pickle && ext == "joblib" {
            DetectedFormat::Joblib
        } else {
            fmt
        };
        return Ok(Some(fmt));
    }
    Ok(None)
}

/// Scans bytes holding one or more pickles (raw, stacked or legacy PyTorch).
fn scan_pickle(
    data: &[u8],
    base: u64,
    opts: &Options,
    sink: &mut Sink,
    persid_ok: bool,
) -> DetectedFormat {
    if data.starts_with(LEGACY_TORCH_MAGIC) {
        // magic, protocol version, sys info, the model, storage keys; then raw storages.
        pickle::Scanner::new(sink, base, opts.limits.pickle, true).scan_all(data, true, Some(5));
        return DetectedFormat::PytorchLegacy;
    }
    pickle::Scanner::new(sink, base, opts.limits.pickle, persid_ok).scan_all(data, false, None);
    DetectedFormat::Pickle
}

fn is_storage_member(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    let parent = name.rsplit('/').nth(1).unwrap_or("");
    (parent == "data" && !base.is_empty() && base.chars().all(|c| c.is_ascii_digit()))
        || matches!(
            base,
            "version" | "byteorder" | ".format_version" | ".storage_alignment" | "serialization_id"
        )
}

/// How deep archives inside archives are opened.
const MAX_NESTING: u32 = 2;

fn zip_archive(
    src: &dyn Source,
    scan: &mut Scan<'_>,
    sink: &mut Sink,
    ext: &str,
    depth: u32,
) -> std::io::Result<DetectedFormat> {
    let opts = scan.opts;
    let (entries, too_many) = match zip::list(src, opts.limits.max_members) {
        Ok(x) => x,
        Err(zip::ZipError::Io(e)) => return Err(e),
        Err(e) => {
            sink.add(
                "AIL-PKL-013",
                format!("unreadable zip archive: {e}"),
                e.to_string(),
                None,
            );
            return Ok(DetectedFormat::Zip);
        }
    };
    if too_many {
        sink.add(
            "AIL-PKL-006",
            format!(
                "archive has more than {} members; the rest were not scanned",
                opts.limits.max_members
            ),
            format!("max_members={}", opts.limits.max_members),
            None,
        );
    }
    let is_torch = entries
        .iter()
        .any(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"));
    let config = entries.iter().find(|e| e.name == "config.json");
    let is_keras =
        config.is_some() && (ext == "keras" || entries.iter().any(|e| e.name == "metadata.json"));
    for e in &entries {
        if e.name.ends_with('/') || is_storage_member(&e.name) {
            continue;
        }
        if scan.budget.spent() {
            break;
        }
        sink.member = Some(e.name.clone());
        let named_pickle = e.name.ends_with(".pkl") || e.name.ends_with(".pickle");
        let keras_cfg = is_keras && e.name == "config.json";
        let mut npy = false;
        let mut nested = false;
        let sniffed = if named_pickle || keras_cfg {
            true
        } else {
            match zip::head(src, e, 4096, &mut scan.budget) {
                Ok(h) => {
                    npy = h.starts_with(b"\x93NUMPY");
                    nested = h.starts_with(b"PK\x03\x04")
                        || h.starts_with(b"7z\xbc\xaf\x27\x1c")
                        || h.get(257..262) == Some(b"ustar");
                    npy || nested || pickle::looks_like_pickle(&h)
                }
                Err(_) => false,
            }
        };
        if nested && depth >= MAX_NESTING {
            sink.add(
                "AIL-PKL-006",
                format!("archive nested deeper than {MAX_NESTING} levels; not opened"),
                e.name.clone(),
                None,
            );
            continue;
        }
        if !sniffed {
            continue;
        }
        match zip::read(src, e, opts.limits.max_member_bytes, &mut scan.budget) {
            Ok((data, end, crc_ok)) => {
                if end == End::Cap {
                    sink.add(
                        "AIL-PKL-006",
                        format!(
                            "member larger than the {}-byte limit; only the start was scanned",
                            opts.limits.max_member_bytes
                        ),
                        format!("size={}", e.usize_),
                        None,
                    );
                }
                if !crc_ok {
                    sink.add(
                        "AIL-PKL-011",
                        "CRC-32 mismatch: Python's zipfile refuses this member but PyTorch loads it",
                        format!("stored crc {:08x}", e.crc),
                        Some(e.local_offset),
                    );
                }
                if keras_cfg {
                    keras::check_config(&data, sink);
                } else if npy {
                    numpy(&source::Mem(&data), opts, sink, 0)?;
                } else if nested {
                    // Scan the inner archive with its own collector, then name its
                    // findings as members of this one (outer!inner).
                    let mut inner = Sink::new(sink.file.as_deref().unwrap_or(""));
                    dispatch(
                        &e.name,
                        &source::Mem(&data),
                        None,
                        scan,
                        &mut inner,
                        depth + 1,
                        false,
                    )?;
                    // A budget the inner archive spent is reported there, as its member.
                    scan.budget.report(&mut inner);
                    for mut f in inner.finish() {
                        f.location.member = Some(match f.location.member.take() {
                            Some(m) => format!("{}!{m}", e.name),
                            None => e.name.clone(),
                        });
                        sink.findings.push(f);
                    }
                } else {
                    scan_pickle(&data, 0, opts, sink, is_torch);
                }
            }
            Err(err) => sink.add(
                "AIL-PKL-013",
                format!("member could not be read: {err}"),
                err.to_string(),
                Some(e.local_offset),
            ),
        }
    }
    sink.member = None;
    if scan.budget.spent() {
        scan.budget.report(sink);
    }
    if is_keras {
        Ok(DetectedFormat::Keras)
    } else if is_torch {
        Ok(DetectedFormat::PytorchZip)
    } else {
        Ok(DetectedFormat::Zip)
    }
}

fn seven_zip(src: &dyn Source, scan: &mut Scan<'_>, sink: &mut Sink) -> std::io::Result<()> {
    use sevenz_rust2::{ArchiveReader, EntryDecision, Password};
    sink.add(
        "AIL-PKL-012",
        "7z-compressed archive: model loaders cannot read it, scanners often skip it (nullifAI technique)",
        "7z",
        Some(0),
    );
    let opts = scan.opts;
    let budget = &mut scan.budget;
    let limit = opts.limits.max_member_bytes;
    let max_members = opts.limits.max_members;
    let memory_kib = usize::try_from(opts.limits.max_7z_memory / 1024).unwrap_or(usize::MAX);
    let mut count = 0usize;
    // The archive is read by seeking, never whole; members are decoded one at a time,
    // each scanned as it comes and dropped before the next.
    let mut file = source::SeekReader::new(src);
    // Defence in depth: a decoder panic on hostile input becomes a finding.
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let buffered = std::io::BufReader::with_capacity(64 << 10, &mut file);
        let mut reader =
            ArchiveReader::new_with_memory_limit(buffered, Password::empty(), memory_kib)?;
        // One thread: a multi-threaded LZMA2 decoder holds a dictionary per thread.
        reader.set_thread_count(1);
        let is_torch = reader
            .archive()
            .files
            .iter()
            .any(|f| f.name == "data.pkl" || f.name.ends_with("/data.pkl"));
        reader.for_each_entries_with_decision(|entry, r| {
            count += 1;
            if count > max_members || budget.spent() {
                return Ok(EntryDecision::Stop);
            }
            if !entry.is_directory && !is_storage_member(&entry.name) {
                // Bytes decoded before an error are scanned, then the error is reported.
                let (data, end) = budget.read(r, limit);
                sink.member = Some(entry.name.clone());
                if matches!(end, Ok(End::Cap)) {
                    sink.add(
                        "AIL-PKL-006",
                        format!("7z member larger than the {limit}-byte member limit; only the start was scanned"),
                        format!("size={}", entry.size),
                        None,
                    );
                }
                if entry.name.ends_with(".pkl") || pickle::looks_like_pickle(&data) {
                    scan_pickle(&data, 0, opts, sink, is_torch);
                }
                sink.member = None;
                if end? == End::Budget {
                    return Ok(EntryDecision::Stop);
                }
            }
            // The rest of the member is decoded to reach the next one (a solid block is
            // one stream), and charged.
            Ok(if budget.drain(r)? {
                EntryDecision::Continue
            } else {
                EntryDecision::Stop
            })
        })
    }));
    sink.member = None;
    if let Some(e) = file.take_error() {
        return Err(e);
    }
    match res {
        Ok(Ok(())) => {}
        Ok(Err(sevenz_rust2::Error::MaxMemLimited { actaul_kb, .. })) => sink.add(
            "AIL-PKL-006",
            format!(
                "7z decoder memory limit: the archive asks for {actaul_kb} KiB, more than the {}-byte limit; not decoded",
                opts.limits.max_7z_memory
            ),
            format!("budget=memory needed_kib={actaul_kb} limit={}", opts.limits.max_7z_memory),
            None,
        ),
        Ok(Err(e)) => sink.add(
            "AIL-PKL-013",
            format!("7z archive could not be fully decoded: {e}"),
            e.to_string(),
            None,
        ),
        Err(_) => sink.add(
            "AIL-PKL-013",
            "7z archive could not be fully decoded: the 7z decoder panicked",
            "the 7z decoder panicked",
            None,
        ),
    }
    if count > max_members {
        sink.add(
            "AIL-PKL-006",
            format!("7z archive has more than {max_members} members; the rest were not scanned"),
            format!("max_members={max_members}"),
            None,
        );
    }
    budget.report(sink);
    Ok(())
}

fn numpy(src: &dyn Source, opts: &Options, sink: &mut Sink, base: u64) -> std::io::Result<()> {
    let head = src.read_vec(0, 16)?;
    let major = head.get(6).copied().unwrap_or(0);
    let (hlen, start) = if major == 1 {
        (
            head.get(8..10).map_or(0, |b| {
                u64::from(u16::from_le_bytes([
                    b.first().copied().unwrap_or(0),
                    b.get(1).copied().unwrap_or(0),
                ]))
            }),
            10u64,
        )
    } else {
        (
            head.get(8..12)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, |b| u64::from(u32::from_le_bytes(b))),
            12u64,
        )
    };
    if hlen > 1 << 20 || start + hlen > src.len() {
        sink.add(
            "AIL-PKL-005",
            "numpy header length runs past the end of the file",
            format!("header_len={hlen}"),
            Some(8),
        );
        return Ok(());
    }
    let header = src.read_vec(start, usize::try_from(hlen).unwrap_or(0))?;
    let text = String::from_utf8_lossy(&header);
    if text.contains("'|O'") || text.contains("'O'") || text.contains("\"|O\"") {
        sink.add(
            "AIL-PKL-014",
            "numpy array with object dtype: np.load(allow_pickle=True) unpickles the body",
            "descr '|O'",
            Some(start),
        );
        let body_off = start + hlen;
        let len = src
            .len()
            .saturating_sub(body_off)
            .min(opts.limits.max_in_memory);
        let body = src.read_vec(body_off, usize::try_from(len).unwrap_or(0))?;
        pickle::Scanner::new(sink, base + body_off, opts.limits.pickle, false)
            .scan_all(&body, false, None);
    }
    Ok(())
}

fn tar(src: &dyn Source, opts: &Options, sink: &mut Sink) -> std::io::Result<DetectedFormat> {
    let mut off = 0u64;
    let mut count = 0usize;
    let mut torch = false;
    while off + 512 <= src.len() {
        let h = src.read_vec(off, 512)?;
        if h.iter().all(|&b| b == 0) {
            break;
        }
        count += 1;
        if count > opts.limits.max_members {
            sink.add(
                "AIL-PKL-006",
                "tar archive has too many members; the rest were not scanned",
                "",
                Some(off),
            );
            break;
        }
        let field = |a: usize, b: usize| {
            let f = h.get(a..b).unwrap_or(&[]);
            let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
            String::from_utf8_lossy(f.get(..end).unwrap_or(&[])).into_owned()
        };
        let mut name = field(0, 100);
        let prefix = field(345, 500);
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
        let size = u64::from_str_radix(field(124, 136).trim(), 8).unwrap_or(0);
        let kind = h.get(156).copied().unwrap_or(b'0');
        let data_off = off + 512;
        if data_off.checked_add(size).is_none_or(|e| e > src.len()) {
            sink.add(
                "AIL-PKL-013",
                format!("tar member {name} runs past the end of the file"),
                name.clone(),
                Some(off),
            );
            break;
        }
        if kind == b'0' || kind == 0 {
            let base = name.rsplit('/').next().unwrap_or(&name).to_string();
            if base == "pickle" {
                torch = true;
            }
            let head = src.read_vec(data_off, 4096.min(usize::try_from(size).unwrap_or(0)))?;
            if matches!(
                base.as_str(),
                "pickle" | "sys_info" | "storages" | "tensors"
            ) || base.ends_with(".pkl")
                || pickle::looks_like_pickle(&head)
            {
                sink.member = Some(name.clone());
                let n = size.min(opts.limits.max_member_bytes);
                if size > n {
                    sink.add(
                        "AIL-PKL-006",
                        "tar member larger than the member limit; only the start was scanned",
                        "",
                        Some(data_off),
                    );
                }
                let data = src.read_vec(data_off, usize::try_from(n).unwrap_or(0))?;
                // storages/tensors hold raw bytes after each pickle.
                let raw_tail = matches!(base.as_str(), "storages" | "tensors");
                pickle::Scanner::new(sink, data_off, opts.limits.pickle, true)
                    .scan_all(&data, raw_tail, None);
                sink.member = None;
            }
        }
        off = data_off + size.div_ceil(512) * 512;
    }
    Ok(if torch {
        DetectedFormat::PytorchTar
    } else {
        DetectedFormat::Zip
    })
}

/// Fuzz body: the pickle scanner on arbitrary bytes.
pub fn fuzz_pickle(data: &[u8]) {
    let mut sink = Sink::new("fuzz");
    let limits = PickleLimits {
        max_ops: 1 << 20,
        ..PickleLimits::default()
    };
    pickle::Scanner::new(&mut sink, 0, limits, false).scan_all(data, false, None);
    let _ = sink.finish();
}

/// Fuzz body: safetensors validation on arbitrary bytes.
pub fn fuzz_safetensors(data: &[u8]) {
    let mut sink = Sink::new("fuzz");
    let _ = safetensors::check(&source::Mem(data), &mut sink);
}

/// Fuzz body: GGUF walk on arbitrary bytes.
pub fn fuzz_gguf(data: &[u8]) {
    let mut sink = Sink::new("fuzz");
    let _ = gguf::check(&source::Mem(data), &mut sink);
}

/// Fuzz body: ZIP / PyTorch archive handling on arbitrary bytes.
pub fn fuzz_zip(data: &[u8]) {
    let opts = Options {
        limits: Limits {
            max_member_bytes: 1 << 20,
            max_in_memory: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let _ = inspect_bytes("fuzz.pt", data, &opts);
}

/// Fuzz body: ONNX external-data walk and MCP config checks on arbitrary bytes.
pub fn fuzz_onnx(data: &[u8]) {
    let mut sink = Sink::new("fuzz");
    onnx::check(data, None, &mut sink);
}

/// Fuzz body: MCP config, requirements and package-name checks on arbitrary bytes.
pub fn fuzz_mcp(data: &[u8]) {
    let _ = inspect_mcp_config("fuzz.json", data);
    let text = String::from_utf8_lossy(data);
    let _ = inspect_requirements("fuzz.txt", &text);
    let _ = looks_like_requirements(&text);
    let _ = check_package_name("pypi", text.get(..text.len().min(64)).unwrap_or(""));
}

/// Fuzz body: Keras model configs on arbitrary bytes, as `config.json` of a `.keras`
/// archive, as a legacy `.h5` file (the `model_config` search), and the whole `.keras`
/// path (zip detection, `config.json` and `metadata.json`).
pub fn fuzz_keras(data: &[u8]) {
    let mut sink = Sink::new("fuzz");
    keras::check_config(data, &mut sink);
    let _ = keras::check_h5(&source::Mem(data), &mut sink, 1 << 20);
    let _ = sink.finish();
    let _ = inspect_bytes("fuzz.keras", data, &fuzz_options());
}

/// Fuzz body: 7z archives. Input without the 7z signature gets it prepended, so every
/// input reaches the 7z reader and the pickle scan of its members.
pub fn fuzz_seven_zip(data: &[u8]) {
    const MAGIC: &[u8] = b"7z\xbc\xaf\x27\x1c";
    if data.starts_with(MAGIC) {
        let _ = inspect_bytes("fuzz.7z", data, &fuzz_options());
    } else {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(data);
        let _ = inspect_bytes("fuzz.7z", &v, &fuzz_options());
    }
}

/// Small limits for the fuzz bodies, so one input cannot take seconds.
fn fuzz_options() -> Options {
    Options {
        limits: Limits {
            max_member_bytes: 1 << 20,
            max_in_memory: 1 << 20,
            max_h5_scan: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    }
}

/// Fuzz body: format detection and dispatch on arbitrary bytes under several names.
pub fn fuzz_any(data: &[u8]) {
    let opts = Options {
        limits: Limits {
            max_member_bytes: 1 << 20,
            max_in_memory: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    for name in [
        "f.bin",
        "f.safetensors",
        "f.gguf",
        "f.onnx",
        "f.keras",
        "f.h5",
        "f.json",
        "requirements.txt",
    ] {
        let _ = inspect_bytes(name, data, &opts);
    }
}
