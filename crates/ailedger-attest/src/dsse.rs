//! DSSE envelopes (Dead Simple Signing Envelope, v1.0.2).
//!
//! An envelope carries a payload (bytes), its type, and signatures over the payload's
//! pre-authentication encoding ([`pae`]). Parsing is lenient where real signers
//! differ (standard or URL-safe base64, padded or not; unknown fields ignored; `keyid`
//! absent, null or a string) and strict elsewhere (`payloadType` must be a string,
//! `signatures` an array of objects each with a `sig`). Every parse error names the
//! field at fault, e.g. `signatures[1].sig: invalid base64`.
//!
//! [`Envelope::verify`] returns one [`SignatureCheck`] per signature, saying which key
//! verified it with which encoding, or why none did. A signature repeated byte for
//! byte, or a second signature by a key that already verified one, is reported as a
//! duplicate and does not count again ([`SignatureCheck::counts`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

use crate::keys::{KeyAlgorithm, KeyError, PublicKey, SigScheme};

/// Largest envelope (or `.intoto.jsonl` line) accepted: 10 MiB.
pub const MAX_ENVELOPE: usize = 10 * 1024 * 1024;

/// DSSE's pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal
/// bytes counts without leading zeros.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let body_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        10 + type_len.len() + payload_type.len() + body_len.len() + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A parsed DSSE envelope; `payload` and each `sig` are decoded bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope. `keyid` is an unauthenticated hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub keyid: Option<String>,
    pub sig: Vec<u8>,
}

/// Why an envelope (or a JSON Lines file of them) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsseError {
    #[error("envelope is {size} bytes; the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("not JSON: {0}")]
    Json(String),
    #[error("envelope is not a JSON object")]
    NotObject,
    #[error("{field}: {reason}")]
    Field { field: String, reason: String },
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

fn field_err(field: impl Into<String>, reason: impl Into<String>) -> DsseError {
    DsseError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_encode_padding(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, padded or not (one alphabet per value).
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let url_safe = text.bytes().any(|b| b == b'-' || b == b'_');
    let engine = if url_safe {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine
        .decode(text)
        .map_err(|e| format!("invalid base64 ({e})"))
}

impl Envelope {
    /// Parses a JSON envelope (at most [`MAX_ENVELOPE`] bytes).
    pub fn parse(bytes: &[u8]) -> Result<Self, DsseError> {
        if bytes.len() > MAX_ENVELOPE {
            return Err(DsseError::TooLarge {
                size: bytes.len(),
                max: MAX_ENVELOPE,
            });
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| DsseError::Json(e.to_string()))?;
        Self::from_value(&v)
    }

    /// Reads an envelope already parsed as JSON (e.g. a Sigstore bundle's
    /// `dsseEnvelope`).
    pub fn from_value(v: &Value) -> Result<Self, DsseError> {
        let obj = v.as_object().ok_or(DsseError::NotObject)?;
        let payload_type = match obj.get("payloadType") {
            None => return Err(field_err("payloadType", "missing")),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(field_err("payloadType", "not a string")),
        };
        let payload = match obj.get("payload") {
            None => return Err(field_err("payload", "missing")),
            Some(Value::String(s)) => decode_base64(s).map_err(|e| field_err("payload", e))?,
            Some(_) => return Err(field_err("payload", "not a string")),
        };
        let sigs = match obj.get("signatures") {
            None => return Err(field_err("signatures", "missing")),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(field_err("signatures", "not an array")),
        };
        let mut signatures = Vec::with_capacity(sigs.len());
        for (i, s) in sigs.iter().enumerate() {
            let so = s
                .as_object()
                .ok_or_else(|| field_err(format!("signatures[{i}]"), "not an object"))?;
            let sig = match so.get("sig") {
                None => return Err(field_err(format!("signatures[{i}].sig"), "missing")),
                Some(Value::String(s)) => {
                    decode_base64(s).map_err(|e| field_err(format!("signatures[{i}].sig"), e))?
                }
                Some(_) => {
                    return Err(field_err(format!("signatures[{i}].sig"), "not a string"));
                }
            };
            let keyid = match so.get("keyid") {
                None | Some(Value::Null) => None,
                Some(Value::String(k)) if k.is_empty() => None,
                Some(Value::String(k)) => Some(k.clone()),
                Some(_) => {
                    return Err(field_err(format!("signatures[{i}].keyid"), "not a string"));
                }
            };
            signatures.push(Signature { keyid, sig });
        }
        Ok(Envelope {
            payload_type,
            payload,
            signatures,
        })
    }

    /// The bytes the signatures sign: [`pae`] of this envelope.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Checks every signature against the given keys: one result per signature, in
    /// order. An envelope without signatures gives an empty result (unsigned).
    ///
    /// Keys whose key id equals a signature's `keyid` hint are tried first, then the
    /// others (the hint is unauthenticated, so it only orders the search).
    pub fn verify(&self, keys: &[PublicKey]) -> Vec<SignatureCheck> {
        if self.signatures.is_empty() {
            return Vec::new();
        }
        let message = self.pae();
        let keyids: Vec<String> = keys.iter().map(PublicKey::keyid).collect();
        let mut seen_sigs: Vec<(&[u8], usize)> = Vec::new();
        let mut key_used: Vec<Option<usize>> = vec![None; keys.len()];
        let mut out = Vec::with_capacity(self.signatures.len());
        for (index, s) in self.signatures.iter().enumerate() {
            let outcome = if let Some(&(_, of)) = seen_sigs.iter().find(|(b, _)| *b == s.sig) {
                SigOutcome::DuplicateSignature { of }
            } else {
                seen_sigs.push((&s.sig, index));
                match verify_one(&message, s, keys, &keyids) {
                    Ok((k, scheme)) => match key_used[k] {
                        Some(of) => SigOutcome::DuplicateKey {
                            keyid: keyids[k].clone(),
                            of,
                        },
                        None => {
                            key_used[k] = Some(index);
                            SigOutcome::Verified {
                                keyid: keyids[k].clone(),
                                key_index: k,
                                algorithm: keys[k].algorithm(),
                                scheme,
                            }
                        }
                    },
                    Err(f) => SigOutcome::Failed(f),
                }
            };
            out.push(SignatureCheck {
                index,
                keyid_hint: s.keyid.clone(),
                outcome,
            });
        }
        out
    }

    /// The envelope as JSON, laid out exactly as securesystemslib writes it with
    /// Python's `json.dumps(envelope.to_dict(), indent=2)` plus a final newline:
    /// members `payload`, `payloadType`, `signatures` (each `keyid`, `sig`), two-space
    /// indentation, `": "` separators, standard padded base64, non-ASCII escaped.
    /// A signature without a key id is written without `keyid`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.payload.len() * 4 / 3 + 256);
        out.push_str("{\n  \"payload\": \"");
        out.push_str(&STANDARD.encode(&self.payload));
        out.push_str("\",\n  \"payloadType\": ");
        py_json_string(&mut out, &self.payload_type);
        out.push_str(",\n  \"signatures\": [");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n    {\n");
            if let Some(k) = &s.keyid {
                out.push_str("      \"keyid\": ");
                py_json_string(&mut out, k);
                out.push_str(",\n");
            }
            out.push_str("      \"sig\": \"");
            out.push_str(&STANDARD.encode(&s.sig));
            out.push_str("\"\n    }");
        }
        if !self.signatures.is_empty() {
            out.push_str("\n  ");
        }
        out.push_str("]\n}\n");
        out.into_bytes()
    }
}

fn verify_one(
    message: &[u8],
    s: &Signature,
    keys: &[PublicKey],
    keyids: &[String],
) -> Result<(usize, SigScheme), SigFailure> {
    if keys.is_empty() {
        return Err(SigFailure::NoKeys);
    }
    let hinted: Vec<usize> = match &s.keyid {
        Some(h) => (0..keys.len()).filter(|&k| &keyids[k] == h).collect(),
        None => Vec::new(),
    };
    let mut hinted_error = None;
    for &k in &hinted {
        match keys[k].verify(message, &s.sig) {
            Ok(scheme) => return Ok((k, scheme)),
            Err(e) => hinted_error = Some((k, e)),
        }
    }
    for k in (0..keys.len()).filter(|k| !hinted.contains(k)) {
        if let Ok(scheme) = keys[k].verify(message, &s.sig) {
            return Ok((k, scheme));
        }
    }
    match (&s.keyid, hinted_error) {
        (_, Some((k, error))) => Err(SigFailure::BadSignature {
            keyid: keyids[k].clone(),
            error,
        }),
        (Some(h), None) => Err(SigFailure::UnknownKey {
            keyid: h.clone(),
            tried: keys.len(),
        }),
        (None, None) => Err(SigFailure::NoKeyVerifies { tried: keys.len() }),
    }
}

/// The result of checking one signature of an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureCheck {
    /// Position in the envelope's `signatures`.
    pub index: usize,
    /// The signature's `keyid` member, as given (unauthenticated).
    pub keyid_hint: Option<String>,
    pub outcome: SigOutcome,
}

impl SignatureCheck {
    /// True when this signature counts towards a threshold: verified, and neither a
    /// repeat of an earlier signature nor a second signature by the same key.
    pub fn counts(&self) -> bool {
        matches!(self.outcome, SigOutcome::Verified { .. })
    }

    /// The key id that verified this signature, if one did (duplicates included).
    pub fn verified_keyid(&self) -> Option<&str> {
        match &self.outcome {
            SigOutcome::Verified { keyid, .. } | SigOutcome::DuplicateKey { keyid, .. } => {
                Some(keyid)
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for SignatureCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "signatures[{}]: {}", self.index, self.outcome)
    }
}

/// What a signature check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigOutcome {
    /// Verified by `keys[key_index]`, whose key id is `keyid`, with `scheme`.
    Verified {
        keyid: String,
        key_index: usize,
        algorithm: KeyAlgorithm,
        scheme: SigScheme,
    },
    /// The same signature bytes as `signatures[of]`; not checked again, not counted.
    DuplicateSignature { of: usize },
    /// Verified, but by the key that already verified `signatures[of]`; not counted.
    DuplicateKey { keyid: String, of: usize },
    /// Not verified.
    Failed(SigFailure),
}

impl std::fmt::Display for SigOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigOutcome::Verified {
                keyid,
                algorithm,
                scheme,
                ..
            } => write!(f, "verified by key {keyid} ({algorithm}, {scheme})"),
            SigOutcome::DuplicateSignature { of } => {
                write!(f, "duplicate of signatures[{of}] (counted once)")
            }
            SigOutcome::DuplicateKey { keyid, of } => write!(
                f,
                "key {keyid} already verified signatures[{of}] (counted once)"
            ),
            SigOutcome::Failed(e) => write!(f, "not verified: {e}"),
        }
    }
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigFailure {
    #[error("no keys were given")]
    NoKeys,
    /// The `keyid` hint names a key that was not given, and no given key verifies it.
    #[error("signed by key {keyid}, which is not among the {tried} trusted key(s)")]
    UnknownKey { keyid: String, tried: usize },
    /// The hinted key was given but the signature does not verify with it (nor with
    /// any other given key): wrong key or tampered content.
    #[error("signature does not verify with key {keyid}: {error}")]
    BadSignature { keyid: String, error: KeyError },
    /// No `keyid` hint, and none of the given keys verifies it.
    #[error("none of the {tried} trusted key(s) verifies it")]
    NoKeyVerifies { tried: usize },
}

/// Splits an `.intoto.jsonl` file: one JSON object per non-empty line (CRLF and
/// surrounding whitespace tolerated). The objects may be DSSE envelopes or Sigstore
/// bundles; they are returned as JSON for the caller to tell apart. Errors name the
/// line (1-based).
pub fn parse_jsonl(bytes: &[u8]) -> Result<Vec<Value>, DsseError> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if line.len() > MAX_ENVELOPE {
            return Err(DsseError::Line {
                line: line_no,
                reason: format!("{} bytes; the limit is {MAX_ENVELOPE}", line.len()),
            });
        }
        let v: Value = serde_json::from_slice(line).map_err(|e| DsseError::Line {
            line: line_no,
            reason: format!("not JSON: {e}"),
        })?;
        if !v.is_object() {
            return Err(DsseError::Line {
                line: line_no,
                reason: "not a JSON object".into(),
            });
        }
        out.push(v);
    }
    Ok(out)
}

/// Writes `s` as Python's `json.dumps` does by default (`ensure_ascii=True`).
pub(crate) fn py_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Keys the fuzz target verifies against: the DSSE spec's P-256 test key and an
/// Ed25519 key (DER SubjectPublicKeyInfo, base64).
const FUZZ_KEYS: [&str; 2] = [
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZ805D3eqNZywjCI19lInBJOp7YMrCrzAH3CVTAOQ0jgMeCvVTiaRJaRPRDOv8UMs6U4SvKc6pnrIDOoSYI3fdA==",
    "MCowBQYDK2VwAyEA1NBPx7nBciJHjc+Hb//HI1pe716DoNY/mecNOg1xpso=",
];

/// Body of the `attest_dsse` fuzz target: reads `data` as an envelope and as JSON
/// Lines, computes the PAE, verifies against fixed keys and parses the payload as an
/// in-toto statement (and SLSA provenance). Must never panic.
pub fn fuzz_parse(data: &[u8]) {
    let keys: Vec<PublicKey> = FUZZ_KEYS
        .iter()
        .filter_map(|b| STANDARD.decode(b).ok())
        .filter_map(|der| PublicKey::from_spki_der(&der).ok())
        .collect();
    let _ = PublicKey::parse(data);
    let _ = crate::statement::parse(data);
    if let Ok(env) = Envelope::parse(data) {
        let _ = env.pae();
        let checks = env.verify(&keys);
        for c in &checks {
            let _ = c.to_string();
        }
        let _ = env.to_json();
        if let Ok(st) = crate::statement::parse(&env.payload) {
            let _ = crate::statement::to_json(&st);
            if let Some(Ok(p)) = crate::slsa::parse(&st.predicate_type, &st.predicate) {
                let _ = p.source;
            }
        }
    }
    if let Ok(lines) = parse_jsonl(data) {
        for v in lines.iter().take(16) {
            let _ = Envelope::from_value(v);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pae_matches_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn base64_variants() {
        for t in ["+/+/", "-_-_", "+/8", "-_8=", "-_8"] {
            assert!(decode_base64(t).is_ok(), "{t}");
        }
        assert_eq!(decode_base64("-_8").unwrap(), vec![0xfb, 0xff]);
        for t in ["+_", "a b=", "@@@@", "A"] {
            assert!(decode_base64(t).is_err(), "{t}");
        }
    }

    #[test]
    fn python_string_escaping() {
        let mut s = String::new();
        py_json_string(&mut s, "a\"\\\n\u{1}é😀");
        assert_eq!(s, r#""a\"\\\n\u0001\u00e9\ud83d\ude00""#);
    }
}
