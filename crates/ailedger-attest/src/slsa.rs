//! SLSA provenance predicates, v1 and v0.2: builder, build type, materials, source,
//! invocation and times.
//!
//! **Source.** Build types put the source repository in different places; the first
//! that is present wins:
//! - v1 `externalParameters.workflow.{repository, ref}` (GitHub Actions build types:
//!   `https://actions.github.io/buildtypes/workflow/v1`,
//!   `https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1`);
//! - v1 `externalParameters.source` (string or `{uri, digest}`, slsa-github-generator's
//!   container-based build), its `git+…@ref` URI split into repository and ref;
//! - v1 `externalParameters.{repository, ref}`;
//! - v0.2 `invocation.configSource.{uri, digest}`;
//! - else the first `git+` material that has a commit digest.
//!
//! The commit is the `gitCommit` (or `sha1`) digest of the source itself or of the
//! material whose URI names the same repository. Repositories are reported without the
//! `git+` prefix and the `@ref` suffix.

use serde_json::Value;

use crate::statement::{ResourceDescriptor, StatementError, at, parse_descriptor};

pub const PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
pub const PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlsaVersion {
    V1,
    V02,
}

/// Where the build's source came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRef {
    /// Repository URL, without `git+` and `@ref`.
    pub repo: String,
    pub commit: Option<String>,
    pub git_ref: Option<String>,
}

/// The parts of a provenance predicate the ledger records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    pub slsa_version: SlsaVersion,
    pub builder_id: String,
    pub build_type: String,
    /// v1 `resolvedDependencies` or v0.2 `materials`.
    pub materials: Vec<ResourceDescriptor>,
    pub source: Option<SourceRef>,
    /// v1 `runDetails.metadata.invocationId`, v0.2 `metadata.buildInvocationId`.
    pub invocation_id: Option<String>,
    pub started_on: Option<String>,
    pub finished_on: Option<String>,
}

/// Reads a provenance predicate; `None` when `predicate_type` is not SLSA provenance
/// v1 or v0.2. Error pointers are relative to the statement (`/predicate/…`).
pub fn parse(
    predicate_type: &str,
    predicate: &Value,
) -> Option<Result<Provenance, StatementError>> {
    match predicate_type {
        PROVENANCE_V1 => Some(parse_v1(predicate)),
        PROVENANCE_V02 => Some(parse_v02(predicate)),
        _ => None,
    }
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn pointer(path: &[&str]) -> String {
    let mut p = String::from("/predicate");
    for k in path {
        p.push('/');
        p.push_str(k);
    }
    p
}

fn required_str(v: &Value, path: &[&str]) -> Result<String, StatementError> {
    match get(v, path) {
        None | Some(Value::Null) => Err(at(pointer(path), "missing")),
        Some(Value::String(s)) if s.is_empty() => Err(at(pointer(path), "empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(at(pointer(path), "not a string")),
    }
}

fn optional_str(v: &Value, path: &[&str]) -> Result<Option<String>, StatementError> {
    match get(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(at(pointer(path), "not a string")),
    }
}

fn descriptors(v: &Value, path: &[&str]) -> Result<Vec<ResourceDescriptor>, StatementError> {
    match get(v, path) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, m)| parse_descriptor(m, &format!("{}/{i}", pointer(path)), false))
            .collect(),
        Some(_) => Err(at(pointer(path), "not an array")),
    }
}

fn parse_v1(p: &Value) -> Result<Provenance, StatementError> {
    if !p.is_object() {
        return Err(at("/predicate", "not an object"));
    }
    let build_type = required_str(p, &["buildDefinition", "buildType"])?;
    let builder_id = required_str(p, &["runDetails", "builder", "id"])?;
    let materials = descriptors(p, &["buildDefinition", "resolvedDependencies"])?;
    let ext = get(p, &["buildDefinition", "externalParameters"]);
    let mut source = None;
    if let Some(ext) = ext {
        let workflow = ext.get("workflow");
        if let Some(repo) = workflow
            .and_then(|w| w.get("repository"))
            .and_then(Value::as_str)
        {
            source = Some(SourceRef {
                repo: repo.to_owned(),
                commit: None,
                git_ref: workflow
                    .and_then(|w| w.get("ref"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        } else if let Some(src) = ext.get("source") {
            let (uri, digest) = match src {
                Value::String(s) => (Some(s.as_str()), None),
                other => (
                    other.get("uri").and_then(Value::as_str),
                    other.get("digest"),
                ),
            };
            if let Some(uri) = uri {
                let (repo, git_ref) = split_git_uri(uri);
                source = Some(SourceRef {
                    repo,
                    commit: digest.and_then(commit_of_value),
                    git_ref,
                });
            }
        } else if let Some(repo) = ext.get("repository").and_then(Value::as_str) {
            let (repo, uri_ref) = split_git_uri(repo);
            source = Some(SourceRef {
                repo,
                commit: None,
                git_ref: ext
                    .get("ref")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or(uri_ref),
            });
        }
    }
    let source = complete_source(source, &materials);
    let metadata = ["runDetails", "metadata"];
    Ok(Provenance {
        slsa_version: SlsaVersion::V1,
        builder_id,
        build_type,
        materials,
        source,
        invocation_id: optional_str(p, &[metadata[0], metadata[1], "invocationId"])?,
        started_on: optional_str(p, &[metadata[0], metadata[1], "startedOn"])?,
        finished_on: optional_str(p, &[metadata[0], metadata[1], "finishedOn"])?,
    })
}

fn parse_v02(p: &Value) -> Result<Provenance, StatementError> {
    if !p.is_object() {
        return Err(at("/predicate", "not an object"));
    }
    let builder_id = required_str(p, &["builder", "id"])?;
    let build_type = required_str(p, &["buildType"])?;
    let materials = descriptors(p, &["materials"])?;
    let mut source = None;
    if let Some(uri) = optional_str(p, &["invocation", "configSource", "uri"])? {
        let (repo, git_ref) = split_git_uri(&uri);
        let digest = match get(p, &["invocation", "configSource", "digest"]) {
            None | Some(Value::Null) => None,
            Some(d) => Some(crate::statement::parse_digest(
                d,
                "/predicate/invocation/configSource/digest",
            )?),
        };
        source = Some(SourceRef {
            repo,
            commit: digest.as_ref().and_then(commit_of),
            git_ref,
        });
    }
    let source = complete_source(source, &materials);
    Ok(Provenance {
        slsa_version: SlsaVersion::V02,
        builder_id,
        build_type,
        materials,
        source,
        invocation_id: optional_str(p, &["metadata", "buildInvocationId"])?,
        started_on: optional_str(p, &["metadata", "buildStartedOn"])?,
        finished_on: optional_str(p, &["metadata", "buildFinishedOn"])?,
    })
}

/// Fills in the source's commit from the material naming the same repository, or
/// takes the source from the first `git+` material with a commit.
fn complete_source(
    source: Option<SourceRef>,
    materials: &[ResourceDescriptor],
) -> Option<SourceRef> {
    let git_materials = || {
        materials.iter().filter_map(|m| {
            let uri = m.uri.as_deref()?;
            let (repo, git_ref) = split_git_uri(uri);
            Some((repo, git_ref, commit_of(&m.digest)))
        })
    };
    match source {
        Some(mut s) => {
            if s.commit.is_none() || s.git_ref.is_none() {
                let want = normalise_repo(&s.repo);
                if let Some((_, git_ref, commit)) =
                    git_materials().find(|(repo, _, _)| normalise_repo(repo) == want)
                {
                    s.commit = s.commit.or(commit);
                    s.git_ref = s.git_ref.or(git_ref);
                }
            }
            Some(s)
        }
        None => materials
            .iter()
            .filter(|m| m.uri.as_deref().is_some_and(|u| u.starts_with("git+")))
            .find_map(|m| {
                let commit = commit_of(&m.digest)?;
                let (repo, git_ref) = split_git_uri(m.uri.as_deref()?);
                Some(SourceRef {
                    repo,
                    commit: Some(commit),
                    git_ref,
                })
            }),
    }
}

fn commit_of(digest: &std::collections::BTreeMap<String, String>) -> Option<String> {
    digest
        .get("gitCommit")
        .or_else(|| digest.get("sha1"))
        .cloned()
}

fn commit_of_value(digest: &Value) -> Option<String> {
    digest
        .get("gitCommit")
        .or_else(|| digest.get("sha1"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

/// `git+https://host/org/repo@refs/tags/v1` → (`https://host/org/repo`,
/// `Some("refs/tags/v1")`). An `@` in the authority (`ssh://git@host/…`) is not a ref.
fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let path_start = match uri.find("://") {
        Some(i) => uri[i + 3..]
            .find('/')
            .map(|j| i + 3 + j)
            .unwrap_or(uri.len()),
        None => 0,
    };
    match uri[path_start..].rfind('@') {
        Some(at_pos) => {
            let at_pos = path_start + at_pos;
            let git_ref = &uri[at_pos + 1..];
            (
                uri[..at_pos].to_owned(),
                (!git_ref.is_empty()).then(|| git_ref.to_owned()),
            )
        }
        None => (uri.to_owned(), None),
    }
}

/// For comparing repository URLs: case-insensitive, without a trailing `/` or `.git`.
fn normalise_repo(repo: &str) -> String {
    let r = repo.trim_end_matches('/');
    let r = r.strip_suffix(".git").unwrap_or(r);
    r.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_uris() {
        assert_eq!(
            split_git_uri("git+https://github.com/a/b@refs/tags/v1"),
            (
                "https://github.com/a/b".to_owned(),
                Some("refs/tags/v1".to_owned())
            )
        );
        assert_eq!(
            split_git_uri("git+ssh://git@github.com/a/b"),
            ("ssh://git@github.com/a/b".to_owned(), None)
        );
        assert_eq!(
            split_git_uri("https://github.com/a/b"),
            ("https://github.com/a/b".to_owned(), None)
        );
        assert_eq!(
            normalise_repo("https://GitHub.com/a/b.git/"),
            "https://github.com/a/b"
        );
    }
}
