//! Judging a signed document under a trust policy: which signers verified it, whether
//! the policy trusts them for its subjects, the SLSA build level the policy grants,
//! and the outcome (verified, unverified or failed) with the reason. Then the facts
//! the ledger records: the attestation, its subjects (`attests`), and for provenance
//! the materials and source (`built-from`) and the builder (`built-by`).
//!
//! Two steps, so the caller can look the subjects up in between: [`detect`] reads the
//! document and names the refs it will link ([`Parsed::lookup_keys`]); [`judge`] gives
//! the [`Judgement`] and the facts, given what the ledger knows of those refs.

use std::collections::{BTreeMap, HashMap};

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, Ref, Sha256Digest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    dsse::{self, Envelope, SigFailure, SigOutcome},
    keys::PublicKey,
    model_signing,
    policy::{
        Action, PRODUCTION_ROOT, PolicyError, PolicyFile, PolicyFiles, PolicyFormat, SubjectContext,
    },
    sigstore::{self, Bundle, IdentityPolicy, Matcher, TrustedRoot},
    slsa,
    statement::{self, ResourceDescriptor, Statement},
};

/// The in-toto payload type.
pub const IN_TOTO_PAYLOAD: &str = "application/vnd.in-toto+json";

/// Which policy judged: its entry's seq and its text's digest (`None` for the built-in
/// empty policy in force before any was set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub seq: u64,
    pub digest: Sha256Digest,
}

/// A policy ready to judge: keys parsed, regexes compiled, trusted root loaded.
#[derive(Debug)]
pub struct TrustPolicy {
    pub file: PolicyFile,
    pub reference: Option<PolicyRef>,
    keys: Vec<PublicKey>,
    identities: Vec<IdentityPolicy>,
    authorities: Vec<Vec<Vec<u8>>>,
    builders: Vec<Matcher>,
    root: TrustedRoot,
}

fn policy_field(field: impl Into<String>, reason: impl std::fmt::Display) -> PolicyError {
    PolicyError::Field {
        field: field.into(),
        reason: reason.to_string(),
    }
}

impl TrustPolicy {
    /// Reads and checks a policy and the files it names.
    pub fn compile(
        text: &str,
        format: Option<PolicyFormat>,
        files: &PolicyFiles,
        reference: Option<PolicyRef>,
    ) -> Result<(Self, PolicyFormat), PolicyError> {
        let (file, format) = PolicyFile::parse(text, format)?;
        Self::from_file(file, files, reference).map(|p| (p, format))
    }

    /// The built-in policy in force before any was set.
    pub fn empty() -> Result<Self, PolicyError> {
        Self::from_file(PolicyFile::empty(), &PolicyFiles::new(), None)
    }

    fn from_file(
        file: PolicyFile,
        files: &PolicyFiles,
        reference: Option<PolicyRef>,
    ) -> Result<Self, PolicyError> {
        for name in files.keys() {
            if !file.referenced_files().contains(&name.as_str()) {
                return Err(policy_field(
                    format!("files.{name}"),
                    "the policy does not refer to this file",
                ));
            }
        }
        let name = &file.sigstore.trusted_root;
        let root = if name == PRODUCTION_ROOT {
            TrustedRoot::production()
        } else {
            let text = files.get(name).ok_or_else(|| {
                policy_field(
                    "sigstore.trusted_root",
                    format!("names the file {name:?}, which was not given with the policy"),
                )
            })?;
            TrustedRoot::from_json(text.as_bytes()).and_then(|r| {
                if r.certificate_authorities.is_empty() && r.tlogs.is_empty() {
                    Err(sigstore::SigstoreError::Field {
                        field: name.clone(),
                        reason: "names no certificate authority and no transparency log".into(),
                    })
                } else {
                    Ok(r)
                }
            })
        }
        .map_err(|e| policy_field("sigstore.trusted_root", e))?;
        let keys = file
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                PublicKey::parse(k.public_key.as_bytes())
                    .map_err(|e| policy_field(format!("keys[{i}].public_key"), e))
            })
            .collect::<Result<_, _>>()?;
        let matcher =
            |at: String, exact: &Option<String>, regex: &Option<String>| match (exact, regex) {
                (Some(e), _) => Ok(Matcher::Exact(e.clone())),
                (None, Some(r)) => Matcher::regex(r).map_err(|e| policy_field(at, e)),
                (None, None) => Err(policy_field(at, "missing")),
            };
        let identities = file
            .identities
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(IdentityPolicy {
                    san: matcher(format!("identities[{i}].san"), &r.san, &r.san_regex)?,
                    issuer: matcher(
                        format!("identities[{i}].issuer"),
                        &r.issuer,
                        &r.issuer_regex,
                    )?,
                })
            })
            .collect::<Result<_, PolicyError>>()?;
        let authorities = file
            .certificate_authorities
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let ders = crate::keys::pem_certificates(a.certificates.as_bytes());
                if ders.is_empty() {
                    return Err(policy_field(
                        format!("certificate_authorities[{i}].certificates"),
                        "no PEM certificate (BEGIN CERTIFICATE) in it",
                    ));
                }
                Ok(ders)
            })
            .collect::<Result<_, _>>()?;
        let builders = file
            .builders
            .iter()
            .enumerate()
            .map(|(i, b)| matcher(format!("builders[{i}].id"), &b.id, &b.id_regex))
            .collect::<Result<_, _>>()?;
        Ok(TrustPolicy {
            file,
            reference,
            keys,
            identities,
            authorities,
            builders,
            root,
        })
    }
}

/// A verification outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Signed by a signer the policy trusts for every subject, and every check passed.
    Verified,
    /// Unsigned, or signed by no signer the policy trusts for the subjects.
    Unverified,
    /// A signature, certificate, log proof or subject digest did not verify.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Unverified => "unverified",
            Outcome::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a document could not be read as signed provenance.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("{0}")]
    Dsse(#[from] dsse::DsseError),
    #[error("Sigstore bundle: {0}")]
    Bundle(#[from] sigstore::SigstoreError),
    #[error("in-toto statement: {0}")]
    Statement(#[from] statement::StatementError),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("{0}")]
    Other(String),
}

/// What a document holds, one item per envelope, bundle or statement.
#[derive(Debug)]
pub struct Parsed {
    /// `in-toto DSSE envelope`, `Sigstore bundle v0.3`, `in-toto JSON Lines` …
    pub format: String,
    pub items: Vec<Item>,
}

#[derive(Debug)]
enum Container {
    Envelope(Envelope),
    Bundle(Box<Bundle>, Vec<u8>),
    Bare,
}

/// One attestation of a document.
#[derive(Debug)]
pub struct Item {
    container: Container,
    /// The statement carried (read before verification, to look its subjects up).
    pub statement: Option<Statement>,
    /// A message-signature bundle's signed digest: `(algorithm, hex)`.
    pub message_digest: Option<(String, String)>,
    /// A model signature's payload (OpenSSF model signing).
    pub model: Option<model_signing::ModelSignature>,
    pub provenance: Option<slsa::Provenance>,
    /// Problems reading the predicate, kept as warnings.
    pub warnings: Vec<String>,
}

/// Attestation documents larger than this are refused.
pub const MAX_ATTESTATION: usize = dsse::MAX_ENVELOPE;

/// How many bytes of a large document are looked at to tell it is an attestation.
const SNIFF: usize = 64 * 1024;

/// Whether `bytes` mention what every attestation carries (a fast byte search, so
/// other documents are not parsed twice).
fn sniff_attestation(bytes: &[u8]) -> bool {
    [
        &b"application/vnd.dev.sigstore.bundle"[..],
        b"\"payloadType\"",
        b"https://in-toto.io/Statement/",
    ]
    .iter()
    .any(|p| memchr::memmem::find(bytes, p).is_some())
}

fn bundle_label(media_type: &str) -> String {
    let v = media_type
        .rsplit_once("version=")
        .map(|(_, v)| v)
        .or_else(|| {
            media_type
                .strip_prefix("application/vnd.dev.sigstore.bundle.v")
                .and_then(|r| r.strip_suffix("+json"))
        })
        .unwrap_or("?");
    format!("Sigstore bundle v{v}")
}

/// What kind of attestation a JSON object is, if any.
fn kind_of(v: &Value) -> Option<&'static str> {
    let o = v.as_object()?;
    if o.get("mediaType")
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
    {
        Some("bundle")
    } else if o.contains_key("payloadType") && o.contains_key("signatures") {
        Some("envelope")
    } else if o
        .get("_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("https://in-toto.io/Statement/"))
    {
        Some("statement")
    } else {
        None
    }
}

/// Reads a document as signed provenance: `None` when it is not one (another format
/// parser should try), an error when it is one but cannot be read.
pub fn detect(bytes: &[u8]) -> Option<Result<Parsed, AttestError>> {
    if bytes.len() > MAX_ATTESTATION {
        return sniff_attestation(&bytes[..SNIFF]).then(|| {
            Err(AttestError::Other(format!(
                "an attestation of {} bytes, over the {MAX_ATTESTATION}-byte limit",
                bytes.len()
            )))
        });
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' || !sniff_attestation(bytes) {
        return None;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => {
            let kind = kind_of(&v)?;
            Some(read_item(kind, &v, bytes).map(|(format, item)| Parsed {
                format,
                items: vec![item],
            }))
        }
        Err(_) => {
            // JSON Lines: the first line must be an attestation.
            let line = bytes
                .split(|b| *b == b'\n')
                .find(|l| !l.trim_ascii().is_empty())?;
            let v: Value = serde_json::from_slice(line).ok()?;
            kind_of(&v)?;
            Some(read_jsonl(bytes))
        }
    }
}

fn read_jsonl(bytes: &[u8]) -> Result<Parsed, AttestError> {
    let values = dsse::parse_jsonl(bytes)?;
    let mut items = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let line = i + 1;
        let kind = kind_of(v).ok_or_else(|| AttestError::Line {
            line,
            reason: "not a DSSE envelope, Sigstore bundle or in-toto statement".into(),
        })?;
        let raw = serde_json::to_vec(v).map_err(|e| AttestError::Other(e.to_string()))?;
        let (_, item) = read_item(kind, v, &raw).map_err(|e| AttestError::Line {
            line,
            reason: e.to_string(),
        })?;
        items.push(item);
    }
    Ok(Parsed {
        format: format!("in-toto JSON Lines ({} attestations)", items.len()),
        items,
    })
}

fn read_item(kind: &str, v: &Value, raw: &[u8]) -> Result<(String, Item), AttestError> {
    let (format, container, payload) = match kind {
        "bundle" => {
            let b = Bundle::from_value(v)?;
            let format = bundle_label(b.media_type());
            let payload = b.dsse_payload().map(|(t, p)| (t.to_owned(), p.to_vec()));
            (
                format,
                Container::Bundle(Box::new(b), raw.to_vec()),
                payload,
            )
        }
        "envelope" => {
            let e = Envelope::from_value(v)?;
            let payload = Some((e.payload_type.clone(), e.payload.clone()));
            (
                "in-toto DSSE envelope".to_owned(),
                Container::Envelope(e),
                payload,
            )
        }
        _ => (
            "in-toto statement (unsigned)".to_owned(),
            Container::Bare,
            Some((IN_TOTO_PAYLOAD.to_owned(), raw.to_vec())),
        ),
    };
    let mut item = Item {
        message_digest: match &container {
            Container::Bundle(b, _) => b
                .message_digest()
                .map(|(alg, d)| (digest_alg(alg), hex::encode(d))),
            _ => None,
        },
        container,
        statement: None,
        model: None,
        provenance: None,
        warnings: vec![],
    };
    if let Some((ptype, payload)) = payload {
        if ptype != IN_TOTO_PAYLOAD {
            return Err(AttestError::Other(format!(
                "payloadType {ptype:?} is not in-toto ({IN_TOTO_PAYLOAD})"
            )));
        }
        let st = statement::parse(&payload)?;
        if st.predicate_type == model_signing::PREDICATE_V1
            || st.predicate_type == model_signing::PREDICATE_DIGESTS_V01
        {
            match model_signing::parse_payload(&payload) {
                Ok(m) => item.model = Some(m),
                Err(e) => item.warnings.push(format!("model signature payload: {e}")),
            }
        }
        match slsa::parse(&st.predicate_type, &st.predicate) {
            Some(Ok(p)) => item.provenance = Some(p),
            Some(Err(e)) => item.warnings.push(format!("SLSA provenance not read: {e}")),
            None => {}
        }
        item.statement = Some(st);
    }
    let format = match (&item.model, &item.statement) {
        (Some(_), _) => format!("OpenSSF model signature ({format})"),
        (None, Some(st)) if !matches!(item.container, Container::Bare) => {
            format!("{format}: {}", short_predicate(&st.predicate_type))
        }
        _ => format,
    };
    Ok((format, item))
}

/// A readable name for a predicate type.
pub fn short_predicate(t: &str) -> String {
    match t {
        slsa::PROVENANCE_V1 => "SLSA provenance v1".into(),
        slsa::PROVENANCE_V02 => "SLSA provenance v0.2".into(),
        crate::sign::VSA_V1 => "SLSA verification summary v1".into(),
        statement::LINK_PREDICATE_V03 => "in-toto link".into(),
        t => t.to_owned(),
    }
}

fn digest_alg(alg: &str) -> String {
    match alg {
        "SHA2_256" => "sha256".into(),
        "SHA2_384" => "sha384".into(),
        "SHA2_512" => "sha512".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// What the ledger knows about one ref a document names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// Its artifact's id.
    pub id: String,
    pub kind: Option<ArtifactKind>,
    /// `sha256:` refs of the artifact (its id or aliases).
    pub sha256s: Vec<String>,
    /// Package URLs it answers to.
    pub purls: Vec<String>,
    /// A model's registered `source`.
    pub source: Option<String>,
}

/// The ref a resource descriptor names in the ledger: its sha256 digest, else a
/// package URL in its name or uri.
fn refs_of(d: &ResourceDescriptor) -> (Option<String>, Option<String>) {
    let sha = d.digest.get("sha256").map(|h| format!("sha256:{h}"));
    let purl = [d.name.as_deref(), d.uri.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| s.starts_with("pkg:"))
        .find_map(|s| match s.parse::<Ref>() {
            Ok(r @ Ref::Purl(_)) => Some(r.to_string()),
            _ => None,
        });
    (sha, purl)
}

/// The source artifact of a git material or source: `source:<repo>@<commit>`, the
/// repository without its `git+` scheme prefix or `@ref` suffix (so a material and the
/// provenance's source name one artifact).
fn source_ref(repo: &str, commit: Option<&str>) -> Option<String> {
    let repo = repo.strip_prefix("git+").unwrap_or(repo);
    let repo = match repo.rsplit_once('@') {
        Some((r, _)) if r.contains("://") => r,
        _ => repo,
    };
    Ref::named(ArtifactKind::Source, repo, commit)
        .ok()
        .map(|r| r.to_string())
}

/// The builder artifact: `builder:<id>` (an `@ref` suffix becomes the version).
fn builder_ref(id: &str) -> Option<String> {
    let (name, version) = match id.rsplit_once('@') {
        Some((n, v)) if !n.is_empty() && !v.is_empty() => (n, Some(v)),
        _ => (id, None),
    };
    Ref::named(ArtifactKind::Builder, name, version)
        .or_else(|_| Ref::named(ArtifactKind::Builder, &id.replace('@', "%40"), None))
        .ok()
        .map(|r| r.to_string())
}

fn material_ref(d: &ResourceDescriptor) -> Option<(String, Option<ArtifactKind>)> {
    let (sha, purl) = refs_of(d);
    if let Some(s) = sha {
        return Some((s, None));
    }
    if let Some(p) = purl {
        return Some((p, Some(ArtifactKind::Package)));
    }
    let uri = d.uri.as_deref().or(d.name.as_deref())?;
    let commit = d.digest.get("gitCommit").or_else(|| d.digest.get("sha1"))?;
    uri.starts_with("git+")
        .then(|| source_ref(uri, Some(commit)))
        .flatten()
        .map(|r| (r, Some(ArtifactKind::Source)))
}

impl Item {
    /// The subjects: statement subjects, a model signature's model (by the manifest
    /// digest of its files), or a message signature's digest.
    fn subjects(&self) -> Vec<ResourceDescriptor> {
        if let Some(m) = &self.model {
            return match (model_signing::manifest_digest(m), m.resources.as_slice()) {
                (Some(d), _) => vec![ResourceDescriptor {
                    name: Some(m.model_name.clone()),
                    digest: BTreeMap::from([("sha256".to_owned(), d.hex())]),
                    ..ResourceDescriptor::default()
                }],
                // A single-file model (resource `.`): the file, by its own digest.
                (None, [one]) if one.name == "." && one.algorithm == "sha256" => {
                    vec![ResourceDescriptor {
                        name: Some(m.model_name.clone()),
                        digest: BTreeMap::from([("sha256".to_owned(), hex::encode(&one.digest))]),
                        ..ResourceDescriptor::default()
                    }]
                }
                (None, _) => vec![],
            };
        }
        if let Some(st) = &self.statement {
            return st.subjects.clone();
        }
        match &self.message_digest {
            Some((alg, hex)) => vec![ResourceDescriptor {
                digest: BTreeMap::from([(alg.clone(), hex.clone())]),
                ..ResourceDescriptor::default()
            }],
            None => vec![],
        }
    }
}

impl Parsed {
    /// Every ref the document names, for the caller to look up in the ledger.
    pub fn lookup_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for item in &self.items {
            for s in item.subjects() {
                let (sha, purl) = refs_of(&s);
                out.extend(sha);
                out.extend(purl);
            }
            if let Some(p) = &item.provenance {
                out.extend(
                    p.materials
                        .iter()
                        .filter_map(|m| material_ref(m).map(|r| r.0)),
                );
                out.extend(builder_ref(&p.builder_id));
                if let Some(s) = &p.source {
                    out.extend(source_ref(&s.repo, s.commit.as_deref()));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// One signature as judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerResult {
    /// `key`, `sigstore` or `certificate`.
    pub method: String,
    /// The policy's name for the signer, when the policy trusts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_as: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// A certificate's subject alternative name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// A Sigstore certificate's OIDC issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// SHA-256 of the signing certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The verified signing time (RFC 3339), from a transparency log or timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// Transparency-log indexes whose proofs verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_indexes: Vec<i64>,
    pub outcome: Outcome,
    pub reason: String,
}

impl SignerResult {
    fn new(method: &str, outcome: Outcome, reason: impl Into<String>) -> Self {
        SignerResult {
            method: method.into(),
            trusted_as: None,
            key_id: None,
            identity: None,
            issuer: None,
            certificate: None,
            signed_at: None,
            tlog_indexes: vec![],
            outcome,
            reason: reason.into(),
        }
    }
}

/// The SLSA facts of a provenance attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlsaFacts {
    /// The SLSA build level the policy grants: 1 when provenance exists, 2 when a
    /// trusted signer vouches for a builder the policy lists, 3 when that builder is
    /// marked hardened.
    pub level: u8,
    pub version: String,
    pub builder: String,
    pub build_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<String>,
    pub reason: String,
}

/// One attestation as judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemJudgement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The subjects' ledger ids (or their digests when they could not be linked).
    pub subjects: Vec<String>,
    pub signers: Vec<SignerResult>,
    pub outcome: Outcome,
    /// Unsigned (as opposed to signed by no trusted signer).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsigned: bool,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa: Option<SlsaFacts>,
    /// A short summary of an evaluation predicate (a test result's `result`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// A document as judged: what the ledger records in the attestation's `attestation`
/// attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub format: String,
    pub outcome: Outcome,
    pub reason: String,
    /// The policy that judged (`null`: the built-in empty policy).
    pub policy: Option<PolicyRef>,
    pub items: Vec<ItemJudgement>,
}

impl Judgement {
    /// Whether the policy (and `--require-verified`) lets the document be recorded;
    /// the error says why not.
    pub fn admit(&self, policy: &TrustPolicy, require_verified: bool) -> Result<(), String> {
        for (i, item) in self.items.iter().enumerate() {
            let at = if self.items.len() > 1 {
                format!("attestation {}: ", i + 1)
            } else {
                String::new()
            };
            let (action, case) = match item.outcome {
                Outcome::Verified => continue,
                Outcome::Failed => (policy.file.on.failed, "failed"),
                Outcome::Unverified if item.unsigned => (policy.file.on.unsigned, "unsigned"),
                Outcome::Unverified => (policy.file.on.untrusted, "untrusted"),
            };
            if require_verified {
                return Err(format!(
                    "{at}{} ({}); verification was required",
                    item.outcome, item.reason
                ));
            }
            if action == Action::Refuse {
                return Err(format!(
                    "{at}{} ({}); the policy{} refuses {case} documents",
                    item.outcome,
                    item.reason,
                    policy
                        .reference
                        .map(|r| format!(" of entry {}", r.seq))
                        .unwrap_or_default()
                ));
            }
        }
        Ok(())
    }
}

/// What to record for a document: its own artifact's attributes, the artifacts it
/// names and the edges, and warnings.
#[derive(Debug, Clone)]
pub struct Facts {
    pub judgement: Judgement,
    /// Attributes of the attestation artifact (`attestation`, `verification`).
    pub attrs: Map<String, Value>,
    /// A readable name for the attestation.
    pub name: String,
    pub artifacts: Vec<ArtifactFact>,
    /// Edges; `from` is `None` for edges from the attestation itself.
    pub edges: Vec<(Option<String>, EdgeKind, String)>,
    pub warnings: Vec<String>,
}

/// Judges a parsed document under `policy`, given what the ledger knows of the refs
/// it names (`known`, keyed by [`Parsed::lookup_keys`]).
pub fn judge(parsed: &Parsed, policy: &TrustPolicy, known: &HashMap<String, Known>) -> Facts {
    let mut b = FactBuilder::default();
    let mut items = Vec::new();
    for (i, item) in parsed.items.iter().enumerate() {
        let prefix = if parsed.items.len() > 1 {
            format!("line {}: ", i + 1)
        } else {
            String::new()
        };
        b.warnings
            .extend(item.warnings.iter().map(|w| format!("{prefix}{w}")));
        items.push(judge_item(item, policy, known, &mut b, &prefix));
    }
    let outcome = items
        .iter()
        .map(|i| i.outcome)
        .max()
        .unwrap_or(Outcome::Unverified);
    let reason = match items.as_slice() {
        [one] => one.reason.clone(),
        many => {
            let n = |o| many.iter().filter(|i| i.outcome == o).count();
            format!(
                "{} verified, {} unverified, {} failed",
                n(Outcome::Verified),
                n(Outcome::Unverified),
                n(Outcome::Failed)
            )
        }
    };
    let judgement = Judgement {
        format: parsed.format.clone(),
        outcome,
        reason,
        policy: policy.reference,
        items,
    };
    let mut attrs = Map::new();
    attrs.insert("verification".into(), Value::from(outcome.as_str()));
    if let Ok(v) = serde_json::to_value(&judgement) {
        attrs.insert("attestation".into(), v);
    }
    let name = match judgement
        .items
        .first()
        .and_then(|i| i.predicate_type.clone())
    {
        Some(t) => short_predicate(&t),
        None => "message signature".into(),
    };
    Facts {
        judgement,
        attrs,
        name,
        artifacts: b.artifacts.into_values().collect(),
        edges: b.edges,
        warnings: b.warnings,
    }
}

#[derive(Default)]
struct FactBuilder {
    artifacts: BTreeMap<String, ArtifactFact>,
    edges: Vec<(Option<String>, EdgeKind, String)>,
    warnings: Vec<String>,
}

impl FactBuilder {
    /// Records an artifact (once), returning its id: the known artifact's, or a new one.
    fn artifact(
        &mut self,
        id: &str,
        kind: ArtifactKind,
        name: Option<&str>,
        known: Option<&Known>,
        aliases: Vec<String>,
        attrs: Map<String, Value>,
    ) -> String {
        if let Some(k) = known {
            let fact = ArtifactFact {
                id: k.id.clone(),
                kind: k.kind.unwrap_or(kind),
                name: None,
                version: None,
                aliases: vec![],
                attrs: Map::new(),
            };
            self.artifacts.entry(k.id.clone()).or_insert(fact);
            return k.id.clone();
        }
        let mut fact = ArtifactFact {
            id: id.to_owned(),
            kind,
            name: name
                .filter(|n| !n.is_empty() && !n.starts_with("pkg:"))
                .map(str::to_owned),
            version: None,
            aliases,
            attrs,
        };
        if let Ok(Ref::Named { name, version, .. }) = id.parse::<Ref>() {
            fact.name = Some(name);
            fact.version = version;
        }
        if ailedger_core::identity::imply(&mut fact).is_err() {
            fact.name = None;
            fact.aliases.clear();
        }
        self.artifacts.entry(id.to_owned()).or_insert(fact);
        id.to_owned()
    }
}

/// The context the policy's scopes are matched against, for a subject.
fn context(
    known: Option<&Known>,
    guess: Option<ArtifactKind>,
    purl: Option<&str>,
) -> SubjectContext {
    match known {
        Some(k) => SubjectContext {
            kind: k.kind,
            purls: k.purls.clone(),
            source: k.source.clone(),
        },
        None => SubjectContext {
            kind: guess,
            purls: purl.map(str::to_owned).into_iter().collect(),
            source: None,
        },
    }
}

fn judge_item(
    item: &Item,
    policy: &TrustPolicy,
    known: &HashMap<String, Known>,
    b: &mut FactBuilder,
    prefix: &str,
) -> ItemJudgement {
    let subjects = item.subjects();
    // A model signature names a model (by its manifest), or one file of one.
    let guess = match &item.model {
        Some(m) if model_signing::manifest_digest(m).is_some() => Some(ArtifactKind::Model),
        Some(_) => Some(ArtifactKind::File),
        None => None,
    };
    // Subjects: their ids, contexts, and any digest that contradicts the ledger.
    let mut ids = Vec::new();
    let mut contexts = Vec::new();
    let mut mismatch = None;
    for (i, s) in subjects.iter().enumerate() {
        let (sha, purl) = refs_of(s);
        let by_purl = purl.as_ref().and_then(|p| known.get(p));
        let by_sha = sha.as_ref().and_then(|h| known.get(h));
        if let (Some(k), Some(h)) = (by_purl, &sha)
            && !k.sha256s.is_empty()
            && !k.sha256s.contains(h)
        {
            mismatch = Some(format!(
                "subject {i} digest mismatch: {} is recorded with {}, the attestation names {h}",
                k.id,
                k.sha256s.join(", ")
            ));
        }
        let kind_guess = guess.or(purl.as_ref().map(|_| ArtifactKind::Package));
        contexts.push(context(by_purl.or(by_sha), kind_guess, purl.as_deref()));
        let k = by_purl.or(by_sha);
        let id = match (&sha, &purl) {
            (Some(h), p) => Some(
                b.artifact(
                    h,
                    k.and_then(|k| k.kind)
                        .or(kind_guess)
                        .unwrap_or(ArtifactKind::File),
                    s.name.as_deref(),
                    k,
                    p.iter().cloned().collect(),
                    Map::new(),
                ),
            ),
            (None, Some(p)) => {
                Some(b.artifact(p, ArtifactKind::Package, None, k, vec![], Map::new()))
            }
            (None, None) => {
                b.warnings.push(format!(
                    "{prefix}subject {i} ({}) has no sha256 digest or package URL; not linked",
                    s.name.as_deref().unwrap_or("unnamed")
                ));
                None
            }
        };
        if let Some(id) = id {
            b.edges.push((None, EdgeKind::Attests, id.clone()));
            ids.push(id);
        }
    }
    if let Some(m) = &item.model
        && subjects.is_empty()
    {
        let why = if m.method != model_signing::Serialization::Files {
            "a shard-serialised model signature names no file digests"
        } else if m.hash_type != "sha256" {
            "a model signature with other digests than SHA-256 gives no manifest"
        } else {
            "a model signature whose names are not manifest paths gives no manifest"
        };
        b.warnings.push(format!(
            "{prefix}{why}, so it is not linked to a model; verify it with `ailedger verify model`"
        ));
    }
    let (mut signers, unsigned) = verify_signers(item, policy);
    // Trust: a verified signer the policy trusts for every subject.
    for s in &mut signers {
        if s.outcome != Outcome::Verified {
            continue;
        }
        let Some(name) = s.trusted_as.clone() else {
            continue;
        };
        let scope = scope_of(policy, &name);
        if let Some((i, c)) = contexts
            .iter()
            .enumerate()
            .find(|(_, c)| !scope.is_some_and(|sc| sc.admits(c)))
        {
            s.outcome = Outcome::Unverified;
            s.reason = format!(
                "{}; but {name} is not trusted for subject {i} ({}{})",
                s.reason,
                c.kind
                    .map_or("not in the ledger".to_owned(), |k| k.to_string()),
                c.purls
                    .first()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default()
            );
            s.trusted_as = None;
        }
    }
    let trusted: Vec<&str> = signers
        .iter()
        .filter(|s| s.outcome == Outcome::Verified)
        .filter_map(|s| s.trusted_as.as_deref())
        .collect();
    let (outcome, reason) = if let Some(m) = mismatch {
        (Outcome::Failed, m)
    } else if let Some(f) = signers.iter().find(|s| s.outcome == Outcome::Failed) {
        (Outcome::Failed, f.reason.clone())
    } else if !trusted.is_empty() {
        (
            Outcome::Verified,
            signers
                .iter()
                .find(|s| s.outcome == Outcome::Verified)
                .map(|s| s.reason.clone())
                .unwrap_or_default(),
        )
    } else if unsigned {
        (
            Outcome::Unverified,
            "unsigned: recorded as an unverified claim".into(),
        )
    } else {
        (
            Outcome::Unverified,
            signers
                .first()
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| "no signature".into()),
        )
    };
    // Provenance: built-from materials and source, built-by builder, SLSA level.
    let slsa = item
        .provenance
        .as_ref()
        .map(|p| provenance_facts(p, policy, known, b, &ids, outcome, &trusted, prefix));
    let result = item.statement.as_ref().and_then(|st| {
        st.predicate
            .get("result")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    ItemJudgement {
        predicate_type: item.statement.as_ref().map(|s| s.predicate_type.clone()),
        subjects: ids,
        signers,
        outcome,
        unsigned,
        reason,
        slsa,
        result,
    }
}

#[allow(clippy::too_many_arguments)]
fn provenance_facts(
    p: &slsa::Provenance,
    policy: &TrustPolicy,
    known: &HashMap<String, Known>,
    b: &mut FactBuilder,
    subjects: &[String],
    outcome: Outcome,
    trusted: &[&str],
    prefix: &str,
) -> SlsaFacts {
    let mut consumed = Vec::new();
    for (i, m) in p.materials.iter().enumerate() {
        match material_ref(m) {
            Some((r, kind)) => {
                let id = b.artifact(
                    &r,
                    kind.unwrap_or(ArtifactKind::File),
                    m.name.as_deref().or(m.uri.as_deref()),
                    known.get(&r),
                    vec![],
                    Map::new(),
                );
                consumed.push((EdgeKind::BuiltFrom, id));
            }
            None => b.warnings.push(format!(
                "{prefix}material {i} ({}) has no sha256 digest, package URL or git commit; not linked",
                m.uri.as_deref().or(m.name.as_deref()).unwrap_or("unnamed")
            )),
        }
    }
    if let Some(s) = &p.source
        && let Some(r) = source_ref(&s.repo, s.commit.as_deref())
    {
        let mut attrs = Map::new();
        attrs.insert("repository".into(), Value::from(s.repo.clone()));
        if let Some(c) = &s.commit {
            attrs.insert("commit".into(), Value::from(c.clone()));
        }
        let id = b.artifact(&r, ArtifactKind::Source, None, known.get(&r), vec![], attrs);
        consumed.push((EdgeKind::BuiltFrom, id));
    }
    match builder_ref(&p.builder_id) {
        Some(r) => {
            let mut attrs = Map::new();
            attrs.insert("builder_id".into(), Value::from(p.builder_id.clone()));
            let id = b.artifact(
                &r,
                ArtifactKind::Builder,
                None,
                known.get(&r),
                vec![],
                attrs,
            );
            consumed.push((EdgeKind::BuiltBy, id));
        }
        None => b.warnings.push(format!(
            "{prefix}builder id {:?} cannot be a ref; not linked",
            p.builder_id
        )),
    }
    consumed.sort();
    consumed.dedup();
    for s in subjects {
        for (edge, to) in &consumed {
            if s != to {
                b.edges.push((Some(s.clone()), *edge, to.clone()));
            }
        }
    }
    // The level the policy grants.
    let rule = policy
        .file
        .builders
        .iter()
        .zip(&policy.builders)
        .find(|(_, m)| m.matches(&p.builder_id))
        .map(|(r, _)| r);
    let (level, reason) = match (outcome, rule) {
        (Outcome::Verified, Some(r)) => {
            let vouching = trusted
                .iter()
                .find(|t| r.signers.is_empty() || r.signers.iter().any(|s| s == *t));
            match vouching {
                Some(t) if r.hardened => (
                    3,
                    format!(
                        "signed by {t}; the policy marks builder {} hardened",
                        p.builder_id
                    ),
                ),
                Some(t) => (
                    2,
                    format!("signed by {t}, for a hosted builder the policy trusts"),
                ),
                None => (
                    1,
                    format!(
                        "provenance exists; builder {} must be vouched for by {}",
                        p.builder_id,
                        r.signers.join(" or ")
                    ),
                ),
            }
        }
        (Outcome::Verified, None) => (
            1,
            format!(
                "provenance exists; the policy lists no builder {}",
                p.builder_id
            ),
        ),
        (o, _) => (1, format!("provenance exists but is {o}")),
    };
    SlsaFacts {
        level,
        version: match p.slsa_version {
            slsa::SlsaVersion::V1 => "v1".into(),
            slsa::SlsaVersion::V02 => "v0.2".into(),
        },
        builder: p.builder_id.clone(),
        build_type: p.build_type.clone(),
        source_repo: p.source.as_ref().map(|s| s.repo.clone()),
        source_commit: p.source.as_ref().and_then(|s| s.commit.clone()),
        source_ref: p.source.as_ref().and_then(|s| s.git_ref.clone()),
        invocation: p.invocation_id.clone(),
        reason,
    }
}

/// The scope of the policy signer named `name`.
fn scope_of<'a>(policy: &'a TrustPolicy, name: &str) -> Option<&'a crate::policy::Scope> {
    let f = &policy.file;
    f.keys
        .iter()
        .find(|k| k.name == name)
        .map(|k| &k.scope)
        .or_else(|| {
            f.identities
                .iter()
                .find(|k| k.name == name)
                .map(|k| &k.scope)
        })
        .or_else(|| {
            f.certificate_authorities
                .iter()
                .find(|k| k.name == name)
                .map(|k| &k.scope)
        })
}

fn rfc3339(unix: i64) -> Option<String> {
    ailedger_core::entry::format_time(unix.checked_mul(1_000_000)?).into()
}

/// Verifies an item's signatures; the second value says it carries none.
fn verify_signers(item: &Item, policy: &TrustPolicy) -> (Vec<SignerResult>, bool) {
    match &item.container {
        Container::Bare => (vec![], true),
        Container::Envelope(env) => {
            if env.signatures.is_empty() {
                return (vec![], true);
            }
            (envelope_signers(env, policy), false)
        }
        Container::Bundle(bundle, raw) => (vec![bundle_signer(bundle, raw, item, policy)], false),
    }
}

fn envelope_signers(env: &Envelope, policy: &TrustPolicy) -> Vec<SignerResult> {
    let known_ids: Vec<String> = policy.keys.iter().map(PublicKey::keyid).collect();
    env.verify(&policy.keys)
        .into_iter()
        .filter_map(|check| {
            let mut r = match &check.outcome {
                SigOutcome::Verified {
                    key_index, keyid, ..
                } => {
                    let name = policy.file.keys.get(*key_index).map(|k| k.name.clone());
                    let mut r = SignerResult::new(
                        "key",
                        Outcome::Verified,
                        format!("{check} ({})", name.as_deref().unwrap_or("?")),
                    );
                    r.trusted_as = name;
                    r.key_id = Some(keyid.clone());
                    r
                }
                SigOutcome::DuplicateSignature { .. } | SigOutcome::DuplicateKey { .. } => {
                    return None;
                }
                SigOutcome::Failed(SigFailure::BadSignature { keyid, .. }) => {
                    let mut r = SignerResult::new("key", Outcome::Failed, check.to_string());
                    r.key_id = Some(keyid.clone());
                    r
                }
                SigOutcome::Failed(SigFailure::NoKeys) => SignerResult::new(
                    "key",
                    Outcome::Unverified,
                    format!(
                        "signatures[{}]: the policy holds no keys to check it{}",
                        check.index,
                        check
                            .keyid_hint
                            .as_deref()
                            .map(|k| format!(" (key id {k})"))
                            .unwrap_or_default()
                    ),
                ),
                SigOutcome::Failed(_) => {
                    SignerResult::new("key", Outcome::Unverified, check.to_string())
                }
            };
            if r.key_id.is_none() {
                r.key_id = check.keyid_hint.clone();
            }
            // A failure against a key the policy holds is tampering; against an unknown
            // key id it only means the signer is not trusted.
            if r.outcome == Outcome::Failed
                && !r.key_id.as_ref().is_some_and(|k| known_ids.contains(k))
            {
                r.outcome = Outcome::Unverified;
            }
            Some(r)
        })
        .collect()
}

fn bundle_signer(bundle: &Bundle, raw: &[u8], item: &Item, policy: &TrustPolicy) -> SignerResult {
    use sigstore::{ArtifactInput, Material, Signer, VerifyOptions};
    let no_log = bundle.tlog_entries.is_empty() && bundle.rfc3161_timestamps.is_empty();
    // Model-signing certificate mode: a private CA's certificate, no log.
    if no_log && matches!(bundle.material, Material::Certificates(_)) {
        return certificate_signer(raw, item, policy);
    }
    // Model-signing key mode (no log; model-signing before 1.0 signed another PAE).
    if no_log && item.model.is_some() && matches!(bundle.material, Material::PublicKey { .. }) {
        return model_key_signer(raw, bundle, policy);
    }
    let digest;
    let mut opts = VerifyOptions::new(&policy.root);
    opts.keys = &policy.keys;
    opts.require_tlog = !(no_log && matches!(bundle.material, Material::PublicKey { .. }));
    if let Some((alg, d)) = bundle.message_digest() {
        digest = (alg.to_owned(), d.to_vec());
        opts.artifact = Some(ArtifactInput::Digest {
            algorithm: &digest.0,
            digest: &digest.1,
        });
    }
    let v = match sigstore::verify(bundle, &opts) {
        Ok(v) => v,
        Err(e) => {
            let method = match bundle.material {
                Material::PublicKey { .. } => "key",
                Material::Certificates(_) => "sigstore",
            };
            // A key bundle whose key the policy does not hold is untrusted, not failed:
            // only a key the policy holds can show tampering.
            let held = match &bundle.material {
                Material::PublicKey { hint: Some(h) } => policy
                    .keys
                    .iter()
                    .any(|k| k.keyid() == *h || model_signing::key_hint(k) == *h),
                Material::PublicKey { hint: None } => false,
                Material::Certificates(_) => true,
            };
            let outcome = if e.is_unsupported() || !held {
                Outcome::Unverified
            } else {
                Outcome::Failed
            };
            let reason = if held {
                e.to_string()
            } else {
                format!("signed by a key the policy does not hold ({e})")
            };
            let mut r = SignerResult::new(method, outcome, reason);
            if let Material::PublicKey { hint } = &bundle.material {
                r.key_id = hint.clone();
            }
            return r;
        }
    };
    let mut r = match &v.signer {
        Signer::Key { keyid, .. } => {
            let idx = policy.keys.iter().position(|k| k.keyid() == *keyid);
            let name = idx
                .and_then(|i| policy.file.keys.get(i))
                .map(|k| k.name.clone());
            let mut r = SignerResult::new(
                "key",
                Outcome::Verified,
                format!(
                    "verified by key {keyid} ({})",
                    name.as_deref().unwrap_or("?")
                ),
            );
            r.key_id = Some(keyid.clone());
            r.trusted_as = name;
            r
        }
        Signer::Certificate(c) => {
            let san = c.san.clone().unwrap_or_default();
            let issuer = c.issuer.clone().unwrap_or_default();
            let name = policy
                .identities
                .iter()
                .zip(&policy.file.identities)
                .find(|(p, _)| p.san.matches(&san) && p.issuer.matches(&issuer))
                .map(|(_, r)| r.name.clone());
            let mut r = match &name {
                Some(n) => SignerResult::new(
                    "sigstore",
                    Outcome::Verified,
                    format!(
                        "Sigstore certificate of {san} ({issuer}) verified offline: chain, SCT, transparency log; trusted as {n}"
                    ),
                ),
                None => SignerResult::new(
                    "sigstore",
                    Outcome::Unverified,
                    format!(
                        "Sigstore certificate of {san} ({issuer}) verified offline, but no identity of the policy trusts it"
                    ),
                ),
            };
            r.identity = Some(san);
            r.issuer = Some(issuer);
            r.certificate = Some(c.fingerprint_sha256.clone());
            r.trusted_as = name;
            r
        }
    };
    r.signed_at = v.signed_at.and_then(rfc3339);
    r.tlog_indexes = v.tlog_entries.iter().map(|t| t.log_index).collect();
    r
}

/// Model-signing key mode: a key of the policy must verify the signature.
fn model_key_signer(raw: &[u8], bundle: &Bundle, policy: &TrustPolicy) -> SignerResult {
    let hint = match &bundle.material {
        sigstore::Material::PublicKey { hint } => hint.clone(),
        sigstore::Material::Certificates(_) => None,
    };
    let mut held = None;
    for (k, rule) in policy.keys.iter().zip(&policy.file.keys) {
        let matches_hint = hint
            .as_ref()
            .is_some_and(|h| *h == k.keyid() || *h == model_signing::key_hint(k));
        match model_signing::verify_signature(raw, &model_signing::ModelVerifier::Key(k)) {
            Ok(v) => {
                let mut r = SignerResult::new(
                    "key",
                    Outcome::Verified,
                    format!(
                        "model signature verified by key {} ({}){}",
                        k.keyid(),
                        rule.name,
                        if v.compat_pae {
                            ", over model-signing's pre-1.0 PAE"
                        } else {
                            ""
                        }
                    ),
                );
                r.key_id = Some(k.keyid());
                r.trusted_as = Some(rule.name.clone());
                return r;
            }
            Err(e) if matches_hint => held = Some((k.keyid(), e.to_string())),
            Err(_) => {}
        }
    }
    let mut r = match held {
        Some((keyid, e)) => {
            let mut r = SignerResult::new(
                "key",
                Outcome::Failed,
                format!("does not verify with key {keyid}: {e}"),
            );
            r.key_id = Some(keyid);
            return r;
        }
        None => SignerResult::new(
            "key",
            Outcome::Unverified,
            format!(
                "signed by a key the policy does not hold{}",
                hint.as_deref()
                    .map(|h| format!(" (key hint {h})"))
                    .unwrap_or_default()
            ),
        ),
    };
    r.key_id = hint;
    r
}

/// Model-signing certificate mode: the leaf must chain to a policy authority.
fn certificate_signer(raw: &[u8], item: &Item, policy: &TrustPolicy) -> SignerResult {
    if item.model.is_none() {
        return SignerResult::new(
            "certificate",
            Outcome::Unverified,
            "a certificate bundle without a transparency-log entry or timestamp cannot be verified as Sigstore",
        );
    }
    let mut last = None;
    for (anchors, rule) in policy
        .authorities
        .iter()
        .zip(&policy.file.certificate_authorities)
    {
        match model_signing::verify_signature(
            raw,
            &model_signing::ModelVerifier::Certificate { anchors },
        ) {
            Ok(v) => {
                let mut r = SignerResult::new(
                    "certificate",
                    Outcome::Verified,
                    format!("certificate chains to authority {}", rule.name),
                );
                if let model_signing::ModelSigner::Certificate {
                    subject,
                    sans,
                    fingerprint_sha256,
                    ..
                } = v.signer
                {
                    r.identity = sans.first().cloned().or(Some(subject));
                    r.certificate = Some(fingerprint_sha256);
                }
                r.trusted_as = Some(rule.name.clone());
                return r;
            }
            Err(e) => last = Some(e.to_string()),
        }
    }
    SignerResult::new(
        "certificate",
        Outcome::Unverified,
        match last {
            Some(e) => format!("the certificate chains to no authority of the policy: {e}"),
            None => {
                "a certificate-mode signature, and the policy holds no certificate authority".into()
            }
        },
    )
}

/// Edges as [`EdgeFact`]s, with the attestation's own id filled in.
pub fn edge_facts(
    edges: &[(Option<String>, EdgeKind, String)],
    attestation: &str,
) -> Vec<EdgeFact> {
    let mut out: Vec<EdgeFact> = edges
        .iter()
        .map(|(from, kind, to)| {
            EdgeFact::new(from.as_deref().unwrap_or(attestation), *kind, to.clone())
        })
        .filter(|e| e.from != e.to)
        .collect();
    EdgeFact::sort_and_merge(&mut out);
    out
}

/// What a SLSA verification summary says, given the judgements of an artifact's
/// attestations (`outcome`, SLSA level where provenance): PASSED when at least one
/// attestation is verified and none failed, with the highest SLSA build level a
/// verified provenance reached (`SLSA_BUILD_LEVEL_<n>`).
pub fn vsa_verdict(judged: &[(Outcome, Option<u8>)]) -> (bool, Vec<String>) {
    let failed = judged.iter().any(|(o, _)| *o == Outcome::Failed);
    let verified = judged.iter().any(|(o, _)| *o == Outcome::Verified);
    let level = judged
        .iter()
        .filter(|(o, _)| *o == Outcome::Verified)
        .filter_map(|(_, l)| *l)
        .max();
    let passed = verified && !failed;
    let levels = match (passed, level) {
        (true, Some(l)) => vec![format!("SLSA_BUILD_LEVEL_{l}")],
        _ => vec![],
    };
    (passed, levels)
}

/// Body of the `attest_judge` fuzz target: reads `data` as signed provenance, names
/// its lookup keys, judges it under the built-in empty policy with nothing known, and
/// asks whether it would be admitted. Must never panic.
pub fn fuzz_detect(data: &[u8]) {
    let Some(Ok(parsed)) = detect(data) else {
        return;
    };
    let _ = parsed.lookup_keys();
    let Ok(policy) = TrustPolicy::empty() else {
        return;
    };
    let facts = judge(&parsed, &policy, &HashMap::new());
    let _ = facts.judgement.admit(&policy, false);
    let _ = facts.judgement.admit(&policy, true);
    let _ = edge_facts(
        &facts.edges,
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    );
}
