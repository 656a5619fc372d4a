//! Local faults are repaired, not refused (docs/formats.md, "Repairs and `strict`").
//!
//! Data-driven: each case injects one fault, at one JSON pointer, into a real
//! generator's output from `tests/fixtures` (Trivy and GitHub dependency-graph SPDX,
//! Syft CycloneDX, an MCP server README config; see SOURCES-documents.md and
//! SOURCES-mcp.md), or is a minimal crafted document. Each is checked three ways:
//! without `strict` the document is recorded with a warning at the pointer naming the
//! fault and the documented repair, and what changed against the unfaulted document is
//! exactly the repair (artifacts and edges gained or lost, a name given); with `strict`
//! the same fault at the same pointer refuses it.

use ailedger_formats::{Document, Options, parse};
use serde_json::{Value, json};

use crate::{FIXTURES, check_invariants, read};

/// One fault class.
struct Case {
    /// What class of fault it is.
    class: &'static str,
    /// The fixture the fault is injected into (relative to `tests/fixtures`).
    fixture: &'static str,
    /// Where, and the value put there (`None`: the member is removed).
    at: &'static str,
    value: Option<Value>,
    /// The warning: its pointer, the fault and the repair (substrings of the message).
    pointer: &'static str,
    fault: &'static str,
    repair: &'static str,
    /// Artifacts and edges gained (lost, when negative) against the unfaulted document.
    artifacts: isize,
    edges: isize,
    /// An artifact the repair names so (a name given by the repair).
    named: Option<&'static str>,
}

const TRIVY_SPDX: &str = "spdx/protobom-trivy-0.42.1_mageia-5.1.spdx.json";
const DEPGRAPH_SPDX: &str = "spdx/protobom-github-depgraph-kubernetes-d61cbac6.spdx.json";
const SYFT_CDX: &str = "cyclonedx/protobom-syft-0.96.0_rails-5.0.0-1.5.cdx.json";
const MCP: &str = "mcp/servers__fetch__1.json";

fn cases() -> Vec<Case> {
    vec![
        Case {
            class: "SPDX 2 relationship naming an element the document does not define",
            fixture: TRIVY_SPDX,
            at: "/relationships/1/relatedSpdxElement",
            value: Some(json!("SPDXRef-OperatingSystem-missing")),
            pointer: "/relationships/1/relatedSpdxElement",
            fault: "\"SPDXRef-OperatingSystem-missing\" does not name any SPDXID in the document",
            repair: "; no edge recorded",
            artifacts: 0,
            edges: -1,
            named: None,
        },
        Case {
            class: "SPDX 2 relationship without a type",
            fixture: TRIVY_SPDX,
            at: "/relationships/1/relationshipType",
            value: None,
            pointer: "/relationships/1",
            fault: "missing required string \"relationshipType\"",
            repair: "; relationship dropped",
            artifacts: 0,
            edges: -1,
            named: None,
        },
        Case {
            class: "SPDX 2 package with an empty name",
            fixture: TRIVY_SPDX,
            at: "/packages/1/name",
            value: Some(json!("")),
            pointer: "/packages/1/name",
            fault: "name is empty",
            repair: "; named by its SPDXID \"SPDXRef-Package-28c91b9946006b98\"",
            artifacts: 0,
            edges: 0,
            named: Some("SPDXRef-Package-28c91b9946006b98"),
        },
        Case {
            class: "SPDX 2 package without a name",
            fixture: DEPGRAPH_SPDX,
            at: "/packages/1/name",
            value: None,
            pointer: "/packages/1",
            fault: "missing required \"name\"",
            repair: "; named by its SPDXID \"SPDXRef-go-bitbucket.org-bertimus9-systemstat-0.5.0\"",
            artifacts: 0,
            edges: 0,
            named: Some("SPDXRef-go-bitbucket.org-bertimus9-systemstat-0.5.0"),
        },
        Case {
            class: "SPDX 2 checksum that is not hex",
            fixture: TRIVY_SPDX,
            at: "/packages/1/checksums/0/checksumValue",
            value: Some(json!("zc6115a93bb47bdc67f3392c7ef57684")),
            pointer: "/packages/1/checksums/0",
            fault: "MD5 value \"zc6115a93bb47bdc67f3392c7ef57684\" is not hexadecimal",
            repair: "; checksum dropped",
            artifacts: 0,
            edges: 0,
            named: None,
        },
        Case {
            class: "SPDX 2 SPDXID used twice",
            fixture: DEPGRAPH_SPDX,
            at: "/packages/2/SPDXID",
            value: Some(json!("SPDXRef-go-bitbucket.org-bertimus9-systemstat-0.5.0")),
            pointer: "/packages/2/SPDXID",
            fault: "duplicate SPDXID \"SPDXRef-go-bitbucket.org-bertimus9-systemstat-0.5.0\"",
            repair: "; references name the first element with it",
            // The repository's DEPENDS_ON to packages/2 now names packages/1, which it
            // depends on already: one edge fewer, both packages still recorded.
            artifacts: 0,
            edges: -1,
            named: None,
        },
        Case {
            class: "CycloneDX hash whose content is not hex (base64)",
            fixture: SYFT_CDX,
            at: "/components/0/hashes",
            value: Some(
                json!([{"alg": "SHA-256", "content": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}]),
            ),
            pointer: "/components/0/hashes/0",
            fault: "SHA-256 value \"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=\" is not hexadecimal",
            repair: "; hash dropped",
            artifacts: 0,
            edges: 0,
            named: None,
        },
        Case {
            // The value cdxgen 2.x wrote as a SHA-256 (hex of a base64 text), reported
            // in cdxgen issue #30.
            class: "CycloneDX hash of the wrong length for its algorithm",
            fixture: SYFT_CDX,
            at: "/components/0/hashes",
            value: Some(
                json!([{"alg": "SHA-256", "content": "d3af366f679d75a6f5eb5e7575ae5b77879fdfcd3cd5ef5bdbb7fc79bdf771ddbd6da7f8d5fe3df7a7787bcf1ee9eef4"}]),
            ),
            pointer: "/components/0/hashes/0",
            fault: "SHA-256 value has 96 hex characters, expected 64",
            repair: "; hash dropped",
            artifacts: 0,
            edges: 0,
            named: None,
        },
        Case {
            class: "CycloneDX hash of an unknown algorithm",
            fixture: SYFT_CDX,
            at: "/components/0/hashes",
            value: Some(json!([{"alg": "SHA-2", "content": "abcd"}])),
            pointer: "/components/0/hashes/0",
            fault: "unknown hash algorithm \"SHA-2\"",
            repair: "; hash dropped",
            artifacts: 0,
            edges: 0,
            named: None,
        },
        Case {
            class: "CycloneDX component without a name (it has a purl)",
            fixture: SYFT_CDX,
            at: "/components/0/name",
            value: None,
            pointer: "/components/0",
            fault: "missing required \"name\"",
            repair: "; named by its purl's name \"debian/acl\"",
            artifacts: 0,
            edges: 0,
            named: Some("debian/acl"),
        },
        Case {
            class: "CycloneDX component without a type",
            fixture: SYFT_CDX,
            at: "/components/0/type",
            value: None,
            pointer: "/components/0",
            fault: "missing required \"type\"",
            repair: "; recorded as a package",
            artifacts: 0,
            edges: 0,
            named: None,
        },
        Case {
            class: "CycloneDX component of an unknown type",
            fixture: SYFT_CDX,
            at: "/components/0/type",
            value: Some(json!("gizmo")),
            pointer: "/components/0/type",
            fault: "unknown component type \"gizmo\"",
            repair: "; recorded as a package",
            artifacts: 0,
            edges: 0,
            named: None,
        },
        Case {
            class: "CycloneDX dependency naming no bom-ref",
            fixture: SYFT_CDX,
            at: "/dependencies/0/dependsOn/0",
            value: Some(json!("pkg:deb/debian/nowhere@1")),
            pointer: "/dependencies/0/dependsOn/0",
            fault: "ref \"pkg:deb/debian/nowhere@1\" does not name any bom-ref",
            repair: "; no edge recorded",
            artifacts: 0,
            edges: -1,
            named: None,
        },
        Case {
            class: "CycloneDX dependency without ref",
            fixture: SYFT_CDX,
            at: "/dependencies/0/ref",
            value: None,
            pointer: "/dependencies/0",
            fault: "missing required \"ref\"",
            repair: "; entry dropped",
            artifacts: 0,
            edges: -3,
            named: None,
        },
        Case {
            class: "CycloneDX dependsOn that is not an array",
            fixture: SYFT_CDX,
            at: "/dependencies/0/dependsOn",
            value: Some(json!("pkg:deb/debian/libc6")),
            pointer: "/dependencies/0/dependsOn",
            fault: "expected an array, found a string",
            repair: "; list ignored",
            artifacts: 0,
            edges: -3,
            named: None,
        },
        Case {
            class: "MCP server with neither command nor url",
            fixture: MCP,
            at: "/mcpServers/fetch",
            value: Some(json!({"type": "stdio"})),
            pointer: "/mcpServers/fetch",
            fault: "server has neither \"command\" nor \"url\"",
            repair: "; server dropped",
            // The server and the package it runs.
            artifacts: -2,
            edges: -2,
            named: None,
        },
        Case {
            class: "MCP env that is not an object",
            fixture: MCP,
            at: "/mcpServers/fetch/env",
            value: Some(json!(["TOKEN"])),
            pointer: "/mcpServers/fetch/env",
            fault: "expected an object, found an array",
            repair: "; env not recorded",
            artifacts: 0,
            edges: 0,
            named: None,
        },
    ]
}

/// Puts `value` at `ptr` (or removes the member there).
fn inject(doc: &mut Value, ptr: &str, value: Option<Value>) {
    let (parent, key) = ptr.rsplit_once('/').unwrap();
    let parent = doc.pointer_mut(parent).unwrap_or_else(|| panic!("{ptr}"));
    match (parent, value) {
        (Value::Object(m), Some(v)) => {
            m.insert(key.to_owned(), v);
        }
        (Value::Object(m), None) => {
            assert!(m.remove(key).is_some(), "{ptr}: nothing to remove");
        }
        (Value::Array(a), Some(v)) => a[key.parse::<usize>().unwrap()] = v,
        (_, _) => panic!("{ptr}: cannot inject"),
    }
}

fn strict() -> Options {
    Options {
        strict: true,
        ..Options::default()
    }
}

fn count(d: &Document) -> (isize, isize) {
    (d.artifacts.len() as isize, d.edges.len() as isize)
}

#[test]
fn every_fault_class_is_repaired_with_a_warning_and_refused_under_strict() {
    for c in cases() {
        let bytes = read(&format!("{FIXTURES}/{}", c.fixture));
        let base = parse(&bytes, &Options::default()).unwrap();
        let mut v: Value = serde_json::from_slice(&bytes).unwrap();
        inject(&mut v, c.at, c.value.clone());
        let faulty = serde_json::to_vec_pretty(&v).unwrap();

        let doc = parse(&faulty, &Options::default())
            .unwrap_or_else(|e| panic!("{}: refused without strict: {e}", c.class));
        check_invariants(&doc);
        let w: Vec<_> = doc
            .warnings
            .iter()
            .filter(|w| !base.warnings.iter().any(|b| b.message == w.message))
            .filter(|w| !w.message.contains(" schema: "))
            .collect();
        assert!(
            w.iter().any(|w| w.pointer == c.pointer
                && w.message.contains(c.fault)
                && w.message.contains(c.repair)),
            "{}: no warning at {} with {:?} and {:?}: {w:?}",
            c.class,
            c.pointer,
            c.fault,
            c.repair
        );
        let (a0, e0) = count(&base);
        let (a1, e1) = count(&doc);
        assert_eq!(
            (a1 - a0, e1 - e0),
            (c.artifacts, c.edges),
            "{}: artifacts and edges gained",
            c.class
        );
        if let Some(n) = c.named {
            assert!(
                doc.artifacts.iter().any(|a| a.name.as_deref() == Some(n)),
                "{}: no artifact named {n:?}",
                c.class
            );
            assert!(
                !base.artifacts.iter().any(|a| a.name.as_deref() == Some(n)),
                "{}: {n:?} is a name already",
                c.class
            );
        }

        let e = parse(&faulty, &strict())
            .map(|d| d.format)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("{}: {}", c.pointer, c.fault)),
            "{} (strict): {e}",
            c.class
        );
        // The unfaulted fixture is not refused under strict: the refusal is the fault's.
        parse(&bytes, &strict())
            .unwrap_or_else(|e| panic!("{} (strict, unfaulted): {e}", c.fixture));
    }
}

/// Minimal crafted documents, one per repair the real fixtures above do not reach.
#[test]
fn crafted_repairs() {
    let cdx = |components: Value| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components})
            .to_string()
    };
    let spdx = |packages: Value| {
        json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": packages})
            .to_string()
    };
    // (document, pointer, fault and repair, ids of the artifacts recorded)
    let cases: Vec<(String, &str, &str, Vec<&str>)> = vec![
        (
            cdx(json!([{"type": "library", "bom-ref": "lib-1"}])),
            "/components/0",
            "missing required \"name\"; named by its bom-ref \"lib-1\"",
            vec!["package:lib-1"],
        ),
        (
            cdx(json!([{"type": "library"}, {"type": "library", "name": "kept"}])),
            "/components/0",
            "missing required \"name\"; component dropped",
            vec!["package:kept"],
        ),
        (
            cdx(json!(["not a component", {"type": "library", "name": "kept"}])),
            "/components/0",
            "expected a component object, found a string; component dropped",
            vec!["package:kept"],
        ),
        (
            cdx(json!([{"type": "library", "name": "x", "version": 3}])),
            "/components/0/version",
            "expected a string, found a number; version ignored",
            vec!["package:x"],
        ),
        (
            spdx(json!([{"SPDXID": "SPDXRef-a", "name": "a", "primaryPackagePurpose": "GADGET"}])),
            "/packages/0/primaryPackagePurpose",
            "unknown primaryPackagePurpose \"GADGET\"",
            vec!["package:a"],
        ),
        (
            spdx(json!([{"name": "a"}])),
            "/packages/0",
            "missing required \"SPDXID\"; recorded, but no relationship can name it",
            vec!["package:a"],
        ),
        (
            spdx(json!([{"SPDXID": "SPDXRef-a"}])),
            "/packages/0",
            "missing required \"name\"; named by its SPDXID \"SPDXRef-a\"",
            vec!["package:SPDXRef-a"],
        ),
    ];
    for (doc, pointer, message, ids) in cases {
        let d = parse(doc.as_bytes(), &Options::default())
            .unwrap_or_else(|e| panic!("{doc}: refused: {e}"));
        check_invariants(&d);
        assert!(
            d.warnings
                .iter()
                .any(|w| w.pointer == pointer && w.message.contains(message)),
            "{doc}: {:?}",
            d.warnings
        );
        let got: Vec<&str> = d.artifacts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(got, ids, "{doc}");
        let fault = message.split("; ").next().unwrap();
        let e = parse(doc.as_bytes(), &strict()).unwrap_err().to_string();
        assert!(e.contains(&format!("{pointer}: {fault}")), "{doc}: {e}");
    }
}
