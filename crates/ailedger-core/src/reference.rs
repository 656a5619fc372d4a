//! References: the three ways a user names an artifact.
//!
//! - `sha256:<hex>`: the digest of its bytes (for a model or dataset directory, of its manifest);
//! - a purl, normalised (`pkg:pypi/torch@2.4.1`);
//! - `<kind>:<name>[@<version>]` (`model:llama-ft@3`, `deployment:prod/chatbot`).
//!
//! Every artifact has one canonical ref (its id) and any number of aliases, each of
//! which is a `Ref` in its canonical string form.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{ArtifactKind, Error, Purl, Sha256Digest};

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Ref {
    Digest(Sha256Digest),
    Purl(Purl),
    Named {
        kind: ArtifactKind,
        name: String,
        version: Option<String>,
    },
}

impl Ref {
    /// `<kind>:<name>[@<version>]`, built from its parts. Refused when the parts could
    /// not be read back from the ref's text: besides the checks every name and version
    /// get, a version may not contain `@`, and a name given without a version may not
    /// contain `@` after its first character (`model:foo@bar` reads as name `foo`,
    /// version `bar`).
    pub fn named(kind: ArtifactKind, name: &str, version: Option<&str>) -> Result<Self, Error> {
        let shown = || match version {
            Some(v) => format!("{kind}:{name}@{v}"),
            None => format!("{kind}:{name}"),
        };
        check_name_part(&shown(), "name", name)?;
        match version {
            Some(v) => {
                check_name_part(&shown(), "version", v)?;
                if v.contains('@') {
                    return Err(Error::Ref {
                        input: shown(),
                        reason: format!("the version {v:?} contains '@'"),
                    });
                }
            }
            None if name.get(1..).is_some_and(|rest| rest.contains('@')) => {
                return Err(Error::Ref {
                    input: shown(),
                    reason: format!(
                        "the name {name:?} contains '@' and no version is given, so the ref would read as name@version; give a version"
                    ),
                });
            }
            None => {}
        }
        Ok(Ref::Named {
            kind,
            name: name.to_owned(),
            version: version.map(str::to_owned),
        })
    }

    /// The kind this ref's form implies, if any (`pkg:` refs are packages).
    pub fn implied_kind(&self) -> Option<ArtifactKind> {
        match self {
            Ref::Digest(_) => None,
            Ref::Purl(_) => Some(ArtifactKind::Package),
            Ref::Named { kind, .. } => Some(*kind),
        }
    }
}

fn check_name_part(input: &str, what: &str, part: &str) -> Result<(), Error> {
    let err = |reason: String| Error::Ref {
        input: input.to_owned(),
        reason,
    };
    if part.is_empty() {
        return Err(err(format!("the {what} is empty")));
    }
    if part.len() > 512 {
        return Err(err(format!("the {what} is longer than 512 bytes")));
    }
    if let Some(c) = part.chars().find(|c| c.is_control()) {
        return Err(err(format!(
            "the {what} contains the control character {c:?}"
        )));
    }
    if part.trim() != part {
        return Err(err(format!("the {what} starts or ends with whitespace")));
    }
    Ok(())
}

impl FromStr for Ref {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        if input.starts_with("sha256:") {
            return Ok(Ref::Digest(input.parse()?));
        }
        if input.starts_with("pkg:") {
            return Ok(Ref::Purl(input.parse()?));
        }
        let Some((kind, rest)) = input.split_once(':') else {
            return Err(Error::Ref {
                input: input.to_owned(),
                reason: "expected sha256:<hex>, a purl (pkg:…) or <kind>:<name>[@<version>]".into(),
            });
        };
        let kind: ArtifactKind = kind.parse().map_err(|_| Error::Ref {
            input: input.to_owned(),
            reason: format!(
                "{kind:?} is neither sha256, pkg nor an artifact kind ({})",
                ArtifactKind::NAMES.join(", ")
            ),
        })?;
        // The version follows the last `@` that is not the first character
        // (names such as `@scope/pkg` keep their leading `@`).
        let (name, version) = match rest.rfind('@').filter(|&i| i > 0) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        check_name_part(input, "name", name)?;
        if let Some(v) = version {
            check_name_part(input, "version", v)?;
        }
        Ok(Ref::Named {
            kind,
            name: name.to_owned(),
            version: version.map(str::to_owned),
        })
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Digest(d) => d.fmt(f),
            Ref::Purl(p) => p.fmt(f),
            Ref::Named {
                kind,
                name,
                version: Some(v),
            } => write!(f, "{kind}:{name}@{v}"),
            Ref::Named {
                kind,
                name,
                version: None,
            } => write!(f, "{kind}:{name}"),
        }
    }
}

impl Serialize for Ref {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ref {
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
        match (input.parse::<Ref>(), expect) {
            (Ok(r), Ok(want)) => assert_eq!(r.to_string(), want),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{input}: {e}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    /// Every ref `Ref::named` builds reads back as the same parts; what could not is
    /// refused.
    #[test]
    fn named_refs_round_trip_or_are_refused() {
        let names = [
            "foo",
            "foo@bar",
            "@scope/pkg",
            "@",
            "a b",
            "@scope/pkg@x",
            " x",
            "",
        ];
        let versions = [None, Some("1"), Some("1@2"), Some(""), Some("2.0 ")];
        let mut refused = 0;
        for name in names {
            for version in versions {
                match Ref::named(ArtifactKind::Model, name, version) {
                    Ok(r) => {
                        let back: Ref = r.to_string().parse().unwrap();
                        assert_eq!(back, r, "{name:?} {version:?}");
                        let Ref::Named {
                            name: n,
                            version: v,
                            ..
                        } = back
                        else {
                            panic!("not named")
                        };
                        assert_eq!((n.as_str(), v.as_deref()), (name, version));
                    }
                    Err(e) => {
                        refused += 1;
                        assert!(matches!(e, Error::Ref { .. }), "{e}");
                    }
                }
            }
        }
        assert_eq!(refused, 30, "of 40 combinations: 10 are representable");
        let e = Ref::named(ArtifactKind::Model, "foo@bar", None).unwrap_err();
        assert!(e.to_string().contains("give a version"), "{e}");
        let e = Ref::named(ArtifactKind::Model, "foo", Some("1@2")).unwrap_err();
        assert!(e.to_string().contains("contains '@'"), "{e}");
    }

    #[test]
    fn forms() {
        let h = "a".repeat(64);
        check(&format!("sha256:{h}"), Ok(&format!("sha256:{h}")));
        check("pkg:pypi/Torch@2.4.1", Ok("pkg:pypi/torch@2.4.1"));
        check("model:llama-ft@3", Ok("model:llama-ft@3"));
        check("deployment:prod/chatbot", Ok("deployment:prod/chatbot"));
        check("package:@scope/pkg@1.0", Ok("package:@scope/pkg@1.0"));
        check("package:@scope/pkg", Ok("package:@scope/pkg"));
        check("model:x@", Err("the version is empty"));
        check("model:@1", Ok("model:@1"));
        check("model:", Err("the name is empty"));
        check("model:a b", Ok("model:a b"));
        check("model: a", Err("whitespace"));
        check("model:a\tb", Err("control character"));
        check("widget:x", Err("\"widget\" is neither"));
        check("torch", Err("expected sha256:<hex>"));
        check("sha256:abc", Err("64 hex"));
        check("pkg:", Err("malformed purl"));
    }
}
