//! The CycloneDX specification's own test corpus (`tests/fixtures/cyclonedx-spec`, see
//! the SOURCES.md there): every `valid-*` document of 1.2–1.7, JSON and XML, is accepted
//! without a warning; every `invalid-*` JSON document is refused or warned about, and
//! at least 90% of the `invalid-*` XML documents are.

use std::path::PathBuf;

use ailedger_formats::{Options, parse};

use crate::{FIXTURES, check_invariants};

/// Files the corpus test leaves out, with the reason (none today).
const EXCLUDED: &[(&str, &str)] = &[];

/// What ailedger made of one corpus file.
enum Outcome {
    Clean,
    Warned(Vec<String>),
    Refused(String),
}

fn corpus() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for v in ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"] {
        let dir = format!("{FIXTURES}/cyclonedx-spec/{v}");
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
            let p = e.unwrap().path();
            let name = format!("{v}/{}", p.file_name().unwrap().to_string_lossy());
            files.push((name, p));
        }
    }
    files.sort();
    files
}

fn outcome(path: &PathBuf) -> Outcome {
    let bytes = std::fs::read(path).unwrap();
    match parse(&bytes, &Options::default()) {
        Err(e) => Outcome::Refused(e.to_string()),
        Ok(doc) => {
            check_invariants(&doc);
            if doc.warnings.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Warned(
                    doc.warnings
                        .iter()
                        .map(|w| format!("{}: {}", w.pointer, w.message))
                        .collect(),
                )
            }
        }
    }
}

#[test]
fn the_specification_corpus_is_read_as_its_authors_intend() {
    let files = corpus();
    // 450 valid and 289 invalid documents (commit named in the SOURCES.md).
    assert_eq!(files.len(), 739, "corpus size");
    let mut valid_bad = Vec::new();
    let (mut valid, mut valid_ok) = (0, 0);
    let (mut inv_json, mut inv_json_caught, mut inv_xml, mut inv_xml_caught) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    for (name, path) in &files {
        if let Some((_, why)) = EXCLUDED.iter().find(|(n, _)| n == name) {
            println!("excluded {name}: {why}");
            continue;
        }
        let base = name.rsplit('/').next().unwrap();
        let xml = name.ends_with(".xml");
        let o = outcome(path);
        if base.starts_with("valid-") {
            valid += 1;
            match o {
                Outcome::Clean => valid_ok += 1,
                Outcome::Warned(w) => valid_bad.push(format!("{name}: warned {w:?}")),
                Outcome::Refused(e) => valid_bad.push(format!("{name}: refused {e}")),
            }
        } else {
            let caught = !matches!(o, Outcome::Clean);
            if xml {
                inv_xml += 1;
                inv_xml_caught += usize::from(caught);
            } else {
                inv_json += 1;
                inv_json_caught += usize::from(caught);
            }
            if !caught {
                missed.push(name.clone());
            }
        }
    }
    println!("valid accepted without a warning: {valid_ok} of {valid}");
    println!("invalid JSON refused or warned: {inv_json_caught} of {inv_json}");
    println!("invalid XML refused or warned: {inv_xml_caught} of {inv_xml}");
    for b in &valid_bad {
        println!("VALID NOT CLEAN {b}");
    }
    for m in &missed {
        println!("INVALID MISSED {m}");
    }
    assert_eq!(valid, 450);
    assert_eq!(inv_json, 139);
    assert_eq!(inv_xml, 150);
    assert!(
        valid_bad.is_empty(),
        "{} valid files not clean",
        valid_bad.len()
    );
    assert_eq!(inv_json_caught, inv_json, "invalid JSON missed");
    assert!(
        inv_xml_caught * 10 >= inv_xml * 9,
        "invalid XML: {inv_xml_caught} of {inv_xml}"
    );
}

/// A scanner's vulnerability that takes the bom-ref of the component it affects: the
/// document is accepted, the component keeps the ref (the dependency on it is recorded)
/// and the vulnerability's bom-ref is a warning at its pointer. Two components sharing
/// a bom-ref are still refused.
#[test]
fn a_vulnerability_sharing_a_components_bom_ref_is_a_warning() {
    let doc = |second: &str| {
        format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
            "metadata":{{"component":{{"type":"application","name":"app","bom-ref":"app"}}}},
            "components":[{{"type":"library","name":"lodash","version":"4.17.20",
              "purl":"pkg:npm/lodash@4.17.20","bom-ref":"pkg:npm/lodash@4.17.20"}}],
            "dependencies":[{{"ref":"app","dependsOn":["pkg:npm/lodash@4.17.20"]}}],
            {second}}}"#
        )
    };
    let vuln = r#""vulnerabilities":[{"id":"CVE-2021-23337","bom-ref":"pkg:npm/lodash@4.17.20",
        "affects":[{"ref":"pkg:npm/lodash@4.17.20"}]}]"#;
    let d = crate::parse_ok(doc(vuln).as_bytes());
    assert_eq!(crate::count_edges(&d, "depends-on"), 1, "{:?}", d.edges);
    assert!(d.artifacts.iter().any(|a| a.id == "pkg:npm/lodash@4.17.20"));
    let w: Vec<_> = d
        .warnings
        .iter()
        .filter(|w| w.pointer == "/vulnerabilities/0/bom-ref")
        .collect();
    assert_eq!(w.len(), 1, "{:?}", d.warnings);
    assert!(
        w[0].message.contains("/components/0/bom-ref"),
        "{}",
        w[0].message
    );
    // Negative: a service that repeats the component's bom-ref is refused.
    let svc = r#""services":[{"name":"s","bom-ref":"pkg:npm/lodash@4.17.20"}]"#;
    let e = parse(doc(svc).as_bytes(), &Options::default()).unwrap_err();
    assert!(e.to_string().contains("duplicate bom-ref"), "{e}");
}
