//! Version ordering per ecosystem: the versioning schemes of the VERS spec that
//! ailedger needs to answer "is this version inside that range?".
//!
//! | scheme    | ordering                                                                 |
//! |-----------|--------------------------------------------------------------------------|
//! | `pypi`    | PEP 440 (epochs, pre/post/dev releases, local versions, `1.0` == `1.0.0`) |
//! | `npm`     | SemVer 2.0 precedence; a leading `=` and/or `v` is accepted (`v1.2.3`)    |
//! | `cargo`   | SemVer 2.0 precedence, strict syntax                                     |
//! | `semver`  | SemVer 2.0 precedence, strict syntax                                     |
//! | `generic` | segments split on `.` and `-`, see [`Scheme::Generic`]                   |
//!
//! SemVer precedence ignores build metadata (SemVer 2.0 §10-11): `1.0.0+a` and
//! `1.0.0+b` compare equal.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A versioning scheme, named as in the VERS spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// PEP 440, the scheme of the `pypi` purl type.
    Pypi,
    /// node-semver versions (SemVer 2.0 plus a tolerated leading `=`/`v`), the `npm` purl type.
    Npm,
    /// SemVer 2.0 as Cargo uses it, the `cargo` purl type.
    Cargo,
    /// Strict SemVer 2.0.
    Semver,
    /// A scheme-less fallback: the version is split into segments on `.` and `-`;
    /// two segments that are both all ASCII digits compare numerically (leading
    /// zeros ignored), two other segments compare lexically (byte order, case
    /// sensitive), and a numeric segment sorts after a non-numeric one
    /// (`1.rc` < `1.0`). When one version is a prefix of the other, the shorter
    /// sorts first (`1.0` < `1.0.0`). Empty segments (`1..2`, `-1`) are refused.
    Generic,
}

impl Scheme {
    /// Every scheme, in the order of [`Scheme::NAMES`].
    pub const ALL: [Scheme; 5] = [
        Scheme::Pypi,
        Scheme::Npm,
        Scheme::Cargo,
        Scheme::Semver,
        Scheme::Generic,
    ];
    /// The VERS names of the schemes.
    pub const NAMES: [&'static str; 5] = ["pypi", "npm", "cargo", "semver", "generic"];

    /// The VERS name (lowercase, canonical).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Pypi => "pypi",
            Scheme::Npm => "npm",
            Scheme::Cargo => "cargo",
            Scheme::Semver => "semver",
            Scheme::Generic => "generic",
        }
    }

    /// A VERS versioning-scheme name; case-insensitive (the spec's canonical form is lowercase).
    pub fn parse(name: &str) -> Result<Scheme, VersionError> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| VersionError::UnknownScheme(name.to_owned()))
    }

    /// The scheme of a purl type (`pypi`, `npm`, `cargo`); `None` for other types.
    pub fn from_purl_type(purl_type: &str) -> Option<Scheme> {
        match purl_type.to_ascii_lowercase().as_str() {
            "pypi" => Some(Scheme::Pypi),
            "npm" => Some(Scheme::Npm),
            "cargo" => Some(Scheme::Cargo),
            _ => None,
        }
    }

    /// The scheme of an OSV ecosystem name (`PyPI`, `npm`, `crates.io`; OSV spells them
    /// exactly so); `None` for other ecosystems.
    pub fn from_osv_ecosystem(ecosystem: &str) -> Option<Scheme> {
        match ecosystem {
            "PyPI" => Some(Scheme::Pypi),
            "npm" => Some(Scheme::Npm),
            "crates.io" => Some(Scheme::Cargo),
            _ => None,
        }
    }

    /// Whether the scheme orders versions by SemVer precedence.
    pub fn is_semver_family(self) -> bool {
        matches!(self, Scheme::Npm | Scheme::Cargo | Scheme::Semver)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::parse(s)
    }
}

/// Why a version could not be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("invalid {scheme} version {version:?}: {reason}")]
    Invalid {
        scheme: Scheme,
        version: String,
        reason: String,
    },
    #[error("unknown versioning scheme {0:?} (expected one of: {names})", names = Scheme::NAMES.join(", "))]
    UnknownScheme(String),
}

impl VersionError {
    fn invalid(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        VersionError::Invalid {
            scheme,
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A version parsed in its scheme, ready to be compared many times.
#[derive(Debug, Clone)]
pub struct Version {
    scheme: Scheme,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
enum Parsed {
    Pep440(pep440_rs::Version),
    Semver(semver::Version),
    Generic(Vec<String>),
}

impl Version {
    /// Parses `version` in `scheme`; the error names the version and the scheme.
    pub fn parse(scheme: Scheme, version: &str) -> Result<Version, VersionError> {
        if version.trim().is_empty() {
            return Err(VersionError::invalid(scheme, version, "empty version"));
        }
        let parsed = match scheme {
            Scheme::Pypi => Parsed::Pep440(
                pep440_rs::Version::from_str(version)
                    .map_err(|e| VersionError::invalid(scheme, version, e.to_string()))?,
            ),
            Scheme::Npm => {
                let trimmed = version.trim();
                let trimmed = trimmed.strip_prefix('=').unwrap_or(trimmed);
                let trimmed = trimmed
                    .strip_prefix('v')
                    .or_else(|| trimmed.strip_prefix('V'))
                    .unwrap_or(trimmed);
                Parsed::Semver(
                    semver::Version::parse(trimmed)
                        .map_err(|e| VersionError::invalid(scheme, version, e.to_string()))?,
                )
            }
            Scheme::Cargo | Scheme::Semver => Parsed::Semver(
                semver::Version::parse(version)
                    .map_err(|e| VersionError::invalid(scheme, version, e.to_string()))?,
            ),
            Scheme::Generic => {
                let segments: Vec<String> = version.split(['.', '-']).map(str::to_owned).collect();
                if segments.iter().any(String::is_empty) {
                    return Err(VersionError::invalid(
                        scheme,
                        version,
                        "empty segment (versions are split on '.' and '-')",
                    ));
                }
                Parsed::Generic(segments)
            }
        };
        Ok(Version { scheme, parsed })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// Orders two versions of the same scheme. Versions of different schemes are
    /// not comparable (the VERS spec calls that an error); [`compare`] never mixes
    /// them, and here they order by scheme so that `Ord` stays total.
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.parsed, &other.parsed) {
            (Parsed::Pep440(a), Parsed::Pep440(b)) => a.cmp(b),
            (Parsed::Semver(a), Parsed::Semver(b)) => semver_precedence(a, b),
            (Parsed::Generic(a), Parsed::Generic(b)) => generic_cmp(a, b),
            _ => self.scheme.cmp(&other.scheme),
        }
    }
}

/// SemVer 2.0 precedence: major, minor, patch, then pre-release; build metadata ignored.
fn semver_precedence(a: &semver::Version, b: &semver::Version) -> Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| a.pre.cmp(&b.pre))
}

fn generic_cmp(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = generic_segment_cmp(x, y);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

fn generic_segment_cmp(x: &str, y: &str) -> Ordering {
    let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match (numeric(x), numeric(y)) {
        (true, true) => {
            // Arbitrary length: strip leading zeros, then longer is larger, then lexical.
            let x = x.trim_start_matches('0');
            let y = y.trim_start_matches('0');
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => x.cmp(y),
    }
}

/// Orders `a` and `b` in `scheme`. The error names the first version that does not
/// parse, and the scheme.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = Version::parse(scheme, a)?;
    let b = Version::parse(scheme, b)?;
    Ok(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for (s, n) in Scheme::ALL.iter().zip(Scheme::NAMES) {
            assert_eq!(s.name(), n);
            assert_eq!(Scheme::parse(n), Ok(*s));
            assert_eq!(Scheme::parse(&n.to_uppercase()), Ok(*s));
        }
        assert_eq!(
            Scheme::parse("deb").unwrap_err().to_string(),
            "unknown versioning scheme \"deb\" (expected one of: pypi, npm, cargo, semver, generic)"
        );
    }
}
