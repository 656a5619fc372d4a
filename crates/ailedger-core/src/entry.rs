//! Ledger entries: the only thing ailedger ever writes. Everything else (artifacts,
//! aliases, edges, the graph index, the Merkle tree) is derived from entries.
//!
//! An entry's *body* is the RFC 8785 canonical JSON of the whole entry — seq, time,
//! actor and data — so the leaf hash `SHA-256(0x00 || body)` covers who wrote what
//! and when, not just the payload.
//!
//! [`EntryData::ops`] turns an entry into the derived-state operations every store
//! backend and the graph index apply the same way; that single function is why a
//! replay reproduces the same state.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    ArtifactKind, EdgeKind, Error,
    canonical::{self, write_list},
};

/// Version of the entry body format, written into every body.
pub const BODY_VERSION: u32 = 1;

/// One ledger entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    /// Microseconds since the Unix epoch, UTC. Non-decreasing in `seq` order.
    pub time_us: i64,
    pub actor: String,
    pub data: EntryData,
}

/// What an entry says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum EntryData {
    /// Artifacts become known (or gain aliases and attributes), with edges among them.
    Register {
        artifacts: Vec<ArtifactFact>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        edges: Vec<EdgeFact>,
    },
    /// Edges between known artifacts start.
    Link { edges: Vec<EdgeFact> },
    /// Active edges end.
    Unlink { edges: Vec<EdgeFact> },
    /// A deployment now consumes exactly `uses`: new edges start, edges it no longer
    /// lists end.
    Deploy {
        deployment: ArtifactFact,
        uses: Vec<String>,
    },
    /// A document (SBOM, lockfile, MCP config) was ingested: its raw bytes are stored
    /// under `document.digest`; what it says is `artifacts` (the document's own artifact
    /// first) and `edges`.
    Document {
        document: DocumentInfo,
        artifacts: Vec<ArtifactFact>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        edges: Vec<EdgeFact>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// An API token was granted (its secret's hash, never the secret).
    Token { token: crate::token::TokenGrant },
    /// The named token stops working.
    TokenRevoke { name: String },
    /// A trust policy comes into force (admin only): it judges every signed document
    /// ingested after it, and each verification result names this entry's seq.
    Policy { policy: PolicyRecord },
    /// An incident opens or moves on (see [`crate::incident`]).
    Incident {
        incident: crate::incident::IncidentEvent,
    },
    /// A blocklist or quarantine decision.
    Containment {
        containment: crate::incident::Containment,
    },
    /// OSV records imported (or re-imported when they changed).
    Advisory {
        advisories: Vec<crate::incident::Advisory>,
    },
}

/// A trust policy as submitted: its text (TOML or YAML) and the files it refers to
/// (Sigstore trusted roots), so the ledger alone says what judged each document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    /// `sha256:<hex>` of `text`.
    pub digest: crate::Sha256Digest,
    /// `toml` or `yaml`.
    pub format: String,
    pub text: String,
    /// Files the policy names, by the name it uses, with their contents.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub files: std::collections::BTreeMap<String, String>,
}

/// Which document an entry ingested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentInfo {
    /// `sha256:<hex>` of the raw bytes, which are stored content-addressed.
    pub digest: crate::Sha256Digest,
    /// The detected format, e.g. `CycloneDX 1.6`.
    pub format: String,
    pub size: u64,
    /// The name it was submitted under (a file name), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl EntryData {
    /// The entry kind recorded beside the body.
    pub fn kind(&self) -> &'static str {
        match self {
            EntryData::Register { .. } => "register",
            EntryData::Link { .. } => "link",
            EntryData::Unlink { .. } => "unlink",
            EntryData::Deploy { .. } => "deploy",
            EntryData::Document { .. } => "document",
            EntryData::Token { .. } => "token",
            EntryData::TokenRevoke { .. } => "token-revoke",
            EntryData::Policy { .. } => "policy",
            EntryData::Incident { .. } => "incident",
            EntryData::Containment { .. } => "containment",
            EntryData::Advisory { .. } => "advisory",
        }
    }

    /// The derived-state operations this entry performs, in order.
    pub fn ops(&self) -> Vec<Op<'_>> {
        match self {
            EntryData::Register { artifacts, edges } => artifacts
                .iter()
                .map(Op::Artifact)
                .chain(edges.iter().map(Op::StartEdge))
                .collect(),
            EntryData::Document {
                document,
                artifacts,
                edges,
                ..
            } => std::iter::once(Op::Document(document))
                .chain(artifacts.iter().map(Op::Artifact))
                .chain(edges.iter().map(Op::StartEdge))
                .collect(),
            EntryData::Link { edges } => edges.iter().map(Op::StartEdge).collect(),
            EntryData::Unlink { edges } => edges.iter().map(Op::EndEdge).collect(),
            EntryData::Deploy { deployment, uses } => vec![
                Op::Artifact(deployment),
                Op::SetEdges {
                    from: &deployment.id,
                    edge: EdgeKind::Deploys,
                    to: uses,
                },
            ],
            EntryData::Token { token } => vec![Op::Token(token)],
            EntryData::TokenRevoke { name } => vec![Op::RevokeToken(name)],
            // Read from the ledger itself (the latest `policy` entry); nothing derived.
            EntryData::Policy { .. } => vec![],
            // Folded by `incident::Book` from the entries themselves; nothing derived.
            EntryData::Incident { .. }
            | EntryData::Containment { .. }
            | EntryData::Advisory { .. } => vec![],
        }
    }

    /// Every artifact id this entry refers to without declaring it; they must exist.
    pub fn referenced_ids(&self) -> Vec<&str> {
        let declared: std::collections::HashSet<&str> = match self {
            EntryData::Register { artifacts, .. } | EntryData::Document { artifacts, .. } => {
                artifacts.iter().map(|a| a.id.as_str()).collect()
            }
            EntryData::Deploy { deployment, .. } => [deployment.id.as_str()].into(),
            _ => Default::default(),
        };
        let mut out: Vec<&str> = match self {
            EntryData::Register { edges, .. }
            | EntryData::Document { edges, .. }
            | EntryData::Link { edges }
            | EntryData::Unlink { edges } => edges
                .iter()
                .flat_map(|e| [e.from.as_str(), e.to.as_str()])
                .collect(),
            EntryData::Deploy { uses, .. } => uses.iter().map(String::as_str).collect(),
            EntryData::Token { .. }
            | EntryData::TokenRevoke { .. }
            | EntryData::Policy { .. }
            | EntryData::Incident { .. }
            | EntryData::Containment { .. }
            | EntryData::Advisory { .. } => vec![],
        };
        out.sort_unstable();
        out.dedup();
        out.retain(|id| !declared.contains(id));
        out
    }
}

/// What an entry asserts about one artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactFact {
    /// The canonical ref.
    pub id: String,
    pub kind: ArtifactKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Other refs that resolve to this artifact (canonical forms).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Free-form attributes; merged key by key into what is already known.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attrs: Map<String, Value>,
}

/// A typed edge from consumer to consumed, by artifact id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeFact {
    pub from: String,
    pub edge: EdgeKind,
    pub to: String,
    /// Where `to` sits within `from`, for `contains` edges: the file's paths in a
    /// model or dataset (one file's bytes may be at several). Sorted, no repeats; an
    /// attribute of the edge, not part of its identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

impl EdgeFact {
    /// An edge without attributes.
    pub fn new(from: impl Into<String>, edge: EdgeKind, to: impl Into<String>) -> Self {
        EdgeFact {
            from: from.into(),
            edge,
            to: to.into(),
            paths: Vec::new(),
        }
    }

    /// Sorts edges and makes each (from, edge, to) one edge, uniting their paths.
    pub fn sort_and_merge(edges: &mut Vec<EdgeFact>) {
        edges.sort_unstable();
        edges.dedup_by(|later, kept| {
            let same = later.from == kept.from && later.edge == kept.edge && later.to == kept.to;
            if same {
                kept.paths.append(&mut later.paths);
            }
            same
        });
        for e in edges.iter_mut().filter(|e| e.paths.len() > 1) {
            e.paths.sort_unstable();
            e.paths.dedup();
        }
    }
}

/// One derived-state operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op<'a> {
    /// Insert the artifact if new (kind, name, version are set once), add its id and
    /// aliases as aliases (an alias already taken by another artifact is left as is),
    /// merge its attributes, and record this entry as its last mention.
    Artifact(&'a ArtifactFact),
    /// Start the edge unless it is already active.
    StartEdge(&'a EdgeFact),
    /// End the edge if it is active.
    EndEdge(&'a EdgeFact),
    /// Make `from`'s active `edge` edges exactly `to`.
    SetEdges {
        from: &'a str,
        edge: EdgeKind,
        to: &'a [String],
    },
    /// Record that this entry ingested the document (first ingest of a digest wins).
    Document(&'a DocumentInfo),
    /// Grant a token; refused while a token of that name is active.
    Token(&'a crate::token::TokenGrant),
    /// Revoke the named token; refused when no such active token exists.
    RevokeToken(&'a str),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    v: u32,
    seq: u64,
    time: String,
    actor: std::borrow::Cow<'a, str>,
    data: std::borrow::Cow<'a, EntryData>,
}

/// The canonical body of an entry from its parts (see [`Entry::body`]), for callers
/// that hold the data borrowed.
///
/// Written field by field in RFC 8785 key order (UTF-16 order of the keys, all ASCII
/// here, so byte order) with [`canonical::write_str`] and [`canonical::write_value`]:
/// no JSON tree of the entry is built, only attribute values are (they already are
/// `Value`s). The bytes equal the whole entry canonicalised by the reference
/// implementation (tested on every shape). Every struct is destructured exhaustively,
/// so a field added to an entry type does not compile until it is written here; which
/// fields are omitted when empty follows their `skip_serializing_if`.
pub fn body_of(seq: u64, time_us: i64, actor: &str, data: &EntryData) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(body_size_hint(data));
    write_body(seq, time_us, actor, data, &mut out, &mut |_| Ok(()))?;
    Ok(out)
}

/// Whether `expected` is exactly the canonical body of these parts, checked as the body
/// is written, a piece at a time: a large entry's body is not made a second time.
fn body_equals(
    seq: u64,
    time_us: i64,
    actor: &str,
    data: &EntryData,
    expected: &[u8],
) -> Result<bool, Error> {
    /// Bytes written before they are compared and dropped.
    const PIECE: usize = 64 << 10;
    let mut done = 0usize;
    let mut same = true;
    let mut compare = |out: &mut Vec<u8>, at_least: usize| {
        if out.len() >= at_least {
            same &= expected.get(done..done + out.len()) == Some(&out[..]);
            done += out.len();
            out.clear();
        }
    };
    let mut out = Vec::with_capacity(2 * PIECE);
    write_body(seq, time_us, actor, data, &mut out, &mut |out| {
        compare(out, PIECE);
        Ok(())
    })?;
    compare(&mut out, 0);
    Ok(same && done == expected.len())
}

/// Writes the canonical body into `out`, calling `piece` after each artifact and edge
/// with what has been written so far (it may take it out of `out`).
fn write_body(
    seq: u64,
    time_us: i64,
    actor: &str,
    data: &EntryData,
    out: &mut Vec<u8>,
    piece: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    out.extend_from_slice(b"{\"actor\":");
    canonical::write_str(actor, out);
    out.extend_from_slice(b",\"data\":");
    write_data(data, out, piece)?;
    out.extend_from_slice(b",\"seq\":");
    canonical::write_value(&Value::from(seq), out)?;
    out.extend_from_slice(b",\"time\":");
    canonical::write_str(&format_time(time_us), out);
    out.extend_from_slice(b",\"v\":");
    canonical::write_value(&Value::from(BODY_VERSION), out)?;
    out.push(b'}');
    Ok(())
}

fn body_size_hint(data: &EntryData) -> usize {
    160 + match data {
        EntryData::Register { artifacts, edges }
        | EntryData::Document {
            artifacts, edges, ..
        } => 200 * artifacts.len() + 120 * edges.len(),
        EntryData::Link { edges } | EntryData::Unlink { edges } => 120 * edges.len(),
        EntryData::Deploy { uses, .. } => 200 + 60 * uses.len(),
        EntryData::Token { .. } | EntryData::TokenRevoke { .. } => 200,
        EntryData::Policy { policy } => {
            200 + policy.text.len() + policy.files.values().map(String::len).sum::<usize>()
        }
        EntryData::Incident { .. } | EntryData::Containment { .. } => 400,
        EntryData::Advisory { advisories } => 600 * advisories.len(),
    }
}

/// `"key":` preceded by a comma unless it is the object's first key.
fn key(k: &str, first: &mut bool, out: &mut Vec<u8>) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    canonical::write_str(k, out);
    out.push(b':');
}

fn write_strs(items: &[String], out: &mut Vec<u8>) -> Result<(), Error> {
    write_list(items, out, |s, out| {
        canonical::write_str(s, out);
        Ok(())
    })
}

fn write_data(
    data: &EntryData,
    out: &mut Vec<u8>,
    piece: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut first = true;
    let f = &mut first;
    out.push(b'{');
    match data {
        EntryData::Register { artifacts, edges } => {
            key("artifacts", f, out);
            write_list(artifacts, out, |a, out| {
                write_artifact(a, out)?;
                piece(out)
            })?;
            if !edges.is_empty() {
                key("edges", f, out);
                write_list(edges, out, |e, out| {
                    write_edge(e, out)?;
                    piece(out)
                })?;
            }
            key("type", f, out);
            canonical::write_str("register", out);
        }
        EntryData::Link { edges } | EntryData::Unlink { edges } => {
            key("edges", f, out);
            write_list(edges, out, |e, out| {
                write_edge(e, out)?;
                piece(out)
            })?;
            key("type", f, out);
            canonical::write_str(data.kind(), out);
        }
        EntryData::Deploy { deployment, uses } => {
            key("deployment", f, out);
            write_artifact(deployment, out)?;
            key("type", f, out);
            canonical::write_str("deploy", out);
            key("uses", f, out);
            write_strs(uses, out)?;
        }
        EntryData::Document {
            document,
            artifacts,
            edges,
            warnings,
        } => {
            key("artifacts", f, out);
            write_list(artifacts, out, |a, out| {
                write_artifact(a, out)?;
                piece(out)
            })?;
            key("document", f, out);
            write_document(document, out)?;
            if !edges.is_empty() {
                key("edges", f, out);
                write_list(edges, out, |e, out| {
                    write_edge(e, out)?;
                    piece(out)
                })?;
            }
            key("type", f, out);
            canonical::write_str("document", out);
            if !warnings.is_empty() {
                key("warnings", f, out);
                write_strs(warnings, out)?;
            }
        }
        EntryData::Token { token } => {
            key("token", f, out);
            write_token(token, out);
            key("type", f, out);
            canonical::write_str("token", out);
        }
        EntryData::TokenRevoke { name } => {
            key("name", f, out);
            canonical::write_str(name, out);
            key("type", f, out);
            canonical::write_str("token-revoke", out);
        }
        EntryData::Policy { policy } => {
            key("policy", f, out);
            write_policy(policy, out);
            key("type", f, out);
            canonical::write_str("policy", out);
        }
        // Small, rare entries: written through a JSON tree of their serde form, which
        // `from_body`'s re-encoding check holds to the same bytes.
        EntryData::Incident { incident } => {
            key("incident", f, out);
            canonical::write_value(&to_value(incident)?, out)?;
            key("type", f, out);
            canonical::write_str("incident", out);
        }
        EntryData::Containment { containment } => {
            key("containment", f, out);
            canonical::write_value(&to_value(containment)?, out)?;
            key("type", f, out);
            canonical::write_str("containment", out);
        }
        EntryData::Advisory { advisories } => {
            key("advisories", f, out);
            write_list(advisories, out, |a, out| {
                canonical::write_value(&to_value(a)?, out)?;
                piece(out)
            })?;
            key("type", f, out);
            canonical::write_str("advisory", out);
        }
    }
    out.push(b'}');
    Ok(())
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::Entry(e.to_string()))
}

fn write_artifact(a: &ArtifactFact, out: &mut Vec<u8>) -> Result<(), Error> {
    let ArtifactFact {
        id,
        kind,
        name,
        version,
        aliases,
        attrs,
    } = a;
    let mut first = true;
    let f = &mut first;
    out.push(b'{');
    if !aliases.is_empty() {
        key("aliases", f, out);
        write_strs(aliases, out)?;
    }
    if !attrs.is_empty() {
        key("attrs", f, out);
        canonical::write_object(attrs, out)?;
    }
    key("id", f, out);
    canonical::write_str(id, out);
    key("kind", f, out);
    canonical::write_str(kind.as_str(), out);
    if let Some(name) = name {
        key("name", f, out);
        canonical::write_str(name, out);
    }
    if let Some(version) = version {
        key("version", f, out);
        canonical::write_str(version, out);
    }
    out.push(b'}');
    Ok(())
}

fn write_edge(e: &EdgeFact, out: &mut Vec<u8>) -> Result<(), Error> {
    let EdgeFact {
        from,
        edge,
        to,
        paths,
    } = e;
    out.extend_from_slice(b"{\"edge\":");
    canonical::write_str(edge.as_str(), out);
    out.extend_from_slice(b",\"from\":");
    canonical::write_str(from, out);
    if !paths.is_empty() {
        out.extend_from_slice(b",\"paths\":");
        write_strs(paths, out)?;
    }
    out.extend_from_slice(b",\"to\":");
    canonical::write_str(to, out);
    out.push(b'}');
    Ok(())
}

fn write_token(t: &crate::token::TokenGrant, out: &mut Vec<u8>) {
    let crate::token::TokenGrant {
        name,
        scope,
        hash,
        expires,
    } = t;
    if let Some(expires) = expires {
        out.extend_from_slice(b"{\"expires\":");
        canonical::write_str(expires, out);
        out.extend_from_slice(b",\"hash\":");
    } else {
        out.extend_from_slice(b"{\"hash\":");
    }
    canonical::write_str(&hash.to_string(), out);
    out.extend_from_slice(b",\"name\":");
    canonical::write_str(name, out);
    out.extend_from_slice(b",\"scope\":");
    canonical::write_str(scope.as_str(), out);
    out.push(b'}');
}

fn write_policy(p: &PolicyRecord, out: &mut Vec<u8>) {
    let PolicyRecord {
        digest,
        format,
        text,
        files,
    } = p;
    out.extend_from_slice(b"{\"digest\":");
    canonical::write_str(&digest.to_string(), out);
    if !files.is_empty() {
        out.extend_from_slice(b",\"files\":{");
        for (i, (name, content)) in files.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            canonical::write_str(name, out);
            out.push(b':');
            canonical::write_str(content, out);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b",\"format\":");
    canonical::write_str(format, out);
    out.extend_from_slice(b",\"text\":");
    canonical::write_str(text, out);
    out.push(b'}');
}

fn write_document(d: &DocumentInfo, out: &mut Vec<u8>) -> Result<(), Error> {
    let DocumentInfo {
        digest,
        format,
        size,
        name,
    } = d;
    out.extend_from_slice(b"{\"digest\":");
    canonical::write_str(&digest.to_string(), out);
    out.extend_from_slice(b",\"format\":");
    canonical::write_str(format, out);
    if let Some(name) = name {
        out.extend_from_slice(b",\"name\":");
        canonical::write_str(name, out);
    }
    out.extend_from_slice(b",\"size\":");
    canonical::write_value(&Value::from(*size), out)?;
    out.push(b'}');
    Ok(())
}

/// An RFC 3339 UTC time (as [`format_time`] writes it) to the second, as tables and
/// reports show it: `2026-12-06T05:22:06Z`. Other text is given back as it is.
pub fn to_seconds(t: &str) -> String {
    match (t.find('.'), t.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &t[..dot]),
        _ => t.to_owned(),
    }
}

/// Formats microseconds since the epoch as RFC 3339 UTC with six fractional digits.
///
/// Every entry body holds one, so times from 1970 to 9999 are formatted by hand
/// (days to civil date as in Howard Hinnant's `civil_from_days`): the `time` crate's
/// formatter was a third of the cost of writing a small body. Other times go through
/// [`format_time_slow`]; a test compares the two.
pub fn format_time(time_us: i64) -> String {
    /// 10000-01-01T00:00:00Z in microseconds.
    const END_US: i64 = 253_402_300_800_000_000;
    if !(0..END_US).contains(&time_us) {
        return format_time_slow(time_us);
    }
    let (secs, micros) = (time_us / 1_000_000, time_us % 1_000_000);
    let (days, sod) = (secs / 86_400, secs % 86_400);
    // civil_from_days, for days >= 0 (era 4 onwards).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = String::with_capacity(27);
    let mut digits = |v: i64, width: u32, sep: char| {
        for i in (0..width).rev() {
            let d = (v / 10_i64.pow(i)) % 10;
            out.push(char::from(b'0' + d as u8));
        }
        out.push(sep);
    };
    digits(year, 4, '-');
    digits(month, 2, '-');
    digits(day, 2, 'T');
    digits(sod / 3600, 2, ':');
    digits(sod / 60 % 60, 2, ':');
    digits(sod % 60, 2, '.');
    digits(micros, 6, 'Z');
    out
}

/// [`format_time`] through the `time` crate, for any time.
fn format_time_slow(time_us: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_us) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Parses an RFC 3339 time into microseconds since the epoch.
pub fn parse_time(input: &str) -> Result<i64, Error> {
    let t = OffsetDateTime::parse(input, &Rfc3339).map_err(|_| Error::Time {
        input: input.to_owned(),
    })?;
    i64::try_from(t.unix_timestamp_nanos() / 1000).map_err(|_| Error::Time {
        input: input.to_owned(),
    })
}

impl Entry {
    /// The canonical body: what is stored, hashed and proven.
    pub fn body(&self) -> Result<Vec<u8>, Error> {
        body_of(self.seq, self.time_us, &self.actor, &self.data)
    }

    pub fn leaf_hash(&self) -> Result<[u8; 32], Error> {
        Ok(canonical::leaf_hash(&self.body()?))
    }

    /// Decodes a stored body. Refuses bodies that are not in canonical form, so a
    /// body that decodes always re-encodes to the same bytes.
    pub fn from_body(bytes: &[u8]) -> Result<Self, Error> {
        let body: Body<'_> =
            serde_json::from_slice(bytes).map_err(|e| Error::Entry(format!("body: {e}")))?;
        if body.v != BODY_VERSION {
            return Err(Error::Entry(format!("unsupported body version {}", body.v)));
        }
        let entry = Entry {
            seq: body.seq,
            time_us: parse_time(&body.time)?,
            actor: body.actor.into_owned(),
            data: body.data.into_owned(),
        };
        if !body_equals(entry.seq, entry.time_us, &entry.actor, &entry.data, bytes)? {
            return Err(Error::Entry(format!(
                "body of seq {} is not canonical",
                entry.seq
            )));
        }
        Ok(entry)
    }

    /// What [`Entry::from_body`] checks — the body is the canonical form of a valid
    /// entry — without holding the whole entry decoded, and the entry's seq, time, actor
    /// and kind. For a large body (a 300,000-component document's is over 200 MB, its
    /// decoded facts several times that) this is a check of a body with its artifact and
    /// edge lists cut to their first element, which `from_body` decodes, and then of each
    /// other element on its own: canonical JSON of a valid fact, separated by exactly one
    /// comma. Together that is what `from_body` checks of the whole.
    pub fn check_body(bytes: &[u8]) -> Result<EntryHead, Error> {
        /// Smaller bodies are simply decoded.
        const IN_PARTS_MIN: usize = 1 << 20;
        if bytes.len() < IN_PARTS_MIN {
            return Entry::from_body(bytes).map(|e| EntryHead::of(&e));
        }
        #[derive(Deserialize)]
        struct Outer<'a> {
            #[serde(borrow)]
            data: Lists<'a>,
        }
        #[derive(Deserialize)]
        struct Lists<'a> {
            #[serde(default, borrow)]
            artifacts: Vec<&'a serde_json::value::RawValue>,
            #[serde(default, borrow)]
            edges: Vec<&'a serde_json::value::RawValue>,
        }
        let outer: Outer<'_> =
            serde_json::from_slice(bytes).map_err(|e| Error::Entry(format!("body: {e}")))?;
        let not_canonical = || Error::Entry("body is not canonical".into());
        // Where each element lies in `bytes` (they are borrowed from it).
        let span = |raw: &serde_json::value::RawValue| {
            let start = (raw.get().as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
            (start, start + raw.get().len())
        };
        // The ranges cut out: from the end of each list's first element to the end of
        // its last, each element after the first preceded by exactly one comma.
        let mut cuts = Vec::new();
        for list in [&outer.data.artifacts, &outer.data.edges] {
            let (Some(first), Some(last)) = (list.first(), list.last()) else {
                continue;
            };
            let mut end = span(first).1;
            for raw in &list[1..] {
                let (start, next_end) = span(raw);
                if bytes.get(end) != Some(&b',') || start != end + 1 {
                    return Err(not_canonical());
                }
                end = next_end;
            }
            cuts.push((span(first).1, span(last).1));
        }
        cuts.sort_unstable();
        let mut reduced = Vec::new();
        let mut at = 0;
        for (from, to) in cuts {
            reduced.extend_from_slice(bytes.get(at..from).ok_or_else(not_canonical)?);
            at = to;
        }
        reduced.extend_from_slice(bytes.get(at..).ok_or_else(not_canonical)?);
        let head = EntryHead::of(&Entry::from_body(&reduced)?);
        // Every other element: a valid fact whose canonical form is its bytes.
        let mut buf = Vec::new();
        check_elements(&outer.data.artifacts, "artifact", write_artifact, &mut buf)?;
        check_elements(&outer.data.edges, "edge", write_edge, &mut buf)?;
        Ok(head)
    }
}

/// Each element of `raws` but the first is a valid `T` that `write` writes back as the
/// same bytes.
fn check_elements<T: serde::de::DeserializeOwned>(
    raws: &[&serde_json::value::RawValue],
    what: &str,
    write: fn(&T, &mut Vec<u8>) -> Result<(), Error>,
    buf: &mut Vec<u8>,
) -> Result<(), Error> {
    for raw in raws.iter().skip(1) {
        let x: T = serde_json::from_str(raw.get())
            .map_err(|e| Error::Entry(format!("body: {what}: {e}")))?;
        buf.clear();
        write(&x, buf)?;
        if buf.as_slice() != raw.get().as_bytes() {
            return Err(Error::Entry("body is not canonical".into()));
        }
    }
    Ok(())
}

/// An entry's seq, time, actor and kind, as [`Entry::check_body`] reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryHead {
    pub seq: u64,
    pub time_us: i64,
    pub actor: String,
    pub kind: &'static str,
}

impl EntryHead {
    pub fn of(e: &Entry) -> Self {
        EntryHead {
            seq: e.seq,
            time_us: e.time_us,
            actor: e.actor.clone(),
            kind: e.data.kind(),
        }
    }
}

/// Checks what every entry must satisfy before it is written.
pub fn validate(data: &EntryData) -> Result<(), Error> {
    match data {
        EntryData::Token { token } => {
            crate::token::check_name(&token.name)?;
            if let Some(t) = &token.expires {
                let us = parse_time(t)?;
                if format_time(us) != *t {
                    return Err(Error::Entry(format!(
                        "token expiry {t:?} is not in canonical form ({})",
                        format_time(us)
                    )));
                }
            }
            return Ok(());
        }
        EntryData::TokenRevoke { name } => return crate::token::check_name(name),
        EntryData::Incident { incident } => return incident.validate(),
        EntryData::Containment { containment } => return containment.validate(),
        EntryData::Advisory { advisories } => {
            return advisories
                .iter()
                .try_for_each(crate::incident::Advisory::validate);
        }
        EntryData::Policy { policy } => {
            if crate::Sha256Digest::of(policy.text.as_bytes()) != policy.digest {
                return Err(Error::Entry(format!(
                    "policy digest {} is not the digest of its text",
                    policy.digest
                )));
            }
            if !matches!(policy.format.as_str(), "toml" | "yaml") {
                return Err(Error::Entry(format!(
                    "policy format {:?} is neither toml nor yaml",
                    policy.format
                )));
            }
            return Ok(());
        }
        _ => {}
    }
    let facts: Vec<&ArtifactFact> = match data {
        EntryData::Register { artifacts, .. } | EntryData::Document { artifacts, .. } => {
            artifacts.iter().collect()
        }
        EntryData::Deploy { deployment, .. } => vec![deployment],
        _ => vec![],
    };
    let edges: &[EdgeFact] = match data {
        EntryData::Register { edges, .. }
        | EntryData::Document { edges, .. }
        | EntryData::Link { edges }
        | EntryData::Unlink { edges } => edges,
        EntryData::Deploy { .. }
        | EntryData::Token { .. }
        | EntryData::TokenRevoke { .. }
        | EntryData::Policy { .. } => &[],
        EntryData::Incident { .. } | EntryData::Containment { .. } | EntryData::Advisory { .. } => {
            &[]
        }
    };
    // Every id once (edge endpoints repeat), in a stable order so the first bad one is named.
    let mut ids: Vec<&str> = Vec::new();
    for a in &facts {
        ids.push(&a.id);
        ids.extend(a.aliases.iter().map(String::as_str));
    }
    ids.extend(edges.iter().flat_map(|e| [e.from.as_str(), e.to.as_str()]));
    if let EntryData::Deploy { uses, .. } = data {
        ids.extend(uses.iter().map(String::as_str));
    }
    // Each id parsed once; the kind it implies kept for the facts' own ids.
    let mut implied = std::collections::HashMap::with_capacity(ids.len());
    for id in ids {
        if implied.contains_key(id) {
            continue;
        }
        let r: crate::Ref = id.parse()?;
        if r.to_string() != id {
            return Err(Error::Entry(format!(
                "artifact id {id:?} is not canonical (expected {r})"
            )));
        }
        implied.insert(id, r.implied_kind());
    }
    for a in &facts {
        if let Some(&Some(k)) = implied.get(a.id.as_str())
            && k != a.kind
        {
            return Err(Error::Entry(format!(
                "{} is named as a {k} but declared a {}",
                a.id, a.kind
            )));
        }
    }
    if let Some(e) = edges.iter().find(|e| e.from == e.to) {
        return Err(Error::Entry(format!("edge from {} to itself", e.from)));
    }
    for e in edges.iter().filter(|e| !e.paths.is_empty()) {
        let at = || format!("edge {} {} {}", e.from, e.edge, e.to);
        if e.edge != EdgeKind::Contains || matches!(data, EntryData::Unlink { .. }) {
            return Err(Error::Entry(format!(
                "{}: only a contains edge being started has paths",
                at()
            )));
        }
        for p in &e.paths {
            crate::manifest::check_path(p)
                .map_err(|err| Error::Entry(format!("{}: {err}", at())))?;
        }
        if !e.paths.is_sorted_by(|a, b| a < b) {
            return Err(Error::Entry(format!(
                "{}: paths are not sorted and unique",
                at()
            )));
        }
    }
    match data {
        EntryData::Document {
            document,
            artifacts,
            ..
        } if artifacts.first().map(|a| a.id.as_str())
            != Some(document.digest.to_string().as_str()) =>
        {
            return Err(Error::Entry(format!(
                "the first artifact of a document entry must be the document {}",
                document.digest
            )));
        }
        EntryData::Deploy { deployment, .. } if deployment.kind != ArtifactKind::Deployment => {
            return Err(Error::Entry(format!(
                "{} is not a deployment",
                deployment.id
            )));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            seq: 7,
            time_us: 1_795_000_000_123_456,
            actor: "ci@build-7".into(),
            data: EntryData::Register {
                artifacts: vec![ArtifactFact {
                    id: "pkg:pypi/torch@2.4.1".into(),
                    kind: ArtifactKind::Package,
                    name: Some("torch".into()),
                    version: Some("2.4.1".into()),
                    aliases: vec![],
                    attrs: Map::new(),
                }],
                edges: vec![],
            },
        }
    }

    /// Bodies are written field by field; the bytes equal the whole entry
    /// canonicalised at once by the reference implementation, for every shape.
    #[test]
    fn written_bodies_equal_whole_canonicalisation() {
        let art = |i: usize| ArtifactFact {
            id: format!("pkg:npm/p{i}@1.0.{i}"),
            kind: ArtifactKind::Package,
            name: (!i.is_multiple_of(3)).then(|| format!("p{i}")),
            version: (i.is_multiple_of(2)).then(|| format!("1.0.{i}")),
            aliases: if i.is_multiple_of(4) {
                vec![format!("package:p{i}@1.0.{i}")]
            } else {
                vec![]
            },
            attrs: if i.is_multiple_of(5) {
                Map::new()
            } else {
                serde_json::from_str(&format!(
                    r#"{{"z":{i},"é":"\u0007x","\ud83d\ude00":[1.5,null,true],"a":{{"b":"c","B":"d"}}}}"#
                ))
                .unwrap()
            },
        };
        // Every third edge a `contains` with paths (escapes and non-ASCII included).
        let edge = |i: usize| EdgeFact {
            from: format!("pkg:npm/p{i}@1.0.{i}"),
            edge: if i.is_multiple_of(3) {
                EdgeKind::Contains
            } else {
                EdgeKind::DependsOn
            },
            to: format!("pkg:npm/p{}@1.0.{}", i + 1, i + 1),
            paths: if i.is_multiple_of(3) {
                vec![format!("a/é \"{i}\".bin"), "b/x".into()]
            } else {
                vec![]
            },
        };
        let arts: Vec<ArtifactFact> = (0..100).map(art).collect();
        let edges: Vec<EdgeFact> = (0..99).map(edge).collect();
        let doc = DocumentInfo {
            digest: crate::Sha256Digest::of(b"x"),
            format: "CycloneDX 1.6".into(),
            size: 1,
            name: Some("bom.json".into()),
        };
        let shapes = [
            EntryData::Register {
                artifacts: arts.clone(),
                edges: vec![],
            },
            EntryData::Register {
                artifacts: arts.clone(),
                edges: edges.clone(),
            },
            EntryData::Register {
                artifacts: vec![arts[1].clone()],
                edges: edges.clone(),
            },
            EntryData::Document {
                document: doc.clone(),
                artifacts: arts.clone(),
                edges: edges.clone(),
                warnings: vec!["/x: a \"quoted\" warning".into()],
            },
            EntryData::Document {
                document: DocumentInfo {
                    name: None,
                    ..doc.clone()
                },
                artifacts: arts.clone(),
                edges: vec![],
                warnings: vec![],
            },
            EntryData::Document {
                document: DocumentInfo {
                    size: (1 << 53) + 1,
                    ..doc
                },
                artifacts: vec![arts[0].clone()],
                edges: vec![edges[0].clone()],
                warnings: vec![],
            },
            EntryData::Register {
                artifacts: vec![arts[2].clone()],
                edges: vec![],
            },
            EntryData::Link {
                edges: edges[..3].to_vec(),
            },
            EntryData::Unlink {
                edges: vec![edges[5].clone()],
            },
            EntryData::Deploy {
                deployment: ArtifactFact {
                    id: "deployment:prod/chat".into(),
                    kind: ArtifactKind::Deployment,
                    name: Some("chat".into()),
                    version: None,
                    aliases: vec![],
                    attrs: serde_json::from_str(r#"{"env":"prod","n":-3}"#).unwrap(),
                },
                uses: vec!["model:a@1".into(), "pkg:npm/p1@1.0.1".into()],
            },
            EntryData::Deploy {
                deployment: arts[1].clone(),
                uses: vec![],
            },
            EntryData::Token {
                token: crate::token::TokenGrant {
                    name: "ci-bot@example".into(),
                    scope: crate::token::Scope::Write,
                    hash: crate::Sha256Digest::of(b"secret"),
                    expires: Some("2027-03-06T00:00:00Z".into()),
                },
            },
            EntryData::Token {
                token: crate::token::TokenGrant {
                    name: "admin".into(),
                    scope: crate::token::Scope::Admin,
                    hash: crate::Sha256Digest::of(b"other"),
                    expires: None,
                },
            },
            EntryData::TokenRevoke {
                name: "ci-bot@example".into(),
            },
            EntryData::Policy {
                policy: PolicyRecord {
                    digest: crate::Sha256Digest::of("version = 1\n\u{e9}\"".as_bytes()),
                    format: "toml".into(),
                    text: "version = 1\n\u{e9}\"".into(),
                    files: [("root.json".to_owned(), "{\"a\": [1]}\n".to_owned())]
                        .into_iter()
                        .collect(),
                },
            },
        ];
        for (data, seq) in shapes
            .into_iter()
            .zip([4_294_967_297, 1, (1 << 53) + 3].into_iter().cycle())
        {
            let e = Entry {
                seq,
                time_us: 1_795_000_000_123_456,
                actor: "ci \u{1F600}".into(),
                data,
            };
            let streamed = e.body().unwrap();
            let whole = serde_json_canonicalizer::to_vec(&Body {
                v: BODY_VERSION,
                seq: e.seq,
                time: format_time(e.time_us),
                actor: e.actor.as_str().into(),
                data: std::borrow::Cow::Borrowed(&e.data),
            })
            .unwrap();
            assert!(
                streamed == whole,
                "written body differs from the reference: {}",
                String::from_utf8_lossy(&streamed)
            );
            // Integers above 2^53 print as the reference's doubles do, which do not
            // read back as the same integers: only the bytes are compared for those.
            let big_size =
                matches!(&e.data, EntryData::Document { document, .. } if document.size > 1 << 53);
            if e.seq <= 1 << 53 && !big_size {
                assert_eq!(Entry::from_body(&streamed).unwrap(), e);
            }
        }
    }

    #[test]
    fn fast_time_format_matches_the_time_crate() {
        let mut t: i64 = 0x2545_f491_4f6c_dd1d;
        let mut cases = vec![
            0,
            1,
            999_999,
            86_399_999_999,
            86_400_000_000,
            951_782_400_000_000,     // 2000-02-29
            4_107_542_400_000_000,   // 2100-03-01
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999Z
            253_402_300_800_000_000, // 10000-01-01
            -1,
            1_795_000_000_123_456,
        ];
        for _ in 0..100_000 {
            // xorshift over the whole range 1970..10000 and a little beyond
            t ^= t << 13;
            t ^= t >> 7;
            t ^= t << 17;
            cases.push(t.rem_euclid(260_000_000_000_000_000) - 1_000_000_000_000);
        }
        for us in cases {
            assert_eq!(format_time(us), format_time_slow(us), "{us}");
        }
    }

    #[test]
    fn body_is_canonical_and_round_trips() {
        let e = entry();
        let body = e.body().unwrap();
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            r#"{"actor":"ci@build-7","data":{"artifacts":[{"id":"pkg:pypi/torch@2.4.1","kind":"package","name":"torch","version":"2.4.1"}],"type":"register"},"seq":7,"time":"2026-11-18T11:06:40.123456Z","v":1}"#
        );
        assert_eq!(Entry::from_body(&body).unwrap(), e);
    }

    #[test]
    fn non_canonical_body_is_refused() {
        let body = String::from_utf8(entry().body().unwrap())
            .unwrap()
            .replace(",\"v\":1", ", \"v\":1");
        assert!(
            Entry::from_body(body.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("not canonical")
        );
    }

    /// A registration of `n` packages, each depending on the one before; `aliased` ones
    /// have a digest alias and no version.
    fn large_entry(n: usize, aliased: bool) -> Entry {
        let artifacts = (0..n)
            .map(|i| ArtifactFact {
                id: format!("pkg:npm/p{i}@1.0.{i}"),
                kind: ArtifactKind::Package,
                name: Some(format!("p{i}")),
                version: (!aliased).then(|| format!("1.0.{i}")),
                aliases: if aliased {
                    vec![format!("sha256:{i:064x}")]
                } else {
                    vec![]
                },
                attrs: Map::from_iter([("n".to_string(), Value::from(i))]),
            })
            .collect();
        let edges = (1..n)
            .map(|i| {
                EdgeFact::new(
                    format!("pkg:npm/p{i}@1.0.{i}"),
                    EdgeKind::DependsOn,
                    format!("pkg:npm/p{}@1.0.{}", i - 1, i - 1),
                )
            })
            .collect();
        Entry {
            data: EntryData::Register { artifacts, edges },
            ..entry()
        }
    }

    /// A large body is compared a piece at a time: equal only when every byte is, with
    /// differences at the start, across piece boundaries and at the very end.
    #[test]
    fn large_bodies_are_compared_piece_by_piece() {
        let e = large_entry(3000, false);
        let body = e.body().unwrap();
        assert!(body.len() > 4 * (64 << 10), "spans several pieces");
        let equals = |b: &[u8]| body_equals(e.seq, e.time_us, &e.actor, &e.data, b).unwrap();
        assert!(equals(&body));
        assert_eq!(Entry::from_body(&body).unwrap(), e);
        for at in [
            0,
            1,
            (64 << 10) - 1,
            64 << 10,
            (64 << 10) + 1,
            body.len() / 2,
            body.len() - 1,
        ] {
            let mut changed = body.clone();
            changed[at] ^= 0x01;
            assert!(!equals(&changed), "a change at byte {at} goes unnoticed");
        }
        assert!(!equals(&body[..body.len() - 1]), "a truncated body");
        let mut longer = body.clone();
        longer.push(b' ');
        assert!(!equals(&longer), "a body with a byte more");
    }

    /// `check_body` checks a large body in parts; it must accept and refuse exactly what
    /// `from_body` does, and report the same seq, time, actor and kind.
    #[test]
    fn checking_a_large_body_in_parts_agrees_with_decoding_it() {
        let e = large_entry(12_000, true);
        let body = e.body().unwrap();
        assert!(body.len() > 1 << 20, "large enough to be checked in parts");
        let agree = |b: &[u8], what: &str| {
            let decoded = Entry::from_body(b).map(|e| EntryHead::of(&e));
            let checked = Entry::check_body(b);
            assert_eq!(decoded.is_ok(), checked.is_ok(), "{what}: {checked:?}");
            if let (Ok(d), Ok(c)) = (decoded, checked) {
                assert_eq!(d, c, "{what}");
            }
        };
        assert_eq!(Entry::check_body(&body).unwrap(), EntryHead::of(&e));
        let text = String::from_utf8(body.clone()).unwrap();
        let mutations = [
            (
                "a space after a separator",
                text.replacen("},{\"aliases", "}, {\"aliases", 1),
            ),
            (
                "a space between edges",
                text.replacen("},{\"edge", "}, {\"edge", 1),
            ),
            (
                "keys out of order in a later artifact",
                text.replacen(
                    "\"id\":\"pkg:npm/p5000@1.0.5000\",\"kind\":\"package\"",
                    "\"kind\":\"package\",\"id\":\"pkg:npm/p5000@1.0.5000\"",
                    1,
                ),
            ),
            (
                "an unknown key in a later edge",
                text.replacen(
                    "{\"edge\":\"depends-on\",\"from\":\"pkg:npm/p9000@1.0.9000\"",
                    "{\"edge\":\"depends-on\",\"extra\":1,\"from\":\"pkg:npm/p9000@1.0.9000\"",
                    1,
                ),
            ),
            (
                "a later artifact of no kind",
                text.replacen(
                    "\"kind\":\"package\",\"name\":\"p7\"",
                    "\"kind\":\"nothing\",\"name\":\"p7\"",
                    1,
                ),
            ),
            (
                "a non-canonical number in a later artifact",
                text.replacen("{\"n\":11000}", "{\"n\":11000.0}", 1),
            ),
            (
                "another actor",
                text.replacen("ci@build-7", "ci@build-8", 1),
            ),
            (
                "a key before the data",
                text.replacen("{\"actor\"", "{\"a\":1,\"actor\"", 1),
            ),
            (
                "an escaped character spelled out",
                text.replacen("p4242", "p\\u00342", 1),
            ),
            (
                "another name, still canonical",
                text.replacen("\"name\":\"p4242\"", "\"name\":\"q4242\"", 1),
            ),
        ];
        for (what, m) in &mutations {
            assert_ne!(m.as_bytes(), &body[..], "{what}: the mutation applies");
            agree(m.as_bytes(), what);
        }
        for at in (0..body.len()).step_by(body.len() / 23) {
            let mut changed = body.clone();
            changed[at] ^= 0x01;
            agree(&changed, &format!("byte {at} changed"));
        }
    }

    #[test]
    fn validate_catches_kind_mismatch_and_self_edges() {
        let mut e = entry();
        if let EntryData::Register { artifacts, .. } = &mut e.data {
            artifacts[0].kind = ArtifactKind::Model;
        }
        assert!(
            validate(&e.data)
                .unwrap_err()
                .to_string()
                .contains("declared a model")
        );
        let link = EntryData::Link {
            edges: vec![EdgeFact::new("model:a", EdgeKind::DependsOn, "model:a")],
        };
        assert!(
            validate(&link)
                .unwrap_err()
                .to_string()
                .contains("to itself")
        );
    }

    /// Paths are an attribute of `contains` edges only, each a manifest path, sorted
    /// and unique; `sort_and_merge` makes one edge of several spellings.
    #[test]
    fn edge_paths() {
        let contains = |paths: &[&str]| EdgeFact {
            paths: paths.iter().map(|p| p.to_string()).collect(),
            ..EdgeFact::new("model:m@1", EdgeKind::Contains, "file:f@1")
        };
        let link = |e: EdgeFact| EntryData::Link { edges: vec![e] };
        validate(&link(contains(&["a.bin", "w/a.bin"]))).unwrap();
        for (edge, want) in [
            (contains(&["w/a.bin", "a.bin"]), "not sorted"),
            (contains(&["a.bin", "a.bin"]), "not sorted"),
            (contains(&["../a.bin"]), "bad manifest path"),
            (
                EdgeFact {
                    edge: EdgeKind::DependsOn,
                    ..contains(&["a.bin"])
                },
                "only a contains edge",
            ),
        ] {
            let e = validate(&link(edge)).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let e = validate(&EntryData::Unlink {
            edges: vec![contains(&["a.bin"])],
        })
        .unwrap_err();
        assert!(e.to_string().contains("only a contains edge"), "{e}");
        let mut edges = vec![
            contains(&["w/a.bin"]),
            EdgeFact::new("model:m@1", EdgeKind::DependsOn, "file:f@1"),
            contains(&["a.bin"]),
            contains(&["w/a.bin"]),
        ];
        EdgeFact::sort_and_merge(&mut edges);
        assert_eq!(
            edges,
            [
                EdgeFact::new("model:m@1", EdgeKind::DependsOn, "file:f@1"),
                contains(&["a.bin", "w/a.bin"]),
            ]
        );
    }
}
