//! CycloneDX XML (1.2–1.7): the XML tree is converted into the JSON document shape
//! (list containers become arrays, attributes become keys, text-with-attributes
//! becomes `content`) and then read by [`crate::cyclonedx`], so both encodings map to
//! artifacts and edges the same way. DTDs are refused (no entity expansion).

use roxmltree::{Node, ParsingOptions};
use serde_json::{Map, Value};

use crate::{
    Error, Limits,
    cyclonedx::stream::{Event, Sink},
};

pub(crate) const NS_PREFIX: &str = "http://cyclonedx.org/schema/bom/";

/// Element names whose children form a list, and the child names allowed.
fn list_items(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "components" | "ancestors" | "descendants" | "variants" => &["component"],
        "services" => &["service"],
        "hashes" => &["hash"],
        "licenses" => &["license", "expression"],
        "externalReferences" => &["reference"],
        "dependencies" => &["dependency"],
        "tools" => &["tool"],
        "properties" => &["property"],
        "commits" => &["commit"],
        "patches" => &["patch"],
        "authors" => &["author"],
        "endpoints" => &["endpoint"],
        "tags" => &["tag"],
        "lifecycles" => &["lifecycle"],
        "vulnerabilities" => &["vulnerability"],
        "affects" => &["target"],
        // A model card's datasets: inline `dataset`s or `ref`s to data components.
        "datasets" => &["dataset", "ref"],
        "formulation" => &["formula"],
        "compositions" => &["composition"],
        // 1.7: the patents an assertion names, by their bom-refs (references, not
        // definitions).
        "patentRefs" => &["bom-ref"],
        // The issues a patch or release resolves.
        "resolves" => &["issue"],
        _ => return None,
    })
}

/// The child elements of `n` that belong to CycloneDX: elements of other XML namespaces
/// (which the XSDs allow almost anywhere, `xs:any namespace="##other"`) are left out,
/// as are their attributes (see [`convert`]). Elements of no namespace are kept.
fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children()
        .filter(|k| k.is_element() && k.tag_name().namespace().is_none_or(is_cdx_namespace))
}

/// Whether `ns` is a CycloneDX BOM namespace (`http://cyclonedx.org/schema/bom/<v>`).
fn is_cdx_namespace(ns: &str) -> bool {
    ns.starts_with(NS_PREFIX)
}

/// The spec version named by a `<bom>` root's namespace, e.g. `1.6`.
pub(crate) fn version_of_namespace(ns: &str) -> Option<&str> {
    ns.strip_prefix(NS_PREFIX)
}

/// Parses CycloneDX XML into the JSON document shape; returns it and the spec version.
pub(crate) fn to_json(text: &str, limits: &Limits) -> Result<(Value, String), Error> {
    let doc = parse_xml(text, limits)?;
    let (root, version) = bom_root(&doc)?;
    let label = format!("CycloneDX {version} XML");
    let mut obj =
        match convert(root, 1, limits, true).map_err(|m| Error::invalid(&label, "/", m))? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
    obj.insert("bomFormat".into(), Value::from("CycloneDX"));
    obj.insert("specVersion".into(), Value::from(version.clone()));
    if let Some(Value::String(v)) = obj.get("version")
        && let Ok(n) = v.parse::<u64>()
    {
        obj.insert("version".into(), Value::from(n));
    }
    Ok((Value::Object(obj), version))
}

/// The JSON document shape of CycloneDX XML as stream [`Event`]s, each top-level
/// element converted on its own: the same values [`to_json`] makes, in the same order,
/// for the mapper of [`crate::cyclonedx::stream`]. `None` (the caller then converts the
/// document whole, which also reports any error) for a syntax error, a limit, and the
/// layouts whose conversion depends on more than one top-level element: a repeated
/// element or attribute, `metadata` after `components`, a list holding other elements.
pub(crate) fn events(text: &str, limits: &Limits, mut sink: impl Sink) -> Option<()> {
    let doc = parse_xml(text, limits).ok()?;
    let (root, version) = bom_root(&doc).ok()?;
    let mut seen = std::collections::HashSet::new();
    let mut send = |e| sink.send(e).then_some(());
    for a in root.attributes().filter(|a| a.namespace().is_none()) {
        if !seen.insert(a.name()) {
            return None;
        }
        let v = match (a.name(), a.value().parse::<u64>()) {
            ("version", Ok(n)) => Value::from(n),
            _ => Value::from(a.value()),
        };
        send(Event::Member(a.name().to_owned(), v))?;
    }
    // A root without elements converts to text, not an object.
    elements(root).next()?;
    for k in elements(root) {
        let name = k.tag_name().name();
        let repeat = !seen.insert(name);
        let after_components = name == "metadata" && seen.contains("components");
        if repeat || after_components || matches!(name, "bomFormat" | "specVersion") {
            return None;
        }
        let item = match name {
            "components" => "component",
            "dependencies" => "dependency",
            _ => {
                let v = convert(k, 2, limits, false).ok()?;
                send(Event::Member(name.to_owned(), v))?;
                continue;
            }
        };
        if 2 > limits.max_depth || elements(k).any(|c| c.tag_name().name() != item) {
            return None;
        }
        if name == "components" {
            send(Event::Components)?;
            for c in elements(k) {
                send(Event::Component(convert(c, 3, limits, false).ok()?))?;
            }
        } else {
            send(Event::Dependencies)?;
            for d in elements(k) {
                send(Event::Dependency(dependency(d, 3, limits).ok()?))?;
            }
        }
    }
    send(Event::Member("bomFormat".into(), Value::from("CycloneDX")))?;
    send(Event::Member("specVersion".into(), Value::from(version)))?;
    send(Event::End)
}

/// Parses XML text under the limits (no DTD).
fn parse_xml<'i>(text: &'i str, limits: &Limits) -> Result<roxmltree::Document<'i>, Error> {
    let label = "CycloneDX XML";
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_elements.saturating_mul(16)).unwrap_or(u32::MAX),
    };
    // roxmltree recurses per nesting level: bound the depth before handing it the text.
    if let Some(offset) = too_deep(text, limits.max_depth) {
        let (line, column) = crate::detect::line_col(text, offset);
        return Err(Error::Syntax {
            format: label.into(),
            syntax: "XML",
            line,
            column,
            message: format!("nesting deeper than {} levels", limits.max_depth),
        });
    }
    roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let pos = e.pos();
        Error::Syntax {
            format: label.into(),
            syntax: "XML",
            line: pos.row as usize,
            column: pos.col as usize,
            message: e.to_string(),
        }
    })
}

/// The `<bom>` root element and the spec version its namespace names.
fn bom_root<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Result<(Node<'a, 'i>, String), Error> {
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or("");
    match version_of_namespace(ns) {
        Some(v) if root.tag_name().name() == "bom" => Ok((root, v.to_owned())),
        _ => Err(Error::Unrecognised(format!(
            "XML whose root <{}> is not a CycloneDX <bom> (namespace {ns:?})",
            root.tag_name().name()
        ))),
    }
}

/// Byte offset of the first tag nested deeper than `max`, by a lexical scan that
/// skips comments, CDATA, processing instructions and declarations.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        let at = i + off;
        let rest = &b[at..];
        let skip_to = |pat: &[u8]| {
            rest.windows(pat.len())
                .position(|w| w == pat)
                .map(|p| at + p + pat.len())
        };
        if rest.starts_with(b"<!--") {
            i = skip_to(b"-->")?;
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_to(b"]]>")?;
        } else if rest.starts_with(b"<?") {
            i = skip_to(b"?>")?;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") {
            depth = depth.saturating_sub(usize::from(rest.starts_with(b"</")));
            i = at + rest.iter().position(|&c| c == b'>')? + 1;
        } else {
            // The tag ends at the first `>` outside quoted attribute values.
            let mut quote = None;
            let end = at
                + rest.iter().position(|&c| {
                    match (quote, c) {
                        (None, b'"' | b'\'') => quote = Some(c),
                        (Some(q), _) if q == c => quote = None,
                        (None, b'>') => return true,
                        _ => {}
                    }
                    false
                })?;
            if b.get(end.wrapping_sub(1)) != Some(&b'/') {
                depth += 1;
                if depth > max {
                    return Some(at);
                }
            }
            i = end + 1;
        }
    }
    None
}

fn text_of(n: Node<'_, '_>) -> String {
    let mut s = String::new();
    for c in n.children().filter(Node::is_text) {
        s.push_str(c.text().unwrap_or(""));
    }
    s.trim().to_owned()
}

fn convert(n: Node<'_, '_>, depth: usize, limits: &Limits, at_root: bool) -> Result<Value, String> {
    if depth > limits.max_depth {
        return Err(format!(
            "XML nesting deeper than {} levels",
            limits.max_depth
        ));
    }
    let name = n.tag_name().name();
    if let Some(items) = list_items(name) {
        let kids: Vec<Node<'_, '_>> = elements(n).collect();
        if kids.iter().all(|k| items.contains(&k.tag_name().name())) {
            let mut arr = Vec::with_capacity(kids.len());
            for k in kids {
                let kn = k.tag_name().name();
                arr.push(match (name, kn) {
                    ("dependencies", _) if at_root => dependency(k, depth + 1, limits)?,
                    ("licenses", "license") => {
                        let mut m = Map::new();
                        m.insert("license".into(), convert(k, depth + 1, limits, false)?);
                        Value::Object(m)
                    }
                    ("datasets", "ref") => {
                        let mut m = Map::new();
                        m.insert("ref".into(), Value::from(text_of(k)));
                        Value::Object(m)
                    }
                    ("licenses", "expression") => {
                        let mut m = Map::new();
                        m.insert("expression".into(), Value::from(text_of(k)));
                        Value::Object(m)
                    }
                    _ => convert(k, depth + 1, limits, false)?,
                });
            }
            return Ok(Value::Array(arr));
        }
    }
    let attrs: Vec<_> = n.attributes().filter(|a| a.namespace().is_none()).collect();
    let mut kids = elements(n).peekable();
    // A property is an object even without attributes (its name is required: a
    // nameless one must reach the schema check as an object without a name).
    if kids.peek().is_none() && attrs.is_empty() && name != "property" {
        return Ok(Value::from(text_of(n)));
    }
    let mut obj = Map::new();
    for a in attrs {
        obj.insert(a.name().to_owned(), Value::from(a.value()));
    }
    if kids.peek().is_none() {
        let t = text_of(n);
        if !t.is_empty() {
            let key = if name == "property" {
                "value"
            } else {
                "content"
            };
            obj.insert(key.into(), Value::from(t));
        }
    }
    for k in kids {
        let key = k.tag_name().name().to_owned();
        let v = convert(k, depth + 1, limits, at_root && key == "dependencies")?;
        match obj.get_mut(&key) {
            None => {
                obj.insert(key, v);
            }
            Some(Value::Array(a)) if list_items(&key).is_none() => a.push(v),
            Some(prev) => {
                let first = prev.take();
                *prev = Value::Array(vec![first, v]);
            }
        }
    }
    Ok(Value::Object(obj))
}

/// `<dependency ref="a"><dependency ref="b"/><provides ref="c"/></dependency>`.
fn dependency(n: Node<'_, '_>, depth: usize, limits: &Limits) -> Result<Value, String> {
    if depth > limits.max_depth {
        return Err(format!(
            "XML nesting deeper than {} levels",
            limits.max_depth
        ));
    }
    let mut obj = Map::new();
    if let Some(r) = n.attribute("ref") {
        obj.insert("ref".into(), Value::from(r));
    }
    let mut deps = Vec::new();
    let mut provides = Vec::new();
    for k in elements(n) {
        let r = Value::from(k.attribute("ref").unwrap_or(""));
        match k.tag_name().name() {
            "dependency" => deps.push(r),
            "provides" => provides.push(r),
            _ => {}
        }
    }
    if !deps.is_empty() {
        obj.insert("dependsOn".into(), Value::Array(deps));
    }
    if !provides.is_empty() {
        obj.insert("provides".into(), Value::Array(provides));
    }
    Ok(Value::Object(obj))
}
