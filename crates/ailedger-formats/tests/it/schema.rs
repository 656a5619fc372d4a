//! Deviations from the official JSON schemas are reported as warnings at their JSON
//! pointers, without failing the ingest. The expectations were cross-checked with the
//! Python `jsonschema` reference validator (Draft 7; Draft 2020-12 for SPDX 3) over the
//! same vendored schemas.

use super::*;

/// Pointers of the schema warnings of a document.
fn schema_pointers(doc: &Document) -> Vec<&str> {
    doc.warnings
        .iter()
        .filter(|w| w.message.contains(" schema: "))
        .map(|w| w.pointer.as_str())
        .collect()
}

#[test]
fn spec_valid_cyclonedx_fixtures_match_their_schema() {
    let dir = format!("{FIXTURES}/cyclonedx");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("spec-valid-") || !name.ends_with(".json") {
            continue;
        }
        let doc = parse_ok(&std::fs::read(&p).unwrap());
        let pointers = schema_pointers(&doc);
        // Signatures too: JSF's `algorithm` is a `oneOf` of an enum and a `uri` string,
        // which "ES256" matches once only when formats are checked.
        assert!(pointers.is_empty(), "{name}: {:?}", doc.warnings);
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn real_world_deviations_are_named() {
    // Trivy writes `OPERATING-SYSTEM` where SPDX 2.3 says `OPERATING_SYSTEM`: the schema
    // names the field, the parser says how it read it.
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/spdx/protobom-trivy-0.42.1_mageia-5.1.spdx.json"
    )));
    let schema: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| w.message.contains("SPDX 2.3 schema"))
        .collect();
    assert_eq!(schema.len(), 1, "{:?}", doc.warnings);
    assert_eq!(schema[0].pointer, "/packages/131/primaryPackagePurpose");
    assert!(schema[0].message.contains("OPERATING-SYSTEM"));
    // Real generator output that follows its schema gets no schema warning.
    for rel in [
        "cyclonedx/examples-keycloak-10.0.2-1.2.json",
        "cyclonedx/examples-juice-shop-npm-bare-1.4.json",
        "cyclonedx/protobom-syft-0.96.0_rails-5.0.0-1.5.cdx.json",
        "spdx/protobom-github-depgraph-kubernetes-d61cbac6.spdx.json",
    ] {
        let doc = parse_ok(&read(&format!("{FIXTURES}/{rel}")));
        assert!(
            schema_pointers(&doc).is_empty(),
            "{rel}: {:?}",
            doc.warnings
        );
    }
}

#[test]
fn schema_deviations_are_capped_and_counted() {
    // An unknown top-level property in every one of 30 components.
    let comps: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"type":"library","name":"c{i}","version":"1","colour":"red"}}"#))
        .collect();
    let bom = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{}]}}"#,
        comps.join(",")
    );
    let doc = parse_ok(bom.as_bytes());
    let pointers = schema_pointers(&doc);
    assert_eq!(pointers.len(), 20, "{pointers:?}");
    assert_eq!(pointers[0], "/components/0");
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.message == "10 more deviations from the CycloneDX 1.6 schema"),
        "{:?}",
        doc.warnings
    );
    assert_eq!(doc.artifacts.len(), 30);
}

/// A minimal SPDX 2.2 document that follows the 2.2 schema, with `extra` spliced into
/// its one package.
fn spdx_2_2(extra: &str) -> String {
    format!(
        r#"{{"spdxVersion":"SPDX-2.2","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT",
        "name":"doc","documentNamespace":"https://example.com/doc",
        "creationInfo":{{"created":"2024-01-01T00:00:00Z","creators":["Tool: test"]}},
        "packages":[{{"SPDXID":"SPDXRef-a","name":"a","downloadLocation":"NOASSERTION",
            "copyrightText":"NOASSERTION","licenseConcluded":"NOASSERTION",
            "licenseDeclared":"NOASSERTION"{extra}}}],
        "relationships":[{{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES",
            "relatedSpdxElement":"SPDXRef-a"}}]}}"#
    )
}

#[test]
fn spdx_2_2_documents_are_checked_against_the_2_2_schema() {
    // No fixture is SPDX 2.2 (`"spdxVersion": "SPDX-2.2"`): the documents are crafted.
    let doc = parse_ok(spdx_2_2("").as_bytes());
    assert_eq!(doc.format.to_string(), "SPDX 2.2");
    assert!(schema_pointers(&doc).is_empty(), "{:?}", doc.warnings);

    // `primaryPackagePurpose` is SPDX 2.3; the 2.2 schema allows no other property.
    let doc = parse_ok(spdx_2_2(r#","primaryPackagePurpose":"LIBRARY""#).as_bytes());
    let schema: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| w.message.contains("SPDX 2.2 schema"))
        .collect();
    assert_eq!(schema.len(), 1, "{:?}", doc.warnings);
    assert_eq!(schema[0].pointer, "/packages/0");
    assert!(
        schema[0].message.contains("primaryPackagePurpose"),
        "{}",
        schema[0].message
    );
    assert_eq!(doc.artifacts.len(), 1);
}

#[test]
fn the_spdx_2_3_example_labelled_2_2_shows_what_2_3_added() {
    // The official 2.3 "everything" example, relabelled SPDX-2.2: each deviation is a
    // 2.3 addition the 2.2 schema does not know (2.3 made a package's and a file's
    // licence and copyright fields optional, and added fields, a checksum algorithm
    // and relationship types). The Python `jsonschema` reference validator reports
    // the same nine deviations at the same pointers.
    let text = String::from_utf8(read(&format!(
        "{FIXTURES}/spdx/spdxspec-SPDXJSONExample-v2.3.spdx.json"
    )))
    .unwrap();
    let text = text.replacen(r#""SPDX-2.3""#, r#""SPDX-2.2""#, 1);
    let doc = parse_ok(text.as_bytes());
    assert_eq!(doc.format.to_string(), "SPDX 2.2");
    let mut got: Vec<(&str, &str)> = doc
        .warnings
        .iter()
        .filter(|w| w.message.contains("SPDX 2.2 schema"))
        .map(|w| (w.pointer.as_str(), w.message.as_str()))
        .collect();
    got.sort_unstable();
    let want = [
        ("/files/3", "copyrightText"),
        ("/files/3", "licenseConcluded"),
        ("/files/3", "licenseInfoInFiles"),
        ("/packages/0", "primaryPackagePurpose"),
        ("/packages/0/checksums/3/algorithm", "BLAKE2b-384"),
        ("/packages/2", "copyrightText"),
        ("/packages/2", "licenseConcluded"),
        ("/packages/2", "licenseDeclared"),
        ("/relationships/5/relationshipType", "SPECIFICATION_FOR"),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (pointer, word) in want {
        assert!(
            got.iter().any(|(p, m)| *p == pointer && m.contains(word)),
            "{pointer} {word}: {got:#?}"
        );
    }
}

/// Pointers of the SPDX 3 schema deviations of `doc`.
fn spdx3_schema_pointers(doc: &Document) -> Vec<&str> {
    doc.warnings
        .iter()
        .filter(|w| w.message.contains("SPDX 3.0.1 schema"))
        .map(|w| w.pointer.as_str())
        .collect()
}

#[test]
fn spdx3_documents_are_checked_against_the_3_0_1_schema() {
    // Expected pointers, cross-checked with the Python reference (`jsonschema` 4.26,
    // `Draft202012Validator` over schemas/spdx/spdx-3.0.1.schema.json, formats not
    // asserted): it reports the same deviations at the same paths for every document
    // here. example01 declares the 3.0.0 context, which the 3.0.1 schema's `const`
    // does not allow; the others are valid. (example02.spdx3.json is left out: the
    // parser refuses it, a relationship naming no element. The reference finds three
    // deviations in it: `/@context` (3.0.0) and, at the document, a failed `oneOf` and
    // an unevaluated `@graph` — five of its elements, template placeholders, match no
    // class.)
    let table: &[(&str, &[&str])] = &[
        ("example01-simplehtr-example.json", &["/@context"]),
        ("example02-sbom.spdx.json", &[]),
        ("example03.spdx3.json", &[]),
        ("example04.spdx3.json", &[]),
        ("example05.spdx3.json", &[]),
        ("example06.spdx3.json", &[]),
    ];
    let mut files: Vec<(String, &[&str])> = table
        .iter()
        .map(|(f, want)| (format!("{DATA}/spdx3/{f}"), *want))
        .collect();
    files.push((
        format!("{FIXTURES}/spdx/spdxspec-3.0-package_sbom.jsonld.json"),
        &[],
    ));
    for (path, want) in &files {
        let doc = parse_ok(&read(path));
        assert_eq!(doc.format.to_string(), "SPDX 3.0", "{path}");
        assert_eq!(
            spdx3_schema_pointers(&doc),
            *want,
            "{path}: {:?}",
            doc.warnings
        );
    }
    let doc = parse_ok(&read(&format!(
        "{DATA}/spdx3/example01-simplehtr-example.json"
    )));
    let w = doc
        .warnings
        .iter()
        .find(|w| w.pointer == "/@context")
        .unwrap();
    assert_eq!(
        w.message,
        "does not match the SPDX 3.0.1 schema: \"https://spdx.org/rdf/3.0.1/spdx-context.jsonld\" was expected"
    );
}

#[test]
fn an_spdx3_element_fault_is_reported_at_the_element() {
    // The 3.0.1 schema matches each element of `@graph` against an `anyOf` of every
    // class, inside a `oneOf` at the top, so checked whole (as the Python reference
    // does) a fault in one element fails the whole `oneOf` and is reported at `/`.
    // ailedger checks each element against the class its `type` names, which gives
    // the same verdict (see schema.rs) and names the element and what is wrong.
    let text = String::from_utf8(read(&format!("{DATA}/spdx3/example06.spdx3.json"))).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["@graph"][4]["type"], "ai_AIPackage");
    v["@graph"][4]["ai_colour"] = "red".into();
    let doc = parse_ok(&serde_json::to_vec(&v).unwrap());
    let got: Vec<(&str, &str)> = doc
        .warnings
        .iter()
        .filter(|w| w.message.contains("SPDX 3.0.1 schema"))
        .map(|w| (w.pointer.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [(
            "/@graph/4",
            "does not match the SPDX 3.0.1 schema: Unevaluated properties are not allowed ('ai_colour' was unexpected)"
        )]
    );
    // A deviation is a warning: the model is still read.
    assert_eq!(doc.artifacts.len(), 1);
}
