//! The SPDX 2.3 writer over a subgraph with every kind of artifact and edge: the
//! document validates against the vendored SPDX 2.3 schema, is deterministic, and
//! `ailedger-formats` reads back the same artifacts (ids, kinds, aliases) and edges;
//! what SPDX 2.3 has no field for is said in annotations and `LicenseRef-`s; written from
//! a skeleton with records read in batches it is the same document.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use ailedger_core::{ArtifactKind, EdgeKind, Severity};
mod common;

use ailedger_export::{Artifact, Attestation, Edge, IncidentVex, LedgerState, Subgraph, spdx};
use common::{Batches, skeleton};
use serde_json::{Map, Value, json};

const SPDX_2_3: &str = include_str!("../../../schemas/spdx/spdx-2.3.schema.json");

fn art(id: &str, kind: ArtifactKind, name: Option<&str>, version: Option<&str>) -> Artifact {
    Artifact {
        id: id.into(),
        kind,
        name: name.map(str::to_owned),
        version: version.map(str::to_owned),
        aliases: vec![],
        attrs: Map::new(),
        first_seq: 1,
    }
}

fn edge(from: &str, kind: EdgeKind, to: &str) -> Edge {
    Edge {
        from: from.into(),
        kind,
        to: to.into(),
        paths: vec![],
    }
}

fn sha(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// A deployment of a fine-tuned model trained on a dataset, with its files, an MCP
/// config and server, packages with licences and suppliers, an attestation and an
/// incident.
pub fn sample() -> Subgraph {
    let dep = "deployment:prod/support-bot";
    let model = sha('a');
    let base = "model:acme/base@2";
    let data = sha('b');
    let weights = sha('c');
    let cfg = sha('d');
    let server = "mcp-server:files";
    let npm = "pkg:npm/%40modelcontextprotocol/server-filesystem@1.0.0";
    let lib = "pkg:pypi/torch@2.3.0";
    let builder = "builder:https://github.com/actions/runner";
    let att = sha('e');
    let mut m = art(
        &model,
        ArtifactKind::Model,
        Some("acme/support"),
        Some("1.1"),
    );
    m.aliases = vec![
        "model:acme/support@1.1".into(),
        "pkg:huggingface/acme/support@1.1".into(),
    ];
    m.attrs.insert(
        "hashes".into(),
        json!({"SHA-256": "a".repeat(64), "SHA-512": "f".repeat(128)}),
    );
    m.attrs.insert(
        "licenses".into(),
        json!([{"license": {"id": "Apache-2.0"}}]),
    );
    m.attrs.insert("supplier".into(), json!({"name": "Acme"}));
    m.attrs.insert(
        "modelCard".into(),
        json!({"bom-ref": "card-1",
               "modelParameters": {"approach": {"type": "supervised"}, "datasets": [{"ref": "ds-1"}]},
               "considerations": {"useCases": ["customer support"]}}),
    );
    m.attrs.insert("task".into(), json!("text-generation"));
    m.attrs.insert(
        "findings".into(),
        json!([{"code": "AIL-MDL-001", "severity": "medium", "message": "unsigned weights"}]),
    );
    m.attrs.insert(
        "externalReferences".into(),
        json!([
            {"type": "website", "url": "https://acme.example/support"},
            {"type": "vcs", "url": "https://github.com/acme/support.git"},
            {"type": "issue-tracker", "url": "https://github.com/acme/support/issues", "comment": "bugs"},
            {"type": "advisories", "url": "https://acme.example/advisories"},
            {"type": "website", "url": "https://acme.example/second site"}
        ]),
    );
    m.attrs.insert(
        "properties".into(),
        json!([{"name": "ailedger:kind", "value": "model"}, {"name": "acme:tier", "value": "gold"}]),
    );
    m.attrs.insert("tags".into(), json!(["chat"]));
    let mut d = art(&data, ArtifactKind::Dataset, Some("tickets"), None);
    d.aliases = vec!["dataset:tickets".into()];
    let mut w = art(
        &weights,
        ArtifactKind::File,
        Some("model.safetensors"),
        None,
    );
    w.attrs
        .insert("hashes".into(), json!({"SHA-1": "1".repeat(40)}));
    w.attrs.insert(
        "findings".into(),
        json!([{"code": "AIL-PKL-001", "severity": "critical", "message": "pickle imports os.system"}]),
    );
    let mut t = art(lib, ArtifactKind::Package, Some("torch"), Some("2.3.0"));
    t.aliases = vec!["package:torch@2.3.0".into(), sha('9')];
    t.attrs
        .insert("licenseDeclared".into(), json!("BSD-3-Clause"));
    t.attrs
        .insert("supplier".into(), json!("Organization: PyTorch"));
    t.attrs.insert(
        "downloadLocation".into(),
        json!("https://pypi.org/project/torch"),
    );
    let mut n = art(
        npm,
        ArtifactKind::Package,
        Some("@modelcontextprotocol/server-filesystem"),
        Some("1.0.0"),
    );
    n.aliases = vec!["package:@modelcontextprotocol/server-filesystem@1.0.0".into()];
    n.attrs.insert(
        "licenses".into(),
        json!([{"license": {"name": "Acme Tools Licence", "text": {"content": "You may use it."}}},
               {"license": {"id": "MIT"}}]),
    );
    n.attrs.insert("type".into(), json!("library"));
    n.attrs.insert(
        "cpe".into(),
        json!("cpe:2.3:a:modelcontextprotocol:server-filesystem:1.0.0:*:*:*:*:*:*:*"),
    );
    n.attrs.insert(
        "externalReferences".into(),
        json!([{"type": "distribution", "url": "https://registry.example/server-filesystem-1.0.0.tgz"}]),
    );
    let mut dp = art(
        dep,
        ArtifactKind::Deployment,
        Some("prod/support-bot"),
        None,
    );
    dp.attrs.insert("env".into(), json!("prod"));
    dp.attrs.insert("owner".into(), json!("support-team"));
    dp.attrs
        .insert("contact".into(), json!("mailto:support@acme.example"));
    let a = art(&att, ArtifactKind::Attestation, None, None);
    // Known by name, with a digest alias and a SHA-256 hash: neither may become its id.
    let mut lp = art(
        "package:leftpad@1",
        ArtifactKind::Package,
        Some("leftpad"),
        Some("1"),
    );
    lp.aliases = vec![sha('8')];
    lp.attrs.insert(
        "hashes".into(),
        json!({"SHA-256": "8".repeat(64), "MD5": "5".repeat(32)}),
    );
    lp.attrs.insert("license".into(), json!("Apache 2.0"));
    let mut srv = art(server, ArtifactKind::McpServer, Some("files"), None);
    srv.attrs.insert("transport".into(), json!("stdio"));
    srv.attrs.insert("command".into(), json!("npx"));
    srv.attrs.insert(
        "args".into(),
        json!([
            "-y",
            "@modelcontextprotocol/server-filesystem@1.0.0",
            "/srv"
        ]),
    );
    srv.attrs
        .insert("env".into(), json!({"API_TOKEN": "<redacted>"}));
    let mut edges = vec![
        edge(dep, EdgeKind::Deploys, &model),
        edge(dep, EdgeKind::DependsOn, &cfg),
        edge(&model, EdgeKind::DerivedFrom, base),
        edge(&model, EdgeKind::TrainedOn, &data),
        edge(&model, EdgeKind::Contains, &weights),
        edge(&model, EdgeKind::BuiltFrom, lib),
        edge(&model, EdgeKind::BuiltBy, builder),
        edge(&cfg, EdgeKind::UsesTool, server),
        edge(server, EdgeKind::Runs, npm),
        edge(npm, EdgeKind::DependsOn, "package:leftpad@1"),
        edge(&att, EdgeKind::Attests, &model),
    ];
    edges[4].paths = vec!["model.safetensors".into()];
    edges.sort();
    Subgraph {
        root: dep.into(),
        artifacts: vec![
            dp,
            m,
            art(&cfg, ArtifactKind::McpConfig, None, None),
            art(base, ArtifactKind::Model, Some("acme/base"), Some("2")),
            d,
            w,
            t,
            art(
                builder,
                ArtifactKind::Builder,
                Some("https://github.com/actions/runner"),
                None,
            ),
            srv,
            n,
            lp,
            a,
        ],
        edges,
        attestations: vec![Attestation {
            id: att.clone(),
            subjects: vec![model.clone()],
            verification: Some("verified".into()),
            predicate_type: Some("https://slsa.dev/provenance/v1".into()),
        }],
        incidents: vec![IncidentVex {
            id: 7,
            state: "open".into(),
            severity: Severity::High,
            reason: "poisoned weights".into(),
            advisory: Some("GHSA-xxxx-yyyy-zzzz".into()),
            opened: "2026-01-02T03:04:05.123456Z".into(),
            affects: vec![model],
        }],
        ledger: LedgerState {
            seq: 42,
            time: "2026-01-02T03:04:06.000001Z".into(),
            root_hash: Some("ab".repeat(32)),
        },
    }
}

/// The schema's errors for `doc`, with their pointers.
pub fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SPDX_2_3).expect("vendored schema is JSON");
    let v = jsonschema::options()
        .build(&schema)
        .expect("the SPDX 2.3 schema compiles");
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn validates_against_the_spdx_2_3_schema() {
    let doc = spdx::document(&sample());
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2026-01-02T03:04:06Z");
    let creators = doc["creationInfo"]["creators"].to_string();
    assert!(creators.contains("Tool: ailedger-"), "{creators}");
    let comment = doc["comment"].as_str().unwrap_or_default();
    assert!(
        comment.contains("seq 42") && comment.contains(&"ab".repeat(32)),
        "{comment}"
    );
}

#[test]
fn is_deterministic_and_tied_to_the_ledger_state() {
    let sub = sample();
    let a = spdx::to_json(&sub);
    assert_eq!(a, spdx::to_json(&sub.clone()));
    let mut later = sub.clone();
    later.ledger.seq = 43;
    let (da, db) = (spdx::document(&sub), spdx::document(&later));
    assert_ne!(da["documentNamespace"], db["documentNamespace"]);
    assert!(
        da["documentNamespace"]
            .as_str()
            .unwrap_or_default()
            .starts_with("urn:ailedger:spdx:")
    );
    // SPDXIDs depend on the id only.
    assert_eq!(da["packages"], db["packages"]);
}

#[test]
fn says_what_the_ledger_keeps() {
    let doc = spdx::document(&sample());
    let pkgs = doc["packages"].as_array().cloned().unwrap_or_default();
    let by_name = |n: &str| {
        pkgs.iter()
            .find(|p| p["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no package {n}: {pkgs:?}"))
    };
    let m = by_name("acme/support");
    assert_eq!(m["licenseDeclared"], "Apache-2.0");
    assert_eq!(m["supplier"], "Organization: Acme");
    assert_eq!(
        m["checksums"],
        json!([{"algorithm": "SHA256", "checksumValue": "a".repeat(64)},
               {"algorithm": "SHA512", "checksumValue": "f".repeat(128)}])
    );
    let notes = m["annotations"].to_string();
    assert!(
        notes.contains("incident 7 (open, severity high)") && notes.contains("GHSA-xxxx-yyyy-zzzz"),
        "{notes}"
    );
    assert!(notes.contains("verification verified"), "{notes}");
    let t = by_name("torch");
    assert_eq!(t["licenseDeclared"], "BSD-3-Clause");
    assert_eq!(t["supplier"], "Organization: PyTorch");
    // The weights are an SPDX file, named by their path.
    assert_eq!(doc["files"][0]["fileName"], "model.safetensors");
    let rels = doc["relationships"].as_array().cloned().unwrap_or_default();
    assert_eq!(rels[0]["spdxElementId"], "SPDXRef-DOCUMENT");
    assert_eq!(rels[0]["relationshipType"], "DESCRIBES");
    assert_eq!(
        rels[0]["relatedSpdxElement"],
        spdx::spdxid("deployment:prod/support-bot")
    );
    let types: BTreeSet<String> = rels
        .iter()
        .map(|r| r["relationshipType"].as_str().unwrap_or("").to_owned())
        .collect();
    for t in [
        "DEPENDS_ON",
        "CONTAINS",
        "DESCENDANT_OF",
        "GENERATED_FROM",
        "BUILD_TOOL_OF",
        "OTHER",
    ] {
        assert!(types.contains(t), "{t} missing from {types:?}");
    }
}

#[test]
fn reads_back_as_the_same_artifacts_and_edges() {
    let sub = sample();
    let bytes = spdx::to_json(&sub);
    let doc = ailedger_formats::parse(&bytes, &ailedger_formats::Options::default())
        .expect("the export parses");
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    let got: BTreeSet<(String, ArtifactKind, Vec<String>)> = doc
        .artifacts
        .iter()
        .map(|a| {
            let mut al = a.aliases.clone();
            al.sort();
            (a.id.clone(), a.kind, al)
        })
        .collect();
    let want: BTreeSet<(String, ArtifactKind, Vec<String>)> = sub
        .artifacts
        .iter()
        .map(|a| (a.id.clone(), a.kind, a.aliases.clone()))
        .collect();
    assert_eq!(got, want);
    let got: BTreeSet<(String, EdgeKind, String)> = doc
        .edges
        .iter()
        .filter(|e| e.from != doc.document.id)
        .map(|e| (e.from.clone(), e.edge, e.to.clone()))
        .collect();
    let want: BTreeSet<(String, EdgeKind, String)> = sub
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.kind, e.to.clone()))
        .collect();
    assert_eq!(got, want);
    let described: Vec<&str> = doc
        .edges
        .iter()
        .filter(|e| e.from == doc.document.id)
        .map(|e| e.to.as_str())
        .collect();
    assert_eq!(described, vec![sub.root.as_str()]);
}

/// The comments of an element's annotations that start with `prefix`, without it.
fn notes(element: &Value, prefix: &str) -> Vec<String> {
    element["annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["comment"].as_str()?.strip_prefix(prefix))
        .map(str::to_owned)
        .collect()
}

fn by_name(doc: &Value, name: &str) -> Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn says_what_spdx_has_no_field_for() {
    let doc = spdx::document(&sample());
    assert_eq!(schema_errors(&doc), Vec::<String>::new());

    // The model: its card (without the other document's bom-ref and dataset refs), its
    // finding, its homepage and VCS, its other references, its properties and the rest.
    let m = by_name(&doc, "acme/support");
    let card = notes(&m, spdx::MODEL_CARD_NOTE);
    assert_eq!(card.len(), 1, "{m}");
    let card: Value = serde_json::from_str(&card[0]).unwrap();
    assert_eq!(
        card,
        json!({"modelParameters": {"approach": {"type": "supervised"}, "task": "text-generation"},
               "considerations": {"useCases": ["customer support"]}})
    );
    assert_eq!(
        notes(&m, spdx::FINDING_NOTE),
        vec!["AIL-MDL-001 medium: unsigned weights"]
    );
    assert_eq!(m["homepage"], "https://acme.example/support");
    assert_eq!(
        m["downloadLocation"],
        "git+https://github.com/acme/support.git"
    );
    assert_eq!(m["primaryPackagePurpose"], "OTHER");
    let refs = m["externalRefs"].as_array().unwrap();
    assert!(
        refs.contains(
            &json!({"referenceCategory": "OTHER", "referenceType": "issue-tracker",
        "referenceLocator": "https://github.com/acme/support/issues", "comment": "bugs"})
        ),
        "{refs:?}"
    );
    assert!(
        refs.contains(
            &json!({"referenceCategory": "SECURITY", "referenceType": "advisory",
        "referenceLocator": "https://acme.example/advisories"})
        ),
        "{refs:?}"
    );
    // A second website is a reference, its space escaped; what became a field is not one.
    assert!(
        refs.contains(
            &json!({"referenceCategory": "OTHER", "referenceType": "website",
        "referenceLocator": "https://acme.example/second%20site"})
        ),
        "{refs:?}"
    );
    let locators = m["externalRefs"].to_string();
    assert!(!locators.contains("support.git"), "{locators}");
    assert!(
        !locators.contains("\"https://acme.example/support\""),
        "{locators}"
    );
    assert_eq!(
        notes(&m, spdx::PROPERTIES_NOTE),
        vec![r#"[{"name":"acme:tier","value":"gold"}]"#]
    );
    let attrs: Value = serde_json::from_str(&notes(&m, spdx::ATTRIBUTES_NOTE)[0]).unwrap();
    assert_eq!(
        attrs,
        json!({"tags": ["chat"]}),
        "only what no field states"
    );
    for n in m["annotations"].as_array().unwrap() {
        assert_eq!(
            n["annotator"],
            format!("Tool: ailedger-{}", env!("CARGO_PKG_VERSION"))
        );
    }

    // The MCP server's launch command, the deployment's owner; the file's finding.
    let srv = by_name(&doc, "files");
    let mcp: Value = serde_json::from_str(&notes(&srv, spdx::MCP_NOTE)[0]).unwrap();
    assert_eq!(
        mcp,
        json!({"transport": "stdio", "command": "npx",
               "args": ["-y", "@modelcontextprotocol/server-filesystem@1.0.0", "/srv"]})
    );
    assert_eq!(srv["primaryPackagePurpose"], "APPLICATION");
    let dep = by_name(&doc, "prod/support-bot");
    let d: Value = serde_json::from_str(&notes(&dep, spdx::DEPLOYMENT_NOTE)[0]).unwrap();
    assert_eq!(
        d,
        json!({"env": "prod", "owner": "support-team", "contact": "mailto:support@acme.example"})
    );
    assert!(notes(&dep, spdx::ATTRIBUTES_NOTE).is_empty(), "{dep}");
    assert_eq!(
        notes(&doc["files"][0], spdx::FINDING_NOTE),
        vec!["AIL-PKL-001 critical: pickle imports os.system"]
    );

    // Licence names are LicenseRefs, defined once in the document.
    let npm = by_name(&doc, "@modelcontextprotocol/server-filesystem");
    let tools = spdx::licence_ref_id("Acme Tools Licence");
    assert!(
        tools.starts_with("LicenseRef-Acme-Tools-Licence-"),
        "{tools}"
    );
    assert_eq!(npm["licenseDeclared"], format!("{tools} AND MIT"));
    assert_eq!(npm["primaryPackagePurpose"], "LIBRARY");
    assert_eq!(
        npm["downloadLocation"],
        "https://registry.example/server-filesystem-1.0.0.tgz"
    );
    assert!(
        npm["externalRefs"].as_array().unwrap().contains(&json!({
            "referenceCategory": "SECURITY", "referenceType": "cpe23Type",
            "referenceLocator": "cpe:2.3:a:modelcontextprotocol:server-filesystem:1.0.0:*:*:*:*:*:*:*"})),
        "{npm}"
    );
    let apache = spdx::licence_ref_id("Apache 2.0");
    assert_eq!(by_name(&doc, "leftpad")["licenseDeclared"], apache);
    assert_eq!(
        doc["hasExtractedLicensingInfos"],
        json!([
            {"licenseId": tools, "extractedText": "You may use it.", "name": "Acme Tools Licence",
             "comment": "ailedger: a licence recorded by name and text, without an SPDX id"},
            {"licenseId": apache, "extractedText": "Apache 2.0", "name": "Apache 2.0",
             "comment": "ailedger: a licence recorded by name only, without an SPDX id; its text is not recorded"}
        ])
    );
    // Every LicenseRef used is defined.
    let text = doc.to_string();
    let defined: BTreeSet<&str> = doc["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["licenseId"].as_str().unwrap())
        .collect();
    for p in doc["packages"].as_array().unwrap() {
        for tok in p["licenseDeclared"]
            .as_str()
            .unwrap()
            .split([' ', '(', ')'])
        {
            if tok.starts_with("LicenseRef-") {
                assert!(defined.contains(tok), "{tok} undefined in {text}");
            }
        }
    }
}

#[test]
fn licence_expressions_are_told_from_names() {
    for ok in [
        "MIT",
        "Apache-2.0 OR MIT",
        "(MIT AND BSD-3-Clause) OR GPL-2.0+",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        "LicenseRef-acme-1",
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "NOASSERTION",
    ] {
        assert!(spdx::is_expression(ok), "{ok}");
    }
    for bad in [
        "Apache 2.0",
        "MIT AND",
        "(MIT",
        "MIT)",
        "",
        "GNU General Public License",
        "MIT/X11",
        "AND MIT",
    ] {
        assert!(!spdx::is_expression(bad), "{bad}");
    }
    assert_ne!(
        spdx::licence_ref_id("Acme 1"),
        spdx::licence_ref_id("Acme-1")
    );
    assert_eq!(spdx::licence_ref_id("©").len(), "LicenseRef-".len() + 8);
}

/// A streamed export of a skeleton (ids and kinds), its records read in batches, is the
/// same document as one written from held records; a failing read fails the export.
#[test]
fn streamed_from_batches_is_the_same_document() {
    // Enough packages and files for several batches; a file with an alias is a package.
    let mut sub = sample();
    let root = sub.root.clone();
    for i in 0..1_200 {
        let id = format!("pkg:pypi/filler-{i:04}@1.0");
        let mut a = art(
            &id,
            ArtifactKind::Package,
            Some(&format!("filler-{i:04}")),
            Some("1.0"),
        );
        a.attrs.insert(
            "licenses".into(),
            json!([{"license": {"name": format!("Filler {}", i % 3)}}]),
        );
        sub.artifacts.push(a);
        sub.edges.push(edge(&root, EdgeKind::DependsOn, &id));
        let file = format!("sha256:{:064x}", i + 1);
        let mut f = art(&file, ArtifactKind::File, Some(&format!("f{i}.bin")), None);
        if i % 100 == 0 {
            f.aliases = vec![format!("file:f{i}.bin")];
        }
        sub.artifacts.push(f);
        sub.edges.push(edge(&root, EdgeKind::DependsOn, &file));
    }
    sub.edges.sort();
    let whole = spdx::to_json(&sub);
    let doc: Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    // 12 files with aliases are packages; the others (and the weights) are files.
    assert_eq!(doc["files"].as_array().unwrap().len(), 1 + 1_200 - 12);
    assert_eq!(
        doc["packages"].as_array().unwrap().len(),
        sub.artifacts.len() - (1 + 1_200 - 12)
    );
    assert_eq!(
        doc["hasExtractedLicensingInfos"].as_array().unwrap().len(),
        3 + 2
    );

    let skel = skeleton(&sub);
    let mut records = Batches {
        held: ailedger_export::Held::new(&sub),
        asked: Vec::new(),
        fail_after: None,
    };
    let mut out = Vec::new();
    spdx::write_to(&skel, &mut records, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        String::from_utf8(whole).unwrap()
    );
    // The packages' pass and the files' pass, 512 at most at a time.
    assert!(records.asked.len() >= 5 + 3, "{:?}", records.asked);
    assert!(
        records.asked.iter().all(|n| *n <= 512),
        "{:?}",
        records.asked
    );
    assert_eq!(
        records.asked.iter().sum::<usize>(),
        sub.artifacts.len() + 1 + 1_200 - 12
    );

    let mut failing = Batches {
        held: ailedger_export::Held::new(&sub),
        asked: Vec::new(),
        fail_after: Some(2),
    };
    let err = spdx::write_to(&skel, &mut failing, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("went away"), "{err}");
    // A record missing from the store fails the export too, naming it.
    let mut short = sub.clone();
    short.artifacts.retain(|a| a.id != "package:leftpad@1");
    let err = spdx::write_to(
        &skel,
        &mut ailedger_export::Held::new(&short),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("package:leftpad@1"), "{err}");
}

/// A `LicenseRef-` read back from an export keeps its definition: exported again, the
/// document defines it again (no dangling `LicenseRef-`).
#[test]
fn licence_refs_survive_a_round_trip() {
    let sub = sample();
    let first = spdx::document(&sub);
    let parsed =
        ailedger_formats::parse(&spdx::to_json(&sub), &ailedger_formats::Options::default())
            .unwrap();
    let npm = parsed
        .artifacts
        .iter()
        .find(|a| a.id == "pkg:npm/%40modelcontextprotocol/server-filesystem@1.0.0")
        .unwrap();
    let tools = spdx::licence_ref_id("Acme Tools Licence");
    let mut a = art(
        &npm.id,
        npm.kind,
        npm.name.as_deref(),
        npm.version.as_deref(),
    );
    a.attrs = npm.attrs.clone();
    let again = Subgraph {
        root: a.id.clone(),
        artifacts: vec![a],
        edges: vec![],
        attestations: vec![],
        incidents: vec![],
        ledger: sub.ledger.clone(),
    };
    let doc = spdx::document(&again);
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    assert_eq!(
        doc["packages"][0]["licenseDeclared"],
        format!("{tools} AND MIT")
    );
    assert_eq!(
        doc["hasExtractedLicensingInfos"],
        json!([first["hasExtractedLicensingInfos"][0]])
    );
    assert_eq!(doc["hasExtractedLicensingInfos"][0]["licenseId"], tools);
    // Not repeated among the other attributes.
    assert!(!doc.to_string().contains("extractedLicenses"), "{doc}");
    // Without the definition, nothing is invented.
    let mut bare = again.clone();
    bare.artifacts[0].attrs.remove("extractedLicenses");
    assert_eq!(
        spdx::document(&bare).get("hasExtractedLicensingInfos"),
        None
    );
}
