//! in-toto statements (v1 and v0.1), and legacy in-toto links converted to statements.
//!
//! A statement names its subjects by digest and carries a typed predicate:
//! `{"_type", "subject": [ResourceDescriptor], "predicateType", "predicate"}`.
//! Digests are checked per algorithm (hex of the algorithm's length for the known
//! ones, e.g. sha256 64, sha512 128, sha1/gitCommit 40) and kept as lowercase hex;
//! digests under algorithms this module does not know are kept verbatim. Errors name
//! the JSON pointer at fault (`/subject/0/digest/sha256: …`).
//!
//! **Legacy links.** A payload whose `_type` is `"link"` (what `in-toto-run` writes,
//! also inside DSSE with `--use-dsse`) is not a statement. It is converted to the
//! statement the in-toto link predicate v0.3
//! (`https://in-toto.io/attestation/link/v0.3`) describes for it: `_type` becomes
//! [`STATEMENT_V1`], the subjects are the link's `products` (name = path, digest), and
//! the predicate is `{name, command, materials, byproducts, environment}` with
//! `materials` as a list of resource descriptors (name = path, digest). `byproducts`
//! and `environment` are kept as they are (empty objects when absent).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of an in-toto Statement v0.1.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// Predicate type given to a converted legacy in-toto link.
pub const LINK_PREDICATE_V03: &str = "https://in-toto.io/attestation/link/v0.3";
/// Largest payload accepted (the size limit of a DSSE envelope).
pub const MAX_STATEMENT: usize = crate::dsse::MAX_ENVELOPE;

/// An in-toto ResourceDescriptor (subject, material, dependency, byproduct).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceDescriptor {
    pub name: Option<String>,
    pub uri: Option<String>,
    /// Algorithm → digest; lowercase hex for the algorithms whose format is known.
    pub digest: BTreeMap<String, String>,
    pub download_location: Option<String>,
    pub media_type: Option<String>,
}

/// A parsed statement. `predicate` is `null` when the statement has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub statement_type: String,
    pub subjects: Vec<ResourceDescriptor>,
    pub predicate_type: String,
    pub predicate: Value,
}

/// Why a statement (or a predicate inside it) is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("payload is {size} bytes; the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("not JSON: {0}")]
    Json(String),
    /// `pointer` is a JSON pointer into the statement (`""` for the whole document).
    #[error("{pointer}: {reason}")]
    At { pointer: String, reason: String },
}

pub(crate) fn at(pointer: impl Into<String>, reason: impl Into<String>) -> StatementError {
    let pointer = pointer.into();
    StatementError::At {
        pointer: if pointer.is_empty() {
            "/".into()
        } else {
            pointer
        },
        reason: reason.into(),
    }
}

/// Escapes a member name for a JSON pointer (RFC 6901).
pub(crate) fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Hex lengths (in characters) of the digest algorithms whose format is known.
fn hex_lengths(alg: &str) -> Option<&'static [usize]> {
    Some(match alg {
        "md5" => &[32],
        "sha1" | "ripemd160" => &[40],
        "sha224" | "sha512_224" | "sha3_224" => &[56],
        "sha256" | "sha512_256" | "sha3_256" | "sm3" => &[64],
        "sha384" | "sha3_384" => &[96],
        "sha512" | "sha3_512" => &[128],
        // Git object ids: SHA-1, or SHA-256 in repositories using that format.
        "gitCommit" | "gitTree" | "gitBlob" | "gitTag" => &[40, 64],
        // Variable-length output: any whole number of bytes.
        "shake128" | "shake256" | "blake2b" | "blake2s" => &[],
        _ => return None,
    })
}

/// Reads a `digest` object at `pointer`.
pub(crate) fn parse_digest(
    v: &Value,
    pointer: &str,
) -> Result<BTreeMap<String, String>, StatementError> {
    let obj = v
        .as_object()
        .ok_or_else(|| at(pointer, "digest is not an object"))?;
    let mut out = BTreeMap::new();
    for (alg, value) in obj {
        let p = format!("{pointer}/{}", escape_pointer(alg));
        let s = value.as_str().ok_or_else(|| at(&p, "not a string"))?;
        if s.is_empty() {
            return Err(at(&p, "empty digest"));
        }
        let kept = match hex_lengths(alg) {
            None => s.to_owned(),
            Some(lengths) => {
                if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(at(&p, format!("{alg} digest is not hex")));
                }
                let ok = if lengths.is_empty() {
                    s.len() % 2 == 0
                } else {
                    lengths.contains(&s.len())
                };
                if !ok {
                    let want = lengths
                        .iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(" or ");
                    let want = if want.is_empty() {
                        "an even number of".into()
                    } else {
                        want
                    };
                    return Err(at(
                        &p,
                        format!("{alg} digest has {} hex digits, expected {want}", s.len()),
                    ));
                }
                s.to_ascii_lowercase()
            }
        };
        out.insert(alg.clone(), kept);
    }
    Ok(out)
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    pointer: &str,
) -> Result<Option<String>, StatementError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(at(format!("{pointer}/{key}"), "not a string")),
    }
}

/// Reads a ResourceDescriptor at `pointer`. With `require_digest` (subjects), a
/// non-empty `digest` is required; otherwise at least one of `uri`, `digest`,
/// `content` or `name` must be present.
pub(crate) fn parse_descriptor(
    v: &Value,
    pointer: &str,
    require_digest: bool,
) -> Result<ResourceDescriptor, StatementError> {
    let obj = v.as_object().ok_or_else(|| at(pointer, "not an object"))?;
    let digest = match obj.get("digest") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(d) => parse_digest(d, &format!("{pointer}/digest"))?,
    };
    let rd = ResourceDescriptor {
        name: opt_string(obj, "name", pointer)?,
        uri: opt_string(obj, "uri", pointer)?,
        digest,
        download_location: opt_string(obj, "downloadLocation", pointer)?,
        media_type: opt_string(obj, "mediaType", pointer)?,
    };
    if require_digest && rd.digest.is_empty() {
        return Err(at(
            format!("{pointer}/digest"),
            "a subject needs at least one digest",
        ));
    }
    if !require_digest
        && rd.digest.is_empty()
        && rd.uri.is_none()
        && rd.name.is_none()
        && !obj.contains_key("content")
    {
        return Err(at(
            pointer,
            "resource descriptor without uri, digest or content",
        ));
    }
    Ok(rd)
}

impl ResourceDescriptor {
    /// The descriptor as in-toto v1 JSON (absent members omitted).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        if let Some(u) = &self.uri {
            m.insert("uri".into(), u.clone().into());
        }
        if !self.digest.is_empty() {
            let d: Map<String, Value> = self
                .digest
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            m.insert("digest".into(), Value::Object(d));
        }
        if let Some(d) = &self.download_location {
            m.insert("downloadLocation".into(), d.clone().into());
        }
        if let Some(t) = &self.media_type {
            m.insert("mediaType".into(), t.clone().into());
        }
        Value::Object(m)
    }
}

/// Parses a statement (v1 or v0.1) or a legacy link (converted, see the module
/// documentation) from a DSSE payload or a bare JSON document.
pub fn parse(payload: &[u8]) -> Result<Statement, StatementError> {
    if payload.len() > MAX_STATEMENT {
        return Err(StatementError::TooLarge {
            size: payload.len(),
            max: MAX_STATEMENT,
        });
    }
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| StatementError::Json(e.to_string()))?;
    parse_value(&v)
}

/// [`parse`] for a document already read as JSON.
pub fn parse_value(v: &Value) -> Result<Statement, StatementError> {
    let obj = v.as_object().ok_or_else(|| at("", "not a JSON object"))?;
    let statement_type = match obj.get("_type") {
        None => return Err(at("/_type", "missing")),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(at("/_type", "not a string")),
    };
    match statement_type {
        STATEMENT_V1 | STATEMENT_V01 => {}
        "link" => return convert_link(obj),
        other => {
            return Err(at(
                "/_type",
                format!(
                    "unsupported statement type \"{other}\" (expected {STATEMENT_V1} or {STATEMENT_V01})"
                ),
            ));
        }
    }
    let subjects = match obj.get("subject") {
        None => return Err(at("/subject", "missing")),
        Some(Value::Array(a)) if a.is_empty() => return Err(at("/subject", "no subjects")),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, s)| parse_descriptor(s, &format!("/subject/{i}"), true))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(at("/subject", "not an array")),
    };
    let predicate_type = match obj.get("predicateType") {
        None => return Err(at("/predicateType", "missing")),
        Some(Value::String(s)) if s.is_empty() => return Err(at("/predicateType", "empty")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(at("/predicateType", "not a string")),
    };
    let predicate = match obj.get("predicate") {
        None => Value::Null,
        Some(p @ (Value::Object(_) | Value::Null)) => p.clone(),
        Some(_) => return Err(at("/predicate", "not an object")),
    };
    Ok(Statement {
        statement_type: statement_type.to_owned(),
        subjects,
        predicate_type,
        predicate,
    })
}

/// A legacy link's `materials`/`products` map (path → digest set) as descriptors.
fn link_artifacts(
    obj: &Map<String, Value>,
    key: &str,
) -> Result<Vec<ResourceDescriptor>, StatementError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(path, digest)| {
                let p = format!("/{key}/{}", escape_pointer(path));
                Ok(ResourceDescriptor {
                    name: Some(path.clone()),
                    digest: parse_digest(digest, &p)?,
                    ..Default::default()
                })
            })
            .collect(),
        Some(_) => Err(at(format!("/{key}"), "not an object")),
    }
}

fn convert_link(obj: &Map<String, Value>) -> Result<Statement, StatementError> {
    let name = match obj.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(at("/name", "not a string")),
        None => return Err(at("/name", "missing")),
    };
    let command = match obj.get("command") {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(c @ Value::Array(items)) => {
            if let Some(i) = items.iter().position(|x| !x.is_string()) {
                return Err(at(format!("/command/{i}"), "not a string"));
            }
            c.clone()
        }
        Some(_) => return Err(at("/command", "not an array")),
    };
    let object_or_empty = |key: &str| -> Result<Value, StatementError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Value::Object(Map::new())),
            Some(v @ Value::Object(_)) => Ok(v.clone()),
            Some(_) => Err(at(format!("/{key}"), "not an object")),
        }
    };
    let materials = link_artifacts(obj, "materials")?;
    let subjects = link_artifacts(obj, "products")?;
    let mut predicate = Map::new();
    predicate.insert("name".into(), name.into());
    predicate.insert("command".into(), command);
    predicate.insert(
        "materials".into(),
        Value::Array(materials.iter().map(ResourceDescriptor::to_value).collect()),
    );
    predicate.insert("byproducts".into(), object_or_empty("byproducts")?);
    predicate.insert("environment".into(), object_or_empty("environment")?);
    Ok(Statement {
        statement_type: STATEMENT_V1.into(),
        subjects,
        predicate_type: LINK_PREDICATE_V03.into(),
        predicate: Value::Object(predicate),
    })
}

/// The statement as compact JSON: `_type`, `subject`, `predicateType`, `predicate`
/// (omitted when null), in that order.
pub fn to_json(statement: &Statement) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("_type".into(), statement.statement_type.clone().into());
    m.insert(
        "subject".into(),
        Value::Array(
            statement
                .subjects
                .iter()
                .map(ResourceDescriptor::to_value)
                .collect(),
        ),
    );
    m.insert(
        "predicateType".into(),
        statement.predicate_type.clone().into(),
    );
    if !statement.predicate.is_null() {
        m.insert("predicate".into(), statement.predicate.clone());
    }
    // Serialising a Value cannot fail (string keys, finite numbers).
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}
