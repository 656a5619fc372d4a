//! Package URLs, normalised so that two spellings of one package are one artifact.
//!
//! This is our own parser and serialiser for the purl specification (ECMA-427 /
//! purl-spec), not a wrapper: the `packageurl` crate passes only part of the
//! purl-spec conformance suite (see `tests/purl_spec.rs`, which measures it), notably
//! it does not apply the per-type rules (case folding, PyPI names, required parts) and
//! encodes differently from the current canonical form.
//!
//! Canonical form: `pkg:` type `/` namespace segments `/` name `@` version `?` sorted
//! qualifiers `#` subpath, every component percent-encoded except ASCII letters, digits,
//! `-._~` and `:`; empty qualifier values dropped; `.`/`..`/empty subpath segments
//! dropped; per-type normalisation applied (see [`normalise`]).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Error;

/// Longest purl accepted, in bytes.
pub const MAX_PURL_LEN: usize = 8192;

/// A validated, normalised purl. Its `Display` is the canonical string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    canonical: String,
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    /// Sorted by key, keys lowercase, values non-empty.
    qualifiers: Vec<(String, String)>,
    subpath: Option<String>,
}

impl Purl {
    pub fn ty(&self) -> &str {
        &self.ty
    }
    /// The decoded namespace, segments joined by `/`.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// Decoded qualifiers, sorted by key.
    pub fn qualifiers(&self) -> &[(String, String)] {
        &self.qualifiers
    }
    /// The decoded subpath, segments joined by `/`.
    pub fn subpath(&self) -> Option<&str> {
        self.subpath.as_deref()
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

    /// Builds a purl from decoded components (e.g. `("npm", Some("@scope"), "x",
    /// Some("1.0"), [], None)` → `pkg:npm/%40scope/x@1.0`), applying the same
    /// validation and normalisation as parsing.
    pub fn build<'a>(
        ty: &str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
        qualifiers: impl IntoIterator<Item = (&'a str, &'a str)>,
        subpath: Option<&str>,
    ) -> Result<Self, Error> {
        let shown = format!(
            "{ty}/{}{name}",
            namespace.map(|n| format!("{n}/")).unwrap_or_default()
        );
        let err = |reason: String| Error::Purl {
            input: shown.clone(),
            reason,
        };
        let ns: Vec<String> = namespace
            .map(|n| {
                n.split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut quals = Vec::new();
        for (k, v) in qualifiers {
            quals.push((k.to_owned(), v.to_owned()));
        }
        let sub: Vec<String> = subpath
            .map(|s| {
                s.split('/')
                    .filter(|s| !matches!(*s, "" | "." | ".."))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Raw {
            ty: ty.to_owned(),
            namespace: ns,
            name: name.to_owned(),
            version: version.map(str::to_owned),
            qualifiers: quals,
            subpath: sub,
        }
        .finish()
        .map_err(err)
    }
}

/// Components after decoding, before validation and normalisation.
struct Raw {
    ty: String,
    namespace: Vec<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
    subpath: Vec<String>,
}

fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one component; the result must be UTF-8.
fn decode(s: &str, what: &str) -> Result<String, String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = b.get(i + 1).copied().and_then(hexval);
            let lo = b.get(i + 2).copied().and_then(hexval);
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h * 16 + l),
                _ => return Err(format!("bad percent-encoding in the {what}")),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the {what} is not UTF-8 once decoded"))
}

/// Percent-encodes everything but ASCII letters, digits, `-._~` and `:`.
fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// PEP 503 name normalisation: lowercase, runs of `-`, `_` and `.` become one `-`.
/// (The purl pypi definition requires lowercasing and `_` → `-`; PEP 503 also folds
/// `.`, which PyPI itself treats as the same project, so we fold it too.)
pub fn pep503(name: &str) -> String {
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

impl Raw {
    /// Validates, applies the per-type rules and produces the canonical string.
    fn finish(self) -> Result<Purl, String> {
        let Raw {
            ty,
            mut namespace,
            mut name,
            mut version,
            qualifiers,
            subpath,
        } = self;
        // Type: ASCII letters, digits, `.`, `+`, `-`; starts with a letter; lowercase.
        if ty.is_empty() {
            return Err("the type is empty".into());
        }
        if !ty.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(format!("the type {ty:?} must start with a letter"));
        }
        if let Some(c) = ty
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')))
        {
            return Err(format!("the type {ty:?} contains {c:?}"));
        }
        let ty = ty.to_ascii_lowercase();
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        if version.as_deref() == Some("") {
            return Err("the version is empty".into());
        }
        // Qualifiers: keys lowercase [a-z0-9._-] not starting with a digit, unique;
        // pairs with an empty value are dropped.
        let mut quals: Vec<(String, String)> = Vec::with_capacity(qualifiers.len());
        for (k, v) in qualifiers {
            let k = k.to_ascii_lowercase();
            if k.is_empty() {
                return Err("a qualifier key is empty".into());
            }
            if k.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("the qualifier key {k:?} starts with a digit"));
            }
            if let Some(c) = k
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            {
                return Err(format!("the qualifier key {k:?} contains {c:?}"));
            }
            if quals.iter().any(|(q, _)| *q == k) {
                return Err(format!("the qualifier key {k:?} appears twice"));
            }
            if !v.is_empty() {
                quals.push((k, v));
            }
        }
        quals.sort();
        let qual = |key: &str| {
            quals
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };

        // Per-type rules (purl-spec type definitions).
        let lower_ns = |ns: &mut Vec<String>| ns.iter_mut().for_each(|s| *s = s.to_lowercase());
        match ty.as_str() {
            "pypi" => name = pep503(&name),
            "github" | "bitbucket" | "composer" | "apk" | "deb" | "alpm" | "hex" => {
                lower_ns(&mut namespace);
                name = name.to_lowercase();
            }
            "bitnami" | "pub" | "oci" => name = name.to_lowercase(),
            "rpm" => lower_ns(&mut namespace),
            "huggingface" => version = version.map(|v| v.to_lowercase()),
            // Databricks model names are case-insensitive; Azure ML's are not.
            "mlflow"
                if qual("repository_url").is_some_and(|u| u.contains("azuredatabricks.net")) =>
            {
                name = name.to_lowercase();
            }
            _ => {}
        }
        if ty == "oci" {
            version = version.map(|v| v.to_lowercase());
        }
        // A PyPI name of separators only (`.`) normalises to nothing.
        if name.is_empty() {
            return Err("the name is empty once normalised".into());
        }
        match ty.as_str() {
            "conan" => {
                let has_channel = qual("channel").is_some();
                if !namespace.is_empty() && !has_channel {
                    return Err("a conan purl with a namespace needs a channel qualifier".into());
                }
                if namespace.is_empty() && has_channel {
                    return Err("a conan purl with a channel qualifier needs a namespace".into());
                }
            }
            "cran" if version.is_none() => return Err("a cran purl needs a version".into()),
            "swift" if namespace.is_empty() => return Err("a swift purl needs a namespace".into()),
            "swift" if version.is_none() => return Err("a swift purl needs a version".into()),
            "cpan" => {
                if namespace.is_empty() && name.contains('-') {
                    return Err("a cpan module name (no namespace) cannot contain '-'".into());
                }
                if !namespace.is_empty() && name.contains("::") {
                    return Err(
                        "a cpan distribution name (with a namespace) cannot contain '::'".into(),
                    );
                }
            }
            _ => {}
        }

        let mut s = String::with_capacity(64);
        s.push_str("pkg:");
        s.push_str(&ty);
        s.push('/');
        for seg in &namespace {
            encode_into(&mut s, seg);
            s.push('/');
        }
        encode_into(&mut s, &name);
        if let Some(v) = &version {
            s.push('@');
            encode_into(&mut s, v);
        }
        for (i, (k, v)) in quals.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(k);
            s.push('=');
            encode_into(&mut s, v);
        }
        for (i, seg) in subpath.iter().enumerate() {
            s.push(if i == 0 { '#' } else { '/' });
            encode_into(&mut s, seg);
        }
        // Percent-encoding can make the canonical form several times longer than the
        // input: the limit holds for what is kept and compared.
        if s.len() > MAX_PURL_LEN {
            return Err(format!(
                "longer than {MAX_PURL_LEN} bytes in canonical form ({} bytes)",
                s.len()
            ));
        }
        Ok(Purl {
            canonical: s,
            ty,
            namespace: (!namespace.is_empty()).then(|| namespace.join("/")),
            name,
            version,
            qualifiers: quals,
            subpath: (!subpath.is_empty()).then(|| subpath.join("/")),
        })
    }
}

fn parse(input: &str) -> Result<Purl, String> {
    if input.len() > MAX_PURL_LEN {
        return Err(format!("longer than {MAX_PURL_LEN} bytes"));
    }
    if let Some(c) = input.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "contains {c:?} (whitespace and control characters must be percent-encoded)"
        ));
    }
    // Subpath: after the last `#`.
    let (rest, subpath) = match input.rsplit_once('#') {
        Some((r, s)) => (r, Some(s)),
        None => (input, None),
    };
    let mut sub = Vec::new();
    for seg in subpath.unwrap_or("").split('/') {
        let seg = decode(seg, "subpath")?;
        if !matches!(seg.as_str(), "" | "." | "..") {
            sub.push(seg);
        }
    }
    // Qualifiers: after the last `?`.
    let (rest, query) = match rest.rsplit_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let mut quals = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("the qualifier {pair:?} has no '='"))?;
        quals.push((k.to_owned(), decode(v, "qualifier value")?));
    }
    // Scheme.
    let (scheme, rest) = rest.split_once(':').ok_or("expected the scheme 'pkg:'")?;
    if !scheme.eq_ignore_ascii_case("pkg") {
        return Err(format!("the scheme is {scheme:?}, not 'pkg'"));
    }
    let rest = rest.trim_start_matches('/');
    // Type: up to the first `/`.
    let (ty, rest) = rest.split_once('/').ok_or("expected pkg:<type>/<name>")?;
    let rest = rest.trim_matches('/');
    // Version: after an `@` in the last path segment.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (path, version) = match rest[last_slash..].rfind('@') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(decode(&rest[last_slash + i + 1..], "version")?),
        ),
        None => (rest, None),
    };
    let (ns, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (ns, name),
        None => ("", path),
    };
    let mut namespace = Vec::new();
    for seg in ns.split('/').filter(|s| !s.is_empty()) {
        namespace.push(decode(seg, "namespace")?);
    }
    let name = decode(name, "name")?;
    Raw {
        ty: ty.to_owned(),
        namespace,
        name,
        version,
        qualifiers: quals,
        subpath: sub,
    }
    .finish()
}

impl FromStr for Purl {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        parse(input).map_err(|reason| Error::Purl {
            input: input.to_owned(),
            reason,
        })
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

    /// A fuzz finding: a name of U+FFFD characters under the byte limit whose canonical
    /// form (each percent-encoded as nine bytes) is over it parsed, and then failed
    /// validation. The limit now holds for the canonical form.
    #[test]
    fn the_length_limit_holds_for_the_canonical_form() {
        let name = "\u{FFFD}".repeat(1000);
        let input = format!("pkg:generic/{name}");
        assert!(input.len() <= MAX_PURL_LEN);
        let e = input.parse::<Purl>().unwrap_err().to_string();
        assert!(e.contains("in canonical form (9012 bytes)"), "{e}");
        crate::vers::fuzz_vers(input.as_bytes());
        let fits = "\u{FFFD}".repeat(900);
        let p: Purl = format!("pkg:generic/{fits}").parse().unwrap();
        assert!(p.to_string().len() <= MAX_PURL_LEN);
    }

    /// A fuzz finding: a PyPI name of separators only normalised to an empty name, and
    /// the canonical form then read back with its last namespace segment as the name.
    #[test]
    fn a_name_normalised_to_nothing_is_refused() {
        for input in ["pkg:pypi/.", "pkg:pypi/a/b/._-", "pkg:pypi/x//.//#/y"] {
            let e = input.parse::<Purl>().unwrap_err().to_string();
            assert!(
                e.contains("the name is empty once normalised"),
                "{input}: {e}"
            );
            crate::vers::fuzz_vers(input.as_bytes());
        }
    }

    #[test]
    fn pypi_names_follow_pep_503() {
        check(
            "pkg:pypi/Django_Rest.Framework@3.0",
            "pkg:pypi/django-rest-framework@3.0",
        );
        check("pkg:PYPI/torch@2.1.0", "pkg:pypi/torch@2.1.0");
    }

    #[test]
    fn npm_scopes_are_encoded_and_case_kept() {
        check("pkg:npm/@Babel/Core@7.0.0", "pkg:npm/%40Babel/Core@7.0.0");
        let p = Purl::build("npm", Some("@scope"), "x", Some("1.0"), [], None).unwrap();
        assert_eq!(p.as_str(), "pkg:npm/%40scope/x@1.0");
        assert_eq!(p.namespace(), Some("@scope"));
        assert_eq!(p.full_name(), "@scope/x");
    }

    #[test]
    fn canonical_encoding_and_qualifier_order() {
        check(
            "pkg:oci/Debian@SHA256%3Aabc?tag=latest&Repository_Url=docker.io/library/debian",
            "pkg:oci/debian@sha256:abc?repository_url=docker.io%2Flibrary%2Fdebian&tag=latest",
        );
        check(
            "pkg:generic/x?a=&b=1#/./sub/../dir/",
            "pkg:generic/x?b=1#sub/dir",
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!("pkg:npm/x?a=1&a=2".parse::<Purl>().is_err());
        assert!("pkg:npm/x@".parse::<Purl>().is_err());
        assert!("pkg:npm/x%zz".parse::<Purl>().is_err());
        assert!("pkg:npm/a b".parse::<Purl>().is_err());
        assert!("torch==2.1".parse::<Purl>().is_err());
        assert!("pkg:pypi".parse::<Purl>().is_err());
    }
}
