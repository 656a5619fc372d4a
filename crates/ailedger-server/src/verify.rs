//! Signed documents at ingest: the trust policy in force is read from the ledger and
//! compiled once per policy entry; documents are judged under it
//! (`ailedger_attest::judge`).

use ailedger_attest::{
    judge::TrustPolicy,
    policy::{PolicyFiles, PolicyFormat},
};

use crate::ApiError;

/// Compiles a policy, mapping its faults to a 422 naming the field.
pub(crate) fn compile(
    text: &str,
    format: Option<PolicyFormat>,
    files: &PolicyFiles,
    reference: Option<ailedger_attest::judge::PolicyRef>,
) -> Result<(TrustPolicy, PolicyFormat), ApiError> {
    TrustPolicy::compile(text, format, files, reference)
        .map_err(|e| ApiError::Invalid(e.to_string()))
}
