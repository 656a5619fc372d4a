//! OpenSSF model signatures (PyPI `model-signing`): a Sigstore bundle (v0.3 JSON) whose
//! DSSE envelope carries an in-toto Statement v1 with predicate
//! `https://model_signing/signature/v1.0` (one resource per file or file shard, a
//! serialization description and a root digest as the subject), or the older
//! `https://model_signing/Digests/v0.1` (one subject per file).
//!
//! [`parse`] reads a signature file without verifying it; [`verify_signature`] checks
//! who signed it (a public key, a certificate chaining to given CAs, or Sigstore);
//! [`check_resources`] compares what the signature lists with what a directory hashes
//! to (the hashing itself is I/O and lives with the caller).
//!
//! Compatibility traps of the Python implementation handled here:
//! * resources are listed in Python's `PurePosixPath` order (by path components, so
//!   `a/b` sorts before `a-b`), shards by (path, start, end) numerically: see
//!   [`python_order`];
//! * `shard_size` may be serialised as a float (`4096.0`);
//! * signatures made before model-signing 1.0 sign a buggy PAE
//!   (`DSSEV1 <n> <type> <n> b'<python repr of the payload>'`), and v0.2 certificate
//!   signatures hash with SHA-256 whatever the curve: see [`pae_compat`].

use std::cmp::Ordering;

use serde_json::Value;

use crate::keys::{KeyAlgorithm, PublicKey};

/// The predicate of model-signing 1.x signatures.
pub const PREDICATE_V1: &str = "https://model_signing/signature/v1.0";
/// The predicate of model-signing 0.2 signatures (one subject per file).
pub const PREDICATE_DIGESTS_V01: &str = "https://model_signing/Digests/v0.1";
/// The only DSSE payload type model-signing uses.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The only statement type model-signing uses.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// Signature files larger than this are refused before parsing.
pub const MAX_SIGNATURE_BYTES: usize = 10 << 20;

/// Why a model signature was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelSigError {
    /// The file is not a model signature as model-signing writes it; `at` is a JSON
    /// pointer (into the bundle, or into the DSSE payload after `payload`).
    #[error("{at}: {reason}")]
    Malformed { at: String, reason: String },
    #[error("signature file is {0} bytes; the limit is {MAX_SIGNATURE_BYTES}")]
    TooLarge(usize),
    /// Something model-signing can write that this implementation does not verify.
    #[error("{at}: unsupported: {what}")]
    Unsupported { at: String, what: String },
    /// The given key is not the one the bundle names (`publicKey.hint`).
    #[error(
        "/verificationMaterial/publicKey/hint: the signature names key {hint}, the given key is {actual}"
    )]
    KeyMismatch { hint: String, actual: String },
    /// The signature does not verify (wrong key, tampered payload).
    #[error("/dsseEnvelope/signatures/0/sig: {0}")]
    BadSignature(String),
    /// The signing certificate does not chain to the given CAs, or may not sign.
    #[error("/verificationMaterial/x509CertificateChain: {0}")]
    Certificate(String),
    /// Sigstore verification failed (certificate, transparency log, identity).
    #[error("sigstore: {0}")]
    Sigstore(String),
    /// The key or certificate given to verify with is unusable.
    #[error("verification key: {0}")]
    Key(String),
    /// The subject's root digest is not the hash of the listed resource digests.
    #[error(
        "/subject/0/digest/sha256: the root digest is {declared} but the resources hash to {computed}"
    )]
    RootDigest { declared: String, computed: String },
    /// The model on disk differs from the signature. `differ`, `missing` and `extra`
    /// are resource names (a path, or `path:start:end` for a shard), sorted.
    #[error("{}", mismatch_line(.differ, .missing, .extra))]
    Mismatch {
        differ: Vec<String>,
        missing: Vec<String>,
        extra: Vec<String>,
    },
}

fn mismatch_line(differ: &[String], missing: &[String], extra: &[String]) -> String {
    let list = |v: &[String]| {
        let mut s = v
            .iter()
            .take(3)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if v.len() > 3 {
            s.push_str(&format!(" and {} more", v.len() - 3));
        }
        s
    };
    let mut parts = Vec::new();
    if !differ.is_empty() {
        parts.push(format!(
            "model file {} differs from the signature",
            list(differ)
        ));
    }
    if !missing.is_empty() {
        parts.push(format!("signed but missing: {}", list(missing)));
    }
    if !extra.is_empty() {
        parts.push(format!("not in the signature: {}", list(extra)));
    }
    parts.join("; ")
}

fn malformed(at: impl Into<String>, reason: impl Into<String>) -> ModelSigError {
    ModelSigError::Malformed {
        at: at.into(),
        reason: reason.into(),
    }
}

/// How the model was cut into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serialization {
    /// One resource per file, named by its path relative to the model (`.` when the
    /// model is a single file).
    Files,
    /// Every non-empty file cut into `shard_size`-byte shards named `path:start:end`.
    Shards { shard_size: u64 },
}

/// One signed resource: a file or a file shard and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// A path relative to the model, or `path:start:end` for a shard.
    pub name: String,
    /// `sha256` for files, `sha256-sharded-<shard_size>` for shards.
    pub algorithm: String,
    pub digest: Vec<u8>,
}

/// What a model signature says about the model (the DSSE payload, parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSignature {
    pub predicate_type: String,
    /// The subject's name: the model directory's name when it was signed (not checked).
    pub model_name: String,
    pub method: Serialization,
    /// The hash of each resource; only `sha256` is supported.
    pub hash_type: String,
    pub allow_symlinks: bool,
    /// Paths (relative to the model) the signer left out.
    pub ignore_paths: Vec<String>,
    /// In the order the signature lists them.
    pub resources: Vec<Resource>,
    /// The subject digest: SHA-256 over the resource digests in listed order. `None`
    /// for the Digests/v0.1 predicate, which has no root.
    pub root_digest: Option<(String, Vec<u8>)>,
}

/// What identifies the signer inside the bundle (`verificationMaterial`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// `publicKey.hint`: SHA-256 (hex) of the signer's public key PEM, or no hint
    /// (model-signing before 1.0 put no hint, or the PEM in `rawBytes`).
    PublicKey {
        hint: Option<String>,
        raw_bytes: Option<Vec<u8>>,
    },
    /// `x509CertificateChain.certificates`: DER, leaf first.
    CertificateChain(Vec<Vec<u8>>),
    /// `certificate.rawBytes`: a single (Fulcio) leaf certificate, DER.
    Certificate(Vec<u8>),
}

/// A signature file, parsed but not verified.
#[derive(Debug, Clone)]
pub struct SignatureFile {
    /// The bundle as JSON (for Sigstore verification).
    pub bundle: Value,
    pub media_type: String,
    pub material: Material,
    pub payload_type: String,
    /// The DSSE payload bytes (what is signed, inside the PAE).
    pub payload: Vec<u8>,
    /// The DSSE signatures, decoded (model-signing writes exactly one).
    pub signatures: Vec<Vec<u8>>,
    /// Whether the bundle has transparency-log entries.
    pub has_tlog: bool,
}

/// Looks up a protobuf-JSON field under its JSON name or its original (snake_case) name.
fn field<'a>(obj: &'a Value, json: &str, proto: &str) -> Option<&'a Value> {
    obj.get(json).or_else(|| obj.get(proto))
}

fn b64(at: &str, v: &Value) -> Result<Vec<u8>, ModelSigError> {
    let s = v
        .as_str()
        .ok_or_else(|| malformed(at, "expected a base64 string"))?;
    crate::dsse::decode_base64(s).map_err(|e| malformed(at, e))
}

fn str_at<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str, ModelSigError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("{at}/{key}"), "expected a string"))
}

/// Parses a model signature file: the bundle, its DSSE envelope and the payload.
/// Checks the payload's shape and its root digest, not who signed it.
pub fn parse(sig_bytes: &[u8]) -> Result<(SignatureFile, ModelSignature), ModelSigError> {
    if sig_bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(ModelSigError::TooLarge(sig_bytes.len()));
    }
    let bundle: Value =
        serde_json::from_slice(sig_bytes).map_err(|e| malformed("", format!("not JSON ({e})")))?;
    if !bundle.is_object() {
        return Err(malformed("", "expected a Sigstore bundle (a JSON object)"));
    }
    let media_type = field(&bundle, "mediaType", "media_type")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("/mediaType", "expected a string"))?
        .to_owned();
    if !media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(malformed(
            "/mediaType",
            format!("{media_type:?} is not a Sigstore bundle media type"),
        ));
    }
    let vm = field(&bundle, "verificationMaterial", "verification_material")
        .ok_or_else(|| malformed("/verificationMaterial", "missing"))?;
    let material = parse_material(vm)?;
    let has_tlog = field(vm, "tlogEntries", "tlog_entries")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let env = field(&bundle, "dsseEnvelope", "dsse_envelope").ok_or_else(|| {
        malformed(
            "/dsseEnvelope",
            "missing (model signatures sign a DSSE envelope)",
        )
    })?;
    let payload_type = field(env, "payloadType", "payload_type")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("/dsseEnvelope/payloadType", "expected a string"))?
        .to_owned();
    if payload_type != PAYLOAD_TYPE {
        return Err(malformed(
            "/dsseEnvelope/payloadType",
            format!("expected {PAYLOAD_TYPE}, got {payload_type:?}"),
        ));
    }
    let payload = b64(
        "/dsseEnvelope/payload",
        env.get("payload").unwrap_or(&Value::Null),
    )?;
    let sigs = env
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("/dsseEnvelope/signatures", "expected an array"))?;
    if sigs.is_empty() {
        return Err(malformed("/dsseEnvelope/signatures", "no signature"));
    }
    let signatures = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            b64(
                &format!("/dsseEnvelope/signatures/{i}/sig"),
                s.get("sig").unwrap_or(&Value::Null),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sig = parse_payload(&payload)?;
    Ok((
        SignatureFile {
            bundle,
            media_type,
            material,
            payload_type,
            payload,
            signatures,
            has_tlog,
        },
        sig,
    ))
}

fn parse_material(vm: &Value) -> Result<Material, ModelSigError> {
    if let Some(pk) = field(vm, "publicKey", "public_key") {
        let hint = pk
            .get("hint")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        let raw_bytes = match field(pk, "rawBytes", "raw_bytes") {
            Some(v) => Some(b64("/verificationMaterial/publicKey/rawBytes", v)?),
            None => None,
        };
        return Ok(Material::PublicKey { hint, raw_bytes });
    }
    if let Some(chain) = field(vm, "x509CertificateChain", "x509_certificate_chain") {
        let at = "/verificationMaterial/x509CertificateChain/certificates";
        let certs = chain
            .get("certificates")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(at, "expected an array"))?;
        if certs.is_empty() {
            return Err(malformed(at, "no certificate"));
        }
        let ders = certs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let at = format!("{at}/{i}/rawBytes");
                b64(
                    &at,
                    field(c, "rawBytes", "raw_bytes").unwrap_or(&Value::Null),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Material::CertificateChain(ders));
    }
    if let Some(cert) = vm.get("certificate") {
        let der = b64(
            "/verificationMaterial/certificate/rawBytes",
            field(cert, "rawBytes", "raw_bytes").unwrap_or(&Value::Null),
        )?;
        return Ok(Material::Certificate(der));
    }
    Err(malformed(
        "/verificationMaterial",
        "expected publicKey, x509CertificateChain or certificate",
    ))
}

fn hex_digest(at: &str, v: Option<&Value>) -> Result<Vec<u8>, ModelSigError> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(at, "expected a hex string"))?;
    let d = hex::decode(s).map_err(|e| malformed(at, format!("invalid hex ({e})")))?;
    if d.is_empty() {
        return Err(malformed(at, "empty digest"));
    }
    Ok(d)
}

/// Parses the DSSE payload: an in-toto Statement v1 with a model-signing predicate.
/// Pointers in errors are prefixed with `payload`.
pub fn parse_payload(payload: &[u8]) -> Result<ModelSignature, ModelSigError> {
    let st: Value = serde_json::from_slice(payload)
        .map_err(|e| malformed("payload", format!("not JSON ({e})")))?;
    let ty = str_at(&st, "_type", "payload")?;
    if ty != STATEMENT_V1 {
        return Err(malformed(
            "payload/_type",
            format!("expected {STATEMENT_V1}, got {ty:?}"),
        ));
    }
    let predicate_type = str_at(&st, "predicateType", "payload")?.to_owned();
    let subjects = st
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("payload/subject", "expected an array"))?;
    match predicate_type.as_str() {
        PREDICATE_V1 => parse_v1(&st, subjects, predicate_type),
        PREDICATE_DIGESTS_V01 => parse_digests_v01(subjects, predicate_type),
        other => Err(malformed(
            "payload/predicateType",
            format!("{other:?} is not a model-signing predicate"),
        )),
    }
}

fn parse_v1(
    st: &Value,
    subjects: &[Value],
    predicate_type: String,
) -> Result<ModelSignature, ModelSigError> {
    let [subject] = subjects else {
        return Err(malformed(
            "payload/subject",
            format!("expected one subject, got {}", subjects.len()),
        ));
    };
    let model_name = str_at(subject, "name", "payload/subject/0")?.to_owned();
    let root = hex_digest(
        "payload/subject/0/digest/sha256",
        subject.get("digest").and_then(|d| d.get("sha256")),
    )?;
    let pred = st
        .get("predicate")
        .filter(|p| p.is_object())
        .ok_or_else(|| malformed("payload/predicate", "expected an object"))?;
    let ser = pred
        .get("serialization")
        .filter(|p| p.is_object())
        .ok_or_else(|| malformed("payload/predicate/serialization", "expected an object"))?;
    let at = "payload/predicate/serialization";
    let method_name = str_at(ser, "method", at)?;
    let hash_type = str_at(ser, "hash_type", at)?.to_owned();
    let allow_symlinks = match ser.get("allow_symlinks") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        // The v0.2 compat path of model-signing writes the string "false".
        Some(Value::String(s)) if s == "false" || s == "true" => s == "true",
        Some(_) => return Err(malformed(format!("{at}/allow_symlinks"), "expected a bool")),
    };
    let method = match method_name {
        "files" => Serialization::Files,
        "shards" => Serialization::Shards {
            shard_size: shard_size(ser.get("shard_size"))?,
        },
        other => {
            return Err(ModelSigError::Unsupported {
                at: format!("{at}/method"),
                what: format!("serialization method {other:?}"),
            });
        }
    };
    let ignore_paths = match ser.get("ignore_paths") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(format!("{at}/ignore_paths/{i}"), "expected a string"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(malformed(format!("{at}/ignore_paths"), "expected an array"));
        }
    };
    let res = pred
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("payload/predicate/resources", "expected an array"))?;
    let mut resources = Vec::with_capacity(res.len());
    for (i, r) in res.iter().enumerate() {
        let at = format!("payload/predicate/resources/{i}");
        let name = str_at(r, "name", &at)?.to_owned();
        let algorithm = str_at(r, "algorithm", &at)?.to_owned();
        let digest = hex_digest(&format!("{at}/digest"), r.get("digest"))?;
        if let Serialization::Shards { .. } = method {
            parse_shard_name(&name).ok_or_else(|| {
                malformed(
                    format!("{at}/name"),
                    format!("{name:?} is not a shard name path:start:end"),
                )
            })?;
        }
        resources.push(Resource {
            name,
            algorithm,
            digest,
        });
    }
    let mut seen: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(malformed(
            "payload/predicate/resources",
            format!("{:?} listed twice", w[0]),
        ));
    }
    let computed = root_digest_of(&resources);
    if computed[..] != root[..] {
        return Err(ModelSigError::RootDigest {
            declared: hex::encode(&root),
            computed: hex::encode(computed),
        });
    }
    Ok(ModelSignature {
        predicate_type,
        model_name,
        method,
        hash_type,
        allow_symlinks,
        ignore_paths,
        resources,
        root_digest: Some(("sha256".to_owned(), root)),
    })
}

/// `shard_size` as Python's JSON writes it: an integer, or a float with no fraction
/// (`4096.0`).
fn shard_size(v: Option<&Value>) -> Result<u64, ModelSigError> {
    let at = "payload/predicate/serialization/shard_size";
    let n = v
        .and_then(Value::as_number)
        .ok_or_else(|| malformed(at, "expected a number"))?;
    let size = if let Some(u) = n.as_u64() {
        Some(u)
    } else {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.007_199_254_740_992e15)
            .map(|f| f as u64)
    };
    size.filter(|s| *s > 0)
        .ok_or_else(|| malformed(at, format!("{n} is not a positive whole number")))
}

fn parse_digests_v01(
    subjects: &[Value],
    predicate_type: String,
) -> Result<ModelSignature, ModelSigError> {
    if subjects.is_empty() {
        return Err(malformed("payload/subject", "no subject"));
    }
    let resources = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("payload/subject/{i}");
            Ok(Resource {
                name: str_at(s, "name", &at)?.to_owned(),
                algorithm: "sha256".to_owned(),
                digest: hex_digest(
                    &format!("{at}/digest/sha256"),
                    s.get("digest").and_then(|d| d.get("sha256")),
                )?,
            })
        })
        .collect::<Result<Vec<_>, ModelSigError>>()?;
    Ok(ModelSignature {
        predicate_type,
        model_name: String::new(),
        method: Serialization::Files,
        hash_type: "sha256".to_owned(),
        allow_symlinks: false,
        ignore_paths: Vec::new(),
        resources,
        root_digest: None,
    })
}

/// Splits a shard name `path:start:end` (the path may itself hold `:`? model-signing
/// splits on every `:` and wants exactly three parts, so it may not).
pub fn parse_shard_name(name: &str) -> Option<(&str, u64, u64)> {
    let mut it = name.split(':');
    let (path, start, end) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || path.is_empty() {
        return None;
    }
    let (start, end) = (start.parse().ok()?, end.parse().ok()?);
    (start < end).then_some((path, start, end))
}

/// SHA-256 over the resource digests in the given order: model-signing's root digest.
pub fn root_digest_of(resources: &[Resource]) -> [u8; 32] {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    for r in resources {
        h.update(&r.digest);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

/// Python's order of manifest keys: file paths compare as `PurePosixPath`s (the list
/// of their components, so `a/b` < `a-b` < `a.txt`); shard names compare as
/// (path, start, end) with numeric offsets.
pub fn python_order(a: &str, b: &str) -> Ordering {
    fn key(s: &str) -> (Vec<&str>, u64, u64) {
        match parse_shard_name(s) {
            Some((p, start, end)) => (p.split('/').collect(), start, end),
            None => (s.split('/').collect(), 0, 0),
        }
    }
    key(a).cmp(&key(b))
}

/// The names of the shards model-signing cuts a `len`-byte file into: `[start, end)`
/// ranges of `shard_size` bytes, the last one shorter; none for an empty file.
pub fn shard_ranges(len: u64, shard_size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if shard_size == 0 {
        return out;
    }
    let mut start = 0;
    while start < len {
        let end = start.saturating_add(shard_size).min(len);
        out.push((start, end));
        start = end;
    }
    out
}

/// The resource algorithm name model-signing writes for this serialization.
pub fn resource_algorithm(method: Serialization, hash_type: &str) -> String {
    match method {
        Serialization::Files => hash_type.to_owned(),
        Serialization::Shards { shard_size } => format!("{hash_type}-sharded-{shard_size}"),
    }
}

/// Compares the signed resources with what the model hashes to now (`actual`: resource
/// name and SHA-256, in any order). Every resource must be present with the same
/// digest and nothing else may be there. Also rechecks the root digest over the
/// signed resources, as model-signing does.
pub fn check_resources(
    sig: &ModelSignature,
    actual: &[(String, Vec<u8>)],
) -> Result<(), ModelSigError> {
    if sig.hash_type != "sha256" {
        return Err(ModelSigError::Unsupported {
            at: "payload/predicate/serialization/hash_type".into(),
            what: format!("hash type {:?} (only sha256)", sig.hash_type),
        });
    }
    let want_alg = resource_algorithm(sig.method, &sig.hash_type);
    for (i, r) in sig.resources.iter().enumerate() {
        if r.algorithm != want_alg {
            return Err(ModelSigError::Unsupported {
                at: format!("payload/predicate/resources/{i}/algorithm"),
                what: format!("{:?} (expected {want_alg:?})", r.algorithm),
            });
        }
    }
    if let Some((alg, root)) = &sig.root_digest {
        let computed = root_digest_of(&sig.resources);
        if alg != "sha256" || computed[..] != root[..] {
            return Err(ModelSigError::RootDigest {
                declared: hex::encode(root),
                computed: hex::encode(computed),
            });
        }
    }
    let mut signed: Vec<(&str, &[u8])> = sig
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.digest.as_slice()))
        .collect();
    let mut have: Vec<(&str, &[u8])> = actual
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let cmp = |a: &(&str, &[u8]), b: &(&str, &[u8])| python_order(a.0, b.0).then(a.0.cmp(b.0));
    signed.sort_by(cmp);
    have.sort_by(cmp);
    let (mut differ, mut missing, mut extra) = (Vec::new(), Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < signed.len() || j < have.len() {
        let ord = match (signed.get(i), have.get(j)) {
            (Some(s), Some(h)) => cmp(s, h),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match ord {
            Ordering::Less => {
                missing.push(signed[i].0.to_owned());
                i += 1;
            }
            Ordering::Greater => {
                extra.push(have[j].0.to_owned());
                j += 1;
            }
            Ordering::Equal => {
                if signed[i].1 != have[j].1 {
                    differ.push(signed[i].0.to_owned());
                }
                i += 1;
                j += 1;
            }
        }
    }
    if differ.is_empty() && missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(ModelSigError::Mismatch {
            differ,
            missing,
            extra,
        })
    }
}

/// The digest of ailedger's own manifest of the signed model (`<hex>  <path>\n` per
/// file, sorted by path bytes), so the signature links to the model registered from
/// the same files. `None` for shards, hashes other than SHA-256, or names that are not
/// manifest paths (the `.` of a single-file model).
pub fn manifest_digest(sig: &ModelSignature) -> Option<ailedger_core::Sha256Digest> {
    if sig.method != Serialization::Files || sig.hash_type != "sha256" {
        return None;
    }
    let files = sig
        .resources
        .iter()
        .map(|r| {
            let d: [u8; 32] = r.digest.as_slice().try_into().ok()?;
            Some(ailedger_core::manifest::ManifestFile {
                path: r.name.clone(),
                sha256: ailedger_core::Sha256Digest(d),
                size: 0,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    ailedger_core::manifest::Manifest::new(files)
        .ok()
        .map(|m| m.digest())
}

/// The DSSE v1 PAE of an in-toto payload, as model-signing signs it.
pub fn pae(payload: &[u8]) -> Vec<u8> {
    crate::dsse::pae(PAYLOAD_TYPE, payload)
}

/// The PAE model-signing signed before 1.0: a Python f-string that formatted the
/// payload bytes with `repr` (`b'…'`, escapes included) after `DSSEV1`.
pub fn pae_compat(payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(python_bytes_repr(payload).as_bytes());
    out
}

/// Python's `repr(bytes)`: `b'…'` (or `b"…"` when the bytes hold `'` but no `"`),
/// with `\\`, the quote, `\t`, `\n`, `\r` escaped and other bytes outside printable
/// ASCII as `\xhh`.
pub fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote as char);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c == quote => {
                s.push('\\');
                s.push(c as char);
            }
            c if !(0x20..0x7f).contains(&c) => s.push_str(&format!("\\x{c:02x}")),
            c => s.push(c as char),
        }
    }
    s.push(quote as char);
    s
}

/// What to verify a model signature with.
#[derive(Debug)]
pub enum ModelVerifier<'a> {
    /// Key mode: the signer's public key (model-signing supports ECDSA P-256/P-384/P-521).
    Key(&'a PublicKey),
    /// Certificate mode: the signing certificate (first of the bundle's chain) must chain
    /// to one of these CA certificates (DER), with the bundle's other certificates as
    /// intermediates, at the time the signing certificate became valid (as model-signing
    /// checks it); no Fulcio, SCT or transparency log.
    Certificate { anchors: &'a [Vec<u8>] },
    /// Sigstore mode: full offline Sigstore verification (Fulcio chain at signing time,
    /// SCT, transparency log) against `root`, with the certificate identity `identity`.
    Sigstore {
        root: &'a crate::sigstore::TrustedRoot,
        identity: &'a crate::sigstore::IdentityPolicy,
    },
}

/// Who signed, as verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSigner {
    Key {
        /// model-signing's key hint: SHA-256 (hex) of the key's SubjectPublicKeyInfo PEM.
        key_hint: String,
        /// The securesystemslib key id of the same key.
        keyid: String,
        algorithm: String,
    },
    /// A certificate (not Fulcio) chaining to the given CAs.
    Certificate {
        /// The leaf's subject DN (RFC 4514).
        subject: String,
        /// The leaf's URI and e-mail SANs.
        sans: Vec<String>,
        /// SHA-256 (hex) of the leaf certificate.
        fingerprint_sha256: String,
        /// Subjects from the leaf's issuer up to the trust anchor.
        chain: Vec<String>,
        not_before: i64,
        not_after: i64,
    },
    /// A Sigstore (Fulcio) certificate identity.
    Sigstore {
        san: String,
        issuer: String,
        fingerprint_sha256: String,
        /// The verified signing time (Unix seconds), from the log or a timestamp.
        signed_at: Option<i64>,
        /// Indexes of the transparency-log entries that verified.
        log_indexes: Vec<i64>,
    },
}

/// A model signature whose signer was verified; the files are still to be compared
/// ([`check_resources`]).
#[derive(Debug, Clone)]
pub struct VerifiedModelSignature {
    pub sig: ModelSignature,
    pub signer: ModelSigner,
    /// The signature is over model-signing's pre-1.0 PAE ([`pae_compat`]).
    pub compat_pae: bool,
}

/// model-signing's key hint: SHA-256 (hex) of the key as PEM `PUBLIC KEY` (base64 in
/// 64-column lines, final newline), as Python's `cryptography` writes it.
pub fn key_hint(key: &PublicKey) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        key.to_pem().as_bytes(),
    ))
}

/// Verifies who signed a model signature file, and parses it. Like model-signing, only
/// the envelope's first signature is checked; a signature over the pre-1.0 PAE is
/// accepted and reported ([`VerifiedModelSignature::compat_pae`]).
pub fn verify_signature(
    sig_bytes: &[u8],
    how: &ModelVerifier<'_>,
) -> Result<VerifiedModelSignature, ModelSigError> {
    let (file, sig) = parse(sig_bytes)?;
    let first = file
        .signatures
        .first()
        .ok_or_else(|| malformed("/dsseEnvelope/signatures", "no signature"))?;
    match how {
        ModelVerifier::Key(key) => {
            let hint = key_hint(key);
            match &file.material {
                Material::PublicKey {
                    hint: Some(declared),
                    ..
                } if !declared.eq_ignore_ascii_case(&hint) => {
                    return Err(ModelSigError::KeyMismatch {
                        hint: declared.clone(),
                        actual: hint,
                    });
                }
                Material::PublicKey { .. } => {}
                _ => {
                    return Err(malformed(
                        "/verificationMaterial",
                        "a key-mode signature carries publicKey; this one carries a certificate",
                    ));
                }
            }
            let compat_pae = verify_pae(key, &file.payload, first, false)?;
            Ok(VerifiedModelSignature {
                sig,
                signer: ModelSigner::Key {
                    key_hint: hint,
                    keyid: key.keyid(),
                    algorithm: key.algorithm().to_string(),
                },
                compat_pae,
            })
        }
        ModelVerifier::Certificate { anchors } => {
            let Material::CertificateChain(chain) = &file.material else {
                return Err(malformed(
                    "/verificationMaterial",
                    "a certificate-mode signature carries x509CertificateChain",
                ));
            };
            let (leaf, rest) = chain
                .split_first()
                .ok_or_else(|| ModelSigError::Certificate("no certificate".into()))?;
            let leaf_info = LeafCert::parse(leaf)?;
            // As model-signing: the chain must hold when the leaf became valid.
            let info = crate::sigstore::verify_chain(leaf, rest, anchors, leaf_info.not_before)
                .map_err(|e| ModelSigError::Certificate(e.to_string()))?;
            leaf_info.may_sign()?;
            let key = PublicKey::from_spki_der(&leaf_info.spki_der)
                .map_err(|e| ModelSigError::Certificate(format!("leaf public key: {e}")))?;
            let compat_pae = verify_pae(&key, &file.payload, first, true)?;
            Ok(VerifiedModelSignature {
                sig,
                signer: ModelSigner::Certificate {
                    subject: info.subject,
                    sans: info.sans,
                    fingerprint_sha256: info.fingerprint_sha256,
                    chain: info.chain_subjects,
                    not_before: info.not_before,
                    not_after: info.not_after,
                },
                compat_pae,
            })
        }
        ModelVerifier::Sigstore { root, identity } => {
            let bundle = crate::sigstore::Bundle::from_value(&file.bundle)
                .map_err(|e| ModelSigError::Sigstore(e.to_string()))?;
            let policy = std::slice::from_ref(*identity);
            let mut opts = crate::sigstore::VerifyOptions::new(root);
            opts.identities = policy;
            let v = crate::sigstore::verify(&bundle, &opts)
                .map_err(|e| ModelSigError::Sigstore(e.to_string()))?;
            // The payload verified must be the one parsed.
            let env = v.dsse.as_ref().ok_or_else(|| {
                ModelSigError::Sigstore("the bundle verified without a DSSE envelope".into())
            })?;
            if env.payload != file.payload || env.payload_type != PAYLOAD_TYPE {
                return Err(ModelSigError::Sigstore(
                    "the verified DSSE payload is not the one parsed".into(),
                ));
            }
            let crate::sigstore::Signer::Certificate(info) = &v.signer else {
                return Err(ModelSigError::Sigstore(
                    "the bundle is signed by a key, not a Sigstore certificate".into(),
                ));
            };
            Ok(VerifiedModelSignature {
                sig,
                signer: ModelSigner::Sigstore {
                    san: info.san.clone().unwrap_or_default(),
                    issuer: info.issuer.clone().unwrap_or_default(),
                    fingerprint_sha256: info.fingerprint_sha256.clone(),
                    signed_at: v.signed_at,
                    log_indexes: v.tlog_entries.iter().map(|t| t.log_index).collect(),
                },
                compat_pae: false,
            })
        }
    }
}

/// What certificate mode needs of the signing certificate beyond its chain.
struct LeafCert {
    not_before: i64,
    spki_der: Vec<u8>,
    /// keyUsage digitalSignature: `None` when the extension is absent.
    digital_signature: Option<bool>,
    code_signing: bool,
}

impl LeafCert {
    fn parse(der: &[u8]) -> Result<Self, ModelSigError> {
        use der::{Decode as _, Encode as _};
        let bad = |e: String| ModelSigError::Certificate(format!("certificates/0: {e}"));
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        let tbs = &cert.tbs_certificate;
        let not_before =
            i64::try_from(tbs.validity.not_before.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        let spki_der = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| bad(e.to_string()))?;
        let mut digital_signature = None;
        let mut code_signing = false;
        for ext in tbs.extensions.iter().flatten() {
            let id = ext.extn_id.to_string();
            if id == "2.5.29.15" {
                let ku = x509_cert::ext::pkix::KeyUsage::from_der(ext.extn_value.as_bytes())
                    .map_err(|e| bad(format!("keyUsage: {e}")))?;
                digital_signature =
                    Some(ku.0.contains(x509_cert::ext::pkix::KeyUsages::DigitalSignature));
            } else if id == "2.5.29.37" {
                let eku =
                    x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| bad(format!("extendedKeyUsage: {e}")))?;
                code_signing = eku.0.iter().any(|o| o.to_string() == "1.3.6.1.5.5.7.3.3");
            }
        }
        Ok(Self {
            not_before,
            spki_der,
            digital_signature,
            code_signing,
        })
    }

    /// model-signing's rule: keyUsage digitalSignature, or else extendedKeyUsage codeSigning.
    fn may_sign(&self) -> Result<(), ModelSigError> {
        if self.digital_signature == Some(true) || self.code_signing {
            Ok(())
        } else {
            Err(ModelSigError::Certificate(
                "certificates/0: neither keyUsage digitalSignature nor extendedKeyUsage codeSigning"
                    .into(),
            ))
        }
    }
}

/// Verifies `sig` over the PAE of `payload`, then over the pre-1.0 compat PAE;
/// returns whether the compat one verified. `compat_sha256`: the v0.2 certificate
/// signer hashed the compat PAE with SHA-256 whatever the curve.
fn verify_pae(
    key: &PublicKey,
    payload: &[u8],
    sig: &[u8],
    compat_sha256: bool,
) -> Result<bool, ModelSigError> {
    let first = match key.verify(&pae(payload), sig) {
        Ok(_) => return Ok(false),
        Err(e) => e,
    };
    let compat = pae_compat(payload);
    if key.verify(&compat, sig).is_ok() {
        return Ok(true);
    }
    if compat_sha256 && key.algorithm() == KeyAlgorithm::EcdsaP384 {
        let point = spki::SubjectPublicKeyInfoRef::try_from(key.spki_der())
            .ok()
            .and_then(|s| s.subject_public_key.as_bytes().map(<[u8]>::to_vec));
        if let Some(point) = point {
            let k = ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P384_SHA256_ASN1,
                point,
            );
            if k.verify(&compat, sig).is_ok() {
                return Ok(true);
            }
        }
    }
    Err(ModelSigError::BadSignature(format!(
        "{first} over the DSSE PAE, nor over model-signing's pre-1.0 PAE"
    )))
}
