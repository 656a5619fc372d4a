//! Producing DSSE envelopes and SLSA verification summaries.
//!
//! [`SigningKey`] reads an Ed25519 or ECDSA P-256 private key (PKCS#8 `PRIVATE KEY`,
//! or SEC1 `EC PRIVATE KEY` for P-256) and signs with `ring`: Ed25519 is
//! deterministic; ECDSA signatures are randomised and DER-encoded, as securesystemslib
//! writes them. [`sign_envelope`] sets the signature's `keyid` to the key's
//! securesystemslib key id, so `Envelope::to_json` of a re-signed securesystemslib
//! envelope is byte-identical to what securesystemslib wrote.

use der::Decode as _;
use ring::rand::SystemRandom;
use ring::signature::{self as rs, KeyPair as _};
use serde_json::{Map, Value};

use crate::dsse::{self, Envelope};
use crate::keys::{KeyError, OID_P256, PublicKey, pem_decode, pem_encode};
use crate::statement::{
    ResourceDescriptor, STATEMENT_V1, Statement, StatementError, at, parse_digest,
};

/// Predicate type of a SLSA Verification Summary Attestation v1.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";

/// DER SubjectPublicKeyInfo prefixes (everything before the key bytes).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

enum Inner {
    Ed25519(rs::Ed25519KeyPair),
    EcdsaP256(rs::EcdsaKeyPair),
}

/// A private key that signs envelopes: Ed25519 or ECDSA P-256 (SHA-256).
pub struct SigningKey {
    inner: Inner,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.public.algorithm())
            .field("keyid", &self.public.keyid())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 `PRIVATE KEY` (Ed25519, v1 or v2, or ECDSA
    /// P-256) or SEC1 `EC PRIVATE KEY` (P-256, with its public key, as OpenSSL writes
    /// it). Encrypted keys are not supported.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let bytes = text.as_bytes();
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        if has(b"-----BEGIN EC PRIVATE KEY-----") {
            let der = pem_decode(bytes, "EC PRIVATE KEY")?;
            return Self::from_sec1_der(&der);
        }
        if has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(KeyError::PrivateKey(
                "encrypted private keys are not supported".into(),
            ));
        }
        let der = pem_decode(bytes, "PRIVATE KEY")?;
        Self::from_pkcs8_der(&der)
    }

    /// Reads a DER PKCS#8 Ed25519 or ECDSA P-256 private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let ed = match rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            Ok(kp) => return Self::from_ed25519(kp),
            Err(e) => e,
        };
        let rng = SystemRandom::new();
        let ec = match rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
        {
            Ok(kp) => return Self::from_p256(kp),
            Err(e) => e,
        };
        Err(KeyError::PrivateKey(format!(
            "PKCS#8 key is neither Ed25519 ({ed}) nor ECDSA P-256 ({ec})"
        )))
    }

    fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        use der::Reader as _;
        use der::TagNumber;
        use der::asn1::{BitStringRef, ContextSpecific, ObjectIdentifier, OctetStringRef};
        let bad = |e: der::Error| KeyError::PrivateKey(format!("SEC1 EC private key: {e}"));
        let mut reader = der::SliceReader::new(der).map_err(bad)?;
        let (version, private, curve, public) = reader
            .sequence(|r| {
                let version = u8::decode(r)?;
                let private = OctetStringRef::decode(r)?;
                let curve = ContextSpecific::<ObjectIdentifier>::decode_explicit(r, TagNumber::N0)?;
                let public =
                    ContextSpecific::<BitStringRef<'_>>::decode_explicit(r, TagNumber::N1)?;
                Ok((version, private, curve, public))
            })
            .map_err(bad)?;
        reader.finish(()).map_err(bad)?;
        if version != 1 {
            return Err(KeyError::PrivateKey(format!(
                "SEC1 EC private key: version {version}, expected 1"
            )));
        }
        match curve {
            Some(c) if c.value != OID_P256 => {
                return Err(KeyError::UnsupportedCurve(c.value.to_string()));
            }
            _ => {}
        }
        let public = public
            .and_then(|p| p.value.as_bytes())
            .ok_or_else(|| {
                KeyError::PrivateKey(
                    "SEC1 EC private key without its public key is not supported".into(),
                )
            })?
            .to_vec();
        let rng = SystemRandom::new();
        let kp = rs::EcdsaKeyPair::from_private_key_and_public_key(
            &rs::ECDSA_P256_SHA256_ASN1_SIGNING,
            private.as_bytes(),
            &public,
            &rng,
        )
        .map_err(|e| KeyError::PrivateKey(format!("SEC1 EC private key rejected: {e}")))?;
        Self::from_p256(kp)
    }

    fn from_ed25519(kp: rs::Ed25519KeyPair) -> Result<Self, KeyError> {
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(kp.public_key().as_ref());
        Ok(SigningKey {
            public: PublicKey::from_spki_der(&spki)?,
            inner: Inner::Ed25519(kp),
        })
    }

    fn from_p256(kp: rs::EcdsaKeyPair) -> Result<Self, KeyError> {
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(kp.public_key().as_ref());
        Ok(SigningKey {
            public: PublicKey::from_spki_der(&spki)?,
            inner: Inner::EcdsaP256(kp),
        })
    }

    /// A new Ed25519 key, and its PKCS#8 (v2) PEM to store it.
    pub fn generate_ed25519() -> Result<(Self, String), KeyError> {
        let rng = SystemRandom::new();
        let doc = rs::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|e| KeyError::Signing(format!("Ed25519 key generation: {e}")))?;
        let key = Self::from_pkcs8_der(doc.as_ref())?;
        Ok((key, pem_encode("PRIVATE KEY", doc.as_ref())))
    }

    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// The securesystemslib key id of the public key.
    pub fn keyid(&self) -> String {
        self.public.keyid()
    }

    /// Signs `message`: Ed25519 (64 bytes), or ECDSA P-256 SHA-256 as DER. ECDSA needs
    /// the system's random generator, whose failure is the only possible error.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Ed25519(kp) => Ok(kp.sign(message).as_ref().to_vec()),
            Inner::EcdsaP256(kp) => kp
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| KeyError::Signing(format!("ECDSA: {e}"))),
        }
    }
}

/// Signs `payload` in a DSSE envelope with one signature whose `keyid` is the key's
/// securesystemslib key id.
pub fn sign_envelope(
    payload_type: &str,
    payload: &[u8],
    key: &SigningKey,
) -> Result<Envelope, KeyError> {
    let sig = key.sign(&dsse::pae(payload_type, payload))?;
    Ok(Envelope {
        payload_type: payload_type.to_owned(),
        payload: payload.to_vec(),
        signatures: vec![dsse::Signature {
            keyid: Some(key.keyid()),
            sig,
        }],
    })
}

/// A SLSA Verification Summary (v1) statement: `verifier.id`, `timeVerified`,
/// `resourceUri`, `policy {uri, digest.sha256}`, `inputAttestations`,
/// `verificationResult` (`PASSED`/`FAILED`), `verifiedLevels` and `slsaVersion`
/// "1.0". The inputs are checked (subjects with valid digests, an RFC 3339 time,
/// a sha256 policy digest, non-empty ids) and an error names the one at fault.
#[allow(clippy::too_many_arguments)]
pub fn vsa_statement(
    subject: &[ResourceDescriptor],
    verifier_id: &str,
    time_verified: &str,
    resource_uri: &str,
    policy: (&str, &str),
    input_attestations: &[ResourceDescriptor],
    passed: bool,
    verified_levels: &[String],
) -> Result<Statement, StatementError> {
    if subject.is_empty() {
        return Err(at("/subject", "no subjects"));
    }
    for (i, s) in subject.iter().enumerate() {
        if s.digest.is_empty() {
            return Err(at(
                format!("/subject/{i}/digest"),
                "a subject needs at least one digest",
            ));
        }
        parse_digest(&s.to_value()["digest"], &format!("/subject/{i}/digest"))?;
    }
    for (i, a) in input_attestations.iter().enumerate() {
        if a.digest.is_empty() && a.uri.is_none() {
            return Err(at(
                format!("/predicate/inputAttestations/{i}"),
                "needs a uri or a digest",
            ));
        }
        if !a.digest.is_empty() {
            parse_digest(
                &a.to_value()["digest"],
                &format!("/predicate/inputAttestations/{i}/digest"),
            )?;
        }
    }
    if verifier_id.is_empty() {
        return Err(at("/predicate/verifier/id", "empty"));
    }
    if resource_uri.is_empty() {
        return Err(at("/predicate/resourceUri", "empty"));
    }
    if time::OffsetDateTime::parse(
        time_verified,
        &time::format_description::well_known::Rfc3339,
    )
    .is_err()
    {
        return Err(at(
            "/predicate/timeVerified",
            format!("\"{time_verified}\" is not an RFC 3339 date-time"),
        ));
    }
    let (policy_uri, policy_sha256) = policy;
    if policy_uri.is_empty() {
        return Err(at("/predicate/policy/uri", "empty"));
    }
    let policy_digest = parse_digest(
        &serde_json::json!({ "sha256": policy_sha256 }),
        "/predicate/policy/digest",
    )?;
    if let Some(i) = verified_levels.iter().position(String::is_empty) {
        return Err(at(format!("/predicate/verifiedLevels/{i}"), "empty"));
    }

    let mut p = Map::new();
    p.insert("verifier".into(), serde_json::json!({ "id": verifier_id }));
    p.insert("timeVerified".into(), time_verified.into());
    p.insert("resourceUri".into(), resource_uri.into());
    p.insert(
        "policy".into(),
        serde_json::json!({ "uri": policy_uri, "digest": policy_digest }),
    );
    p.insert(
        "inputAttestations".into(),
        Value::Array(
            input_attestations
                .iter()
                .map(ResourceDescriptor::to_value)
                .collect(),
        ),
    );
    p.insert(
        "verificationResult".into(),
        if passed { "PASSED" } else { "FAILED" }.into(),
    );
    p.insert(
        "verifiedLevels".into(),
        Value::Array(verified_levels.iter().map(|l| l.clone().into()).collect()),
    );
    p.insert("slsaVersion".into(), "1.0".into());
    Ok(Statement {
        statement_type: STATEMENT_V1.into(),
        subjects: subject.to_vec(),
        predicate_type: VSA_V1.into(),
        predicate: Value::Object(p),
    })
}
