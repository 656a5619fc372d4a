//! The CI/CD policy gate (`ailedger check`): whether a release — an artifact or a
//! deployment with everything it transitively consumes — satisfies the `gate` section
//! of the policy file.
//!
//! Pure: the caller (the server) gathers each component's record, attestations,
//! describing documents and containment (open incidents, blocklist entries,
//! quarantine); [`check`] gives the [`Report`], every failure with a stable code
//! ([`Code`], `AIL-GATE-…`, never renumbered; table in docs/policy-gate.md) and a
//! recommendation saying what would make it pass. [`Report::to_sarif`] is the same
//! report as SARIF 2.1.0 for code-scanning upload.

use std::collections::BTreeMap;

use ailedger_core::{ArtifactKind, Severity};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{
    judge::Outcome,
    policy::{PolicyFile, PolicyFormat, glob_match},
};

/// Microseconds in a day.
const DAY_US: i64 = 86_400 * 1_000_000;

/// The kinds `allowed_sources` applies to: what comes from a source or a registry.
pub const SOURCED_KINDS: [ArtifactKind; 3] = [
    ArtifactKind::Model,
    ArtifactKind::Dataset,
    ArtifactKind::Package,
];

/// Weight formats `deny_formats` knows, with the file extensions that mean them. A
/// `.bin` is counted as pickle: that is what `pytorch_model.bin` is.
pub const FORMATS: &[(&str, &[&str])] = &[
    (
        "pickle",
        &[".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib"],
    ),
    ("safetensors", &[".safetensors"]),
    ("gguf", &[".gguf"]),
    ("onnx", &[".onnx"]),
    ("keras", &[".keras", ".h5", ".hdf5"]),
];

/// The `gate` section of the policy file. Every knob is optional; an absent knob checks
/// nothing. Blocklisted and quarantined components fail whatever the knobs say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRules {
    /// Components of these kinds need a verified attestation (signature or
    /// provenance) attesting them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_verified: Vec<ArtifactKind>,
    /// Minimum SLSA build level per kind (`{ model = 2, package = 1 }`): the best
    /// level among the component's attestations that did not fail.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub min_slsa_level: BTreeMap<ArtifactKind, u8>,
    /// Patterns (a trailing `*` matches any rest) that a model's, dataset's or
    /// package's id, one of its aliases, or its `source`/`uri` attribute must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_sources: Vec<String>,
    /// Models first registered more than this many days ago fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_model_age_days: Option<u32>,
    /// Weight formats refused in models and datasets (names from [`FORMATS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_formats: Vec<String>,
    /// Inspection findings at or above this severity fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_findings_at: Option<Severity>,
    /// Components covered by an open incident fail.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deny_open_incidents: bool,
    /// A deployment needs an SBOM among its components or describing one of them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_sbom: bool,
    /// Model architectures refused (config.json `architectures`; a trailing `*`
    /// matches any rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_architectures: Vec<String>,
    /// Predicate types (a trailing `*` matches any rest) of which every model needs a
    /// verified attestation: evaluations before release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_evaluation: Vec<String>,
    /// Datasets whose source is plain `http://` (or `ftp://`), or that no verified
    /// attestation vouches for, fail.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deny_insecure_data_sources: bool,
    /// Newly registered models and packages are quarantined until these checks on
    /// them pass (the server records the quarantine and the release as entries).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quarantine: bool,
}

impl GateRules {
    /// Checks serde cannot express; the error is `(field, reason)` within `gate`.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (kind, level) in &self.min_slsa_level {
            if !(1..=3).contains(level) {
                return Err((
                    format!("min_slsa_level.{kind}"),
                    format!("{level}: SLSA build levels are 1, 2 and 3"),
                ));
            }
        }
        for (i, p) in self.allowed_sources.iter().enumerate() {
            let star = p.find('*');
            if p.is_empty() || p == "*" {
                return Err((
                    format!("allowed_sources[{i}]"),
                    format!("{p:?} allows everything; leave allowed_sources out instead"),
                ));
            }
            if star.is_some_and(|s| s + 1 != p.len()) {
                return Err((
                    format!("allowed_sources[{i}]"),
                    format!("{p:?}: only a trailing `*` is a wildcard"),
                ));
            }
        }
        if self.max_model_age_days == Some(0) {
            return Err((
                "max_model_age_days".into(),
                "0 refuses every model; give at least 1".into(),
            ));
        }
        for (i, f) in self.deny_formats.iter().enumerate() {
            if !FORMATS.iter().any(|(name, _)| name == f) {
                let known: Vec<&str> = FORMATS.iter().map(|(n, _)| *n).collect();
                return Err((
                    format!("deny_formats[{i}]"),
                    format!("unknown format {f:?} (known: {})", known.join(", ")),
                ));
            }
        }
        for (name, list) in [
            ("deny_architectures", &self.deny_architectures),
            ("require_evaluation", &self.require_evaluation),
        ] {
            if let Some(i) = list.iter().position(|s| s.trim().is_empty()) {
                return Err((format!("{name}[{i}]"), "empty".into()));
            }
        }
        Ok(())
    }

    /// Whether no knob is set.
    pub fn is_empty(&self) -> bool {
        self == &GateRules::default()
    }
}

/// What the lead's incident, blocklist and quarantine entries say about a component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Containment {
    /// Open incidents covering it (their entry seqs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<u64>,
    /// Blocklist entries matching it (their entry seqs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quarantined: bool,
}

/// One judged attestation about a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationFacts {
    /// The attestation artifact's id.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa_level: Option<u8>,
}

impl AttestationFacts {
    /// What an attestation artifact's recorded judgement (`attrs.attestation`, see
    /// [`crate::judge::Judgement`]) says about `subject`: one entry per item about it
    /// (a JSON Lines file holds several), or the first item when none names it.
    pub fn from_attrs(id: &str, attrs: &Map<String, Value>, subject: &str) -> Vec<Self> {
        let Some(items) = attrs
            .get("attestation")
            .and_then(|j| j.get("items"))
            .and_then(Value::as_array)
        else {
            return vec![];
        };
        let about = |i: &&Value| {
            i.get("subjects")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(subject)))
        };
        let mut chosen: Vec<&Value> = items.iter().filter(about).collect();
        if chosen.is_empty() {
            chosen.extend(items.first());
        }
        chosen
            .into_iter()
            .filter_map(|item| {
                let outcome = match item.get("outcome")?.as_str()? {
                    "verified" => Outcome::Verified,
                    "unverified" => Outcome::Unverified,
                    "failed" => Outcome::Failed,
                    _ => return None,
                };
                Some(AttestationFacts {
                    id: id.to_owned(),
                    predicate_type: item
                        .get("predicate_type")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    outcome,
                    slsa_level: item
                        .get("slsa")
                        .and_then(|s| s.get("level"))
                        .and_then(Value::as_u64)
                        .and_then(|l| u8::try_from(l).ok()),
                })
            })
            .collect()
    }
}

/// A document that describes a component (an incoming `describes` edge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribingDocument {
    pub id: String,
    pub kind: ArtifactKind,
}

/// One component of the release, as the ledger knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub id: String,
    pub kind: ArtifactKind,
    pub name: Option<String>,
    pub version: Option<String>,
    pub aliases: Vec<String>,
    pub attrs: Map<String, Value>,
    /// When it was first registered (microseconds since the epoch).
    pub first_registered_us: Option<i64>,
    pub attestations: Vec<AttestationFacts>,
    pub described_by: Vec<DescribingDocument>,
    pub containment: Containment,
}

impl Component {
    /// A component with nothing but its id and kind.
    pub fn new(id: impl Into<String>, kind: ArtifactKind) -> Self {
        Component {
            id: id.into(),
            kind,
            name: None,
            version: None,
            aliases: vec![],
            attrs: Map::new(),
            first_registered_us: None,
            attestations: vec![],
            described_by: vec![],
            containment: Containment::default(),
        }
    }

    /// A readable name: `<kind>:<name>[@<version>]` for a digest-identified artifact
    /// with a name, its id otherwise.
    pub fn label(&self) -> String {
        ailedger_core::graph::label_for(
            &self.id,
            self.kind,
            self.name.as_deref(),
            self.version.as_deref(),
        )
        .unwrap_or_else(|| self.id.clone())
    }

    fn attr_str(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).and_then(Value::as_str)
    }

    fn verified(&self) -> bool {
        self.attestations
            .iter()
            .any(|a| a.outcome == Outcome::Verified)
    }

    /// The weight formats its manifest and findings show.
    pub fn formats(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let paths = self
            .attrs
            .get("manifest")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("path")?.as_str());
        for path in paths {
            let lower = path.to_ascii_lowercase();
            for (name, exts) in FORMATS {
                if exts.iter().any(|e| lower.ends_with(e)) && !out.contains(name) {
                    out.push(*name);
                }
            }
        }
        let pickle_findings = self
            .findings()
            .any(|(code, _)| code.starts_with("AIL-PKL-"));
        if pickle_findings && !out.contains(&"pickle") {
            out.push("pickle");
        }
        out
    }

    /// Its files in a format, by path.
    fn files_in(&self, format: &str) -> Vec<String> {
        let exts = FORMATS
            .iter()
            .find(|(n, _)| *n == format)
            .map_or(&[][..], |(_, e)| *e);
        self.attrs
            .get("manifest")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("path")?.as_str())
            .filter(|p| {
                let lower = p.to_ascii_lowercase();
                exts.iter().any(|e| lower.ends_with(e))
            })
            .map(str::to_owned)
            .collect()
    }

    /// `(code, severity)` of each recorded finding.
    fn findings(&self) -> impl Iterator<Item = (&str, Option<Severity>)> {
        self.attrs
            .get("findings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some((
                    f.get("code")?.as_str()?,
                    f.get("severity")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok()),
                ))
            })
    }

    /// The architectures recorded for a model (`attrs.architectures`).
    fn architectures(&self) -> Vec<&str> {
        self.attrs
            .get("architectures")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }
}

/// A failure's code. Codes are stable: never renumbered, new ones appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    Blocklisted,
    Quarantined,
    OpenIncident,
    Unverified,
    SlsaLevel,
    SourceNotAllowed,
    ModelTooOld,
    DeniedFormat,
    Finding,
    NoSbom,
    DeniedArchitecture,
    NoEvaluation,
    InsecureDataSource,
    UnverifiedDataOrigin,
}

impl Code {
    pub const ALL: [Code; 14] = [
        Code::Blocklisted,
        Code::Quarantined,
        Code::OpenIncident,
        Code::Unverified,
        Code::SlsaLevel,
        Code::SourceNotAllowed,
        Code::ModelTooOld,
        Code::DeniedFormat,
        Code::Finding,
        Code::NoSbom,
        Code::DeniedArchitecture,
        Code::NoEvaluation,
        Code::InsecureDataSource,
        Code::UnverifiedDataOrigin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Blocklisted => "AIL-GATE-001",
            Code::Quarantined => "AIL-GATE-002",
            Code::OpenIncident => "AIL-GATE-003",
            Code::Unverified => "AIL-GATE-004",
            Code::SlsaLevel => "AIL-GATE-005",
            Code::SourceNotAllowed => "AIL-GATE-006",
            Code::ModelTooOld => "AIL-GATE-007",
            Code::DeniedFormat => "AIL-GATE-008",
            Code::Finding => "AIL-GATE-009",
            Code::NoSbom => "AIL-GATE-010",
            Code::DeniedArchitecture => "AIL-GATE-011",
            Code::NoEvaluation => "AIL-GATE-012",
            Code::InsecureDataSource => "AIL-GATE-013",
            Code::UnverifiedDataOrigin => "AIL-GATE-014",
        }
    }

    /// The policy knob behind it (`blocklist`/`quarantine`: always on).
    pub fn knob(self) -> &'static str {
        match self {
            Code::Blocklisted => "blocklist",
            Code::Quarantined => "quarantine",
            Code::OpenIncident => "deny_open_incidents",
            Code::Unverified => "require_verified",
            Code::SlsaLevel => "min_slsa_level",
            Code::SourceNotAllowed => "allowed_sources",
            Code::ModelTooOld => "max_model_age_days",
            Code::DeniedFormat => "deny_formats",
            Code::Finding => "deny_findings_at",
            Code::NoSbom => "require_sbom",
            Code::DeniedArchitecture => "deny_architectures",
            Code::NoEvaluation => "require_evaluation",
            Code::InsecureDataSource | Code::UnverifiedDataOrigin => "deny_insecure_data_sources",
        }
    }

    /// One line saying what the rule is.
    pub fn title(self) -> &'static str {
        match self {
            Code::Blocklisted => "Component is blocklisted",
            Code::Quarantined => "Component is quarantined",
            Code::OpenIncident => "Component is covered by an open incident",
            Code::Unverified => "No verified signature or provenance",
            Code::SlsaLevel => "SLSA build level below the minimum",
            Code::SourceNotAllowed => "Source or registry not allowed",
            Code::ModelTooOld => "Model older than the maximum age",
            Code::DeniedFormat => "Weights in a denied format",
            Code::Finding => "Inspection finding at or above the denied severity",
            Code::NoSbom => "Deployment without an SBOM",
            Code::DeniedArchitecture => "Model architecture denied",
            Code::NoEvaluation => "No verified evaluation attestation",
            Code::InsecureDataSource => "Dataset from a plain-HTTP source",
            Code::UnverifiedDataOrigin => "Dataset origin not verified",
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Code::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown gate code {s:?}")))
    }
}

/// An artifact as a report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactName {
    pub id: String,
    /// Readable: `<kind>:<name>@<version>` for a digest-identified artifact.
    pub label: String,
    pub kind: ArtifactKind,
}

/// One way the release fails the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: Code,
    pub knob: String,
    pub artifact: ArtifactName,
    pub message: String,
    /// What would make it pass.
    pub recommendation: String,
}

/// Which policy the gate applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyUsed {
    /// `request` (given with the check), `ledger` (the policy entry in force) or
    /// `none`.
    pub source: String,
    /// `sha256:<hex>` of the policy text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The policy entry's seq, for a ledger policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub subject: ArtifactName,
    pub passed: bool,
    /// The ledger seq the report was computed at.
    pub at_seq: u64,
    pub policy: PolicyUsed,
    /// Components checked: the subject and everything it transitively consumes.
    pub components: usize,
    pub failures: Vec<Failure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the gate checks.
#[derive(Debug, Clone)]
pub struct GateInput<'a> {
    /// The subject's id; the subject is also one of `components`.
    pub subject: &'a str,
    /// The subject and every component it transitively consumes, nearest first.
    pub components: &'a [Component],
    /// The gate section; `None`: no policy has one.
    pub rules: Option<&'a GateRules>,
    pub policy: PolicyUsed,
    pub at_seq: u64,
    /// The time model ages are measured at (microseconds since the epoch).
    pub now_us: i64,
}

fn name_of(c: &Component) -> ArtifactName {
    ArtifactName {
        id: c.id.clone(),
        label: c.label(),
        kind: c.kind,
    }
}

fn seqs(list: &[u64]) -> String {
    list.iter()
        .map(|s| format!("#{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the gate.
pub fn check(input: &GateInput<'_>) -> Report {
    let empty = GateRules::default();
    let rules = input.rules.unwrap_or(&empty);
    let mut notes = Vec::new();
    if input.rules.is_none() || rules.is_empty() {
        notes.push(
            "no gate policy: neither the request nor the policy in force has a gate section, so \
             only blocklisted and quarantined components can fail"
                .to_owned(),
        );
    }
    let subject = input
        .components
        .iter()
        .find(|c| c.id == input.subject)
        .map(name_of)
        .unwrap_or_else(|| ArtifactName {
            id: input.subject.to_owned(),
            label: input.subject.to_owned(),
            kind: ArtifactKind::Deployment,
        });
    let mut failures = Vec::new();
    for c in input.components {
        component_failures(rules, c, input.now_us, &mut failures);
    }
    if rules.require_sbom && subject.kind == ArtifactKind::Deployment {
        let has_sbom = input.components.iter().any(|c| {
            c.id != subject.id && c.kind == ArtifactKind::Sbom
                || c.described_by.iter().any(|d| d.kind == ArtifactKind::Sbom)
        });
        if !has_sbom {
            failures.push(Failure {
                code: Code::NoSbom,
                knob: Code::NoSbom.knob().into(),
                artifact: subject.clone(),
                message: format!(
                    "{}: no SBOM among its {} components or describing one of them",
                    subject.label,
                    input.components.len().saturating_sub(1)
                ),
                recommendation: format!(
                    "generate an SBOM (CycloneDX or SPDX) of what {} runs and ingest it \
                     (`ailedger ingest sbom.json`), so that it describes one of the \
                     deployment's components",
                    subject.label
                ),
            });
        }
    }
    Report {
        passed: failures.is_empty(),
        subject,
        at_seq: input.at_seq,
        policy: input.policy.clone(),
        components: input.components.len(),
        failures,
        notes,
    }
}

fn component_failures(rules: &GateRules, c: &Component, now_us: i64, out: &mut Vec<Failure>) {
    let label = c.label();
    let mut fail = |code: Code, message: String, recommendation: String| {
        out.push(Failure {
            code,
            knob: code.knob().into(),
            artifact: name_of(c),
            message,
            recommendation,
        });
    };
    let k = &c.containment;
    if !k.blocked.is_empty() {
        fail(
            Code::Blocklisted,
            format!("{label} matches blocklist entry {}", seqs(&k.blocked)),
            format!(
                "remove {label} from the release or replace it with a version no blocklist \
                 entry matches"
            ),
        );
    }
    if k.quarantined {
        fail(
            Code::Quarantined,
            format!("{label} is quarantined"),
            format!("replace {label}, or release it from quarantine once it has been reviewed"),
        );
    }
    if rules.deny_open_incidents && !k.incidents.is_empty() {
        fail(
            Code::OpenIncident,
            format!("{label} is covered by open incident {}", seqs(&k.incidents)),
            format!(
                "replace {label} with a version the incident does not cover, or close \
                 incident {} once it is resolved",
                seqs(&k.incidents)
            ),
        );
    }
    if rules.require_verified.contains(&c.kind) && !c.verified() {
        let seen = if c.attestations.is_empty() {
            "nothing attests it".to_owned()
        } else {
            let outcomes: Vec<&str> = c.attestations.iter().map(|a| a.outcome.as_str()).collect();
            format!("its attestations are {}", outcomes.join(", "))
        };
        fail(
            Code::Unverified,
            format!("{label}: no verified signature or provenance ({seen})"),
            format!(
                "sign {label} or its provenance with a key or identity the trust policy trusts \
                 for {} artifacts, and ingest the signed attestation (`ailedger ingest`)",
                c.kind
            ),
        );
    }
    if let Some(&min) = rules.min_slsa_level.get(&c.kind) {
        let best = c
            .attestations
            .iter()
            .filter(|a| a.outcome != Outcome::Failed)
            .filter_map(|a| a.slsa_level)
            .max();
        if best.is_none_or(|l| l < min) {
            let have = best.map_or("no SLSA provenance".to_owned(), |l| {
                format!("SLSA build level {l}")
            });
            fail(
                Code::SlsaLevel,
                format!("{label}: {have}, below the minimum of {min} for {}", c.kind),
                format!(
                    "build {label} on a builder the trust policy lists{} and ingest its signed \
                     SLSA provenance",
                    if min >= 3 { " as hardened" } else { "" }
                ),
            );
        }
    }
    if !rules.allowed_sources.is_empty() && SOURCED_KINDS.contains(&c.kind) {
        let candidates: Vec<&str> = std::iter::once(c.id.as_str())
            .chain(c.aliases.iter().map(String::as_str))
            .chain(c.attr_str("source"))
            .chain(c.attr_str("uri"))
            .collect();
        let allowed = candidates.iter().any(|v| {
            rules
                .allowed_sources
                .iter()
                .any(|pattern| glob_match(pattern, v))
        });
        if !allowed {
            let source = c
                .attr_str("source")
                .or(c.attr_str("uri"))
                .map_or("no recorded source".to_owned(), |s| format!("source {s}"));
            fail(
                Code::SourceNotAllowed,
                format!("{label} ({source}) matches none of the allowed sources"),
                format!(
                    "take {label} from an allowed source ({}) and record where it came from \
                     (`--source`), or add its registry to gate.allowed_sources",
                    rules.allowed_sources.join(", ")
                ),
            );
        }
    }
    if let (Some(days), ArtifactKind::Model) = (rules.max_model_age_days, c.kind)
        && let Some(first) = c.first_registered_us
    {
        let age_days = now_us.saturating_sub(first) / DAY_US;
        if age_days > i64::from(days) {
            fail(
                Code::ModelTooOld,
                format!(
                    "{label} was first registered {age_days} days ago, over the maximum of {days}"
                ),
                format!(
                    "re-validate and register a newer version of {label}, or raise \
                     gate.max_model_age_days"
                ),
            );
        }
    }
    if !rules.deny_formats.is_empty() {
        let formats = c.formats();
        for f in rules
            .deny_formats
            .iter()
            .filter(|f| formats.contains(&f.as_str()))
        {
            let files = c.files_in(f);
            let which = if files.is_empty() {
                "its inspection findings".to_owned()
            } else {
                files.join(", ")
            };
            let rec = if f == "pickle" {
                format!(
                    "convert {label}'s weights to safetensors and register the converted model \
                     instead"
                )
            } else {
                format!("ship {label} in a format the policy allows")
            };
            fail(
                Code::DeniedFormat,
                format!("{label} has {f} weights ({which})"),
                rec,
            );
        }
    }
    if let Some(at) = rules.deny_findings_at {
        let mut codes: Vec<String> = c
            .findings()
            .filter(|(_, s)| s.is_some_and(|s| s >= at))
            .map(|(code, s)| format!("{code} ({})", s.map(|s| s.to_string()).unwrap_or_default()))
            .collect();
        codes.dedup();
        if !codes.is_empty() {
            fail(
                Code::Finding,
                format!(
                    "{label} has findings at or above {at}: {}",
                    codes.join(", ")
                ),
                format!(
                    "fix or remove what the findings point at (`ailedger show {label}`, \
                     `ailedger inspect`) and register the fixed artifact"
                ),
            );
        }
    }
    if !rules.deny_architectures.is_empty() && c.kind == ArtifactKind::Model {
        for arch in c.architectures() {
            if rules.deny_architectures.iter().any(|p| glob_match(p, arch)) {
                fail(
                    Code::DeniedArchitecture,
                    format!("{label} is a {arch}, a denied architecture"),
                    format!("replace {label} with a model of an architecture the policy allows"),
                );
            }
        }
    }
    if c.kind == ArtifactKind::Model {
        for wanted in &rules.require_evaluation {
            let ok = c.attestations.iter().any(|a| {
                a.outcome == Outcome::Verified
                    && a.predicate_type
                        .as_deref()
                        .is_some_and(|t| glob_match(wanted, t))
            });
            if !ok {
                fail(
                    Code::NoEvaluation,
                    format!("{label} has no verified attestation of type {wanted}"),
                    format!(
                        "run the evaluation, sign its {wanted} attestation about {label} with a \
                         signer the trust policy trusts, and ingest it"
                    ),
                );
            }
        }
    }
    if rules.deny_insecure_data_sources && c.kind == ArtifactKind::Dataset {
        let source = c.attr_str("source").or(c.attr_str("uri"));
        if let Some(s) = source.filter(|s| {
            let l = s.to_ascii_lowercase();
            l.starts_with("http://") || l.starts_with("ftp://")
        }) {
            fail(
                Code::InsecureDataSource,
                format!("{label} comes from {s}, over an unauthenticated channel"),
                format!(
                    "fetch {label} over https (or another authenticated channel) and register it with that source"
                ),
            );
        }
        if !c.verified() {
            fail(
                Code::UnverifiedDataOrigin,
                format!("{label}: no verified attestation vouches for its origin"),
                format!(
                    "have the dataset's producer sign {label} or its provenance with a signer the \
                     trust policy trusts, and ingest the attestation"
                ),
            );
        }
    }
}

impl Report {
    /// The report as a SARIF 2.1.0 log: one rule per code that failed, one result per
    /// failure (level `error`), located at the artifact (its id as the URI, its label
    /// as a logical location).
    pub fn to_sarif(&self) -> Value {
        let mut codes: Vec<Code> = self.failures.iter().map(|f| f.code).collect();
        codes.sort();
        codes.dedup();
        let rules: Vec<Value> = codes
            .iter()
            .map(|c| {
                json!({
                    "id": c.as_str(),
                    "name": c.knob(),
                    "shortDescription": { "text": c.title() },
                    "help": { "text": format!("Policy gate knob `{}`; see docs/policy-gate.md.", c.knob()) },
                    "defaultConfiguration": { "level": "error" },
                })
            })
            .collect();
        let results: Vec<Value> = self
            .failures
            .iter()
            .map(|f| {
                json!({
                    "ruleId": f.code.as_str(),
                    "ruleIndex": codes.iter().position(|c| *c == f.code).unwrap_or(0),
                    "level": "error",
                    "message": { "text": format!("{}. Fix: {}", f.message, f.recommendation) },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": f.artifact.id } },
                        "logicalLocations": [{
                            "name": f.artifact.label,
                            "fullyQualifiedName": f.artifact.id,
                            "kind": "module",
                        }],
                    }],
                    "properties": {
                        "knob": f.knob,
                        "kind": f.artifact.kind.as_str(),
                        "recommendation": f.recommendation,
                    },
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "ailedger",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                } },
                "invocations": [{
                    "executionSuccessful": true,
                    "toolExecutionNotifications": self.notes.iter().map(|n| json!({
                        "message": { "text": n },
                        "level": "note",
                    })).collect::<Vec<_>>(),
                }],
                "properties": {
                    "subject": self.subject.id,
                    "passed": self.passed,
                    "atSeq": self.at_seq,
                    "components": self.components,
                },
                "results": results,
            }],
        })
    }
}

/// Fuzz body (the `attest_policy` target, and a test over the documented example and
/// its mutations): policy text as `POST /v1/check` takes it from a read token, read as
/// TOML and as YAML, and a `gate` section that reads run over a few components with
/// attributes of every shape the knobs look at. Nothing may panic; a report's verdict
/// agrees with its failures.
pub fn fuzz_policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let attrs: Map<String, Value> = serde_json::from_str(
        r#"{"source": "http://example.com/x", "findings": [{"code": "AIL-PKL-001", "severity": "critical"}],
            "architectures": ["GPT2LMHeadModel"], "manifest": {"files": [{"path": "w.bin", "sha256": "00"}]}}"#,
    )
    .unwrap_or_default();
    let mut components: Vec<Component> = [
        ArtifactKind::Deployment,
        ArtifactKind::Model,
        ArtifactKind::Dataset,
        ArtifactKind::Package,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, kind)| Component::new(format!("{kind}:c{i}@1"), kind))
    .collect();
    for c in components.iter_mut().skip(1) {
        c.attrs = attrs.clone();
        c.first_registered_us = Some(0);
    }
    for format in [PolicyFormat::Toml, PolicyFormat::Yaml] {
        let Ok((file, _)) = PolicyFile::parse(&text, Some(format)) else {
            continue;
        };
        let report = check(&GateInput {
            subject: &components[0].id,
            components: &components,
            rules: file.gate.as_ref(),
            policy: PolicyUsed::default(),
            at_seq: 1,
            now_us: i64::MAX / 2,
        });
        assert_eq!(report.passed, report.failures.is_empty(), "{report:?}");
    }
}
