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
    /// No valid token (missing, unknown, revoked or expired).
    #[error("{0}")]
    Unauthorized(String),
    /// The token lacks the scope the request needs.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed authentications from this address.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// A limit that frees up (the ingest memory budget) is full now: try again later.
    #[error("{detail}")]
    Busy { detail: String, retry_after: u64 },
    /// A request body larger than the limit for its route (the message names it).
    #[error("{0}")]
    TooLarge(String),
    /// A request for a host name this server was not configured to answer for.
    #[error("{0}")]
    MisdirectedHost(String),
    /// A write whose content type a cross-site form can send.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A server fault. Its detail goes to the log with a request id; the client gets
    /// only the id.
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
    /// With the `internal` type: the id under which the server logged the details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
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
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
            ),
            ApiError::Busy { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Service unavailable",
            ),
            ApiError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Content too large",
            ),
            ApiError::MisdirectedHost(_) => (
                StatusCode::MISDIRECTED_REQUEST,
                "misdirected-host",
                "Misdirected request",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
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
        let mut request_id = None;
        match &self {
            ApiError::Internal(detail) => {
                // The details (database errors among them) stay in the log, under an id
                // the client can quote.
                let id = new_request_id();
                tracing::error!(request_id = %id, %detail, "internal error");
                request_id = Some(id);
            }
            ApiError::Corrupt { .. } => tracing::error!(error = %self, "corrupt ledger"),
            _ => {}
        }
        let detail = match &request_id {
            Some(id) => format!("internal error (request id {id})"),
            None => self.to_string(),
        };
        let problem = Problem {
            type_: format!("urn:ailedger:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            seq: match &self {
                ApiError::Corrupt { seq, .. } => Some(*seq),
                _ => None,
            },
            request_id,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        match &self {
            ApiError::TooManyRequests { retry_after, .. } | ApiError::Busy { retry_after, .. } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
            }
            ApiError::Unauthorized(_) => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"ailedger\""),
                );
            }
            _ => {}
        }
        resp
    }
}

/// 16 random hex digits naming one failed request in the log.
fn new_request_id() -> String {
    let mut b = [0u8; 8];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        b = ailedger_store::now_us().to_be_bytes();
    }
    hex::encode(b)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownArtifact(id) => ApiError::NotFound(format!("unknown artifact {id}")),
            e @ StoreError::UnknownToken(_) => ApiError::NotFound(e.to_string()),
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
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge(format!(
                    "the request body is larger than this route's limit of {} MiB",
                    crate::MAX_BODY >> 20
                ))
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::BadRequest(e.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    /// A server fault answers with a request id, never with its detail (database text).
    #[tokio::test]
    async fn internal_errors_keep_their_detail_in_the_log() {
        let resp =
            ApiError::from(StoreError::other("relation \"tokens\" secret detail")).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap_or_default()
            .to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let id = v["request_id"].as_str().unwrap_or_default();
        assert_eq!(id.len(), 16, "{v}");
        assert_eq!(v["detail"], format!("internal error (request id {id})"));
        assert!(!String::from_utf8_lossy(&bytes).contains("secret"), "{v}");
    }
}
