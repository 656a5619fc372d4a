//! SPDX 2.3 JSON of a [`Subgraph`], written element by element.
//!
//! One package per artifact (a file artifact known by its SHA-256 is an SPDX file), the
//! document `DESCRIBES` the root, one relationship per edge, and the ledger state in the
//! document's comment. What SPDX 2.3 has no word for is said in a way `ailedger-formats`
//! reads back:
//!
//! - a package's ailedger kind, when it is not `package`, as an external reference
//!   `OTHER`/`ailedger-kind` (locator: the kind);
//! - aliases that neither a purl, the SHA-256 checksum nor the name and version (the
//!   alias they imply) carry, as `OTHER`/`ailedger-alias`;
//! - an edge kind SPDX 2.3 has no relationship type for, as the closest type with the
//!   comment `ailedger edge: <kind>` (see [`relationship`]).
//!
//! What the ledger knows beyond SPDX's fields is said in annotations, each comment
//! starting with a fixed prefix: incidents (`REVIEW`), attestations, findings
//! ([`FINDING_NOTE`]), model cards ([`MODEL_CARD_NOTE`]), MCP server endpoints and launch
//! commands ([`MCP_NOTE`]), deployments' env, owner and contact ([`DEPLOYMENT_NOTE`]),
//! an ingested document's properties ([`PROPERTIES_NOTE`]) and every other attribute
//! ([`ATTRIBUTES_NOTE`]). Licence names without an SPDX id are `LicenseRef-…` licences
//! of `hasExtractedLicensingInfos`.
//!
//! Deterministic: SPDXIDs and `LicenseRef-` ids come from artifact ids and licence
//! names, the namespace from the writer's version, the root and the ledger state, times
//! from the ledger; the order is the subgraph's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use ailedger_core::{ArtifactKind, EdgeKind, Ref, Sha256Digest, identity};
use serde_json::{Map, Value, json};

use crate::{
    Artifact, Held, Records, Subgraph,
    json::JsonOut,
    model::{fetch_by_id, finding, record_of},
};

pub use ailedger_core::spdx::{ALIAS_REF, EDGE_COMMENT, KIND_REF};
/// How an annotation's comment starts for a finding: `<code> <severity>: <message>`.
pub const FINDING_NOTE: &str = "ailedger finding: ";
/// How it starts for a model's card (JSON: the CycloneDX model card as recorded, with
/// the task and architecture; its datasets are the `trained-on` relationships).
pub const MODEL_CARD_NOTE: &str = "ailedger model card: ";
/// How it starts for an MCP server's transport, endpoint and launch command (JSON).
pub const MCP_NOTE: &str = "ailedger mcp server: ";
/// How it starts for a deployment's env, owner and contact (JSON).
pub const DEPLOYMENT_NOTE: &str = "ailedger deployment: ";
/// How it starts for the properties an ingested document gave the artifact (JSON).
pub const PROPERTIES_NOTE: &str = "ailedger properties: ";
/// How it starts for the attributes no other field or annotation states (JSON).
pub const ATTRIBUTES_NOTE: &str = "ailedger attributes: ";

/// The document's own SPDXID.
const DOC_ID: &str = "SPDXRef-DOCUMENT";

/// How many records the writer reads at once.
const BATCH: usize = 512;

/// Attributes a package states in its fields or its other annotations.
const PACKAGE_STATED: &[&str] = &[
    "SPDXID",
    "bom-ref",
    "type",
    "group",
    "hashes",
    "licenses",
    "license",
    "licenseDeclared",
    "licenseConcluded",
    "extractedLicenses",
    "supplier",
    "originator",
    "downloadLocation",
    "homepage",
    "sourceInfo",
    "copyrightText",
    "copyright",
    "summary",
    "description",
    "externalRefs",
    "externalReferences",
    "primaryPackagePurpose",
    "releaseDate",
    "builtDate",
    "validUntilDate",
    "filesAnalyzed",
    "cpe",
    "swhid",
    "omniborId",
    "properties",
    "findings",
];

/// The fields of an `hasExtractedLicensingInfos` entry SPDX 2.3 has.
const EXTRACTED_FIELDS: &[&str] = &[
    "licenseId",
    "extractedText",
    "name",
    "comment",
    "seeAlsos",
    "crossRefs",
];

/// Attributes a file states in its fields or its other annotations.
const FILE_STATED: &[&str] = &[
    "SPDXID",
    "bom-ref",
    "type",
    "hashes",
    "licenseConcluded",
    "copyrightText",
    "properties",
    "findings",
];

/// Attributes the annotation of a kind states: model cards, MCP servers, deployments.
fn kind_stated(kind: ArtifactKind) -> &'static [&'static str] {
    match kind {
        ArtifactKind::Model => &[
            "modelCard",
            "task",
            "architecture_family",
            "model_architecture",
        ],
        ArtifactKind::McpServer => &["transport", "url", "endpoints", "command", "args"],
        ArtifactKind::Deployment => &["env", "owner", "contact"],
        _ => &[],
    }
}

/// The SPDX 2.3 document of `sub` (whose artifacts are full records), as pretty-printed
/// JSON ending in a newline.
pub fn to_json(sub: &Subgraph) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a `Vec` from held records cannot fail.
    let _ = write_to(sub, &mut Held::new(sub), &mut out);
    out
}

/// The SPDX 2.3 document of `sub` (parsed back from [`to_json`]).
pub fn document(sub: &Subgraph) -> Value {
    serde_json::from_slice(&to_json(sub)).unwrap_or(Value::Null)
}

/// Writes the SPDX 2.3 document of `sub` to `out`, element by element, reading the
/// artifacts' records from `records` a batch at a time (`sub.artifacts` may be
/// skeletons: ids and kinds): neither the document nor every record is held at once.
///
/// Packages come before files, and whether an artifact is a file depends on its record
/// (a file artifact with aliases is a package, to keep them): the records are read once
/// in the subgraph's order to write the packages, and those of the files again after.
pub fn write_to(sub: &Subgraph, records: &mut dyn Records, out: &mut dyn Write) -> io::Result<()> {
    let mut w = Writer::new(sub);
    let mut json = JsonOut::new(out);
    json.field("spdxVersion", &Value::from("SPDX-2.3"))?;
    json.field("dataLicense", &Value::from("CC0-1.0"))?;
    json.field("SPDXID", &Value::from(DOC_ID))?;
    json.field(
        "name",
        &Value::from(format!("ailedger export of {}", sub.root)),
    )?;
    json.field("documentNamespace", &Value::from(namespace(sub)))?;
    json.field(
        "creationInfo",
        &json!({ "created": w.created, "creators": [w.tool] }),
    )?;
    json.field("comment", &Value::from(ledger_comment(sub)))?;

    let ids: Vec<&str> = sub.artifacts.iter().map(|a| a.id.as_str()).collect();
    let mut files: Vec<&str> = Vec::new();
    json.open("packages")?;
    each_record(&ids, records, |id, a| {
        if is_file(a) {
            files.push(id);
            Ok(())
        } else {
            json.item(&w.package(a))
        }
    })?;
    json.close()?;
    if !files.is_empty() {
        json.open("files")?;
        each_record(&files, records, |_, a| json.item(&w.file(a)))?;
        json.close()?;
    }

    json.open("relationships")?;
    if let Some(root) = w.spdxids.get(sub.root.as_str()) {
        json.item(&json!({
            "spdxElementId": DOC_ID,
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": root,
        }))?;
    }
    for e in &sub.edges {
        let (Some(from), Some(to)) = (w.spdxids.get(e.from.as_str()), w.spdxids.get(e.to.as_str()))
        else {
            continue;
        };
        let (ty, flip, marked) = relationship(e.kind);
        let (a, b) = if flip { (to, from) } else { (from, to) };
        let mut r = Map::new();
        r.insert("spdxElementId".into(), Value::from(a.as_str()));
        r.insert("relationshipType".into(), Value::from(ty));
        r.insert("relatedSpdxElement".into(), Value::from(b.as_str()));
        if marked {
            r.insert(
                "comment".into(),
                Value::from(format!("{EDGE_COMMENT}{}", e.kind)),
            );
        }
        json.item(&Value::Object(r))?;
    }
    json.close()?;

    if !w.licences.is_empty() {
        json.open("hasExtractedLicensingInfos")?;
        for l in w.licences.values() {
            json.item(l)?;
        }
        json.close()?;
    }
    json.finish()
}

/// Whether an artifact is written as an SPDX file: a file known by its SHA-256 and
/// nothing else (an SPDX file has no external references to keep aliases in).
fn is_file(a: &Artifact) -> bool {
    a.kind == ArtifactKind::File && a.id.starts_with("sha256:") && a.aliases.is_empty()
}

/// Reads the records of `ids` a batch at a time and calls `each` on each, in order.
fn each_record<'s>(
    ids: &[&'s str],
    records: &mut dyn Records,
    mut each: impl FnMut(&'s str, &Artifact) -> io::Result<()>,
) -> io::Result<()> {
    for chunk in ids.chunks(BATCH) {
        let got = fetch_by_id(records, chunk)?;
        for id in chunk {
            each(id, record_of(&got, id)?)?;
        }
    }
    Ok(())
}

/// The document's comment: the ledger state it was computed at.
fn ledger_comment(sub: &Subgraph) -> String {
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
    state
}

/// What the writer knows before it reads any record, and the licences it has met.
struct Writer<'s> {
    tool: String,
    /// The ledger time, to the second: the document's and the annotations' date.
    created: String,
    spdxids: HashMap<&'s str, String>,
    /// Where a file sits in what contains it (its fileName when the ledger has no name).
    paths: HashMap<&'s str, &'s str>,
    /// The incidents' and attestations' annotations, by artifact, taken as it is written.
    notes: HashMap<&'s str, Vec<Value>>,
    /// The `hasExtractedLicensingInfos` of the licences packages name by `LicenseRef-`,
    /// by id.
    licences: BTreeMap<String, Value>,
}

impl<'s> Writer<'s> {
    fn new(sub: &'s Subgraph) -> Self {
        let tool = format!("Tool: ailedger-{}", env!("CARGO_PKG_VERSION"));
        let created = seconds(&sub.ledger.time);
        let spdxids = sub
            .artifacts
            .iter()
            .map(|a| (a.id.as_str(), spdxid(&a.id)))
            .collect();
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
        Writer {
            tool,
            created,
            spdxids,
            paths,
            notes,
            licences: BTreeMap::new(),
        }
    }

    fn spdxid_of(&self, id: &str) -> String {
        self.spdxids.get(id).cloned().unwrap_or_else(|| spdxid(id))
    }

    fn note(&self, comment: String) -> Value {
        json!({
            "annotationDate": self.created,
            "annotationType": "OTHER",
            "annotator": self.tool,
            "comment": comment,
        })
    }

    /// The annotations of an artifact: its incidents and attestations, then what its
    /// record says that no field of its element does.
    fn annotations(&mut self, a: &Artifact, stated: &[&str]) -> Vec<Value> {
        let mut out = self.notes.remove(a.id.as_str()).unwrap_or_default();
        let compact = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        match a.kind {
            ArtifactKind::Model => {
                if let Some(card) = model_card(a) {
                    out.push(self.note(format!("{MODEL_CARD_NOTE}{}", compact(&card))));
                }
            }
            ArtifactKind::McpServer | ArtifactKind::Deployment => {
                let picked: Map<String, Value> = kind_stated(a.kind)
                    .iter()
                    .filter_map(|k| a.attrs.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                    .collect();
                if !picked.is_empty() {
                    let prefix = if a.kind == ArtifactKind::McpServer {
                        MCP_NOTE
                    } else {
                        DEPLOYMENT_NOTE
                    };
                    out.push(self.note(format!("{prefix}{}", compact(&Value::Object(picked)))));
                }
            }
            _ => {}
        }
        if let Some(Value::Array(fs)) = a.attrs.get("findings") {
            for f in fs {
                out.push(self.note(format!("{FINDING_NOTE}{}", finding(f))));
            }
        }
        if let Some(Value::Array(ps)) = a.attrs.get("properties") {
            let kept: Vec<Value> = ps
                .iter()
                .filter(|x| {
                    x.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.starts_with("ailedger:"))
                })
                .cloned()
                .collect();
            if !kept.is_empty() {
                out.push(self.note(format!("{PROPERTIES_NOTE}{}", compact(&Value::Array(kept)))));
            }
        }
        let rest: Map<String, Value> = a
            .attrs
            .iter()
            .filter(|(k, _)| {
                !stated.contains(&k.as_str()) && !kind_stated(a.kind).contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !rest.is_empty() {
            out.push(self.note(format!(
                "{ATTRIBUTES_NOTE}{}",
                compact(&Value::Object(rest))
            )));
        }
        out
    }

    /// A licence known by name only, as a `LicenseRef-` id (remembered for
    /// `hasExtractedLicensingInfos`).
    fn licence_ref(&mut self, name: &str, text: Option<&str>) -> String {
        let id = licence_ref_id(name);
        self.licences.entry(id.clone()).or_insert_with(|| {
            json!({
                "licenseId": id,
                "extractedText": text.unwrap_or(name),
                "name": name,
                "comment": if text.is_some() {
                    "ailedger: a licence recorded by name and text, without an SPDX id"
                } else {
                    "ailedger: a licence recorded by name only, without an SPDX id; its text is not recorded"
                },
            })
        });
        id
    }

    /// A licence expression kept from an SPDX document, with the definitions of the
    /// `LicenseRef-`s it names that the document had (`extractedLicenses`).
    fn kept(&mut self, attrs: &Map<String, Value>, k: &str) -> Option<String> {
        let expr = text(attrs, k)?;
        if let Some(Value::Array(defs)) = attrs.get("extractedLicenses") {
            for tok in expr.split([' ', '(', ')']) {
                let def = defs
                    .iter()
                    .find(|d| d.get("licenseId").and_then(Value::as_str) == Some(tok));
                if let Some(Value::Object(d)) = def {
                    let known: Map<String, Value> = d
                        .iter()
                        .filter(|(k, _)| EXTRACTED_FIELDS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if known.get("extractedText").is_some_and(Value::is_string) {
                        self.licences
                            .entry(tok.to_owned())
                            .or_insert(Value::Object(known));
                    }
                }
            }
        }
        Some(expr.to_owned())
    }

    /// A licence as recorded: an SPDX expression as it is, anything else (`Apache 2.0`)
    /// as a `LicenseRef-`.
    fn expression(&mut self, s: &str) -> String {
        if is_expression(s) {
            s.to_owned()
        } else {
            self.licence_ref(s, None)
        }
    }

    /// The declared licence: an SPDX `licenseDeclared` kept from an SPDX document, else
    /// the ids, expressions and names (as `LicenseRef-`s) of CycloneDX `licenses`
    /// (ANDed), else `license` as registered.
    fn license_declared(&mut self, attrs: &Map<String, Value>) -> Option<String> {
        if let Some(l) = self.kept(attrs, "licenseDeclared") {
            return Some(l);
        }
        if let Some(Value::Array(ls)) = attrs.get("licenses") {
            let mut parts = Vec::new();
            for l in ls {
                let part = if let Some(e) = nonempty(l.get("expression")) {
                    self.expression(e)
                } else if let Some(id) = nonempty(l.pointer("/license/id")) {
                    id.to_owned()
                } else if let Some(name) = nonempty(l.pointer("/license/name")) {
                    // Its text, when recorded as plain text.
                    let text = l
                        .pointer("/license/text")
                        .filter(|t| t.get("encoding").is_none())
                        .and_then(|t| nonempty(t.get("content")));
                    self.licence_ref(name, text)
                } else {
                    continue;
                };
                parts.push(part);
            }
            if !parts.is_empty() {
                let many = parts.len() > 1;
                let parts: Vec<String> = parts
                    .into_iter()
                    .map(|p| {
                        if many && p.contains(' ') {
                            format!("({p})")
                        } else {
                            p
                        }
                    })
                    .collect();
                return Some(parts.join(" AND "));
            }
        }
        text(attrs, "license").map(|l| self.expression(l))
    }

    fn package(&mut self, a: &Artifact) -> Value {
        // A named ref's name and version are its identity: write them as the ref has them.
        let (name, version) = match a.id.parse::<Ref>() {
            Ok(Ref::Named { name, version, .. }) => (name, version),
            _ => (
                a.name.clone().unwrap_or_else(|| a.id.clone()),
                a.version.clone(),
            ),
        };
        let (sums, sha) = checksums(a);
        let mut refs: Vec<Value> = Vec::new();
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
            for r in kept {
                let ty = r.get("referenceType").and_then(Value::as_str);
                if ty != Some(KIND_REF) && ty != Some(ALIAS_REF) {
                    refs.push(r.clone());
                }
            }
        }
        let mut homepage = text(&a.attrs, "homepage").map(str::to_owned);
        let mut download = text(&a.attrs, "downloadLocation").map(str::to_owned);
        if let Some(Value::Array(xs)) = a.attrs.get("externalReferences") {
            refs.extend(cyclonedx_refs(xs, &mut homepage, &mut download));
        }
        refs.extend(identifier_refs(&a.attrs));
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
        let mut seen: HashSet<String> = HashSet::new();
        refs.retain(|r| seen.insert(r.to_string()));

        let mut p = Map::new();
        p.insert("SPDXID".into(), Value::from(self.spdxid_of(&a.id)));
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
            Value::from(download.unwrap_or_else(|| "NOASSERTION".into())),
        );
        p.insert("filesAnalyzed".into(), Value::Bool(false));
        if !sums.is_empty() {
            p.insert("checksums".into(), Value::Array(sums));
        }
        if let Some(h) = homepage {
            p.insert("homepage".into(), Value::from(h));
        }
        if let Some(v) = text(&a.attrs, "sourceInfo") {
            p.insert("sourceInfo".into(), Value::from(v));
        }
        let concluded = self.kept(&a.attrs, "licenseConcluded");
        p.insert(
            "licenseConcluded".into(),
            Value::from(concluded.unwrap_or_else(|| "NOASSERTION".into())),
        );
        let declared = self.license_declared(&a.attrs);
        p.insert(
            "licenseDeclared".into(),
            Value::from(declared.unwrap_or_else(|| "NOASSERTION".into())),
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
        if let Some(purpose) = purpose(a) {
            p.insert("primaryPackagePurpose".into(), Value::from(purpose));
        }
        for k in ["releaseDate", "builtDate", "validUntilDate"] {
            if let Some(v) = text(&a.attrs, k) {
                p.insert(k.into(), Value::from(v));
            }
        }
        let annotations = self.annotations(a, PACKAGE_STATED);
        if !annotations.is_empty() {
            p.insert("annotations".into(), Value::Array(annotations));
        }
        Value::Object(p)
    }

    fn file(&mut self, a: &Artifact) -> Value {
        let path = self.paths.get(a.id.as_str()).copied();
        let name = a.name.as_deref().or(path).unwrap_or(&a.id);
        let (sums, _) = checksums(a);
        let mut f = Map::new();
        f.insert("SPDXID".into(), Value::from(self.spdxid_of(&a.id)));
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
        let annotations = self.annotations(a, FILE_STATED);
        if !annotations.is_empty() {
            f.insert("annotations".into(), Value::Array(annotations));
        }
        Value::Object(f)
    }
}

/// CycloneDX `externalReferences` as SPDX: the first `website` is the `homepage` and the
/// first `distribution` (else a `vcs` in SPDX's VCS form) the `downloadLocation`, unless
/// the record has them; `advisories` are `SECURITY`/`advisory` references; every other
/// one an `OTHER` reference whose type is the CycloneDX type.
fn cyclonedx_refs(
    xs: &[Value],
    homepage: &mut Option<String>,
    download: &mut Option<String>,
) -> Vec<Value> {
    let refs: Vec<(usize, &str, &str, Option<&str>)> = xs
        .iter()
        .enumerate()
        .filter_map(|(i, x)| {
            let ty = x.get("type").and_then(Value::as_str)?;
            let url = x.get("url").and_then(Value::as_str).map(str::trim)?;
            let comment = x.get("comment").and_then(Value::as_str);
            (!url.is_empty() && !ty.is_empty()).then_some((i, ty, url, comment))
        })
        .collect();
    let is_url = |u: &str| u.contains("://") && !u.chars().any(char::is_whitespace);
    let mut used = HashSet::new();
    if homepage.is_none()
        && let Some((i, _, url, _)) = refs.iter().find(|r| r.1 == "website" && is_url(r.2))
    {
        *homepage = Some((*url).to_owned());
        used.insert(*i);
    }
    if download.is_none() {
        let dist = refs
            .iter()
            .find(|r| r.1 == "distribution" && is_url(r.2))
            .map(|r| (r.0, r.2.to_owned()));
        let vcs = || {
            refs.iter()
                .filter(|r| r.1 == "vcs" && is_url(r.2))
                .find_map(|r| vcs_location(r.2).map(|l| (r.0, l)))
        };
        if let Some((i, loc)) = dist.or_else(vcs) {
            *download = Some(loc);
            used.insert(i);
        }
    }
    refs.into_iter()
        .filter(|r| !used.contains(&r.0))
        .map(|(_, ty, url, comment)| {
            let (category, ty) = match ty {
                "advisories" => ("SECURITY", "advisory"),
                other => ("OTHER", other),
            };
            let mut r = Map::new();
            r.insert("referenceCategory".into(), Value::from(category));
            r.insert("referenceType".into(), Value::from(ty));
            // A locator has no spaces.
            let locator: String = url
                .chars()
                .map(|c| {
                    if c.is_whitespace() {
                        "%20".to_owned()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            r.insert("referenceLocator".into(), Value::from(locator));
            if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
                r.insert("comment".into(), Value::from(c));
            }
            Value::Object(r)
        })
        .collect()
}

/// A VCS URL in SPDX's `downloadLocation` form (`git+https://…`), when it is one.
fn vcs_location(url: &str) -> Option<String> {
    const TOOLS: &[&str] = &["git+", "hg+", "svn+", "bzr+"];
    if TOOLS.iter().any(|t| url.starts_with(t)) {
        Some(url.to_owned())
    } else if url.starts_with("git://")
        || ((url.starts_with("https://") || url.starts_with("ssh://")) && url.ends_with(".git"))
    {
        Some(format!("git+{url}"))
    } else {
        None
    }
}

/// CPEs (`SECURITY`), SoftWare Heritage ids and gitoids (`PERSISTENT-ID`) an ingested
/// CycloneDX component had.
fn identifier_refs(attrs: &Map<String, Value>) -> Vec<Value> {
    let strings = |k: &str| -> Vec<String> {
        match attrs.get(k) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(xs)) => xs
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut out = Vec::new();
    let mut push = |category: &str, ty: &str, loc: &str| {
        if !loc.is_empty() && !loc.chars().any(char::is_whitespace) {
            out.push(json!({
                "referenceCategory": category,
                "referenceType": ty,
                "referenceLocator": loc,
            }));
        }
    };
    for cpe in strings("cpe") {
        if cpe.starts_with("cpe:2.3:") {
            push("SECURITY", "cpe23Type", &cpe);
        } else if cpe.starts_with("cpe:/") {
            push("SECURITY", "cpe22Type", &cpe);
        }
    }
    for id in strings("swhid").iter().filter(|s| s.starts_with("swh:")) {
        push("PERSISTENT-ID", "swh", id);
    }
    for id in strings("omniborId")
        .iter()
        .filter(|s| s.starts_with("gitoid:"))
    {
        push("PERSISTENT-ID", "gitoid", id);
    }
    out
}

/// SPDX's package purpose: as ingested (when it is an SPDX 2.3 value), else what the
/// ailedger kind (and a package's CycloneDX type) is. SPDX 2.3 has no purpose for models
/// and datasets: `OTHER`.
fn purpose(a: &Artifact) -> Option<&'static str> {
    if let Some(p) = text(&a.attrs, "primaryPackagePurpose") {
        let p = p.replace('-', "_");
        if let Some(known) = ailedger_core::spdx::PACKAGE_PURPOSES
            .iter()
            .find(|x| **x == p)
        {
            return Some(known);
        }
    }
    use ArtifactKind::*;
    Some(match a.kind {
        Package => match a.attrs.get("type").and_then(Value::as_str) {
            Some("application") => "APPLICATION",
            Some("framework") => "FRAMEWORK",
            Some("library") => "LIBRARY",
            Some("container") => "CONTAINER",
            Some("operating-system") => "OPERATING_SYSTEM",
            Some("device") => "DEVICE",
            Some("firmware") => "FIRMWARE",
            Some("file") => "FILE",
            _ => return None,
        },
        Model | Dataset | Environment => "OTHER",
        Deployment | McpServer | Builder => "APPLICATION",
        Source => "SOURCE",
        File | McpConfig | Sbom | Attestation => "FILE",
    })
}

/// A model's card for its annotation: the CycloneDX model card as recorded, with the
/// task and architecture; without its datasets (the `trained-on` relationships) and
/// bom-ref (which named it in another document).
fn model_card(a: &Artifact) -> Option<Value> {
    let (mut card, params) = crate::model::model_card_parts(a);
    if !params.is_empty() {
        card.insert("modelParameters".into(), Value::Object(params));
    }
    (!card.is_empty()).then_some(Value::Object(card))
}

/// Whether `s` has the form of an SPDX licence expression: ids (`MIT`, `GPL-2.0+`,
/// `LicenseRef-x`, `DocumentRef-d:LicenseRef-x`) joined by `AND`, `OR` and `WITH`, with
/// balanced parentheses. Whether an id is on the SPDX licence list is not checked.
pub fn is_expression(s: &str) -> bool {
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let mut want_term = true;
    let mut depth = 0usize;
    for tok in spaced.split_whitespace() {
        match tok {
            "(" if want_term => depth += 1,
            ")" if !want_term && depth > 0 => depth -= 1,
            "AND" | "OR" | "WITH" if !want_term => want_term = true,
            t if want_term && is_licence_id(t) => want_term = false,
            _ => return false,
        }
    }
    !want_term && depth == 0
}

fn is_licence_id(t: &str) -> bool {
    let t = t.strip_suffix('+').unwrap_or(t);
    let id = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    match t.split_once(':') {
        Some((doc, lic)) => {
            doc.starts_with("DocumentRef-") && id(doc) && lic.starts_with("LicenseRef-") && id(lic)
        }
        None => id(t),
    }
}

/// The `LicenseRef-` id of a licence known by name: its readable characters (at most 40)
/// and 8 hex digits of the name's SHA-256, so two names never share one.
pub fn licence_ref_id(name: &str) -> String {
    let readable = readable(name, 40);
    let digest = Sha256Digest::of(name.as_bytes()).hex();
    let hex = digest.get(..8).unwrap_or(&digest);
    if readable.is_empty() {
        format!("LicenseRef-{hex}")
    } else {
        format!("LicenseRef-{readable}-{hex}")
    }
}

/// The letters, digits and dots of `s` (others as one `-`), at most `max`, trimmed of
/// `-`.
fn readable(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(max);
    for c in s.chars() {
        if out.len() >= max {
            break;
        }
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_owned()
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
    let digest = Sha256Digest::of(id.as_bytes()).hex();
    format!(
        "SPDXRef-{}-{}",
        readable(id, 48),
        digest.get(..16).unwrap_or(&digest)
    )
}

/// The document namespace: a URN from the writer's version, the root and the ledger
/// state, so the same state names the same document and another state (or another
/// writer, which may say more) another one. Known before any record is read.
fn namespace(sub: &Subgraph) -> String {
    let key = format!(
        "ailedger-export {}\n{}\n{}\n{}",
        env!("CARGO_PKG_VERSION"),
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

/// A string value, trimmed, unless it is empty.
fn nonempty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
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
