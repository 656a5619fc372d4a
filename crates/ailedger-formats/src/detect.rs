//! Format detection from content (never from a file name), and dispatch to the parser
//! of the detected format.

use ailedger_core::{ArtifactKind, Sha256Digest};
use serde_json::Value;

use crate::{
    Document, Encoding, Error, Format, Options, cargo_lock, cyclonedx, cyclonedx_xml, graph::Ctx,
    json, mcp, npm, python, schema, spdx2, spdx3,
};

fn first_byte(b: &[u8]) -> Option<u8> {
    b.iter().copied().find(|c| !c.is_ascii_whitespace())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A label for JSON syntax errors, guessed from the bytes before parsing.
fn json_label(b: &[u8]) -> &'static str {
    let head = &b[..b.len().min(64 * 1024)];
    if contains(head, b"\"bomFormat\"") {
        "CycloneDX JSON"
    } else if contains(head, b"\"spdxVersion\"") {
        "SPDX JSON"
    } else if contains(head, b"spdx.org/rdf/3") {
        "SPDX 3 JSON-LD"
    } else if contains(head, b"\"lockfileVersion\"") {
        "package-lock.json"
    } else if contains(head, b"\"_meta\"") {
        "Pipfile.lock"
    } else if contains(head, b"\"mcpServers\"")
        || contains(head, b"\"servers\"")
        || contains(head, b"\"mcp\"")
    {
        "MCP config"
    } else {
        "JSON document"
    }
}

/// Detects the format of a document from its content.
pub fn detect(bytes: &[u8]) -> Result<Format, Error> {
    let opts = Options::default();
    let b = json::strip_bom(bytes);
    match first_byte(b) {
        Some(b'{') | Some(b'[') => {
            let v = json::parse(b, json_label(b), &opts.limits)?;
            detect_json(&v)
        }
        Some(b'<') => {
            let head = &b[..b.len().min(64 * 1024)];
            let head = String::from_utf8_lossy(head);
            match head.find(cyclonedx_xml::NS_PREFIX) {
                Some(i) => {
                    let rest = &head[i + cyclonedx_xml::NS_PREFIX.len()..];
                    let v: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    Ok(Format::CycloneDx {
                        version: v,
                        encoding: Encoding::Xml,
                    })
                }
                None => Err(Error::Unrecognised(
                    "XML without the CycloneDX namespace".into(),
                )),
            }
        }
        Some(_) => {
            let text = std::str::from_utf8(b).map_err(|e| {
                Error::Unrecognised(format!(
                    "binary data (not UTF-8 at byte {})",
                    e.valid_up_to()
                ))
            })?;
            detect_text(text).map(|(f, _)| f)
        }
        None => Err(Error::Unrecognised("empty document".into())),
    }
}

/// Detects the format of a parsed JSON document.
fn detect_json(v: &Value) -> Result<Format, Error> {
    let Some(obj) = v.as_object() else {
        return Err(Error::Unrecognised(format!(
            "JSON {} is not a supported document",
            json::type_name(v)
        )));
    };
    if let Some(f) = obj.get("bomFormat") {
        if f.as_str() == Some("CycloneDX") {
            let version = cyclonedx::spec_version(v, "CycloneDX")?;
            return Ok(Format::CycloneDx {
                version,
                encoding: Encoding::Json,
            });
        }
        return Err(Error::Unrecognised(format!(
            "bomFormat {f} is not \"CycloneDX\""
        )));
    }
    if let Some(s) = obj.get("spdxVersion") {
        return match s.as_str() {
            Some("SPDX-2.2") => Ok(Format::Spdx2 {
                version: "2.2".into(),
            }),
            Some("SPDX-2.3") => Ok(Format::Spdx2 {
                version: "2.3".into(),
            }),
            _ => Err(Error::invalid(
                "SPDX",
                "/spdxVersion",
                format!("unsupported SPDX version {s} (supported: SPDX-2.2, SPDX-2.3)"),
            )),
        };
    }
    if let Some(c) = obj.get("@context")
        && c.to_string().contains("spdx.org/rdf/3")
    {
        return Ok(Format::Spdx3);
    }
    if let Some(lv) = obj.get("lockfileVersion") {
        return match lv.as_u64() {
            Some(n @ (2 | 3)) => Ok(Format::PackageLockJson { version: n as u32 }),
            _ => Err(Error::invalid(
                "package-lock.json",
                "/lockfileVersion",
                format!(
                    "unsupported lockfileVersion {lv} (supported: 2, 3; regenerate v1 files with npm 7 or later)"
                ),
            )),
        };
    }
    if obj.contains_key("_meta") && obj.contains_key("default") {
        return Ok(Format::PipfileLock);
    }
    if let Some(flavour) = mcp::flavour(obj) {
        return Ok(Format::McpConfig { flavour });
    }
    let keys: Vec<&str> = obj.keys().take(5).map(String::as_str).collect();
    Err(Error::Unrecognised(format!(
        "JSON object with keys {keys:?} is none of CycloneDX, SPDX, package-lock.json, Pipfile.lock or an MCP config"
    )))
}

/// A TOML document parsed to a table.
pub(crate) fn parse_toml(text: &str, label: &str) -> Result<toml::Table, Error> {
    text.parse::<toml::Table>().map_err(|e| {
        let (line, column) = match e.span() {
            Some(sp) => line_col(text, sp.start),
            None => (0, 0),
        };
        Error::Syntax {
            format: label.into(),
            syntax: "TOML",
            line,
            column,
            message: e.message().to_owned(),
        }
    })
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

enum Text {
    Toml(toml::Table),
    Lines,
}

fn looks_toml(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|l| l == "[[package]]" || l == "[metadata]")
}

fn detect_text(text: &str) -> Result<(Format, Text), Error> {
    if looks_toml(text) {
        let label = if text.contains("@generated by Cargo") {
            "Cargo.lock"
        } else if text.contains("@generated by Poetry") {
            "poetry.lock"
        } else {
            "TOML lockfile"
        };
        let t = parse_toml(text, label)?;
        let f = if t
            .get("metadata")
            .and_then(|m| m.get("content-hash").or_else(|| m.get("lock-version")))
            .is_some()
            || text.contains("@generated by Poetry")
        {
            Format::PoetryLock
        } else if t.contains_key("requires-python") || package_sources(&t).any(|s| s.is_table()) {
            Format::UvLock
        } else if text.contains("@generated by Cargo")
            || t.get("version").is_some_and(toml::Value::is_integer)
            || package_sources(&t).any(|s| {
                s.as_str()
                    .is_some_and(|s| s.starts_with("registry+") || s.starts_with("git+"))
            })
        {
            Format::CargoLock
        } else {
            return Err(Error::Unrecognised(
                "TOML with [[package]] tables that is neither Cargo.lock, poetry.lock nor uv.lock"
                    .into(),
            ));
        };
        return Ok((f, Text::Toml(t)));
    }
    match python::classify(text) {
        Some(f) => Ok((f, Text::Lines)),
        None => Err(Error::Unrecognised(
            "text that is neither a TOML lockfile nor requirements / pip freeze output".into(),
        )),
    }
}

fn package_sources(t: &toml::Table) -> impl Iterator<Item = &toml::Value> {
    t.get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("source"))
}

fn doc_kind(f: &Format) -> ArtifactKind {
    match f {
        Format::CycloneDx { .. } | Format::Spdx2 { .. } | Format::Spdx3 => ArtifactKind::Sbom,
        Format::McpConfig { .. } => ArtifactKind::McpConfig,
        _ => ArtifactKind::Environment,
    }
}

/// Smallest document whose digest is worth a thread of its own.
const PARALLEL_DIGEST_MIN: usize = 1024 * 1024;

/// Largest JSON document whose schema check runs on a second thread with its own parse
/// tree (which costs about ten times the document's size in memory).
const PARALLEL_SCHEMA_MAX: usize = 32 * 1024 * 1024;

/// CycloneDX JSON read as a stream (see [`cyclonedx::stream`]) on both cores. A
/// document of up to [`PARALLEL_SCHEMA_MAX`] bytes is mapped on this thread while the
/// second one computes its digest and checks it whole against the schema, on a tree of
/// its own; a larger one is read and checked part by part on the second thread and
/// mapped on this one. `None`: the tree reader must parse it.
fn stream_cyclonedx<'o>(b: &[u8], bytes: &[u8], opts: &'o Options) -> Option<(Ctx<'o>, Format)> {
    stream_cyclonedx_as(b, bytes, opts, b.len() > PARALLEL_SCHEMA_MAX)
}

/// [`stream_cyclonedx`], the way chosen by `piped` (tests run both on every fixture).
fn stream_cyclonedx_as<'o>(
    b: &[u8],
    bytes: &[u8],
    opts: &'o Options,
    piped: bool,
) -> Option<(Ctx<'o>, Format)> {
    if piped {
        return cyclonedx::stream::parse_piped(b, bytes, opts);
    }
    std::thread::scope(|s| {
        let check = s.spawn(|| {
            let digest = Sha256Digest::of(bytes);
            let deviations = (|| {
                let own: Value = serde_json::from_slice(b).ok()?;
                let version = cyclonedx::spec_version(&own, "").ok()?;
                let format = Format::CycloneDx {
                    version,
                    encoding: Encoding::Json,
                };
                Some(schema::deviations(&format, &own))
            })();
            (digest, deviations.unwrap_or_default())
        });
        let parsed = cyclonedx::stream::parse(b, opts);
        let (digest, deviations) = check.join().ok()?;
        let (mut ctx, format) = parsed?;
        if !ctx.set_digest(digest) {
            return None;
        }
        ctx.warn_all(deviations);
        Some((ctx, format))
    })
}

/// CycloneDX XML converted whole into the JSON document shape and mapped as a tree.
fn parse_xml_tree(text: &str, bytes: &[u8], opts: &Options) -> Result<Document, Error> {
    let (v, version) = cyclonedx_xml::to_json(text, &opts.limits)?;
    let format = Format::CycloneDx {
        version,
        encoding: Encoding::Xml,
    };
    cyclonedx::spec_version(&v, &format.to_string())?;
    let deviations = schema::xml_deviations(&version_of(&format), &v);
    let mut ctx = Ctx::new(opts, format.to_string(), bytes, ArtifactKind::Sbom);
    cyclonedx::parse(v, &mut ctx)?;
    ctx.warn_all(deviations);
    ctx.finish(format)
}

/// The spec version of a CycloneDX format (empty for any other).
fn version_of(format: &Format) -> String {
    match format {
        Format::CycloneDx { version, .. } => version.clone(),
        _ => String::new(),
    }
}

/// The largest streamed CycloneDX XML document that is schema-checked. The check
/// converts the document whole a second time, beside the stream's own conversion: for a
/// large document that would double the parse's memory and take a core from it (the
/// XML ingest target is 50 MB/s). Larger documents are mapped without the check; see
/// docs/formats.md.
pub(crate) const XML_SCHEMA_CHECK_MAX: usize = 8 * 1024 * 1024;

/// The schema deviations of CycloneDX XML `text` (see [`schema::xml_deviations`]),
/// from a conversion of its own; none for a document above [`XML_SCHEMA_CHECK_MAX`].
fn xml_schema_check(text: &str, opts: &Options) -> Vec<crate::Warning> {
    if text.len() > XML_SCHEMA_CHECK_MAX {
        return Vec::new();
    }
    match cyclonedx_xml::to_json(text, &opts.limits) {
        Ok((v, version)) => schema::xml_deviations(&version, &v),
        Err(_) => Vec::new(),
    }
}

/// CycloneDX XML converted a top-level element at a time on the second core and mapped
/// on this one (see [`cyclonedx_xml::events`]); `None`: the whole-document conversion
/// must do it.
fn stream_cyclonedx_xml<'o>(
    text: &str,
    bytes: &[u8],
    opts: &'o Options,
) -> Option<(Ctx<'o>, Format)> {
    cyclonedx::stream::produced(bytes, opts, Encoding::Xml, |queue| {
        cyclonedx_xml::events(text, &opts.limits, queue)
    })
    .map(|(ctx, format, ())| (ctx, format))
}

/// Runs the parser of a JSON format.
fn parse_json(v: Value, format: &Format, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    match format {
        Format::CycloneDx { .. } => cyclonedx::parse(v, ctx),
        Format::Spdx2 { .. } => spdx2::parse(v, ctx),
        Format::Spdx3 => spdx3::parse(v, ctx),
        Format::PackageLockJson { .. } => npm::parse(v, ctx),
        Format::PipfileLock => python::pipfile_lock(v, ctx),
        Format::McpConfig { flavour } => mcp::parse(v, *flavour, ctx),
        other => Err(Error::Unrecognised(format!("internal: {other} from JSON"))),
    }
}

/// A JSON document parsed as one tree.
fn parse_json_tree(b: &[u8], bytes: &[u8], opts: &Options, label: &str) -> Result<Document, Error> {
    // A large document's digest is computed on the second core while it is parsed.
    let (v, digest) = if bytes.len() > PARALLEL_DIGEST_MIN {
        std::thread::scope(|s| {
            let digest = s.spawn(|| Sha256Digest::of(bytes));
            let v = json::parse(b, label, &opts.limits);
            (v, digest.join().ok())
        })
    } else {
        (json::parse(b, label, &opts.limits), None)
    };
    let v = v?;
    let format = detect_json(&v)?;
    let digest = digest.unwrap_or_else(|| Sha256Digest::of(bytes));
    let mut ctx = Ctx::with_digest(opts, format.to_string(), digest, doc_kind(&format));
    if !schema::has_schema(&format) {
        parse_json(v, &format, &mut ctx)?;
    } else if b.len() <= PARALLEL_SCHEMA_MAX {
        // The schema check runs beside the parser, on a tree of its own (the
        // parser takes its tree apart as it goes): on two cores it adds
        // nothing to the time of a document of this size, only its memory.
        let deviations = std::thread::scope(|s| {
            let check = s.spawn(|| {
                serde_json::from_slice::<Value>(b)
                    .map(|own| schema::deviations(&format, &own))
                    .unwrap_or_default()
            });
            let parsed = parse_json(v, &format, &mut ctx);
            let deviations = check.join().unwrap_or_default();
            parsed.map(|()| deviations)
        })?;
        ctx.warn_all(deviations);
    } else {
        // Large documents: one tree at a time.
        let deviations = schema::deviations_on(&format, &v, 2);
        parse_json(v, &format, &mut ctx)?;
        ctx.warn_all(deviations);
    }
    ctx.finish(format)
}

pub(crate) fn parse_detected(bytes: &[u8], opts: &Options) -> Result<Document, Error> {
    let b = json::strip_bom(bytes);
    match first_byte(b) {
        Some(b'{') | Some(b'[') => {
            let label = json_label(b);
            if label == "CycloneDX JSON"
                && let Some((ctx, format)) = stream_cyclonedx(b, bytes, opts)
            {
                return ctx.finish(format);
            }
            parse_json_tree(b, bytes, opts, label)
        }
        Some(b'<') => {
            let text = std::str::from_utf8(b).map_err(|e| Error::Syntax {
                format: "CycloneDX XML".into(),
                syntax: "XML",
                line: line_col(
                    &String::from_utf8_lossy(&b[..e.valid_up_to()]),
                    e.valid_up_to(),
                )
                .0,
                column: 0,
                message: "not UTF-8".into(),
            })?;
            // The stream converts one top-level element at a time; the schema check
            // needs the document whole and converts it again, beside the stream.
            let streamed = std::thread::scope(|s| {
                let check = s.spawn(|| xml_schema_check(text, opts));
                let streamed = stream_cyclonedx_xml(text, bytes, opts);
                match streamed {
                    Some(parsed) => check.join().ok().map(|d| (parsed, d)),
                    None => None,
                }
            });
            if let Some(((mut ctx, format), deviations)) = streamed {
                ctx.warn_all(deviations);
                return ctx.finish(format);
            }
            parse_xml_tree(text, bytes, opts)
        }
        Some(_) => {
            let text = std::str::from_utf8(b).map_err(|e| {
                Error::Unrecognised(format!(
                    "binary data (not UTF-8 at byte {})",
                    e.valid_up_to()
                ))
            })?;
            let (format, parsed) = detect_text(text)?;
            let mut ctx = Ctx::new(opts, format.to_string(), bytes, doc_kind(&format));
            match (&format, parsed) {
                (Format::CargoLock, Text::Toml(t)) => cargo_lock::parse(t, &mut ctx)?,
                (Format::PoetryLock, Text::Toml(t)) => python::poetry_lock(t, &mut ctx)?,
                (Format::UvLock, Text::Toml(t)) => python::uv_lock(t, &mut ctx)?,
                (Format::RequirementsTxt | Format::PipFreeze, _) => {
                    python::requirements(text, &mut ctx)?
                }
                (other, _) => {
                    return Err(Error::Unrecognised(format!("internal: {other} from text")));
                }
            }
            ctx.finish(format)
        }
        None => Err(Error::Unrecognised("empty document".into())),
    }
}

/// Fuzzing aid: when the streaming reader (JSON or XML) accepts `bytes`, the tree reader
/// must give the same document. Panics otherwise.
pub(crate) fn check_stream_against_tree(bytes: &[u8], opts: &Options) {
    let b = json::strip_bom(bytes);
    if first_byte(b) == Some(b'<')
        && let Ok(text) = std::str::from_utf8(b)
        && let Some((ctx, format)) = stream_cyclonedx_xml(text, bytes, opts)
    {
        match (
            ctx.finish(format),
            parse_xml_tree(text, bytes, opts).map(but_schema),
        ) {
            (Ok(s), Ok(t)) if s == t => {}
            (s, t) => panic!("streamed and whole XML conversions differ: {s:?} vs {t:?}"),
        }
    }
    if !matches!(first_byte(b), Some(b'{')) || json_label(b) != "CycloneDX JSON" {
        return;
    }
    for piped in [false, true] {
        if let Some((ctx, format)) = stream_cyclonedx_as(b, bytes, opts, piped) {
            let streamed = ctx
                .finish(format)
                .map(|d| if piped { but_schema(d) } else { d });
            let tree = parse_json_tree(b, bytes, opts, json_label(b))
                .map(|d| if piped { but_schema(d) } else { d });
            match (streamed, tree) {
                (Ok(s), Ok(t)) if s == t => {}
                (s, t) => panic!("streaming and tree readers differ: {s:?} vs {t:?}"),
            }
        }
    }
}

/// A document without its schema deviations (the piped stream checks the schema part
/// by part: the same deviations as a set, in another order; a test holds them to it).
fn but_schema(mut d: Document) -> Document {
    d.warnings.retain(|w| !is_schema_deviation(w));
    d
}

fn is_schema_deviation(w: &crate::Warning) -> bool {
    w.message.starts_with("does not match the ")
        || (w.pointer == "/" && w.message.contains(" more deviations from the "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Warning, cyclonedx::stream};

    include!("../benches/gen.rs");

    /// The CycloneDX fixtures whose names end in `.ext`, sorted, with their bytes.
    fn fixture_files(ext: &str) -> Vec<(String, Vec<u8>)> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/cyclonedx"
        );
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        out.sort();
        out
    }

    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let mut out = fixture_files("json");
        // Two documents that deviate from their schema (a malformed `date-time`).
        for rel in [
            "1.2/invalid-metadata-timestamp-1.2.json",
            "1.6/invalid-metadata-timestamp-1.6.json",
        ] {
            let p = format!(
                "{}/../../tests/fixtures/cyclonedx-spec/{rel}",
                env!("CARGO_MANIFEST_DIR")
            );
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
        out.push((
            "generated".into(),
            ailedger_formats_bench_bom(300).into_bytes(),
        ));
        out
    }

    /// The schema deviations among `warnings`, sorted by pointer and message.
    fn schema_deviations(warnings: &[Warning]) -> Vec<Warning> {
        let mut w: Vec<Warning> = warnings
            .iter()
            .filter(|w| is_schema_deviation(w))
            .cloned()
            .collect();
        w.sort_by(|a, b| (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message)));
        w
    }

    /// The streaming reader, on one thread or two, gives exactly the tree reader's
    /// document — same artifacts in the same order, same edges, same warnings (the
    /// schema deviations of the piped stream aside: see the next test) — or gives the
    /// document back to it.
    #[test]
    fn streaming_reader_matches_the_tree_reader() {
        let opts = Options::default();
        for piped in [false, true] {
            let mut streamed = 0;
            for (name, bytes) in fixtures() {
                let b = json::strip_bom(&bytes);
                let tree = parse_json_tree(b, &bytes, &opts, json_label(b));
                match stream_cyclonedx_as(b, &bytes, &opts, piped).map(|(c, f)| c.finish(f)) {
                    Some(s) if piped => {
                        let (s, t) = (s.unwrap(), tree.unwrap());
                        let dt = schema_deviations(&t.warnings);
                        if dt.len() <= 20 {
                            assert_eq!(schema_deviations(&s.warnings), dt, "{name} (piped)");
                        }
                        assert_eq!(but_schema(s), but_schema(t), "{name} (piped)");
                        streamed += 1;
                    }
                    Some(s) => {
                        assert_eq!(s.unwrap(), tree.unwrap(), "{name}");
                        streamed += 1;
                    }
                    None => assert!(tree.is_err(), "{name}: valid but not streamed"),
                }
            }
            // Every valid fixture streamed (the invalid ones fall back).
            assert!(streamed >= 22, "{streamed} (piped: {piped})");
        }
    }

    /// A CycloneDX 1.6 XML BOM using most of what the mapping reads.
    const RICH_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="7">
  <metadata>
    <timestamp>2026-11-24T00:00:00Z</timestamp>
    <tools><tool><vendor>acme</vendor><name>gen</name></tool></tools>
    <component type="application" bom-ref="app"><name>app</name><version>2.0</version></component>
  </metadata>
  <components>
    <component type="library" bom-ref="lib-a">
      <group>org.acme</group><name>a</name><version>1.0</version>
      <hashes><hash alg="SHA-256">9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</hash><hash alg="MD5">098f6bcd4621d373cade4e832627b4f6</hash></hashes>
      <licenses><license><id>MIT</id></license><expression>Apache-2.0 OR MIT</expression></licenses>
      <purl>pkg:maven/org.acme/a@1.0</purl>
      <externalReferences><reference type="vcs"><url>https://example.com/a.git</url></reference></externalReferences>
      <properties><property name="k">v</property></properties>
      <components>
        <component type="file" bom-ref="a-file"><name>a.jar</name><hashes><hash alg="SHA-256">60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752</hash></hashes></component>
      </components>
      <pedigree><ancestors><component type="library" bom-ref="a-up"><name>a-upstream</name><version>0.9</version><purl>pkg:maven/org.up/a@0.9</purl></component></ancestors></pedigree>
    </component>
    <component type="machine-learning-model" bom-ref="model">
      <name>sentiment</name><version>3</version>
      <modelCard><modelParameters><datasets><dataset><ref>data</ref></dataset></datasets></modelParameters></modelCard>
    </component>
    <component type="data" bom-ref="data"><name>reviews</name><data><type>dataset</type><name>reviews</name></data></component>
    <component type="library" bom-ref="lib-b"><name>b</name><version>2.1</version><purl>pkg:npm/b@2.1</purl></component>
  </components>
  <services>
    <service bom-ref="svc"><name>api</name><version>1</version><endpoints><endpoint>https://example.com/api</endpoint></endpoints></service>
  </services>
  <dependencies>
    <dependency ref="app"><dependency ref="lib-a"/><dependency ref="model"/><dependency ref="svc"/></dependency>
    <dependency ref="lib-a"><dependency ref="lib-b"/><provides ref="a-file"/></dependency>
    <dependency ref="model"><dependency ref="data"/></dependency>
  </dependencies>
  <vulnerabilities><vulnerability bom-ref="v1"><id>CVE-2026-0001</id><affects><target><ref>lib-b</ref></target></affects></vulnerability></vulnerabilities>
</bom>
"#;

    /// A generated CycloneDX 1.6 XML BOM of `n` components, three dependencies each.
    fn generated_xml(n: usize) -> String {
        let mut s = String::from(
            r#"<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><metadata><component type="application" bom-ref="app"><name>app</name></component></metadata><components>"#,
        );
        for i in 0..n {
            s.push_str(&format!(
                r#"<component type="library" bom-ref="c{i}"><name>pkg-{i}</name><version>1.{i}</version><purl>pkg:npm/pkg-{i}@1.{i}</purl></component>"#
            ));
        }
        s.push_str("</components><dependencies>");
        for i in 0..n {
            s.push_str(&format!(r#"<dependency ref="c{i}">"#));
            for k in 1..=3 {
                s.push_str(&format!(r#"<dependency ref="c{}"/>"#, (i * 7 + k * 13) % n));
            }
            s.push_str("</dependency>");
        }
        s.push_str("</dependencies></bom>");
        s
    }

    /// CycloneDX XML converted and mapped an element at a time gives exactly the
    /// document of the whole conversion, or hands the document back to it.
    #[test]
    fn streamed_xml_matches_the_whole_conversion() {
        let opts = Options::default();
        let mut docs = fixture_files("xml");
        docs.push(("rich".into(), RICH_XML.as_bytes().to_vec()));
        docs.push(("generated".into(), generated_xml(500).into_bytes()));
        let (mut streamed, mut whole) = (0, 0);
        for (name, bytes) in &docs {
            let Ok(text) = std::str::from_utf8(json::strip_bom(bytes)) else {
                continue;
            };
            let tree = parse_xml_tree(text, bytes, &opts);
            whole += usize::from(tree.is_ok());
            match stream_cyclonedx_xml(text, bytes, &opts).map(|(c, f)| c.finish(f)) {
                Some(s) => {
                    // The stream's caller adds the schema deviations.
                    assert_eq!(s.unwrap(), but_schema(tree.unwrap()), "{name}");
                    streamed += 1;
                }
                None => assert!(tree.is_err(), "{name}: valid but not streamed"),
            }
        }
        assert!(whole == 3 && streamed == whole, "{streamed} of {whole}");
        // The layouts handed back: `parse` answers them as the whole conversion does.
        let ns = r#"xmlns="http://cyclonedx.org/schema/bom/1.6""#;
        let comp = r#"<component type="library" bom-ref="a"><name>a</name></component>"#;
        let meta = r#"<metadata><component type="application" bom-ref="app"><name>app</name></component></metadata>"#;
        for doc in [
            format!("<bom {ns}><components>{comp}</components>{meta}</bom>"),
            format!("<bom {ns}><components>{comp}</components><components/></bom>"),
            format!(
                "<bom {ns}><components>{comp}<service><name>s</name></service></components></bom>"
            ),
            format!("<bom {ns} version=\"1\"/>"),
        ] {
            assert!(
                stream_cyclonedx_xml(&doc, doc.as_bytes(), &opts).is_none(),
                "{doc}"
            );
            assert_eq!(
                format!("{:?}", crate::parse(doc.as_bytes(), &opts)),
                format!("{:?}", parse_xml_tree(&doc, doc.as_bytes(), &opts)),
            );
        }
    }

    /// Checked part by part, a document gets, as a set, the same schema deviations as
    /// checked whole (order and the `uniqueItems` wording aside).
    #[test]
    fn schema_check_by_parts_finds_what_the_whole_check_finds() {
        let opts = Options::default();
        let mut with_deviations = 0;
        for (name, bytes) in fixtures() {
            let b = json::strip_bom(&bytes);
            let Ok(tree) = parse_json_tree(b, &bytes, &opts, json_label(b)) else {
                continue;
            };
            let parts =
                stream::schema_parts(b, &opts).unwrap_or_else(|| panic!("{name}: not streamed"));
            let parts = schema_deviations(&parts);
            let ts = schema_deviations(&tree.warnings);
            if ts.len() <= 20 {
                assert_eq!(parts, ts, "{name}");
            }
            with_deviations += usize::from(!ts.is_empty());
        }
        assert!(with_deviations >= 2, "{with_deviations}");
    }

    /// The part check reports equal components and equal dependencies as the schema's
    /// `uniqueItems` would; components with bom-refs are never equal in a document the
    /// stream accepts.
    #[test]
    fn the_part_check_reports_equal_elements() {
        let opts = Options::default();
        let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
            {"type":"library","name":"a","version":"1"},
            {"type":"library","name":"b","version":"1","bom-ref":"b"},
            {"type":"library","name":"a","version":"1"}],
            "dependencies":[{"ref":"b"},{"ref":"b"}]}"#;
        let w = stream::schema_parts(doc.as_bytes(), &opts).unwrap();
        let equal: Vec<_> = w
            .iter()
            .filter(|w| w.message.contains("are equal"))
            .map(|w| (w.pointer.as_str(), w.message.contains("items 0 and 2")))
            .collect();
        assert_eq!(equal.len(), 2, "{w:?}");
        assert!(equal.contains(&("/components", true)), "{w:?}");
        assert!(equal.iter().any(|(p, _)| *p == "/dependencies"), "{w:?}");
        // Piped, the same document keeps those warnings.
        let d = stream_cyclonedx_as(doc.as_bytes(), doc.as_bytes(), &opts, true)
            .map(|(c, f)| c.finish(f).unwrap())
            .unwrap();
        assert_eq!(
            d.warnings
                .iter()
                .filter(|w| w.message.contains("are equal"))
                .count(),
            2
        );
    }

    /// Layouts and faults the stream hands back, and what it does with them.
    #[test]
    fn the_stream_hands_back_what_it_cannot_vouch_for() {
        let opts = Options::default();
        let streams = |doc: &str| {
            let one = stream_cyclonedx_as(doc.as_bytes(), doc.as_bytes(), &opts, false).is_some();
            let two = stream_cyclonedx_as(doc.as_bytes(), doc.as_bytes(), &opts, true).is_some();
            assert_eq!(one, two, "{doc}");
            one
        };
        let comp = r#"{"type":"library","name":"a","version":"1","bom-ref":"a"}"#;
        let meta =
            r#""metadata":{"component":{"type":"application","name":"app","bom-ref":"app"}}"#;
        let deps = r#""dependencies":[{"ref":"app","dependsOn":["a"]}]"#;
        let head = r#""bomFormat":"CycloneDX","specVersion":"1.6""#;
        assert!(streams(&format!(
            "{{{head},{meta},\"components\":[{comp}],{deps}}}"
        )));
        // Dependencies first: kept and resolved at the end.
        assert!(streams(&format!(
            "{{{head},{deps},{meta},\"components\":[{comp}]}}"
        )));
        // Metadata after the components would change which mention comes first.
        assert!(!streams(&format!(
            "{{{head},\"components\":[{comp}],{meta},{deps}}}"
        )));
        // A repeated key, an unknown spec version, a dangling ref, a duplicate bom-ref.
        assert!(!streams(&format!(
            "{{{head},{head},\"components\":[{comp}]}}"
        )));
        assert!(!streams(&format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"9.9","components":[{comp}]}}"#
        )));
        assert!(!streams(&format!(
            r#"{{{head},"components":[{comp}],"services":[{{"bom-ref":"a","name":"s"}}]}}"#
        )));
        // A dangling ref is a local fault: repaired (no edge, a warning) by the stream
        // exactly as by the tree reader, handed back under `strict`.
        let dangling = format!(
            r#"{{{head},"components":[{comp}],"dependencies":[{{"ref":"a","dependsOn":["zz"]}}]}}"#
        );
        assert!(streams(&dangling));
        let b = dangling.as_bytes();
        let tree = parse_json_tree(b, b, &opts, json_label(b)).unwrap();
        for piped in [false, true] {
            let s = stream_cyclonedx_as(b, b, &opts, piped)
                .map(|(c, f)| c.finish(f).unwrap())
                .unwrap();
            assert_eq!(s, tree, "piped: {piped}");
        }
        assert!(
            tree.warnings
                .iter()
                .any(|w| w.pointer == "/dependencies/0/dependsOn/0"
                    && w.message.contains("\"zz\"")
                    && w.message.contains("no edge recorded")),
            "{:?}",
            tree.warnings
        );
        let strict = Options {
            strict: true,
            ..Options::default()
        };
        for piped in [false, true] {
            assert!(stream_cyclonedx_as(b, b, &strict, piped).is_none());
        }
        // Each of those still gets the tree reader's answer through `parse`.
        let e = crate::parse(b, &strict).unwrap_err().to_string();
        assert!(
            e.contains("/dependencies/0/dependsOn/0") && e.contains("\"zz\""),
            "{e}"
        );
    }

    /// Limits hold in the stream exactly as in the tree.
    #[test]
    fn the_stream_keeps_the_limits() {
        let opts = Options {
            limits: crate::Limits {
                max_depth: 5,
                max_string_len: 8,
                ..crate::Limits::default()
            },
            ..Options::default()
        };
        for doc in [
            // Too deep inside a component (depth 6).
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","x":{"y":{"z":[1]}}}]}"#,
            // A string too long inside a dependency.
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[],"dependencies":[{"ref":"aaaaaaaaaaaa"}]}"#,
            // A key too long at the root.
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","aaaaaaaaaaaa":1}"#,
        ] {
            for piped in [false, true] {
                assert!(
                    stream_cyclonedx_as(doc.as_bytes(), doc.as_bytes(), &opts, piped).is_none(),
                    "{doc}"
                );
            }
            let e = crate::parse(doc.as_bytes(), &opts).unwrap_err().to_string();
            assert!(e.contains("limit") || e.contains("deeper"), "{e}");
        }
    }
}
