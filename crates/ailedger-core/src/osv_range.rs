//! OSV affected-version semantics (the OSV schema's "Evaluation" pseudocode), pure.
//!
//! A version is affected when it is in the `versions` list, or when it lies in one
//! of the `ranges`: each ECOSYSTEM or SEMVER range is evaluated by walking its events
//! sorted by version (`introduced: "0"` first), switching "vulnerable" on at an
//! `introduced` version at or below the tested one, off at a `fixed` version at or
//! below it, and off when the tested version is above a `last_affected` version; a
//! range with `limit` events only covers versions below one of its limits (`"*"`,
//! the implicit default, is infinity).
//!
//! Version comparisons use the caller's [`Scheme`] (the package's ecosystem) for
//! ECOSYSTEM ranges and for the `versions` list; SEMVER ranges use SemVer 2.0
//! precedence (the package's scheme if it is SemVer-based, e.g. npm's tolerance of a
//! leading `v`, else strict [`Scheme::Semver`]). A `versions` entry matches by exact
//! string, or by the scheme's equality when both sides parse (PyPI `1.0` == `1.0.0`).
//!
//! GIT ranges name commits, which are ordered by a repository's commit graph, not by
//! version: they are skipped when the record lists `versions` (the schema requires
//! the list to enumerate them), and otherwise, if no other range or listed version
//! affects the tested version, the answer is [`OsvError::GitRange`].

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use crate::version::{Scheme, Version, VersionError};

/// The `type` of an OSV range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeKind {
    Ecosystem,
    Semver,
    Git,
}

impl RangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeKind::Ecosystem => "ECOSYSTEM",
            RangeKind::Semver => "SEMVER",
            RangeKind::Git => "GIT",
        }
    }
}

impl fmt::Display for RangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of an OSV range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            Event::Introduced(_) => "introduced",
            Event::Fixed(_) => "fixed",
            Event::LastAffected(_) => "last_affected",
            Event::Limit(_) => "limit",
        }
    }
}

/// An item of an OSV record's `affected[].ranges[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsvRange {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// Why an OSV range could not be read or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsvError {
    #[error("invalid OSV range: {0}")]
    Json(String),
    #[error("{0}")]
    Version(#[from] VersionError),
    #[error(
        "cannot tell whether version {version:?} is affected: a GIT range is ordered by a repository's commit graph, not by version, and the record lists no versions"
    )]
    GitRange { version: String },
}

impl OsvRange {
    /// Reads an `affected[].ranges[]` item, enforcing the schema's rules on it: a
    /// known `type`, an `events` array of objects with exactly one of `introduced`,
    /// `fixed`, `last_affected`, `limit` each holding a non-empty string, at least one
    /// `introduced`, and not both `fixed` and `last_affected`. Other members
    /// (`repo`, `database_specific`) are ignored.
    pub fn from_json(value: &Value) -> Result<OsvRange, OsvError> {
        let err = |m: String| OsvError::Json(m);
        let obj = value
            .as_object()
            .ok_or_else(|| err("a range must be a JSON object".into()))?;
        let kind = match obj.get("type").and_then(Value::as_str) {
            Some("ECOSYSTEM") => RangeKind::Ecosystem,
            Some("SEMVER") => RangeKind::Semver,
            Some("GIT") => RangeKind::Git,
            Some(other) => {
                return Err(err(format!(
                    "unknown range type {other:?} (expected ECOSYSTEM, SEMVER or GIT)"
                )));
            }
            None => return Err(err("missing string \"type\"".into())),
        };
        let raw_events = obj
            .get("events")
            .and_then(Value::as_array)
            .ok_or_else(|| err("missing array \"events\"".into()))?;
        let mut events = Vec::with_capacity(raw_events.len());
        for (i, e) in raw_events.iter().enumerate() {
            let e = e
                .as_object()
                .ok_or_else(|| err(format!("events[{i}] is not an object")))?;
            if e.len() != 1 {
                return Err(err(format!(
                    "events[{i}] must have exactly one of introduced, fixed, last_affected, limit (has {})",
                    e.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                )));
            }
            let Some((key, v)) = e.iter().next() else {
                continue;
            };
            let v = v
                .as_str()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| err(format!("events[{i}].{key} must be a non-empty string")))?
                .to_owned();
            events.push(match key.as_str() {
                "introduced" => Event::Introduced(v),
                "fixed" => Event::Fixed(v),
                "last_affected" => Event::LastAffected(v),
                "limit" => Event::Limit(v),
                other => {
                    return Err(err(format!(
                        "events[{i}] has unknown event {other:?} (expected introduced, fixed, last_affected or limit)"
                    )));
                }
            });
        }
        if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
            return Err(err("events need at least one \"introduced\"".into()));
        }
        if events.iter().any(|e| matches!(e, Event::Fixed(_)))
            && events.iter().any(|e| matches!(e, Event::LastAffected(_)))
        {
            return Err(err(
                "events may hold \"fixed\" or \"last_affected\" events, not both".into(),
            ));
        }
        Ok(OsvRange { kind, events })
    }
}

/// Whether `version` of a package in `scheme` is affected by an `affected[]` entry
/// with these `ranges` and `versions`; see the module documentation.
///
/// Errors: the tested version, or a version a range needs, does not parse in the
/// scheme (the error names both); or only a GIT range could answer.
pub fn affected(
    scheme: Scheme,
    ranges: &[OsvRange],
    versions: &[String],
    version: &str,
) -> Result<bool, OsvError> {
    if versions.iter().any(|v| v == version) {
        return Ok(true);
    }
    let tested = Version::parse(scheme, version)?;
    if versions
        .iter()
        .filter_map(|v| Version::parse(scheme, v).ok())
        .any(|v| v == tested)
    {
        return Ok(true);
    }
    let mut git = false;
    for range in ranges {
        let range_scheme = match range.kind {
            RangeKind::Git => {
                git = true;
                continue;
            }
            RangeKind::Ecosystem => scheme,
            RangeKind::Semver if scheme.is_semver_family() => scheme,
            RangeKind::Semver => Scheme::Semver,
        };
        let tested = if range_scheme == scheme {
            tested.clone()
        } else {
            Version::parse(range_scheme, version)?
        };
        if included_in_range(range_scheme, &range.events, &tested)? {
            return Ok(true);
        }
    }
    if git && versions.is_empty() {
        return Err(OsvError::GitRange {
            version: version.to_owned(),
        });
    }
    Ok(false)
}

/// An event's version parsed for sorting: `introduced: "0"` sorts before everything,
/// a `limit` containing `*` after everything.
#[derive(Debug, Clone)]
enum Bound {
    Zero,
    At(Version),
    Infinity,
}

impl Bound {
    fn of(scheme: Scheme, event: &Event) -> Result<Bound, VersionError> {
        match event {
            Event::Introduced(v) if v == "0" => Ok(Bound::Zero),
            Event::Limit(v) if v.contains('*') => Ok(Bound::Infinity),
            e => Version::parse(scheme, e.version()).map(Bound::At),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Bound::Zero => 0,
            Bound::At(_) => 1,
            Bound::Infinity => 2,
        }
    }

    fn cmp(&self, other: &Bound) -> Ordering {
        match (self, other) {
            (Bound::At(a), Bound::At(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// `tested` compared with this bound.
    fn tested_cmp(&self, tested: &Version) -> Ordering {
        match self {
            Bound::Zero => Ordering::Greater,
            Bound::At(b) => tested.cmp(b),
            Bound::Infinity => Ordering::Less,
        }
    }
}

fn included_in_range(scheme: Scheme, events: &[Event], tested: &Version) -> Result<bool, OsvError> {
    let mut sorted = Vec::with_capacity(events.len());
    for e in events {
        sorted.push((Bound::of(scheme, e)?, e));
    }
    // BeforeLimits: with no limit event the implicit limit is "*".
    let limits: Vec<&Bound> = sorted
        .iter()
        .filter(|(_, e)| matches!(e, Event::Limit(_)))
        .map(|(b, _)| b)
        .collect();
    if !limits.is_empty()
        && !limits
            .iter()
            .any(|l| l.tested_cmp(tested) == Ordering::Less)
    {
        return Ok(false);
    }
    // Stable sort: events of equal version keep their written order.
    sorted.sort_by(|(a, _), (b, _)| a.cmp(b));
    let mut vulnerable = false;
    for (bound, event) in &sorted {
        let ord = bound.tested_cmp(tested);
        match event {
            Event::Introduced(_) if ord != Ordering::Less => vulnerable = true,
            Event::Fixed(_) if ord != Ordering::Less => vulnerable = false,
            Event::LastAffected(_) if ord == Ordering::Greater => vulnerable = false,
            _ => {}
        }
    }
    Ok(vulnerable)
}
