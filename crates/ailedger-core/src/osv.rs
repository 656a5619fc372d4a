//! OSV records (the format of osv.dev and the OpenSSF malicious-packages database):
//! which packages a record affects, named as ailedger names them (package URLs), and
//! whether a given package version is affected ([`crate::osv_range`] decides ranges).
//! Pure: records are JSON values read by the caller.

use serde_json::Value;

use crate::{
    osv_range::{OsvError, OsvRange, affected},
    purl::{Purl, pep503},
    version::Scheme,
};

/// One package a record affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsvAffected {
    /// The OSV ecosystem, as written (`PyPI`, `npm`, `crates.io`).
    pub ecosystem: String,
    /// The package name, as written (`@scope/name` for npm).
    pub name: String,
    /// The package URL without a version (`pkg:pypi/requests`, `pkg:npm/%40scope/name`),
    /// with the purl-spec normalisation (PEP 503 for PyPI).
    pub purl: String,
    pub scheme: Scheme,
    pub ranges: Vec<OsvRange>,
    pub versions: Vec<String>,
}

/// An OSV record, as far as matching needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsvRecord {
    pub id: String,
    pub modified: Option<String>,
    /// When the record was withdrawn: it affects nothing, and an earlier import of it
    /// is to be retracted.
    pub withdrawn: Option<String>,
    pub summary: Option<String>,
    pub aliases: Vec<String>,
    pub affected: Vec<OsvAffected>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The package URL (without a version) of an OSV package, for the ecosystems ailedger
/// orders versions of.
pub fn package_purl(ecosystem: &str, name: &str) -> Result<(String, Scheme), OsvError> {
    let bad = |why: String| OsvError::Json(format!("package {ecosystem}/{name}: {why}"));
    let scheme = Scheme::from_osv_ecosystem(ecosystem)
        .ok_or_else(|| bad(format!("ecosystem {ecosystem:?} is not supported")))?;
    let (ty, namespace, name) = match scheme {
        Scheme::Pypi => ("pypi", None, pep503(name)),
        Scheme::Npm => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => ("npm", Some(format!("@{scope}")), n.to_owned()),
            None => ("npm", None, name.to_owned()),
        },
        Scheme::Cargo => ("cargo", None, name.to_owned()),
        Scheme::Semver | Scheme::Generic => {
            return Err(bad(format!(
                "ecosystem {ecosystem:?} has no package URL type"
            )));
        }
    };
    let purl = Purl::build(ty, namespace.as_deref(), &name, None, [], None)
        .map_err(|e| bad(e.to_string()))?;
    Ok((purl.to_string(), scheme))
}

impl OsvRecord {
    /// Reads a record: its id, state and every `affected[]` package of a supported
    /// ecosystem (others are skipped and named in the second value).
    pub fn from_json(v: &Value) -> Result<(OsvRecord, Vec<String>), OsvError> {
        let id = text(v, "id").ok_or_else(|| OsvError::Json("/id: missing".into()))?;
        let mut skipped = Vec::new();
        let mut affected_out = Vec::new();
        let list = match v.get("affected") {
            None => &Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(OsvError::Json(format!("{id}: /affected: not an array"))),
        };
        for (i, a) in list.iter().enumerate() {
            let at = format!("{id}: /affected/{i}");
            let package = a.get("package");
            let (Some(ecosystem), Some(name)) = (
                package.and_then(|p| text(p, "ecosystem")),
                package.and_then(|p| text(p, "name")),
            ) else {
                return Err(OsvError::Json(format!(
                    "{at}/package: needs ecosystem and name"
                )));
            };
            let (purl, scheme) = match package_purl(&ecosystem, &name) {
                Ok(p) => p,
                Err(e) => {
                    skipped.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let ranges = match a.get("ranges") {
                None => vec![],
                Some(Value::Array(r)) => r
                    .iter()
                    .enumerate()
                    .map(|(j, r)| {
                        OsvRange::from_json(r)
                            .map_err(|e| OsvError::Json(format!("{at}/ranges/{j}: {e}")))
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(OsvError::Json(format!("{at}/ranges: not an array"))),
            };
            let versions = match a.get("versions") {
                None => vec![],
                Some(Value::Array(vs)) => vs
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            OsvError::Json(format!("{at}/versions/{j}: not a string"))
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(OsvError::Json(format!("{at}/versions: not an array"))),
            };
            affected_out.push(OsvAffected {
                ecosystem,
                name,
                purl,
                scheme,
                ranges,
                versions,
            });
        }
        let aliases = v
            .get("aliases")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok((
            OsvRecord {
                id,
                modified: text(v, "modified"),
                withdrawn: text(v, "withdrawn"),
                summary: text(v, "summary"),
                aliases,
                affected: affected_out,
            },
            skipped,
        ))
    }

    /// Whether the record affects a package version, given as a purl with a version
    /// (`pkg:pypi/Ultralytics@8.3.41`: the purl's normalisation applies). A withdrawn
    /// record affects nothing; a purl of another package, or without a version, is not
    /// affected.
    pub fn affects(&self, purl: &str) -> Result<bool, OsvError> {
        if self.withdrawn.is_some() {
            return Ok(false);
        }
        let p: Purl = purl
            .parse()
            .map_err(|e: crate::Error| OsvError::Json(e.to_string()))?;
        let Some(version) = p.version() else {
            return Ok(false);
        };
        let base = Purl::build(p.ty(), p.namespace(), p.name(), None, [], None)
            .map_err(|e| OsvError::Json(e.to_string()))?
            .to_string();
        for a in self.affected.iter().filter(|a| a.purl == base) {
            if affected(a.scheme, &a.ranges, &a.versions, version)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
