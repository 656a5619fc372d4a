//! RFC 3161 timestamps (CMS SignedData over a TSTInfo) from a trusted root's TSAs.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::{Decode as _, Encode as _};

use super::cert::{self, Cert};
use super::crypto::{self, hash_from_oid};
use super::der_util::{self, fmt_time};
use super::trusted_root::TrustedRoot;

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// A verified timestamp: when, and which TSA (its certificate subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampInfo {
    pub time: i64,
    pub tsa_subject: String,
    pub tsa_uri: String,
}

/// Verifies a DER `TimeStampResp` (or bare `TimeStampToken`) over `signature` against
/// the trusted root's TSAs.
pub(crate) fn verify_timestamp(
    der: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<TimestampInfo, String> {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }
    let (outer, _) = der_util::tlv(der)
        .filter(|(t, _)| t.tag == 0x30)
        .ok_or("not a DER SEQUENCE")?;
    let kids = der_util::children(outer.content).ok_or("malformed DER")?;
    let token = match kids.as_slice() {
        [status, token, ..] if status.tag == 0x30 => {
            let st = der_util::children(status.content).ok_or("malformed PKIStatusInfo")?;
            let code = st
                .first()
                .filter(|s| s.tag == 0x02)
                .map(|s| s.content)
                .ok_or("malformed PKIStatusInfo")?;
            if !(code == [0] || code == [1]) {
                return Err(format!("TSA status {} is not granted", hex::encode(code)));
            }
            token.full
        }
        [status] if status.tag == 0x30 => return Err("TSA response carries no token".into()),
        _ => der,
    };
    let ci = ContentInfo::from_der(token).map_err(|e| format!("TimeStampToken: {e}"))?;
    if ci.content_type.to_string() != OID_SIGNED_DATA {
        return Err(format!(
            "TimeStampToken content type {} is not SignedData",
            ci.content_type
        ));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| format!("SignedData: {e}"))?;
    if sd.encap_content_info.econtent_type.to_string() != OID_TST_INFO {
        return Err("encapsulated content is not a TSTInfo".into());
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("no TSTInfo")?;
    let tst_der = der::asn1::OctetStringRef::try_from(econtent)
        .map_err(|e| format!("TSTInfo: {e}"))?
        .as_bytes()
        .to_vec();
    let (imprint_alg, imprint, gen_time) = parse_tst_info(&tst_der)?;
    let h = hash_from_oid(&imprint_alg)
        .ok_or_else(|| format!("unsupported: message imprint hash {imprint_alg}"))?;
    if crypto::digest(h, signature) != imprint {
        return Err("message imprint is not the hash of the bundle's signature".into());
    }

    let signers: Vec<_> = sd.signer_infos.0.iter().collect();
    let [si] = signers.as_slice() else {
        return Err(format!("{} signer infos, expected 1", signers.len()));
    };
    let attrs = si.signed_attrs.as_ref().ok_or("no signed attributes")?;
    let mut md = None;
    let mut ct_ok = false;
    for a in attrs.iter() {
        match a.oid.to_string().as_str() {
            OID_MESSAGE_DIGEST => {
                md = a
                    .values
                    .iter()
                    .next()
                    .and_then(|v| der::asn1::OctetStringRef::try_from(v).ok())
                    .map(|o| o.as_bytes().to_vec())
            }
            OID_CONTENT_TYPE => {
                ct_ok = a
                    .values
                    .iter()
                    .next()
                    .and_then(|v| v.decode_as::<der::asn1::ObjectIdentifier>().ok())
                    .is_some_and(|o| o.to_string() == OID_TST_INFO)
            }
            _ => {}
        }
    }
    if !ct_ok {
        return Err("signed attributes lack content-type TSTInfo".into());
    }
    let dh = hash_from_oid(&si.digest_alg.oid.to_string())
        .ok_or_else(|| format!("unsupported: digest {}", si.digest_alg.oid))?;
    if md.as_deref() != Some(crypto::digest(dh, &tst_der).as_slice()) {
        return Err("signed message-digest attribute is not the TSTInfo's digest".into());
    }
    let signed_attrs_der = attrs
        .to_der()
        .map_err(|e| format!("re-encoding signed attributes: {e}"))?;

    // Certificates the token carries, for finding the signer.
    let mut embedded = Vec::new();
    for c in sd.certificates.iter().flat_map(|s| s.0.iter()) {
        if let CertificateChoices::Certificate(c) = c
            && let Ok(d) = c.to_der()
            && let Ok(p) = Cert::parse(&d)
        {
            embedded.push(p);
        }
    }
    let mut errors = Vec::new();
    for tsa in &root.timestamp_authorities {
        if !tsa.valid.contains(gen_time) {
            errors.push(format!("{}: not valid at {}", tsa.uri, fmt_time(gen_time)));
            continue;
        }
        let chain: Vec<Cert> = match tsa
            .chain
            .iter()
            .map(|c| Cert::parse(c))
            .collect::<Result<_, _>>()
        {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("{}: {e}", tsa.uri));
                continue;
            }
        };
        let Some((anchor, rest)) = chain.split_last() else {
            continue;
        };
        let leaf_candidates: Vec<&Cert> = rest
            .iter()
            .chain(embedded.iter())
            .filter(|c| matches_sid(c, &si.sid))
            .collect();
        for leaf in leaf_candidates {
            let r = (|| -> Result<(), String> {
                let path = cert::build_path(leaf, rest, std::slice::from_ref(anchor), gen_time)?;
                let _ = path;
                if !leaf.has_eku(cert::OID_TIME_STAMPING)? {
                    return Err("TSA certificate lacks the timeStamping EKU".into());
                }
                let key = leaf.key()?;
                let sig = si.signature.as_bytes();
                key.verify_x509(
                    &si.signature_algorithm.oid.to_string(),
                    &signed_attrs_der,
                    sig,
                )
                .or_else(|e| {
                    // Some TSAs name the key algorithm (ecPublicKey) rather than a signature algorithm.
                    if si.signature_algorithm.oid.to_string() == crypto::OID_EC_PUBLIC_KEY
                        || si.signature_algorithm.oid.to_string() == crypto::OID_RSA
                    {
                        key.verify(dh, false, &signed_attrs_der, sig)
                    } else {
                        Err(e)
                    }
                })
            })();
            match r {
                Ok(()) => {
                    return Ok(TimestampInfo {
                        time: gen_time,
                        tsa_subject: leaf.subject(),
                        tsa_uri: tsa.uri.clone(),
                    });
                }
                Err(e) => errors.push(format!("{}: {e}", tsa.uri)),
            }
        }
    }
    Err(if errors.is_empty() {
        "no timestamp authority of the trusted root issued it".into()
    } else {
        errors.join("; ")
    })
}

fn matches_sid(c: &Cert, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            c.cert.tbs_certificate.issuer == is.issuer
                && c.cert.tbs_certificate.serial_number == is.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id.to_string() == "2.5.29.14")
            .and_then(|e| der::asn1::OctetString::from_der(e.extn_value.as_bytes()).ok())
            .is_some_and(|o| o.as_bytes() == ski.0.as_bytes()),
    }
}

/// TSTInfo's message imprint `(hash OID, digest)` and genTime.
fn parse_tst_info(der: &[u8]) -> Result<(String, Vec<u8>, i64), String> {
    let (seq, _) = der_util::tlv(der)
        .filter(|(t, _)| t.tag == 0x30)
        .ok_or("TSTInfo: not a SEQUENCE")?;
    let f = der_util::children(seq.content).ok_or("TSTInfo: malformed")?;
    let [version, _policy, imprint, _serial, gen_time, ..] = f.as_slice() else {
        return Err("TSTInfo: too few fields".into());
    };
    if version.content != [1] {
        return Err("TSTInfo: version is not 1".into());
    }
    let mi = der_util::children(imprint.content).ok_or("TSTInfo messageImprint: malformed")?;
    let [alg, digest] = mi.as_slice() else {
        return Err("TSTInfo messageImprint: malformed".into());
    };
    let alg = spki::AlgorithmIdentifierOwned::from_der(alg.full)
        .map_err(|e| format!("TSTInfo messageImprint: {e}"))?;
    if digest.tag != 0x04 {
        return Err("TSTInfo messageImprint: digest is not an OCTET STRING".into());
    }
    let gt = der::asn1::GeneralizedTime::from_der(gen_time.full)
        .map_err(|e| format!("TSTInfo genTime: {e}"))?;
    let t = i64::try_from(gt.to_unix_duration().as_secs())
        .map_err(|_| "TSTInfo genTime out of range")?;
    Ok((alg.oid.to_string(), digest.content.to_vec(), t))
}
