//! The trust policy: which signers ailedger trusts, for which artifacts, which builders
//! count as hosted or hardened, and what a document gets when it is unsigned, signed by
//! no trusted signer, or fails verification.
//!
//! A policy is TOML or YAML (schema: `schemas/trust-policy.schema.json`, example and
//! reference: docs/attestations.md). It is recorded as a `policy` entry, text and the
//! files it names (Sigstore trusted roots), so every verification result names the
//! policy version (the entry's seq) that judged it and anyone can re-run the judgement.

use std::collections::BTreeMap;

use ailedger_core::ArtifactKind;
use serde::{Deserialize, Serialize};

/// The schema version this build reads.
pub const POLICY_VERSION: u32 = 1;

/// The name under which the Sigstore public-good trusted root shipped with ailedger is
/// referred to (`sigstore.trusted_root = "production"`).
pub const PRODUCTION_ROOT: &str = "production";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy: {0}")]
    Syntax(String),
    #[error("policy: {field}: {reason}")]
    Field { field: String, reason: String },
}

fn field(field: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

/// How the policy text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFormat {
    Toml,
    Yaml,
}

impl PolicyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyFormat::Toml => "toml",
            PolicyFormat::Yaml => "yaml",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "toml" => Some(PolicyFormat::Toml),
            "yaml" | "yml" => Some(PolicyFormat::Yaml),
            _ => None,
        }
    }
}

/// What a document gets in one of the policy's cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Recorded, with its outcome and the reason.
    Record,
    /// Refused: nothing is recorded and the caller is told why.
    Refuse,
}

/// What happens to documents that are not verified by a trusted signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnRules {
    /// Bare statements and envelopes without signatures.
    #[serde(default = "record")]
    pub unsigned: Action,
    /// Signatures that verify, but by no signer the policy trusts for the subject (or
    /// that cannot be checked because the policy holds no key for them).
    #[serde(default = "record")]
    pub untrusted: Action,
    /// Signatures that do not verify: a wrong key, a tampered payload, a bad
    /// certificate or transparency-log proof, a subject digest that does not match.
    #[serde(default = "refuse")]
    pub failed: Action,
}

fn record() -> Action {
    Action::Record
}
fn refuse() -> Action {
    Action::Refuse
}

impl Default for OnRules {
    fn default() -> Self {
        OnRules {
            unsigned: Action::Record,
            untrusted: Action::Record,
            failed: Action::Refuse,
        }
    }
}

/// Which subjects a signer may vouch for. Every list that is given must match; an empty
/// scope matches every subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Artifact kinds (`model`, `dataset`, `package` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<ArtifactKind>,
    /// Package URL patterns: `pkg:pypi/acme-*` (a trailing `*` matches any rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purl_namespaces: Vec<String>,
    /// Model source patterns, matched against a model's registered `source`
    /// (`hf://acme/*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_sources: Vec<String>,
}

/// A trusted public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRule {
    pub name: String,
    /// PEM (`PUBLIC KEY`) or a securesystemslib key as JSON.
    pub public_key: String,
    #[serde(default)]
    pub scope: Scope,
}

/// A trusted Sigstore (Fulcio) certificate identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRule {
    pub name: String,
    /// The certificate's subject alternative name, exactly…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub san: Option<String>,
    /// …or matching this regular expression (anchored at both ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub san_regex: Option<String>,
    /// The OIDC issuer, exactly…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// …or matching this regular expression (anchored at both ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_regex: Option<String>,
    #[serde(default)]
    pub scope: Scope,
}

/// A trusted private certificate authority (model-signing certificate mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateAuthorityRule {
    pub name: String,
    /// One or more PEM certificates: the root and any intermediates.
    pub certificates: String,
    #[serde(default)]
    pub scope: Scope,
}

/// A builder the policy knows (`builder.id` of SLSA provenance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuilderRule {
    /// The builder id, exactly…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// …or matching this regular expression (anchored at both ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_regex: Option<String>,
    /// The builder is hardened (SLSA Build L3); otherwise a trusted hosted builder (L2).
    #[serde(default)]
    pub hardened: bool,
    /// The signers (key, identity or authority names) whose signature on provenance
    /// from this builder counts; empty: any trusted signer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
}

/// Sigstore settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigstoreRules {
    /// `production` (the public-good root pinned in ailedger) or the name of a file
    /// recorded with the policy (`ailedger policy set --file NAME=PATH`).
    pub trusted_root: String,
}

impl Default for SigstoreRules {
    fn default() -> Self {
        SigstoreRules {
            trusted_root: PRODUCTION_ROOT.into(),
        }
    }
}

/// A trust policy as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Schema version: 1.
    pub version: u32,
    #[serde(default)]
    pub on: OnRules,
    #[serde(default)]
    pub sigstore: SigstoreRules,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<IdentityRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificate_authorities: Vec<CertificateAuthorityRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builders: Vec<BuilderRule>,
    /// The CI/CD gate (`ailedger check`): what every component of a release must
    /// satisfy. Absent: every knob is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<crate::gate::GateRules>,
}

impl PolicyFile {
    /// The policy in force before any `policy` entry: it trusts no one, records
    /// unsigned and untrusted documents as unverified and refuses failed ones.
    pub fn empty() -> Self {
        PolicyFile {
            version: POLICY_VERSION,
            on: OnRules::default(),
            sigstore: SigstoreRules::default(),
            keys: vec![],
            identities: vec![],
            certificate_authorities: vec![],
            builders: vec![],
            gate: None,
        }
    }

    /// Parses the text; the format is the one given or, when `None`, TOML and then YAML.
    pub fn parse(
        text: &str,
        format: Option<PolicyFormat>,
    ) -> Result<(Self, PolicyFormat), PolicyError> {
        let parsed = match format {
            Some(PolicyFormat::Toml) => parse_toml(text).map(|p| (p, PolicyFormat::Toml)),
            Some(PolicyFormat::Yaml) => parse_yaml(text).map(|p| (p, PolicyFormat::Yaml)),
            None => parse_toml(text)
                .map(|p| (p, PolicyFormat::Toml))
                .or_else(|toml_err| {
                    parse_yaml(text)
                        .map(|p| (p, PolicyFormat::Yaml))
                        .map_err(|yaml_err| {
                            PolicyError::Syntax(format!(
                                "neither TOML ({toml_err}) nor YAML ({yaml_err})"
                            ))
                        })
                }),
        }?;
        parsed.0.check()?;
        Ok(parsed)
    }

    /// The checks serde cannot express: versions, unique names, one of exact/regex,
    /// regexes that compile, builder signers that exist.
    fn check(&self) -> Result<(), PolicyError> {
        if self.version != POLICY_VERSION {
            return Err(field(
                "version",
                format!(
                    "{} is not supported (this build reads {POLICY_VERSION})",
                    self.version
                ),
            ));
        }
        let mut names = std::collections::HashSet::new();
        let all = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("keys[{i}].name"), &k.name, &k.scope))
            .chain(
                self.identities
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (format!("identities[{i}].name"), &k.name, &k.scope)),
            )
            .chain(
                self.certificate_authorities
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        (
                            format!("certificate_authorities[{i}].name"),
                            &k.name,
                            &k.scope,
                        )
                    }),
            );
        for (at, name, scope) in all {
            if name.trim().is_empty() {
                return Err(field(at, "empty"));
            }
            if !names.insert(name.as_str()) {
                return Err(field(at, format!("{name:?} names two signers")));
            }
            for (j, p) in scope.purl_namespaces.iter().enumerate() {
                if !p.starts_with("pkg:") {
                    return Err(field(
                        format!("{at}: scope.purl_namespaces[{j}]"),
                        format!("{p:?} is not a package URL pattern (pkg:…)"),
                    ));
                }
            }
        }
        for (i, r) in self.identities.iter().enumerate() {
            one_of(&format!("identities[{i}]"), "san", &r.san, &r.san_regex)?;
            one_of(
                &format!("identities[{i}]"),
                "issuer",
                &r.issuer,
                &r.issuer_regex,
            )?;
        }
        if let Some(gate) = &self.gate {
            gate.check()
                .map_err(|(at, reason)| field(format!("gate.{at}"), reason))?;
        }
        for (i, b) in self.builders.iter().enumerate() {
            one_of(&format!("builders[{i}]"), "id", &b.id, &b.id_regex)?;
            for (j, s) in b.signers.iter().enumerate() {
                if !names.contains(s.as_str()) {
                    return Err(field(
                        format!("builders[{i}].signers[{j}]"),
                        format!("{s:?} names no key, identity or certificate authority"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The file names the policy refers to (which must be recorded with it).
    pub fn referenced_files(&self) -> Vec<&str> {
        if self.sigstore.trusted_root == PRODUCTION_ROOT {
            vec![]
        } else {
            vec![self.sigstore.trusted_root.as_str()]
        }
    }
}

/// Exactly one of an exact value and a regex; the regex must compile.
fn one_of(
    at: &str,
    name: &str,
    exact: &Option<String>,
    regex: &Option<String>,
) -> Result<(), PolicyError> {
    match (exact, regex) {
        (Some(_), None) => Ok(()),
        (None, Some(r)) => crate::sigstore::Matcher::regex(r).map(|_| ()).map_err(|e| {
            field(
                format!("{at}.{name}_regex"),
                format!("invalid regular expression: {e}"),
            )
        }),
        (Some(_), Some(_)) => Err(field(
            format!("{at}.{name}"),
            format!("give {name} or {name}_regex, not both"),
        )),
        (None, None) => Err(field(
            format!("{at}.{name}"),
            format!("missing: give {name} or {name}_regex"),
        )),
    }
}

fn parse_toml(text: &str) -> Result<PolicyFile, PolicyError> {
    toml::from_str(text).map_err(|e| {
        // The line at fault, quoted (the message alone does not name the key).
        let at = e.span().map(|span| {
            let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
            format!(" line {line_no} ({line})")
        });
        PolicyError::Syntax(format!("TOML{}: {}", at.unwrap_or_default(), e.message()))
    })
}

fn parse_yaml(text: &str) -> Result<PolicyFile, PolicyError> {
    yaml_serde::from_str(text).map_err(|e| PolicyError::Syntax(format!("YAML: {e}")))
}

/// Whether `value` matches a pattern whose trailing `*` matches any rest.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// What the policy knows about a subject when it decides whether a signer may vouch
/// for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectContext {
    pub kind: Option<ArtifactKind>,
    /// Package URLs the artifact answers to.
    pub purls: Vec<String>,
    /// The model's registered source, if any.
    pub source: Option<String>,
}

impl Scope {
    /// Whether the scope admits the subject.
    pub fn admits(&self, s: &SubjectContext) -> bool {
        (self.kinds.is_empty() || s.kind.is_some_and(|k| self.kinds.contains(&k)))
            && (self.purl_namespaces.is_empty()
                || s.purls
                    .iter()
                    .any(|p| self.purl_namespaces.iter().any(|pat| glob_match(pat, p))))
            && (self.model_sources.is_empty()
                || s.source
                    .as_deref()
                    .is_some_and(|src| self.model_sources.iter().any(|pat| glob_match(pat, src))))
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.purl_namespaces.is_empty() && self.model_sources.is_empty()
    }
}

/// The files recorded with a policy, by name.
pub type PolicyFiles = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn toml_and_yaml_read_alike_and_faults_name_the_field() {
        let toml = r#"
version = 1
[on]
unsigned = "refuse"
[[identities]]
name = "release"
san_regex = 'https://github\.com/acme/.+'
issuer = "https://token.actions.githubusercontent.com"
scope = { kinds = ["model"] }
[[builders]]
id = "https://github.com/actions/runner"
hardened = true
signers = ["release"]
"#;
        let yaml = r#"
version: 1
on: {unsigned: refuse}
identities:
  - name: release
    san_regex: 'https://github\.com/acme/.+'
    issuer: https://token.actions.githubusercontent.com
    scope: {kinds: [model]}
builders:
  - id: https://github.com/actions/runner
    hardened: true
    signers: [release]
"#;
        let (a, fa) = PolicyFile::parse(toml, None).unwrap();
        let (b, fb) = PolicyFile::parse(yaml, None).unwrap();
        assert_eq!((fa, fb), (PolicyFormat::Toml, PolicyFormat::Yaml));
        assert_eq!(a, b);
        assert_eq!(a.on.unsigned, Action::Refuse);
        assert_eq!(a.on.failed, Action::Refuse);
        assert_eq!(a.on.untrusted, Action::Record);
        for (text, want) in [
            ("version = 2", "version: 2 is not supported"),
            (
                "version = 1\n[[identities]]\nname = \"x\"\nsan = \"a\"\nsan_regex = \"b\"\nissuer = \"i\"",
                "identities[0].san: give san or san_regex, not both",
            ),
            (
                "version = 1\n[[identities]]\nname = \"x\"\nsan = \"a\"",
                "identities[0].issuer: missing",
            ),
            (
                "version = 1\n[[identities]]\nname = \"x\"\nsan_regex = \"(\"\nissuer = \"i\"",
                "identities[0].san_regex: invalid regular expression",
            ),
            (
                "version = 1\n[[builders]]\nid = \"b\"\nsigners = [\"nobody\"]",
                "builders[0].signers[0]: \"nobody\" names no key",
            ),
            (
                "version = 1\n[[keys]]\nname = \"k\"\npublic_key = \"x\"\n[[keys]]\nname = \"k\"\npublic_key = \"y\"",
                "keys[1].name: \"k\" names two signers",
            ),
            ("version = 1\nunknown = 3", "unknown field"),
            (
                "version = 1\n[[keys]]\nname = \"k\"\npublic_key = \"x\"\nscope = { kinds = [\"robot\"] }",
                "robot",
            ),
        ] {
            let e = PolicyFile::parse(text, Some(PolicyFormat::Toml))
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn scopes_admit_by_kind_purl_and_source() {
        let scope = Scope {
            kinds: vec![ArtifactKind::Package],
            purl_namespaces: vec!["pkg:pypi/acme-*".into()],
            model_sources: vec![],
        };
        let ctx = |kind, purl: &str| SubjectContext {
            kind: Some(kind),
            purls: vec![purl.into()],
            source: None,
        };
        assert!(scope.admits(&ctx(ArtifactKind::Package, "pkg:pypi/acme-utils@1.0")));
        assert!(!scope.admits(&ctx(ArtifactKind::Package, "pkg:pypi/evil@1.0")));
        assert!(!scope.admits(&ctx(ArtifactKind::Model, "pkg:pypi/acme-utils@1.0")));
        assert!(Scope::default().admits(&SubjectContext::default()));
        let models = Scope {
            model_sources: vec!["hf://acme/*".into()],
            ..Scope::default()
        };
        let mut m = SubjectContext {
            kind: Some(ArtifactKind::Model),
            ..SubjectContext::default()
        };
        assert!(!models.admits(&m));
        m.source = Some("hf://acme/llama".into());
        assert!(models.admits(&m));
    }
}
