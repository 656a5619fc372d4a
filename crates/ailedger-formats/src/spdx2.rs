//! SPDX 2.2 / 2.3 JSON into artifacts and edges: packages (identity from a purl
//! external reference, else a SHA-256 checksum, else a named ref) and files, with
//! relationships mapped onto ailedger's edge types, direction normalised to
//! consumer → consumed.

use std::collections::HashMap;

use ailedger_core::{
    ArtifactKind, EdgeKind, Purl, Ref, Sha256Digest,
    spdx::{ALIAS_REF, EDGE_COMMENT, KIND_REF, PACKAGE_PURPOSES as PURPOSES},
};
use serde_json::{Map, Value};

use crate::{
    Error,
    graph::{Ctx, fact, named_ref, take_attrs},
    hashes,
    json::{at, type_name},
};

const PACKAGE_ATTRS: &[&str] = &[
    "SPDXID",
    "supplier",
    "originator",
    "downloadLocation",
    "homepage",
    "sourceInfo",
    "licenseConcluded",
    "licenseDeclared",
    "copyrightText",
    "summary",
    "description",
    "primaryPackagePurpose",
    "releaseDate",
    "builtDate",
    "validUntilDate",
    "filesAnalyzed",
];

/// How a relationship type maps: the edge kind and whether the edge runs from the
/// related element to the element (`true`) or the other way.
fn mapping(rel: &str) -> Option<(EdgeKind, bool)> {
    use EdgeKind::*;
    Some(match rel {
        "DEPENDS_ON" | "HAS_PREREQUISITE" | "DYNAMIC_LINK" | "STATIC_LINK" => (DependsOn, false),
        "DEPENDENCY_OF"
        | "DEV_DEPENDENCY_OF"
        | "OPTIONAL_DEPENDENCY_OF"
        | "PROVIDED_DEPENDENCY_OF"
        | "TEST_DEPENDENCY_OF"
        | "RUNTIME_DEPENDENCY_OF"
        | "PREREQUISITE_FOR"
        | "DEV_TOOL_OF"
        | "TEST_TOOL_OF" => (DependsOn, true),
        "BUILD_DEPENDENCY_OF" | "BUILD_TOOL_OF" | "GENERATES" => (BuiltFrom, true),
        "GENERATED_FROM" => (BuiltFrom, false),
        "CONTAINS" => (Contains, false),
        "CONTAINED_BY" | "EXPANDED_FROM_ARCHIVE" => (Contains, true),
        "VARIANT_OF" | "DESCENDANT_OF" | "COPY_OF" => (DerivedFrom, false),
        "ANCESTOR_OF" => (DerivedFrom, true),
        "DESCRIBES" => (Describes, false),
        "DESCRIBED_BY" => (Describes, true),
        _ => return None,
    })
}

enum Elem {
    /// An artifact, by index (see [`Ctx::add_at`]).
    Artifact(usize),
    Document,
    /// Snippets and other elements that are not artifacts.
    Other,
}

pub(crate) fn parse(mut root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let Some(obj) = root.as_object_mut() else {
        return Err(ctx.err("/", "expected an object"));
    };
    // The document's own artifact is always index 0.
    let doc = 0;
    let mut elems: HashMap<String, Elem, foldhash::fast::RandomState> = HashMap::default();
    let doc_spdxid = obj
        .get("SPDXID")
        .and_then(Value::as_str)
        .unwrap_or("SPDXRef-DOCUMENT")
        .to_owned();
    elems.insert(doc_spdxid, Elem::Document);

    let mut doc_attrs = Map::new();
    doc_attrs.insert("format".into(), Value::from("SPDX"));
    take_attrs(
        obj,
        &[
            "spdxVersion",
            "dataLicense",
            "documentNamespace",
            "creationInfo",
        ],
        &mut doc_attrs,
    );
    let doc_name = obj.get("name").and_then(Value::as_str).map(str::to_owned);

    // A repeated SPDXID keeps naming the first element (the later one is recorded,
    // but no reference can reach it).
    let insert = |ctx: &mut Ctx<'_>,
                  elems: &mut HashMap<String, Elem, foldhash::fast::RandomState>,
                  spdxid: Option<String>,
                  e: Elem,
                  ptr: &str|
     -> Result<(), Error> {
        let Some(spdxid) = spdxid else {
            return Ok(());
        };
        if elems.contains_key(&spdxid) {
            return ctx.repair(
                ptr,
                &format!("duplicate SPDXID {spdxid:?}"),
                "references name the first element with it",
            );
        }
        elems.insert(spdxid, e);
        Ok(())
    };

    // Licences a package's licence fields name by `LicenseRef-`: kept with the package
    // (`extractedLicenses`), so that an export of it can define them again.
    let extracted: HashMap<String, Value> = match obj.get("hasExtractedLicensingInfos") {
        Some(Value::Array(ls)) => ls
            .iter()
            .filter_map(|l| Some((l.get("licenseId")?.as_str()?.to_owned(), l.clone())))
            .collect(),
        _ => HashMap::new(),
    };
    if let Some(ps) = array(obj.get_mut("packages"), "/packages", ctx)? {
        ctx.check_count("/packages", "packages", ps.len())?;
        for (i, p) in ps.iter_mut().enumerate() {
            let ptr = format!("/packages/{i}");
            let Some((spdxid, id)) = package(p, &ptr, &extracted, ctx)? else {
                continue;
            };
            insert(
                ctx,
                &mut elems,
                spdxid,
                Elem::Artifact(id),
                &at(&ptr, "SPDXID"),
            )?;
        }
    }
    if let Some(fs) = array(obj.get_mut("files"), "/files", ctx)? {
        ctx.check_count("/files", "files", fs.len())?;
        for (i, f) in fs.iter_mut().enumerate() {
            let ptr = format!("/files/{i}");
            let Some((spdxid, id)) = file(f, &ptr, ctx)? else {
                continue;
            };
            insert(
                ctx,
                &mut elems,
                spdxid,
                Elem::Artifact(id),
                &at(&ptr, "SPDXID"),
            )?;
        }
    }
    if let Some(Value::Array(ss)) = obj.get("snippets") {
        for (i, s) in ss.iter().enumerate() {
            if let Some(id) = s.get("SPDXID").and_then(Value::as_str) {
                insert(
                    ctx,
                    &mut elems,
                    Some(id.to_owned()),
                    Elem::Other,
                    &format!("/snippets/{i}/SPDXID"),
                )?;
            }
        }
    }

    // `ptr` says where the reference is (made only when a message needs it).
    let resolve =
        |ctx: &mut Ctx<'_>, r: &str, ptr: &dyn Fn() -> String| -> Result<Option<usize>, Error> {
            match elems.get(r) {
                Some(Elem::Artifact(i)) => Ok(Some(*i)),
                Some(Elem::Document) => Ok(Some(doc)),
                Some(Elem::Other) => Ok(None),
                None if r == "NONE" || r == "NOASSERTION" => Ok(None),
                None if r.starts_with("DocumentRef-") => {
                    ctx.warn(
                        &ptr(),
                        format!("{r:?} names an element of another document; no edge recorded"),
                    );
                    Ok(None)
                }
                None => {
                    let fault = format!("{r:?} does not name any SPDXID in the document");
                    ctx.repair(&ptr(), &fault, "no edge recorded")?;
                    Ok(None)
                }
            }
        };

    let mut describes = obj.remove("documentDescribes");
    if let Some(ds) = array(describes.as_mut(), "/documentDescribes", ctx)? {
        for (i, d) in ds.iter().enumerate() {
            let ptr = format!("/documentDescribes/{i}");
            let Some(r) = d.as_str() else {
                let fault = format!("expected an SPDXID string, found {}", type_name(d));
                ctx.repair(&ptr, &fault, "no edge recorded")?;
                continue;
            };
            if let Some(to) = resolve(ctx, r, &|| ptr.clone())?
                && to != doc
            {
                ctx.edge_at(doc, EdgeKind::Describes, to)?;
            }
        }
    }

    let mut unmapped: std::collections::BTreeMap<String, usize> = Default::default();
    let mut relationships = obj.remove("relationships");
    if let Some(rs) = array(relationships.as_mut(), "/relationships", ctx)? {
        ctx.check_count("/relationships", "relationships", rs.len())?;
        for (i, r) in rs.iter().enumerate() {
            let ptr = || format!("/relationships/{i}");
            let field = |k: &'static str| r.get(k).and_then(Value::as_str).ok_or(k);
            let (a, ty, b) = match (
                field("spdxElementId"),
                field("relationshipType"),
                field("relatedSpdxElement"),
            ) {
                (Ok(a), Ok(ty), Ok(b)) => (a, ty, b),
                (Err(k), ..) | (_, Err(k), _) | (.., Err(k)) => {
                    let fault = format!("missing required string {k:?}");
                    ctx.repair(&ptr(), &fault, "relationship dropped")?;
                    continue;
                }
            };
            // ailedger's own exports name an edge kind SPDX 2.3 has no type for in the
            // comment (`ailedger edge: <kind>`); the type gives the direction (`OTHER`:
            // the element consumes the related one).
            let marked = r
                .get("comment")
                .and_then(Value::as_str)
                .and_then(|c| c.strip_prefix(EDGE_COMMENT))
                .and_then(|k| k.parse::<EdgeKind>().ok());
            let (edge, flip) = match (mapping(ty), marked) {
                (Some((_, flip)), Some(kind)) => (kind, flip),
                (None, Some(kind)) if ty == "OTHER" => (kind, false),
                (Some(m), None) => m,
                _ => {
                    *unmapped.entry(ty.to_owned()).or_default() += 1;
                    continue;
                }
            };
            let (Some(a), Some(b)) = (
                resolve(ctx, a, &|| at(&ptr(), "spdxElementId"))?,
                resolve(ctx, b, &|| at(&ptr(), "relatedSpdxElement"))?,
            ) else {
                continue;
            };
            let (from, to) = if flip { (b, a) } else { (a, b) };
            if edge == EdgeKind::Describes && from != doc && marked.is_none() {
                ctx.warn(
                    &ptr(),
                    "DESCRIBES between two non-document elements; no edge recorded",
                );
                continue;
            }
            if edge != EdgeKind::Describes && (from == doc || to == doc) {
                continue;
            }
            ctx.edge_at(from, edge, to)?;
        }
    }
    if !unmapped.is_empty() {
        let list: Vec<String> = unmapped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        ctx.warn(
            "/relationships",
            format!(
                "relationship types with no ailedger edge, not recorded: {}",
                list.join(", ")
            ),
        );
    }
    let d = ctx.doc_mut();
    d.name = doc_name;
    d.attrs.extend(doc_attrs);
    Ok(())
}

/// Reads `checksums`; returns `{alg: hex}` and the SHA-256 digest. A checksum that is
/// malformed, of an unknown algorithm, not hex or of the wrong length is dropped (a
/// repair).
fn checksums(
    v: Option<&Value>,
    ptr: &str,
    ctx: &mut Ctx<'_>,
) -> Result<(Map<String, Value>, Option<Sha256Digest>), Error> {
    let mut out = Map::new();
    let mut sha = None;
    let cs = match v {
        None | Some(Value::Null) => return Ok((out, sha)),
        Some(Value::Array(cs)) => cs,
        Some(other) => {
            let fault = format!("expected an array, found {}", type_name(other));
            ctx.repair(&at(ptr, "checksums"), &fault, "checksums not recorded")?;
            return Ok((out, sha));
        }
    };
    for (i, c) in cs.iter().enumerate() {
        let cp = format!("{ptr}/checksums/{i}");
        let (Some(alg), Some(val)) = (
            c.get("algorithm").and_then(Value::as_str),
            c.get("checksumValue").and_then(Value::as_str),
        ) else {
            ctx.repair(
                &cp,
                "expected {\"algorithm\": …, \"checksumValue\": …}",
                "checksum dropped",
            )?;
            continue;
        };
        let (name, hex) = match hashes::check(alg, val) {
            Ok(checked) => checked,
            Err(e) => {
                ctx.repair(&cp, &e, "checksum dropped")?;
                continue;
            }
        };
        if name == "SHA-256" {
            sha = Sha256Digest::from_hex(&hex).ok();
        }
        out.insert(name.to_owned(), Value::from(hex));
    }
    Ok((out, sha))
}

/// A top-level array of the document; one of another type is ignored (a repair).
fn array<'v>(
    v: Option<&'v mut Value>,
    ptr: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<&'v mut Vec<Value>>, Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(other) => {
            let fault = format!("expected an array, found {}", type_name(other));
            ctx.repair(ptr, &fault, "not recorded")?;
            Ok(None)
        }
    }
}

/// The SPDXID of a package or file, or `None` (a repair: the element is recorded but
/// no reference can name it).
fn spdxid(obj: &Map<String, Value>, ptr: &str, ctx: &mut Ctx<'_>) -> Result<Option<String>, Error> {
    let fault = match obj.get("SPDXID") {
        Some(Value::String(s)) if !s.is_empty() => return Ok(Some(s.clone())),
        Some(Value::String(_)) => "SPDXID is empty".to_owned(),
        Some(other) => format!("expected a string, found {}", type_name(other)),
        None => "missing required \"SPDXID\"".to_owned(),
    };
    let p = if obj.contains_key("SPDXID") {
        at(ptr, "SPDXID")
    } else {
        ptr.to_owned()
    };
    ctx.repair(&p, &fault, "recorded, but no relationship can name it")?;
    Ok(None)
}

/// The name of a package (`name`) or file (`fileName`); a missing or empty one is
/// replaced by the SPDXID (a repair). `None`: neither is there, the element is dropped.
fn name_or_spdxid(
    obj: &Map<String, Value>,
    k: &str,
    spdxid: Option<&str>,
    ptr: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<String>, Error> {
    let (p, fault) = match obj.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() => return Ok(Some(s.clone())),
        Some(Value::String(_)) => (at(ptr, k), format!("{k} is empty")),
        Some(other) => (
            at(ptr, k),
            format!("expected a string, found {}", type_name(other)),
        ),
        None => (ptr.to_owned(), format!("missing required {k:?}")),
    };
    match spdxid {
        Some(id) => {
            ctx.repair(&p, &fault, &format!("named by its SPDXID {id:?}"))?;
            Ok(Some(id.to_owned()))
        }
        None => {
            ctx.repair(&p, &fault, "dropped (it has no SPDXID to be named by)")?;
            Ok(None)
        }
    }
}

/// Maps one package; returns its SPDXID (if it has one) and artifact index, or `None`
/// when it was dropped (a repair).
fn package(
    p: &mut Value,
    ptr: &str,
    extracted: &HashMap<String, Value>,
    ctx: &mut Ctx<'_>,
) -> Result<Option<(Option<String>, usize)>, Error> {
    let Some(obj) = p.as_object_mut() else {
        let fault = format!("expected a package object, found {}", type_name(p));
        ctx.repair(ptr, &fault, "package dropped")?;
        return Ok(None);
    };
    let spdxid = spdxid(obj, ptr, ctx)?;
    let Some(name) = name_or_spdxid(obj, "name", spdxid.as_deref(), ptr, ctx)? else {
        return Ok(None);
    };
    let version = obj
        .get("versionInfo")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let (hash_map, sha) = checksums(obj.get("checksums"), ptr, ctx)?;
    if let Some(Value::String(purpose)) = obj.get("primaryPackagePurpose")
        && !PURPOSES.contains(&purpose.as_str())
    {
        let fixed = purpose.replace('-', "_");
        if PURPOSES.contains(&fixed.as_str()) {
            let msg = format!(
                "primaryPackagePurpose {purpose:?} is not an SPDX 2.3 value; read as {fixed:?}"
            );
            ctx.warn(&at(ptr, "primaryPackagePurpose"), msg);
        } else {
            let fault = format!(
                "unknown primaryPackagePurpose {purpose:?} (expected one of {})",
                PURPOSES.join(", ")
            );
            ctx.repair(&at(ptr, "primaryPackagePurpose"), &fault, "kept as written")?;
        }
    }
    let mut purls = Vec::new();
    let mut other_refs = Vec::new();
    let mut kind = ArtifactKind::Package;
    let mut extra_aliases = Vec::new();
    if let Some(Value::Array(refs)) = obj.get("externalRefs") {
        for (i, r) in refs.iter().enumerate() {
            let ty = r.get("referenceType").and_then(Value::as_str).unwrap_or("");
            let loc = r
                .get("referenceLocator")
                .and_then(Value::as_str)
                .unwrap_or("");
            if ty == "purl" {
                match loc.parse::<Purl>() {
                    Ok(p) => purls.push(p.to_string()),
                    Err(e) => ctx.warn(
                        &format!("{ptr}/externalRefs/{i}/referenceLocator"),
                        format!("invalid purl not used: {e}"),
                    ),
                }
            } else if ty == KIND_REF {
                match loc.parse::<ArtifactKind>() {
                    Ok(k) => kind = k,
                    Err(e) => ctx.warn(
                        &format!("{ptr}/externalRefs/{i}/referenceLocator"),
                        format!("not used: {e}"),
                    ),
                }
            } else if ty == ALIAS_REF {
                match loc.parse::<Ref>() {
                    Ok(r) => extra_aliases.push(r.to_string()),
                    Err(e) => ctx.warn(
                        &format!("{ptr}/externalRefs/{i}/referenceLocator"),
                        format!("alias not used: {e}"),
                    ),
                }
            } else {
                other_refs.push(r.clone());
            }
        }
    }
    let mut aliases = Vec::new();
    // A purl names a package; an artifact of another kind with a purl keeps its kind
    // and the purl becomes an alias (as in CycloneDX).
    let id = if let Some(first) = purls.first().filter(|_| kind == ArtifactKind::Package) {
        aliases.extend(purls.iter().skip(1).cloned());
        if let Some(d) = sha {
            aliases.push(d.to_string());
        }
        first.clone()
    } else if let Some(d) = sha {
        aliases.extend(purls.iter().cloned());
        d.to_string()
    } else {
        aliases.extend(purls.iter().cloned());
        match named_ref(kind, &name, version.as_deref()) {
            Ok(id) => id,
            Err(e) => {
                ctx.repair(&at(ptr, "name"), &e, "package dropped")?;
                return Ok(None);
            }
        }
    };
    for a in extra_aliases {
        if a != id && !aliases.contains(&a) {
            aliases.push(a);
        }
    }
    let mut f = fact(id, kind, Some(name), version);
    f.aliases = aliases;
    if !hash_map.is_empty() {
        f.attrs.insert("hashes".into(), Value::Object(hash_map));
    }
    if !other_refs.is_empty() {
        f.attrs
            .insert("externalRefs".into(), Value::Array(other_refs));
    }
    take_attrs(obj, PACKAGE_ATTRS, &mut f.attrs);
    if !extracted.is_empty() {
        let mut used: Vec<Value> = Vec::new();
        for k in ["licenseDeclared", "licenseConcluded"] {
            let Some(expr) = f.attrs.get(k).and_then(Value::as_str) else {
                continue;
            };
            for tok in expr.split([' ', '(', ')']) {
                if let Some(l) = extracted.get(tok)
                    && !used.contains(l)
                {
                    used.push(l.clone());
                }
            }
        }
        if !used.is_empty() {
            f.attrs
                .insert("extractedLicenses".into(), Value::Array(used));
        }
    }
    Ok(Some((spdxid, ctx.add_at(f)?)))
}

/// Maps one file; returns its SPDXID (if it has one) and artifact index, or `None`
/// when it was dropped (a repair).
fn file(
    fv: &mut Value,
    ptr: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<(Option<String>, usize)>, Error> {
    let Some(obj) = fv.as_object_mut() else {
        let fault = format!("expected a file object, found {}", type_name(fv));
        ctx.repair(ptr, &fault, "file dropped")?;
        return Ok(None);
    };
    let spdxid = spdxid(obj, ptr, ctx)?;
    let Some(name) = name_or_spdxid(obj, "fileName", spdxid.as_deref(), ptr, ctx)? else {
        return Ok(None);
    };
    let (hash_map, sha) = checksums(obj.get("checksums"), ptr, ctx)?;
    let id = match sha {
        Some(d) => d.to_string(),
        None => match named_ref(ArtifactKind::File, &name, None) {
            Ok(id) => id,
            Err(e) => {
                ctx.repair(&at(ptr, "fileName"), &e, "file dropped")?;
                return Ok(None);
            }
        },
    };
    let mut f = fact(id, ArtifactKind::File, Some(name), None);
    if !hash_map.is_empty() {
        f.attrs.insert("hashes".into(), Value::Object(hash_map));
    }
    take_attrs(
        obj,
        &[
            "SPDXID",
            "fileTypes",
            "licenseConcluded",
            "licenseInfoInFiles",
            "copyrightText",
        ],
        &mut f.attrs,
    );
    Ok(Some((spdxid, ctx.add_at(f)?)))
}
