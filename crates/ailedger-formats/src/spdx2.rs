//! SPDX 2.2 / 2.3 JSON into artifacts and edges: packages (identity from a purl
//! external reference, else a SHA-256 checksum, else a named ref) and files, with
//! relationships mapped onto ailedger's edge types, direction normalised to
//! consumer → consumed.

use std::collections::HashMap;

use ailedger_core::{ArtifactKind, EdgeKind, Purl, Ref, Sha256Digest};
use serde_json::{Map, Value};

use crate::{
    Error,
    graph::{Ctx, fact, named_ref, take_attrs},
    hashes,
    json::{at, type_name},
};

/// The `referenceType` of an `OTHER` external reference that gives a package's
/// ailedger kind (ailedger's SPDX export writes it for every kind but `package`).
const KIND_REF: &str = "ailedger-kind";
/// The `referenceType` of an `OTHER` external reference that gives an alias (a ref that
/// neither a purl nor the SHA-256 checksum carries).
const ALIAS_REF: &str = "ailedger-alias";
/// The prefix of a relationship comment naming the ailedger edge kind it stands for.
const EDGE_COMMENT: &str = "ailedger edge: ";

const PURPOSES: &[&str] = &[
    "APPLICATION",
    "FRAMEWORK",
    "LIBRARY",
    "CONTAINER",
    "OPERATING_SYSTEM",
    "DEVICE",
    "FIRMWARE",
    "SOURCE",
    "ARCHIVE",
    "FILE",
    "INSTALL",
    "OTHER",
];

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

    let insert = |ctx: &Ctx<'_>,
                  elems: &mut HashMap<String, Elem, foldhash::fast::RandomState>,
                  spdxid: String,
                  e: Elem,
                  ptr: &str| {
        if elems.insert(spdxid.clone(), e).is_some() {
            return Err(ctx.err(ptr, format!("duplicate SPDXID {spdxid:?}")));
        }
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
    if let Some(ps) = obj.get_mut("packages") {
        let Value::Array(ps) = ps else {
            return Err(ctx.err(
                "/packages",
                format!("expected an array, found {}", type_name(ps)),
            ));
        };
        ctx.check_count("/packages", "packages", ps.len())?;
        for (i, p) in ps.iter_mut().enumerate() {
            let ptr = format!("/packages/{i}");
            let (spdxid, id) = package(p, &ptr, &extracted, ctx)?;
            insert(
                ctx,
                &mut elems,
                spdxid,
                Elem::Artifact(id),
                &at(&ptr, "SPDXID"),
            )?;
        }
    }
    if let Some(fs) = obj.get_mut("files") {
        let Value::Array(fs) = fs else {
            return Err(ctx.err(
                "/files",
                format!("expected an array, found {}", type_name(fs)),
            ));
        };
        ctx.check_count("/files", "files", fs.len())?;
        for (i, f) in fs.iter_mut().enumerate() {
            let ptr = format!("/files/{i}");
            let (spdxid, id) = file(f, &ptr, ctx)?;
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
                    id.to_owned(),
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
                None => Err(ctx.err(
                    &ptr(),
                    format!("{r:?} does not name any SPDXID in the document"),
                )),
            }
        };

    if let Some(ds) = obj.get("documentDescribes") {
        let Value::Array(ds) = ds else {
            return Err(ctx.err("/documentDescribes", "expected an array"));
        };
        for (i, d) in ds.iter().enumerate() {
            let ptr = format!("/documentDescribes/{i}");
            let Some(r) = d.as_str() else {
                return Err(ctx.err(&ptr, "expected an SPDXID string"));
            };
            if let Some(to) = resolve(ctx, r, &|| ptr.clone())?
                && to != doc
            {
                ctx.edge_at(doc, EdgeKind::Describes, to)?;
            }
        }
    }

    let mut unmapped: std::collections::BTreeMap<String, usize> = Default::default();
    if let Some(rs) = obj.get("relationships") {
        let Value::Array(rs) = rs else {
            return Err(ctx.err("/relationships", "expected an array"));
        };
        ctx.check_count("/relationships", "relationships", rs.len())?;
        for (i, r) in rs.iter().enumerate() {
            let ptr = || format!("/relationships/{i}");
            let field = |k: &str| -> Result<&str, Error> {
                r.get(k)
                    .and_then(Value::as_str)
                    .ok_or_else(|| ctx.err(&ptr(), format!("missing required string {k:?}")))
            };
            let (a, ty, b) = (
                field("spdxElementId")?,
                field("relationshipType")?,
                field("relatedSpdxElement")?,
            );
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

/// Validates `checksums`; returns `{alg: hex}` and the SHA-256 digest.
fn checksums(
    v: Option<&Value>,
    ptr: &str,
    ctx: &Ctx<'_>,
) -> Result<(Map<String, Value>, Option<Sha256Digest>), Error> {
    let mut out = Map::new();
    let mut sha = None;
    let Some(v) = v else { return Ok((out, sha)) };
    let Value::Array(cs) = v else {
        return Err(ctx.err(&at(ptr, "checksums"), "expected an array"));
    };
    for (i, c) in cs.iter().enumerate() {
        let cp = format!("{ptr}/checksums/{i}");
        let (Some(alg), Some(val)) = (
            c.get("algorithm").and_then(Value::as_str),
            c.get("checksumValue").and_then(Value::as_str),
        ) else {
            return Err(ctx.err(&cp, "expected {\"algorithm\": …, \"checksumValue\": …}"));
        };
        let (name, hex) = hashes::check(alg, val).map_err(|e| ctx.err(&cp, e))?;
        if name == "SHA-256" {
            sha = Sha256Digest::from_hex(&hex).ok();
        }
        out.insert(name.to_owned(), Value::from(hex));
    }
    Ok((out, sha))
}

/// Maps one package; returns its SPDXID and artifact index.
fn package(
    p: &mut Value,
    ptr: &str,
    extracted: &HashMap<String, Value>,
    ctx: &mut Ctx<'_>,
) -> Result<(String, usize), Error> {
    let Some(obj) = p.as_object_mut() else {
        return Err(ctx.err(
            ptr,
            format!("expected a package object, found {}", type_name(p)),
        ));
    };
    let spdxid = str_field(obj, "SPDXID", ptr, ctx)?.to_owned();
    let name = str_field(obj, "name", ptr, ctx)?.to_owned();
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
            return Err(ctx.err(
                &at(ptr, "primaryPackagePurpose"),
                format!(
                    "unknown primaryPackagePurpose {purpose:?} (expected one of {})",
                    PURPOSES.join(", ")
                ),
            ));
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
        named_ref(kind, &name, version.as_deref()).map_err(|e| ctx.err(&at(ptr, "name"), e))?
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
    Ok((spdxid, ctx.add_at(f)?))
}

/// Maps one file; returns its SPDXID and artifact index.
fn file(fv: &mut Value, ptr: &str, ctx: &mut Ctx<'_>) -> Result<(String, usize), Error> {
    let Some(obj) = fv.as_object_mut() else {
        return Err(ctx.err(
            ptr,
            format!("expected a file object, found {}", type_name(fv)),
        ));
    };
    let spdxid = str_field(obj, "SPDXID", ptr, ctx)?.to_owned();
    let name = str_field(obj, "fileName", ptr, ctx)?.to_owned();
    let (hash_map, sha) = checksums(obj.get("checksums"), ptr, ctx)?;
    let id = match sha {
        Some(d) => d.to_string(),
        None => named_ref(ArtifactKind::File, &name, None)
            .map_err(|e| ctx.err(&at(ptr, "fileName"), e))?,
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
    Ok((spdxid, ctx.add_at(f)?))
}

fn str_field<'v>(
    obj: &'v Map<String, Value>,
    k: &str,
    ptr: &str,
    ctx: &Ctx<'_>,
) -> Result<&'v str, Error> {
    match obj.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(ctx.err(&at(ptr, k), format!("{k} is empty"))),
        Some(other) => Err(ctx.err(
            &at(ptr, k),
            format!("expected a string, found {}", type_name(other)),
        )),
        None => Err(ctx.err(ptr, format!("missing required {k:?}"))),
    }
}
