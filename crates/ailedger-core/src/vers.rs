//! VERS version range specifiers (`vers:<scheme>/<constraint>|<constraint>|…`), as
//! specified by the package-url project's "vers" document.
//!
//! Parsing follows the spec's procedure: spaces and tabs are removed, the URI scheme
//! must be `vers` (any case is accepted; the canonical form is lowercase), the versioning scheme is one of [`Scheme`] (case-insensitive),
//! leading, trailing and repeated `|` are ignored, each constraint is a comparator
//! (`>=`, `<=`, `!=`, `<`, `>`, or `=`; none means `=`) followed by a version, and
//! `%XX` escapes in versions are decoded. `*` stands for every version and must be
//! alone. A `!` inside a version (a PEP 440 epoch, `1!2.0`) is accepted unencoded;
//! the canonical form encodes it (`1%212.0`), as the spec asks of comparator characters.
//!
//! Validation follows the spec, with one liberty: **unsorted constraints are
//! accepted and sorted by version** (nothing records that they were unsorted; the
//! canonical [`Display`](fmt::Display) form is sorted). Everything else the spec
//! calls invalid is refused with an error naming the constraint(s):
//! - a version that does not parse in the scheme;
//! - the same version (by the scheme's equality, so `1.0` and `1.0.0` in `pypi`) in
//!   two constraints;
//! - redundant neighbours: ignoring `!=` constraints, a `=`, `<` or `<=` constraint
//!   must be followed by `=`, `>` or `>=`, and a `>` or `>=` constraint by `<` or
//!   `<=` (e.g. `>=1.0|>=2.0` or `>=1.0|1.5|<2.0` are refused).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::version::{Scheme, Version, VersionError};

/// A comparator of a VERS constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    /// The canonical spelling; equality is written as the bare version.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "",
            Comparator::Ne => "!=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }

    fn is_lesser(self) -> bool {
        matches!(self, Comparator::Lt | Comparator::Le)
    }

    fn is_greater(self) -> bool {
        matches!(self, Comparator::Gt | Comparator::Ge)
    }

    /// Whether `version` satisfies `version <comparator> bound`.
    fn holds(self, version: &Version, bound: &Version) -> bool {
        let ord = version.cmp(bound);
        match self {
            Comparator::Eq => ord == Ordering::Equal,
            Comparator::Ne => ord != Ordering::Equal,
            Comparator::Lt => ord == Ordering::Less,
            Comparator::Le => ord != Ordering::Greater,
            Comparator::Gt => ord == Ordering::Greater,
            Comparator::Ge => ord != Ordering::Less,
        }
    }
}

/// One `<comparator><version>` constraint; the version is stored decoded.
#[derive(Debug, Clone)]
pub struct Constraint {
    comparator: Comparator,
    version: String,
    parsed: Version,
}

impl Constraint {
    pub fn comparator(&self) -> Comparator {
        self.comparator
    }

    /// The version as written (percent-decoded).
    pub fn version(&self) -> &str {
        &self.version
    }
}

impl PartialEq for Constraint {
    fn eq(&self, other: &Self) -> bool {
        self.comparator == other.comparator && self.version == other.version
    }
}

impl Eq for Constraint {}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.comparator.as_str())?;
        for c in self.version.chars() {
            // Separator and comparator characters, '%' itself, and anything that is
            // not printable ASCII are percent-encoded.
            if matches!(c, '<' | '>' | '=' | '!' | '*' | '|' | '%' | '/' | ':')
                || !c.is_ascii_graphic()
            {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    write!(f, "%{b:02X}")?;
                }
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// The constraints of a range: `*` (every version) or a sorted, validated list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraints {
    Any,
    List(Vec<Constraint>),
}

/// A parsed and validated VERS range. Construct it with [`VersRange::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersRange {
    scheme: Scheme,
    constraints: Constraints,
}

/// Why a VERS string was refused, or a containment test could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersError {
    #[error("malformed vers {input:?}: {reason}")]
    Malformed { input: String, reason: String },
    #[error("malformed vers {input:?}: constraint {constraint:?}: {reason}")]
    Constraint {
        input: String,
        constraint: String,
        reason: String,
    },
    #[error("malformed vers {input:?}: constraint {constraint:?}: {source}")]
    Version {
        input: String,
        constraint: String,
        source: VersionError,
    },
    #[error("{0}")]
    Tested(VersionError),
}

impl VersRange {
    /// Parses and validates a VERS string; see the module documentation.
    pub fn parse(input: &str) -> Result<VersRange, VersError> {
        let malformed = |reason: &str| VersError::Malformed {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let compact: String = input.chars().filter(|c| *c != ' ' && *c != '\t').collect();
        if let Some(c) = compact.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(malformed(&format!(
                "{c:?} is not printable ASCII (percent-encode it in versions)"
            )));
        }
        let Some((uri_scheme, rest)) = compact.split_once(':') else {
            return Err(malformed("expected vers:<scheme>/<constraints>"));
        };
        if !uri_scheme.eq_ignore_ascii_case("vers") {
            return Err(malformed(&format!(
                "URI scheme is {uri_scheme:?}, expected \"vers\""
            )));
        }
        let Some((scheme_name, constraints)) = rest.split_once('/') else {
            return Err(malformed(
                "no '/' after the versioning scheme (expected vers:<scheme>/<constraints>)",
            ));
        };
        let scheme = Scheme::parse(scheme_name).map_err(|e| malformed(&e.to_string()))?;
        if constraints.trim_matches('|').is_empty() {
            return Err(malformed("no constraints"));
        }
        if constraints == "*" {
            return Ok(VersRange {
                scheme,
                constraints: Constraints::Any,
            });
        }
        let mut list: Vec<Constraint> = Vec::new();
        for raw in constraints.split('|').filter(|c| !c.is_empty()) {
            list.push(parse_constraint(input, scheme, raw)?);
        }
        // Liberal: sort by version (stable, so the error for a duplicate names the
        // constraints in their written order).
        list.sort_by(|a, b| a.parsed.cmp(&b.parsed));
        for pair in list.windows(2) {
            if let [a, b] = pair
                && a.parsed == b.parsed
            {
                return Err(VersError::Constraint {
                    input: input.to_owned(),
                    constraint: b.to_string(),
                    reason: format!(
                        "version {:?} already appears in constraint {:?}; each version may appear only once",
                        b.version,
                        a.to_string()
                    ),
                });
            }
        }
        let ordered: Vec<&Constraint> = list
            .iter()
            .filter(|c| c.comparator != Comparator::Ne)
            .collect();
        for pair in ordered.windows(2) {
            if let [a, b] = pair {
                let valid = if a.comparator.is_greater() {
                    b.comparator.is_lesser()
                } else {
                    !b.comparator.is_lesser()
                };
                if !valid {
                    return Err(VersError::Constraint {
                        input: input.to_owned(),
                        constraint: b.to_string(),
                        reason: format!(
                            "redundant after {:?} (ignoring \"!=\", a \"=\", \"<\" or \"<=\" constraint must be followed by \"=\", \">\" or \">=\", and a \">\" or \">=\" constraint by \"<\" or \"<=\")",
                            a.to_string()
                        ),
                    });
                }
            }
        }
        Ok(VersRange {
            scheme,
            constraints: Constraints::List(list),
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The constraints, sorted by version.
    pub fn constraints(&self) -> &Constraints {
        &self.constraints
    }

    /// Whether `version` lies in the range, by the spec's containment algorithm:
    /// 1. `*` contains every version;
    /// 2. a single constraint contains the versions that satisfy it;
    /// 3. a version equal to a `=`, `<=` or `>=` constraint's version is in, one
    ///    equal to a `!=` constraint's version is out;
    /// 4. over the `<`, `<=`, `>`, `>=` constraints, taken pairwise in order: below a
    ///    leading lesser bound, above a trailing greater bound, or strictly between a
    ///    greater bound and the next lesser bound is in; anything else is out.
    ///
    /// Where the spec is silent (step 4 with a single ordered constraint, or none), a
    /// lone ordered constraint is tested directly as in step 2, and a range of `!=`
    /// constraints only contains every version it does not exclude.
    ///
    /// The error names the version and scheme when `version` does not parse.
    pub fn contains(&self, version: &str) -> Result<bool, VersError> {
        let tested = Version::parse(self.scheme, version).map_err(VersError::Tested)?;
        let list = match &self.constraints {
            Constraints::Any => return Ok(true),
            Constraints::List(list) => list,
        };
        if let [only] = list.as_slice() {
            return Ok(only.comparator.holds(&tested, &only.parsed));
        }
        for c in list {
            if tested == c.parsed {
                match c.comparator {
                    Comparator::Eq | Comparator::Le | Comparator::Ge => return Ok(true),
                    Comparator::Ne => return Ok(false),
                    // Equal to a strict bound: the interval test below excludes it.
                    Comparator::Lt | Comparator::Gt => {}
                }
            }
        }
        let ordered: Vec<&Constraint> = list
            .iter()
            .filter(|c| !matches!(c.comparator, Comparator::Eq | Comparator::Ne))
            .collect();
        match ordered.as_slice() {
            [] => Ok(list.iter().all(|c| c.comparator == Comparator::Ne)),
            [only] => Ok(only.comparator.holds(&tested, &only.parsed)),
            _ => {
                let last = ordered.len() - 2;
                for (i, pair) in ordered.windows(2).enumerate() {
                    let [current, next] = pair else { continue };
                    if i == 0 && current.comparator.is_lesser() && tested < current.parsed {
                        return Ok(true);
                    }
                    if i == last && next.comparator.is_greater() && tested > next.parsed {
                        return Ok(true);
                    }
                    if current.comparator.is_greater()
                        && next.comparator.is_lesser()
                        && tested > current.parsed
                        && tested < next.parsed
                    {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }
}

fn parse_constraint(input: &str, scheme: Scheme, raw: &str) -> Result<Constraint, VersError> {
    let bad = |reason: String| VersError::Constraint {
        input: input.to_owned(),
        constraint: raw.to_owned(),
        reason,
    };
    if raw.contains('*') {
        return Err(bad(
            "\"*\" must be the only constraint (percent-encode a literal '*' as %2A)".to_owned(),
        ));
    }
    let (comparator, encoded) = [
        (">=", Comparator::Ge),
        ("<=", Comparator::Le),
        ("!=", Comparator::Ne),
        ("<", Comparator::Lt),
        (">", Comparator::Gt),
        ("=", Comparator::Eq),
    ]
    .into_iter()
    .find_map(|(prefix, cmp)| raw.strip_prefix(prefix).map(|rest| (cmp, rest)))
    .unwrap_or((Comparator::Eq, raw));
    if encoded.is_empty() {
        return Err(bad("no version after the comparator".to_owned()));
    }
    // A PEP 440 epoch ("1!2.0") is tolerated unencoded: only a leading "!=" is a
    // comparator.
    if let Some(c) = encoded.chars().find(|c| matches!(c, '<' | '>' | '=')) {
        return Err(bad(format!(
            "unexpected {c:?} in the version (one comparator per constraint; percent-encode a literal {c:?})"
        )));
    }
    let version = percent_decode(encoded).map_err(bad)?;
    let parsed = Version::parse(scheme, &version).map_err(|source| VersError::Version {
        input: input.to_owned(),
        constraint: raw.to_owned(),
        source,
    })?;
    Ok(Constraint {
        comparator,
        version,
        parsed,
    })
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    format!("bad percent-escape at byte {i} (expected %XX with two hex digits)")
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-decoded version is not UTF-8".to_owned())
}

impl fmt::Display for VersRange {
    /// The canonical form: lowercase schemes, constraints sorted by version, no
    /// spaces, `=` written as the bare version, separator characters percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vers:{}/", self.scheme)?;
        match &self.constraints {
            Constraints::Any => f.write_str("*"),
            Constraints::List(list) => {
                for (i, c) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for VersRange {
    type Err = VersError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersRange::parse(s)
    }
}

/// Body of the `vers` fuzz target: a `vers:` range and, when one parses, its canonical
/// form and containment of a version taken from the same bytes. Must never panic, and
/// the canonical form must read back as the same range.
pub fn fuzz_vers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (range, version) = text.split_once('\n').unwrap_or((&text, "1.0.0"));
    if let Ok(r) = VersRange::parse(range) {
        let shown = r.to_string();
        match VersRange::parse(&shown) {
            Ok(again) if again.to_string() == shown => {}
            other => panic!("{range:?} → {shown:?} does not read back: {other:?}"),
        }
        let _ = r.contains(version);
    }
    // Incident targets as a user writes them.
    if let Ok(Some(t)) = crate::incident::Target::parse_package(range) {
        t.validate()
            .unwrap_or_else(|e| panic!("{range:?} parsed to {t:?}, which does not validate: {e}"));
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // An OSV record as the ledger keeps it: it matches without panicking, and an
    // `advisory` entry holding it reads back from its body.
    if let Ok((a, _)) = crate::incident::Advisory::from_osv(&v) {
        crate::incident::fuzz_advisory(a);
    }
    if let Ok(r) = crate::osv_range::OsvRange::from_json(&v) {
        for scheme in [Scheme::Pypi, Scheme::Npm, Scheme::Generic] {
            let _ = crate::osv_range::affected(scheme, std::slice::from_ref(&r), &[], "1.0.0");
        }
    }
    if let Ok((record, _)) = crate::osv::OsvRecord::from_json(&v) {
        for a in &record.affected {
            let _ = record.affects(&format!("{}@1.0.0", a.purl));
        }
    }
}
