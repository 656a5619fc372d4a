//! SPDX 3.0 JSON-LD (`@graph` of elements), including the AI and Dataset profiles:
//! `software_Package`/`software_File` → package/file, `ai_AIPackage` → model,
//! `dataset_DatasetPackage` → dataset; relationships mapped onto ailedger's edge
//! types (consumer → consumed); the document describes the root elements of its
//! SBOMs. Licence and `testedOn` relationships become attributes of their `from`
//! artifact; `build_Build` elements link their outputs to their inputs and tools.
//! A relationship that would be an edge but names an element neither in the graph
//! nor imported (`import` ExternalMap) is dropped with a warning (refused under
//! `strict`).

use std::collections::{BTreeMap, HashMap};

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeKind, Purl, Sha256Digest};
use serde_json::{Map, Value};

use crate::{
    Error,
    graph::{Ctx, fact, named_ref, take_attrs},
    hashes,
    json::{at, type_name},
};

/// Element types that collect other elements: the document and its BOMs.
const CONTAINERS: &[&str] = &["SpdxDocument", "software_Sbom", "Bom", "Bundle"];

/// Element properties kept as attributes, under their SPDX names.
const ATTRS: &[&str] = &[
    "spdxId",
    "summary",
    "description",
    "comment",
    "originatedBy",
    "suppliedBy",
    "releaseTime",
    "builtTime",
    "validUntilTime",
    "standardName",
    "externalIdentifier",
    "externalRef",
    "contentType",
    "software_downloadLocation",
    "software_homePage",
    "software_sourceInfo",
    "software_primaryPurpose",
    "software_additionalPurpose",
    "software_copyrightText",
    "software_attributionText",
    "software_fileKind",
    // AI profile (ai_AIPackage)
    "ai_typeOfModel",
    "ai_domain",
    "ai_hyperparameter",
    "ai_metric",
    "ai_metricDecisionThreshold",
    "ai_limitation",
    "ai_safetyRiskAssessment",
    "ai_autonomyType",
    "ai_energyConsumption",
    "ai_informationAboutApplication",
    "ai_informationAboutTraining",
    "ai_modelDataPreprocessing",
    "ai_modelExplainability",
    "ai_standardCompliance",
    "ai_useSensitivePersonalInformation",
    // Dataset profile (dataset_DatasetPackage)
    "dataset_datasetType",
    "dataset_datasetSize",
    "dataset_datasetAvailability",
    "dataset_datasetNoise",
    "dataset_datasetUpdateMechanism",
    "dataset_intendedUse",
    "dataset_dataCollectionProcess",
    "dataset_dataPreprocessing",
    "dataset_knownBias",
    "dataset_sensor",
    "dataset_anonymizationMethodUsed",
    "dataset_hasSensitivePersonalInformation",
    "dataset_confidentialityLevel",
];

fn kind_of(ty: &str) -> Option<ArtifactKind> {
    Some(match ty {
        "software_Package" | "software_SoftwareArtifact" => ArtifactKind::Package,
        "software_File" => ArtifactKind::File,
        "ai_AIPackage" => ArtifactKind::Model,
        "dataset_DatasetPackage" => ArtifactKind::Dataset,
        _ => return None,
    })
}

/// What a relationship type becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    /// An edge; `true` when it runs `to → from` rather than `from → to`.
    Edge(EdgeKind, bool),
    /// A list attribute of the `from` artifact named after the type, holding the
    /// targets (artifact ids, licence expressions).
    Attr,
    /// A type of the SPDX 3.0 vocabulary with no ailedger counterpart.
    None,
}

fn mapping(rel: &str) -> Option<Rel> {
    use EdgeKind::*;
    use Rel::{Attr, Edge};
    Some(match rel {
        "dependsOn"
        | "hasStaticLink"
        | "hasDynamicLink"
        | "hasPrerequisite"
        | "hasProvidedDependency"
        | "hasOptionalDependency"
        | "hasDataFile" => Edge(DependsOn, false),
        "trainedOn" => Edge(TrainedOn, false),
        "contains" | "hasOptionalComponent" | "hasDistributionArtifact" | "expandsTo" => {
            Edge(Contains, false)
        }
        "descendantOf" => Edge(DerivedFrom, false),
        // A ancestorOf B, A hasVariant B, A copiedTo B: B is derived from A.
        "ancestorOf" | "hasVariant" | "copiedTo" => Edge(DerivedFrom, true),
        // A generates B, A hasOutput B: B is built from A.
        "generates" | "hasOutput" => Edge(BuiltFrom, true),
        "hasInput" | "usesTool" => Edge(BuiltFrom, false),
        "describes" => Edge(Describes, false),
        // Evaluation data: the model was not trained on it and does not run with it,
        // so it is not in the model's blast radius; kept as a fact about the model.
        "testedOn" | "hasConcludedLicense" | "hasDeclaredLicense" => Attr,
        "affects"
        | "amendedBy"
        | "availableFrom"
        | "configures"
        | "coordinatedBy"
        | "delegatedTo"
        | "doesNotAffect"
        | "exploitCreatedBy"
        | "fixedBy"
        | "fixedIn"
        | "foundBy"
        | "hasAddedFile"
        | "hasAssessmentFor"
        | "hasAssociatedVulnerability"
        | "hasDeletedFile"
        | "hasDependencyManifest"
        | "hasDocumentation"
        | "hasEvidence"
        | "hasExample"
        | "hasHost"
        | "hasMetadata"
        | "hasRequirement"
        | "hasSpecification"
        | "hasTest"
        | "hasTestCase"
        | "invokedBy"
        | "modifiedBy"
        | "other"
        | "packagedBy"
        | "patchedBy"
        | "publishedBy"
        | "reportedBy"
        | "republishedBy"
        | "serializedInArtifact"
        | "underInvestigationFor" => Rel::None,
        _ => return None,
    })
}

/// What an `spdxId` of the graph is.
#[derive(Debug, Clone)]
enum Node {
    /// Index into the artifact facts.
    Artifact(usize),
    /// The document or one of its BOMs.
    Container,
    /// A `build_Build`.
    Build,
    /// A licence; the expression or listed-licence id it stands for.
    License(String),
    /// Any other element (agent, annotation, relationship…).
    Other,
}

/// An `spdxId` of the graph: what it is, and the index of its element in `@graph`.
type Nodes = HashMap<String, (Node, usize), foldhash::fast::RandomState>;

/// The pointer of element `i` of `@graph`.
fn element_ptr(i: usize) -> String {
    format!("/@graph/{i}")
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

/// A property holding one reference or an array of them, with the index of each in
/// the array (`None`: the property is the reference).
fn refs(v: Option<&Value>) -> Vec<(&str, Option<usize>)> {
    match v {
        Some(Value::String(s)) => vec![(s.as_str(), None)],
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .filter_map(|(j, x)| Some((x.as_str()?, Some(j))))
            .collect(),
        _ => vec![],
    }
}

/// `ptr` + `/j` for a reference of [`refs`] at index `j`.
fn ref_ptr(ptr: &str, j: Option<usize>) -> String {
    match j {
        Some(j) => at(ptr, j),
        None => ptr.to_owned(),
    }
}

/// The SPDX licence list's IRI prefix: such licences need not be declared in the graph.
const LISTED_LICENSE: &str = "https://spdx.org/licenses/";

pub(crate) fn parse(mut root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
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

    // Artifacts first: every element of an artifact type becomes a fact.
    let mut nodes: Nodes = HashMap::default();
    let mut facts: Vec<ArtifactFact> = Vec::new();
    let mut imports: HashMap<String, String> = HashMap::new(); // externalSpdxId → pointer
    for (i, e) in graph.iter_mut().enumerate() {
        let ty = type_of(e);
        let kind = kind_of(ty);
        let Some(spdx_id) = id_of(e).map(str::to_owned) else {
            if let Some(kind) = kind {
                // Nothing can refer to it, but what it says of itself is recorded.
                let ty = ty.to_owned();
                let ptr = element_ptr(i);
                ctx.repair(
                    &ptr,
                    &format!("{ty} without \"spdxId\""),
                    "recorded, but no relationship can name it",
                )?;
                if let Some(f) = artifact(e, kind, &ty, None, &ptr, ctx)? {
                    facts.push(f);
                }
            }
            continue;
        };
        let node = if CONTAINERS.contains(&ty) {
            if let Some(Value::Array(ms)) = e.get("import") {
                for (j, m) in ms.iter().enumerate() {
                    if let Some(x) = m.get("externalSpdxId").and_then(Value::as_str) {
                        imports.insert(x.to_owned(), format!("/@graph/{i}/import/{j}"));
                    }
                }
            }
            Node::Container
        } else if ty == "build_Build" {
            Node::Build
        } else if ty.starts_with("simplelicensing_") || ty.starts_with("expandedlicensing_") {
            let expr = e
                .get("simplelicensing_licenseExpression")
                .and_then(Value::as_str)
                .map_or_else(|| license_text(&spdx_id), str::to_owned);
            Node::License(expr)
        } else if let Some(kind) = kind {
            let ty = ty.to_owned();
            match artifact(e, kind, &ty, Some(&spdx_id), &element_ptr(i), ctx)? {
                Some(f) => {
                    facts.push(f);
                    Node::Artifact(facts.len() - 1)
                }
                None => Node::Other,
            }
        } else {
            Node::Other
        };
        // Two serializations of one relationship or agent are harmless; two artifacts
        // (or BOMs) claiming one spdxId would make every reference to it ambiguous.
        let structural = |n: &Node| matches!(n, Node::Artifact(_) | Node::Container | Node::Build);
        match nodes.get(&spdx_id) {
            // The later one is recorded, but references name the first.
            Some((have, first)) if structural(&node) && structural(have) => {
                let fault = format!(
                    "duplicate spdxId {spdx_id:?} (also at {})",
                    element_ptr(*first)
                );
                ctx.repair(
                    &at(&element_ptr(i), "spdxId"),
                    &fault,
                    "references name the first element with it",
                )?;
            }
            Some(_) if !structural(&node) => {}
            _ => {
                nodes.insert(spdx_id, (node, i));
            }
        }
    }

    let resolver = Resolver {
        nodes: &nodes,
        imports: &imports,
        graph,
    };
    let mut edges: Vec<(End, EdgeKind, End)> = Vec::new();

    // Roots of the document and its BOMs are what the document describes.
    for (i, e) in graph.iter().enumerate() {
        if !CONTAINERS.contains(&type_of(e)) {
            continue;
        }
        let ptr = format!("/@graph/{i}/rootElement");
        for (r, j) in refs(e.get("rootElement")) {
            if let Target::Artifact(to) = resolver.target(r, &|| ref_ptr(&ptr, j), ctx)? {
                edges.push((End::Document, EdgeKind::Describes, End::Fact(to)));
            }
        }
    }

    let mut attrs: Vec<Map<String, Value>> = vec![Map::new(); facts.len()];
    let mut builds: BTreeMap<String, Build> = BTreeMap::new();
    let mut unmapped: BTreeMap<String, usize> = BTreeMap::new();
    for (i, e) in graph.iter().enumerate() {
        if !matches!(type_of(e), "Relationship" | "LifecycleScopedRelationship") {
            continue;
        }
        let ptr = || element_ptr(i);
        let rel = e
            .get("relationshipType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(kind) = mapping(rel) else {
            ctx.warn(
                &at(&ptr(), "relationshipType"),
                format!("unknown relationship type {rel:?}; no edge recorded"),
            );
            continue;
        };
        if kind == Rel::None {
            *unmapped.entry(rel.to_owned()).or_default() += 1;
            continue;
        }
        let Some(from) = e.get("from").and_then(Value::as_str) else {
            ctx.repair(
                &ptr(),
                "relationship without \"from\"",
                "relationship dropped",
            )?;
            continue;
        };
        let targets = refs(e.get("to"));
        if targets.is_empty() {
            ctx.repair(
                &ptr(),
                "relationship without \"to\"",
                "relationship dropped",
            )?;
            continue;
        }
        let to_ptr = |j| ref_ptr(&at(&ptr(), "to"), j);
        let from_ptr = || at(&ptr(), "from");
        if kind == Rel::Attr {
            let Some((Node::Artifact(n), _)) = nodes.get(from) else {
                ctx.warn(
                    &from_ptr(),
                    format!("{from:?} is not an artifact of the @graph; {rel} not recorded"),
                );
                continue;
            };
            let list = attrs[*n]
                .entry(rel.to_owned())
                .or_insert_with(|| Value::Array(vec![]));
            for (t, _) in targets {
                // Artifacts by id, licences by expression, anything else as written.
                let v = match nodes.get(t) {
                    Some((Node::Artifact(n), _)) => facts[*n].id.clone(),
                    Some((Node::License(x), _)) => x.clone(),
                    _ if rel == "testedOn" => t.to_owned(),
                    _ => license_text(t),
                };
                if let Value::Array(a) = list
                    && !a.iter().any(|x| x.as_str() == Some(&v))
                {
                    a.push(Value::from(v));
                }
            }
            continue;
        }
        let Rel::Edge(edge, flip) = kind else {
            continue;
        };
        // A build's inputs, tools and outputs are linked once all are known.
        if let Some((Node::Build, _)) = nodes.get(from) {
            let b = builds.entry(from.to_owned()).or_default();
            for (t, j) in targets {
                if let Target::Artifact(n) = resolver.target(t, &|| to_ptr(j), ctx)? {
                    match rel {
                        "hasOutput" | "generates" => b.outputs.push(n),
                        "hasInput" | "usesTool" => b.inputs.push(n),
                        _ => ctx.warn(
                            &ptr(),
                            format!("{rel} from a build_Build has no ailedger edge"),
                        ),
                    }
                }
            }
            continue;
        }
        let from_is_container = matches!(nodes.get(from), Some((Node::Container, _)));
        let from_end = match resolver.target(from, &from_ptr, ctx)? {
            Target::Artifact(n) => Some(End::Fact(n)),
            _ if from_is_container => Some(End::Document),
            _ => None,
        };
        let Some(from_end) = from_end else { continue };
        for (t, j) in targets {
            let to_end = match resolver.target(t, &|| to_ptr(j), ctx)? {
                Target::Artifact(n) => End::Fact(n),
                _ => continue,
            };
            let (a, b) = if flip {
                (to_end, from_end)
            } else {
                (from_end, to_end)
            };
            if edge == EdgeKind::Describes {
                if a == End::Document {
                    edges.push((a, edge, b));
                } else {
                    ctx.warn(
                        &ptr(),
                        "describes between two non-document elements; no edge recorded",
                    );
                }
            } else if a != End::Document && b != End::Document {
                edges.push((a, edge, b));
            }
        }
    }
    for b in builds.values() {
        for &o in &b.outputs {
            for &i in &b.inputs {
                edges.push((End::Fact(o), EdgeKind::BuiltFrom, End::Fact(i)));
            }
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

    // The document is artifact 0 of `ctx`; fact n is `at[n]`.
    let mut at_of = Vec::with_capacity(facts.len());
    for (mut f, extra) in facts.into_iter().zip(attrs) {
        for (k, v) in extra {
            f.attrs.insert(k, v);
        }
        at_of.push(ctx.add_at(f)?);
    }
    let index = |e: End| match e {
        End::Document => Some(0),
        End::Fact(n) => at_of.get(n).copied(),
    };
    for &(a, edge, b) in &edges {
        if let (Some(a), Some(b)) = (index(a), index(b)) {
            ctx.edge_at(a, edge, b)?;
        }
    }

    let mut doc_attrs = Map::new();
    doc_attrs.insert("format".into(), Value::from("SPDX 3"));
    let mut doc_name = None;
    let creation: HashMap<&str, &Value> = graph
        .iter()
        .filter(|e| type_of(e) == "CreationInfo")
        .filter_map(|e| Some((e.get("@id")?.as_str()?, e)))
        .collect();
    if let Some(d) = graph.iter().find(|e| type_of(e) == "SpdxDocument") {
        doc_name = d.get("name").and_then(Value::as_str).map(str::to_owned);
        for k in ["spdxId", "profileConformance", "dataLicense", "import"] {
            if let Some(v) = d.get(k) {
                doc_attrs.insert(k.into(), v.clone());
            }
        }
        let ci = match d.get("creationInfo") {
            Some(Value::String(r)) => creation.get(r.as_str()).copied(),
            Some(v @ Value::Object(_)) => Some(v),
            _ => None,
        };
        if let Some(Value::Object(ci)) = ci {
            for k in ["specVersion", "created", "createdBy", "createdUsing"] {
                if let Some(v) = ci.get(k) {
                    doc_attrs.insert(k.into(), v.clone());
                }
            }
        }
    }
    let d = ctx.doc_mut();
    if d.name.is_none() {
        d.name = doc_name;
    }
    d.attrs.extend(doc_attrs);
    Ok(())
}

/// A build's inputs and outputs (artifact facts, by index).
#[derive(Default)]
struct Build {
    inputs: Vec<usize>,
    outputs: Vec<usize>,
}

/// An edge's end: the document, or an artifact fact by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Document,
    Fact(usize),
}

/// What a reference resolves to.
enum Target {
    /// An artifact of the document, by fact index.
    Artifact(usize),
    /// An element of another document (imported), or of no document (a repair): a
    /// warning was given.
    Elsewhere,
    /// An element of the graph that is not an artifact.
    Skip,
}

struct Resolver<'a> {
    nodes: &'a Nodes,
    imports: &'a HashMap<String, String>,
    graph: &'a [Value],
}

impl Resolver<'_> {
    /// Resolves a reference that is to become an edge endpoint. A reference to no
    /// element of the graph is an error unless an `import` names it. `ptr` says where
    /// the reference is (made only when a message needs it).
    fn target(
        &self,
        r: &str,
        ptr: &dyn Fn() -> String,
        ctx: &mut Ctx<'_>,
    ) -> Result<Target, Error> {
        match self.nodes.get(r) {
            Some((Node::Artifact(n), _)) => Ok(Target::Artifact(*n)),
            Some((Node::Other, i)) => {
                let ty = self.graph.get(*i).map_or("", type_of);
                ctx.warn(
                    &ptr(),
                    format!("{r:?} is a {ty}, not an artifact; no edge recorded"),
                );
                Ok(Target::Skip)
            }
            Some((Node::License(_), _)) => {
                ctx.warn(&ptr(), format!("{r:?} is a licence; no edge recorded"));
                Ok(Target::Skip)
            }
            Some((Node::Container | Node::Build, _)) => Ok(Target::Skip),
            None => {
                if let Some(ip) = self.imports.get(r) {
                    ctx.warn(
                        &ptr(),
                        format!(
                            "{r:?} is an element of another document (imported at {ip}); no edge recorded"
                        ),
                    );
                    return Ok(Target::Elsewhere);
                }
                let fault = format!(
                    "{r:?} names no element of the @graph and no \"import\" of the document"
                );
                ctx.repair(&ptr(), &fault, "no edge recorded")?;
                Ok(Target::Elsewhere)
            }
        }
    }
}

/// The licence a reference to an undeclared licence stands for: the id of a listed
/// licence IRI, else the reference as written.
fn license_text(r: &str) -> String {
    r.strip_prefix(LISTED_LICENSE).unwrap_or(r).to_owned()
}

/// The fact for an element of an artifact type; its properties move into attributes.
/// `None`: the element is dropped (a repair: nothing identifies it).
fn artifact(
    e: &mut Value,
    kind: ArtifactKind,
    ty: &str,
    spdx_id: Option<&str>,
    ptr: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<ArtifactFact>, Error> {
    let Some(obj) = e.as_object_mut() else {
        let fault = format!("expected an object, found {}", type_name(e));
        ctx.repair(ptr, &fault, "element dropped")?;
        return Ok(None);
    };
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let version = obj
        .get("software_packageVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned);
    let mut purls: Vec<(String, String)> = refs(obj.get("software_packageUrl"))
        .into_iter()
        .map(|(s, _)| (s.to_owned(), at(ptr, "software_packageUrl")))
        .collect();
    if let Some(Value::Array(xs)) = obj.get("externalIdentifier") {
        for (j, x) in xs.iter().enumerate() {
            if x.get("externalIdentifierType").and_then(Value::as_str) == Some("packageUrl")
                && let Some(s) = x.get("identifier").and_then(Value::as_str)
            {
                purls.push((
                    s.to_owned(),
                    format!("{ptr}/externalIdentifier/{j}/identifier"),
                ));
            }
        }
    }
    let mut valid = Vec::new();
    for (p, pp) in purls {
        match p.parse::<Purl>() {
            Ok(p) => valid.push(p.to_string()),
            Err(err) => ctx.warn(&pp, format!("invalid purl not used: {err}")),
        }
    }
    valid.dedup();
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
            let (n, hex) = match hashes::check(alg, val) {
                Ok(checked) => checked,
                Err(e) => {
                    ctx.repair(&hp, &e, "hash dropped")?;
                    continue;
                }
            };
            if n == "SHA-256" {
                sha = Sha256Digest::from_hex(&hex).ok();
            }
            hash_map.insert(n.to_owned(), Value::from(hex));
        }
    }
    // SPDX 3 makes `name` optional; a nameless element is known by its spdxId.
    // Identified without its name: by a purl (packages) or a SHA-256.
    let identified = (kind == ArtifactKind::Package && !valid.is_empty()) || sha.is_some();
    let label = match (&name, spdx_id) {
        (Some(n), _) => n.clone(),
        (None, Some(spdx_id)) => {
            if valid.is_empty() && sha.is_none() {
                ctx.warn(
                    &at(ptr, "name"),
                    format!("{ty} without a name; identified by its spdxId"),
                );
            }
            spdx_id.to_owned()
        }
        (None, None) => {
            if !identified {
                ctx.repair(
                    ptr,
                    &format!("{ty} without a name or spdxId"),
                    "element dropped (nothing identifies it)",
                )?;
                return Ok(None);
            }
            String::new()
        }
    };
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
        match named_ref(kind, &label, version.as_deref()) {
            Ok(id) => id,
            Err(e) => {
                ctx.repair(&at(ptr, "name"), &e, "element dropped")?;
                return Ok(None);
            }
        }
    };
    let mut f = fact(id, kind, name, version);
    f.aliases = aliases;
    if !hash_map.is_empty() {
        f.attrs.insert("hashes".into(), Value::Object(hash_map));
    }
    f.attrs.insert("type".into(), Value::from(ty));
    take_attrs(obj, ATTRS, &mut f.attrs);
    Ok(Some(f))
}
