//! Offline verification of Sigstore bundles (v0.1, v0.2, v0.3) against a trusted root
//! and an identity policy.
//!
//! [`verify`] checks, in order: the signer (a Fulcio certificate chained to a CA of the
//! trusted root valid at signing time, code-signing EKU, embedded SCT from a trusted CT
//! log — or a public key the caller trusts), every transparency-log entry (body matches
//! the bundle, signed entry timestamp, RFC 6962 inclusion proof, signed checkpoint),
//! every RFC 3161 timestamp, the identity policy, and the signature over the artifact
//! or the DSSE PAE. See `docs/sigstore.md`.

mod bundle;
mod cert;
mod crypto;
mod der_util;
mod json;
mod tlog;
mod trusted_root;
mod tsa;

pub use bundle::{
    Bundle, BundleVersion, Content, DsseContent, InclusionProof, Material, TlogEntry,
};
pub use cert::{CertInfo, verify_chain};
pub use tlog::TlogInfo;
pub use trusted_root::{CertAuthority, LogKey, TrustedRoot, Window};
pub use tsa::TimestampInfo;

use cert::Cert;
use der_util::fmt_time;

/// Bundles and trusted roots larger than this are refused before parsing.
pub const MAX_BUNDLE_BYTES: usize = 10 * 1024 * 1024;

/// Why a bundle did not verify. Messages name the field or step at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigstoreError {
    #[error("input is {size} bytes, over the 10 MB limit")]
    TooLarge { size: usize },
    /// Malformed input, named by its JSON path.
    #[error("{field}: {reason}")]
    Field { field: String, reason: String },
    /// A feature this verifier does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("SCT: {0}")]
    Sct(String),
    #[error("tlog entry {index}: {reason}")]
    Tlog { index: usize, reason: String },
    #[error("timestamp {index}: {reason}")]
    Timestamp { index: usize, reason: String },
    #[error("signature: {0}")]
    Signature(String),
    #[error("artifact: {0}")]
    Artifact(String),
    #[error("identity: {0}")]
    Identity(String),
    #[error("public key: {0}")]
    Key(String),
}

impl SigstoreError {
    /// Whether this is a feature gap rather than a verification failure.
    pub fn is_unsupported(&self) -> bool {
        match self {
            SigstoreError::Unsupported(_) => true,
            SigstoreError::Field { reason: m, .. }
            | SigstoreError::Certificate(m)
            | SigstoreError::Sct(m)
            | SigstoreError::Tlog { reason: m, .. }
            | SigstoreError::Timestamp { reason: m, .. }
            | SigstoreError::Signature(m)
            | SigstoreError::Key(m) => m.contains("unsupported:"),
            _ => false,
        }
    }
}

/// How a string in the certificate must match.
#[derive(Debug, Clone)]
pub enum Matcher {
    Exact(String),
    /// Matched against the whole string (the pattern is anchored by [`Matcher::regex`]).
    Regex(regex::Regex),
}

impl Matcher {
    /// A regex matcher anchored at both ends.
    pub fn regex(pattern: &str) -> Result<Self, regex::Error> {
        Ok(Matcher::Regex(
            regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                .size_limit(1 << 20)
                .build()?,
        ))
    }

    pub fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(e) => e == s,
            Matcher::Regex(r) => r
                .find(s)
                .is_some_and(|m| m.start() == 0 && m.end() == s.len()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Matcher::Exact(e) => format!("{e:?}"),
            Matcher::Regex(r) => format!("/{}/", r.as_str()),
        }
    }
}

/// A certificate identity to accept: SAN and OIDC issuer.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    pub san: Matcher,
    pub issuer: Matcher,
}

/// The artifact a message-signature bundle signs.
#[derive(Debug, Clone, Copy)]
pub enum ArtifactInput<'a> {
    Bytes(&'a [u8]),
    /// A digest computed elsewhere; `algorithm` is `sha256` or `SHA2_256`.
    Digest {
        algorithm: &'a str,
        digest: &'a [u8],
    },
}

/// What to verify against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    pub trusted_root: &'a TrustedRoot,
    /// Accepted certificate identities; empty accepts any (the identity is reported).
    pub identities: &'a [IdentityPolicy],
    /// Keys for public-key bundles.
    pub keys: &'a [crate::keys::PublicKey],
    /// Required for message-signature bundles.
    pub artifact: Option<ArtifactInput<'a>>,
    /// Require at least one transparency-log entry (default true).
    pub require_tlog: bool,
}

impl<'a> VerifyOptions<'a> {
    /// Options with no identity constraint, no keys, no artifact, tlog required.
    pub fn new(trusted_root: &'a TrustedRoot) -> Self {
        VerifyOptions {
            trusted_root,
            identities: &[],
            keys: &[],
            artifact: None,
            require_tlog: true,
        }
    }
}

/// Who signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    Certificate(CertInfo),
    /// A caller-given key; `keyid` is its securesystemslib key id.
    Key {
        keyid: String,
        hint: Option<String>,
    },
}

/// Where [`Verified::signed_at`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSource {
    /// `integratedTime` of a tlog entry whose SET verified.
    TlogIntegratedTime { log_index: i64 },
    /// A verified RFC 3161 timestamp.
    Timestamp { tsa_uri: String },
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub media_type: String,
    pub signer: Signer,
    /// The earliest verified signing time (Unix seconds); `None` only for key bundles
    /// without log entries or timestamps.
    pub signed_at: Option<i64>,
    pub time_source: Option<TimeSource>,
    pub tlog_entries: Vec<TlogInfo>,
    pub timestamps: Vec<TimestampInfo>,
    /// Hex ids of the CT logs whose SCT verified (certificate bundles).
    pub sct_logs: Vec<String>,
    /// The verified envelope of a DSSE bundle; the caller parses its payload.
    pub dsse: Option<crate::dsse::Envelope>,
    /// The artifact digest a message-signature bundle signs: `(algorithm, digest)`.
    pub message_digest: Option<(String, Vec<u8>)>,
}

/// Verifies `bundle` fully offline. See the module documentation for the steps.
pub fn verify(bundle: &Bundle, opts: &VerifyOptions<'_>) -> Result<Verified, SigstoreError> {
    let root = opts.trusted_root;

    // The signed content and what the log must have recorded about it.
    let (signature, message, pae_sha256, artifact_sha256, message_digest) = match &bundle.content {
        Content::MessageSignature { digest, signature } => {
            let Some(artifact) = opts.artifact else {
                return Err(SigstoreError::Artifact(
                    "a message-signature bundle needs the artifact (bytes or digest)".into(),
                ));
            };
            if let Some((alg, _)) = digest
                && alg != "SHA2_256"
            {
                return Err(SigstoreError::Unsupported(format!(
                    "messageSignature.messageDigest.algorithm {alg}"
                )));
            }
            let (sha, bytes) = match artifact {
                ArtifactInput::Bytes(b) => (crypto::sha256(b), Some(b)),
                ArtifactInput::Digest { algorithm, digest } => {
                    if !matches!(algorithm, "sha256" | "SHA2_256" | "sha2-256") {
                        return Err(SigstoreError::Unsupported(format!(
                            "artifact digest algorithm {algorithm}"
                        )));
                    }
                    let d: [u8; 32] = digest.try_into().map_err(|_| {
                        SigstoreError::Artifact("a SHA-256 digest is 32 bytes".into())
                    })?;
                    (d, None)
                }
            };
            if let Some((_, d)) = digest
                && d.as_slice() != sha
            {
                return Err(SigstoreError::Artifact(format!(
                    "SHA-256 {} ≠ messageSignature.messageDigest {}",
                    hex::encode(sha),
                    hex::encode(d)
                )));
            }
            (
                signature.as_slice(),
                bytes.map(<[u8]>::to_vec),
                None,
                Some(sha),
                Some(("SHA2_256".to_string(), sha.to_vec())),
            )
        }
        Content::Dsse(env) => {
            let [(_, sig)] = env.signatures.as_slice() else {
                return Err(SigstoreError::Field {
                    field: "dsseEnvelope.signatures".into(),
                    reason: format!(
                        "a Sigstore DSSE envelope has exactly one signature, this one has {}",
                        env.signatures.len()
                    ),
                });
            };
            let pae = crate::dsse::pae(&env.payload_type, &env.payload);
            let h = crypto::sha256(&pae);
            (sig.as_slice(), Some(pae), Some(h), None, None)
        }
    };

    // The signer's material.
    let (leaf, key_signer) = match &bundle.material {
        Material::Certificates(certs) => {
            let Some((first, rest)) = certs.split_first() else {
                return Err(SigstoreError::Certificate(
                    "the bundle has no certificate".into(),
                ));
            };
            let leaf =
                Cert::parse(first).map_err(|e| SigstoreError::Certificate(format!("leaf: {e}")))?;
            (Some((leaf, rest)), None)
        }
        Material::PublicKey { hint } => {
            if opts.keys.is_empty() {
                return Err(SigstoreError::Key(
                    "the bundle names a public key (hint) but no keys were given".into(),
                ));
            }
            let found = opts
                .keys
                .iter()
                .find(|k| match (message.as_deref(), artifact_sha256) {
                    (Some(m), _) => k.verify(m, signature).is_ok(),
                    (None, Some(d)) => crypto::Key::from_spki_der(k.spki_der())
                        .is_ok_and(|key| key.verify_prehash(&d, signature).is_ok()),
                    (None, None) => false,
                });
            let Some(k) = found else {
                return Err(SigstoreError::Signature(format!(
                    "does not verify with any of the {} given key(s){}",
                    opts.keys.len(),
                    hint.as_ref()
                        .map(|h| format!(" (bundle key hint {h:?})"))
                        .unwrap_or_default()
                )));
            };
            (None, Some((k, hint.clone())))
        }
    };
    let signer_der: Vec<u8> = match (&leaf, &key_signer) {
        (Some((l, _)), _) => l.der.clone(),
        (_, Some((k, _))) => k.spki_der().to_vec(),
        _ => Vec::new(),
    };

    // Transparency log entries.
    if opts.require_tlog && bundle.tlog_entries.is_empty() {
        return Err(SigstoreError::Tlog {
            index: 0,
            reason: "the bundle has no transparency log entry".into(),
        });
    }
    let expect = tlog::Expect {
        content: &bundle.content,
        artifact_sha256,
        pae_sha256,
        signer_der: &signer_der,
        signer_is_cert: leaf.is_some(),
    };
    let mut tlog_entries = Vec::new();
    for (i, e) in bundle.tlog_entries.iter().enumerate() {
        let info = tlog::verify_entry(i, e, bundle.version, root, &expect)
            .map_err(|reason| SigstoreError::Tlog { index: i, reason })?;
        tlog_entries.push(info);
    }

    // RFC 3161 timestamps.
    let mut timestamps = Vec::new();
    for (i, ts) in bundle.rfc3161_timestamps.iter().enumerate() {
        let info = tsa::verify_timestamp(ts, signature, root)
            .map_err(|reason| SigstoreError::Timestamp { index: i, reason })?;
        timestamps.push(info);
    }

    // Verified signing times.
    let mut times: Vec<(i64, TimeSource)> = Vec::new();
    for t in &tlog_entries {
        if let Some(it) = t.integrated_time {
            times.push((
                it,
                TimeSource::TlogIntegratedTime {
                    log_index: t.log_index,
                },
            ));
        }
    }
    for t in &timestamps {
        times.push((
            t.time,
            TimeSource::Timestamp {
                tsa_uri: t.tsa_uri.clone(),
            },
        ));
    }
    times.sort_by_key(|(t, _)| *t);

    let mut sct_logs = Vec::new();
    let signer = if let Some((leaf, bundled_chain)) = &leaf {
        if times.is_empty() {
            return Err(SigstoreError::Certificate(
                "no verified signing time (no signed entry timestamp, no RFC 3161 timestamp) to check the certificate at".into(),
            ));
        }
        let issuer = verify_fulcio(leaf, bundled_chain, root, &times)?;
        sct_logs = cert::verify_scts(leaf, &issuer, &root.ctlogs).map_err(SigstoreError::Sct)?;
        let info = leaf.info(&[&issuer]).map_err(SigstoreError::Certificate)?;
        check_identity(&info, opts.identities)?;
        // The signature itself.
        let key = leaf
            .key()
            .map_err(|e| SigstoreError::Certificate(format!("leaf key: {e}")))?;
        match (&message, artifact_sha256) {
            (Some(m), _) => key.verify(key.default_hash(), false, m, signature),
            (None, Some(d)) => key.verify_prehash(&d, signature),
            (None, None) => Err("nothing to verify the signature over".into()),
        }
        .map_err(|e| {
            if e.starts_with("unsupported:") {
                SigstoreError::Unsupported(e.trim_start_matches("unsupported: ").into())
            } else {
                SigstoreError::Signature(e)
            }
        })?;
        Signer::Certificate(info)
    } else if let Some((k, hint)) = key_signer {
        if !opts.identities.is_empty() {
            // A key has no certificate identity: the policy cannot be met by a key bundle.
            return Err(SigstoreError::Identity(
                "the bundle is signed by a public key, not a certificate identity".into(),
            ));
        }
        Signer::Key {
            keyid: k.keyid(),
            hint,
        }
    } else {
        return Err(SigstoreError::Key("no signer".into()));
    };

    let dsse = match &bundle.content {
        Content::Dsse(env) => Some(crate::dsse::Envelope {
            payload_type: env.payload_type.clone(),
            payload: env.payload.clone(),
            signatures: env
                .signatures
                .iter()
                .map(|(keyid, sig)| crate::dsse::Signature {
                    keyid: keyid.clone(),
                    sig: sig.clone(),
                })
                .collect(),
        }),
        Content::MessageSignature { .. } => None,
    };
    let (signed_at, time_source) = match times.into_iter().next() {
        Some((t, s)) => (Some(t), Some(s)),
        None => (None, None),
    };
    Ok(Verified {
        media_type: bundle.media_type.clone(),
        signer,
        signed_at,
        time_source,
        tlog_entries,
        timestamps,
        sct_logs,
        dsse,
        message_digest,
    })
}

/// The leaf chains to a Fulcio CA of the trusted root at every verified time; returns the
/// leaf's issuer (for the SCT's issuer key hash).
fn verify_fulcio(
    leaf: &Cert,
    bundled_chain: &[Vec<u8>],
    root: &TrustedRoot,
    times: &[(i64, TimeSource)],
) -> Result<Cert, SigstoreError> {
    use SigstoreError::Certificate as E;
    cert::check_leaf(leaf).map_err(E)?;
    cert::code_signing(leaf).map_err(E)?;
    // A bundle must not carry a root: trust comes from the trusted root only.
    let anchors: Vec<&[u8]> = root
        .certificate_authorities
        .iter()
        .filter_map(|ca| ca.chain.last().map(Vec::as_slice))
        .collect();
    for (i, der) in bundled_chain.iter().enumerate() {
        let c = Cert::parse(der)
            .map_err(|e| E(format!("x509CertificateChain.certificates[{}]: {e}", i + 1)))?;
        if anchors.contains(&der.as_slice())
            || c.cert.tbs_certificate.subject == c.cert.tbs_certificate.issuer
        {
            return Err(E(format!(
                "x509CertificateChain.certificates[{}] is a root certificate ({:?}); a bundle must not carry its trust anchor",
                i + 1,
                c.subject()
            )));
        }
    }
    // Every certificate of a trusted CA's chain is trusted as the trusted root lists it:
    // the leaf must be signed by the chain's first certificate, and the leaf and the
    // whole CA chain must be valid at every verified signing time. The path's signature
    // is checked once; validity once per time.
    let mut issuer: Option<Cert> = None;
    for (t, _) in times {
        let mut errors = Vec::new();
        let mut ok = false;
        for ca in &root.certificate_authorities {
            if !ca.valid.contains(*t) {
                errors.push(format!("CA {} not valid at {}", ca.uri, fmt_time(*t)));
                continue;
            }
            let Some(first) = ca.chain.first() else {
                continue;
            };
            if let Some(i) = &issuer
                && i.der != *first
            {
                continue;
            }
            let r = (|| -> Result<Cert, String> {
                let chain: Vec<Cert> = ca
                    .chain
                    .iter()
                    .map(|c| Cert::parse(c))
                    .collect::<Result<_, _>>()?;
                for c in chain.iter().skip(1) {
                    cert::valid_at(c, *t, "CA certificate")?;
                }
                let path = cert::build_path(leaf, &[], &chain[..1], *t)?;
                path.first()
                    .map(|c| (*c).clone())
                    .ok_or_else(|| "empty path".to_string())
            })();
            match r {
                Ok(c) => {
                    issuer = Some(c);
                    ok = true;
                    break;
                }
                Err(e) => errors.push(format!("CA {}: {e}", ca.uri)),
            }
        }
        if !ok {
            return Err(E(format!(
                "no Fulcio CA of the trusted root issued it valid at signing time {}: {}",
                fmt_time(*t),
                if errors.is_empty() {
                    "the trusted root has no certificate authority".into()
                } else {
                    errors.join("; ")
                }
            )));
        }
    }
    issuer.ok_or_else(|| E("no signing time".into()))
}

fn check_identity(info: &CertInfo, policies: &[IdentityPolicy]) -> Result<(), SigstoreError> {
    if policies.is_empty() {
        return Ok(());
    }
    let issuer = info.issuer.as_deref().unwrap_or("");
    for p in policies {
        if info.sans.iter().any(|s| p.san.matches(s)) && p.issuer.matches(issuer) {
            return Ok(());
        }
    }
    let wanted: Vec<String> = policies
        .iter()
        .map(|p| format!("SAN {} issuer {}", p.san.describe(), p.issuer.describe()))
        .collect();
    Err(SigstoreError::Identity(format!(
        "certificate identity SAN {:?} issuer {:?} matches no policy (wanted {})",
        info.sans.join(", "),
        issuer,
        wanted.join(" or ")
    )))
}

/// Fuzz target body: parses `data` as a bundle and as a trusted root and verifies any
/// bundle against the production root. Never panics.
pub fn fuzz_parse(data: &[u8]) {
    let _ = TrustedRoot::from_json(data);
    if let Ok(b) = Bundle::parse(data)
        && let Ok(root) = TrustedRoot::production()
    {
        let mut opts = VerifyOptions::new(&root);
        opts.artifact = Some(ArtifactInput::Bytes(b"hello, world!\n"));
        let _ = verify(&b, &opts);
    }
}

/// The Sigstore public-good trusted root pinned with this crate (see `docs/sigstore.md`
/// for its origin). Deployments should load a current one from Sigstore's TUF repository.
pub const PRODUCTION_ROOT: &[u8] = include_bytes!("production_trusted_root.json");
