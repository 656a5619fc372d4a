//! OSV range semantics: every record in `tests/fixtures/osv` (OpenSSF
//! malicious-packages records, PyPI and npm, withdrawn ones included) evaluated
//! against its listed versions and versions just outside them, plus synthetic ranges
//! for what the fixtures do not exercise (unsorted events, fixed, last_affected,
//! limit, GIT).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ailedger_core::osv_range::{Event, OsvError, OsvRange, RangeKind, affected};
use ailedger_core::version::Scheme;
use serde_json::{Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/osv");

struct Case {
    id: &'static str,
    package: &'static str,
    withdrawn: bool,
    inside: &'static [&'static str],
    outside: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        id: "MAL-2025-191025",
        package: "02-echo",
        withdrawn: false,
        inside: &["0.0.7", "v0.0.7"],
        outside: &["0.0.6", "0.0.8", "0.0.7-rc.1"],
    },
    Case {
        id: "MAL-2024-10310",
        package: "@captivateiq/events",
        withdrawn: false,
        inside: &["1.0.0", "19.3.9"],
        outside: &["0.9.9", "1.0.1", "19.3.8", "19.3.10"],
    },
    // SEMVER, introduced only: everything from 99.9.1 on
    Case {
        id: "MAL-2025-3959",
        package: "@flcore/login",
        withdrawn: false,
        inside: &["99.9.1", "99.9.2", "100.0.0"],
        outside: &["99.9.0", "99.9.1-rc.1", "1.0.0"],
    },
    Case {
        id: "MAL-2022-1332",
        package: "azure-function-test",
        withdrawn: false,
        inside: &["0.0.0", "0.0.1-alpha", "1.0.0", "999.0.0"],
        outside: &[],
    },
    Case {
        id: "MAL-2025-4560",
        package: "gateway-v2",
        withdrawn: false,
        inside: &["1.1.1", "1.2.0", "2.0.0"],
        outside: &["1.1.0", "1.1.1-beta.1", "0.0.1"],
    },
    Case {
        id: "MAL-2024-9282",
        package: "huggingface-vscode",
        withdrawn: false,
        inside: &["100.2.2"],
        outside: &["100.2.1", "100.2.3", "0.0.1"],
    },
    Case {
        id: "MAL-2025-847",
        package: "llm_demo",
        withdrawn: false,
        inside: &["9.9.9"],
        outside: &["9.9.8", "9.9.10"],
    },
    Case {
        id: "MAL-2024-1369",
        package: "mixtral-llm",
        withdrawn: false,
        inside: &["0.0.1", "5.0.0"],
        outside: &[],
    },
    Case {
        id: "MAL-2026-15859",
        package: "0requests",
        withdrawn: false,
        inside: &["0.0.1", "0.0.1.0"],
        outside: &["0.0.0", "0.0.2", "0.0.1.post1", "0.0.1rc1"],
    },
    Case {
        id: "MAL-2025-6428",
        package: "0x000testqwe",
        withdrawn: false,
        inside: &["5.20.4"],
        outside: &["5.20.3", "5.20.5"],
    },
    Case {
        id: "MAL-2025-4207",
        package: "byted-torch-monitor",
        withdrawn: false,
        inside: &["0.0.1", "0.2", "0.2.0"],
        outside: &["0.0.2", "0.1", "0.2.1", "0.3"],
    },
    Case {
        id: "MAL-2024-1545",
        package: "costrar",
        withdrawn: false,
        inside: &["8.0", "8", "8.0.0"],
        outside: &["7.9", "8.0.1", "8.1"],
    },
    // versions list plus ECOSYSTEM introduced "0": every version
    Case {
        id: "MAL-2024-10727",
        package: "huggingface-hubs",
        withdrawn: false,
        inside: &["0.0.1", "95.6", "1000.0"],
        outside: &[],
    },
    Case {
        id: "MAL-2023-3833",
        package: "killcraft",
        withdrawn: false,
        inside: &["0.0.1", "1.0", "1!0.1"],
        outside: &[],
    },
    // an unsorted versions list with a gap at 999.9.14
    Case {
        id: "MAL-2024-5371",
        package: "mlp-data-product-producer",
        withdrawn: false,
        inside: &["999.9.13", "999.9.15", "999.9.20"],
        outside: &["999.9.12", "999.9.14", "999.9.21"],
    },
    // withdrawn records: the ranges still say what they say; an importer skips them
    Case {
        id: "MAL-2026-4375",
        package: "@citely/mcp-server",
        withdrawn: true,
        inside: &["0.9.1", "0.10.0"],
        outside: &["0.9.0", "0.9.2", "0.10.1", "1.0.0"],
    },
    Case {
        id: "MAL-2024-1833",
        package: "bootstrapper",
        withdrawn: true,
        inside: &["35.0.0"],
        outside: &["34.0.0", "35.0.1"],
    },
    Case {
        id: "MAL-2023-8651",
        package: "lodestone",
        withdrawn: true,
        inside: &["0.0.58", "0.0.59", "0.0.62", "0.0.63"],
        outside: &["0.0.57", "0.0.60", "0.0.61", "0.0.64"],
    },
];

fn records(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            records(&path, out);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("MAL-") && n.ends_with(".json"))
        {
            out.push(path);
        }
    }
}

fn is_affected(record: &Value, version: &str) -> Result<bool, OsvError> {
    let mut hit = false;
    for a in record["affected"].as_array().unwrap() {
        let scheme =
            Scheme::from_osv_ecosystem(a["package"]["ecosystem"].as_str().unwrap()).unwrap();
        let ranges: Vec<OsvRange> = a["ranges"]
            .as_array()
            .map(|r| r.iter().map(|r| OsvRange::from_json(r).unwrap()).collect())
            .unwrap_or_default();
        let versions: Vec<String> = a["versions"]
            .as_array()
            .map(|v| v.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        hit |= affected(scheme, &ranges, &versions, version)?;
    }
    Ok(hit)
}

#[test]
fn every_fixture_record() {
    let mut paths = Vec::new();
    records(Path::new(DIR), &mut paths);
    assert_eq!(paths.len(), 18, "fixture records");
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for path in paths {
        let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let id = record["id"].as_str().unwrap().to_owned();
        let id = id.as_str();
        let case = CASES
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{} has no case", path.display()));
        assert!(seen.insert(id.to_owned()), "{id} twice");
        assert_eq!(
            record.get("withdrawn").is_some(),
            case.withdrawn,
            "{id} withdrawn"
        );
        let names: Vec<&str> = record["affected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["package"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [case.package], "{id} package");
        // The fixture layout is <ecosystem>/<name>/<id>.json; a scoped npm name spans two directories.
        assert!(
            path.parent().unwrap().ends_with(case.package),
            "{id} lives under its package name"
        );
        for v in case.inside {
            assert_eq!(
                is_affected(&record, v),
                Ok(true),
                "{id}: {v} should be affected"
            );
        }
        for v in case.outside {
            assert_eq!(
                is_affected(&record, v),
                Ok(false),
                "{id}: {v} should not be affected"
            );
        }
        // Every listed version is affected.
        for a in record["affected"].as_array().unwrap() {
            for v in a["versions"].as_array().into_iter().flatten() {
                assert_eq!(
                    is_affected(&record, v.as_str().unwrap()),
                    Ok(true),
                    "{id}: listed {v}"
                );
            }
        }
    }
    assert_eq!(seen.len(), CASES.len(), "every case has its record");
}

fn range(kind: &str, events: Value) -> OsvRange {
    OsvRange::from_json(&json!({ "type": kind, "events": events })).unwrap()
}

fn check(
    scheme: Scheme,
    ranges: &[OsvRange],
    versions: &[&str],
    inside: &[&str],
    outside: &[&str],
) {
    let versions: Vec<String> = versions.iter().map(|v| (*v).to_owned()).collect();
    for v in inside {
        assert_eq!(
            affected(scheme, ranges, &versions, v),
            Ok(true),
            "{v} should be affected by {ranges:?}"
        );
    }
    for v in outside {
        assert_eq!(
            affected(scheme, ranges, &versions, v),
            Ok(false),
            "{v} should not be affected by {ranges:?}"
        );
    }
}

#[test]
fn two_branches_sorted_or_not() {
    let sorted = json!([{"introduced": "1.0.0"}, {"fixed": "1.0.2"}, {"introduced": "3.0.0"}, {"fixed": "3.2.5"}]);
    let unsorted = json!([{"fixed": "3.2.5"}, {"introduced": "3.0.0"}, {"fixed": "1.0.2"}, {"introduced": "1.0.0"}]);
    for events in [sorted, unsorted] {
        let r = [range("SEMVER", events)];
        check(
            Scheme::Npm,
            &r,
            &[],
            &["1.0.0", "1.0.1", "3.0.0", "3.2.4", "3.2.5-rc.1"],
            &["0.9.0", "1.0.2", "2.0.0", "2.9.9", "3.2.5", "4.0.0"],
        );
    }
}

#[test]
fn introduced_zero_sorts_first_even_when_written_last() {
    let r = [range(
        "ECOSYSTEM",
        json!([{"fixed": "1.0"}, {"introduced": "0"}]),
    )];
    check(
        Scheme::Pypi,
        &r,
        &[],
        &["0.0.1", "0.9", "1.0rc1", "1.0.dev0"],
        &["1.0", "1.0.0", "1.0.post1", "2.0"],
    );
}

#[test]
fn last_affected_is_inclusive() {
    let r = [range(
        "ECOSYSTEM",
        json!([{"last_affected": "2.1.214"}, {"introduced": "0"}]),
    )];
    // Plain PEP 440 ordering (not specifier matching): a local version sorts after its public one.
    check(
        Scheme::Pypi,
        &r,
        &[],
        &["0.1", "2.1.214", "2.1.214.0"],
        &["2.1.214+local", "2.1.214.post1", "2.1.215", "3.0"],
    );
}

#[test]
fn limits_bound_the_range() {
    let r = [range(
        "SEMVER",
        json!([{"introduced": "1.0.0"}, {"limit": "2.0.0"}]),
    )];
    check(
        Scheme::Npm,
        &r,
        &[],
        &["1.0.0", "1.9.9"],
        &["0.9.0", "2.0.0", "3.0.0"],
    );
    // Several limits: below any one of them.
    let r = [range(
        "SEMVER",
        json!([{"limit": "3.0.0"}, {"introduced": "1.0.0"}, {"limit": "2.0.0"}]),
    )];
    check(
        Scheme::Npm,
        &r,
        &[],
        &["1.0.0", "2.5.0"],
        &["0.9.0", "3.0.0"],
    );
    // "*" is infinity, as is the implicit limit.
    let r = [range(
        "SEMVER",
        json!([{"introduced": "1.0.0"}, {"limit": "*"}]),
    )];
    check(Scheme::Npm, &r, &[], &["1.0.0", "999.0.0"], &["0.9.0"]);
}

#[test]
fn ranges_and_versions_are_unions() {
    let r = [
        range(
            "ECOSYSTEM",
            json!([{"introduced": "1.0"}, {"fixed": "1.2"}]),
        ),
        range(
            "ECOSYSTEM",
            json!([{"introduced": "2.0"}, {"fixed": "2.1"}]),
        ),
    ];
    check(
        Scheme::Pypi,
        &r,
        &["0.5"],
        &["0.5", "1.1", "2.0.5"],
        &["0.6", "1.2", "2.1", "3.0"],
    );
}

#[test]
fn semver_ranges_in_a_pypi_record_use_strict_semver() {
    let r = [range("SEMVER", json!([{"introduced": "1.0.0"}]))];
    check(Scheme::Pypi, &r, &[], &["1.0.0"], &["0.9.0"]);
    assert_eq!(
        affected(Scheme::Pypi, &r, &[], "1.0")
            .unwrap_err()
            .to_string(),
        "invalid semver version \"1.0\": unexpected end of input while parsing minor version number"
    );
}

#[test]
fn bad_versions_are_named() {
    let r = [range(
        "ECOSYSTEM",
        json!([{"introduced": "1.0.0"}, {"fixed": "banana"}]),
    )];
    assert_eq!(
        affected(Scheme::Npm, &r, &[], "1.0.0")
            .unwrap_err()
            .to_string(),
        "invalid npm version \"banana\": unexpected character 'b' while parsing major version number"
    );
    assert_eq!(
        affected(Scheme::Npm, &[], &[], "1.0")
            .unwrap_err()
            .to_string(),
        "invalid npm version \"1.0\": unexpected end of input while parsing minor version number"
    );
    // An exact string match needs no parsing.
    assert_eq!(
        affected(Scheme::Npm, &[], &["weird".to_owned()], "weird"),
        Ok(true)
    );
}

#[test]
fn git_ranges_are_not_evaluable_by_version() {
    let git = OsvRange::from_json(&json!({
        "type": "GIT",
        "repo": "https://example.org/repo.git",
        "events": [{"introduced": "0"}, {"fixed": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"}]
    }))
    .unwrap();
    assert_eq!(git.kind, RangeKind::Git);
    let ranges = [git];
    assert_eq!(
        affected(Scheme::Pypi, &ranges, &[], "1.0")
            .unwrap_err()
            .to_string(),
        "cannot tell whether version \"1.0\" is affected: a GIT range is ordered by a repository's commit graph, not by version, and the record lists no versions"
    );
    // With a versions list (the schema requires one next to GIT ranges) it answers.
    let versions = ["1.0".to_owned()];
    assert_eq!(affected(Scheme::Pypi, &ranges, &versions, "1.0"), Ok(true));
    assert_eq!(affected(Scheme::Pypi, &ranges, &versions, "1.1"), Ok(false));
}

#[test]
fn from_json_reads_events() {
    let r = OsvRange::from_json(&json!({
        "type": "ECOSYSTEM",
        "events": [{"introduced": "0"}, {"last_affected": "2.0"}, {"limit": "*"}],
        "database_specific": {"source": "x"}
    }))
    .unwrap();
    assert_eq!(r.kind, RangeKind::Ecosystem);
    assert_eq!(
        r.events,
        [
            Event::Introduced("0".into()),
            Event::LastAffected("2.0".into()),
            Event::Limit("*".into())
        ]
    );
}

#[test]
fn from_json_refuses_schema_violations() {
    let cases = [
        (
            json!([]),
            "invalid OSV range: a range must be a JSON object",
        ),
        (
            json!({"events": [{"introduced": "0"}]}),
            "invalid OSV range: missing string \"type\"",
        ),
        (
            json!({"type": "RANGE", "events": [{"introduced": "0"}]}),
            "invalid OSV range: unknown range type \"RANGE\" (expected ECOSYSTEM, SEMVER or GIT)",
        ),
        (
            json!({"type": "SEMVER"}),
            "invalid OSV range: missing array \"events\"",
        ),
        (
            json!({"type": "SEMVER", "events": ["0"]}),
            "invalid OSV range: events[0] is not an object",
        ),
        (
            json!({"type": "SEMVER", "events": [{"introduced": "1.0.0", "fixed": "1.0.2"}]}),
            "invalid OSV range: events[0] must have exactly one of introduced, fixed, last_affected, limit (has introduced, fixed)",
        ),
        (
            json!({"type": "SEMVER", "events": [{}]}),
            "invalid OSV range: events[0] must have exactly one of introduced, fixed, last_affected, limit (has )",
        ),
        (
            json!({"type": "SEMVER", "events": [{"introduced": ""}]}),
            "invalid OSV range: events[0].introduced must be a non-empty string",
        ),
        (
            json!({"type": "SEMVER", "events": [{"introduced": 1}]}),
            "invalid OSV range: events[0].introduced must be a non-empty string",
        ),
        (
            json!({"type": "SEMVER", "events": [{"introduced": "0"}, {"patched": "1.0.0"}]}),
            "invalid OSV range: events[1] has unknown event \"patched\" (expected introduced, fixed, last_affected or limit)",
        ),
        (
            json!({"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}),
            "invalid OSV range: events need at least one \"introduced\"",
        ),
        (
            json!({"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}, {"last_affected": "0.9.0"}]}),
            "invalid OSV range: events may hold \"fixed\" or \"last_affected\" events, not both",
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(
            OsvRange::from_json(&value).unwrap_err().to_string(),
            expected,
            "{value}"
        );
    }
}

/// The `vers` fuzz body over every range of every record (as JSON), `vers:` strings
/// from the tests, and truncations and byte flips of both: never panics, and every
/// parsed range reads back from its canonical form.
#[test]
fn fuzz_vers_never_panics_on_fixtures_and_mutations() {
    let mut inputs: Vec<Vec<u8>> = [
        "vers:pypi/>=8.3.41|<=8.3.42\n8.3.41",
        "vers:npm/>=1.0.0|<2.0.0|!=1.5.0\n1.5.0",
        "vers:pypi/1!2.0|<3.0rc1\n2.5",
        "vers:generic/*",
        "vers:cargo/%3E1.0.0\n1.0.1",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(DIR)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        if bytes.len() < 4096 {
            inputs.push(bytes.clone());
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        for a in v["affected"].as_array().into_iter().flatten() {
            for r in a["ranges"].as_array().into_iter().flatten() {
                inputs.push(serde_json::to_vec(r).unwrap());
            }
        }
    }
    let mut n = 0;
    for input in &inputs {
        for cut in 0..=input.len() {
            ailedger_core::vers::fuzz_vers(&input[..cut]);
            n += 1;
        }
        for i in 0..input.len() {
            let mut flipped = input.clone();
            flipped[i] ^= 0x24;
            ailedger_core::vers::fuzz_vers(&flipped);
            n += 1;
        }
    }
    assert!(n > 500, "{n}");
}

/// Every fixture record read as an `OsvRecord`: its package as ailedger names it (a
/// purl, scoped npm names and PEP 503 PyPI names included), and `affects` on purls
/// with versions agreeing with the range cases — a withdrawn record affects nothing,
/// another package nothing.
#[test]
fn records_match_purls() {
    use ailedger_core::osv::{OsvRecord, package_purl};
    let mut paths = Vec::new();
    records(Path::new(DIR), &mut paths);
    for path in paths {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let (record, skipped) = OsvRecord::from_json(&value).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        let case = CASES.iter().find(|c| c.id == record.id).unwrap();
        assert_eq!(record.withdrawn.is_some(), case.withdrawn, "{}", record.id);
        let [a] = record.affected.as_slice() else {
            panic!("{}: one package", record.id)
        };
        assert_eq!(a.name, case.package);
        let (purl, _) = package_purl(&a.ecosystem, &a.name).unwrap();
        assert_eq!(a.purl, purl);
        if a.ecosystem == "npm" && case.package.starts_with('@') {
            assert_eq!(
                purl,
                format!("pkg:npm/%40{}", &case.package[1..]),
                "{}",
                record.id
            );
        }
        for v in case.inside {
            let hit = record.affects(&format!("{purl}@{v}")).unwrap();
            assert_eq!(hit, !case.withdrawn, "{}: {purl}@{v}", record.id);
        }
        for v in case.outside {
            assert!(
                !record.affects(&format!("{purl}@{v}")).unwrap(),
                "{}: {v}",
                record.id
            );
        }
        // Another package, and a purl without a version, are never affected.
        let other = if a.ecosystem == "npm" {
            "pkg:npm/left-pad@1.0.0"
        } else {
            "pkg:pypi/requests@2.32.3"
        };
        assert!(!record.affects(other).unwrap());
        assert!(!record.affects(&purl).unwrap());
    }
    // PyPI names are matched in their PEP 503 form, whatever the purl's spelling.
    let (record, _) = OsvRecord::from_json(&json!({
        "id": "MAL-TEST-1",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Ultra_Lytics"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "8.3.41"}, {"fixed": "8.3.43"}]}]},
                     {"package": {"ecosystem": "Go", "name": "example.com/x"}, "versions": ["1.0.0"]}]
    }))
    .map(|(r, skipped)| {
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].contains("\"Go\" is not supported"), "{skipped:?}");
        (r, ())
    })
    .unwrap();
    assert_eq!(record.affected[0].purl, "pkg:pypi/ultra-lytics");
    assert!(record.affects("pkg:pypi/Ultra.Lytics@8.3.42").unwrap());
    assert!(!record.affects("pkg:pypi/ultra-lytics@8.3.43").unwrap());
    // A record without an id, or with a malformed range, is refused naming the place.
    let e = OsvRecord::from_json(&json!({"affected": []}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/id"), "{e}");
    let e = OsvRecord::from_json(&json!({"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": []}]}]}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("X: /affected/0/ranges/0"), "{e}");
}
