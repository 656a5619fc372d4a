//! Checks CycloneDX JSON (1.2–1.7), SPDX 2.2 and 2.3 JSON and SPDX 3.0 JSON-LD against
//! their official JSON schemas (vendored under `schemas/`, see `schemas/SOURCES.md`) and
//! reports each deviation as a [`Warning`](crate::Warning) at its JSON pointer. SPDX 3
//! has one schema, 3.0.1's, which every SPDX 3.0 document is checked against (a 3.0.0
//! document deviates at `/@context`, which that schema fixes to the 3.0.1 context).
//!
//! The parsers decide what is accepted: they refuse what would make the graph wrong
//! (dangling refs, bad hash lengths…) and read past what real tools commonly get wrong.
//! The schema check adds what the parsers do not look at — an unknown property, a
//! misspelt enum value, a malformed field ailedger keeps only as an attribute — so an
//! auditor sees that a document deviates, and where, without the ingest failing.
//! Validators are compiled once per schema and reused; no schema is fetched.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, LazyLock, Mutex, OnceLock},
};

use jsonschema::{Registry, Validator};
use serde_json::Value;

use crate::{Format, Warning};

/// Schema deviations reported per document; the rest are counted.
const MAX_REPORTED: usize = 20;
/// Longest message kept of one deviation (some quote the whole offending value).
const MAX_MESSAGE: usize = 300;

/// Where the CycloneDX schemas' relative `$ref`s point.
const CDX_BASE: &str = "http://cyclonedx.org/schema/";

const CDX_REFERENCED: &[(&str, &str)] = &[
    (
        "spdx.SNAPSHOT.schema.json",
        include_str!("../../../schemas/cyclonedx/spdx.SNAPSHOT.schema.json"),
    ),
    (
        "jsf-0.82.SNAPSHOT.schema.json",
        include_str!("../../../schemas/cyclonedx/jsf-0.82.SNAPSHOT.schema.json"),
    ),
    (
        "cryptography-defs.SNAPSHOT.schema.json",
        include_str!("../../../schemas/cyclonedx/cryptography-defs.SNAPSHOT.schema.json"),
    ),
];

const CDX: &[(&str, &str)] = &[
    (
        "1.2",
        include_str!("../../../schemas/cyclonedx/bom-1.2.schema.json"),
    ),
    (
        "1.3",
        include_str!("../../../schemas/cyclonedx/bom-1.3.schema.json"),
    ),
    (
        "1.4",
        include_str!("../../../schemas/cyclonedx/bom-1.4.schema.json"),
    ),
    (
        "1.5",
        include_str!("../../../schemas/cyclonedx/bom-1.5.schema.json"),
    ),
    (
        "1.6",
        include_str!("../../../schemas/cyclonedx/bom-1.6.schema.json"),
    ),
    (
        "1.7",
        include_str!("../../../schemas/cyclonedx/bom-1.7.schema.json"),
    ),
];

const SPDX_2_2: &str = include_str!("../../../schemas/spdx/spdx-2.2.schema.json");
const SPDX_2_3: &str = include_str!("../../../schemas/spdx/spdx-2.3.schema.json");
const SPDX_3_0_1: &str = include_str!("../../../schemas/spdx/spdx-3.0.1.schema.json");

type Slot = OnceLock<Option<Validator>>;

static CDX_VALIDATORS: [Slot; 6] = [const { OnceLock::new() }; 6];
static SPDX_2_2_VALIDATOR: Slot = OnceLock::new();
static SPDX_2_3_VALIDATOR: Slot = OnceLock::new();
static SPDX_3_0_1_VALIDATOR: Slot = OnceLock::new();

fn compile(schema: &str, with_cdx_refs: bool) -> Option<Validator> {
    let schema: Value = serde_json::from_str(schema).ok()?;
    // CycloneDX: the `format`s are checked, as the specification's own validator does
    // (without them, JSF's `algorithm`, a `oneOf` of an enum and a `uri` string, is
    // matched twice by "ES256" and every signature deviates; and a malformed
    // `date-time` goes unnoticed).
    let opts = jsonschema::options().should_validate_formats(with_cdx_refs);
    if with_cdx_refs {
        let registry = cdx_registry(None)?;
        opts.with_registry(&registry).build(&schema).ok()
    } else {
        opts.build(&schema).ok()
    }
}

/// The schemas the CycloneDX schemas reference, under the URIs they reference them by,
/// plus `root` (a `$id` and its schema) if given. Nothing else resolves: no schema is
/// fetched.
fn cdx_registry(root: Option<(String, Value)>) -> Option<Registry<'static>> {
    let mut builder = Registry::new();
    if let Some((id, schema)) = root {
        builder = builder.add(id, schema).ok()?;
    }
    for (name, text) in CDX_REFERENCED {
        let contents: Value = serde_json::from_str(text).ok()?;
        builder = builder.add(format!("{CDX_BASE}{name}"), contents).ok()?;
    }
    builder.prepare().ok()
}

/// The validator for a document's format, if ailedger has its schema.
fn validator(format: &Format) -> Option<&'static Validator> {
    match format {
        Format::CycloneDx { version, .. } => {
            let i = CDX.iter().position(|(v, _)| v == version)?;
            let (_, text) = CDX.get(i)?;
            CDX_VALIDATORS
                .get(i)?
                .get_or_init(|| compile(text, true))
                .as_ref()
        }
        Format::Spdx2 { version } if version == "2.2" => SPDX_2_2_VALIDATOR
            .get_or_init(|| compile(SPDX_2_2, false))
            .as_ref(),
        Format::Spdx2 { version } if version == "2.3" => SPDX_2_3_VALIDATOR
            .get_or_init(|| compile(SPDX_2_3, false))
            .as_ref(),
        // Draft 2020-12, from the schema's `$schema`; it has no `$ref` outside itself.
        Format::Spdx3 => SPDX_3_0_1_VALIDATOR
            .get_or_init(|| compile(SPDX_3_0_1, false))
            .as_ref(),
        _ => None,
    }
}

/// Compiles the CycloneDX validators now (5–20 ms and 5–8 MB resident each), so that the
/// first document of each version does not wait for it. A server calls this once in the
/// background.
pub fn warm_up() {
    for (version, _) in CDX {
        let _ = validator(&Format::CycloneDx {
            version: (*version).to_owned(),
            encoding: crate::Encoding::Json,
        });
    }
    // The SPDX validators are compiled on first use. SPDX 2.2 and 2.3 compile in about
    // 2 and 20 ms and keep 3 and 6 MB. SPDX 3.0.1 compiles in 40–90 ms but keeps about
    // 16 MB, two or three CycloneDX validators' worth, which warming it up would hold in
    // every server whether or not it ever ingests SPDX 3; its first document waits for
    // it once per process, and on the second core, beside the parser. (Measured in
    // release with jsonschema 0.61: compile time and VmRSS delta, one fresh process per
    // validator, on two busy cores.)
}

/// Whether ailedger has a schema for `format`.
pub(crate) fn has_schema(format: &Format) -> bool {
    validator(format).is_some()
}

/// Every deviation of `doc` from its format's schema, as warnings (at most
/// [`MAX_REPORTED`], then one counting the rest).
pub(crate) fn deviations(format: &Format, doc: &Value) -> Vec<Warning> {
    deviations_on(format, doc, 1)
}

/// [`deviations`], on `threads` threads where the document is checked in parts.
pub(crate) fn deviations_on(format: &Format, doc: &Value, threads: usize) -> Vec<Warning> {
    if matches!(format, Format::Spdx3)
        && let Some(w) = spdx3_by_elements(doc, threads)
    {
        return w;
    }
    let Some(v) = validator(format) else {
        return Vec::new();
    };
    let mut d = Deviations::new(format);
    d.check(v, doc, "");
    d.finish()
}

/// The deviations of CycloneDX XML, converted into the JSON document shape (`doc`, by
/// [`crate::cyclonedx_xml`]), from the JSON schema of its spec `version`, limited to
/// those the conversion keeps faithfully: checks of a string's value (`enum`, `const`,
/// `pattern`, `format`, lengths), a missing required property, and an element
/// repeated where one is allowed (an array where the schema wants a single value).
/// The conversion does not know the XSD's types or list wrappers (every value is a
/// string, `<references><reference>…` is an object), so the structural deviations it
/// would produce on valid XML are not reported: docs/formats.md has the measurement.
pub(crate) fn xml_deviations(version: &str, doc: &Value) -> Vec<Warning> {
    let format = Format::CycloneDx {
        version: version.to_owned(),
        encoding: crate::Encoding::Json,
    };
    let Some(v) = validator(&format) else {
        return Vec::new();
    };
    let mut d = Deviations::new(&Format::CycloneDx {
        version: version.to_owned(),
        encoding: crate::Encoding::Xml,
    });
    if v.is_valid(doc) {
        return Vec::new();
    }
    for e in v.iter_errors(doc) {
        if kept_for_xml(&e) {
            d.add(&e.instance_path().to_string(), &shorten(&e.to_string()));
        }
    }
    d.finish()
}

/// Whether a deviation of converted XML is one [`xml_deviations`] reports: a `oneOf` or
/// `anyOf` fails that way when each of its alternatives does.
fn kept_for_xml(e: &jsonschema::ValidationError<'_>) -> bool {
    use jsonschema::error::ValidationErrorKind as K;
    match e.kind() {
        K::Enum { .. }
        | K::Constant { .. }
        | K::Pattern { .. }
        | K::Format { .. }
        | K::MinLength { .. }
        | K::MaxLength { .. }
        | K::Required { .. } => true,
        K::Type { .. } => e.instance().is_array(),
        K::OneOfNotValid { context } | K::AnyOf { context } => {
            !context.is_empty() && context.iter().all(|branch| branch.iter().any(kept_for_xml))
        }
        _ => false,
    }
}

/// `msg` cut to about [`MAX_MESSAGE`] bytes in the middle: a message that quotes the
/// offending value first ("{…} is not valid under any of the schemas listed in the
/// 'oneOf' keyword") keeps the words that say what is wrong.
fn shorten(msg: &str) -> String {
    if msg.len() <= MAX_MESSAGE {
        return msg.to_owned();
    }
    let tail = MAX_MESSAGE / 3;
    let mut head_end = MAX_MESSAGE - tail;
    while !msg.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = msg.len() - tail;
    while !msg.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!(
        "{}…{}",
        msg.get(..head_end).unwrap_or_default(),
        msg.get(tail_start..).unwrap_or_default()
    )
}

/// The name of the schema a document of `format` is checked against, as warnings say it.
fn schema_name(format: &Format) -> String {
    match format {
        // Checked against the 3.0.1 schema whichever 3.0.x the document declares.
        Format::Spdx3 => "SPDX 3.0.1".to_owned(),
        other => other.to_string(),
    }
}

/// Deviations gathered from one document, possibly checked in parts.
pub(crate) struct Deviations {
    format: String,
    out: Vec<Warning>,
    n: usize,
}

impl Deviations {
    pub(crate) fn new(format: &Format) -> Self {
        Deviations {
            format: schema_name(format),
            out: Vec::new(),
            n: 0,
        }
    }

    /// Checks `doc` against `v`; `prefix` is the JSON pointer of `doc` in the document.
    pub(crate) fn check(&mut self, v: &Validator, doc: &Value, prefix: &str) {
        // Most documents conform; answering yes/no is much cheaper than collecting
        // errors.
        if v.is_valid(doc) {
            return;
        }
        for e in v.iter_errors(doc) {
            let msg = shorten(&e.to_string());
            self.add(&format!("{prefix}{}", e.instance_path()), &msg);
        }
    }

    /// Records one deviation at `pointer` (empty: the document).
    pub(crate) fn add(&mut self, pointer: &str, msg: &str) {
        self.n += 1;
        if self.n > MAX_REPORTED {
            return;
        }
        self.out.push(Warning {
            pointer: if pointer.is_empty() {
                "/".to_owned()
            } else {
                pointer.to_owned()
            },
            message: format!("does not match the {} schema: {msg}", self.format),
        });
    }

    /// Adds the deviations of a part checked after those so far.
    fn append(&mut self, other: Deviations) {
        let room = MAX_REPORTED.saturating_sub(self.out.len());
        self.out.extend(other.out.into_iter().take(room));
        self.n += other.n;
    }

    pub(crate) fn finish(mut self) -> Vec<Warning> {
        if self.n > MAX_REPORTED {
            self.out.push(Warning {
                pointer: "/".to_owned(),
                message: format!(
                    "{} more deviations from the {} schema",
                    self.n - MAX_REPORTED,
                    self.format
                ),
            });
        }
        self.out
    }
}

/// A part of a CycloneDX document that can be checked on its own.
#[derive(Clone, Copy)]
pub(crate) enum CdxPart {
    /// The whole document (with its large arrays emptied).
    Bom,
    /// One element of `components`.
    Component,
    /// One element of `dependencies`.
    Dependency,
}

static CDX_COMPONENT_VALIDATORS: [Slot; 6] = [const { OnceLock::new() }; 6];
static CDX_DEPENDENCY_VALIDATORS: [Slot; 6] = [const { OnceLock::new() }; 6];

/// The validator of one part of a CycloneDX document of spec `version`: for a document
/// too large to hold as one tree, the skeleton and each component and dependency are
/// checked separately (what `uniqueItems` says across elements is checked by the
/// caller).
pub(crate) fn cdx_part(version: &str, part: CdxPart) -> Option<&'static Validator> {
    let i = CDX.iter().position(|(v, _)| *v == version)?;
    let (_, text) = CDX.get(i)?;
    let (slots, def) = match part {
        CdxPart::Bom => {
            return validator(&Format::CycloneDx {
                version: version.to_owned(),
                encoding: crate::Encoding::Json,
            });
        }
        CdxPart::Component => (&CDX_COMPONENT_VALIDATORS, "component"),
        CdxPart::Dependency => (&CDX_DEPENDENCY_VALIDATORS, "dependency"),
    };
    slots
        .get(i)?
        .get_or_init(|| compile_definition(text, def))
        .as_ref()
}

/// A validator of `#/definitions/<def>` of a CycloneDX schema.
fn compile_definition(schema: &str, def: &str) -> Option<Validator> {
    let bom: Value = serde_json::from_str(schema).ok()?;
    let id = bom.get("$id")?.as_str()?.to_owned();
    let wrapper = serde_json::json!({
        "$schema": bom.get("$schema")?,
        "$ref": format!("{id}#/definitions/{def}"),
    });
    let registry = cdx_registry(Some((id, bom)))?;
    jsonschema::options()
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&wrapper)
        .ok()
}

/// The SPDX 3.0.1 schema as a value, and the classes its `AnyClass` lists.
struct Spdx3 {
    schema: Value,
    classes: HashSet<String>,
}

static SPDX3: LazyLock<Option<Spdx3>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SPDX_3_0_1).ok()?;
    let classes = schema
        .pointer("/$defs/AnyClass/anyOf")?
        .as_array()?
        .iter()
        .filter_map(|b| b.get("$ref")?.as_str()?.strip_prefix("#/$defs/"))
        .map(str::to_owned)
        .collect();
    Some(Spdx3 { schema, classes })
});

/// Elements of an SPDX 3 `@graph` a thread checks at a time.
const BLOCK: usize = 512;

/// Classes whose elements get a validator of their own (each compiles in about 5 ms
/// and keeps about 1.4 MB); elements of further classes share [`SPDX3_ELEMENT`].
const MAX_CLASS_VALIDATORS: usize = 16;

/// Validators of one `@graph` element of one class, compiled on first use.
static SPDX3_CLASSES: LazyLock<Mutex<HashMap<String, Option<Arc<Validator>>>>> =
    LazyLock::new(Default::default);

/// The validator of a `@graph` element of `class` (a name `AnyClass` lists): the
/// schema's item schema with `AnyClass` narrowed to `class`. `None` once
/// [`MAX_CLASS_VALIDATORS`] are kept, or if it does not compile.
fn spdx3_class(class: &str) -> Option<Arc<Validator>> {
    let mut cache = SPDX3_CLASSES.lock().ok()?;
    if let Some(v) = cache.get(class) {
        return v.clone();
    }
    if cache.len() >= MAX_CLASS_VALIDATORS {
        return None;
    }
    let spdx3 = SPDX3.as_ref()?;
    let wrapper = serde_json::json!({
        "$schema": spdx3.schema.get("$schema")?,
        "$defs": spdx3.schema.get("$defs")?,
        "type": "object",
        "$ref": format!("#/$defs/{class}"),
        "unevaluatedProperties": false,
    });
    let v = jsonschema::options()
        .should_validate_formats(false)
        .build(&wrapper)
        .ok()
        .map(Arc::new);
    cache.insert(class.to_owned(), v.clone());
    v
}

/// The validator of any one `@graph` element: the schema's item schema with its `anyOf`
/// of every class replaced by a dispatch on `type` (`if` it names class C, `then` C;
/// `else`, when it names none, the whole `anyOf`). One validator for every class (about
/// 5 MB), but slower per element than a class's own (its `unevaluatedProperties` looks
/// through every `if`). Compiled on first use.
static SPDX3_ELEMENT: LazyLock<Option<Validator>> = LazyLock::new(|| {
    let spdx3 = SPDX3.as_ref()?;
    let mut classes: Vec<&String> = spdx3.classes.iter().collect();
    classes.sort();
    let mut dispatch: Vec<Value> = classes
        .iter()
        .map(|c| {
            serde_json::json!({
                "if": {"properties": {"type": {"const": c}}, "required": ["type"]},
                "then": {"$ref": format!("#/$defs/{c}")},
            })
        })
        .collect();
    dispatch.push(serde_json::json!({
        "if": {"properties": {"type": {"enum": classes}}, "required": ["type"]},
        "else": {"$ref": "#/$defs/AnyClass"},
    }));
    let wrapper = serde_json::json!({
        "$schema": spdx3.schema.get("$schema")?,
        "$defs": spdx3.schema.get("$defs")?,
        "type": "object",
        "allOf": dispatch,
        "unevaluatedProperties": false,
    });
    jsonschema::options()
        .should_validate_formats(false)
        .build(&wrapper)
        .ok()
});

/// The check of an SPDX 3 document of the usual shape, `{"@context", "@graph": […]}`,
/// an element at a time; `None` for any other shape, or a document whose top level
/// deviates, which the whole schema then checks.
///
/// Each `AnyClass` branch fixes `type` to its own class name, so an element whose
/// `type` names one of them can only match that branch: checking it against that class
/// alone (with the same `unevaluatedProperties: false`) gives the same verdict, at a
/// fraction of the cost, and its deviations at the element's own pointer instead of
/// at `/` (where the top-level `oneOf` reports any element's fault). An element of any
/// other `type` is checked against `AnyClass`, as the schema does. With a valid top
/// level, the document is valid exactly when every element is. A test holds both
/// validators to the whole schema's verdict.
///
/// The elements are checked in `threads` runs of consecutive elements at once.
fn spdx3_by_elements(doc: &Value, threads: usize) -> Option<Vec<Warning>> {
    let obj = doc.as_object()?;
    let Some(Value::Array(graph)) = obj.get("@graph") else {
        return None;
    };
    let top: serde_json::Map<String, Value> = obj
        .iter()
        .map(|(k, v)| match k.as_str() {
            "@graph" => (k.clone(), Value::Array(Vec::new())),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    if !validator(&Format::Spdx3)?.is_valid(&Value::Object(top)) {
        return None;
    }
    let run = |start: usize, elements: &[Value]| -> Option<Deviations> {
        let spdx3 = SPDX3.as_ref()?;
        let any = SPDX3_ELEMENT.as_ref()?;
        let mut d = Deviations::new(&Format::Spdx3);
        let mut ptr = String::from("/@graph/");
        let len = ptr.len();
        for (i, e) in elements.iter().enumerate() {
            let own = match e.get("type").and_then(Value::as_str) {
                Some(t) if spdx3.classes.contains(t) => spdx3_class(t),
                _ => None,
            };
            let v = own.as_deref().unwrap_or(any);
            if !v.is_valid(e) {
                ptr.truncate(len);
                ptr.push_str(itoa::Buffer::new().format(start + i));
                d.check(v, e, &ptr);
            }
        }
        Some(d)
    };
    // Threads take blocks of elements in turn (elements differ in cost: packages
    // take longer than relationships) and the blocks' deviations join in order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || -> Option<Vec<(usize, Deviations)>> {
        let mut done = Vec::new();
        loop {
            let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(elements) = graph.chunks(BLOCK).nth(b) else {
                return Some(done);
            };
            done.push((b, run(b * BLOCK, elements)?));
        }
    };
    let mut runs: Vec<(usize, Deviations)> = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work()?;
        for h in others {
            all.extend(h.join().ok()??);
        }
        Some(all)
    })?;
    runs.sort_by_key(|(b, _)| *b);
    let runs = runs.into_iter().map(|(_, d)| Some(d));
    let mut all = Deviations::new(&Format::Spdx3);
    for d in runs {
        all.append(d?);
    }
    Some(all.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checked an element at a time (by the class validators or the shared one), an
    /// SPDX 3 document gets the whole schema's verdict: over every SPDX 3 example, and over copies in which one element at a
    /// time gains an unknown property, loses its `spdxId`, has a property of the wrong
    /// type or an unknown `type`.
    #[test]
    fn spdx3_elements_checked_alone_give_the_whole_verdict() {
        let whole = validator(&Format::Spdx3).unwrap();
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/spdx3"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/spdx"),
        ];
        let mut docs = Vec::new();
        for dir in dirs {
            for e in std::fs::read_dir(dir).unwrap() {
                let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
                if let Ok(v) = serde_json::from_str::<Value>(&text)
                    && v.get("@graph").is_some()
                {
                    docs.push(v);
                }
            }
        }
        assert!(docs.len() >= 8, "{}", docs.len());
        let (mut checked, mut invalid) = (0, 0);
        for doc in &docs {
            // 3.0.0 documents name the 3.0.0 context; give them 3.0.1's so that the
            // top level passes and the elements are what is compared.
            let mut doc = doc.clone();
            doc["@context"] = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld".into();
            let n = doc["@graph"].as_array().unwrap().len();
            let mut variants = vec![doc.clone()];
            for i in 0..n {
                let mutations: [fn(&mut Value); 4] = [
                    |e| e["x_unknown"] = 1.into(),
                    |e| {
                        e.as_object_mut().unwrap().remove("spdxId");
                    },
                    |e| e["name"] = 7.into(),
                    |e| e["type"] = "NoSuchClass".into(),
                ];
                for m in mutations {
                    let mut d = doc.clone();
                    m(&mut d["@graph"][i]);
                    variants.push(d);
                }
            }
            let any = SPDX3_ELEMENT.as_ref().unwrap();
            for d in variants {
                let parts = spdx3_by_elements(&d, 1).unwrap();
                assert_eq!(parts.is_empty(), whole.is_valid(&d), "{d}");
                // In runs on several threads, the same deviations in the same order.
                assert_eq!(spdx3_by_elements(&d, 3).unwrap(), parts);
                // The shared validator too, whatever classes have their own.
                let all = d["@graph"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| any.is_valid(e));
                assert_eq!(all, whole.is_valid(&d), "{d}");
                checked += 1;
                invalid += usize::from(!parts.is_empty());
            }
        }
        assert!(checked > 100 && invalid > 50, "{checked} {invalid}");

        // A graph of several blocks, deviations spread over them: threads agree.
        let is_package = |e: &Value| e["type"] == "software_Package";
        let mut big = docs
            .iter()
            .find(|d| d["@graph"].as_array().unwrap().iter().any(is_package))
            .unwrap()
            .clone();
        big["@context"] = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld".into();
        let graph = big["@graph"].as_array().unwrap();
        let template = graph.iter().find(|e| is_package(e)).unwrap().clone();
        assert!(spdx3_by_elements(&big, 1).unwrap().is_empty());
        for i in 0..1200 {
            let mut e = template.clone();
            e["spdxId"] = format!("https://example.com/p/{i}").into();
            if i % 100 == 7 {
                e["x_unknown"] = i.into();
            }
            big["@graph"].as_array_mut().unwrap().push(e);
        }
        let one = spdx3_by_elements(&big, 1).unwrap();
        assert_eq!(one.len(), 12, "{one:?}");
        assert!(!whole.is_valid(&big));
        assert_eq!(spdx3_by_elements(&big, 2).unwrap(), one);
        assert_eq!(spdx3_by_elements(&big, 3).unwrap(), one);
    }

    #[test]
    fn long_messages_keep_their_head_and_tail() {
        let short = "\"x\" is not one of [\"a\"]";
        assert_eq!(shorten(short), short);
        // Multi-byte characters on both cut points.
        let value = "é".repeat(400);
        let msg = format!(
            "\"{value}\" is not valid under any of the schemas listed in the 'oneOf' keyword"
        );
        let got = shorten(&msg);
        assert!(got.len() <= MAX_MESSAGE + '…'.len_utf8(), "{}", got.len());
        assert!(got.starts_with("\"éé"), "{got}");
        assert!(got.contains('…'), "{got}");
        assert!(got.ends_with("listed in the 'oneOf' keyword"), "{got}");
    }
}
