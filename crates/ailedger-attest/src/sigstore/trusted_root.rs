//! Sigstore `TrustedRoot` JSON: Fulcio CAs, Rekor logs, CT logs and TSAs, each valid for
//! a time window.

use serde_json::Value;

use super::SigstoreError;
use super::crypto::Key;
use super::json::{self, err};

/// A validity window in Unix seconds; `end` absent means still valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Window {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }
}

/// A transparency log (Rekor or CT): its id, key and the window its key is valid for.
#[derive(Debug, Clone)]
pub struct LogKey {
    pub base_url: String,
    pub log_id: Vec<u8>,
    pub(crate) key: Key,
    pub valid: Window,
}

/// A certificate authority (Fulcio or a TSA): its chain, leaf-most first, root last.
#[derive(Debug, Clone)]
pub struct CertAuthority {
    pub uri: String,
    pub chain: Vec<Vec<u8>>,
    pub valid: Window,
}

/// A parsed Sigstore trusted root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    pub media_type: String,
    pub tlogs: Vec<LogKey>,
    pub ctlogs: Vec<LogKey>,
    pub certificate_authorities: Vec<CertAuthority>,
    pub timestamp_authorities: Vec<CertAuthority>,
}

impl TrustedRoot {
    /// Parses `trusted_root.json` (media type `application/vnd.dev.sigstore.trustedroot+json;version=0.1` or `…v0.2+json`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        if bytes.len() > super::MAX_BUNDLE_BYTES {
            return Err(SigstoreError::TooLarge { size: bytes.len() });
        }
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| err("trusted root", format!("invalid JSON: {e}")))?;
        if !v.is_object() {
            return Err(err("trusted root", "expected a JSON object"));
        }
        let media_type = json::opt_str(&v, "", "mediaType")?
            .unwrap_or_default()
            .to_string();
        if !media_type.is_empty()
            && !media_type.starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(err(
                "mediaType",
                format!("not a Sigstore trusted root: {media_type:?}"),
            ));
        }
        let logs = |key: &str| -> Result<Vec<LogKey>, SigstoreError> {
            let mut out = Vec::new();
            for (i, l) in json::opt_arr(&v, "", key)?.iter().enumerate() {
                let p = format!("{key}[{i}]");
                out.push(parse_log(l, &p)?);
            }
            Ok(out)
        };
        let cas = |key: &str| -> Result<Vec<CertAuthority>, SigstoreError> {
            let mut out = Vec::new();
            for (i, c) in json::opt_arr(&v, "", key)?.iter().enumerate() {
                let p = format!("{key}[{i}]");
                let chain_v = json::req(c, &p, "certChain")?;
                let cp = format!("{p}.certChain");
                let mut chain = Vec::new();
                for (j, cert) in json::opt_arr(chain_v, &cp, "certificates")?
                    .iter()
                    .enumerate()
                {
                    chain.push(json::req_b64(
                        cert,
                        &format!("{cp}.certificates[{j}]"),
                        "rawBytes",
                    )?);
                }
                if chain.is_empty() {
                    return Err(err(&format!("{cp}.certificates"), "empty"));
                }
                out.push(CertAuthority {
                    uri: json::opt_str(c, &p, "uri")?.unwrap_or_default().to_string(),
                    chain,
                    valid: window(c, &p)?,
                });
            }
            Ok(out)
        };
        Ok(TrustedRoot {
            media_type,
            tlogs: logs("tlogs")?,
            ctlogs: logs("ctlogs")?,
            certificate_authorities: cas("certificateAuthorities")?,
            timestamp_authorities: cas("timestampAuthorities")?,
        })
    }

    /// The pinned public-good root ([`super::PRODUCTION_ROOT`]).
    pub fn production() -> Result<Self, SigstoreError> {
        Self::from_json(super::PRODUCTION_ROOT)
    }

    pub(crate) fn tlog(&self, log_id: &[u8]) -> Option<&LogKey> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }
}

fn window(v: &Value, path: &str) -> Result<Window, SigstoreError> {
    match json::field(v, path, "validFor") {
        None => Ok(Window {
            start: None,
            end: None,
        }),
        Some(w) => {
            let p = json::join(path, "validFor");
            Ok(Window {
                start: json::opt_time(w, &p, "start")?,
                end: json::opt_time(w, &p, "end")?,
            })
        }
    }
}

fn parse_log(l: &Value, p: &str) -> Result<LogKey, SigstoreError> {
    let pk = json::req(l, p, "publicKey")?;
    let pkp = format!("{p}.publicKey");
    let raw = json::req_b64(pk, &pkp, "rawBytes")?;
    let details = json::opt_str(pk, &pkp, "keyDetails")?.unwrap_or_default();
    let key = if details.starts_with("PKCS1_RSA") {
        Key::from_pkcs1_rsa(&raw)
    } else {
        Key::from_spki_der(&raw)
    }
    .map_err(|e| err(&format!("{pkp}.rawBytes"), e))?;
    let log_id = json::req_b64(json::req(l, p, "logId")?, &format!("{p}.logId"), "keyId")?;
    Ok(LogKey {
        base_url: json::opt_str(l, p, "baseUrl")?
            .unwrap_or_default()
            .to_string(),
        log_id,
        key,
        valid: window(pk, &pkp)?,
    })
}
