//! Every CycloneDX, SPDX and MCP fixture is parsed or refused as expected.
//!
//! Expected counts for the real-world documents were derived independently of the
//! parser, by counting with a short script over the JSON/XML: distinct component
//! identities (purl, else SHA-256, else group/name@version), distinct dependency
//! pairs with self-pairs dropped, `contains` for nested components, and one
//! `describes` edge for the subject (see docs/formats.md for the rules).

use ailedger_formats::{Encoding, Format, Options, detect, parse};

use crate::{FIXTURES, count_edges, parse_ok, read};

enum Want {
    /// Format label, artifact count (without the document), edge count.
    Parses(&'static str, usize, usize),
    /// A substring of the error.
    Fails(&'static str),
    /// A local fault (`pointer: fault`, a substring of the error and of the warning):
    /// refused under `strict`; otherwise repaired, with a warning, and then as given.
    Repaired(&'static str, &'static Want),
}
use Want::*;

const TABLE: &[(&str, Want)] = &[
    // CycloneDX, real-world and official examples
    (
        "cyclonedx/examples-juice-shop-npm-bare-1.4.json",
        Parses("CycloneDX 1.4", 979, 1933),
    ),
    (
        "cyclonedx/examples-keycloak-10.0.2-1.2.json",
        Parses("CycloneDX 1.2", 904, 995),
    ),
    (
        "cyclonedx/protobom-syft-0.96.0_rails-5.0.0-1.5.cdx.json",
        Parses("CycloneDX 1.5", 446, 1369),
    ),
    (
        "cyclonedx/rustcargo-trivy-0.36.1-alpine-3.13.1-1.4.json",
        Parses("CycloneDX 1.4", 16, 16),
    ),
    (
        "cyclonedx/examples-laravel-7.12.0-1.4.json",
        Parses("CycloneDX 1.4", 63, 114),
    ),
    (
        "cyclonedx/examples-dropwizard-1.3.15-1.2.xml",
        Parses("CycloneDX 1.2 XML", 168, 171),
    ),
    // app → model → 2 datasets: 3 depends-on, 2 trained-on (model card), 1 describes
    (
        "cyclonedx/examples-mlbom-model-card-with-dataset-1.7.json",
        Parses("CycloneDX 1.7", 4, 6),
    ),
    // acme-application → crypto-library → some-library, crypto-library provides aes128gcm
    (
        "cyclonedx/examples-cbom-with-dependencies-provides-1.6.json",
        Parses("CycloneDX 1.6", 4, 4),
    ),
    // subject + 1 OS component; no dependency graph: subject depends-on it
    (
        "cyclonedx/examples-obom-decoupled-1.4.json",
        Parses("CycloneDX 1.4", 2, 2),
    ),
    (
        "cyclonedx/examples-saasbom-apigateway-1.4.json",
        Parses("CycloneDX 1.4", 7, 12),
    ),
    (
        "cyclonedx/examples-vex-1.4.json",
        Parses("CycloneDX 1.4", 0, 0),
    ),
    (
        "cyclonedx/examples-vex-target-bom-1.3.json",
        Parses("CycloneDX 1.3", 4, 4),
    ),
    (
        "cyclonedx/examples-mlbom-hf-bert-base-cased-TRAILING-COMMA-invalid-json-1.6.json",
        Fails("JSON syntax error at line 9, column 5: trailing comma"),
    ),
    // CycloneDX specification test files
    (
        "cyclonedx/spec-invalid-dependency-1.6.json",
        Repaired(
            "/dependencies/0: missing required \"ref\"",
            // Entries 0 and 1 (no ref, an empty ref) are dropped; library-b → library-c.
            &Parses("CycloneDX 1.6", 3, 1),
        ),
    ),
    (
        "cyclonedx/spec-invalid-hash-alg-1.6.json",
        Repaired(
            "/components/0/hashes/0: unknown hash algorithm \"FOO\"",
            // The hash is dropped; the document describes its one component.
            &Parses("CycloneDX 1.6", 1, 1),
        ),
    ),
    (
        "cyclonedx/spec-valid-attestation-1.6.json",
        Parses("CycloneDX 1.6", 0, 0),
    ),
    (
        "cyclonedx/spec-valid-bom-1.6.json",
        Parses("CycloneDX 1.6", 5, 3),
    ),
    (
        "cyclonedx/spec-valid-component-data-1.6.json",
        Parses("CycloneDX 1.6", 1, 1),
    ),
    (
        "cyclonedx/spec-valid-component-external-with-versionRange-1.7.json",
        Parses("CycloneDX 1.7", 2, 2),
    ),
    (
        "cyclonedx/spec-valid-component-hashes-1.6.json",
        Parses("CycloneDX 1.6", 1, 1),
    ),
    (
        "cyclonedx/spec-valid-dependency-1.6.json",
        Parses("CycloneDX 1.6", 3, 1),
    ),
    (
        "cyclonedx/spec-valid-formulation-1.6.json",
        Parses("CycloneDX 1.6", 2, 1),
    ),
    (
        "cyclonedx/spec-valid-machine-learning-1.6.json",
        Parses("CycloneDX 1.6", 2, 2),
    ),
    (
        "cyclonedx/spec-valid-machine-learning-considerations-env-1.6.json",
        Parses("CycloneDX 1.6", 1, 1),
    ),
    (
        "cyclonedx/spec-valid-saasbom-1.6.json",
        Parses("CycloneDX 1.6", 7, 12),
    ),
    (
        "cyclonedx/spec-valid-signatures-1.6.json",
        Parses("CycloneDX 1.6", 2, 2),
    ),
    // SPDX
    (
        "spdx/protobom-github-depgraph-kubernetes-d61cbac6.spdx.json",
        Parses("SPDX 2.3", 425, 425),
    ),
    (
        "spdx/protobom-trivy-0.42.1_mageia-5.1.spdx.json",
        Parses("SPDX 2.3", 183, 183),
    ),
    ("spdx/protobom-curl.spdx.json", Parses("SPDX 2.3", 69, 69)),
    (
        "spdx/protobom-bom-v0.4.1_cirros-0.4.0.spdx.json",
        Parses("SPDX 2.3", 21, 26),
    ),
    // 4 packages + 5 files; CONTAINS ×2, GENERATED_FROM ×2 (one between files),
    // COPY_OF, DYNAMIC_LINK, 2 documentDescribes; SPECIFICATION_FOR has no edge type;
    // one GENERATED_FROM duplicates … see the test below for the exact edges.
    (
        "spdx/spdxspec-SPDXJSONExample-v2.3.spdx.json",
        Parses("SPDX 2.3", 9, 5),
    ),
    (
        "spdx/spdxspec-3.0-package_sbom.jsonld.json",
        Parses("SPDX 3.0", 2, 2),
    ),
    ("spdx/spdx-2.3-schema.json", Fails("unrecognised document")),
];

#[test]
fn every_fixture_is_parsed_or_refused_as_expected() {
    // The table covers every file in the folders.
    for dir in ["cyclonedx", "spdx"] {
        for e in std::fs::read_dir(format!("{FIXTURES}/{dir}")).unwrap() {
            let name = format!("{dir}/{}", e.unwrap().file_name().to_string_lossy());
            assert!(
                TABLE.iter().any(|(f, _)| *f == name),
                "{name} missing from the table"
            );
        }
    }
    for (file, want) in TABLE {
        let bytes = read(&format!("{FIXTURES}/{file}"));
        check_fixture(file, &bytes, want);
    }
}

fn check_fixture(file: &str, bytes: &[u8], want: &Want) {
    {
        match (parse(bytes, &Options::default()), want) {
            (Err(e), Repaired(..)) => panic!("{file}: refused, expected a repair: {e}"),
            (Ok(doc), Repaired(fault, then)) => {
                let strict = Options {
                    strict: true,
                    ..Options::default()
                };
                let e = parse(bytes, &strict).unwrap_err().to_string();
                assert!(e.contains(fault), "{file} (strict): {e}");
                assert!(
                    doc.warnings
                        .iter()
                        .any(|w| format!("{}: {}", w.pointer, w.message).contains(fault)),
                    "{file}: no warning {fault:?} in {:?}",
                    doc.warnings
                );
                check_fixture(file, bytes, then);
            }
            (Ok(doc), Parses(label, arts, edges)) => {
                crate::check_invariants(&doc);
                assert_eq!(doc.format.to_string(), *label, "{file}");
                assert_eq!(
                    (doc.artifacts.len(), doc.edges.len()),
                    (*arts, *edges),
                    "{file}"
                );
                assert_eq!(
                    detect(bytes).unwrap(),
                    doc.format,
                    "{file}: detect disagrees"
                );
            }
            (Err(e), Fails(sub)) => assert!(e.to_string().contains(sub), "{file}: {e}"),
            (Ok(doc), Fails(sub)) => {
                panic!("{file}: accepted ({}), expected error {sub:?}", doc.format)
            }
            (Err(e), Parses(..)) => panic!("{file}: {e}"),
        }
    }
}

#[test]
fn invalid_spec_files_name_each_fault() {
    let bytes = read(&format!(
        "{FIXTURES}/cyclonedx/spec-invalid-hash-alg-1.6.json"
    ));
    let strict = Options {
        strict: true,
        ..Options::default()
    };
    let e = parse(&bytes, &strict).unwrap_err().to_string();
    assert!(
        e.starts_with("CycloneDX 1.6: /components/0/hashes/0:") && e.contains("\"FOO\""),
        "{e}"
    );
    // Without `strict`: the hash is dropped, the component recorded without it.
    let doc = parse_ok(&bytes);
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.pointer == "/components/0/hashes/0"
                && w.message == "unknown hash algorithm \"FOO\"; hash dropped"),
        "{:?}",
        doc.warnings
    );
    let hashes = doc.artifacts[0].attrs["hashes"].as_object().unwrap();
    assert!(hashes.keys().all(|k| k != "FOO"), "{hashes:?}");
}

#[test]
fn ml_bom_keeps_the_model_card_and_records_training_data() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/cyclonedx/examples-mlbom-model-card-with-dataset-1.7.json"
    )));
    let model = doc
        .artifacts
        .iter()
        .find(|a| a.kind.as_str() == "model")
        .unwrap();
    assert_eq!(model.id, "model:support-ticket-classifier@1.0.0");
    let card = &model.attrs["modelCard"];
    assert_eq!(card["modelParameters"]["task"], "text-classification");
    let trained: Vec<&str> = doc
        .edges
        .iter()
        .filter(|e| e.edge.as_str() == "trained-on")
        .map(|e| e.to.as_str())
        .collect();
    assert_eq!(
        trained,
        [
            "dataset:support-ticket-training-data@1.0.0",
            "dataset:support-ticket-evaluation-data@1.0.0"
        ]
        .map(|s| s.replace("@1.0.0", &format!("@{}", version_of(&doc, s))))
    );
    assert!(trained.iter().all(|t| model.id != *t));
    // The 1.6 spec example describes its training dataset inline.
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/cyclonedx/spec-valid-machine-learning-1.6.json"
    )));
    assert_eq!(count_edges(&doc, "trained-on"), 1);
    assert!(
        doc.artifacts
            .iter()
            .any(|a| a.id == "dataset:Training Data")
    );
    assert!(
        doc.artifacts
            .iter()
            .any(|a| a.attrs.contains_key("modelCard"))
    );
}

fn version_of(doc: &ailedger_formats::Document, id: &str) -> String {
    let name = id.split_once(':').unwrap().1.split('@').next().unwrap();
    doc.artifacts
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
        .and_then(|a| a.version.clone())
        .unwrap()
}

#[test]
fn identities_aliases_and_hashes() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/cyclonedx/examples-keycloak-10.0.2-1.2.json"
    )));
    // Every keycloak component has a purl and 8 hash algorithms.
    let a = doc
        .artifacts
        .iter()
        .find(|a| a.id.starts_with("pkg:maven/") && a.attrs.contains_key("hashes"))
        .unwrap();
    let hashes = a.attrs["hashes"].as_object().unwrap();
    assert!(
        hashes.contains_key("SHA-512")
            && hashes.contains_key("SHA3-512")
            && hashes.contains_key("MD5")
    );
    // The SHA-256 and the group/name@version are aliases.
    assert_eq!(
        a.aliases,
        [
            format!(
                "package:{}/{}@{}",
                a.attrs["group"].as_str().unwrap(),
                a.name.as_deref().unwrap().rsplit('/').next().unwrap(),
                a.version.as_deref().unwrap()
            ),
            format!("sha256:{}", hashes["SHA-256"].as_str().unwrap())
        ]
    );
    assert!(
        doc.edges
            .iter()
            .any(|e| e.edge.as_str() == "describes" && e.from == doc.document.id)
    );
    // Nested components are contained by their parent (juice-shop bundles).
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/cyclonedx/examples-juice-shop-npm-bare-1.4.json"
    )));
    assert!(count_edges(&doc, "contains") > 0);
    assert!(doc.artifacts.iter().all(|a| a.id.starts_with("pkg:npm/")));
}

#[test]
fn cyclonedx_xml_matches_the_json_mapping() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/cyclonedx/examples-dropwizard-1.3.15-1.2.xml"
    )));
    assert_eq!(
        doc.format,
        Format::CycloneDx {
            version: "1.2".into(),
            encoding: Encoding::Xml
        }
    );
    let a = doc
        .artifacts
        .iter()
        .find(|a| a.id.starts_with("pkg:maven/io.dropwizard/") && a.attrs.contains_key("hashes"))
        .unwrap();
    assert!(
        a.attrs["hashes"].as_object().unwrap().len() >= 4,
        "{:?}",
        a.attrs
    );
    let licensed = doc
        .artifacts
        .iter()
        .filter(|a| a.attrs.contains_key("licenses"))
        .count();
    assert!(licensed > 100, "{licensed}");
    let lic = doc
        .artifacts
        .iter()
        .find_map(|a| a.attrs.get("licenses"))
        .unwrap();
    assert!(lic[0]["license"].is_object(), "{lic}");
    assert_eq!(count_edges(&doc, "describes"), 1);
}

/// A model card's `<datasets>` holds `<ref>`s to data components (and inline
/// `<dataset>`s): each is a trained-on edge, as in JSON (`{"ref": …}`).
#[test]
fn cyclonedx_xml_model_card_dataset_refs_are_trained_on_edges() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">
  <components>
    <component type="machine-learning-model" bom-ref="m">
      <name>bot</name>
      <version>3</version>
      <modelCard>
        <modelParameters>
          <datasets>
            <ref>d1</ref>
            <ref>d2</ref>
            <dataset><type>dataset</type><name>inline</name></dataset>
          </datasets>
        </modelParameters>
      </modelCard>
    </component>
    <component type="data" bom-ref="d1"><name>tickets</name><version>1</version></component>
    <component type="data" bom-ref="d2"><name>chats</name><version>2</version></component>
  </components>
</bom>
"#;
    let doc = parse_ok(xml.as_bytes());
    let trained: Vec<(&str, &str)> = doc
        .edges
        .iter()
        .filter(|e| e.edge.as_str() == "trained-on")
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert!(
        trained.contains(&("model:bot@3", "dataset:tickets@1")),
        "{trained:?}"
    );
    assert!(
        trained.contains(&("model:bot@3", "dataset:chats@2")),
        "{trained:?}"
    );
    assert_eq!(trained.len(), 3, "{trained:?}");
}

#[test]
fn spdx_relationships_are_normalised_to_consumer_to_consumed() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/spdx/spdxspec-SPDXJSONExample-v2.3.spdx.json"
    )));
    let kinds: Vec<&str> = doc.edges.iter().map(|e| e.edge.as_str()).collect();
    assert!(
        kinds.contains(&"describes")
            && kinds.contains(&"contains")
            && kinds.contains(&"built-from")
    );
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.message.contains("SPECIFICATION_FOR"))
    );
    // Trivy's OPERATING-SYSTEM purpose is accepted with a warning naming the pointer.
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/spdx/protobom-trivy-0.42.1_mageia-5.1.spdx.json"
    )));
    // (The schema check adds its own warning there too; see schema.rs.)
    let parser: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| !w.message.contains(" schema: "))
        .collect();
    assert_eq!(parser.len(), 1);
    assert!(parser[0].pointer.ends_with("/primaryPackagePurpose"));
    assert!(parser[0].message.contains("OPERATING-SYSTEM"));
    // GitHub's dependency graph: the repository depends on each package.
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/spdx/protobom-github-depgraph-kubernetes-d61cbac6.spdx.json"
    )));
    assert_eq!(count_edges(&doc, "depends-on"), 424);
    assert_eq!(count_edges(&doc, "describes"), 1);
}

/// Crafted faults: each is refused under `strict` with the pointer and the reason.
/// Without `strict`, a local fault (marked `true`) is repaired and the same pointer and
/// reason are a warning; the others (the document cannot be identified) stay refused.
#[test]
fn crafted_faults_are_refused_precisely() {
    let h64 = "a".repeat(64);
    let cases: Vec<(String, &str, bool)> = vec![
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","bom-ref":"x"}],
               "dependencies":[{"ref":"x","dependsOn":["y"]},{"ref":"x"},{"ref":"x","dependsOn":["x","pkg:npm/x@1"]}]}"#
                .into(),
            "CycloneDX 1.6: /dependencies/0/dependsOn/0: ref \"y\" does not name any bom-ref", true,
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","bom-ref":"a"},{"type":"library","name":"y","bom-ref":"a"}]}"#.into(),
            "/components/1/bom-ref: duplicate bom-ref \"a\" (first at /components/0/bom-ref)", false,
        ),
        (
            format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{{"type":"library","name":"x","hashes":[{{"alg":"SHA-512","content":"{h64}"}}]}}]}}"#),
            "/components/0/hashes/0: SHA-512 value has 64 hex characters, expected 128", true,
        ),
        (r#"{"bomFormat":"CycloneDX","specVersion":"1.1"}"#.into(), "unsupported CycloneDX spec version \"1.1\"", false),
        (r#"{"bomFormat":"CycloneDX"}"#.into(), "/specVersion: missing required", false),
        (r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"gizmo","name":"x"}]}"#.into(), "/components/0/type: unknown component type", true),
        (r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library"}]}"#.into(), "/components/0: missing required \"name\"", true),
        (r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[{"SPDXID":"SPDXRef-a","name":"a"}],"relationships":[{"spdxElementId":"SPDXRef-a","relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-b"}]}"#.into(),
            "SPDX 2.3: /relationships/0/relatedSpdxElement: \"SPDXRef-b\" does not name any SPDXID", true),
        (r#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a","checksums":[{"algorithm":"SHA1","checksumValue":"abc"}]}]}"#.into(),
            "/packages/0/checksums/0: SHA-1 value has 3 hex characters, expected 40", true),
        (r#"{"spdxVersion":"SPDX-1.2"}"#.into(), "unsupported SPDX version", false),
        (r#"{"hello":"world"}"#.into(), "unrecognised document", false),
        ("just some prose, not a manifest.\n".into(), "unrecognised document", false),
        ("".into(), "unrecognised document: empty document", false),
        ("<html><body/></html>".into(), "unrecognised document", false),
        (r#"{"lockfileVersion":1,"dependencies":{}}"#.into(), "unsupported lockfileVersion 1", false),
    ];
    let strict = Options {
        strict: true,
        ..Options::default()
    };
    for (input, want, local) in cases {
        let e = parse(input.as_bytes(), &strict)
            .map(|d| d.format)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "input {input}\n  got: {e}\n want: {want}");
        let lenient = parse(input.as_bytes(), &Options::default());
        if !local {
            let e = lenient.map(|d| d.format).unwrap_err().to_string();
            assert!(e.contains(want), "input {input}\n  got: {e}\n want: {want}");
            continue;
        }
        let doc = lenient.unwrap_or_else(|e| panic!("input {input}: refused: {e}"));
        crate::check_invariants(&doc);
        // The warning is `pointer: fault; repair`; `want` may start with the label.
        let w = want.find(": /").map_or(want, |i| &want[i + 2..]);
        assert!(
            doc.warnings
                .iter()
                .any(|x| format!("{}: {}", x.pointer, x.message).contains(w)),
            "input {input}: no warning {w:?} in {:?}",
            doc.warnings
        );
    }
}

#[test]
fn bom_links_and_foreign_refs_warn_instead_of_failing() {
    let bom = r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
        "metadata":{"component":{"type":"application","name":"app","bom-ref":"app"}},
        "components":[{"type":"library","name":"lib","purl":"pkg:npm/lib@1.0.0","bom-ref":"lib"}],
        "vulnerabilities":[{"id":"CVE-1","bom-ref":"v1"}],
        "dependencies":[{"ref":"app","dependsOn":["lib","urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#x","v1"]}]}"#;
    let doc = parse_ok(bom.as_bytes());
    assert_eq!(doc.warnings.len(), 2, "{:?}", doc.warnings);
    assert_eq!(count_edges(&doc, "depends-on"), 1);
}

#[test]
fn a_bom_without_a_graph_hangs_its_components_off_the_subject() {
    let bom = r#"{"bomFormat":"CycloneDX","specVersion":"1.4",
        "metadata":{"component":{"type":"application","name":"app","version":"1"}},
        "components":[{"type":"library","name":"a","version":"1"},{"type":"library","name":"b","purl":"pkg:pypi/B_c@2"}]}"#;
    let doc = parse_ok(bom.as_bytes());
    let deps: Vec<(&str, &str)> = doc
        .edges
        .iter()
        .filter(|e| e.edge.as_str() == "depends-on")
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(
        deps,
        [
            ("package:app@1", "package:a@1"),
            ("package:app@1", "pkg:pypi/b-c@2")
        ]
    );
}

/// What ailedger's SPDX export writes where SPDX 2.3 has no word: a kind
/// (`OTHER`/`ailedger-kind`), aliases (`OTHER`/`ailedger-alias`) and edge kinds
/// (`ailedger edge: <kind>` comments). Unreadable ones warn and are not used.
#[test]
fn spdx_kinds_aliases_and_marked_edges_read_back() {
    let sha = "ab".repeat(32);
    let doc = format!(
        r#"{{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x",
        "packages":[
          {{"SPDXID":"SPDXRef-m","name":"bot","versionInfo":"3",
            "checksums":[{{"algorithm":"SHA256","checksumValue":"{sha}"}}],
            "externalRefs":[
              {{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:huggingface/acme/bot@3"}},
              {{"referenceCategory":"OTHER","referenceType":"ailedger-kind","referenceLocator":"model"}},
              {{"referenceCategory":"OTHER","referenceType":"ailedger-alias","referenceLocator":"model:bot-old@3"}}]}},
          {{"SPDXID":"SPDXRef-d","name":"tickets",
            "externalRefs":[{{"referenceCategory":"OTHER","referenceType":"ailedger-kind","referenceLocator":"dataset"}}]}},
          {{"SPDXID":"SPDXRef-p","name":"torch","versionInfo":"2",
            "externalRefs":[
              {{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/torch@2"}},
              {{"referenceCategory":"OTHER","referenceType":"ailedger-kind","referenceLocator":"gizmo"}},
              {{"referenceCategory":"OTHER","referenceType":"ailedger-alias","referenceLocator":"not a ref"}}]}}],
        "relationships":[
          {{"spdxElementId":"SPDXRef-m","relationshipType":"GENERATED_FROM","relatedSpdxElement":"SPDXRef-d","comment":"ailedger edge: trained-on"}},
          {{"spdxElementId":"SPDXRef-m","relationshipType":"GENERATED_FROM","relatedSpdxElement":"SPDXRef-p"}},
          {{"spdxElementId":"SPDXRef-p","relationshipType":"BUILD_TOOL_OF","relatedSpdxElement":"SPDXRef-m","comment":"ailedger edge: built-by"}},
          {{"spdxElementId":"SPDXRef-d","relationshipType":"OTHER","relatedSpdxElement":"SPDXRef-p","comment":"ailedger edge: uses-tool"}},
          {{"spdxElementId":"SPDXRef-d","relationshipType":"OTHER","relatedSpdxElement":"SPDXRef-m"}}]}}"#
    );
    let doc = parse_ok(doc.as_bytes());
    let by_name = |n: &str| {
        doc.artifacts
            .iter()
            .find(|a| a.name.as_deref() == Some(n))
            .unwrap_or_else(|| panic!("no {n}"))
    };
    let m = by_name("bot");
    assert_eq!(m.kind.as_str(), "model");
    // A model with a purl keeps its kind: the id is its digest, the purl an alias.
    assert_eq!(m.id, format!("sha256:{sha}"));
    assert_eq!(
        m.aliases,
        [
            "model:bot-old@3",
            "model:bot@3",
            "pkg:huggingface/acme/bot@3"
        ]
    );
    let d = by_name("tickets");
    assert_eq!(
        (d.kind.as_str(), d.id.as_str()),
        ("dataset", "dataset:tickets")
    );
    let p = by_name("torch");
    assert_eq!(
        (p.kind.as_str(), p.id.as_str()),
        ("package", "pkg:pypi/torch@2")
    );
    let edges: Vec<(&str, &str, &str)> = doc
        .edges
        .iter()
        .filter(|e| e.from != doc.document.id)
        .map(|e| (e.from.as_str(), e.edge.as_str(), e.to.as_str()))
        .collect();
    let m = m.id.as_str();
    assert_eq!(
        edges,
        [
            (m, "trained-on", "dataset:tickets"),
            (m, "built-from", "pkg:pypi/torch@2"),
            (m, "built-by", "pkg:pypi/torch@2"),
            ("dataset:tickets", "uses-tool", "pkg:pypi/torch@2"),
        ]
    );
    let warnings: Vec<String> = doc
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.pointer, w.message))
        .collect();
    let all = warnings.join("\n");
    assert!(
        all.contains("/packages/2/externalRefs/1/referenceLocator") && all.contains("\"gizmo\""),
        "{all}"
    );
    assert!(
        all.contains("/packages/2/externalRefs/2/referenceLocator: alias not used"),
        "{all}"
    );
    assert!(all.contains("OTHER ×1"), "{all}");
}
