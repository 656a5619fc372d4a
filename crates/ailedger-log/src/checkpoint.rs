//! Checkpoints: the signed statement "the log named *origin* had *size* entries and
//! this root", in the C2SP tlog-checkpoint format (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is what an auditor keeps: with a later checkpoint and a consistency
//! proof it shows the log only grew; with an inclusion proof it shows an entry is in
//! the log. ailedger writes no extension lines and, being strict, accepts none.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::Hash;
use crate::note::{MAX_NOTE_SIZE, NoteError, Signer, Verifier, open_note, sign_note};

/// A tree head: the log's origin line, its size and its RFC 9162 root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Parses a tree size: ASCII decimal, no sign, no leading zeros (except `0` itself).
fn parse_size(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

fn valid_origin(origin: &str) -> bool {
    !origin.is_empty() && !origin.chars().any(char::is_control)
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint body (the text of an already verified note).
    pub fn parse_body(text: &str) -> Result<Self, NoteError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::Checkpoint("missing final newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(NoteError::Checkpoint(
                "expected exactly origin, size and root lines",
            ));
        };
        if !valid_origin(origin) {
            return Err(NoteError::Checkpoint("empty origin or control character"));
        }
        let size = parse_size(size).ok_or(NoteError::Checkpoint("size is not a decimal number"))?;
        let root = B64
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
            .ok_or(NoteError::Checkpoint("root is not base64 of 32 bytes"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The signed note. Fails only if `origin` is empty or contains a control character
    /// (including a newline).
    pub fn sign(&self, signer: &Signer) -> Result<String, NoteError> {
        if !valid_origin(&self.origin) {
            return Err(NoteError::Checkpoint("empty origin or control character"));
        }
        sign_note(&self.body(), &[signer])
    }

    /// Verifies `note` against `verifier` and parses it (max 16 KiB; unknown signatures
    /// ignored, at least one valid signature by `verifier` required). The caller should
    /// also check that `origin` is the log it expects.
    pub fn open(note: &str, verifier: &Verifier) -> Result<Self, NoteError> {
        if note.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge(note.len()));
        }
        Self::parse_body(open_note(note, verifier)?)
    }
}
