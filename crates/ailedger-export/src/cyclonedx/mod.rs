//! CycloneDX 1.6 / 1.7 JSON of a [`Subgraph`].
//!
//! Every artifact is one component (or, for MCP servers, one service) whose `bom-ref` is
//! its ledger id; attestations are not components but `externalReferences` of type
//! `attestation` on what they attest. Edges become, by kind:
//!
//! - `trained-on`: the model card's `modelParameters.datasets` (`{"ref": …}`);
//! - `derived-from`: `pedigree.ancestors` (the ancestor without its bom-ref; it is also a
//!   component of its own, and a reader merges the two by identity);
//! - `attests`: the attestation reference on the subject;
//! - every other consuming edge (`depends-on`, `runs`, `uses-tool`, `deploys`,
//!   `built-from`, `contains`, `built-by`): `dependencies[].dependsOn`, and, when it is
//!   not `depends-on`, an `ailedger:edge` property `"<kind> <to>"` on the consumer so the
//!   ledger's edge kind is not lost.
//!
//! Ordering is stable (components by id, properties in a fixed order, dependencies by
//! ref), and the serial number is derived from the content and the ledger state, so the
//! same subgraph gives byte-identical output.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

use ailedger_core::{ArtifactKind, EdgeKind, Severity, Sha256Digest};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::{
    Artifact, Held, Records, Subgraph,
    json::JsonOut,
    model::{fetch_by_id, finding, record_of},
};

pub mod xml;

/// The CycloneDX spec versions written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    V1_6,
    V1_7,
}

impl SpecVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V1_6 => "1.6",
            SpecVersion::V1_7 => "1.7",
        }
    }
}

impl std::str::FromStr for SpecVersion {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s {
            "1.6" => Ok(SpecVersion::V1_6),
            "1.7" => Ok(SpecVersion::V1_7),
            other => Err(crate::Error::SpecVersion(other.to_owned())),
        }
    }
}

/// The encodings written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The media type, without its `version` parameter.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/vnd.cyclonedx+json",
            Format::Xml => "application/vnd.cyclonedx+xml",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s {
            "json" => Ok(Format::Json),
            "xml" => Ok(Format::Xml),
            other => Err(crate::Error::Format(other.to_owned())),
        }
    }
}

/// Attributes an ingested CycloneDX component kept whole, written back as they were.
const KEPT: &[&str] = &[
    "author",
    "authors",
    "publisher",
    "description",
    "scope",
    "copyright",
    "cpe",
    "swid",
    "omniborId",
    "swhid",
    "tags",
    "manufacturer",
];

/// Attributes the writer states in CycloneDX terms (not repeated as `ailedger:attr.*`).
const MAPPED: &[&str] = &[
    "type",
    "bom-ref",
    "group",
    "hashes",
    "purl",
    "supplier",
    "licenses",
    "license",
    "externalReferences",
    "properties",
    "modelCard",
    "findings",
    "verification",
    "transport",
    "url",
    "command",
    "args",
    "endpoints",
    "trustZone",
    "data",
];

/// CycloneDX component types a `package` may keep from its ingested document.
const PACKAGE_TYPES: &[&str] = &[
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "cryptographic-asset",
];

/// The BOM of `sub` as a JSON value (parsed back from [`to_json`]).
pub fn bom(sub: &Subgraph, spec: SpecVersion) -> Value {
    serde_json::from_slice(&to_json(sub, spec)).unwrap_or(Value::Null)
}

/// The BOM of `sub` (whose artifacts are full records) as CycloneDX JSON, pretty-printed
/// (two-space indent), with a trailing newline.
pub fn to_json(sub: &Subgraph, spec: SpecVersion) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a `Vec` from held records cannot fail.
    let _ = write(sub, spec, &mut Held::new(sub), &mut JsonSink::new(&mut out));
    out
}

/// Writes the BOM of `sub` in `format` to `out`, element by element, reading the
/// artifacts' records from `records` a batch at a time (`sub.artifacts` may be
/// skeletons): neither the document nor every record is held at once.
pub fn write_to(
    sub: &Subgraph,
    spec: SpecVersion,
    format: Format,
    records: &mut dyn Records,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => write(sub, spec, records, &mut JsonSink::new(out)),
        Format::Xml => write(
            sub,
            spec,
            records,
            &mut XmlSink {
                out: Some(out),
                xml: None,
            },
        ),
    }
}

/// The BOM of `sub` (whose artifacts are full records) as CycloneDX XML.
pub fn to_xml(sub: &Subgraph, spec: SpecVersion) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a `Vec` from held records cannot fail.
    let _ = write_to(sub, spec, Format::Xml, &mut Held::new(sub), &mut out);
    out
}

/// The [`xml::XmlWriter`] as a [`Sink`]: made when the document begins.
struct XmlSink<W: Write> {
    out: Option<W>,
    xml: Option<xml::XmlWriter<W>>,
}

impl<W: Write> XmlSink<W> {
    fn xml(&mut self) -> io::Result<&mut xml::XmlWriter<W>> {
        self.xml
            .as_mut()
            .ok_or_else(|| io::Error::other("the XML document has not begun"))
    }
}

impl<W: Write> Sink for XmlSink<W> {
    fn begin(&mut self, spec: SpecVersion, serial: &str) -> io::Result<()> {
        let out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("the XML document began twice"))?;
        self.xml = Some(xml::XmlWriter::begin(out, spec, serial)?);
        Ok(())
    }
    fn metadata(&mut self, metadata: &Value) -> io::Result<()> {
        self.xml()?.metadata(metadata)
    }
    fn open(&mut self, section: &'static str) -> io::Result<()> {
        self.xml()?.open(section)
    }
    fn item(&mut self, v: &Value) -> io::Result<()> {
        self.xml()?.item(v)
    }
    fn close(&mut self) -> io::Result<()> {
        self.xml()?.close()
    }
    fn finish(&mut self) -> io::Result<()> {
        let xml = self
            .xml
            .take()
            .ok_or_else(|| io::Error::other("the XML document has not begun"))?;
        xml.finish()?.flush()
    }
}

/// How many records a writer reads at once.
const BATCH: usize = 512;

/// Where the BOM's elements go, one at a time: JSON or XML.
pub(crate) trait Sink {
    /// The document's start, up to and with its serial number.
    fn begin(&mut self, spec: SpecVersion, serial: &str) -> io::Result<()>;
    fn metadata(&mut self, metadata: &Value) -> io::Result<()>;
    /// Opens a top-level array: `components`, `services`, `dependencies`,
    /// `vulnerabilities`.
    fn open(&mut self, section: &'static str) -> io::Result<()>;
    /// One element of the open array.
    fn item(&mut self, v: &Value) -> io::Result<()>;
    fn close(&mut self) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()>;
}

/// Writes the BOM of `sub` to `sink`, element by element, reading the artifacts' records
/// from `records` a batch at a time: neither the document nor every record is held at
/// once.
pub(crate) fn write(
    sub: &Subgraph,
    spec: SpecVersion,
    records: &mut dyn Records,
    sink: &mut dyn Sink,
) -> io::Result<()> {
    let by_id: BTreeMap<&str, &Artifact> =
        sub.artifacts.iter().map(|a| (a.id.as_str(), a)).collect();
    let attesting: BTreeSet<&str> = sub.attestations.iter().map(|a| a.id.as_str()).collect();

    // Edges by consumer.
    let mut depends: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut other_edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut datasets: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut ancestors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut contained: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for e in &sub.edges {
        if !by_id.contains_key(e.from.as_str()) || !by_id.contains_key(e.to.as_str()) {
            continue;
        }
        match e.kind {
            EdgeKind::Attests | EdgeKind::Describes => {}
            EdgeKind::TrainedOn => {
                datasets.entry(&e.from).or_default().insert(&e.to);
            }
            EdgeKind::DerivedFrom => {
                ancestors.entry(&e.from).or_default().insert(&e.to);
            }
            EdgeKind::DependsOn => {
                depends.entry(&e.from).or_default().insert(&e.to);
            }
            kind => {
                depends.entry(&e.from).or_default().insert(&e.to);
                other_edges
                    .entry(&e.from)
                    .or_default()
                    .insert(format!("{kind} {}", e.to));
                if kind == EdgeKind::Contains && !e.paths.is_empty() {
                    let mut paths = e.paths.clone();
                    paths.sort();
                    contained.entry(&e.from).or_default().push(prop(
                        "ailedger:edge.paths",
                        json!({"to": e.to, "paths": paths}).to_string(),
                    ));
                }
            }
        }
    }
    // A model trained on something that is not a dataset keeps the edge as a dependency.
    for (model, ds) in &mut datasets {
        let not_data: Vec<&str> = ds
            .iter()
            .copied()
            .filter(|d| by_id.get(d).map(|a| a.kind) != Some(ArtifactKind::Dataset))
            .collect();
        for d in not_data {
            ds.remove(d);
            depends.entry(model).or_default().insert(d);
            other_edges
                .entry(model)
                .or_default()
                .insert(format!("trained-on {d}"));
        }
    }
    if by_id.get(sub.root.as_str()).map(|a| a.kind) != Some(ArtifactKind::Model) {
        // Only models have model cards: other consumers' trained-on edges are kept as
        // dependencies.
        for (from, ds) in std::mem::take(&mut datasets) {
            if by_id.get(from).map(|a| a.kind) == Some(ArtifactKind::Model) {
                datasets.insert(from, ds);
            } else {
                for d in ds {
                    depends.entry(from).or_default().insert(d);
                    other_edges
                        .entry(from)
                        .or_default()
                        .insert(format!("trained-on {d}"));
                }
            }
        }
    }

    // Attestation references by subject.
    let mut attest_refs: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut atts: Vec<&crate::Attestation> = sub.attestations.iter().collect();
    atts.sort_by(|a, b| a.id.cmp(&b.id));
    for a in atts {
        for s in &a.subjects {
            attest_refs
                .entry(s.as_str())
                .or_default()
                .push(attestation_ref(a));
        }
    }

    for props in contained.values_mut() {
        props.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    }
    let ctx = Ctx {
        contained: &contained,
        datasets: &datasets,
        ancestors: &ancestors,
        other_edges: &other_edges,
        attest_refs: &attest_refs,
    };
    let written = |id: &str, a: &Artifact| {
        !(attesting.contains(id) && a.kind == ArtifactKind::Attestation && id != sub.root)
    };

    sink.begin(spec, &serial(&shape_digest(sub, spec)))?;
    let mut metadata = Map::new();
    if !sub.ledger.time.is_empty() {
        metadata.insert("timestamp".into(), Value::from(sub.ledger.time.clone()));
    }
    metadata.insert(
        "tools".into(),
        json!({"components": [{
            "type": "application",
            "name": "ailedger",
            "version": env!("CARGO_PKG_VERSION"),
        }]}),
    );
    if by_id.contains_key(sub.root.as_str()) {
        ctx.each_record(&[sub.root.as_str()], records, |a, got| {
            metadata.insert("component".into(), ctx.component(a, got));
            Ok(())
        })?;
    }
    let mut props = vec![prop("ailedger:ledger.seq", sub.ledger.seq.to_string())];
    if let Some(h) = &sub.ledger.root_hash {
        props.push(prop("ailedger:ledger.root_hash", h.clone()));
    }
    metadata.insert("properties".into(), Value::Array(props));
    sink.metadata(&Value::Object(metadata))?;

    let components: Vec<&str> = by_id
        .iter()
        .filter(|(id, a)| **id != sub.root && written(id, a) && a.kind != ArtifactKind::McpServer)
        .map(|(id, _)| *id)
        .collect();
    sink.open("components")?;
    ctx.each_record(&components, records, |a, got| {
        sink.item(&ctx.component(a, got))
    })?;
    sink.close()?;
    let services: Vec<&str> = by_id
        .iter()
        .filter(|(id, a)| **id != sub.root && a.kind == ArtifactKind::McpServer)
        .map(|(id, _)| *id)
        .collect();
    if !services.is_empty() {
        sink.open("services")?;
        ctx.each_record(&services, records, |a, _| sink.item(&ctx.service(a)))?;
        sink.close()?;
    }
    // Dependencies: one entry per artifact written (root, components, services).
    sink.open("dependencies")?;
    for (id, _) in by_id.iter().filter(|(id, a)| written(id, a)) {
        let mut d = Map::new();
        d.insert("ref".into(), Value::from(*id));
        if let Some(on) = depends.get(id).filter(|s| !s.is_empty()) {
            let on: Vec<Value> = on.iter().map(|t| Value::from(*t)).collect();
            d.insert("dependsOn".into(), Value::Array(on));
        }
        sink.item(&Value::Object(d))?;
    }
    sink.close()?;
    let vulns = vulnerabilities(sub, &by_id);
    if !vulns.is_empty() {
        sink.open("vulnerabilities")?;
        for v in &vulns {
            sink.item(v)?;
        }
        sink.close()?;
    }
    sink.finish()
}

/// What the serial number is derived from: the writer's version, the spec version, the
/// ledger state (seq and Merkle root, which commit to every record) and the subgraph's
/// shape (its artifacts, edges, attestations and incidents, in a canonical order). Known
/// before any record is read, so the serial can lead a streamed document.
fn shape_digest(sub: &Subgraph, spec: SpecVersion) -> Sha256Digest {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(concat!("ailedger-export ", env!("CARGO_PKG_VERSION")));
    field(spec.as_str());
    field(&sub.ledger.seq.to_string());
    field(sub.ledger.root_hash.as_deref().unwrap_or(""));
    field(&sub.root);
    let mut ids: Vec<(&str, &str)> = sub
        .artifacts
        .iter()
        .map(|a| (a.id.as_str(), a.kind.as_str()))
        .collect();
    ids.sort_unstable();
    for (id, kind) in ids {
        field(id);
        field(kind);
    }
    let mut edges: Vec<&crate::Edge> = sub.edges.iter().collect();
    edges.sort_unstable();
    for e in edges {
        field(&e.from);
        field(e.kind.as_str());
        field(&e.to);
        for p in &e.paths {
            field(p);
        }
    }
    let mut atts: Vec<String> = sub
        .attestations
        .iter()
        .map(|a| serde_json::to_string(a).unwrap_or_default())
        .collect();
    atts.sort_unstable();
    let mut incidents: Vec<String> = sub
        .incidents
        .iter()
        .map(|i| serde_json::to_string(i).unwrap_or_default())
        .collect();
    incidents.sort_unstable();
    for x in atts.iter().chain(&incidents) {
        field(x);
    }
    Sha256Digest(h.finalize().into())
}

/// CycloneDX JSON, pretty-printed with a two-space indent, as an array's elements come.
pub(crate) struct JsonSink<'w>(JsonOut<'w>);

impl<'w> JsonSink<'w> {
    pub(crate) fn new(out: &'w mut dyn Write) -> Self {
        JsonSink(JsonOut::new(out))
    }
}

impl Sink for JsonSink<'_> {
    fn begin(&mut self, spec: SpecVersion, serial: &str) -> io::Result<()> {
        self.0.field("bomFormat", &Value::from("CycloneDX"))?;
        self.0.field("specVersion", &Value::from(spec.as_str()))?;
        self.0.field("serialNumber", &Value::from(serial))?;
        self.0.field("version", &Value::from(1))
    }

    fn metadata(&mut self, metadata: &Value) -> io::Result<()> {
        self.0.field("metadata", metadata)
    }

    fn open(&mut self, section: &'static str) -> io::Result<()> {
        self.0.open(section)
    }

    fn item(&mut self, v: &Value) -> io::Result<()> {
        self.0.item(v)
    }

    fn close(&mut self) -> io::Result<()> {
        self.0.close()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.0.finish()
    }
}

/// `urn:uuid:` from the first 16 bytes of a SHA-256, with the RFC 4122 variant and a
/// name-based version nibble (5), as the schema's pattern requires.
fn serial(d: &Sha256Digest) -> String {
    let hex = d.hex();
    let b = hex.as_bytes();
    let s = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).unwrap_or("0");
    let variant = match b[16] {
        b'0' | b'4' | b'8' | b'c' => '8',
        b'1' | b'5' | b'9' | b'd' => '9',
        b'2' | b'6' | b'a' | b'e' => 'a',
        _ => 'b',
    };
    format!(
        "urn:uuid:{}-{}-5{}-{}{}-{}",
        s(0..8),
        s(8..12),
        s(13..16),
        variant,
        s(17..20),
        s(20..32)
    )
}

/// `s` with what an IRI reference cannot hold percent-encoded: spaces and other ASCII
/// characters RFC 3987 excludes (`"<>\^`{|}`), controls, and a `%` that does not start
/// a percent-encoding. Anything else (non-ASCII letters included) is kept.
fn iri_safe(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '%' => {
                !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            }
            ' ' | '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' => true,
            c => c.is_control(),
        };
        if escaped {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn attestation_ref(a: &crate::Attestation) -> Value {
    let mut comment = format!(
        "verification: {}",
        a.verification.as_deref().unwrap_or("unknown")
    );
    if let Some(p) = &a.predicate_type {
        comment.push_str("; predicate type: ");
        comment.push_str(p);
    }
    let mut r = Map::new();
    r.insert("url".into(), Value::from(a.id.clone()));
    r.insert("comment".into(), Value::from(comment));
    r.insert("type".into(), Value::from("attestation"));
    if let Some(hex) = a.id.strip_prefix("sha256:") {
        r.insert("hashes".into(), json!([{"alg": "SHA-256", "content": hex}]));
    }
    Value::Object(r)
}

struct Ctx<'a> {
    /// `ailedger:edge.paths` properties by container.
    contained: &'a BTreeMap<&'a str, Vec<Value>>,
    datasets: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
    ancestors: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
    other_edges: &'a BTreeMap<&'a str, BTreeSet<String>>,
    attest_refs: &'a BTreeMap<&'a str, Vec<Value>>,
}

impl Ctx<'_> {
    /// Reads the records of `ids` a batch at a time, with those of their pedigree
    /// ancestors, and calls `each` on each in order with the batch's records.
    fn each_record(
        &self,
        ids: &[&str],
        records: &mut dyn Records,
        mut each: impl FnMut(&Artifact, &HashMap<String, Artifact>) -> io::Result<()>,
    ) -> io::Result<()> {
        for chunk in ids.chunks(BATCH) {
            let mut want: Vec<&str> = chunk.to_vec();
            for id in chunk {
                if let Some(anc) = self.ancestors.get(id) {
                    want.extend(anc.iter().copied());
                }
            }
            want.sort_unstable();
            want.dedup();
            let got = fetch_by_id(records, &want)?;
            for id in chunk {
                each(record_of(&got, id)?, &got)?;
            }
        }
        Ok(())
    }

    /// A component; `got` holds the records of its pedigree ancestors.
    fn component(&self, a: &Artifact, got: &HashMap<String, Artifact>) -> Value {
        let mut c = identity(a);
        c.insert("bom-ref".into(), Value::from(a.id.clone()));
        if let Some(s) = supplier(&a.attrs) {
            c.insert("supplier".into(), s);
        }
        for k in KEPT {
            if let Some(v) = a.attrs.get(*k) {
                c.insert((*k).into(), v.clone());
            }
        }
        if let Some(l) = licenses(&a.attrs) {
            c.insert("licenses".into(), l);
        }
        if let Some(anc) = self.ancestors.get(a.id.as_str()) {
            let list: Vec<Value> = anc
                .iter()
                .filter_map(|id| got.get(*id))
                .map(|x| Value::Object(identity(x)))
                .collect();
            c.insert("pedigree".into(), json!({ "ancestors": list }));
        }
        if let Some(r) = self.external_refs(a) {
            c.insert("externalReferences".into(), r);
        }
        if a.kind == ArtifactKind::Model {
            let card = self.model_card(a);
            if card.as_object().is_some_and(|m| !m.is_empty()) {
                c.insert("modelCard".into(), card);
            }
        }
        if a.kind == ArtifactKind::Dataset
            && let Some(d @ Value::Array(_)) = a.attrs.get("data")
        {
            c.insert("data".into(), d.clone());
        }
        c.insert("properties".into(), Value::Array(self.properties(a)));
        Value::Object(c)
    }

    fn service(&self, a: &Artifact) -> Value {
        let mut s = Map::new();
        s.insert("bom-ref".into(), Value::from(a.id.clone()));
        s.insert("name".into(), Value::from(name_of(a)));
        if let Some(v) = &a.version {
            s.insert("version".into(), Value::from(v.clone()));
        }
        if let Some(Value::String(u)) = a.attrs.get("url") {
            s.insert("endpoints".into(), json!([u]));
        } else if let Some(e @ Value::Array(_)) = a.attrs.get("endpoints") {
            s.insert("endpoints".into(), e.clone());
        }
        let zone = match a.attrs.get("trustZone").and_then(Value::as_str) {
            Some(z) => z.to_owned(),
            None if a.attrs.contains_key("url") => "remote".into(),
            None => "local".into(),
        };
        s.insert("trustZone".into(), Value::from(zone));
        if let Some(d @ Value::Array(_)) = a.attrs.get("data") {
            s.insert("data".into(), d.clone());
        }
        if let Some(r) = self.external_refs(a) {
            s.insert("externalReferences".into(), r);
        }
        s.insert("properties".into(), Value::Array(self.properties(a)));
        Value::Object(s)
    }

    fn model_card(&self, a: &Artifact) -> Value {
        let (mut card, mut params) = crate::model::model_card_parts(a);
        // The datasets are the ledger's trained-on edges, by bom-ref.
        if let Some(ds) = self.datasets.get(a.id.as_str()) {
            let list: Vec<Value> = ds.iter().map(|d| json!({ "ref": d })).collect();
            params.insert("datasets".into(), Value::Array(list));
        }
        if !params.is_empty() {
            card.insert("modelParameters".into(), Value::Object(params));
        }
        Value::Object(card)
    }

    fn external_refs(&self, a: &Artifact) -> Option<Value> {
        let mut refs: Vec<Value> = match a.attrs.get("externalReferences") {
            Some(Value::Array(r)) => r.clone(),
            _ => Vec::new(),
        };
        // As ingested, but a URL the schema's `iri-reference` format refuses (generators
        // leave `${project.url}` placeholders in) is percent-encoded, so the BOM stays
        // valid.
        for r in &mut refs {
            if let Some(Value::String(u)) = r.get_mut("url") {
                *u = iri_safe(u);
            }
        }
        if let Some(att) = self.attest_refs.get(a.id.as_str()) {
            refs.extend(att.iter().cloned());
        }
        (!refs.is_empty()).then_some(Value::Array(refs))
    }

    fn properties(&self, a: &Artifact) -> Vec<Value> {
        let mut p = vec![
            prop("ailedger:id", a.id.clone()),
            prop("ailedger:kind", a.kind.as_str()),
            prop("ailedger:first_seq", a.first_seq.to_string()),
        ];
        if let Some(n) = &a.name
            && *n != name_of(a)
        {
            p.push(prop("ailedger:name", n.clone()));
        }
        for al in &a.aliases {
            p.push(prop("ailedger:alias", al.clone()));
        }
        if let Some(es) = self.other_edges.get(a.id.as_str()) {
            for e in es {
                p.push(prop("ailedger:edge", e.clone()));
            }
        }
        if let Some(ps) = self.contained.get(a.id.as_str()) {
            p.extend(ps.iter().cloned());
        }
        if let Some(Value::String(v)) = a.attrs.get("verification") {
            p.push(prop("ailedger:verification", v.clone()));
        }
        if let Some(Value::Array(fs)) = a.attrs.get("findings") {
            for f in fs {
                p.push(prop("ailedger:finding", finding(f)));
            }
        }
        if a.kind == ArtifactKind::McpServer {
            for k in ["transport", "command"] {
                if let Some(Value::String(v)) = a.attrs.get(k) {
                    p.push(prop(&format!("ailedger:mcp.{k}"), v.clone()));
                }
            }
            if let Some(Value::Array(args)) = a.attrs.get("args") {
                p.push(prop(
                    "ailedger:mcp.args",
                    serde_json::to_string(args).unwrap_or_default(),
                ));
            }
        }
        for (k, v) in &a.attrs {
            if MAPPED.contains(&k.as_str()) || KEPT.contains(&k.as_str()) {
                continue;
            }
            let value = match v {
                Value::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            p.push(prop(&format!("ailedger:attr.{k}"), value));
        }
        // Properties an ingested document gave the component come back as they were,
        // except `ailedger:` ones (an earlier export's), which are stated afresh above.
        if let Some(Value::Array(ps)) = a.attrs.get("properties") {
            p.extend(
                ps.iter()
                    .filter(|x| {
                        x.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| !n.starts_with("ailedger:"))
                    })
                    .cloned(),
            );
        }
        p
    }
}

/// `type`, `name`, `group`, `version`, `hashes`, `purl` of an artifact: what identifies
/// it (also how a pedigree ancestor is written).
fn identity(a: &Artifact) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("type".into(), Value::from(component_type(a)));
    let full = name_of(a);
    let (group, name) = match a.attrs.get("group").and_then(Value::as_str) {
        Some(g) if !g.is_empty() && full.starts_with(&format!("{g}/")) => (
            Some(g.to_owned()),
            full.get(g.len() + 1..).unwrap_or(&full).to_owned(),
        ),
        _ => (None, full),
    };
    if let Some(g) = group {
        c.insert("group".into(), Value::from(g));
    }
    c.insert("name".into(), Value::from(name));
    if let Some(v) = &a.version {
        c.insert("version".into(), Value::from(v.clone()));
    }
    let hashes = hashes(a);
    if !hashes.is_empty() {
        c.insert("hashes".into(), Value::Array(hashes));
    }
    let purl = if a.id.starts_with("pkg:") {
        Some(a.id.clone())
    } else {
        a.aliases.iter().find(|x| x.starts_with("pkg:")).cloned()
    };
    if let Some(p) = purl {
        c.insert("purl".into(), Value::from(p));
    }
    c
}

/// The name written for an artifact. An artifact known by a named ref
/// (`<kind>:<name>[@<version>]`) whose ref its ledger name does not spell (a deployment
/// `support-bot` in env `prod` is `deployment:prod/support-bot`) is written with the
/// ref's name, so that a reader derives the same ref; its ledger name is then an
/// `ailedger:name` property.
fn name_of(a: &Artifact) -> String {
    let ledger = a.name.clone().unwrap_or_else(|| a.id.clone());
    if ailedger_core::identity::is_identified(&a.id) {
        return ledger;
    }
    let Some(rest) =
        a.id.strip_prefix(a.kind.as_str())
            .and_then(|r| r.strip_prefix(':'))
    else {
        return ledger;
    };
    match &a.version {
        Some(v) => rest
            .strip_suffix(v.as_str())
            .and_then(|r| r.strip_suffix('@'))
            .map(str::to_owned)
            .unwrap_or(ledger),
        None => rest.to_owned(),
    }
}

fn component_type(a: &Artifact) -> &'static str {
    match a.kind {
        ArtifactKind::Model => "machine-learning-model",
        ArtifactKind::Dataset => "data",
        ArtifactKind::File
        | ArtifactKind::McpConfig
        | ArtifactKind::Sbom
        | ArtifactKind::Attestation
        | ArtifactKind::Source => "file",
        ArtifactKind::Package => {
            let t = a.attrs.get("type").and_then(Value::as_str).unwrap_or("");
            PACKAGE_TYPES
                .iter()
                .find(|x| **x == t)
                .copied()
                .unwrap_or("library")
        }
        ArtifactKind::Deployment
        | ArtifactKind::Builder
        | ArtifactKind::Environment
        | ArtifactKind::McpServer => "application",
    }
}

/// `attrs.hashes` (`{alg: hex}`), and the id's SHA-256 when the id is a digest.
fn hashes(a: &Artifact) -> Vec<Value> {
    let mut hs: BTreeMap<String, String> = BTreeMap::new();
    if let Some(Value::Object(m)) = a.attrs.get("hashes") {
        for (alg, v) in m {
            if let Some(hex) = v.as_str() {
                hs.insert(alg.clone(), hex.to_ascii_lowercase());
            }
        }
    }
    if !hs.contains_key("SHA-256") {
        // Only the id's: a digest alias of a named artifact would change its identity
        // when the BOM is read back.
        if let Some(hex) = a.id.strip_prefix("sha256:") {
            hs.insert("SHA-256".into(), hex.to_owned());
        }
    }
    hs.into_iter()
        .map(|(alg, content)| json!({"alg": alg, "content": content}))
        .collect()
}

/// The supplier: a CycloneDX organizational entity as ingested, or a name (an SPDX
/// `Organization: X` / `Person: X` or a registered string).
fn supplier(attrs: &Map<String, Value>) -> Option<Value> {
    match attrs.get("supplier")? {
        Value::Object(m) => Some(Value::Object(m.clone())),
        Value::String(s) => {
            let name = s
                .strip_prefix("Organization:")
                .or_else(|| s.strip_prefix("Person:"))
                .unwrap_or(s)
                .trim();
            (!name.is_empty() && name != "NOASSERTION").then(|| json!({ "name": name }))
        }
        _ => None,
    }
}

/// Licences: CycloneDX `licenses` as ingested, else a registered `license` expression.
fn licenses(attrs: &Map<String, Value>) -> Option<Value> {
    match attrs.get("licenses") {
        Some(l @ Value::Array(a)) if !a.is_empty() => return Some(l.clone()),
        _ => {}
    }
    match attrs.get("license")? {
        Value::String(s) if !s.is_empty() && s != "NOASSERTION" && s != "NONE" => {
            Some(json!([{ "expression": s }]))
        }
        _ => None,
    }
}

/// Open and acknowledged incidents as CycloneDX VEX.
fn vulnerabilities(sub: &Subgraph, by_id: &BTreeMap<&str, &Artifact>) -> Vec<Value> {
    let mut incidents: Vec<&crate::IncidentVex> = sub.incidents.iter().collect();
    incidents.sort_by_key(|i| i.id);
    incidents
        .into_iter()
        .filter_map(|i| {
            let affects: BTreeSet<&str> = i
                .affects
                .iter()
                .map(String::as_str)
                .filter(|a| by_id.contains_key(a))
                .collect();
            if affects.is_empty() {
                return None;
            }
            let state = match i.state.as_str() {
                "acknowledged" => "exploitable",
                _ => "in_triage",
            };
            let severity = match i.severity {
                Severity::Info => "info",
                Severity::Low => "low",
                Severity::Medium => "medium",
                Severity::High => "high",
                Severity::Critical => "critical",
            };
            let mut v = Map::new();
            v.insert(
                "bom-ref".into(),
                Value::from(format!("ailedger:incident:{}", i.id)),
            );
            v.insert(
                "id".into(),
                Value::from(
                    i.advisory
                        .clone()
                        .unwrap_or_else(|| format!("AILEDGER-INCIDENT-{}", i.id)),
                ),
            );
            v.insert("source".into(), json!({"name": "ailedger"}));
            v.insert(
                "ratings".into(),
                json!([{"severity": severity, "method": "other"}]),
            );
            v.insert("description".into(), Value::from(i.reason.clone()));
            if !i.opened.is_empty() {
                v.insert("published".into(), Value::from(i.opened.clone()));
            }
            v.insert(
                "analysis".into(),
                json!({"state": state, "detail": format!("ailedger incident {} is {}", i.id, i.state)}),
            );
            let affects: Vec<Value> = affects.iter().map(|a| json!({ "ref": a })).collect();
            v.insert("affects".into(), Value::Array(affects));
            v.insert(
                "properties".into(),
                json!([
                    {"name": "ailedger:incident.id", "value": i.id.to_string()},
                    {"name": "ailedger:incident.state", "value": i.state},
                ]),
            );
            Some(Value::Object(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::iri_safe;

    #[test]
    fn urls_are_made_iri_references() {
        for (given, want) in [
            (
                "https://github.com/FasterXML/${project.artifactId}/issues",
                "https://github.com/FasterXML/$%7Bproject.artifactId%7D/issues",
            ),
            ("https://x.test/a b", "https://x.test/a%20b"),
            ("https://x.test/%20ok%zz", "https://x.test/%20ok%25zz"),
            ("https://x.test/é?q=1#f", "https://x.test/é?q=1#f"),
            ("https://x.test/a\u{7}", "https://x.test/a%07"),
        ] {
            assert_eq!(iri_safe(given), want, "{given}");
        }
    }
}
