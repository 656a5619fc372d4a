//! Package URLs, normalised so that two spellings of one package are one artifact.
//!
//! Parsing is the `packageurl` crate's; this module adds the purl-spec per-type
//! normalisation rules on top (see `tests` and the conformance test over the
//! purl-spec fixtures).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Error;

/// A validated, normalised purl. Its `Display` is the canonical string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    canonical: String,
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
}

impl Purl {
    pub fn ty(&self) -> &str {
        &self.ty
    }
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    pub fn as_str(&self) -> &str {
        &self.canonical
    }
    /// `namespace/name` when there is a namespace, else `name`.
    pub fn full_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Normalises a name the way the purl-spec says its type does.
fn normalise_name(ty: &str, name: &str) -> String {
    match ty {
        // PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`.
        "pypi" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        "npm" | "github" | "bitbucket" | "composer" | "golang" | "huggingface" | "mlflow"
        | "oci" | "hex" | "luarocks" | "apk" | "deb" | "alpm" | "bitnami" => {
            if ty == "golang" || ty == "huggingface" || ty == "mlflow" {
                name.to_owned()
            } else {
                name.to_lowercase()
            }
        }
        _ => name.to_owned(),
    }
}

fn normalise_namespace(ty: &str, ns: &str) -> String {
    match ty {
        "npm" | "github" | "bitbucket" | "composer" | "apk" | "deb" | "alpm" | "rpm"
        | "huggingface" => {
            if ty == "rpm" {
                ns.to_lowercase()
            } else if ty == "huggingface" {
                ns.to_owned()
            } else {
                ns.to_lowercase()
            }
        }
        _ => ns.to_owned(),
    }
}

impl FromStr for Purl {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        let err = |reason: String| Error::Purl { input: input.to_owned(), reason };
        let parsed = packageurl::PackageUrl::from_str(input).map_err(|e| err(e.to_string()))?;
        let ty = parsed.ty().to_lowercase();
        let name = normalise_name(&ty, parsed.name());
        if name.is_empty() {
            return Err(err("the name is empty".into()));
        }
        let namespace = parsed.namespace().map(|ns| normalise_namespace(&ty, ns));
        let version = parsed.version().map(|v| match ty.as_str() {
            "huggingface" => v.to_lowercase(),
            _ => v.to_owned(),
        });
        let mut out = packageurl::PackageUrl::new(ty.clone(), name.clone())
            .map_err(|e| err(e.to_string()))?;
        if let Some(ns) = &namespace {
            out.with_namespace(ns.clone());
        }
        if let Some(v) = &version {
            out.with_version(v.clone());
        }
        for (k, v) in parsed.qualifiers() {
            if !v.is_empty() {
                out.add_qualifier(k.to_lowercase(), v.to_string()).map_err(|e| err(e.to_string()))?;
            }
        }
        if let Some(sp) = parsed.subpath() {
            out.with_subpath(sp.to_string()).map_err(|e| err(e.to_string()))?;
        }
        Ok(Purl { canonical: out.to_string(), ty, namespace, name, version })
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Debug for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl Serialize for Purl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.canonical)
    }
}

impl<'de> Deserialize<'de> for Purl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, want: &str) {
        assert_eq!(input.parse::<Purl>().unwrap().to_string(), want);
    }

    #[test]
    fn pypi_names_follow_pep_503() {
        check("pkg:pypi/Django_Rest.Framework@3.0", "pkg:pypi/django-rest-framework@3.0");
        check("pkg:PYPI/torch@2.1.0", "pkg:pypi/torch@2.1.0");
    }

    #[test]
    fn rejects_garbage() {
        assert!("torch==2.1".parse::<Purl>().is_err());
        assert!("pkg:pypi".parse::<Purl>().is_err());
    }
}
