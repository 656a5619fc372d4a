//! Identity: which ref is an artifact's id, and which other refs its facts imply.
//! Every writer goes through here — the register API ([`declare`]) and document
//! ingest ([`imply`]) — so one set of facts gives one artifact row, whichever way it
//! arrives (ARCHITECTURE.md, "Identity").
//!
//! The rules:
//! - The id is the ref given (`sha256:<hex>` or a purl, canonicalised), else
//!   `<kind>:<name>[@<version>]` built from the name and version ([`Ref::named`]).
//! - A purl-identified artifact takes its name and version from the purl unless given.
//! - An *identified* artifact (by digest or purl) with a name and a version also
//!   answers to `<kind>:<name>@<version>`, and a model or dataset identified by digest
//!   with a name but no version answers to `<kind>:<name>`. When that alias is a
//!   provisional artifact's own id, the store merges the two (identity merging). A
//!   package or file name without a version names no one artifact, so it implies
//!   nothing.
//! - Aliases never repeat and never include the id; they are kept sorted.

use serde_json::Map;

use crate::{ArtifactFact, ArtifactKind, Error, Ref};

/// Whether a canonical id identifies its artifact by content or coordinates (a digest
/// or a purl) rather than by a `<kind>:<name>[@<version>]` that anyone may claim.
/// (No artifact kind is named `sha256` or `pkg`, so the prefix decides.)
pub fn is_identified(id: &str) -> bool {
    id.starts_with("sha256:") || id.starts_with("pkg:")
}

/// The named ref an artifact with id `id` also answers to, if its identity implies
/// one (see the module documentation); an error when the name and version cannot
/// form a ref that reads back as themselves.
pub fn implied_alias(
    kind: ArtifactKind,
    id: &str,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<Option<String>, Error> {
    if !is_identified(id) {
        return Ok(None);
    }
    let Some(name) = name else {
        return Ok(None);
    };
    let by_digest = id.starts_with("sha256:");
    match version {
        Some(v) => Ref::named(kind, name, Some(v)).map(|r| Some(r.to_string())),
        None if by_digest && matches!(kind, ArtifactKind::Model | ArtifactKind::Dataset) => {
            Ref::named(kind, name, None).map(|r| Some(r.to_string()))
        }
        None => Ok(None),
    }
}

/// Adds the alias `fact`'s identity implies and normalises its aliases (sorted, no
/// repeats, not the id). When the name and version cannot form a ref, the aliases are
/// still normalised and the error says why no alias was implied: the register API
/// refuses the request, document ingest records a warning.
pub fn imply(fact: &mut ArtifactFact) -> Result<(), Error> {
    let implied = implied_alias(
        fact.kind,
        &fact.id,
        fact.name.as_deref(),
        fact.version.as_deref(),
    );
    if let Ok(Some(alias)) = &implied {
        fact.aliases.push(alias.clone());
    }
    let id = &fact.id;
    fact.aliases.retain(|a| a != id);
    fact.aliases.sort_unstable();
    fact.aliases.dedup();
    implied.map(|_| ())
}

/// An artifact as a caller declares it: an optional ref, an optional name and
/// version, and more refs it answers to. Returns its fact (without attributes), with
/// the id decided and every alias canonical and implied ones added.
pub fn declare(
    kind: ArtifactKind,
    ref_: Option<&str>,
    name: Option<&str>,
    version: Option<&str>,
    aliases: &[String],
) -> Result<ArtifactFact, Error> {
    let id = match (ref_, name) {
        (Some(r), _) => r.parse::<Ref>()?,
        (None, Some(n)) => Ref::named(kind, n, version)?,
        (None, None) => return Err(Error::Identity("give a ref or a name".into())),
    };
    let (mut name, mut version) = (name.map(str::to_owned), version.map(str::to_owned));
    if let Ref::Purl(p) = &id {
        name = name.or_else(|| Some(p.full_name()));
        version = version.or_else(|| p.version().map(str::to_owned));
    }
    let aliases = aliases
        .iter()
        .map(|a| a.parse::<Ref>().map(|r| r.to_string()))
        .collect::<Result<_, _>>()?;
    let mut fact = ArtifactFact {
        id: id.to_string(),
        kind,
        name,
        version,
        aliases,
        attrs: Map::new(),
    };
    imply(&mut fact)?;
    Ok(fact)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    #[track_caller]
    fn aliases(
        kind: ArtifactKind,
        r: Option<&str>,
        n: Option<&str>,
        v: Option<&str>,
    ) -> Vec<String> {
        declare(kind, r, n, v, &[]).unwrap().aliases
    }

    #[test]
    fn implied_aliases() {
        use ArtifactKind::*;
        assert_eq!(
            aliases(Model, Some(D), Some("bot"), Some("3")),
            ["model:bot@3"]
        );
        assert_eq!(aliases(Model, Some(D), Some("bot"), None), ["model:bot"]);
        assert_eq!(aliases(Dataset, Some(D), Some("t"), None), ["dataset:t"]);
        // A package or file name without a version names no one artifact.
        assert!(aliases(File, Some(D), Some("README.md"), None).is_empty());
        assert!(aliases(Package, Some("pkg:pypi/idna"), None, None).is_empty());
        // A versioned purl gives its own name and version.
        assert_eq!(
            aliases(Package, Some("pkg:pypi/IDNA@3.8"), None, None),
            ["package:idna@3.8"]
        );
        assert_eq!(
            aliases(Package, Some("pkg:npm/%40s/p@1"), None, None),
            ["package:@s/p@1"]
        );
        // A named artifact is its own name: no alias.
        assert!(aliases(Model, None, Some("bot"), Some("3")).is_empty());
    }

    #[test]
    fn declared_ids_and_aliases_are_canonical() {
        let f = declare(
            ArtifactKind::Package,
            Some("pkg:pypi/Torch@2.4.1"),
            None,
            None,
            &["pkg:pypi/torch@2.4.1".into(), D.into(), D.into()],
        )
        .unwrap();
        assert_eq!(f.id, "pkg:pypi/torch@2.4.1");
        assert_eq!(f.name.as_deref(), Some("torch"));
        assert_eq!(f.aliases, ["package:torch@2.4.1", D]);
    }

    #[test]
    fn refusals_name_the_fault() {
        let e = declare(ArtifactKind::Model, None, None, None, &[]).unwrap_err();
        assert!(e.to_string().contains("give a ref or a name"), "{e}");
        let e = declare(ArtifactKind::Model, None, Some("foo@bar"), None, &[]).unwrap_err();
        assert!(e.to_string().contains("give a version"), "{e}");
        // An identified artifact whose name cannot form its implied alias.
        let e = declare(ArtifactKind::Model, Some(D), Some("foo@bar"), None, &[]).unwrap_err();
        assert!(e.to_string().contains("model:foo@bar"), "{e}");
        let mut f = declare(ArtifactKind::Model, Some(D), None, None, &[]).unwrap();
        f.name = Some("foo@bar".into());
        f.aliases = vec![D.into(), "model:x@1".into(), "model:x@1".into()];
        assert!(imply(&mut f).is_err());
        assert_eq!(f.aliases, ["model:x@1"], "normalised even when refused");
    }
}
