//! SPDX 3.0 JSON-LD (`@graph` of elements), including the AI and Dataset profiles:
//! `software_Package`/`software_File` → package/file, `ai_AIPackage` → model,
//! `dataset_DatasetPackage` → dataset; relationships mapped onto ailedger's edge
//! types (consumer → consumed); the document describes the root elements of its
//! SBOMs. Relationships to non-artifacts (agents, licences…) are not edges.

use std::collections::HashMap;

use ailedger_core::{ArtifactKind, EdgeKind, Purl, Sha256Digest};
use serde_json::{Map, Value};

use crate::{
    Error,
    graph::{Ctx, fact, named_ref, take_attrs},
    hashes,
    json::{at, type_name},
};

fn kind_of(ty: &str) -> Option<ArtifactKind> {
    Some(match ty {
        "software_Package" | "software_SoftwareArtifact" => ArtifactKind::Package,
        "software_File" => ArtifactKind::File,
        "ai_AIPackage" => ArtifactKind::Model,
        "dataset_DatasetPackage" => ArtifactKind::Dataset,
        _ => return None,
    })
}

/// Edge kind and whether it runs `to → from` (`true`) rather than `from → to`.
fn mapping(rel: &str) -> Option<(EdgeKind, bool)> {
    use EdgeKind::*;
    Some(match rel {
        "dependsOn"
        | "hasStaticLink"
        | "hasDynamicLink"
        | "hasPrerequisite"
        | "hasProvidedDependency"
        | "hasOptionalDependency"
        | "hasDataFile" => (DependsOn, false),
        // Test data: the model's claimed quality depends on it (not trained on it).
        "testedOn" | "hasTest" => (DependsOn, false),
        "trainedOn" => (TrainedOn, false),
        "contains" | "hasDistributionArtifact" => (Contains, false),
        "ancestorOf" => (DerivedFrom, true),
        "descendantOf" | "copiedTo" => (DerivedFrom, false),
        "generates" | "usesTool" => (BuiltFrom, true),
        "describes" => (Describes, false),
        _ => return None,
    })
}

fn id_of(e: &Value) -> Option<&str> {
    e.get("spdxId")
        .or_else(|| e.get("@id"))
        .and_then(Value::as_str)
}

fn type_of(e: &Value) -> &str {
    e.get("type")
        .or_else(|| e.get("@type"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

pub(crate) fn parse(mut root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let doc_id = ctx.doc_id();
    let graph = match root.get_mut("@graph") {
        Some(Value::Array(g)) => g,
        Some(other) => {
            return Err(ctx.err(
                "/@graph",
                format!("expected an array, found {}", type_name(other)),
            ));
        }
        None => return Err(ctx.err("/@graph", "missing \"@graph\"")),
    };
    ctx.check_count("/@graph", "elements", graph.len())?;
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut containers = Vec::new(); // SpdxDocument / Sbom / Bom spdxIds
    for (i, e) in graph.iter_mut().enumerate() {
        let ptr = format!("/@graph/{i}");
        let ty = type_of(e).to_owned();
        if matches!(ty.as_str(), "SpdxDocument" | "software_Sbom" | "Bom") {
            if let Some(id) = id_of(e) {
                containers.push(id.to_owned());
            }
            continue;
        }
        let Some(kind) = kind_of(&ty) else { continue };
        let Some(spdx_id) = id_of(e).map(str::to_owned) else {
            return Err(ctx.err(&ptr, "element without \"spdxId\""));
        };
        let Some(obj) = e.as_object_mut() else {
            continue;
        };
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            return Err(ctx.err(&ptr, format!("{ty} without a \"name\"")));
        }
        let version = obj
            .get("software_packageVersion")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let mut purls: Vec<String> = strings(obj.get("software_packageUrl"))
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Some(Value::Array(xs)) = obj.get("externalIdentifier") {
            for x in xs {
                if x.get("externalIdentifierType").and_then(Value::as_str) == Some("packageUrl")
                    && let Some(s) = x.get("identifier").and_then(Value::as_str)
                {
                    purls.push(s.to_owned());
                }
            }
        }
        let mut valid = Vec::new();
        for p in purls {
            match p.parse::<Purl>() {
                Ok(p) => valid.push(p.to_string()),
                Err(err) => ctx.warn(&ptr, format!("invalid purl not used: {err}")),
            }
        }
        let mut hash_map = Map::new();
        let mut sha = None;
        if let Some(Value::Array(vs)) = obj.get("verifiedUsing") {
            for (j, h) in vs.iter().enumerate() {
                let hp = format!("{ptr}/verifiedUsing/{j}");
                let (Some(alg), Some(val)) = (
                    h.get("algorithm").and_then(Value::as_str),
                    h.get("hashValue").and_then(Value::as_str),
                ) else {
                    continue; // PackageVerificationCode and other integrity methods
                };
                let (n, hex) = hashes::check(alg, val).map_err(|e| ctx.err(&hp, e))?;
                if n == "SHA-256" {
                    sha = Sha256Digest::from_hex(&hex).ok();
                }
                hash_map.insert(n.to_owned(), Value::from(hex));
            }
        }
        let mut aliases = Vec::new();
        let id = if kind == ArtifactKind::Package && !valid.is_empty() {
            aliases.extend(valid.iter().skip(1).cloned());
            aliases.extend(sha.map(|d| d.to_string()));
            valid[0].clone()
        } else if let Some(d) = sha {
            aliases.extend(valid);
            d.to_string()
        } else {
            aliases.extend(valid);
            named_ref(kind, &name, version.as_deref()).map_err(|e| ctx.err(&at(&ptr, "name"), e))?
        };
        let mut f = fact(id, kind, Some(name), version);
        f.aliases = aliases;
        if !hash_map.is_empty() {
            f.attrs.insert("hashes".into(), Value::Object(hash_map));
        }
        f.attrs.insert("type".into(), Value::from(ty));
        take_attrs(
            obj,
            &[
                "spdxId",
                "description",
                "summary",
                "software_downloadLocation",
                "software_primaryPurpose",
                "suppliedBy",
                "ai_typeOfModel",
                "ai_domain",
                "ai_hyperparameter",
                "ai_limitation",
                "ai_safetyRiskAssessment",
                "ai_autonomyType",
                "ai_informationAboutTraining",
                "ai_energyConsumption",
                "dataset_datasetType",
                "dataset_datasetSize",
                "dataset_intendedUse",
                "dataset_sensitivePersonalInformation",
                "dataset_confidentialityLevel",
            ],
            &mut f.attrs,
        );
        let id = ctx.add(f)?;
        ids.insert(spdx_id, id);
    }
    for c in &containers {
        ids.insert(c.clone(), doc_id.clone());
    }
    // Roots of the document and its SBOMs are what the document describes.
    for e in graph.iter() {
        if matches!(type_of(e), "SpdxDocument" | "software_Sbom" | "Bom") {
            for r in strings(e.get("rootElement")) {
                if let Some(to) = ids.get(r)
                    && *to != doc_id
                {
                    ctx.edge(&doc_id, EdgeKind::Describes, to)?;
                }
            }
        }
    }
    let mut unmapped: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, e) in graph.iter().enumerate() {
        if !matches!(type_of(e), "Relationship" | "LifecycleScopedRelationship") {
            continue;
        }
        let ptr = format!("/@graph/{i}");
        let rel = e
            .get("relationshipType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some((edge, flip)) = mapping(rel) else {
            *unmapped.entry(rel.to_owned()).or_default() += 1;
            continue;
        };
        let Some(from) = e.get("from").and_then(Value::as_str) else {
            return Err(ctx.err(&ptr, "relationship without \"from\""));
        };
        let Some(from) = ids.get(from).cloned() else {
            continue;
        };
        for to in strings(e.get("to")) {
            let Some(to) = ids.get(to).cloned() else {
                continue;
            };
            let (a, b) = if flip {
                (to, from.clone())
            } else {
                (from.clone(), to)
            };
            if edge == EdgeKind::Describes && a != doc_id {
                continue;
            }
            if edge != EdgeKind::Describes && (a == doc_id || b == doc_id) {
                continue;
            }
            ctx.edge(&a, edge, &b)?;
        }
    }
    if !unmapped.is_empty() {
        let list: Vec<String> = unmapped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        ctx.warn(
            "/@graph",
            format!(
                "relationship types with no ailedger edge, not recorded: {}",
                list.join(", ")
            ),
        );
    }
    let d = ctx.doc_mut();
    d.attrs.insert("format".into(), Value::from("SPDX 3"));
    Ok(())
}
