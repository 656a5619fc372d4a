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

use std::sync::OnceLock;

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
    let opts = jsonschema::options().should_validate_formats(false);
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
    let Some(v) = validator(format) else {
        return Vec::new();
    };
    let mut d = Deviations::new(format);
    d.check(v, doc, "");
    d.finish()
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
        .should_validate_formats(false)
        .with_registry(&registry)
        .build(&wrapper)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
