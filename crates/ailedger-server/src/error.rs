//! The one error type of the HTTP API, rendered as RFC 9457 problem+json. Client
//! errors name what was wrong; server errors are logged and not leaked.

use axum::{
    extract::rejection::{JsonRejection, QueryRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use ailedger_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be read (bad JSON, wrong field types, bad query).
    #[error("{0}")]
    BadRequest(String),
    /// A ref, kind, edge type or value is malformed.
    #[error("{0}")]
    Invalid(String),
    /// A ref names nothing the ledger knows.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the ledger, or a ref is ambiguous.
    #[error("{0}")]
    Conflict(String),
    /// The endpoint exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Stored data does not decode (a tampered or damaged row). Not a secret: an
    /// auditor needs the seq, so the problem names it (`seq`).
    #[error("corrupt ledger at seq {seq}: {reason}")]
    Corrupt { seq: u64, reason: String },
    #[error("internal error")]
    Internal(String),
}

/// The problem type of [`ApiError::Corrupt`].
pub const CORRUPT_PROBLEM: &str = "urn:ailedger:problem:corrupt-ledger";

/// RFC 9457 problem details.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// With the `corrupt-ledger` type: the seq of the entry whose stored row does not
    /// decode (the first bad seq, for an auditor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

impl ApiError {
    /// The same error with `prefix` before a client error's message (which item of a
    /// batch was at fault); server errors are left alone.
    pub fn prefixed(self, prefix: &str) -> ApiError {
        match self {
            ApiError::BadRequest(m) => ApiError::BadRequest(format!("{prefix}{m}")),
            ApiError::Invalid(m) => ApiError::Invalid(format!("{prefix}{m}")),
            ApiError::NotFound(m) => ApiError::NotFound(format!("{prefix}{m}")),
            ApiError::Conflict(m) => ApiError::Conflict(format!("{prefix}{m}")),
            other => other,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Invalid input"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ApiError::Corrupt { .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "corrupt-ledger",
                "Corrupt ledger",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::Corrupt { .. } => tracing::error!(error = %self, "corrupt ledger"),
            _ => {}
        }
        let problem = Problem {
            type_: format!("urn:ailedger:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: self.to_string(),
            seq: match &self {
                ApiError::Corrupt { seq, .. } => Some(*seq),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownArtifact(id) => ApiError::NotFound(format!("unknown artifact {id}")),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(e) => ApiError::Invalid(e.to_string()),
            e @ StoreError::BeyondHead { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Corrupt { seq, reason } => ApiError::Corrupt { seq, reason },
            e @ (StoreError::Backend { .. } | StoreError::Log(_)) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<ailedger_core::Error> for ApiError {
    fn from(e: ailedger_core::Error) -> Self {
        ApiError::Invalid(e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        match e {
            JsonRejection::JsonDataError(e) => ApiError::Invalid(e.body_text()),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::BadRequest(e.body_text())
    }
}
