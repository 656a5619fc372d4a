//! The SPDX 2.3 writer over a subgraph with every kind of artifact and edge: the
//! document validates against the vendored SPDX 2.3 schema, is deterministic, and
//! `ailedger-formats` reads back the same artifacts (ids, kinds, aliases) and edges.

use std::collections::BTreeSet;

use ailedger_core::{ArtifactKind, EdgeKind, Severity};
use ailedger_export::{Artifact, Attestation, Edge, IncidentVex, LedgerState, Subgraph, spdx};
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
    let mut dp = art(
        dep,
        ArtifactKind::Deployment,
        Some("prod/support-bot"),
        None,
    );
    dp.attrs.insert("env".into(), json!("prod"));
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
            art(server, ArtifactKind::McpServer, Some("files"), None),
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
