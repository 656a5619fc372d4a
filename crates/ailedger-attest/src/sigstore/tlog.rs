//! Rekor entries: the signed entry timestamp (SET), the RFC 6962 inclusion proof, the
//! signed checkpoint (C2SP signed note) and the match between the entry body and the
//! bundle's content.

use serde_json::Value;

use super::bundle::{BundleVersion, Content, DsseContent, TlogEntry};
use super::crypto::{self, HashAlg};
use super::der_util::{self, fmt_time};
use super::trusted_root::{LogKey, TrustedRoot};

/// What one verified tlog entry contributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogInfo {
    pub log_index: i64,
    pub log_id_hex: String,
    pub kind: String,
    /// `integratedTime`, only when the SET that signs it verified.
    pub integrated_time: Option<i64>,
    /// The checkpoint's origin line, when a checkpoint verified.
    pub checkpoint_origin: Option<String>,
    /// The tree size the inclusion proof verified against.
    pub tree_size: Option<i64>,
}

/// What the signer's entry must contain.
pub(crate) struct Expect<'a> {
    pub content: &'a Content,
    /// The SHA-256 of the artifact (message signatures), when known.
    pub artifact_sha256: Option<[u8; 32]>,
    /// The DSSE PAE's SHA-256 (Rekor v2 hashedrekord-over-DSSE).
    pub pae_sha256: Option<[u8; 32]>,
    /// Leaf certificate DER, or the public key's SPKI DER.
    pub signer_der: &'a [u8],
    pub signer_is_cert: bool,
}

pub(crate) fn verify_entry(
    i: usize,
    e: &TlogEntry,
    version: BundleVersion,
    root: &TrustedRoot,
    expect: &Expect<'_>,
) -> Result<TlogInfo, String> {
    let log_hex = hex::encode(&e.log_id);
    let log = root
        .tlog(&e.log_id)
        .ok_or_else(|| format!("log {log_hex} is not in the trusted root"))?;
    let _ = i;
    // The body must be about this bundle.
    let body: Value = serde_json::from_slice(&e.canonicalized_body)
        .map_err(|err| format!("canonicalizedBody: invalid JSON: {err}"))?;
    let bkind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
    let bver = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if bkind != e.kind || bver != e.version {
        return Err(format!(
            "canonicalizedBody is {bkind} {bver}, kindVersion says {} {}",
            e.kind, e.version
        ));
    }
    match_body(&body, bkind, bver, expect)
        .map_err(|err| format!("body ({bkind} {bver}) does not match the bundle: {err}"))?;

    let mut integrated_time = None;
    if let Some(set) = &e.signed_entry_timestamp {
        let t = e
            .integrated_time
            .ok_or("inclusionPromise without integratedTime")?;
        let payload = format!(
            "{{\"body\":\"{}\",\"integratedTime\":{t},\"logID\":\"{log_hex}\",\"logIndex\":{}}}",
            der_util::b64_encode(&e.canonicalized_body),
            e.log_index
        );
        log.key
            .verify(log.key.default_hash(), false, payload.as_bytes(), set)
            .map_err(|err| format!("signed entry timestamp: {err}"))?;
        if !log.valid.contains(t) {
            return Err(format!(
                "log {log_hex} key not valid at integratedTime {}",
                fmt_time(t)
            ));
        }
        integrated_time = Some(t);
    }

    let mut checkpoint_origin = None;
    let mut tree_size = None;
    match &e.inclusion_proof {
        Some(p) => {
            let leaf = ailedger_log::merkle::leaf_hash(&e.canonicalized_body);
            let hashes: Vec<[u8; 32]> = p
                .hashes
                .iter()
                .enumerate()
                .map(|(j, h)| {
                    <[u8; 32]>::try_from(h.as_slice())
                        .map_err(|_| format!("inclusion proof: hashes[{j}] is not 32 bytes"))
                })
                .collect::<Result<_, _>>()?;
            let index =
                u64::try_from(p.log_index).map_err(|_| "inclusion proof: negative logIndex")?;
            let size =
                u64::try_from(p.tree_size).map_err(|_| "inclusion proof: negative treeSize")?;
            let computed =
                ailedger_log::merkle::root_from_inclusion_proof(&leaf, index, size, &hashes)
                    .map_err(|err| format!("inclusion proof: {err}"))?;
            if computed.as_slice() != p.root_hash.as_slice() {
                return Err(format!(
                    "inclusion proof: computed root {} ≠ rootHash {}",
                    hex::encode(computed),
                    hex::encode(&p.root_hash)
                ));
            }
            match &p.checkpoint {
                Some(cp) => {
                    let (origin, cp_size, cp_root) =
                        verify_checkpoint(cp, log).map_err(|err| format!("checkpoint: {err}"))?;
                    if cp_size != size || cp_root.as_slice() != p.root_hash.as_slice() {
                        return Err(format!(
                            "inclusion proof: computed root {} (size {size}) ≠ checkpoint root {} (size {cp_size})",
                            hex::encode(computed),
                            hex::encode(cp_root)
                        ));
                    }
                    checkpoint_origin = Some(origin);
                }
                None if version >= BundleVersion::V02 => {
                    return Err("inclusion proof has no checkpoint".into());
                }
                None => {}
            }
            tree_size = Some(p.tree_size);
        }
        None if version >= BundleVersion::V02 => {
            return Err("no inclusion proof (required from bundle v0.2)".into());
        }
        None => {}
    }
    if integrated_time.is_none() && tree_size.is_none() {
        return Err("neither a signed entry timestamp nor an inclusion proof".into());
    }
    Ok(TlogInfo {
        log_index: e.log_index,
        log_id_hex: log_hex,
        kind: e.kind.clone(),
        integrated_time,
        checkpoint_origin,
        tree_size,
    })
}

/// Verifies a signed-note checkpoint with the log's key; returns (origin, size, root).
pub(crate) fn verify_checkpoint(
    text: &str,
    log: &LogKey,
) -> Result<(String, u64, Vec<u8>), String> {
    let (note, sigs) = text
        .split_once("\n\n")
        .ok_or("not a signed note (no blank line)")?;
    let note = format!("{note}\n");
    let mut lines = note.lines();
    let origin = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or("no origin line")?
        .to_string();
    let size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or("second line is not a tree size")?;
    let root = lines
        .next()
        .and_then(der_util::b64)
        .filter(|r| r.len() == 32)
        .ok_or("third line is not a base64 SHA-256 root")?;
    let hint = log.log_id.get(..4).ok_or("log id shorter than 4 bytes")?;
    let mut tried = Vec::new();
    for line in sigs.lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("signature line {line:?} does not start with an em dash"))?;
        let (name, b64) = rest
            .rsplit_once(' ')
            .ok_or("signature line has no key name")?;
        let raw =
            der_util::b64(b64).ok_or_else(|| format!("signature of {name:?}: invalid base64"))?;
        if raw.len() < 5 {
            return Err(format!("signature of {name:?} is too short"));
        }
        if &raw[..4] != hint {
            tried.push(format!(
                "{name} (key hint {} ≠ log {})",
                hex::encode(&raw[..4]),
                hex::encode(hint)
            ));
            continue;
        }
        log.key
            .verify(HashAlg::Sha256, false, note.as_bytes(), &raw[4..])
            .map_err(|e| format!("signature of {name:?}: {e}"))?;
        return Ok((origin, size, root));
    }
    Err(format!(
        "no signature by the log's key (tried: {})",
        if tried.is_empty() {
            "none".into()
        } else {
            tried.join(", ")
        }
    ))
}

fn s<'a>(v: &'a Value, ptr: &str) -> Result<&'a str, String> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{ptr} missing"))
}

/// The logged `payloadHash` (at `ptr`) is SHA-256 of the envelope's payload.
fn payload_hash_matches(v: &Value, ptr: &str, env: &DsseContent) -> Result<(), String> {
    let alg = s(v, &format!("{ptr}/algorithm"))?;
    if alg != "sha256" {
        return Err(format!("unsupported: payload hash algorithm {alg}"));
    }
    if hex_at(v, &format!("{ptr}/value"))? != crypto::sha256(&env.payload) {
        return Err("payloadHash is not SHA-256 of the envelope's payload".into());
    }
    Ok(())
}

/// As many signatures logged as the envelope carries.
fn signature_count_matches(logged: &[Value], env: &DsseContent) -> Result<(), String> {
    if logged.len() != env.signatures.len() {
        return Err(format!(
            "{} signatures logged, the envelope has {}",
            logged.len(),
            env.signatures.len()
        ));
    }
    Ok(())
}

fn b64_at(v: &Value, ptr: &str) -> Result<Vec<u8>, String> {
    der_util::b64(s(v, ptr)?).ok_or_else(|| format!("{ptr}: invalid base64"))
}

/// The DER inside a Rekor v1 `publicKey`/`verifier` field (base64 of PEM).
fn pem_field(v: &Value, ptr: &str) -> Result<Vec<u8>, String> {
    let pem = b64_at(v, ptr)?;
    der_util::pem_blocks(&pem, "")
        .into_iter()
        .next()
        .ok_or_else(|| format!("{ptr}: no PEM block"))
}

fn hex_at(v: &Value, ptr: &str) -> Result<Vec<u8>, String> {
    hex::decode(s(v, ptr)?).map_err(|_| format!("{ptr}: invalid hex"))
}

fn same_signer(found: &[u8], expect: &Expect<'_>, what: &str) -> Result<(), String> {
    if found != expect.signer_der {
        return Err(format!(
            "{what} is not the bundle's {}",
            if expect.signer_is_cert {
                "certificate"
            } else {
                "public key"
            }
        ));
    }
    Ok(())
}

fn match_body(body: &Value, kind: &str, ver: &str, x: &Expect<'_>) -> Result<(), String> {
    match (kind, ver, x.content) {
        ("hashedrekord", "0.0.1", Content::MessageSignature { digest, signature }) => {
            let alg = s(body, "/spec/data/hash/algorithm")?;
            if alg != "sha256" {
                return Err(format!("unsupported: hash algorithm {alg}"));
            }
            let h = hex_at(body, "/spec/data/hash/value")?;
            check_digest(
                &h,
                digest.as_ref().map(|d| d.1.as_slice()),
                x.artifact_sha256,
            )?;
            if b64_at(body, "/spec/signature/content")? != *signature {
                return Err("signature differs from the bundle's".into());
            }
            same_signer(
                &pem_field(body, "/spec/signature/publicKey/content")?,
                x,
                "public key",
            )
        }
        ("hashedrekord", "0.0.2", content) => {
            let d = body
                .pointer("/spec/hashedRekordV002")
                .ok_or("/spec/hashedRekordV002 missing")?;
            let alg = s(d, "/data/algorithm")?;
            if alg != "SHA2_256" {
                return Err(format!("unsupported: hash algorithm {alg}"));
            }
            let h = b64_at(d, "/data/digest")?;
            let sig = b64_at(d, "/signature/content")?;
            match content {
                Content::MessageSignature { digest, signature } => {
                    check_digest(
                        &h,
                        digest.as_ref().map(|d| d.1.as_slice()),
                        x.artifact_sha256,
                    )?;
                    if sig != *signature {
                        return Err("signature differs from the bundle's".into());
                    }
                }
                Content::Dsse(env) => {
                    if Some(h.as_slice()) != x.pae_sha256.as_ref().map(|p| p.as_slice()) {
                        return Err("digest is not SHA-256 of the envelope's PAE".into());
                    }
                    if env.signatures.len() != 1 || env.signatures[0].1 != sig {
                        return Err("signature differs from the envelope's".into());
                    }
                }
            }
            let signer = if let Some(c) = d.pointer("/signature/verifier/x509Certificate/rawBytes")
            {
                der_util::b64(c.as_str().unwrap_or_default())
                    .ok_or("verifier certificate: invalid base64")?
            } else {
                b64_at(d, "/signature/verifier/publicKey/rawBytes")?
            };
            same_signer(&signer, x, "verifier")
        }
        ("dsse", "0.0.1", Content::Dsse(env)) => {
            payload_hash_matches(body, "/spec/payloadHash", env)?;
            let sigs = body
                .pointer("/spec/signatures")
                .and_then(Value::as_array)
                .ok_or("/spec/signatures missing")?;
            signature_count_matches(sigs, env)?;
            for (j, sv) in sigs.iter().enumerate() {
                let sig = b64_at(sv, "/signature")?;
                if !env.signatures.iter().any(|(_, es)| *es == sig) {
                    return Err(format!("logged signature {j} is not in the envelope"));
                }
                same_signer(&pem_field(sv, "/verifier")?, x, "verifier")?;
            }
            Ok(())
        }
        ("intoto", "0.0.2", Content::Dsse(env)) => {
            let c = body
                .pointer("/spec/content")
                .ok_or("/spec/content missing")?;
            payload_hash_matches(c, "/payloadHash", env)?;
            let e = c.get("envelope").ok_or("/spec/content/envelope missing")?;
            if s(e, "/payloadType")? != env.payload_type {
                return Err("payloadType differs from the envelope's".into());
            }
            let sigs = e
                .get("signatures")
                .and_then(Value::as_array)
                .ok_or("envelope signatures missing")?;
            signature_count_matches(sigs, env)?;
            for (j, sv) in sigs.iter().enumerate() {
                // intoto 0.0.2 stores each signature base64-encoded twice.
                let once = b64_at(sv, "/sig")?;
                let sig = std::str::from_utf8(&once)
                    .ok()
                    .and_then(der_util::b64)
                    .ok_or_else(|| format!("signatures[{j}].sig: invalid base64"))?;
                if !env.signatures.iter().any(|(_, es)| *es == sig) {
                    return Err(format!("logged signature {j} is not in the envelope"));
                }
                same_signer(&pem_field(sv, "/publicKey")?, x, "public key")?;
            }
            Ok(())
        }
        ("hashedrekord", v, Content::MessageSignature { .. }) => {
            Err(format!("unsupported: hashedrekord {v}"))
        }
        ("dsse" | "intoto" | "hashedrekord", _, _) => Err(format!(
            "a {kind} {ver} entry cannot log this kind of bundle content"
        )),
        _ => Err(format!("unsupported: entry kind {kind} {ver}")),
    }
}

fn check_digest(
    logged: &[u8],
    bundle: Option<&[u8]>,
    artifact: Option<[u8; 32]>,
) -> Result<(), String> {
    if let Some(b) = bundle
        && b != logged
    {
        return Err(format!(
            "logged digest {} ≠ bundle messageDigest {}",
            hex::encode(logged),
            hex::encode(b)
        ));
    }
    if let Some(a) = artifact
        && a.as_slice() != logged
    {
        return Err(format!(
            "logged digest {} ≠ artifact SHA-256 {}",
            hex::encode(logged),
            hex::encode(a)
        ));
    }
    Ok(())
}
