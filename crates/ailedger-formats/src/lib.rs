//! Parsers for the documents ailedger ingests — CycloneDX (JSON and XML), SPDX 2.2/2.3
//! and 3.0 JSON, Python/npm/Cargo lockfiles and MCP client configs — turning each into
//! the artifacts and edges it asserts.
//!
//! The crate is pure: every parser takes bytes and returns values. Input is untrusted:
//! nothing here panics on any input, and size, nesting depth, element counts and string
//! lengths are bounded by [`Limits`]. A document is refused with an [`Error`] naming the
//! format, the location (JSON pointer or line/column) and the fault only when it cannot
//! be parsed, its format or root cannot be identified, or it exceeds a limit. A fault in
//! one part of it is repaired (the part dropped, or kept in a documented way) and
//! recorded as a [`Warning`] at its pointer, unless [`Options::strict`] asks for the
//! refusal; deviations real tools commonly emit are accepted with a [`Warning`] too.

mod cargo_lock;
mod cyclonedx;
mod cyclonedx_xml;
mod detect;
mod error;
mod graph;
mod hashes;
mod json;
mod lock_graph;
mod mcp;
mod npm;
mod osv;
mod python;
mod schema;
mod spdx2;
mod spdx3;

use std::fmt;

use ailedger_core::{ArtifactFact, EdgeFact, Sha256Digest};

pub use detect::detect;
pub use error::Error;
pub use schema::warm_up as warm_up_schemas;

/// Bounds applied to every document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of JSON/XML/TOML values (serde_json itself stops at 128).
    pub max_depth: usize,
    /// Most elements (components, packages, relationships, dependencies, lines…) of any
    /// one kind.
    pub max_elements: usize,
    /// Longest string value, in bytes.
    pub max_string_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 512 * 1024 * 1024,
            max_depth: 128,
            max_elements: 2_000_000,
            max_string_len: 16 * 1024 * 1024,
        }
    }
}

/// How to parse.
#[derive(Clone, PartialEq, Eq)]
pub struct Options {
    pub limits: Limits,
    /// Salt once used for hashing secret values found in MCP configs. Secrets are now
    /// removed outright (`ailedger_core::redact`, replaced by `<redacted>`) and no parser
    /// reads it; kept so callers that set it still compile.
    pub secret_salt: [u8; 32],
    /// Refuse a document for any local fault instead of repairing it. By default a
    /// fault in one part of a document (a hash that is not hex, a relationship naming
    /// no element, a package without a name…) is repaired as docs/formats.md
    /// ("Repairs") lists and reported as a [`Warning`] at its pointer; with `strict`
    /// each such fault is an [`Error`] at that pointer and nothing is returned.
    pub strict: bool,
}

impl Options {
    pub fn new(secret_salt: [u8; 32]) -> Self {
        Options {
            limits: Limits::default(),
            secret_salt,
            strict: false,
        }
    }
}

impl Default for Options {
    /// Default limits and an all-zero salt (fine for tests, not for production).
    fn default() -> Self {
        Options::new([0; 32])
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("limits", &self.limits)
            .field("secret_salt", &"<redacted>")
            .field("strict", &self.strict)
            .finish()
    }
}

/// How a CycloneDX document is serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Json,
    Xml,
}

/// Which MCP client's config layout a document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum McpFlavour {
    /// `{"mcpServers": {…}}`: Claude Desktop, Cursor, Windsurf, Cline and others.
    McpServers,
    /// VS Code `.vscode/mcp.json`: `{"servers": {…}, "inputs": […]}`.
    VsCode,
    /// VS Code `settings.json`: `{"mcp": {"servers": {…}}}`.
    VsCodeSettings,
    /// Claude Code `~/.claude.json`: `{"projects": {"<dir>": {"mcpServers": {…}}}}`
    /// (plus an optional top-level `mcpServers`).
    ClaudeCode,
    /// opencode: `{"mcp": {"<name>": {"type": "local"|"remote", …}}}`.
    Opencode,
}

/// A recognised document format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Format {
    /// CycloneDX; `version` is the spec version, e.g. `"1.6"`.
    CycloneDx {
        version: String,
        encoding: Encoding,
    },
    /// SPDX 2.x JSON; `version` is e.g. `"2.3"`.
    Spdx2 {
        version: String,
    },
    /// SPDX 3.0 JSON-LD.
    Spdx3,
    RequirementsTxt,
    PipFreeze,
    PoetryLock,
    UvLock,
    PipfileLock,
    PackageLockJson {
        version: u32,
    },
    CargoLock,
    McpConfig {
        flavour: McpFlavour,
    },
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::CycloneDx {
                version,
                encoding: Encoding::Json,
            } => write!(f, "CycloneDX {version}"),
            Format::CycloneDx {
                version,
                encoding: Encoding::Xml,
            } => write!(f, "CycloneDX {version} XML"),
            Format::Spdx2 { version } => write!(f, "SPDX {version}"),
            Format::Spdx3 => f.write_str("SPDX 3.0"),
            Format::RequirementsTxt => f.write_str("requirements.txt"),
            Format::PipFreeze => f.write_str("pip freeze"),
            Format::PoetryLock => f.write_str("poetry.lock"),
            Format::UvLock => f.write_str("uv.lock"),
            Format::PipfileLock => f.write_str("Pipfile.lock"),
            Format::PackageLockJson { version } => write!(f, "package-lock.json v{version}"),
            Format::CargoLock => f.write_str("Cargo.lock"),
            Format::McpConfig { flavour } => write!(f, "MCP config ({flavour:?})"),
        }
    }
}

/// Something accepted although it deviates from the format's specification, or
/// something the document says that ailedger does not record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// JSON pointer (`/packages/3/primaryPackagePurpose`) or `line:col` for text formats.
    pub pointer: String,
    pub message: String,
}

/// What one document asserts.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub format: Format,
    /// SHA-256 of the raw bytes.
    pub digest: Sha256Digest,
    /// The document itself: kind `sbom`, `environment` (lockfiles) or `mcp-config`,
    /// id `sha256:<digest>`.
    pub document: ArtifactFact,
    /// Every other artifact the document names, one per id (duplicates merged).
    pub artifacts: Vec<ArtifactFact>,
    /// Edges among `document` and `artifacts`, consumer → consumed, without duplicates.
    pub edges: Vec<EdgeFact>,
    pub warnings: Vec<Warning>,
    /// `-r`/`-c` includes of a requirements file, as written; the caller resolves them
    /// relative to the file and parses them too.
    pub includes: Vec<String>,
}

/// Detects the format from the content and parses the document.
pub fn parse(bytes: &[u8], opts: &Options) -> Result<Document, Error> {
    if bytes.len() > opts.limits.max_bytes {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: opts.limits.max_bytes,
        });
    }
    detect::parse_detected(bytes, opts)
}

/// A document ready to be recorded: what it asserts, parsed from the bytes that are
/// stored, which have their secrets removed (docs/formats.md, "Secrets").
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted {
    /// Parsed from `bytes` (or from the input when nothing was removed); its
    /// `digest` is the digest of the bytes to store.
    pub document: Document,
    /// The bytes to store when something was removed; `None` when the input is stored
    /// as it is.
    pub bytes: Option<Vec<u8>>,
    /// SHA-256 of the input as submitted.
    pub original_digest: Sha256Digest,
}

/// Redaction warnings listed per document; the rest are counted in one more.
const MAX_REDACTION_WARNINGS: usize = 50;

/// Parses a document for ingest: MCP client configs and lockfiles/requirements have
/// their secrets removed (`ailedger_core::redact`) and the redacted bytes are parsed
/// and returned for storing. The document artifact is then `sha256:<digest of the
/// redacted bytes>` with the input's digest as an alias and in `attrs.original_digest`,
/// and each place something was removed is a warning (naming the pointer, never the
/// value). Other formats are stored as they are. Redaction never refuses a document:
/// should the redacted bytes not parse, the input's parse is kept under the redacted
/// digest.
pub fn parse_redacted(bytes: &[u8], opts: &Options) -> Result<Redacted, Error> {
    let original_digest = Sha256Digest::of(bytes);
    let mut doc = parse(bytes, opts)?;
    let red = match doc.format {
        Format::McpConfig { .. } => ailedger_core::redact::mcp_config(bytes),
        Format::RequirementsTxt
        | Format::PipFreeze
        | Format::PoetryLock
        | Format::UvLock
        | Format::PipfileLock
        | Format::PackageLockJson { .. }
        | Format::CargoLock => ailedger_core::redact::lockfile(bytes),
        _ => None,
    };
    let Some(red) = red else {
        return Ok(Redacted {
            document: doc,
            bytes: None,
            original_digest,
        });
    };
    let digest = Sha256Digest::of(&red.bytes);
    match parse(&red.bytes, opts) {
        Ok(d) if d.format == doc.format => doc = d,
        _ => rename_document(&mut doc, digest),
    }
    let orig = original_digest.to_string();
    if !doc.document.aliases.contains(&orig) {
        doc.document.aliases.push(orig.clone());
    }
    doc.document
        .attrs
        .insert("original_digest".into(), serde_json::Value::from(orig));
    let n = red.redactions.len();
    let mut warnings: Vec<Warning> = red
        .redactions
        .into_iter()
        .take(MAX_REDACTION_WARNINGS)
        .map(|r| Warning {
            pointer: r.pointer,
            message: format!(
                "secret removed: the stored document has {} here",
                ailedger_core::redact::MARKER
            ),
        })
        .collect();
    if n > MAX_REDACTION_WARNINGS {
        warnings.push(Warning {
            pointer: "/".into(),
            message: format!("{} further secrets removed", n - MAX_REDACTION_WARNINGS),
        });
    }
    warnings.append(&mut doc.warnings);
    doc.warnings = warnings;
    Ok(Redacted {
        document: doc,
        bytes: Some(red.bytes),
        original_digest,
    })
}

/// Gives a parsed document another digest (its artifact id and edges follow).
fn rename_document(doc: &mut Document, digest: Sha256Digest) {
    let old = doc.document.id.clone();
    let new = digest.to_string();
    for e in &mut doc.edges {
        if e.from == old {
            e.from.clone_from(&new);
        }
        if e.to == old {
            e.to.clone_from(&new);
        }
    }
    // A lockfile environment's name ends with its digest prefix (docs/formats.md).
    if let Some(name) = &mut doc.document.name {
        let (o, n) = (doc.digest.hex(), digest.hex());
        if let (Some(o), Some(n)) = (o.get(..8), n.get(..8)) {
            *name = name.replace(&format!("{o})"), &format!("{n})"));
        }
    }
    doc.document.id = new;
    doc.digest = digest;
}

/// Body of the `formats_parse` fuzz target: parsing must never panic, and whatever
/// parses must be a valid register entry.
pub fn fuzz_parse(data: &[u8]) {
    let opts = Options {
        limits: Limits {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_elements: 10_000,
            max_string_len: 1 << 16,
        },
        secret_salt: [7; 32],
        strict: false,
    };
    // The streaming CycloneDX reader must give the tree reader's document or none.
    detect::check_stream_against_tree(data, &opts);
    if let Ok(doc) = parse(data, &opts) {
        let mut artifacts = vec![doc.document.clone()];
        artifacts.extend(doc.artifacts.iter().cloned());
        let entry = ailedger_core::EntryData::Register {
            artifacts,
            edges: doc.edges.clone(),
        };
        if let Err(e) = ailedger_core::entry::validate(&entry) {
            // A parsed document that fails validation is a bug worth a crash report.
            panic!("parsed document fails entry validation: {e}");
        }
    }
}

/// Body of the `osv` fuzz target: OSV records as `POST /v1/advisories` and
/// `ailedger osv import` take them (one record, or an array of records). Each record is
/// checked against the OSV schema and, when it passes, read as an advisory, matched,
/// and written as an `advisory` entry that must read back. Must never panic.
pub fn fuzz_osv(data: &[u8]) {
    use ailedger_core::incident::Advisory;
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let records = match v {
        serde_json::Value::Array(a) => a,
        one => vec![one],
    };
    for r in records.iter().take(64) {
        if validate_osv(r).is_err() {
            continue;
        }
        if let Ok((a, _)) = Advisory::from_osv(r) {
            ailedger_core::incident::fuzz_advisory(a);
        }
    }
}

pub use osv::validate_osv;
