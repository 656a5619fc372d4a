//! SPDX 2.3 JSON of a [`Subgraph`].
//!
//! One package per artifact (a file artifact known by its SHA-256 is an SPDX file), the
//! document `DESCRIBES` the root, one relationship per edge, incidents and attestations
//! as annotations of the packages they concern, and the ledger state in the document's
//! comment. What SPDX 2.3 has no word for is said in a way `ailedger-formats` reads back:
//!
//! - a package's ailedger kind, when it is not `package`, as an external reference
//!   `OTHER`/`ailedger-kind` (locator: the kind);
//! - aliases that neither a purl, the SHA-256 checksum nor the name and version (the
//!   alias they imply) carry, as `OTHER`/`ailedger-alias`;
//! - an edge kind SPDX 2.3 has no relationship type for, as the closest type with the
//!   comment `ailedger edge: <kind>` (see [`relationship`]).
//!
//! Deterministic: SPDXIDs come from artifact ids, the namespace from the root and the
//! ledger state, times from the ledger; the order is the subgraph's.

use std::collections::{BTreeMap, HashMap, HashSet};

use ailedger_core::{ArtifactKind, EdgeKind, Ref, Sha256Digest, identity};
use serde_json::{Map, Value, json};

use crate::{Artifact, Subgraph};

/// The `referenceType` of an `OTHER` external reference giving an artifact's kind.
pub const KIND_REF: &str = "ailedger-kind";
/// The `referenceType` of an `OTHER` external reference giving one of its aliases.
pub const ALIAS_REF: &str = "ailedger-alias";
/// How a relationship's comment names the ailedger edge kind it stands for.
pub const EDGE_COMMENT: &str = "ailedger edge: ";

/// The document's own SPDXID.
const DOC_ID: &str = "SPDXRef-DOCUMENT";

/// The SPDX 2.3 document of `sub`, as pretty-printed JSON ending in a newline.
pub fn to_json(sub: &Subgraph) -> Vec<u8> {
    // Serializing a `Value` cannot fail (its keys are strings).
    let mut out = serde_json::to_vec_pretty(&document(sub)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The SPDX 2.3 document of `sub`.
pub fn document(sub: &Subgraph) -> Value {
    let tool = format!("Tool: ailedger-{}", env!("CARGO_PKG_VERSION"));
    let created = seconds(&sub.ledger.time);
    let spdxids: HashMap<&str, String> = sub
        .artifacts
        .iter()
        .map(|a| (a.id.as_str(), spdxid(&a.id)))
        .collect();
    // Where a file sits in what contains it (its fileName when the ledger has no name).
    let mut paths: HashMap<&str, &str> = HashMap::new();
    for e in &sub.edges {
        if e.kind == EdgeKind::Contains
            && let Some(p) = e.paths.first()
        {
            paths.entry(e.to.as_str()).or_insert(p.as_str());
        }
    }
    let mut notes: HashMap<&str, Vec<Value>> = HashMap::new();
    for i in &sub.incidents {
        let mut comment = format!(
            "ailedger incident {} ({}, severity {}): {}",
            i.id, i.state, i.severity, i.reason
        );
        if let Some(a) = &i.advisory {
            comment.push_str(&format!("; advisory {a}"));
        }
        for a in &i.affects {
            notes.entry(a.as_str()).or_default().push(json!({
                "annotationDate": seconds(&i.opened),
                "annotationType": "REVIEW",
                "annotator": tool,
                "comment": comment,
            }));
        }
    }
    for at in &sub.attestations {
        let mut comment = format!("ailedger attestation {}", at.id);
        if let Some(p) = &at.predicate_type {
            comment.push_str(&format!(" (predicate type {p})"));
        }
        comment.push_str(&format!(
            ": verification {}",
            at.verification.as_deref().unwrap_or("not recorded")
        ));
        for s in &at.subjects {
            notes.entry(s.as_str()).or_default().push(json!({
                "annotationDate": created,
                "annotationType": "OTHER",
                "annotator": tool,
                "comment": comment,
            }));
        }
    }

    let mut packages = Vec::new();
    let mut files = Vec::new();
    for a in &sub.artifacts {
        let id = spdxids.get(a.id.as_str()).cloned().unwrap_or_default();
        let annotations = notes.remove(a.id.as_str()).unwrap_or_default();
        if a.kind == ArtifactKind::File && a.id.starts_with("sha256:") && a.aliases.is_empty() {
            files.push(file(a, id, paths.get(a.id.as_str()).copied(), annotations));
        } else {
            packages.push(package(a, id, annotations));
        }
    }

    let mut relationships = Vec::new();
    if let Some(root) = spdxids.get(sub.root.as_str()) {
        relationships.push(json!({
            "spdxElementId": DOC_ID,
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": root,
        }));
    }
    for e in &sub.edges {
        let (Some(from), Some(to)) = (spdxids.get(e.from.as_str()), spdxids.get(e.to.as_str()))
        else {
            continue;
        };
        let (ty, flip, marked) = relationship(e.kind);
        let (a, b) = if flip { (to, from) } else { (from, to) };
        let mut r = json!({
            "spdxElementId": a,
            "relationshipType": ty,
            "relatedSpdxElement": b,
        });
        if marked && let Some(o) = r.as_object_mut() {
            o.insert(
                "comment".into(),
                Value::from(format!("{EDGE_COMMENT}{}", e.kind)),
            );
        }
        relationships.push(r);
    }

    let mut state = format!(
        "Exported by ailedger from its ledger at seq {} ({})",
        sub.ledger.seq, sub.ledger.time
    );
    match &sub.ledger.root_hash {
        Some(h) => state.push_str(&format!(
            "; Merkle tree size {}, root hash {h}",
            sub.ledger.seq
        )),
        None => state.push_str("; no Merkle root recorded"),
    }
    state.push_str(&format!("; root artifact {}.", sub.root));

    let mut doc = Map::new();
    doc.insert("spdxVersion".into(), Value::from("SPDX-2.3"));
    doc.insert("dataLicense".into(), Value::from("CC0-1.0"));
    doc.insert("SPDXID".into(), Value::from(DOC_ID));
    doc.insert(
        "name".into(),
        Value::from(format!("ailedger export of {}", sub.root)),
    );
    doc.insert("documentNamespace".into(), Value::from(namespace(sub)));
    doc.insert(
        "creationInfo".into(),
        json!({ "created": created, "creators": [tool] }),
    );
    doc.insert("comment".into(), Value::from(state));
    doc.insert("packages".into(), Value::Array(packages));
    if !files.is_empty() {
        doc.insert("files".into(), Value::Array(files));
    }
    doc.insert("relationships".into(), Value::Array(relationships));
    Value::Object(doc)
}

/// The SPDX 2.3 relationship type for an edge kind, whether it runs from the consumed
/// to the consumer, and whether the comment must name the kind (the type alone reads
/// back as another kind, or as none).
///
/// | edge | relationship |
/// |---|---|
/// | A depends-on B | A `DEPENDS_ON` B |
/// | A built-from B | A `GENERATED_FROM` B |
/// | A derived-from B | A `DESCENDANT_OF` B |
/// | A contains B | A `CONTAINS` B |
/// | A trained-on B | A `GENERATED_FROM` B, marked |
/// | A uses-tool / runs / deploys B | A `DEPENDS_ON` B, marked |
/// | A built-by B | B `BUILD_TOOL_OF` A, marked |
/// | A describes / attests B | A `OTHER` B, marked |
pub fn relationship(kind: EdgeKind) -> (&'static str, bool, bool) {
    use EdgeKind::*;
    match kind {
        DependsOn => ("DEPENDS_ON", false, false),
        BuiltFrom => ("GENERATED_FROM", false, false),
        DerivedFrom => ("DESCENDANT_OF", false, false),
        Contains => ("CONTAINS", false, false),
        TrainedOn => ("GENERATED_FROM", false, true),
        UsesTool | Runs | Deploys => ("DEPENDS_ON", false, true),
        BuiltBy => ("BUILD_TOOL_OF", true, true),
        Describes | Attests => ("OTHER", false, true),
    }
}

/// A stable SPDXID for an artifact id: its readable characters (at most 48) and 16 hex
/// digits of the id's SHA-256, so two ids never share one.
pub fn spdxid(id: &str) -> String {
    let mut readable = String::with_capacity(48);
    for c in id.chars() {
        if readable.len() >= 48 {
            break;
        }
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && readable.ends_with('-')) {
            readable.push(c);
        }
    }
    let digest = Sha256Digest::of(id.as_bytes()).hex();
    format!(
        "SPDXRef-{}-{}",
        readable.trim_matches('-'),
        digest.get(..16).unwrap_or(&digest)
    )
}

/// The document namespace: a URN from the root and the ledger state, so the same state
/// names the same document and another state another one.
fn namespace(sub: &Subgraph) -> String {
    let key = format!(
        "{}\n{}\n{}",
        sub.root,
        sub.ledger.seq,
        sub.ledger.root_hash.as_deref().unwrap_or("")
    );
    format!(
        "urn:ailedger:spdx:{}",
        Sha256Digest::of(key.as_bytes()).hex()
    )
}

/// An RFC 3339 UTC time to the second, as SPDX writes times.
fn seconds(t: &str) -> String {
    match (t.find('.'), t.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", t.get(..dot).unwrap_or(t)),
        _ if t.is_empty() => "1970-01-01T00:00:00Z".to_owned(),
        _ => t.to_owned(),
    }
}

fn text<'a>(attrs: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    attrs
        .get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The SPDX checksum algorithm name for an ailedger (CycloneDX-spelt) one.
fn algorithm(name: &str) -> Option<&'static str> {
    Some(match name {
        "MD2" => "MD2",
        "MD4" => "MD4",
        "MD5" => "MD5",
        "MD6" => "MD6",
        "SHA-1" => "SHA1",
        "SHA-224" => "SHA224",
        "SHA-256" => "SHA256",
        "SHA-384" => "SHA384",
        "SHA-512" => "SHA512",
        "SHA3-256" => "SHA3-256",
        "SHA3-384" => "SHA3-384",
        "SHA3-512" => "SHA3-512",
        "BLAKE2b-256" => "BLAKE2b-256",
        "BLAKE2b-384" => "BLAKE2b-384",
        "BLAKE2b-512" => "BLAKE2b-512",
        "BLAKE3" => "BLAKE3",
        "ADLER32" => "ADLER32",
        _ => return None,
    })
}

/// Checksums from the id, the aliases and `attrs.hashes`, one per algorithm, sorted;
/// the SHA-256 one is the id's when the id is a digest, else the first digest alias.
/// Returns them and the SHA-256 ref they carry. An artifact whose id is a named ref
/// gets no SHA-256 checksum: read back, it would be the id (its digests are written as
/// aliases).
fn checksums(a: &Artifact) -> (Vec<Value>, Option<String>) {
    let mut by_alg: BTreeMap<&'static str, String> = BTreeMap::new();
    let named = !a.id.starts_with("sha256:") && !a.id.starts_with("pkg:");
    let sha = std::iter::once(&a.id)
        .chain(&a.aliases)
        .find(|r| r.starts_with("sha256:"))
        .filter(|_| !named)
        .cloned();
    if let Some(hex) = sha.as_deref().and_then(|s| s.strip_prefix("sha256:")) {
        by_alg.insert("SHA256", hex.to_owned());
    }
    if let Some(Value::Object(hs)) = a.attrs.get("hashes") {
        for (alg, v) in hs {
            if let (Some(alg), Some(v)) = (algorithm(alg), v.as_str()) {
                by_alg.entry(alg).or_insert_with(|| v.to_ascii_lowercase());
            }
        }
    }
    if named {
        by_alg.remove("SHA256");
    }
    let sha = sha.or_else(|| by_alg.get("SHA256").map(|h| format!("sha256:{h}")));
    let list = by_alg
        .into_iter()
        .map(|(alg, v)| json!({ "algorithm": alg, "checksumValue": v }))
        .collect();
    (list, sha)
}

/// The declared licence: an SPDX `licenseDeclared` kept from an SPDX document, else the
/// ids and expressions of CycloneDX `licenses` (ANDed), else `license` as registered.
fn license_declared(attrs: &Map<String, Value>) -> Option<String> {
    if let Some(l) = text(attrs, "licenseDeclared") {
        return Some(l.to_owned());
    }
    if let Some(Value::Array(ls)) = attrs.get("licenses") {
        let parts: Vec<String> = ls
            .iter()
            .filter_map(|l| {
                l.get("expression")
                    .or_else(|| l.pointer("/license/id"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        if ls.len() > 1 && s.contains(' ') {
                            format!("({s})")
                        } else {
                            s.to_owned()
                        }
                    })
            })
            .collect();
        if !parts.is_empty() {
            return Some(parts.join(" AND "));
        }
    }
    text(attrs, "license").map(str::to_owned)
}

/// SPDX's `supplier`: kept as written from an SPDX document, else a CycloneDX
/// supplier's (or a registered supplier's) name as an organization.
fn supplier(attrs: &Map<String, Value>) -> Option<String> {
    match attrs.get("supplier") {
        Some(Value::String(s)) if s.starts_with("Organization:") || s.starts_with("Person:") => {
            Some(s.clone())
        }
        Some(Value::String(s)) if !s.trim().is_empty() => Some(format!("Organization: {s}")),
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(|n| format!("Organization: {n}")),
        _ => None,
    }
}

fn package(a: &Artifact, spdxid: String, annotations: Vec<Value>) -> Value {
    // A named ref's name and version are its identity: write them as the ref has them.
    let (name, version) = match a.id.parse::<Ref>() {
        Ok(Ref::Named { name, version, .. }) => (name, version),
        _ => (
            a.name.clone().unwrap_or_else(|| a.id.clone()),
            a.version.clone(),
        ),
    };
    let (sums, sha) = checksums(a);
    let mut refs = Vec::new();
    let purls = std::iter::once(&a.id)
        .chain(&a.aliases)
        .filter(|r| r.starts_with("pkg:"));
    for p in purls {
        refs.push(json!({
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": p,
        }));
    }
    if let Some(Value::Array(kept)) = a.attrs.get("externalRefs") {
        let seen: HashSet<String> = refs.iter().map(Value::to_string).collect();
        for r in kept {
            let ty = r.get("referenceType").and_then(Value::as_str);
            if ty != Some(KIND_REF) && ty != Some(ALIAS_REF) && !seen.contains(&r.to_string()) {
                refs.push(r.clone());
            }
        }
    }
    if a.kind != ArtifactKind::Package {
        refs.push(json!({
            "referenceCategory": "OTHER",
            "referenceType": KIND_REF,
            "referenceLocator": a.kind.as_str(),
        }));
    }
    // The alias the written name and version imply is implied again when read back.
    let implied = identity::implied_alias(a.kind, &a.id, Some(&name), version.as_deref())
        .ok()
        .flatten();
    for alias in &a.aliases {
        if !alias.starts_with("pkg:")
            && Some(alias) != sha.as_ref()
            && Some(alias) != implied.as_ref()
            && !alias.chars().any(char::is_whitespace)
        {
            refs.push(json!({
                "referenceCategory": "OTHER",
                "referenceType": ALIAS_REF,
                "referenceLocator": alias,
            }));
        }
    }

    let mut p = Map::new();
    p.insert("SPDXID".into(), Value::from(spdxid));
    p.insert("name".into(), Value::from(name));
    if let Some(v) = version {
        p.insert("versionInfo".into(), Value::from(v));
    }
    if let Some(s) = supplier(&a.attrs) {
        p.insert("supplier".into(), Value::from(s));
    }
    if let Some(o) = text(&a.attrs, "originator") {
        p.insert("originator".into(), Value::from(o));
    }
    p.insert(
        "downloadLocation".into(),
        Value::from(text(&a.attrs, "downloadLocation").unwrap_or("NOASSERTION")),
    );
    p.insert("filesAnalyzed".into(), Value::Bool(false));
    if !sums.is_empty() {
        p.insert("checksums".into(), Value::Array(sums));
    }
    for k in ["homepage", "sourceInfo"] {
        if let Some(v) = text(&a.attrs, k) {
            p.insert(k.into(), Value::from(v));
        }
    }
    p.insert(
        "licenseConcluded".into(),
        Value::from(text(&a.attrs, "licenseConcluded").unwrap_or("NOASSERTION")),
    );
    p.insert(
        "licenseDeclared".into(),
        Value::from(license_declared(&a.attrs).unwrap_or_else(|| "NOASSERTION".into())),
    );
    let copyright = text(&a.attrs, "copyrightText").or_else(|| text(&a.attrs, "copyright"));
    p.insert(
        "copyrightText".into(),
        Value::from(copyright.unwrap_or("NOASSERTION")),
    );
    for k in ["summary", "description"] {
        if let Some(v) = text(&a.attrs, k) {
            p.insert(k.into(), Value::from(v));
        }
    }
    p.insert(
        "comment".into(),
        Value::from(format!(
            "ailedger {} {}, first recorded at seq {}",
            a.kind, a.id, a.first_seq
        )),
    );
    if !refs.is_empty() {
        p.insert("externalRefs".into(), Value::Array(refs));
    }
    if let Some(Value::String(purpose)) = a.attrs.get("primaryPackagePurpose") {
        p.insert("primaryPackagePurpose".into(), Value::from(purpose.clone()));
    }
    for k in ["releaseDate", "builtDate", "validUntilDate"] {
        if let Some(v) = text(&a.attrs, k) {
            p.insert(k.into(), Value::from(v));
        }
    }
    if !annotations.is_empty() {
        p.insert("annotations".into(), Value::Array(annotations));
    }
    Value::Object(p)
}

fn file(a: &Artifact, spdxid: String, path: Option<&str>, annotations: Vec<Value>) -> Value {
    let name = a.name.as_deref().or(path).unwrap_or(&a.id);
    let (sums, _) = checksums(a);
    let mut f = Map::new();
    f.insert("SPDXID".into(), Value::from(spdxid));
    f.insert("fileName".into(), Value::from(name));
    f.insert("checksums".into(), Value::Array(sums));
    f.insert(
        "licenseConcluded".into(),
        Value::from(text(&a.attrs, "licenseConcluded").unwrap_or("NOASSERTION")),
    );
    f.insert(
        "copyrightText".into(),
        Value::from(text(&a.attrs, "copyrightText").unwrap_or("NOASSERTION")),
    );
    f.insert(
        "comment".into(),
        Value::from(format!(
            "ailedger file {}, first recorded at seq {}",
            a.id, a.first_seq
        )),
    );
    if !annotations.is_empty() {
        f.insert("annotations".into(), Value::Array(annotations));
    }
    Value::Object(f)
}
