//! SHA-256 digests as validated values: `sha256:<64 lowercase hex>`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::Error;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Parses bare hex (64 characters, either case).
    pub fn from_hex(input: &str) -> Result<Self, Error> {
        let err = |reason| Error::Digest {
            input: input.to_owned(),
            reason,
        };
        if input.len() != 64 {
            return Err(err("a SHA-256 digest is 64 hex characters"));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(input, &mut out).map_err(|_| err("not hexadecimal"))?;
        Ok(Self(out))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for Sha256Digest {
    type Err = Error;
    /// Accepts `sha256:<hex>`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let hex = s.strip_prefix("sha256:").ok_or_else(|| Error::Digest {
            input: s.to_owned(),
            reason: "expected sha256:<64 hex characters>",
        })?;
        Self::from_hex(hex).map_err(|e| match e {
            Error::Digest { reason, .. } => Error::Digest {
                input: s.to_owned(),
                reason,
            },
            other => other,
        })
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Result<&str, &str>) {
        match (input.parse::<Sha256Digest>(), expect) {
            (Ok(d), Ok(want)) => assert_eq!(d.to_string(), want),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_and_rejects() {
        let h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        check(&format!("sha256:{h}"), Ok(&format!("sha256:{h}")));
        check(
            &format!("sha256:{}", h.to_uppercase()),
            Ok(&format!("sha256:{h}")),
        );
        check(&format!("sha256:{}", &h[..63]), Err("64 hex"));
        check(&format!("sha256:{}g", &h[..63]), Err("not hexadecimal"));
        check(h, Err("expected sha256:"));
        assert_eq!(Sha256Digest::of(b"").hex(), h);
    }
}
