//! Public keys and signature checks over ring, selected by the X.509 / PKIX algorithm
//! identifiers that Sigstore material carries.

use der::Decode as _;
use ring::signature as rs;
use spki::SubjectPublicKeyInfoOwned;

use super::der_util;

pub(crate) const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
pub(crate) const OID_P256: &str = "1.2.840.10045.3.1.7";
pub(crate) const OID_P384: &str = "1.3.132.0.34";
pub(crate) const OID_ED25519: &str = "1.3.101.112";
pub(crate) const OID_RSA: &str = "1.2.840.113549.1.1.1";
pub(crate) const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";

/// A digest to use with a key (ECDSA and RSA need one; Ed25519 ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa,
}

/// A verification key: its algorithm, the raw key ring takes and its SPKI DER.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub kind: KeyKind,
    raw: Vec<u8>,
}

impl Key {
    /// From a DER SubjectPublicKeyInfo.
    pub(crate) fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        let spki = SubjectPublicKeyInfoOwned::from_der(der)
            .map_err(|e| format!("not a DER SubjectPublicKeyInfo: {e}"))?;
        Self::from_spki(&spki)
    }

    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, String> {
        let alg = spki.algorithm.oid.to_string();
        let raw = spki.subject_public_key.raw_bytes().to_vec();
        let kind = match alg.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                match curve.as_str() {
                    OID_P256 => KeyKind::EcdsaP256,
                    OID_P384 => KeyKind::EcdsaP384,
                    other => return Err(format!("unsupported: elliptic curve {other:?}")),
                }
            }
            OID_ED25519 => KeyKind::Ed25519,
            OID_RSA | OID_RSA_PSS => KeyKind::Rsa,
            other => return Err(format!("unsupported: public key algorithm {other}")),
        };
        Ok(Key { kind, raw })
    }

    /// From a PKCS#1 RSAPublicKey (trusted roots use this for `PKCS1_RSA_*` keys).
    pub(crate) fn from_pkcs1_rsa(der: &[u8]) -> Result<Self, String> {
        der_util::tlv(der)
            .filter(|(t, rest)| t.tag == 0x30 && rest.is_empty())
            .ok_or("not a DER RSAPublicKey")?;
        Ok(Key {
            kind: KeyKind::Rsa,
            raw: der.to_vec(),
        })
    }

    /// The digest this key signs with when nothing else says: SHA-384 for P-384,
    /// SHA-256 otherwise.
    pub(crate) fn default_hash(&self) -> HashAlg {
        match self.kind {
            KeyKind::EcdsaP384 => HashAlg::Sha384,
            _ => HashAlg::Sha256,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.kind {
            KeyKind::EcdsaP256 => "ECDSA P-256",
            KeyKind::EcdsaP384 => "ECDSA P-384",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Rsa => "RSA",
        }
    }

    /// Verifies `sig` over `msg`. ECDSA signatures are DER; RSA is PKCS#1 v1.5, or PSS
    /// when `pss`.
    pub(crate) fn verify(
        &self,
        hash: HashAlg,
        pss: bool,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), String> {
        let alg: &dyn rs::VerificationAlgorithm = match (self.kind, hash, pss) {
            (KeyKind::EcdsaP256, HashAlg::Sha256, _) => &rs::ECDSA_P256_SHA256_ASN1,
            (KeyKind::EcdsaP256, HashAlg::Sha384, _) => &rs::ECDSA_P256_SHA384_ASN1,
            (KeyKind::EcdsaP384, HashAlg::Sha256, _) => &rs::ECDSA_P384_SHA256_ASN1,
            (KeyKind::EcdsaP384, HashAlg::Sha384, _) => &rs::ECDSA_P384_SHA384_ASN1,
            (KeyKind::Ed25519, _, _) => &rs::ED25519,
            (KeyKind::Rsa, HashAlg::Sha256, false) => &rs::RSA_PKCS1_2048_8192_SHA256,
            (KeyKind::Rsa, HashAlg::Sha384, false) => &rs::RSA_PKCS1_2048_8192_SHA384,
            (KeyKind::Rsa, HashAlg::Sha512, false) => &rs::RSA_PKCS1_2048_8192_SHA512,
            (KeyKind::Rsa, HashAlg::Sha256, true) => &rs::RSA_PSS_2048_8192_SHA256,
            (KeyKind::Rsa, HashAlg::Sha384, true) => &rs::RSA_PSS_2048_8192_SHA384,
            (KeyKind::Rsa, HashAlg::Sha512, true) => &rs::RSA_PSS_2048_8192_SHA512,
            (k, h, _) => return Err(format!("unsupported: {k:?} with {h:?}")),
        };
        rs::UnparsedPublicKey::new(alg, &self.raw)
            .verify(msg, sig)
            .map_err(|_| format!("{} signature does not verify", self.name()))
    }

    /// Verifies a DER ECDSA signature over an already-computed digest (RustCrypto's
    /// prehash verification; ring has none). Other key types cannot.
    pub(crate) fn verify_prehash(&self, digest: &[u8], sig: &[u8]) -> Result<(), String> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        let bad = || format!("{} signature does not verify", self.name());
        match self.kind {
            KeyKind::EcdsaP256 => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.raw)
                    .map_err(|_| "invalid P-256 point".to_string())?;
                let sig = p256::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                vk.verify_prehash(digest, &sig).map_err(|_| bad())
            }
            KeyKind::EcdsaP384 => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&self.raw)
                    .map_err(|_| "invalid P-384 point".to_string())?;
                let sig = p384::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                vk.verify_prehash(digest, &sig).map_err(|_| bad())
            }
            _ => Err(format!(
                "unsupported: verifying a {} signature from a digest only; give the artifact bytes",
                self.name()
            )),
        }
    }

    /// Verifies a signature whose algorithm is named by an X.509 AlgorithmIdentifier OID.
    pub(crate) fn verify_x509(
        &self,
        sig_alg_oid: &str,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), String> {
        let (hash, pss) = match sig_alg_oid {
            "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => (HashAlg::Sha256, false),
            "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => (HashAlg::Sha384, false),
            "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => (HashAlg::Sha512, false),
            OID_ED25519 => (HashAlg::Sha256, false),
            OID_RSA_PSS => (HashAlg::Sha256, true),
            other => return Err(format!("unsupported: signature algorithm {other}")),
        };
        let expect_kind = match sig_alg_oid {
            "1.2.840.10045.4.3.2" | "1.2.840.10045.4.3.3" | "1.2.840.10045.4.3.4" => {
                matches!(self.kind, KeyKind::EcdsaP256 | KeyKind::EcdsaP384)
            }
            OID_ED25519 => self.kind == KeyKind::Ed25519,
            _ => self.kind == KeyKind::Rsa,
        };
        if !expect_kind {
            return Err(format!(
                "signature algorithm {sig_alg_oid} does not fit a {} key",
                self.name()
            ));
        }
        self.verify(hash, pss, msg, sig)
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

pub(crate) fn digest(alg: HashAlg, bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    match alg {
        HashAlg::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
    }
}

/// The hash named by a digest AlgorithmIdentifier OID.
pub(crate) fn hash_from_oid(oid: &str) -> Option<HashAlg> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Some(HashAlg::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(HashAlg::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(HashAlg::Sha512),
        _ => None,
    }
}
