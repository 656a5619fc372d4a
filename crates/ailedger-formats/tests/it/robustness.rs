//! Never panic on untrusted bytes: the fuzz body over every fixture and
//! deterministic mutations of each (truncations, byte flips, insertions); limits.

use ailedger_formats::{Limits, Options, fuzz_osv, fuzz_parse, parse};

use crate::{DATA, FIXTURES, read};

fn inputs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in [
        format!("{FIXTURES}/cyclonedx"),
        format!("{FIXTURES}/spdx"),
        format!("{FIXTURES}/mcp"),
        format!("{FIXTURES}/lockfiles"),
        DATA.to_owned(),
        format!("{DATA}/spdx3"),
    ] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_file() {
                out.push(std::fs::read(path).unwrap());
            }
        }
    }
    out
}

#[test]
fn fuzz_body_survives_fixtures_and_mutations() {
    for bytes in inputs() {
        fuzz_parse(&bytes);
        // Mutations are capped to small inputs (plus prefixes of big ones) to keep the
        // test quick in debug builds.
        let small = &bytes[..bytes.len().min(6000)];
        let n = small.len();
        for cut in (0..n).step_by((n / 40).max(1)) {
            fuzz_parse(&small[..cut]);
        }
        let mut seed: u32 = 0x9e37_79b9;
        for _ in 0..40 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut m = small.to_vec();
            if m.is_empty() {
                break;
            }
            let i = seed as usize % m.len();
            match seed % 4 {
                0 => m[i] ^= 1 << (seed % 8),
                1 => m[i] = b"{}[]\",:\\<>=\n#@"[seed as usize % 15],
                2 => m.insert(i, b'"'),
                _ => {
                    m.remove(i);
                }
            }
            fuzz_parse(&m);
        }
    }
}

#[test]
fn limits_are_enforced_with_clear_errors() {
    let tiny = |l: Limits| Options {
        limits: l,
        ..Options::default()
    };
    let bytes = read(&format!(
        "{FIXTURES}/cyclonedx/examples-keycloak-10.0.2-1.2.json"
    ));
    let e = parse(
        &bytes,
        &tiny(Limits {
            max_bytes: 1000,
            ..Limits::default()
        }),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("over the limit of 1000 bytes"), "{e}");
    let e = parse(
        &bytes,
        &tiny(Limits {
            max_elements: 100,
            ..Limits::default()
        }),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("exceed the limit of 100"), "{e}");
    let e = parse(
        &bytes,
        &tiny(Limits {
            max_depth: 4,
            ..Limits::default()
        }),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("nesting deeper than 4 levels"), "{e}");
    let e = parse(
        &bytes,
        &tiny(Limits {
            max_string_len: 10,
            ..Limits::default()
        }),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("exceeds the limit of 10"), "{e}");
    // serde_json's own recursion limit is reported as a syntax error, not a crash.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let e = parse(deep.as_bytes(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("recursion limit exceeded"), "{e}");
    let deep_xml = format!(
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\">{}{}</bom>",
        "<a>".repeat(3000),
        "</a>".repeat(3000)
    );
    let e = parse(deep_xml.as_bytes(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("deeper than 128"), "{e}");
    let dtd = "<?xml version=\"1.0\"?><!DOCTYPE bom [<!ENTITY a \"aaaa\">]><bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"/>";
    assert!(parse(dtd.as_bytes(), &Options::default()).is_err());
}

/// JSON files under `dir`, recursively.
fn json_files(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(std::fs::read(path).unwrap());
        }
    }
}

#[test]
fn osv_fuzz_body_survives_records_and_mutations() {
    let mut records = Vec::new();
    json_files(
        std::path::Path::new(&format!("{FIXTURES}/osv")),
        &mut records,
    );
    json_files(
        std::path::Path::new(&format!("{FIXTURES}/incidents")),
        &mut records,
    );
    assert!(records.len() >= 15, "{}", records.len());
    // All records at once, as an import request's array.
    let values: Vec<serde_json::Value> = records
        .iter()
        .filter_map(|r| serde_json::from_slice(r).ok())
        .collect();
    // The body gets past the schema check on real records (and so reaches the reader).
    let valid = values
        .iter()
        .filter(|v| ailedger_formats::validate_osv(v).is_ok())
        .count();
    assert!(valid >= 15, "{valid} records pass the OSV schema");
    fuzz_osv(&serde_json::to_vec(&values).unwrap());
    let mut seed: u32 = 0x85eb_ca6b;
    for bytes in &records {
        fuzz_osv(bytes);
        for cut in (0..bytes.len()).step_by((bytes.len() / 20).max(1)) {
            fuzz_osv(&bytes[..cut]);
        }
        for _ in 0..20 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut m = bytes.clone();
            let i = seed as usize % m.len();
            match seed % 4 {
                0 => m[i] ^= 1 << (seed % 8),
                1 => {
                    let pool = b"{}[]\",:0-.<>@";
                    m[i] = pool[seed as usize % pool.len()];
                }
                2 => m.insert(i, b'"'),
                _ => {
                    m.remove(i);
                }
            }
            fuzz_osv(&m);
        }
    }
}

/// Inputs the fuzzer found, each once a difference between the streamed and the tree
/// conversion or a panic; the fuzz body must now pass them.
#[test]
fn fuzz_findings_stay_fixed() {
    let findings: [&[u8]; 1] = [
        // A root attribute named like a top-level element (`dependencies`): the tree
        // conversion read it as the dependency graph, the streamed one did not.
        br#"<bom dependencies="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="1" xmlns="http://cyclonedx.org/schema/bom/1.5"><metadata><authors><author><name>A</name><email>a@example.org</email><phone>1</phone></author></authors></metadata><components /></bom>"#,
    ];
    for f in findings {
        fuzz_parse(f);
    }
}
