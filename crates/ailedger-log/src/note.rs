//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys, in the text
//! formats of Go's `golang.org/x/mod/sumdb/note`.
//!
//! This module exists because checkpoints must be verifiable by anyone, offline, with
//! tools that already exist in the transparency-log ecosystem: a note signed here opens
//! with the Go implementation and vice versa (tested byte for byte against the example
//! key and note published with that package).
//!
//! Formats:
//! * verifier key: `<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>`
//! * signer key: `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>`
//! * key id: the first 4 bytes, big-endian, of `SHA-256(name || "\n" || 0x01 || public key)`
//! * note: text ending in `\n`, a blank line, then one or more lines
//!   `— <name> <base64(4-byte key id || 64-byte signature)>\n`.
//!
//! Parsing is strict and total: any input, however malformed or large, yields an error,
//! never a panic.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Signature type byte of Ed25519 in C2SP signed notes.
pub const ALG_ED25519: u8 = 0x01;
/// Largest note accepted by [`open_note`], in bytes.
pub const MAX_NOTE_SIZE: usize = 16 * 1024;
/// Largest number of signature lines accepted by [`open_note`].
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";
const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key, note or checkpoint was refused. Messages never include secret material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("invalid key name {0:?}: must be non-empty without spaces or '+'")]
    KeyName(String),
    #[error("malformed verifier key: {0}")]
    VerifierKey(&'static str),
    #[error("malformed signer key: {0}")]
    SignerKey(&'static str),
    #[error("key id {stated} does not match the key (expected {computed})")]
    KeyId { stated: String, computed: String },
    #[error("invalid note text: {0}")]
    Text(&'static str),
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("note is {0} bytes, more than the 16 KiB limit")]
    TooLarge(usize),
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("signature by {0} does not verify")]
    BadSignature(String),
    #[error("note is not signed by {0}")]
    NotSignedBy(String),
    #[error("malformed checkpoint: {0}")]
    Checkpoint(&'static str),
}

/// Key names: non-empty, no Unicode white space, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::KeyName(name.to_owned()))
    }
}

/// The key id of an Ed25519 key: `SHA-256(name || 0x0A || 0x01 || public key)[..4]`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Parses exactly 8 lowercase hex digits.
fn parse_key_id(text: &str) -> Option<u32> {
    if text.len() != 8
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Splits `<name>+<hex id>+<base64>` and decodes the `0x01`-tagged 32-byte key material.
fn split_key(text: &str) -> Option<(&str, &str, [u8; 32])> {
    let mut parts = text.splitn(3, '+');
    let name = parts.next()?;
    let id = parts.next()?;
    let material = parts.next()?;
    let bytes = B64.decode(material).ok()?;
    let (&alg, key) = bytes.split_first()?;
    if alg != ALG_ED25519 {
        return None;
    }
    let key: [u8; 32] = key.try_into().ok()?;
    Some((name, id, key))
}

/// A public key that verifies note signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl Verifier {
    /// Parses `<name>+<8 hex key id>+<base64(0x01 || public key)>`. Rejects ids that do
    /// not match the key, non-canonical base64 or point encodings, and weak
    /// (small-order) keys.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let (name, id_text, key) =
            split_key(text).ok_or(NoteError::VerifierKey("expected name+id+base64(0x01||key)"))?;
        check_key_name(name)?;
        let stated = parse_key_id(id_text).ok_or(NoteError::VerifierKey("key id is not 8 hex"))?;
        let vk = VerifyingKey::from_bytes(&key)
            .map_err(|_| NoteError::VerifierKey("not an Ed25519 point"))?;
        if vk.to_edwards().compress().to_bytes() != key {
            return Err(NoteError::VerifierKey("non-canonical point encoding"));
        }
        if vk.is_weak() {
            return Err(NoteError::VerifierKey("small-order public key"));
        }
        let computed = key_id(name, &key);
        if computed != stated {
            return Err(NoteError::KeyId {
                stated: id_text.to_owned(),
                computed: format!("{computed:08x}"),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            id: computed,
            key: vk,
        })
    }

    /// The text form, as accepted by [`Verifier::from_text`].
    pub fn to_text(&self) -> String {
        let mut material = Vec::with_capacity(33);
        material.push(ALG_ED25519);
        material.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(material))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(msg, &sig).is_ok()
    }
}

/// A private key that signs notes. `Debug` does not print the key.
#[derive(Clone)]
pub struct Signer {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}+{:08x}+<redacted>)", self.name, self.id)
    }
}

impl Signer {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key = SigningKey::generate(&mut rand_core::OsRng);
        Ok(Self::with_key(name, key))
    }

    /// A key from a known 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Self::with_key(name, SigningKey::from_bytes(&seed)))
    }

    fn with_key(name: &str, key: SigningKey) -> Self {
        let id = key_id(name, key.verifying_key().as_bytes());
        Self {
            name: name.to_owned(),
            id,
            key,
        }
    }

    /// Parses `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>`.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .strip_prefix(PRIVATE_PREFIX)
            .ok_or(NoteError::SignerKey("expected PRIVATE+KEY+ prefix"))?;
        let (name, id_text, seed) =
            split_key(rest).ok_or(NoteError::SignerKey("expected name+id+base64(0x01||seed)"))?;
        check_key_name(name)?;
        let stated = parse_key_id(id_text).ok_or(NoteError::SignerKey("key id is not 8 hex"))?;
        let signer = Self::with_key(name, SigningKey::from_bytes(&seed));
        if signer.id != stated {
            return Err(NoteError::KeyId {
                stated: id_text.to_owned(),
                computed: format!("{:08x}", signer.id),
            });
        }
        Ok(signer)
    }

    /// The secret text form, as accepted by [`Signer::from_text`]. Store it like a
    /// password.
    pub fn to_text(&self) -> String {
        let mut material = Vec::with_capacity(33);
        material.push(ALG_ED25519);
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "{PRIVATE_PREFIX}{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(material)
        )
    }

    /// The matching public key.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The signature line for `text` (without validating `text`).
    fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.id.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(blob))
    }
}

/// Signed notes must be UTF-8 (guaranteed by `&str`) without ASCII control characters
/// other than newline.
fn check_chars(text: &str) -> Result<(), &'static str> {
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err("contains a control character");
    }
    Ok(())
}

/// Signs `text` (which must end in a newline) with every signer, in order.
pub fn sign_note(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    check_chars(text).map_err(NoteError::Text)?;
    if !text.ends_with('\n') {
        return Err(NoteError::Text("does not end with a newline"));
    }
    if signers.is_empty() {
        return Err(NoteError::Text("no signers"));
    }
    let mut out = String::with_capacity(text.len() + 1 + signers.len() * 128);
    out.push_str(text);
    out.push('\n');
    for signer in signers {
        out.push_str(&signer.signature_line(text));
    }
    Ok(out)
}

/// One parsed signature line.
struct SigLine<'a> {
    name: &'a str,
    id: u32,
    sig: Vec<u8>,
}

fn parse_sig_line(line: &str) -> Result<SigLine<'_>, NoteError> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(NoteError::Malformed("signature line without '— '"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(NoteError::Malformed("signature line without signature"))?;
    if !is_valid_key_name(name) {
        return Err(NoteError::Malformed("invalid key name in signature line"));
    }
    let blob = B64
        .decode(b64)
        .map_err(|_| NoteError::Malformed("signature is not base64"))?;
    if blob.len() < 5 {
        return Err(NoteError::Malformed("signature too short"));
    }
    let id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
    Ok(SigLine {
        name,
        id,
        sig: blob[4..].to_vec(),
    })
}

/// Verifies `note` against `verifier` and returns its text (including the final
/// newline, without the blank separator line).
///
/// Signatures from other keys (different name or key id) are ignored; at least one
/// signature from `verifier` is required, and every signature from `verifier` must
/// verify.
pub fn open_note<'a>(note: &'a str, verifier: &Verifier) -> Result<&'a str, NoteError> {
    if note.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge(note.len()));
    }
    check_chars(note).map_err(NoteError::Malformed)?;
    if !note.ends_with('\n') {
        return Err(NoteError::Malformed("does not end with a newline"));
    }
    // The text ends at the last blank line.
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before signatures"))?;
    let text = &note[..split + 1];
    let sigs = &note[split + 2..];
    if sigs.is_empty() {
        return Err(NoteError::Malformed("no signatures"));
    }
    let mut verified = false;
    for (n, line) in sigs.split_terminator('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let sig = parse_sig_line(line)?;
        if sig.name != verifier.name || sig.id != verifier.id {
            continue;
        }
        if !verifier.verify(text.as_bytes(), &sig.sig) {
            return Err(NoteError::BadSignature(verifier.name.clone()));
        }
        verified = true;
    }
    if verified {
        Ok(text)
    } else {
        Err(NoteError::NotSignedBy(verifier.name.clone()))
    }
}
