//! `ailedger export cyclonedx` over the demo supply chain (`ailedger demo`): the BOM of
//! `deployment:prod/support-bot` validates against the official 1.6 and 1.7 schemas
//! (ailedger's reader, zero deviations) and with cyclonedx-python-lib's JSON validator
//! (with `AILEDGER_TEST_PYTHON`); two exports are byte-identical; ingested into a fresh
//! ledger and exported again it gives the same components, kinds, aliases, edge kinds
//! and dependency graph; `--sign` gives a DSSE envelope that `ailedger ingest` verifies
//! under a policy trusting the key; a bad ref is one line with exit code 2.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde_json::{Value, json};

use super::{incidents::demo, *};

const ROOT: &str = "deployment:prod/support-bot";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn attest_fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/attest/python-in-toto")
        .join(rel)
}

/// Reads the BOM with ailedger's own parser, which checks it against the official
/// schema of its spec version: no deviation, no warning.
pub(super) fn check(bytes: &[u8]) -> Value {
    let doc = ailedger_formats::parse(bytes, &ailedger_formats::Options::default()).unwrap();
    assert!(doc.warnings.is_empty(), "{:#?}", doc.warnings);
    serde_json::from_slice(bytes).unwrap()
}

/// What a round trip keeps: each component or service by bom-ref (the ledger id) with
/// its type, purl and `ailedger:kind`/`alias`/`edge` properties; the dependency graph.
fn shape(bom: &Value) -> (BTreeMap<String, Value>, Value) {
    let mut items = BTreeMap::new();
    for c in bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .chain(bom["services"].as_array().into_iter().flatten())
        .chain(std::iter::once(&bom["metadata"]["component"]))
    {
        let props: Vec<&Value> = c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                matches!(
                    p["name"].as_str(),
                    Some(
                        "ailedger:kind"
                            | "ailedger:alias"
                            | "ailedger:edge"
                            | "ailedger:edge.paths"
                    )
                )
            })
            .collect();
        items.insert(
            c["bom-ref"].as_str().unwrap().to_owned(),
            json!({"type": c["type"], "props": props, "purl": c["purl"]}),
        );
    }
    (items, bom["dependencies"].clone())
}

/// cyclonedx-python-lib's JSON validator over `files`, when `AILEDGER_TEST_PYTHON` names
/// a Python with tools/cyclonedx/requirements.txt installed (`.ci/run` sets it).
pub(super) fn python_validates(spec: &str, files: &[&Path]) {
    python_validates_as(&[spec], files);
}

/// The same, with the validator's arguments before the files (`--xml 1.6`).
fn python_validates_as(args: &[&str], files: &[&Path]) {
    let Some(python) = std::env::var_os("AILEDGER_TEST_PYTHON") else {
        eprintln!(
            "SKIPPED: AILEDGER_TEST_PYTHON is not set; cyclonedx-python-lib did not validate the exports (.ci/run sets it)"
        );
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/cyclonedx/validate.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cyclonedx-python-lib: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn export_of_the_demo_deployment() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = demo();
    let f16 = tmp.path().join("bom-1.6.json");
    let f17 = tmp.path().join("bom-1.7.json");
    demo.ok(&["export", "cyclonedx", ROOT, "-o", s(&f16)]);
    demo.ok(&[
        "export",
        "cyclonedx",
        ROOT,
        "--spec-version",
        "1.7",
        "--output",
        s(&f17),
    ]);
    let bytes = std::fs::read(&f16).unwrap();
    let bom = check(&bytes);
    check(&std::fs::read(&f17).unwrap());
    python_validates("1.6", &[&f16]);
    python_validates("1.7", &[&f17]);

    // What the demo deployment runs is all there.
    assert_eq!(bom["metadata"]["component"]["bom-ref"], ROOT);
    let by_name = |name: &str| -> Value {
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no component {name}"))
    };
    let bot = by_name("support-bot");
    let tickets = by_name("support-tickets");
    assert_eq!(bot["type"], "machine-learning-model");
    assert_eq!(tickets["type"], "data");
    assert_eq!(
        by_name("support-agent-tools")["bom-ref"],
        "mcp-config:support-agent-tools@1"
    );
    assert_eq!(
        bot["modelCard"]["modelParameters"]["datasets"],
        json!([{"ref": tickets["bom-ref"]}])
    );
    assert_eq!(
        bot["pedigree"]["ancestors"][0]["name"],
        "llama-3.1-8b-instruct"
    );
    assert_eq!(
        by_name("llama-3.1-8b-instruct")["type"],
        "machine-learning-model"
    );
    assert_eq!(bom["services"][0]["bom-ref"], "mcp-server:fetch@2025.4.7");
    // Where the model's files sit: one `ailedger:edge.paths` per contained file.
    let paths: Vec<Value> = bot["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "ailedger:edge.paths")
        .map(|p| serde_json::from_str(p["value"].as_str().unwrap()).unwrap())
        .collect();
    assert!(!paths.is_empty(), "{bot:#}");
    assert!(
        paths
            .iter()
            .all(|p| p["paths"].as_array().is_some_and(|a| !a.is_empty()))
    );

    // Deterministic: to stdout, the same bytes again.
    let again = demo.run(&["export", "cyclonedx", ROOT]);
    assert!(again.status.success());
    assert_eq!(again.stdout, bytes, "two exports of one state differ");

    // Round trip: into a fresh ledger, and out again.
    let db = tmp.path().join("copy.db");
    let copy = serve(s(&db));
    ok(&copy.url, &["ingest", s(&f16)]);
    let back = tmp.path().join("back.json");
    ok(&copy.url, &["export", "cyclonedx", ROOT, "-o", s(&back)]);
    let bom2 = check(&std::fs::read(&back).unwrap());
    let (a, b) = (shape(&bom), shape(&bom2));
    assert_eq!(
        a.0.keys().collect::<Vec<_>>(),
        b.0.keys().collect::<Vec<_>>()
    );
    for (id, x) in &a.0 {
        assert_eq!(Some(x), b.0.get(id), "{id}");
    }
    assert_eq!(a.1, b.1, "dependencies");

    // Signed: an in-toto statement about the BOM, verified on ingest under a policy
    // trusting the key.
    let policy = tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 1\n[[keys]]\nname = \"release\"\npublic_key = '''\n{}'''\n",
            std::fs::read_to_string(attest_fixture("slsa-provenance-v1.ed25519.pub.pem")).unwrap()
        ),
    )
    .unwrap();
    ok(&copy.url, &["policy", "set", s(&policy)]);
    let signed = tmp.path().join("bom.intoto.json");
    let key = attest_fixture("TEST_ONLY_slsa-provenance-v1.ed25519.priv.pem");
    demo.ok(&[
        "export",
        "cyclonedx",
        ROOT,
        "--sign",
        s(&key),
        "-o",
        s(&signed),
    ]);
    let env: Value = serde_json::from_slice(&std::fs::read(&signed).unwrap()).unwrap();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let v = json(&copy.url, &["ingest", s(&signed)]);
    assert_eq!(v[0]["attestation"]["outcome"], "verified", "{v}");
    assert_eq!(
        v[0]["attestation"]["items"][0]["predicate_type"], "https://cyclonedx.org/bom",
        "{v}"
    );

    // XML (1.6 and 1.7): valid against the official XSD, and read back into a fresh
    // ledger it gives the same components, kinds, aliases, edge kinds and dependencies.
    for spec in ["1.6", "1.7"] {
        let xml = tmp.path().join(format!("bom-{spec}.xml"));
        demo.ok(&[
            "--format",
            "xml",
            "export",
            "cyclonedx",
            ROOT,
            "--spec-version",
            spec,
            "-o",
            s(&xml),
        ]);
        let text = std::fs::read_to_string(&xml).unwrap();
        assert!(
            text.contains(&format!("xmlns=\"http://cyclonedx.org/schema/bom/{spec}\"")),
            "{}",
            &text[..text.len().min(300)]
        );
        python_validates_as(&["--xml", spec], &[&xml]);
        let db = tmp.path().join(format!("xml-{spec}.db"));
        let copy = serve(s(&db));
        ok(&copy.url, &["ingest", s(&xml)]);
        let back = tmp.path().join(format!("back-xml-{spec}.json"));
        ok(&copy.url, &["export", "cyclonedx", ROOT, "-o", s(&back)]);
        let (x, y) = (shape(&bom), shape(&check(&std::fs::read(&back).unwrap())));
        assert_eq!(
            x.0.keys().collect::<Vec<_>>(),
            y.0.keys().collect::<Vec<_>>()
        );
        for (id, v) in &x.0 {
            assert_eq!(Some(v), y.0.get(id), "{spec}: {id}");
        }
        assert_eq!(x.1, y.1, "{spec}: dependencies");
    }
    // XML is not signed, and is only for this export: one line, exit 2.
    for args in [
        &[
            "--format",
            "xml",
            "export",
            "cyclonedx",
            ROOT,
            "--sign",
            s(&key),
        ][..],
        &["--format", "xml", "export", "spdx", ROOT][..],
        &["--format", "xml", "incident", "list"][..],
    ] {
        let out = demo.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("xml"), "{err}");
    }

    // A bad ref: one line, exit 2.
    let out = demo.run(&["export", "cyclonedx", "model:nope@1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("model:nope@1"), "{err}");
}
