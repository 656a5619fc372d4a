//! X.509 for Sigstore: path validation at a given time, Fulcio's identity extensions and
//! the embedded precertificate SCTs (RFC 6962 §3.2).

use der::{Decode as _, Encode as _};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

use super::crypto::{self, HashAlg, Key};
use super::der_util::{self, fmt_time};
use super::trusted_root::LogKey;

const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_SAN: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_EKU: &str = "2.5.29.37";
const OID_SKI: &str = "2.5.29.14";
const OID_AKI: &str = "2.5.29.35";
const OID_NAME_CONSTRAINTS: &str = "2.5.29.30";
const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub(crate) const OID_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_CT_POISON: &str = "1.3.6.1.4.1.11129.2.4.3";
const OID_FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_FULCIO_USERNAME: &str = "1.3.6.1.4.1.57264.1.7";

/// What a verified certificate says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject DN (RFC 4514 text; empty for Fulcio certificates).
    pub subject: String,
    /// The first URI, e-mail or Fulcio username SAN.
    pub san: Option<String>,
    /// Every URI, e-mail and Fulcio username SAN, in order.
    pub sans: Vec<String>,
    /// The OIDC issuer from Fulcio's extension (1.3.6.1.4.1.57264.1.8, else .1.1).
    pub issuer: Option<String>,
    /// SHA-256 of the leaf certificate's DER, lowercase hex.
    pub fingerprint_sha256: String,
    pub not_before: i64,
    pub not_after: i64,
    /// Subjects of the path from the leaf's issuer up to the trust anchor.
    pub chain_subjects: Vec<String>,
}

/// A parsed certificate keeping its exact DER.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    tbs_raw: std::ops::Range<usize>,
    pub cert: Certificate,
    pub not_before: i64,
    pub not_after: i64,
}

impl Cert {
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
        let (outer, _) = der_util::tlv(der).ok_or("not a DER X.509 certificate")?;
        let (tbs, _) = der_util::tlv(outer.content).ok_or("not a DER X.509 certificate")?;
        let start = outer.full.len() - outer.content.len();
        let not_before = unix(cert.tbs_certificate.validity.not_before);
        let not_after = unix(cert.tbs_certificate.validity.not_after);
        Ok(Cert {
            der: der.to_vec(),
            tbs_raw: start..start + tbs.full.len(),
            cert,
            not_before,
            not_after,
        })
    }

    fn tbs(&self) -> &[u8] {
        self.der.get(self.tbs_raw.clone()).unwrap_or_default()
    }

    pub(crate) fn key(&self) -> Result<Key, String> {
        Key::from_spki(&self.cert.tbs_certificate.subject_public_key_info)
    }

    pub(crate) fn spki_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap_or_default()
    }

    pub(crate) fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    fn issuer_name(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    fn ext(&self, oid: &str) -> Option<&x509_cert::ext::Extension> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
    }

    fn ext_value<T: for<'a> der::Decode<'a>>(&self, oid: &str) -> Result<Option<T>, String> {
        match self.ext(oid) {
            None => Ok(None),
            Some(e) => T::from_der(e.extn_value.as_bytes())
                .map(Some)
                .map_err(|err| format!("extension {oid}: {err}")),
        }
    }

    /// Whether `issuer` signed this certificate (names and signature).
    fn signed_by(&self, issuer: &Cert) -> Result<(), String> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(format!(
                "issuer {:?} is not {:?}",
                self.issuer_name(),
                issuer.subject()
            ));
        }
        let key = issuer.key()?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or("signature bit string has unused bits")?;
        key.verify_x509(
            &self.cert.signature_algorithm.oid.to_string(),
            self.tbs(),
            sig,
        )
    }

    fn valid_at(&self, at: i64, what: &str) -> Result<(), String> {
        if at < self.not_before {
            return Err(format!(
                "{what} {:?} not yet valid at {} (valid from {})",
                self.subject(),
                fmt_time(at),
                fmt_time(self.not_before)
            ));
        }
        if at > self.not_after {
            return Err(format!(
                "{what} {:?} expired at {} (valid until {})",
                self.subject(),
                fmt_time(at),
                fmt_time(self.not_after)
            ));
        }
        Ok(())
    }

    fn check_critical(&self, known: &[&str]) -> Result<(), String> {
        for e in self.cert.tbs_certificate.extensions.iter().flatten() {
            let oid = e.extn_id.to_string();
            if e.critical && !known.contains(&oid.as_str()) {
                return Err(format!(
                    "{:?} has an unknown critical extension {oid}",
                    self.subject()
                ));
            }
        }
        Ok(())
    }

    fn check_ca(&self, below: usize) -> Result<(), String> {
        self.check_critical(&[
            OID_KEY_USAGE,
            OID_BASIC_CONSTRAINTS,
            OID_EKU,
            OID_SKI,
            OID_AKI,
            OID_NAME_CONSTRAINTS,
        ])?;
        let bc: Option<BasicConstraints> = self.ext_value(OID_BASIC_CONSTRAINTS)?;
        let Some(bc) = bc.filter(|b| b.ca) else {
            return Err(format!(
                "{:?} is not a CA (basicConstraints cA is not true)",
                self.subject()
            ));
        };
        if let Some(n) = bc.path_len_constraint
            && below > usize::from(n)
        {
            return Err(format!(
                "{:?} allows {n} intermediate CAs below it, the path has {below}",
                self.subject()
            ));
        }
        let ku: Option<KeyUsage> = self.ext_value(OID_KEY_USAGE)?;
        if let Some(ku) = ku
            && !ku.key_cert_sign()
        {
            return Err(format!(
                "{:?} may not sign certificates (keyUsage lacks keyCertSign)",
                self.subject()
            ));
        }
        Ok(())
    }

    pub(crate) fn has_eku(&self, oid: &str) -> Result<bool, String> {
        let eku: Option<ExtendedKeyUsage> = self.ext_value(OID_EKU)?;
        Ok(eku.is_some_and(|e| e.0.iter().any(|o| o.to_string() == oid)))
    }

    pub(crate) fn info(&self, chain: &[&Cert]) -> Result<CertInfo, String> {
        let mut sans = Vec::new();
        let san: Option<SubjectAltName> = self.ext_value(OID_SAN)?;
        for n in san.iter().flat_map(|s| s.0.iter()) {
            match n {
                GeneralName::UniformResourceIdentifier(s) | GeneralName::Rfc822Name(s) => {
                    sans.push(s.to_string())
                }
                GeneralName::OtherName(o) if o.type_id.to_string() == OID_FULCIO_USERNAME => {
                    if let Ok(s) = o.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                        sans.push(s.as_str().to_string());
                    }
                }
                _ => {}
            }
        }
        let issuer = match self.ext(OID_FULCIO_ISSUER_V2) {
            Some(e) => Some(
                der::asn1::Utf8StringRef::from_der(e.extn_value.as_bytes())
                    .map_err(|err| {
                        format!("extension {OID_FULCIO_ISSUER_V2} (OIDC issuer): {err}")
                    })?
                    .as_str()
                    .to_string(),
            ),
            None => match self.ext(OID_FULCIO_ISSUER_V1) {
                Some(e) => Some(
                    std::str::from_utf8(e.extn_value.as_bytes())
                        .map_err(|_| {
                            format!("extension {OID_FULCIO_ISSUER_V1} (OIDC issuer): not UTF-8")
                        })?
                        .to_string(),
                ),
                None => None,
            },
        };
        Ok(CertInfo {
            subject: self.subject(),
            san: sans.first().cloned(),
            sans,
            issuer,
            fingerprint_sha256: hex::encode(crypto::sha256(&self.der)),
            not_before: self.not_before,
            not_after: self.not_after,
            chain_subjects: chain.iter().map(|c| c.subject()).collect(),
        })
    }
}

fn unix(t: x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Builds and checks the path leaf → intermediates → anchor, everything valid at `at`.
/// Returns the path above the leaf (issuer first, anchor last).
pub(crate) fn build_path<'c>(
    leaf: &Cert,
    intermediates: &'c [Cert],
    anchors: &'c [Cert],
    at: i64,
) -> Result<Vec<&'c Cert>, String> {
    leaf.valid_at(at, "certificate")?;
    let mut path: Vec<&Cert> = Vec::new();
    let mut used = vec![false; intermediates.len()];
    let mut last_err = String::new();
    'walk: for _ in 0..8 {
        let current = path.last().copied().unwrap_or(leaf);
        for a in anchors {
            match current.signed_by(a) {
                Ok(()) => {
                    a.valid_at(at, "trust anchor")?;
                    a.check_ca(path.len())?;
                    path.push(a);
                    return Ok(path);
                }
                Err(e) => last_err = e,
            }
        }
        for (i, c) in intermediates.iter().enumerate() {
            if used[i] || c.der == current.der {
                continue;
            }
            match current.signed_by(c) {
                Ok(()) => {
                    c.valid_at(at, "intermediate CA")?;
                    c.check_ca(path.len())?;
                    used[i] = true;
                    path.push(c);
                    continue 'walk;
                }
                Err(e) => last_err = e,
            }
        }
        break;
    }
    let top = path.last().copied().unwrap_or(leaf);
    Err(format!(
        "no path from {:?} (issued by {:?}) to a trust anchor: {last_err}",
        leaf.subject(),
        top.issuer_name()
    ))
}

pub(crate) fn valid_at(c: &Cert, at: i64, what: &str) -> Result<(), String> {
    c.valid_at(at, what)
}

/// Checks the leaf's own constraints for signing: digitalSignature key usage if the
/// extension is present, no unknown critical extension.
pub(crate) fn check_leaf(leaf: &Cert) -> Result<(), String> {
    leaf.check_critical(&[
        OID_KEY_USAGE,
        OID_BASIC_CONSTRAINTS,
        OID_EKU,
        OID_SAN,
        OID_SKI,
        OID_AKI,
    ])?;
    if leaf.ext(OID_CT_POISON).is_some() {
        return Err("the certificate is a CT precertificate (poison extension)".into());
    }
    let ku: Option<KeyUsage> = leaf.ext_value(OID_KEY_USAGE)?;
    if let Some(ku) = ku
        && !ku.digital_signature()
    {
        return Err("keyUsage lacks digitalSignature".into());
    }
    Ok(())
}

pub(crate) fn code_signing(leaf: &Cert) -> Result<(), String> {
    if !leaf.has_eku(OID_CODE_SIGNING)? {
        return Err("extendedKeyUsage lacks codeSigning (1.3.6.1.5.5.7.3.3)".into());
    }
    Ok(())
}

/// Verifies `leaf_der` through `chain_der` (intermediates, any order) to one of
/// `anchors` (DER), every certificate valid at `at_unix`. No Fulcio-specific checks:
/// this is also model signing's "certificate" mode. Bundled roots among `chain_der` are
/// ignored unless they are anchors too.
pub fn verify_chain(
    leaf_der: &[u8],
    chain_der: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at_unix: i64,
) -> Result<CertInfo, super::SigstoreError> {
    use super::SigstoreError::Certificate as E;
    let leaf = Cert::parse(leaf_der).map_err(|e| E(format!("leaf: {e}")))?;
    let mut inter = Vec::new();
    for (i, c) in chain_der.iter().enumerate() {
        inter.push(Cert::parse(c).map_err(|e| E(format!("chain[{i}]: {e}")))?);
    }
    let mut anch = Vec::new();
    for (i, c) in anchors.iter().enumerate() {
        anch.push(Cert::parse(c).map_err(|e| E(format!("anchor[{i}]: {e}")))?);
    }
    if anch.is_empty() {
        return Err(E("no trust anchors given".into()));
    }
    check_leaf(&leaf).map_err(E)?;
    let path = build_path(&leaf, &inter, &anch, at_unix).map_err(E)?;
    leaf.info(&path).map_err(E)
}

/// Verifies the leaf's embedded SCTs: at least one must be from a CT log of the trusted
/// root, valid then, and sign the precertificate (TBS without the SCT list) with the
/// issuer's key hash. Returns the hex log ids that verified.
pub(crate) fn verify_scts(
    leaf: &Cert,
    issuer: &Cert,
    ctlogs: &[LogKey],
) -> Result<Vec<String>, String> {
    let ext = leaf
        .ext(OID_SCT_LIST)
        .ok_or("the certificate carries no embedded SCT")?;
    let (octets, _) = der_util::tlv(ext.extn_value.as_bytes())
        .filter(|(t, _)| t.tag == 0x04)
        .ok_or("SCT list: not an OCTET STRING")?;
    let list = octets.content;
    let total = usize::from(u16::from_be_bytes([
        *list.first().ok_or("SCT list: empty")?,
        *list.get(1).ok_or("SCT list: truncated")?,
    ]));
    let mut rest = list.get(2..2 + total).ok_or("SCT list: truncated")?;
    // The precertificate's TBS: the leaf's TBS without the SCT list extension.
    let mut tbs = leaf.cert.tbs_certificate.clone();
    if let Some(exts) = tbs.extensions.as_mut() {
        exts.retain(|e| e.extn_id.to_string() != OID_SCT_LIST);
    }
    let tbs_der = tbs
        .to_der()
        .map_err(|e| format!("re-encoding the precertificate TBS: {e}"))?;
    let issuer_key_hash = crypto::sha256(&issuer.spki_der());
    let mut verified = Vec::new();
    let mut errors = Vec::new();
    let mut n = 0;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([
            rest[0],
            *rest.get(1).ok_or("SCT list: truncated")?,
        ]));
        let sct = rest.get(2..2 + len).ok_or("SCT list: truncated")?;
        rest = &rest[2 + len..];
        match verify_one_sct(sct, &tbs_der, &issuer_key_hash, ctlogs) {
            Ok(id) => verified.push(id),
            Err(e) => errors.push(format!("SCT {n}: {e}")),
        }
        n += 1;
    }
    if verified.is_empty() {
        return Err(if errors.is_empty() {
            "the SCT list is empty".into()
        } else {
            errors.join("; ")
        });
    }
    Ok(verified)
}

fn verify_one_sct(
    sct: &[u8],
    tbs_der: &[u8],
    issuer_key_hash: &[u8; 32],
    ctlogs: &[LogKey],
) -> Result<String, String> {
    let get = |r: std::ops::Range<usize>| sct.get(r).ok_or("truncated");
    if *get(0..1)?.first().unwrap_or(&1) != 0 {
        return Err("not a v1 SCT".into());
    }
    let log_id = get(1..33)?;
    let ts_bytes = get(33..41)?;
    let ts = u64::from_be_bytes(ts_bytes.try_into().map_err(|_| "truncated")?);
    let ext_len = usize::from(u16::from_be_bytes(
        get(41..43)?.try_into().map_err(|_| "truncated")?,
    ));
    let exts = get(43..43 + ext_len)?;
    let p = 43 + ext_len;
    let hash = get(p..p + 1)?[0];
    let sig_alg = get(p + 1..p + 2)?[0];
    let sig_len = usize::from(u16::from_be_bytes(
        get(p + 2..p + 4)?.try_into().map_err(|_| "truncated")?,
    ));
    let sig = get(p + 4..p + 4 + sig_len)?;
    let log_hex = hex::encode(log_id);
    let log = ctlogs
        .iter()
        .find(|l| l.log_id == log_id)
        .ok_or_else(|| format!("log {log_hex} is not in the trusted root"))?;
    let ts_s = i64::try_from(ts / 1000).unwrap_or(i64::MAX);
    if !log.valid.contains(ts_s) {
        return Err(format!(
            "CT log {log_hex} key not valid at the SCT time {}",
            fmt_time(ts_s)
        ));
    }
    let tbs_len = u32::try_from(tbs_der.len()).map_err(|_| "TBS too long")?;
    if tbs_len >= 1 << 24 {
        return Err("TBS too long".into());
    }
    let mut signed = Vec::with_capacity(tbs_der.len() + 64);
    signed.push(0); // version v1
    signed.push(0); // signature_type certificate_timestamp
    signed.extend_from_slice(ts_bytes);
    signed.extend_from_slice(&[0, 1]); // entry_type precert_entry
    signed.extend_from_slice(issuer_key_hash);
    signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    signed.extend_from_slice(tbs_der);
    signed.extend_from_slice(&u16::try_from(ext_len).unwrap_or(0).to_be_bytes());
    signed.extend_from_slice(exts);
    let h = match hash {
        4 => HashAlg::Sha256,
        5 => HashAlg::Sha384,
        6 => HashAlg::Sha512,
        other => return Err(format!("unsupported: SCT hash algorithm {other}")),
    };
    if !matches!(sig_alg, 1 | 3) {
        return Err(format!("unsupported: SCT signature algorithm {sig_alg}"));
    }
    log.key
        .verify(h, false, &signed, sig)
        .map_err(|e| format!("log {log_hex}: {e}"))?;
    Ok(log_hex)
}
