//! CycloneDX 1.6 / 1.7 XML of the same BOM the JSON writer makes, written element by
//! element from the JSON-shaped values the JSON writer builds.
//!
//! [`XmlWriter`] takes one top-level element at a time (the metadata, then each item of
//! a section) and writes it as soon as it is given: the whole document is never held as
//! a tree. [`from_json`] drives it over a whole JSON BOM.
//!
//! The mapping follows the official XSDs (`schemas/cyclonedx/bom-1.6.xsd`, `bom-1.7.xsd`):
//!
//! - children are written in the order of the XSD's `xs:sequence`, whatever the JSON key
//!   order (the tables below list, per type, the JSON key, the XML name and the shape);
//! - what the XSD makes an attribute is one (`type`, `bom-ref`, `mime-type` on a
//!   component, `alg` on a hash, `name` on a property, `ref` on a dependency, `type` on
//!   a reference, `flow` on a data classification, …);
//! - JSON arrays become a wrapper element with one singular child per item
//!   (`hashes/hash`, `licenses/license|expression`, `tags/tag`, `endpoints/endpoint`,
//!   `modelParameters/datasets/ref|dataset`, …), or repeated elements where the XSD has
//!   no wrapper (a component's `data`, an entity's `url` and `contact`, `omniborId`);
//! - a JSON key with no place in the XSD (and the structures not mapped here: `evidence`,
//!   `releaseNotes`, `cryptoProperties`, `patentAssertions`, pedigree `patches`, a
//!   service's `releaseNotes`, `signature`) is dropped, and so is an element whose
//!   required parts are missing or not text (an external reference without `url`, an
//!   energy consumption without its providers, a swid without `tagId`): the XML stays
//!   valid. A repeated `bom-ref` (two ingested documents naming an entity alike) is
//!   written once, on its first element; later ones lose the attribute, which the XSD's
//!   uniqueness constraint would otherwise refuse.
//!
//! Text is escaped (`&amp; &lt; &gt; &quot; &apos;`, and tab, newline and carriage return
//! as character references inside attributes, `&#13;` in text, so that parsers keep
//! them). Characters XML 1.0 cannot carry at all (C0 controls other than tab, newline and
//! carriage return, and U+FFFE/U+FFFF) are written as U+FFFD, the replacement character:
//! the document stays well-formed, and such a value reads back with U+FFFD in place of
//! the control character.
//!
//! Output is deterministic and pretty-printed with a two-space indent and a trailing
//! newline.

use std::collections::HashSet;
use std::io::{self, Write};

use serde_json::Value;

use super::SpecVersion;

/// The top-level sections of a `<bom>`, in the XSD's order.
const SECTIONS: &[&str] = &[
    "components",
    "services",
    "externalReferences",
    "dependencies",
    "properties",
    "vulnerabilities",
];

/// A streaming CycloneDX XML writer.
#[derive(Debug)]
pub struct XmlWriter<W: Write> {
    out: W,
    spec: SpecVersion,
    /// The open section (index into [`SECTIONS`]) and whether it has items.
    open: Option<(usize, bool)>,
    /// The next section allowed (XSD order), and whether metadata may still come.
    next: usize,
    metadata_done: bool,
    /// Every `bom-ref` written so far (the XSD makes them unique per document).
    refs: HashSet<String>,
    /// One top-level element, written here first so that a part found unwritable can
    /// be taken back.
    buf: Vec<u8>,
}

fn usage(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

impl<W: Write> XmlWriter<W> {
    /// `<?xml version="1.0" encoding="UTF-8"?>` and the `<bom>` start tag of `spec`'s
    /// namespace with `serialNumber` (left out when empty) and `version="1"`.
    pub fn begin(mut out: W, spec: SpecVersion, serial: &str) -> io::Result<Self> {
        let mut head = Vec::with_capacity(160);
        head.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bom xmlns=\"");
        head.extend_from_slice(b"http://cyclonedx.org/schema/bom/");
        head.extend_from_slice(spec.as_str().as_bytes());
        head.push(b'"');
        if !serial.is_empty() {
            push_attr(&mut head, "serialNumber", serial);
        }
        head.extend_from_slice(b" version=\"1\">\n");
        out.write_all(&head)?;
        Ok(XmlWriter {
            out,
            spec,
            open: None,
            next: 0,
            metadata_done: false,
            refs: HashSet::new(),
            buf: Vec::with_capacity(4096),
        })
    }

    /// The `<metadata>` element (before any section; at most once).
    pub fn metadata(&mut self, metadata: &Value) -> io::Result<()> {
        if self.metadata_done || self.open.is_some() || self.next > 0 {
            return Err(usage("metadata must come first, once"));
        }
        self.metadata_done = true;
        self.buf.clear();
        let mut buf = std::mem::take(&mut self.buf);
        self.element(&mut buf, "metadata", T::Metadata, metadata, 1);
        let r = self.out.write_all(&buf);
        self.buf = buf;
        r
    }

    /// Opens a section: `components`, `services`, `externalReferences`,
    /// `dependencies`, `properties` or `vulnerabilities`, each at most once and in that
    /// order (the XSD's). A section left without items is written as an empty element.
    pub fn open(&mut self, section: &str) -> io::Result<()> {
        if self.open.is_some() {
            return Err(usage("a section is already open"));
        }
        let Some(i) = SECTIONS.iter().position(|s| *s == section) else {
            return Err(usage("unknown section"));
        };
        if i < self.next {
            return Err(usage("sections must come once each, in the XSD's order"));
        }
        self.next = i + 1;
        self.open = Some((i, false));
        write!(self.out, "  <{section}")
    }

    /// One element of the open section (a component, a service, a reference, a
    /// dependency entry, a property or a vulnerability). An item that cannot be written
    /// validly (no `name`, a dependency without `ref`, …) is left out.
    pub fn item(&mut self, v: &Value) -> io::Result<()> {
        let Some((i, any)) = self.open else {
            return Err(usage("no section is open"));
        };
        self.buf.clear();
        let mut buf = std::mem::take(&mut self.buf);
        let written = match SECTIONS.get(i).copied().unwrap_or("") {
            "components" => self.element(&mut buf, "component", T::Component, v, 2),
            "services" => self.element(&mut buf, "service", T::Service, v, 2),
            "externalReferences" => self.element(&mut buf, "reference", T::ExtRef, v, 2),
            "properties" => self.element(&mut buf, "property", T::Property, v, 2),
            "vulnerabilities" => self.element(&mut buf, "vulnerability", T::Vulnerability, v, 2),
            _ => dependency(&mut buf, v, 2),
        };
        let mut r = Ok(());
        if written {
            if !any {
                r = self.out.write_all(b">\n");
                self.open = Some((i, true));
            }
            if r.is_ok() {
                r = self.out.write_all(&buf);
            }
        }
        self.buf = buf;
        r
    }

    /// Closes the open section.
    pub fn close(&mut self) -> io::Result<()> {
        let Some((i, any)) = self.open.take() else {
            return Err(usage("no section is open"));
        };
        if any {
            let name = SECTIONS.get(i).copied().unwrap_or("");
            writeln!(self.out, "  </{name}>")
        } else {
            self.out.write_all(b"/>\n")
        }
    }

    /// Closes any open section and the `<bom>`; returns the output, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        if self.open.is_some() {
            self.close()?;
        }
        self.out.write_all(b"</bom>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Writes `v` as element `name` of type `t` at nesting `depth`; false (and nothing
    /// written) when `v` is not an object or lacks a required part.
    fn element(&mut self, buf: &mut Vec<u8>, name: &str, t: T, v: &Value, depth: usize) -> bool {
        let Value::Object(m) = v else {
            return false;
        };
        let def = def(t, self.spec);
        let start = buf.len();
        let mut new_refs: Vec<String> = Vec::new();
        indent(buf, depth);
        buf.push(b'<');
        buf.extend_from_slice(name.as_bytes());
        for a in def.attrs {
            let text = m.get(a.key).and_then(scalar).filter(|s| !s.is_empty());
            match text {
                // A repeated bom-ref loses the attribute (always optional).
                Some(s)
                    if a.xml == "bom-ref" && (self.refs.contains(&s) || new_refs.contains(&s)) => {}
                Some(s) if a.xml == "bom-ref" => {
                    push_attr(buf, a.xml, &s);
                    new_refs.push(s);
                }
                Some(s) => push_attr(buf, a.xml, &s),
                None if a.req => {
                    buf.truncate(start);
                    return false;
                }
                None => {}
            }
        }
        if let Some((key, req)) = def.text {
            match m.get(key).and_then(scalar) {
                Some(s) if !(req && s.is_empty()) => {
                    buf.push(b'>');
                    push_text(buf, &s);
                    close_tag(buf, name);
                }
                _ if req => {
                    buf.truncate(start);
                    return false;
                }
                _ => buf.extend_from_slice(b"/>\n"),
            }
            self.refs.extend(new_refs);
            return true;
        }
        // Claim the bom-refs now, so that nested elements do not repeat them.
        self.refs.extend(new_refs.iter().cloned());
        buf.extend_from_slice(b">\n");
        let body = buf.len();
        let mut chosen: u32 = 0;
        let mut ok = true;
        for f in def.fields {
            let bit = if f.choice == 0 { 0 } else { 1u32 << f.choice };
            if chosen & bit != 0 {
                continue;
            }
            let written = match m.get(f.key) {
                Some(x) => self.field(buf, f, x, depth + 1),
                None => false,
            };
            if written {
                chosen |= bit;
            } else if f.req {
                ok = false;
                break;
            }
        }
        if ok && def.req_choice != 0 && chosen & (1u32 << def.req_choice) == 0 {
            ok = false;
        }
        if !ok {
            buf.truncate(start);
            // Give back the bom-refs this element claimed (its children's stay claimed:
            // at worst a later repeat loses an attribute it could have kept).
            for r in &new_refs {
                self.refs.remove(r);
            }
            return false;
        }
        if buf.len() == body {
            buf.truncate(body - 2);
            buf.extend_from_slice(b"/>\n");
        } else {
            indent(buf, depth);
            close_tag(buf, name);
        }
        true
    }

    /// Writes one field's value; true if anything was written.
    fn field(&mut self, buf: &mut Vec<u8>, f: &F, v: &Value, depth: usize) -> bool {
        match f.shape {
            Text => text_element(buf, f.xml, v, depth),
            TextEach => match v {
                Value::Array(items) => {
                    let mut any = false;
                    for x in items {
                        any |= text_element(buf, f.xml, x, depth);
                    }
                    any
                }
                other => text_element(buf, f.xml, other, depth),
            },
            Shape::Obj(t) => self.element(buf, f.xml, t, v, depth),
            ObjEach(t) => match v {
                Value::Array(items) => {
                    let mut any = false;
                    for x in items {
                        any |= self.element(buf, f.xml, t, x, depth);
                    }
                    any
                }
                other => self.element(buf, f.xml, t, other, depth),
            },
            TextList(item) => self.wrapper(buf, f.xml, v, depth, |_, buf, x, d| {
                text_element(buf, item, x, d)
            }),
            ObjList(item, t) => self.wrapper(buf, f.xml, v, depth, |w, buf, x, d| {
                w.element(buf, item, t, x, d)
            }),
            Shape::Licenses => self.licenses(buf, f.xml, v, depth),
            Shape::Datasets => {
                self.wrapper(buf, f.xml, v, depth, |w, buf, x, d| match x.get("ref") {
                    Some(r) => text_element(buf, "ref", r, d),
                    None => w.element(buf, "dataset", T::ComponentData, x, d),
                })
            }
            Shape::ServiceData => {
                self.wrapper(buf, f.xml, v, depth, |w, buf, x, d| w.dataflow(buf, x, d))
            }
            Shape::Tools => match v {
                Value::Array(_) => self.wrapper(buf, f.xml, v, depth, |w, buf, x, d| {
                    w.element(buf, "tool", T::Tool, x, d)
                }),
                other => self.element(buf, f.xml, T::Tools, other, depth),
            },
        }
    }

    /// A JSON array as a wrapper element `name` with one child per item (written by
    /// `each`); nothing when no item could be written.
    fn wrapper(
        &mut self,
        buf: &mut Vec<u8>,
        name: &str,
        v: &Value,
        depth: usize,
        mut each: impl FnMut(&mut Self, &mut Vec<u8>, &Value, usize) -> bool,
    ) -> bool {
        let Value::Array(items) = v else {
            return false;
        };
        let start = buf.len();
        indent(buf, depth);
        buf.push(b'<');
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(b">\n");
        let mut any = false;
        for x in items {
            any |= each(self, buf, x, depth + 1);
        }
        if !any {
            buf.truncate(start);
            return false;
        }
        indent(buf, depth);
        close_tag(buf, name);
        true
    }

    /// `licenses`: `license` elements and expressions. CycloneDX 1.6 allows either
    /// licences or one expression: when the list has an expression, only the first
    /// expression is written. 1.7 allows any mix, and an expression with details,
    /// licensing or properties is an `expression-detailed`.
    fn licenses(&mut self, buf: &mut Vec<u8>, name: &str, v: &Value, depth: usize) -> bool {
        let Value::Array(items) = v else {
            return false;
        };
        let is_expr = |x: &Value| x.get("expression").is_some();
        let first_expr = items.iter().position(is_expr);
        let v16 = self.spec == SpecVersion::V1_6;
        let spec = self.spec;
        self.wrapper(buf, name, v, depth, |w, buf, x, d| {
            if let Some(l) = x.get("license") {
                if v16 && first_expr.is_some() {
                    return false;
                }
                return w.element(buf, "license", T::License, l, d);
            }
            if !is_expr(x) {
                return false;
            }
            if v16 {
                let first = first_expr.and_then(|i| items.get(i));
                if !first.is_some_and(|f| std::ptr::eq(f, x)) {
                    return false;
                }
            }
            let detailed = spec == SpecVersion::V1_7
                && ["expressionDetails", "licensing", "properties"]
                    .iter()
                    .any(|k| x.get(*k).is_some());
            if detailed {
                w.element(buf, "expression-detailed", T::ExpressionDetailed, x, d)
            } else {
                w.element(buf, "expression", T::Expression, x, d)
            }
        })
    }

    /// One service data flow (`{flow, classification, name, description, governance,
    /// source, destination}`) as `<dataflow>`.
    fn dataflow(&mut self, buf: &mut Vec<u8>, x: &Value, depth: usize) -> bool {
        let Value::Object(m) = x else {
            return false;
        };
        let start = buf.len();
        indent(buf, depth);
        buf.extend_from_slice(b"<dataflow");
        for k in ["name", "description"] {
            if let Some(s) = m.get(k).and_then(scalar) {
                push_attr(buf, k, &s);
            }
        }
        buf.extend_from_slice(b">\n");
        let body = buf.len();
        if let (Some(flow), Some(class)) = (
            m.get("flow").and_then(scalar).filter(|s| !s.is_empty()),
            m.get("classification").and_then(scalar),
        ) {
            indent(buf, depth + 1);
            buf.extend_from_slice(b"<classification");
            push_attr(buf, "flow", &flow);
            buf.push(b'>');
            push_text(buf, &class);
            close_tag(buf, "classification");
        }
        if let Some(g) = m.get("governance") {
            self.element(buf, "governance", T::Governance, g, depth + 1);
        }
        for k in ["source", "destination"] {
            if let Some(urls) = m.get(k) {
                self.wrapper(buf, k, urls, depth + 1, |_, buf, u, d| {
                    text_element(buf, "url", u, d)
                });
            }
        }
        if buf.len() == body && buf.len() - start <= depth * 2 + "<dataflow>\n".len() {
            // Nothing at all: not worth an element.
            buf.truncate(start);
            return false;
        }
        if buf.len() == body {
            buf.truncate(body - 2);
            buf.extend_from_slice(b"/>\n");
        } else {
            indent(buf, depth);
            close_tag(buf, "dataflow");
        }
        true
    }
}

/// `{"ref": a, "dependsOn": [b…], "provides": [c…]}` as
/// `<dependency ref="a"><dependency ref="b"/><provides ref="c"/></dependency>`.
fn dependency(buf: &mut Vec<u8>, v: &Value, depth: usize) -> bool {
    let Some(r) = v.get("ref").and_then(scalar).filter(|s| !s.is_empty()) else {
        return false;
    };
    indent(buf, depth);
    buf.extend_from_slice(b"<dependency");
    push_attr(buf, "ref", &r);
    let body = buf.len();
    for (key, name) in [("dependsOn", "dependency"), ("provides", "provides")] {
        let Some(Value::Array(list)) = v.get(key) else {
            continue;
        };
        for to in list.iter().filter_map(scalar).filter(|s| !s.is_empty()) {
            if buf.len() == body {
                buf.extend_from_slice(b">\n");
            }
            indent(buf, depth + 1);
            buf.push(b'<');
            buf.extend_from_slice(name.as_bytes());
            push_attr(buf, "ref", &to);
            buf.extend_from_slice(b"/>\n");
        }
    }
    if buf.len() == body {
        buf.extend_from_slice(b"/>\n");
    } else {
        indent(buf, depth);
        close_tag(buf, "dependency");
    }
    true
}

/// A whole JSON BOM (as [`super::bom`] returns it) as CycloneDX XML, through
/// [`XmlWriter`]. Top-level members other than the metadata and the sections
/// [`XmlWriter::open`] takes are dropped.
pub fn from_json(bom: &Value) -> Result<Vec<u8>, crate::Error> {
    let Value::Object(m) = bom else {
        return Err(crate::Error::NotABom("not a JSON object".into()));
    };
    let spec: SpecVersion = m
        .get("specVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .parse()?;
    let serial = m.get("serialNumber").and_then(Value::as_str).unwrap_or("");
    let mut w = XmlWriter::begin(Vec::new(), spec, serial)?;
    if let Some(meta) = m.get("metadata") {
        w.metadata(meta)?;
    }
    for section in SECTIONS {
        let Some(Value::Array(items)) = m.get(*section) else {
            continue;
        };
        w.open(section)?;
        for item in items {
            w.item(item)?;
        }
        w.close()?;
    }
    Ok(w.finish()?)
}

fn indent(buf: &mut Vec<u8>, depth: usize) {
    buf.extend(std::iter::repeat_n(b' ', depth * 2));
}

fn close_tag(buf: &mut Vec<u8>, name: &str) {
    buf.extend_from_slice(b"</");
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b">\n");
}

/// `<name>text</name>` for a scalar; false for anything else.
fn text_element(buf: &mut Vec<u8>, name: &str, v: &Value, depth: usize) -> bool {
    let Some(s) = scalar(v) else {
        return false;
    };
    indent(buf, depth);
    buf.push(b'<');
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'>');
    push_text(buf, &s);
    close_tag(buf, name);
    true
}

/// A string, number or boolean as text; `None` for anything else.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// ` name="value"`, escaped.
fn push_attr(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.push(b' ');
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"=\"");
    escape(buf, value, true);
    buf.push(b'"');
}

fn push_text(buf: &mut Vec<u8>, s: &str) {
    escape(buf, s, false);
}

/// Whether XML 1.0 can carry `c` (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes `s`: markup characters as entities; in attributes tab, newline and carriage
/// return as character references (attribute-value normalisation would turn them into
/// spaces); in text a carriage return as `&#13;` (line-end normalisation would drop
/// it); characters XML 1.0 cannot carry as U+FFFD.
fn escape(buf: &mut Vec<u8>, s: &str, attr: bool) {
    let mut tmp = [0u8; 4];
    for c in s.chars() {
        let rep: &[u8] = match c {
            '&' => b"&amp;",
            '<' => b"&lt;",
            '>' => b"&gt;",
            '"' => b"&quot;",
            '\'' => b"&apos;",
            '\r' => b"&#13;",
            '\t' if attr => b"&#9;",
            '\n' if attr => b"&#10;",
            c if !xml_char(c) => "\u{FFFD}".as_bytes(),
            c => c.encode_utf8(&mut tmp).as_bytes(),
        };
        buf.extend_from_slice(rep);
    }
}

// ---------------------------------------------------------------------------------------
// The mapping tables: per XSD type, its attributes, its simple content and its children
// in XSD order.

/// The XSD types written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Metadata,
    Lifecycle,
    Tools,
    Tool,
    Distribution,
    Component,
    Service,
    OrgEntity,
    OrgContact,
    Address,
    Hash,
    Property,
    ExtRef,
    Attached,
    Swid,
    Pedigree,
    Commit,
    Action,
    License,
    Licensing,
    LicParty,
    Expression,
    ExpressionDetailed,
    ExpressionDetail,
    ModelCard,
    ModelParams,
    Approach,
    IoFormat,
    Quant,
    PerfMetric,
    Confidence,
    Graphics,
    Graphic,
    Considerations,
    Risk,
    Fairness,
    EnvCons,
    EnergyConsumption,
    EnergyProvider,
    EnergyMeasure,
    ComponentData,
    DataContents,
    Governance,
    GovParty,
    Vulnerability,
    VulnSource,
    VulnRef,
    Rating,
    ProofOfConcept,
    Advisory,
    Credits,
    Analysis,
    Target,
    AffectedVersion,
}

/// How a JSON value becomes XML.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// One element with the value as text.
    Text,
    /// One element per item of an array (or one for a scalar), each with text.
    TextEach,
    /// One element of a complex type.
    Obj(T),
    /// One element of a complex type per item of an array (no wrapper).
    ObjEach(T),
    /// A wrapper element with one text child (of the given name) per item.
    TextList(&'static str),
    /// A wrapper element with one child of the given name and type per item.
    ObjList(&'static str, T),
    /// `licenses` (a licence choice).
    Licenses,
    /// A model card's `datasets`: `ref` or `dataset` children.
    Datasets,
    /// A service's `data`: `dataflow` children.
    ServiceData,
    /// `tools`: legacy `tool` children (an array) or `components`/`services`.
    Tools,
}

/// A child element: the JSON key, the XML name, how it is written, whether the XSD
/// requires it, and its `xs:choice` group (0: none; of a group only the first present
/// member is written).
#[derive(Debug)]
struct F {
    key: &'static str,
    xml: &'static str,
    shape: Shape,
    req: bool,
    choice: u8,
}

#[derive(Debug)]
struct A {
    key: &'static str,
    xml: &'static str,
    req: bool,
}

#[derive(Debug)]
struct Def {
    attrs: &'static [A],
    /// Simple content: the JSON key holding the text, and whether it must be non-empty.
    text: Option<(&'static str, bool)>,
    fields: &'static [F],
    /// A choice group of which one member must be written (0: none).
    req_choice: u8,
}

const fn f(key: &'static str, shape: Shape) -> F {
    F {
        key,
        xml: key,
        shape,
        req: false,
        choice: 0,
    }
}
const fn fx(key: &'static str, xml: &'static str, shape: Shape) -> F {
    F {
        key,
        xml,
        shape,
        req: false,
        choice: 0,
    }
}
const fn req(key: &'static str, shape: Shape) -> F {
    F {
        key,
        xml: key,
        shape,
        req: true,
        choice: 0,
    }
}
const fn ch(key: &'static str, xml: &'static str, shape: Shape, choice: u8) -> F {
    F {
        key,
        xml,
        shape,
        req: false,
        choice,
    }
}
const fn a(key: &'static str) -> A {
    A {
        key,
        xml: key,
        req: false,
    }
}
const fn ax(key: &'static str, xml: &'static str, req: bool) -> A {
    A { key, xml, req }
}
/// A `Def` without simple content or a required choice (a macro, not a function: the
/// slices in a struct literal live as long as the constant).
macro_rules! d {
    ($attrs:expr, $fields:expr $(,)?) => {
        Def {
            attrs: $attrs,
            text: None,
            fields: $fields,
            req_choice: 0,
        }
    };
}

use Shape::{ObjEach, ObjList, Text, TextEach, TextList};

const BOM_REF: &[A] = &[a("bom-ref")];
const PROPERTIES: F = f("properties", ObjList("property", T::Property));
const HASHES: F = f("hashes", ObjList("hash", T::Hash));
const EXT_REFS: F = f("externalReferences", ObjList("reference", T::ExtRef));
const TAGS: F = f("tags", TextList("tag"));
const LICENSES: F = f("licenses", Shape::Licenses);

const METADATA_16: Def = d!(
    &[],
    &[
        f("timestamp", Text),
        f("lifecycles", ObjList("lifecycle", T::Lifecycle)),
        f("tools", Shape::Tools),
        f("authors", ObjList("author", T::OrgContact)),
        f("component", Shape::Obj(T::Component)),
        f("manufacturer", Shape::Obj(T::OrgEntity)),
        f("manufacture", Shape::Obj(T::OrgEntity)),
        f("supplier", Shape::Obj(T::OrgEntity)),
        LICENSES,
        PROPERTIES,
    ],
);
const METADATA_17: Def = d!(
    &[],
    &[
        f("timestamp", Text),
        f("lifecycles", ObjList("lifecycle", T::Lifecycle)),
        f("tools", Shape::Tools),
        f("authors", ObjList("author", T::OrgContact)),
        f("component", Shape::Obj(T::Component)),
        f("manufacturer", Shape::Obj(T::OrgEntity)),
        f("manufacture", Shape::Obj(T::OrgEntity)),
        f("supplier", Shape::Obj(T::OrgEntity)),
        LICENSES,
        PROPERTIES,
        f("distributionConstraints", Shape::Obj(T::Distribution)),
    ],
);

/// A component's children in XSD order, with the given `version` field(s).
macro_rules! component_fields {
    ($($version:expr),+) => {
        &[
            f("supplier", Shape::Obj(T::OrgEntity)),
            f("manufacturer", Shape::Obj(T::OrgEntity)),
            f("authors", ObjList("author", T::OrgContact)),
            f("author", Text),
            f("publisher", Text),
            f("group", Text),
            req("name", Text),
            $($version,)+
            f("description", Text),
            f("scope", Text),
            HASHES,
            LICENSES,
            f("copyright", Text),
            f("cpe", Text),
            f("purl", Text),
            f("omniborId", TextEach),
            f("swhid", TextEach),
            f("swid", Shape::Obj(T::Swid)),
            f("modified", Text),
            f("pedigree", Shape::Obj(T::Pedigree)),
            EXT_REFS,
            PROPERTIES,
            f("components", ObjList("component", T::Component)),
            f("modelCard", Shape::Obj(T::ModelCard)),
            f("data", ObjEach(T::ComponentData)),
            TAGS,
        ]
    };
}

const COMPONENT_16_FIELDS: &[F] = component_fields!(f("version", Text));
/// 1.7: `version` or `versionRange`.
const COMPONENT_17_FIELDS: &[F] = component_fields!(
    ch("version", "version", Text, 1),
    ch("versionRange", "versionRange", Text, 1)
);

fn def(t: T, spec: SpecVersion) -> &'static Def {
    let v17 = spec == SpecVersion::V1_7;
    match t {
        T::Metadata if v17 => &METADATA_17,
        T::Metadata => &METADATA_16,
        T::Lifecycle => {
            const {
                &Def {
                    attrs: &[],
                    text: None,
                    fields: &[
                        // `phase`, or `name` with an optional `description`; the description is
                        // dropped (the table has no way to tie it to the name's branch).
                        ch("phase", "phase", Text, 1),
                        ch("name", "name", Text, 1),
                    ],
                    req_choice: 0,
                }
            }
        }
        T::Tools => {
            const {
                &d!(
                    &[],
                    &[
                        f("components", ObjList("component", T::Component)),
                        f("services", ObjList("service", T::Service)),
                    ],
                )
            }
        }
        T::Tool => {
            const {
                &d!(
                    &[],
                    &[
                        f("vendor", Text),
                        f("name", Text),
                        f("version", Text),
                        HASHES,
                        EXT_REFS,
                    ],
                )
            }
        }
        T::Distribution => const { &d!(&[], &[f("tlp", Text)]) },
        T::Component if v17 => {
            const {
                &Def {
                    attrs: &[
                        ax("type", "type", true),
                        a("mime-type"),
                        a("isExternal"),
                        a("bom-ref"),
                    ],
                    text: None,
                    fields: COMPONENT_17_FIELDS,
                    req_choice: 0,
                }
            }
        }
        T::Component => {
            const {
                &Def {
                    attrs: &[ax("type", "type", true), a("mime-type"), a("bom-ref")],
                    text: None,
                    fields: COMPONENT_16_FIELDS,
                    req_choice: 0,
                }
            }
        }
        T::Service => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        f("provider", Shape::Obj(T::OrgEntity)),
                        f("group", Text),
                        req("name", Text),
                        f("version", Text),
                        f("description", Text),
                        f("endpoints", TextList("endpoint")),
                        f("authenticated", Text),
                        f("x-trust-boundary", Text),
                        f("trustZone", Text),
                        f("data", Shape::ServiceData),
                        LICENSES,
                        EXT_REFS,
                        PROPERTIES,
                        f("services", ObjList("service", T::Service)),
                        TAGS,
                    ],
                )
            }
        }
        T::OrgEntity => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        f("name", Text),
                        f("address", Shape::Obj(T::Address)),
                        f("url", TextEach),
                        f("contact", ObjEach(T::OrgContact)),
                    ],
                )
            }
        }
        T::OrgContact => {
            const {
                &d!(
                    BOM_REF,
                    &[f("name", Text), f("email", Text), f("phone", Text)],
                )
            }
        }
        T::Address => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        f("country", Text),
                        f("region", Text),
                        f("locality", Text),
                        f("postOfficeBoxNumber", Text),
                        f("postalCode", Text),
                        f("streetAddress", Text),
                    ],
                )
            }
        }
        T::Hash => {
            const {
                &Def {
                    attrs: &[ax("alg", "alg", true)],
                    text: Some(("content", true)),
                    fields: &[],
                    req_choice: 0,
                }
            }
        }
        T::Property => {
            const {
                &Def {
                    attrs: &[ax("name", "name", true)],
                    text: Some(("value", false)),
                    fields: &[],
                    req_choice: 0,
                }
            }
        }
        T::ExtRef => {
            const {
                &d!(
                    &[ax("type", "type", true)],
                    &[req("url", Text), f("comment", Text), HASHES],
                )
            }
        }
        T::Attached => {
            const {
                &Def {
                    attrs: &[ax("contentType", "content-type", false), a("encoding")],
                    text: Some(("content", false)),
                    fields: &[],
                    req_choice: 0,
                }
            }
        }
        T::Swid => {
            const {
                &d!(
                    &[
                        ax("tagId", "tagId", true),
                        ax("name", "name", true),
                        a("version"),
                        a("tagVersion"),
                        a("patch"),
                    ],
                    &[f("text", Shape::Obj(T::Attached)), f("url", Text)],
                )
            }
        }
        T::Pedigree => {
            const {
                &d!(
                    &[],
                    &[
                        f("ancestors", ObjList("component", T::Component)),
                        f("descendants", ObjList("component", T::Component)),
                        f("variants", ObjList("component", T::Component)),
                        f("commits", ObjList("commit", T::Commit)),
                        f("notes", Text),
                    ],
                )
            }
        }
        T::Commit => {
            const {
                &d!(
                    &[],
                    &[
                        f("uid", Text),
                        f("url", Text),
                        f("author", Shape::Obj(T::Action)),
                        f("committer", Shape::Obj(T::Action)),
                        f("message", Text),
                    ],
                )
            }
        }
        T::Action => {
            const {
                &d!(
                    &[],
                    &[f("timestamp", Text), f("name", Text), f("email", Text)],
                )
            }
        }
        T::License => {
            const {
                &Def {
                    attrs: &[a("bom-ref"), a("acknowledgement")],
                    text: None,
                    fields: &[
                        ch("id", "id", Text, 1),
                        ch("name", "name", Text, 1),
                        f("text", Shape::Obj(T::Attached)),
                        f("url", Text),
                        f("licensing", Shape::Obj(T::Licensing)),
                        PROPERTIES,
                    ],
                    req_choice: 1,
                }
            }
        }
        T::Licensing => {
            const {
                &d!(
                    &[],
                    &[
                        f("altIds", TextList("altId")),
                        f("licensor", Shape::Obj(T::LicParty)),
                        f("licensee", Shape::Obj(T::LicParty)),
                        f("purchaser", Shape::Obj(T::LicParty)),
                        f("purchaseOrder", Text),
                        f("licenseTypes", TextList("licenseType")),
                        f("lastRenewal", Text),
                        f("expiration", Text),
                    ],
                )
            }
        }
        T::LicParty => {
            const {
                &d!(
                    &[],
                    &[
                        ch("organization", "organization", Shape::Obj(T::OrgEntity), 1),
                        ch("individual", "individual", Shape::Obj(T::OrgContact), 1),
                    ],
                )
            }
        }
        T::Expression => {
            const {
                &Def {
                    attrs: &[a("bom-ref"), a("acknowledgement")],
                    text: Some(("expression", true)),
                    fields: &[],
                    req_choice: 0,
                }
            }
        }
        T::ExpressionDetailed => {
            const {
                &d!(
                    &[
                        ax("expression", "expression", true),
                        a("bom-ref"),
                        a("acknowledgement"),
                    ],
                    &[
                        fx("expressionDetails", "details", ObjEach(T::ExpressionDetail)),
                        f("licensing", Shape::Obj(T::Licensing)),
                        PROPERTIES,
                    ],
                )
            }
        }
        T::ExpressionDetail => {
            const {
                &d!(
                    &[
                        ax("licenseIdentifier", "license-identifier", true),
                        a("bom-ref"),
                    ],
                    &[f("text", Shape::Obj(T::Attached)), f("url", Text)],
                )
            }
        }
        T::ModelCard => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        f("modelParameters", Shape::Obj(T::ModelParams)),
                        f("quantitativeAnalysis", Shape::Obj(T::Quant)),
                        f("considerations", Shape::Obj(T::Considerations)),
                        PROPERTIES,
                    ],
                )
            }
        }
        T::ModelParams => {
            const {
                &d!(
                    &[],
                    &[
                        f("approach", Shape::Obj(T::Approach)),
                        f("task", Text),
                        f("architectureFamily", Text),
                        f("modelArchitecture", Text),
                        f("datasets", Shape::Datasets),
                        f("inputs", ObjList("input", T::IoFormat)),
                        f("outputs", ObjList("output", T::IoFormat)),
                    ],
                )
            }
        }
        T::Approach => const { &d!(&[], &[f("type", Text)]) },
        T::IoFormat => const { &d!(&[], &[req("format", Text)]) },
        T::Quant => {
            const {
                &d!(
                    &[],
                    &[
                        f(
                            "performanceMetrics",
                            ObjList("performanceMetric", T::PerfMetric),
                        ),
                        f("graphics", Shape::Obj(T::Graphics)),
                    ],
                )
            }
        }
        T::PerfMetric => {
            const {
                &d!(
                    &[],
                    &[
                        f("type", Text),
                        f("value", Text),
                        f("slice", Text),
                        f("confidenceInterval", Shape::Obj(T::Confidence)),
                    ],
                )
            }
        }
        T::Confidence => const { &d!(&[], &[f("lowerBound", Text), f("upperBound", Text)]) },
        T::Graphics => {
            const {
                &d!(
                    &[],
                    &[
                        f("description", Text),
                        f("collection", ObjList("graphic", T::Graphic)),
                    ],
                )
            }
        }
        T::Graphic => const { &d!(&[], &[f("name", Text), f("image", Shape::Obj(T::Attached))]) },
        T::Considerations => {
            const {
                &d!(
                    &[],
                    &[
                        f("users", TextList("user")),
                        f("useCases", TextList("useCase")),
                        f("technicalLimitations", TextList("technicalLimitation")),
                        f("performanceTradeoffs", TextList("performanceTradeoff")),
                        f(
                            "ethicalConsiderations",
                            ObjList("ethicalConsideration", T::Risk),
                        ),
                        f("environmentalConsiderations", Shape::Obj(T::EnvCons)),
                        f(
                            "fairnessAssessments",
                            ObjList("fairnessAssessment", T::Fairness),
                        ),
                    ],
                )
            }
        }
        T::Risk => const { &d!(&[], &[f("name", Text), f("mitigationStrategy", Text)]) },
        T::Fairness => {
            const {
                &d!(
                    &[],
                    &[
                        f("groupAtRisk", Text),
                        f("benefits", Text),
                        f("harms", Text),
                        f("mitigationStrategy", Text),
                    ],
                )
            }
        }
        T::EnvCons => {
            const {
                &d!(
                    &[],
                    &[
                        f(
                            "energyConsumptions",
                            ObjList("energyConsumption", T::EnergyConsumption),
                        ),
                        PROPERTIES,
                    ],
                )
            }
        }
        T::EnergyConsumption => {
            const {
                &d!(
                    &[],
                    &[
                        req("activity", Text),
                        req("energyProviders", ObjEach(T::EnergyProvider)),
                        req("activityEnergyCost", Shape::Obj(T::EnergyMeasure)),
                        f("co2CostEquivalent", Shape::Obj(T::EnergyMeasure)),
                        f("co2CostOffset", Shape::Obj(T::EnergyMeasure)),
                        PROPERTIES,
                    ],
                )
            }
        }
        T::EnergyProvider => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        f("description", Text),
                        req("organization", Shape::Obj(T::OrgEntity)),
                        req("energySource", Text),
                        req("energyProvided", Shape::Obj(T::EnergyMeasure)),
                        EXT_REFS,
                    ],
                )
            }
        }
        T::EnergyMeasure => const { &d!(&[], &[req("value", Text), req("unit", Text)]) },
        T::ComponentData => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        req("type", Text),
                        f("name", Text),
                        f("contents", Shape::Obj(T::DataContents)),
                        f("classification", Text),
                        f("sensitiveData", TextEach),
                        f("graphics", Shape::Obj(T::Graphics)),
                        f("description", Text),
                        f("governance", Shape::Obj(T::Governance)),
                    ],
                )
            }
        }
        T::DataContents => {
            const {
                &d!(
                    &[],
                    &[
                        f("attachment", Shape::Obj(T::Attached)),
                        f("url", Text),
                        PROPERTIES,
                    ],
                )
            }
        }
        T::Governance => {
            const {
                &d!(
                    &[],
                    &[
                        f("custodians", ObjList("custodian", T::GovParty)),
                        f("stewards", ObjList("steward", T::GovParty)),
                        f("owners", ObjList("owner", T::GovParty)),
                    ],
                )
            }
        }
        T::GovParty => {
            const {
                &Def {
                    attrs: &[],
                    text: None,
                    fields: &[
                        ch("organization", "organization", Shape::Obj(T::OrgEntity), 1),
                        ch("contact", "individual", Shape::Obj(T::OrgContact), 1),
                    ],
                    req_choice: 1,
                }
            }
        }
        T::Vulnerability => {
            const {
                &d!(
                    BOM_REF,
                    &[
                        f("id", Text),
                        f("source", Shape::Obj(T::VulnSource)),
                        f("references", ObjList("reference", T::VulnRef)),
                        f("ratings", ObjList("rating", T::Rating)),
                        f("cwes", TextList("cwe")),
                        f("description", Text),
                        f("detail", Text),
                        f("recommendation", Text),
                        f("workaround", Text),
                        f("proofOfConcept", Shape::Obj(T::ProofOfConcept)),
                        f("advisories", ObjList("advisory", T::Advisory)),
                        f("created", Text),
                        f("published", Text),
                        f("updated", Text),
                        f("rejected", Text),
                        f("credits", Shape::Obj(T::Credits)),
                        f("tools", Shape::Tools),
                        f("analysis", Shape::Obj(T::Analysis)),
                        f("affects", ObjList("target", T::Target)),
                        PROPERTIES,
                    ],
                )
            }
        }
        T::VulnSource => const { &d!(&[], &[f("name", Text), f("url", Text)]) },
        T::VulnRef => {
            const {
                &d!(
                    &[],
                    &[req("id", Text), req("source", Shape::Obj(T::VulnSource))],
                )
            }
        }
        T::Rating => {
            const {
                &d!(
                    &[],
                    &[
                        f("source", Shape::Obj(T::VulnSource)),
                        f("score", Text),
                        f("severity", Text),
                        f("method", Text),
                        f("vector", Text),
                        f("justification", Text),
                    ],
                )
            }
        }
        T::ProofOfConcept => {
            const {
                &d!(
                    &[],
                    &[
                        f("reproductionSteps", Text),
                        f("environment", Text),
                        f("supportingMaterial", ObjList("attachment", T::Attached)),
                    ],
                )
            }
        }
        T::Advisory => const { &d!(&[], &[f("title", Text), req("url", Text)]) },
        T::Credits => {
            const {
                &d!(
                    &[],
                    &[
                        f("organizations", ObjList("organization", T::OrgEntity)),
                        f("individuals", ObjList("individual", T::OrgContact)),
                    ],
                )
            }
        }
        T::Analysis => {
            const {
                &d!(
                    &[],
                    &[
                        f("state", Text),
                        f("justification", Text),
                        fx("response", "responses", TextList("response")),
                        f("detail", Text),
                        f("firstIssued", Text),
                        f("lastUpdated", Text),
                    ],
                )
            }
        }
        T::Target => {
            const {
                &d!(
                    &[],
                    &[
                        req("ref", Text),
                        f("versions", ObjList("version", T::AffectedVersion)),
                    ],
                )
            }
        }
        T::AffectedVersion => {
            const {
                &Def {
                    attrs: &[],
                    text: None,
                    fields: &[
                        ch("version", "version", Text, 1),
                        ch("range", "range", Text, 1),
                        f("status", Text),
                    ],
                    req_choice: 1,
                }
            }
        }
    }
}
