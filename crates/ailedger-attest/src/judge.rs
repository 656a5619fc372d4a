//! Judging a signed document under a trust policy: which signers verified it, whether
//! the policy trusts them for its subjects, the SLSA build level the policy grants,
//! and the outcome (verified, unverified or failed) with the reason.

use std::sync::Arc;

use ailedger_core::Sha256Digest;

use crate::policy::{PRODUCTION_ROOT, PolicyError, PolicyFile, PolicyFiles, PolicyFormat};

/// Which policy judged: its entry's seq and its text's digest (`None` for the built-in
/// empty policy in force before any was set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyRef {
    pub seq: u64,
    pub digest: Sha256Digest,
}

/// A policy ready to judge: keys parsed, regexes compiled, trusted root loaded.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    pub file: PolicyFile,
    pub reference: Option<PolicyRef>,
    pub(crate) trusted_root_json: Arc<str>,
}

impl TrustPolicy {
    /// Reads and checks a policy and the files it names.
    pub fn compile(
        text: &str,
        format: Option<PolicyFormat>,
        files: &PolicyFiles,
        reference: Option<PolicyRef>,
    ) -> Result<(Self, PolicyFormat), PolicyError> {
        let (file, format) = PolicyFile::parse(text, format)?;
        Self::from_file(file, files, reference).map(|p| (p, format))
    }

    /// The built-in policy in force before any was set.
    pub fn empty() -> Result<Self, PolicyError> {
        Self::from_file(PolicyFile::empty(), &PolicyFiles::new(), None)
    }

    fn from_file(
        file: PolicyFile,
        files: &PolicyFiles,
        reference: Option<PolicyRef>,
    ) -> Result<Self, PolicyError> {
        for name in files.keys() {
            if !file.referenced_files().contains(&name.as_str()) {
                return Err(PolicyError::Field {
                    field: format!("files.{name}"),
                    reason: "the policy does not refer to this file".into(),
                });
            }
        }
        let root = &file.sigstore.trusted_root;
        let trusted_root_json: Arc<str> = if root == PRODUCTION_ROOT {
            crate::policy::PRODUCTION_TRUSTED_ROOT_JSON.into()
        } else {
            files
                .get(root)
                .ok_or_else(|| PolicyError::Field {
                    field: "sigstore.trusted_root".into(),
                    reason: format!("names the file {root:?}, which was not given with the policy"),
                })?
                .as_str()
                .into()
        };
        Ok(TrustPolicy {
            file,
            reference,
            trusted_root_json,
        })
    }
}
