//! API tokens: who may read, write or administer the ledger.
//!
//! A token is a random secret shown once; the ledger records only its grant — name,
//! scope, expiry and the SHA-256 of the secret — as a `token` entry, and its revocation
//! as a `token-revoke` entry. The secret itself never enters an entry, a derived row or
//! a log. The token's name is the actor of every entry written with it.
//!
//! Secrets are 32 random bytes (from the caller: this crate does no I/O), written as
//! `ailt_` and 43 characters of unpadded base64url; their hash is over that text.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Error, Sha256Digest};

/// The prefix of every token secret (lets secret scanners recognise a leaked one).
pub const SECRET_PREFIX: &str = "ailt_";

/// What a token may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Queries: impact, deps, artifacts, entries, documents, the log.
    Read,
    /// Registrations, links, deployments, ingest.
    Write,
    /// Token management, trust policy, incident actions.
    Admin,
}

impl Scope {
    pub const NAMES: [&'static str; 3] = ["read", "write", "admin"];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token of this scope may do what `needed` guards.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            _ => Err(Error::Token(format!(
                "unknown scope {s:?} (expected one of: {})",
                Scope::NAMES.join(", ")
            ))),
        }
    }
}

/// A grant as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenGrant {
    /// Its name: the actor recorded on every entry written with it.
    pub name: String,
    pub scope: Scope,
    /// SHA-256 of the secret's text.
    pub hash: Sha256Digest,
    /// When it stops working (RFC 3339, UTC), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Checks a token name: 1 to 64 characters of ASCII letters, digits, `.`, `_`, `-`,
/// `@`, `+`, starting with a letter or digit (it is an actor name in every entry and
/// appears in URLs).
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+');
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 64 || !first_ok || !name.chars().all(ok_char) {
        return Err(Error::Token(format!(
            "bad token name {name:?}: 1 to 64 characters of letters, digits, '.', '_', '-', '@', '+', starting with a letter or digit"
        )));
    }
    Ok(())
}

/// The secret text for 32 random bytes.
pub fn secret_from_bytes(random: &[u8; 32]) -> String {
    use base64::Engine as _;
    let mut s = String::with_capacity(SECRET_PREFIX.len() + 43);
    s.push_str(SECRET_PREFIX);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(random, &mut s);
    s
}

/// The hash a grant records for a secret.
pub fn hash_secret(secret: &str) -> Sha256Digest {
    Sha256Digest::of(secret.as_bytes())
}

/// Whether a string has the shape of a token secret (it may still be unknown).
pub fn looks_like_secret(s: &str) -> bool {
    s.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_ordered() {
        assert!(Scope::Admin.allows(Scope::Write));
        assert!(Scope::Write.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Write));
        assert!(!Scope::Write.allows(Scope::Admin));
        for n in Scope::NAMES {
            assert_eq!(n.parse::<Scope>().unwrap().as_str(), n);
        }
        assert!(
            "root"
                .parse::<Scope>()
                .unwrap_err()
                .to_string()
                .contains("read, write, admin")
        );
    }

    #[test]
    fn names() {
        for ok in ["ci", "ci-bot", "alice@example.com", "a", "deploy+prod.1"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "-x", "a b", "ü", "x/y", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets() {
        let s = secret_from_bytes(&[0xfb; 32]);
        assert!(looks_like_secret(&s), "{s}");
        assert_eq!(s.len(), 48);
        assert!(!looks_like_secret(&s[..47]));
        assert_ne!(
            hash_secret(&s),
            hash_secret(&secret_from_bytes(&[0xfa; 32]))
        );
    }
}
