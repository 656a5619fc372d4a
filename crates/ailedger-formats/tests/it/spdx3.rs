//! SPDX 3.0 JSON-LD with the AI and Dataset profiles: the official AI BOM examples of
//! spdx/spdx-examples (`tests/data/spdx3`, see SOURCES.md there) and crafted faults.
//!
//! The expected numbers were derived from the JSON by hand (and recounted with a
//! short script over the `@graph`), not from the parser's output. Rules applied
//! (docs/formats.md): one artifact per `software_Package`/`software_File`/
//! `ai_AIPackage`/`dataset_DatasetPackage` identity (purl, else SHA-256, else
//! `<kind>:<name>@<version>`); the document `describes` the roots of its SBOMs;
//! `contains`, `dependsOn`/`hasDataFile`, `trainedOn`, `generates` (reversed) become
//! edges, one per target of `to`; licence and `testedOn` relationships become
//! attributes; other known types (`hasDocumentation`, …) give one warning.
//!
//! The warnings counted here are the parser's; deviations from the SPDX 3.0.1 JSON
//! schema (the crafted documents below leave out `creationInfo`, which the schema
//! requires) are tested in `schema.rs`.

use ailedger_core::ArtifactFact;
use ailedger_formats::{Document, Options, Warning, parse};
use serde_json::{Value, json};

use crate::{DATA, check_invariants, count_edges, parse_ok, read};

enum Want {
    Parses {
        /// Artifacts (without the document) by kind.
        artifacts: &'static [(&'static str, usize)],
        /// Edges by kind.
        edges: &'static [(&'static str, usize)],
        /// The parser's warnings (not the schema's).
        warnings: usize,
    },
    /// A local fault (`pointer: fault`, a substring of the error and of a warning):
    /// refused under `strict`; otherwise repaired, with a warning, and then as given.
    Repaired(&'static str, &'static Want),
}
use Want::*;

const TABLE: &[(&str, Want)] = &[
    // 10 software_Package (SimpleHTR, word-model, line-model and 7 PyPI packages; the
    // matplotlib element is named "lmdb" with version 3.2.1, so it is lmdb@3.2.1),
    // 33 software_File (all names distinct), 2 ai_AIPackage (word-model@0.0,
    // line-model@0.0), 1 dataset_DatasetPackage (IAMdataset).
    // Edges: BOM1's root SimpleHTR is described (1); contains 5+3+6+6+4+3+8 = 35;
    // dependsOn SimpleHTR → 7 packages (the relationship appears twice: 7);
    // trainedOn word-model and line-model → IAMdataset (2). testedOn ×2 and the 19
    // licence relationships are attributes. 1+35+7+2 = 45.
    (
        "example01-simplehtr-example.json",
        Parses {
            artifacts: &[("package", 10), ("file", 33), ("model", 2), ("dataset", 1)],
            edges: &[
                ("describes", 1),
                ("contains", 35),
                ("depends-on", 7),
                ("trained-on", 2),
            ],
            warnings: 0,
        },
    ),
    // 15 software_File, 1 dataset_DatasetPackage, 1 ai_AIPackage.
    // Edges: Sbom1's root AIPackage1 (1 describes); contains 1+3+9+2 = 15; generates
    // preprocess.py → 3 data files and train.py → model.bin: 4 built-from;
    // hasDataFile predict.py → model.bin (1 depends-on); trainedOn model.bin →
    // train.txt, valid.txt (2). 1+15+4+1+2 = 23. hasDependencyManifest and
    // hasDocumentation have no edge: 1 warning.
    (
        "example02-sbom.spdx.json",
        Parses {
            artifacts: &[("file", 15), ("dataset", 1), ("model", 1)],
            edges: &[
                ("describes", 1),
                ("contains", 15),
                ("built-from", 4),
                ("depends-on", 1),
                ("trained-on", 2),
            ],
            warnings: 1,
        },
    ),
    // A template: both packages have name "", and the `contains` relationship at
    // /@graph/6 comes from DatasetPackage-035470d9-…, which is neither in the graph
    // (the dataset there is "DatasetPackage-") nor imported.
    (
        "example02.spdx3.json",
        Repaired(
            "/@graph/6/from: \"https://spdx.org/spdxdocs/DatasetPackage-035470d9-3ede-4952-91c8-c2abb943c90b\" names no element",
            // The relationship is dropped; the two licence relationships from the same
            // missing element and the `availableFrom` one warn as before, as do the
            // model and the dataset, which have no name.
            &Parses {
                artifacts: &[("model", 1), ("dataset", 1)],
                edges: &[("describes", 1)],
                warnings: 6,
            },
        ),
    ),
    // 1 ai_AIPackage, the SBOM's root (1 describes); 2 licence relationships.
    (
        "example03.spdx3.json",
        Parses {
            artifacts: &[("model", 1)],
            edges: &[("describes", 1)],
            warnings: 0,
        },
    ),
    // ai_AIPackage, dataset_DatasetPackage, software_Package (externalIdentifier of
    // type "other", so no purl); describes the model, model trainedOn dataset, model
    // dependsOn package.
    (
        "example04.spdx3.json",
        Parses {
            artifacts: &[("model", 1), ("dataset", 1), ("package", 1)],
            edges: &[("describes", 1), ("trained-on", 1), ("depends-on", 1)],
            warnings: 0,
        },
    ),
    // ai_AIPackage trainedOn dataset_DatasetPackage; the model is the root.
    (
        "example05.spdx3.json",
        Parses {
            artifacts: &[("model", 1), ("dataset", 1)],
            edges: &[("describes", 1), ("trained-on", 1)],
            warnings: 0,
        },
    ),
    // One ai_AIPackage with energy consumption; the root.
    (
        "example06.spdx3.json",
        Parses {
            artifacts: &[("model", 1)],
            edges: &[("describes", 1)],
            warnings: 0,
        },
    ),
];

fn dir() -> String {
    format!("{DATA}/spdx3")
}

fn doc(file: &str) -> Document {
    parse_ok(&read(&format!("{}/{file}", dir())))
}

fn art<'d>(doc: &'d Document, id: &str) -> &'d ArtifactFact {
    doc.artifacts
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no artifact {id}"))
}

/// The parser's warnings: all but the schema deviations.
fn parser_warnings(doc: &Document) -> Vec<&Warning> {
    doc.warnings
        .iter()
        .filter(|w| !w.message.contains(" schema: "))
        .collect()
}

fn has_edge(doc: &Document, from: &str, kind: &str, to: &str) -> bool {
    doc.edges
        .iter()
        .any(|e| e.from == from && e.edge.as_str() == kind && e.to == to)
}

#[test]
fn every_ai_bom_example_maps_as_derived_from_its_json() {
    for e in std::fs::read_dir(dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            assert!(
                TABLE.iter().any(|(f, _)| *f == name),
                "{name} missing from the table"
            );
        }
    }
    for (file, want) in TABLE {
        let bytes = read(&format!("{}/{file}", dir()));
        check_file(file, &bytes, want);
    }
}

fn check_file(file: &str, bytes: &[u8], want: &Want) {
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
                check_file(file, bytes, then);
            }
            (
                Ok(doc),
                Parses {
                    artifacts,
                    edges,
                    warnings,
                },
            ) => {
                check_invariants(&doc);
                assert_eq!(doc.format.to_string(), "SPDX 3.0", "{file}");
                for (kind, n) in *artifacts {
                    let got = doc
                        .artifacts
                        .iter()
                        .filter(|a| a.kind.as_str() == *kind)
                        .count();
                    assert_eq!(got, *n, "{file}: {kind} artifacts");
                }
                let total: usize = artifacts.iter().map(|(_, n)| n).sum();
                assert_eq!(doc.artifacts.len(), total, "{file}: artifacts");
                for (kind, n) in *edges {
                    assert_eq!(count_edges(&doc, kind), *n, "{file}: {kind} edges");
                }
                let total: usize = edges.iter().map(|(_, n)| n).sum();
                assert_eq!(doc.edges.len(), total, "{file}: edges");
                let w = parser_warnings(&doc);
                assert_eq!(w.len(), *warnings, "{file}: {w:?}");
            }
            (Err(e), Parses { .. }) => panic!("{file}: {e}"),
        }
    }
}

#[test]
fn simplehtr_models_are_trained_on_the_iam_dataset_and_keep_their_card() {
    let d = doc("example01-simplehtr-example.json");
    for m in ["model:word-model@0.0", "model:line-model@0.0"] {
        assert!(has_edge(&d, m, "trained-on", "dataset:IAMdataset"), "{m}");
        let a = art(&d, m);
        // testedOn is kept on the model, not as an edge.
        assert_eq!(a.attrs["testedOn"], json!(["dataset:IAMdataset"]), "{m}");
        assert_eq!(a.attrs["hasDeclaredLicense"], json!(["MIT"]), "{m}");
        assert_eq!(a.attrs["ai_safetyRiskAssessment"], json!("low"));
        assert_eq!(a.attrs["ai_hyperparameter"].as_array().unwrap().len(), 24);
        assert_eq!(a.attrs["ai_metric"].as_array().unwrap().len(), 2);
        assert_eq!(a.attrs["ai_domain"][0], json!("handwriting recognition"));
    }
    assert!(
        !d.edges
            .iter()
            .any(|e| e.to == "dataset:IAMdataset" && e.edge.as_str() != "trained-on")
    );
    let iam = art(&d, "dataset:IAMdataset");
    assert_eq!(iam.attrs["dataset_datasetSize"], json!(4_620_000_000_u64));
    assert_eq!(iam.attrs["dataset_datasetType"], json!(["image"]));
    assert_eq!(
        iam.attrs["dataset_intendedUse"],
        json!("For line level or word level character recognition")
    );
    assert_eq!(iam.attrs["dataset_sensor"].as_array().unwrap().len(), 2);
    // A custom licence is recorded by its spdxId.
    assert_eq!(
        iam.attrs["hasDeclaredLicense"],
        json!(["https://spdx.org/spdxdocs/CustomLicense-c63547c2-62e0-48ec-b98d-ff1b917d67db"])
    );
    assert!(has_edge(
        &d,
        &d.document.id,
        "describes",
        "package:SimpleHTR"
    ));
    for p in [
        "package:editdistance@0.5.2",
        "package:lmdb@1.0.0",
        "package:lmdb@3.2.1",
        "package:numpy@1.19.5",
        "package:opencv-python@4.4.0.46",
        "package:path@15.0.0",
        "package:tensorflow@2.4.0",
    ] {
        assert!(has_edge(&d, "package:SimpleHTR", "depends-on", p), "{p}");
    }
    assert_eq!(
        art(&d, "package:numpy@1.19.5").attrs["hasConcludedLicense"],
        json!(["BSD-2-Clause-FreeBSD"])
    );
    assert!(has_edge(
        &d,
        "package:word-model",
        "contains",
        "file:/model/word-model/checkpoint"
    ));
    assert_eq!(d.document.attrs["specVersion"], json!("3.0.0"));
    assert_eq!(
        d.document.attrs["profileConformance"],
        json!(["core", "software", "ai", "dataset"])
    );
}

#[test]
fn sentiment_demo_records_training_generation_and_test_data_of_model_bin() {
    let d = doc("example02-sbom.spdx.json");
    for t in ["file:train.txt", "file:valid.txt"] {
        assert!(has_edge(&d, "file:model.bin", "trained-on", t), "{t}");
    }
    assert!(!has_edge(
        &d,
        "file:model.bin",
        "trained-on",
        "file:test.txt"
    ));
    assert_eq!(
        art(&d, "file:model.bin").attrs["testedOn"],
        json!(["file:test.txt"])
    );
    assert!(has_edge(
        &d,
        "file:model.bin",
        "built-from",
        "file:train.py"
    ));
    for t in ["file:test.txt", "file:train.txt", "file:valid.txt"] {
        assert!(has_edge(&d, t, "built-from", "file:preprocess.py"), "{t}");
    }
    assert!(has_edge(
        &d,
        "file:predict.py",
        "depends-on",
        "file:model.bin"
    ));
    assert!(has_edge(
        &d,
        "dataset:Data after preprocessing",
        "contains",
        "file:data"
    ));
    let model = "model:Sentiment Demo: A Simple AI Application and its AI BOM Example";
    assert!(has_edge(&d, &d.document.id, "describes", model));
    let m = art(&d, model);
    assert_eq!(m.attrs["hasDeclaredLicense"], json!(["CC0-1.0"]));
    assert_eq!(
        m.attrs["ai_energyConsumption"]["ai_trainingEnergyConsumption"][0]["ai_energyQuantity"],
        json!("0.0048269")
    );
    assert_eq!(
        m.attrs["ai_typeOfModel"],
        json!(["classification", "supervised"])
    );
    let w = parser_warnings(&d)[0];
    assert_eq!(w.pointer, "/@graph");
    assert!(
        w.message.contains("hasDependencyManifest ×1") && w.message.contains("hasDocumentation ×1"),
        "{w:?}"
    );
}

#[test]
fn fine_tuned_model_depends_on_its_base_and_is_trained_on_its_dataset() {
    let d = doc("example04.spdx3.json");
    let m = "model:LegalBERT-Contracts@1.0.0";
    assert!(has_edge(
        &d,
        m,
        "trained-on",
        "dataset:ContractClauses-v2@2.0"
    ));
    assert!(has_edge(
        &d,
        m,
        "depends-on",
        "package:bert-base-uncased@4.35.0"
    ));
    assert!(has_edge(&d, &d.document.id, "describes", m));
    let a = art(&d, m);
    assert_eq!(a.attrs["type"], json!("ai_AIPackage"));
    assert_eq!(a.attrs["hasDeclaredLicense"], json!(["Apache-2.0"]));
    assert_eq!(a.attrs["ai_metric"][1]["key"], json!("macro-F1"));
    let ds = art(&d, "dataset:ContractClauses-v2@2.0");
    assert_eq!(ds.attrs["dataset_datasetSize"], json!(524_288_000));
    assert_eq!(
        ds.attrs["dataset_hasSensitivePersonalInformation"],
        json!("no")
    );
    assert!(
        ds.attrs["dataset_dataCollectionProcess"]
            .as_str()
            .unwrap()
            .starts_with("Clauses extracted")
    );
    // The non-purl external identifier is kept.
    assert_eq!(
        art(&d, "package:bert-base-uncased@4.35.0").attrs["externalIdentifier"][0]["issuingAuthority"],
        json!("HuggingFace Hub")
    );
}

#[test]
fn ai_profile_properties_are_kept() {
    let d = doc("example05.spdx3.json");
    let m = art(&d, "model:WarehouseDetect@3.0.2");
    assert_eq!(
        m.attrs["ai_metricDecisionThreshold"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(m.attrs["ai_autonomyType"], json!("no"));
    assert!(has_edge(
        &d,
        "model:WarehouseDetect@3.0.2",
        "trained-on",
        "dataset:WarehouseSafety-Train"
    ));
    let d = doc("example06.spdx3.json");
    let m = art(&d, "model:EcoVision-Large@2.0.0");
    let e = &m.attrs["ai_energyConsumption"];
    assert_eq!(
        e["ai_finetuningEnergyConsumption"][0]["ai_energyQuantity"],
        json!("187.2")
    );
    assert_eq!(
        m.attrs["ai_standardCompliance"],
        json!(["ISO/IEC 42001:2023"])
    );
    let d = doc("example03.spdx3.json");
    let m = art(&d, "model:RetinaScan AI@2.1.0");
    assert_eq!(m.attrs["ai_safetyRiskAssessment"], json!("high"));
    assert_eq!(
        m.attrs["hasConcludedLicense"],
        json!(["LicenseRef-MedTech-Proprietary-2024"])
    );
}

/// A small document: a model, a dataset, a package and the given extra elements.
fn crafted(extra: Value) -> Vec<u8> {
    let mut graph = vec![
        json!({"type": "SpdxDocument", "spdxId": "urn:t:doc", "rootElement": ["urn:t:m"],
               "import": [{"type": "ExternalMap", "externalSpdxId": "urn:other:base"}]}),
        json!({"type": "ai_AIPackage", "spdxId": "urn:t:m", "name": "m", "software_packageVersion": "1"}),
        json!({"type": "dataset_DatasetPackage", "spdxId": "urn:t:d", "name": "d"}),
        json!({"type": "software_Package", "spdxId": "urn:t:p", "name": "torch",
               "software_packageUrl": "pkg:pypi/torch@2.4.1"}),
        json!({"type": "Person", "spdxId": "urn:t:alice", "name": "Alice"}),
    ];
    graph.extend(extra.as_array().unwrap().iter().cloned());
    serde_json::to_vec(&json!({
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": graph,
    }))
    .unwrap()
}

fn rel(ty: &str, from: &str, to: Value) -> Value {
    json!({"type": "Relationship", "spdxId": format!("urn:t:r-{ty}"),
           "relationshipType": ty, "from": from, "to": to})
}

fn strict() -> Options {
    Options {
        strict: true,
        ..Options::default()
    }
}

#[test]
fn a_dangling_reference_is_dropped_or_refused_with_its_pointer() {
    let bytes = crafted(json!([rel(
        "trainedOn",
        "urn:t:m",
        json!(["urn:t:d", "urn:t:missing"])
    )]));
    let e = parse(&bytes, &strict()).unwrap_err().to_string();
    assert_eq!(
        e,
        "SPDX 3.0: /@graph/5/to/1: \"urn:t:missing\" names no element of the @graph and no \"import\" of the document"
    );
    // Without `strict`, the dangling target is dropped; the other one is an edge.
    let d = parse_ok(&bytes);
    assert_eq!(count_edges(&d, "trained-on"), 1);
    let w = parser_warnings(&d);
    assert!(
        w.iter().any(|w| w.pointer == "/@graph/5/to/1"
            && w.message.contains("\"urn:t:missing\" names no element")
            && w.message.ends_with("; no edge recorded")),
        "{w:?}"
    );
    // The same for a root element and for `from`.
    let bytes = crafted(json!([rel("dependsOn", "urn:t:nope", json!(["urn:t:p"]))]));
    let e = parse(&bytes, &strict()).unwrap_err().to_string();
    assert!(
        e.contains("/@graph/5/from: \"urn:t:nope\" names no element"),
        "{e}"
    );
    let d = parse_ok(&bytes);
    assert_eq!(count_edges(&d, "depends-on"), 0);
    assert!(
        parser_warnings(&d)
            .iter()
            .any(|w| w.pointer == "/@graph/5/from"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn an_unknown_relationship_type_warns_at_its_pointer_and_makes_no_edge() {
    let bytes = crafted(json!([
        rel("trainedOn", "urn:t:m", json!("urn:t:d")),
        rel("fineTunedFrom", "urn:t:m", json!(["urn:t:p"])),
    ]));
    let d = parse_ok(&bytes);
    assert!(has_edge(&d, "model:m@1", "trained-on", "dataset:d"));
    assert!(has_edge(&d, &d.document.id, "describes", "model:m@1"));
    assert_eq!(d.edges.len(), 2, "{:?}", d.edges);
    let w = parser_warnings(&d);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].pointer, "/@graph/6/relationshipType");
    assert!(
        w[0].message
            .contains("unknown relationship type \"fineTunedFrom\""),
        "{w:?}"
    );
}

#[test]
fn imported_elements_licences_and_agents_are_not_errors() {
    let bytes = crafted(json!([
        // The base model lives in another document, named in `import`.
        rel(
            "descendantOf",
            "urn:t:m",
            json!(["urn:other:base", "urn:t:p"])
        ),
        // Licence IRIs of the SPDX licence list need not be declared.
        rel(
            "hasDeclaredLicense",
            "urn:t:d",
            json!(["https://spdx.org/licenses/CC-BY-4.0"])
        ),
        // An agent is not an artifact.
        rel("dependsOn", "urn:t:m", json!(["urn:t:alice"])),
        rel("publishedBy", "urn:t:m", json!(["urn:t:alice"])),
    ]));
    let d = parse_ok(&bytes);
    assert!(has_edge(
        &d,
        "model:m@1",
        "derived-from",
        "pkg:pypi/torch@2.4.1"
    ));
    assert_eq!(d.edges.len(), 2, "{:?}", d.edges);
    assert_eq!(
        art(&d, "dataset:d").attrs["hasDeclaredLicense"],
        json!(["CC-BY-4.0"])
    );
    let w: Vec<(&str, &str)> = parser_warnings(&d)
        .into_iter()
        .map(|w| (w.pointer.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(
        w[0].0 == "/@graph/5/to/0"
            && w[0]
                .1
                .contains("another document (imported at /@graph/0/import/0)"),
        "{w:?}"
    );
    assert!(
        w[1].0 == "/@graph/7/to/0" && w[1].1.contains("is a Person, not an artifact"),
        "{w:?}"
    );
    assert!(
        w[2].0 == "/@graph" && w[2].1.contains("publishedBy ×1"),
        "{w:?}"
    );
}

#[test]
fn relationship_directions_and_builds() {
    let bytes = crafted(json!([
        json!({"type": "software_File", "spdxId": "urn:t:f", "name": "model.safetensors",
               "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "a".repeat(64)}]}),
        json!({"type": "build_Build", "spdxId": "urn:t:b"}),
        rel("ancestorOf", "urn:t:p", json!(["urn:t:m"])),
        json!({"type": "Relationship", "spdxId": "urn:t:r2", "relationshipType": "hasInput",
               "from": "urn:t:b", "to": ["urn:t:d"]}),
        json!({"type": "Relationship", "spdxId": "urn:t:r3", "relationshipType": "hasOutput",
               "from": "urn:t:b", "to": ["urn:t:f"]}),
        json!({"type": "Relationship", "spdxId": "urn:t:r4", "relationshipType": "testedOn",
               "from": "urn:t:m", "to": ["urn:t:d"]}),
    ]));
    let d = parse_ok(&bytes);
    let f = format!("sha256:{}", "a".repeat(64));
    assert!(has_edge(
        &d,
        "model:m@1",
        "derived-from",
        "pkg:pypi/torch@2.4.1"
    ));
    assert!(has_edge(&d, &f, "built-from", "dataset:d"));
    assert!(
        !d.edges
            .iter()
            .any(|e| e.from == "model:m@1" && e.to == "dataset:d")
    );
    assert_eq!(art(&d, "model:m@1").attrs["testedOn"], json!(["dataset:d"]));
    assert_eq!(d.edges.len(), 3, "{:?}", d.edges);
}

#[test]
fn a_nameless_package_is_known_by_its_spdx_id() {
    let bytes = crafted(json!([
        json!({"type": "dataset_DatasetPackage", "spdxId": "urn:t:anon", "name": ""})
    ]));
    let d = parse_ok(&bytes);
    let a = art(&d, "dataset:urn:t:anon");
    assert_eq!(a.name, None);
    assert_eq!(parser_warnings(&d)[0].pointer, "/@graph/5/name");
    let bytes = crafted(json!([
        json!({"type": "software_Package", "spdxId": "urn:t:p", "name": "again"})
    ]));
    let e = parse(&bytes, &strict()).unwrap_err().to_string();
    assert!(
        e.contains("/@graph/5/spdxId: duplicate spdxId \"urn:t:p\" (also at /@graph/3)"),
        "{e}"
    );
    // Without `strict`, both are recorded and references name the first.
    let d = parse_ok(&bytes);
    assert!(d.artifacts.iter().any(|a| a.id == "package:again"));
    assert!(
        parser_warnings(&d)
            .iter()
            .any(|w| w.pointer == "/@graph/5/spdxId"
                && w.message.contains("references name the first")),
        "{:?}",
        d.warnings
    );
}
