//! The Sigstore bundle (v0.1, v0.2, v0.3) in its protobuf-JSON form.

use serde_json::Value;

use super::SigstoreError;
use super::json::{self, err};

/// The bundle format version, from the media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    V01,
    V02,
    V03,
}

/// How the signer is identified.
#[derive(Debug, Clone)]
pub enum Material {
    /// A certificate (v0.3 `certificate`) or chain (v0.1/v0.2 `x509CertificateChain`),
    /// leaf first.
    Certificates(Vec<Vec<u8>>),
    /// A key the verifier must already know (`publicKey.hint`).
    PublicKey { hint: Option<String> },
}

/// A Rekor inclusion proof, with its checkpoint when present.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    pub log_index: i64,
    pub root_hash: Vec<u8>,
    pub tree_size: i64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

/// One transparency log entry of the bundle.
#[derive(Debug, Clone)]
pub struct TlogEntry {
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    pub integrated_time: Option<i64>,
    pub signed_entry_timestamp: Option<Vec<u8>>,
    pub inclusion_proof: Option<InclusionProof>,
    pub canonicalized_body: Vec<u8>,
}

/// A DSSE envelope as the bundle carries it (payload decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsseContent {
    pub payload_type: String,
    pub payload: Vec<u8>,
    /// `(keyid, signature)` pairs.
    pub signatures: Vec<(Option<String>, Vec<u8>)>,
}

/// What was signed.
#[derive(Debug, Clone)]
pub enum Content {
    MessageSignature {
        /// `(algorithm, digest)`, e.g. `("SHA2_256", …)`.
        digest: Option<(String, Vec<u8>)>,
        signature: Vec<u8>,
    },
    Dsse(DsseContent),
}

/// A parsed Sigstore bundle. Parsing checks structure and encodings only; [`super::verify`]
/// checks everything else.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub(crate) media_type: String,
    pub version: BundleVersion,
    pub material: Material,
    pub tlog_entries: Vec<TlogEntry>,
    /// DER RFC 3161 timestamp responses (`signedTimestamp`).
    pub rfc3161_timestamps: Vec<Vec<u8>>,
    pub content: Content,
}

impl Bundle {
    /// Parses bundle JSON. Refuses more than 10 MB.
    pub fn parse(bytes: &[u8]) -> Result<Self, SigstoreError> {
        if bytes.len() > super::MAX_BUNDLE_BYTES {
            return Err(SigstoreError::TooLarge { size: bytes.len() });
        }
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| err("bundle", format!("invalid JSON: {e}")))?;
        Self::from_value(&v)
    }

    /// Reads an already-parsed bundle JSON value.
    pub fn from_value(v: &Value) -> Result<Self, SigstoreError> {
        if !v.is_object() {
            return Err(err("bundle", "expected a JSON object"));
        }
        let media_type = json::req_str(v, "", "mediaType")?.to_string();
        let version = match media_type.as_str() {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => BundleVersion::V01,
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => BundleVersion::V02,
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => BundleVersion::V03,
            other => {
                return Err(err(
                    "mediaType",
                    format!("unsupported: bundle media type {other:?}"),
                ));
            }
        };
        let vm = json::req(v, "", "verificationMaterial")?;
        let vp = "verificationMaterial";
        let material = if let Some(c) = json::field(vm, vp, "certificate") {
            Material::Certificates(vec![json::req_b64(
                c,
                &format!("{vp}.certificate"),
                "rawBytes",
            )?])
        } else if let Some(ch) = json::field(vm, vp, "x509CertificateChain") {
            let cp = format!("{vp}.x509CertificateChain");
            let mut certs = Vec::new();
            for (i, c) in json::opt_arr(ch, &cp, "certificates")?.iter().enumerate() {
                certs.push(json::req_b64(
                    c,
                    &format!("{cp}.certificates[{i}]"),
                    "rawBytes",
                )?);
            }
            if certs.is_empty() {
                return Err(err(&format!("{cp}.certificates"), "empty"));
            }
            Material::Certificates(certs)
        } else if let Some(pk) = json::field(vm, vp, "publicKey") {
            Material::PublicKey {
                hint: json::opt_str(pk, &format!("{vp}.publicKey"), "hint")?.map(str::to_string),
            }
        } else {
            return Err(err(
                vp,
                "missing certificate, x509CertificateChain or publicKey",
            ));
        };

        let mut tlog_entries = Vec::new();
        for (i, e) in json::opt_arr(vm, vp, "tlogEntries")?.iter().enumerate() {
            tlog_entries.push(parse_tlog_entry(e, &format!("{vp}.tlogEntries[{i}]"))?);
        }
        let mut rfc3161_timestamps = Vec::new();
        if let Some(tv) = json::field(vm, vp, "timestampVerificationData") {
            let tp = format!("{vp}.timestampVerificationData");
            for (i, t) in json::opt_arr(tv, &tp, "rfc3161Timestamps")?
                .iter()
                .enumerate()
            {
                rfc3161_timestamps.push(json::req_b64(
                    t,
                    &format!("{tp}.rfc3161Timestamps[{i}]"),
                    "signedTimestamp",
                )?);
            }
        }

        let content = match (
            json::field(v, "", "messageSignature"),
            json::field(v, "", "dsseEnvelope"),
        ) {
            (Some(ms), None) => {
                let p = "messageSignature";
                let digest = match json::field(ms, p, "messageDigest") {
                    None => None,
                    Some(d) => {
                        let dp = "messageSignature.messageDigest";
                        Some((
                            json::req_str(d, dp, "algorithm")?.to_string(),
                            json::req_b64(d, dp, "digest")?,
                        ))
                    }
                };
                Content::MessageSignature {
                    digest,
                    signature: json::req_b64(ms, p, "signature")?,
                }
            }
            (None, Some(d)) => {
                let p = "dsseEnvelope";
                let mut signatures = Vec::new();
                for (i, s) in json::opt_arr(d, p, "signatures")?.iter().enumerate() {
                    let sp = format!("{p}.signatures[{i}]");
                    signatures.push((
                        json::opt_str(s, &sp, "keyid")?.map(str::to_string),
                        json::req_b64(s, &sp, "sig")?,
                    ));
                }
                Content::Dsse(DsseContent {
                    payload_type: json::req_str(d, p, "payloadType")?.to_string(),
                    payload: json::opt_b64(d, p, "payload")?.unwrap_or_default(),
                    signatures,
                })
            }
            (Some(_), Some(_)) => {
                return Err(err("bundle", "both messageSignature and dsseEnvelope"));
            }
            (None, None) => return Err(err("bundle", "missing messageSignature or dsseEnvelope")),
        };
        Ok(Bundle {
            media_type,
            version,
            material,
            tlog_entries,
            rfc3161_timestamps,
            content,
        })
    }

    /// The bundle's media type as written.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// `(payloadType, payload)` of a DSSE bundle (not yet verified).
    pub fn dsse_payload(&self) -> Option<(&str, &[u8])> {
        match &self.content {
            Content::Dsse(d) => Some((&d.payload_type, &d.payload)),
            Content::MessageSignature { .. } => None,
        }
    }

    /// `(algorithm, digest)` of a message-signature bundle (not yet verified).
    pub fn message_digest(&self) -> Option<(&str, &[u8])> {
        match &self.content {
            Content::MessageSignature {
                digest: Some((a, d)),
                ..
            } => Some((a, d)),
            _ => None,
        }
    }
}

fn parse_tlog_entry(e: &Value, p: &str) -> Result<TlogEntry, SigstoreError> {
    let kv = json::req(e, p, "kindVersion")?;
    let kvp = format!("{p}.kindVersion");
    let inclusion_proof = match json::field(e, p, "inclusionProof") {
        None => None,
        Some(ip) => {
            let ipp = format!("{p}.inclusionProof");
            let mut hashes = Vec::new();
            for (i, h) in json::opt_arr(ip, &ipp, "hashes")?.iter().enumerate() {
                let hp = format!("{ipp}.hashes[{i}]");
                let s = h.as_str().ok_or_else(|| err(&hp, "expected a string"))?;
                hashes.push(super::der_util::b64(s).ok_or_else(|| err(&hp, "invalid base64"))?);
            }
            let checkpoint = match json::field(ip, &ipp, "checkpoint") {
                None => None,
                Some(c) => {
                    Some(json::req_str(c, &format!("{ipp}.checkpoint"), "envelope")?.to_string())
                }
            };
            Some(InclusionProof {
                log_index: json::req_i64(ip, &ipp, "logIndex")?,
                root_hash: json::req_b64(ip, &ipp, "rootHash")?,
                tree_size: json::req_i64(ip, &ipp, "treeSize")?,
                hashes,
                checkpoint,
            })
        }
    };
    let signed_entry_timestamp = match json::field(e, p, "inclusionPromise") {
        None => None,
        Some(ip) => Some(json::req_b64(
            ip,
            &format!("{p}.inclusionPromise"),
            "signedEntryTimestamp",
        )?),
    };
    Ok(TlogEntry {
        log_index: json::req_i64(e, p, "logIndex")?,
        log_id: json::req_b64(json::req(e, p, "logId")?, &format!("{p}.logId"), "keyId")?,
        kind: json::req_str(kv, &kvp, "kind")?.to_string(),
        version: json::req_str(kv, &kvp, "version")?.to_string(),
        integrated_time: json::opt_i64(e, p, "integratedTime")?.filter(|t| *t != 0),
        signed_entry_timestamp,
        inclusion_proof,
        canonicalized_body: json::req_b64(e, p, "canonicalizedBody")?,
    })
}
