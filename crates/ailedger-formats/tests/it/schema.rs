//! Deviations from the official JSON schemas are reported as warnings at their JSON
//! pointers, without failing the ingest. The expectations were cross-checked with the
//! Python `jsonschema` reference validator (Draft 7) over the same vendored schemas.

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
        // The JSF 0.82 schema that CycloneDX references rejects every simple signature
        // (its `algorithm` is a `oneOf` of an enum and a plain string, which "ES256"
        // matches both of); the reference validator reports the same.
        let want_only_signatures = name.contains("signature") || name.contains("attestation");
        if want_only_signatures {
            assert!(!pointers.is_empty(), "{name}");
            assert!(
                pointers.iter().all(|p| p.ends_with("/signature")),
                "{name}: {pointers:?}"
            );
        } else {
            assert!(pointers.is_empty(), "{name}: {:?}", doc.warnings);
        }
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
