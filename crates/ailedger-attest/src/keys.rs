//! Public keys and signature verification.
//!
//! A [`PublicKey`] is read from a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo), from
//! DER SubjectPublicKeyInfo, or from a securesystemslib key JSON
//! (`{"keytype", "scheme", "keyval": {"public"}}`). Its [`PublicKey::keyid`] is the
//! securesystemslib key id: the SHA-256 (hex) of the key's canonical-JSON metadata, so
//! the same key gives the same id whichever of the three forms it came in.
//!
//! [`PublicKey::verify`] accepts every encoding real signers use for the key's
//! algorithm and says which one verified ([`SigScheme`]):
//! - Ed25519;
//! - ECDSA P-256 with SHA-256 and P-384 with SHA-384, the signature DER or raw `r‖s`;
//! - RSA (2048 to 8192 bits) with SHA-256, RSASSA-PSS or PKCS#1 v1.5.
//!
//! Verification is done by `ring`; the SubjectPublicKeyInfo is parsed with `spki`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode as _;
use ring::signature as rs;
use sha2::{Digest as _, Sha256};

/// The algorithm family of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    Rsa,
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::Rsa => "RSA",
        })
    }
}

/// Which signature encoding verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigScheme {
    /// Ed25519 (RFC 8032, pure).
    Ed25519,
    /// ECDSA, signature ASN.1 DER `SEQUENCE { r, s }`.
    EcdsaDer,
    /// ECDSA, signature raw fixed-width `r‖s` (as in the DSSE spec's test vector).
    EcdsaRaw,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, salt length = 32).
    RsaPss,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1v15,
}

impl std::fmt::Display for SigScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SigScheme::Ed25519 => "ed25519",
            SigScheme::EcdsaDer => "ecdsa (DER)",
            SigScheme::EcdsaRaw => "ecdsa (raw r||s)",
            SigScheme::RsaPss => "rsassa-pss-sha256",
            SigScheme::RsaPkcs1v15 => "rsassa-pkcs1v15-sha256",
        })
    }
}

/// Why a key could not be read or a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "not a public key: expected a PEM \"PUBLIC KEY\" block, DER SubjectPublicKeyInfo or a securesystemslib key JSON"
    )]
    Unrecognised,
    #[error("PEM: {0}")]
    Pem(String),
    #[error("SubjectPublicKeyInfo: {0}")]
    Spki(String),
    #[error("unsupported key algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("unsupported elliptic curve {0} (P-256 and P-384 are supported)")]
    UnsupportedCurve(String),
    #[error("{field}: {reason}")]
    Json { field: String, reason: String },
    #[error("{0} key rejected: {1}")]
    BadKey(KeyAlgorithm, String),
    #[error("private key: {0}")]
    PrivateKey(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("{algorithm} signature does not verify (tried {tried})")]
    BadSignature {
        algorithm: KeyAlgorithm,
        /// The encodings tried, e.g. "ecdsa (DER), ecdsa (raw r||s)".
        tried: String,
    },
}

const OID_ED25519: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const OID_P256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// A public key: its algorithm, its SubjectPublicKeyInfo and its securesystemslib
/// metadata (key type, scheme, public value) from which the key id is derived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    spki_der: Vec<u8>,
    /// The subjectPublicKey bits: Ed25519 32 bytes, EC point, or RSAPublicKey DER.
    raw: Vec<u8>,
    sslib_keytype: String,
    sslib_scheme: String,
    sslib_public: String,
}

impl PublicKey {
    /// Reads a public key, detecting its form: PEM `PUBLIC KEY` (SPKI), DER SPKI or a
    /// securesystemslib key JSON (ed25519 `keyval.public` as hex, ecdsa/rsa as PEM).
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyError> {
        let trimmed = trim_ascii_start(bytes);
        if trimmed.first() == Some(&b'{') {
            return Self::from_sslib_json(bytes);
        }
        if find(bytes, b"-----BEGIN ").is_some() {
            let der = pem_decode(bytes, "PUBLIC KEY")?;
            return Self::from_spki_der(&der);
        }
        if bytes.first() == Some(&0x30) {
            return Self::from_spki_der(bytes);
        }
        Err(KeyError::Unrecognised)
    }

    /// Reads a DER SubjectPublicKeyInfo (Ed25519, EC P-256/P-384, RSA).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::Spki(e.to_string()))?;
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| KeyError::Spki("subjectPublicKey has unused bits".into()))?
            .to_vec();
        let oid = spki.algorithm.oid;
        let (algorithm, keytype, scheme) = if oid == OID_ED25519 {
            if raw.len() != 32 {
                return Err(KeyError::BadKey(
                    KeyAlgorithm::Ed25519,
                    format!("public key is {} bytes, expected 32", raw.len()),
                ));
            }
            (KeyAlgorithm::Ed25519, "ed25519", "ed25519")
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::Spki("EC key without a named curve".into()))?;
            let (alg, scheme, len) = if curve == OID_P256 {
                (KeyAlgorithm::EcdsaP256, "ecdsa-sha2-nistp256", 65)
            } else if curve == OID_P384 {
                (KeyAlgorithm::EcdsaP384, "ecdsa-sha2-nistp384", 97)
            } else {
                return Err(KeyError::UnsupportedCurve(curve.to_string()));
            };
            if raw.len() != len || raw.first() != Some(&4) {
                return Err(KeyError::BadKey(
                    alg,
                    "public point is not an uncompressed point of the curve".into(),
                ));
            }
            (alg, "ecdsa", scheme)
        } else if oid == OID_RSA_ENCRYPTION {
            (KeyAlgorithm::Rsa, "rsa", "rsassa-pss-sha256")
        } else {
            return Err(KeyError::UnsupportedAlgorithm(oid.to_string()));
        };
        let sslib_public = match algorithm {
            KeyAlgorithm::Ed25519 => hex::encode(&raw),
            _ => pem_encode("PUBLIC KEY", der),
        };
        let key = PublicKey {
            algorithm,
            spki_der: der.to_vec(),
            raw,
            sslib_keytype: keytype.into(),
            sslib_scheme: scheme.into(),
            sslib_public,
        };
        key.check()?;
        Ok(key)
    }

    /// Reads a securesystemslib key JSON. Its `keytype`/`scheme` are kept for the key
    /// id; a `keyid` member, if any, is ignored (the id is recomputed from the key).
    fn from_sslib_json(bytes: &[u8]) -> Result<Self, KeyError> {
        let json_err = |field: &str, reason: &str| KeyError::Json {
            field: field.into(),
            reason: reason.into(),
        };
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| json_err("", &e.to_string()))?;
        let get = |name: &str| -> Result<&str, KeyError> {
            v.get(name)
                .ok_or_else(|| json_err(name, "missing"))?
                .as_str()
                .ok_or_else(|| json_err(name, "not a string"))
        };
        let keytype = get("keytype")?;
        let scheme = get("scheme")?;
        let public = v
            .get("keyval")
            .ok_or_else(|| json_err("keyval", "missing"))?
            .get("public")
            .ok_or_else(|| json_err("keyval.public", "missing"))?
            .as_str()
            .ok_or_else(|| json_err("keyval.public", "not a string"))?;
        let mut key = if keytype == "ed25519" {
            let raw = hex::decode(public).map_err(|_| json_err("keyval.public", "invalid hex"))?;
            if raw.len() != 32 {
                return Err(json_err("keyval.public", "ed25519 key is not 32 bytes"));
            }
            let mut der = vec![
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            der.extend_from_slice(&raw);
            Self::from_spki_der(&der)?
        } else {
            let der = pem_decode(public.as_bytes(), "PUBLIC KEY").map_err(|e| KeyError::Json {
                field: "keyval.public".into(),
                reason: e.to_string(),
            })?;
            Self::from_spki_der(&der)?
        };
        let expected = match key.algorithm {
            KeyAlgorithm::Ed25519 => &["ed25519"][..],
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => {
                &["ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384"][..]
            }
            KeyAlgorithm::Rsa => &["rsa"][..],
        };
        if !expected.contains(&keytype) {
            return Err(json_err(
                "keytype",
                &format!("\"{keytype}\" does not match the {} key", key.algorithm),
            ));
        }
        key.sslib_keytype = keytype.into();
        key.sslib_scheme = scheme.into();
        key.sslib_public = public.into();
        Ok(key)
    }

    /// Rejects keys `ring` cannot use (e.g. a point not on the curve, RSA < 2048 bits),
    /// so that a bad key fails when read rather than on every verification.
    fn check(&self) -> Result<(), KeyError> {
        match self.algorithm {
            KeyAlgorithm::Rsa => {
                let components = rsa_components(&self.raw).ok_or_else(|| {
                    KeyError::BadKey(KeyAlgorithm::Rsa, "malformed RSAPublicKey".into())
                })?;
                let bits = bit_len(components.0);
                if !(2048..=8192).contains(&bits) {
                    return Err(KeyError::BadKey(
                        KeyAlgorithm::Rsa,
                        format!("modulus is {bits} bits; 2048 to 8192 are accepted"),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The SubjectPublicKeyInfo as PEM (`PUBLIC KEY`, 64-column lines).
    pub fn to_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.spki_der)
    }

    /// The securesystemslib key id: SHA-256 (lowercase hex) of the canonical JSON
    /// `{"keytype":…,"keyval":{"public":…},"scheme":…}` (OLPC canonical JSON: sorted
    /// keys, no whitespace, only `\` and `"` escaped). For a key read from PEM or DER
    /// the metadata is what securesystemslib derives from such a key: ed25519/ed25519
    /// with hex public bytes; ecdsa/ecdsa-sha2-nistp256 (or 384) and
    /// rsa/rsassa-pss-sha256 with the SPKI as PEM (64-column lines, final newline).
    pub fn keyid(&self) -> String {
        let mut meta = String::with_capacity(64 + self.sslib_public.len());
        meta.push_str("{\"keytype\":");
        olpc_string(&mut meta, &self.sslib_keytype);
        meta.push_str(",\"keyval\":{\"public\":");
        olpc_string(&mut meta, &self.sslib_public);
        meta.push_str("},\"scheme\":");
        olpc_string(&mut meta, &self.sslib_scheme);
        meta.push('}');
        hex::encode(Sha256::digest(meta.as_bytes()))
    }

    /// The securesystemslib (keytype, scheme) of this key.
    pub fn sslib_type(&self) -> (&str, &str) {
        (&self.sslib_keytype, &self.sslib_scheme)
    }

    /// Verifies `signature` over `message`, trying every encoding of the key's
    /// algorithm; returns the one that verified.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<SigScheme, KeyError> {
        type Alg = &'static dyn rs::VerificationAlgorithm;
        let candidates: &[(Alg, SigScheme)] = match self.algorithm {
            KeyAlgorithm::Ed25519 => &[(&rs::ED25519, SigScheme::Ed25519)],
            KeyAlgorithm::EcdsaP256 => &[
                (&rs::ECDSA_P256_SHA256_ASN1, SigScheme::EcdsaDer),
                (&rs::ECDSA_P256_SHA256_FIXED, SigScheme::EcdsaRaw),
            ],
            KeyAlgorithm::EcdsaP384 => &[
                (&rs::ECDSA_P384_SHA384_ASN1, SigScheme::EcdsaDer),
                (&rs::ECDSA_P384_SHA384_FIXED, SigScheme::EcdsaRaw),
            ],
            KeyAlgorithm::Rsa => &[
                (&rs::RSA_PSS_2048_8192_SHA256, SigScheme::RsaPss),
                (&rs::RSA_PKCS1_2048_8192_SHA256, SigScheme::RsaPkcs1v15),
            ],
        };
        // Both ECDSA encodings are tried: a DER signature can be exactly as long as a
        // raw one (short r and s), and ring rejects a raw one of the wrong length at once.
        for (alg, scheme) in candidates {
            if rs::UnparsedPublicKey::new(*alg, &self.raw)
                .verify(message, signature)
                .is_ok()
            {
                return Ok(*scheme);
            }
        }
        Err(KeyError::BadSignature {
            algorithm: self.algorithm,
            tried: candidates
                .iter()
                .map(|(_, s)| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// OLPC canonical-JSON string: quotes, with only `\` and `"` escaped.
fn olpc_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// The modulus and exponent of a DER RSAPublicKey.
fn rsa_components(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut reader = der::SliceReader::new(der).ok()?;
    use der::Reader as _;
    let (n, e) = reader
        .sequence(|seq| {
            let n = der::asn1::UintRef::decode(seq)?;
            let e = der::asn1::UintRef::decode(seq)?;
            Ok((n, e))
        })
        .ok()?;
    reader.finish(()).ok()?;
    Some((n.as_bytes(), e.as_bytes()))
}

fn bit_len(big_endian: &[u8]) -> usize {
    let trimmed: &[u8] = {
        let start = big_endian
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(big_endian.len());
        &big_endian[start..]
    };
    match trimmed.first() {
        None => 0,
        Some(b) => trimmed.len() * 8 - b.leading_zeros() as usize,
    }
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes the first PEM block with the given label (text around it is ignored, as
/// are CR and other whitespace inside it).
pub(crate) fn pem_decode(text: &[u8], label: &str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = find(text, begin.as_bytes())
        .ok_or_else(|| KeyError::Pem(format!("no \"{begin}\" line")))?
        + begin.len();
    let len = find(&text[start..], end.as_bytes())
        .ok_or_else(|| KeyError::Pem(format!("no \"{end}\" line")))?;
    let body: Vec<u8> = text[start..start + len]
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if body.contains(&b':') {
        return Err(KeyError::Pem(
            "encrypted or header-carrying PEM blocks are not supported".into(),
        ));
    }
    STANDARD
        .decode(&body)
        .map_err(|e| KeyError::Pem(format!("invalid base64: {e}")))
}

/// Encodes DER as PEM the way OpenSSL and pyca/cryptography do: 64-column base64
/// lines, every line (including the END line) ending in `\n`.
/// The DER of every PEM `CERTIFICATE` block in `text` (malformed blocks skipped).
pub fn pem_certificates(text: &[u8]) -> Vec<Vec<u8>> {
    use rustls_pki_types::{CertificateDer, pem::PemObject as _};
    CertificateDer::pem_slice_iter(text)
        .filter_map(Result::ok)
        .map(|c| c.to_vec())
        .collect()
}

pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pem_roundtrip_and_bit_len() {
        let der: Vec<u8> = (0..=200u8).collect();
        let pem = pem_encode("PUBLIC KEY", &der);
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert_eq!(pem_decode(pem.as_bytes(), "PUBLIC KEY").unwrap(), der);
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0x01]), 1);
        assert_eq!(bit_len(&[]), 0);
    }

    #[test]
    fn olpc_escapes_only_quote_and_backslash() {
        let mut s = String::new();
        olpc_string(&mut s, "a\"b\\c\nd");
        assert_eq!(s, "\"a\\\"b\\\\c\nd\"");
    }
}
