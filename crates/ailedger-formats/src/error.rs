//! The one error type of the crate: every refusal names the format, where in the
//! document (JSON pointer, or line and column) and what was expected.

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The content matches no supported format.
    #[error("unrecognised document: {0}")]
    Unrecognised(String),
    /// The input is larger than [`crate::Limits::max_bytes`].
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// The bytes are not well-formed in the document's syntax (JSON, XML, TOML).
    #[error("{format}: {syntax} syntax error at line {line}, column {column}: {message}")]
    Syntax {
        format: String,
        syntax: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// The document is well-formed but violates its format or one of our limits.
    #[error("{format}: {pointer}: {message}")]
    Invalid {
        format: String,
        pointer: String,
        message: String,
    },
}

impl Error {
    pub(crate) fn invalid(format: &str, pointer: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            format: format.to_owned(),
            pointer: if pointer.is_empty() {
                "/".to_owned()
            } else {
                pointer.to_owned()
            },
            message: message.into(),
        }
    }
}
