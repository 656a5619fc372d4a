//! Version ordering per scheme and `vers:` ranges, as tables.

#![allow(clippy::unwrap_used)]

use std::cmp::Ordering::{self, Equal, Greater, Less};

use ailedger_core::vers::{Comparator, Constraints, VersRange};
use ailedger_core::version::{Scheme, compare};

const ORDERINGS: &[(Scheme, &str, &str, Ordering)] = &[
    // PEP 440
    (Scheme::Pypi, "1.0", "1.0.0", Equal),
    (Scheme::Pypi, "1.0", "1", Equal),
    (Scheme::Pypi, "1.0.post1", "1.0", Greater),
    (Scheme::Pypi, "1.0rc1", "1.0", Less),
    (Scheme::Pypi, "1.0.dev1", "1.0a1", Less),
    (Scheme::Pypi, "1.0a1", "1.0b1", Less),
    (Scheme::Pypi, "1.0b2", "1.0rc1", Less),
    (Scheme::Pypi, "1.0rc1", "1.0c1", Equal),
    (Scheme::Pypi, "1.0a1.dev1", "1.0a1", Less),
    (Scheme::Pypi, "1.0.post1.dev1", "1.0.post1", Less),
    (Scheme::Pypi, "1.0.post1.dev1", "1.0", Greater),
    (Scheme::Pypi, "1!0.1", "2.0", Greater),
    (Scheme::Pypi, "0!2.0", "2.0", Equal),
    (Scheme::Pypi, "1.0+local", "1.0", Greater),
    (Scheme::Pypi, "1.0+local", "1.0.post1", Less),
    (Scheme::Pypi, "1.0+abc.5", "1.0+abc.10", Less),
    (Scheme::Pypi, "1.0-alpha1", "1.0a1", Equal),
    (Scheme::Pypi, "v1.0", "1.0", Equal),
    (Scheme::Pypi, "1.0-1", "1.0.post1", Equal),
    (Scheme::Pypi, "8.3.41", "8.3.42", Less),
    (Scheme::Pypi, "1.10", "1.9", Greater),
    (Scheme::Pypi, "0.2", "0.0.1", Greater),
    // npm: SemVer precedence, leading v / =
    (Scheme::Npm, "1.0.0-beta.2", "1.0.0-beta.11", Less),
    (Scheme::Npm, "1.0.0-beta.11", "1.0.0", Less),
    (Scheme::Npm, "1.0.0-alpha", "1.0.0-alpha.1", Less),
    (Scheme::Npm, "1.0.0-alpha.beta", "1.0.0-beta", Less),
    (Scheme::Npm, "1.0.0-rc.1", "1.0.0-beta.11", Greater),
    (Scheme::Npm, "v1.2.3", "1.2.3", Equal),
    (Scheme::Npm, "=1.2.3", "1.2.3", Equal),
    (Scheme::Npm, "=v1.2.3", "1.2.3", Equal),
    (Scheme::Npm, "1.0.0+build.1", "1.0.0+build.2", Equal),
    (Scheme::Npm, "1.10.0", "1.9.0", Greater),
    (Scheme::Npm, "0.10.0", "0.9.1", Greater),
    // cargo and semver: strict syntax, same precedence
    (Scheme::Cargo, "0.1.0-alpha.1", "0.1.0", Less),
    (Scheme::Cargo, "1.0.0+a", "1.0.0", Equal),
    (Scheme::Semver, "2.0.0", "10.0.0", Less),
    (Scheme::Semver, "1.0.0-1", "1.0.0-a", Less),
    // generic
    (Scheme::Generic, "1.10", "1.9", Greater),
    (Scheme::Generic, "1.0", "1.0.0", Less),
    (Scheme::Generic, "1.0-rc1", "1.0-rc2", Less),
    (Scheme::Generic, "1.rc", "1.0", Less),
    (Scheme::Generic, "2024-01-05", "2024-01-10", Less),
    (Scheme::Generic, "1.007", "1.7", Equal),
    (
        Scheme::Generic,
        "99999999999999999999999.1",
        "99999999999999999999998.9",
        Greater,
    ),
];

#[test]
fn orderings() {
    for &(scheme, a, b, expected) in ORDERINGS {
        assert_eq!(compare(scheme, a, b), Ok(expected), "{scheme}: {a} vs {b}");
        assert_eq!(
            compare(scheme, b, a),
            Ok(expected.reverse()),
            "{scheme}: {b} vs {a}"
        );
    }
}

#[test]
fn invalid_versions_name_version_and_scheme() {
    let cases: &[(Scheme, &str, &str)] = &[
        (
            Scheme::Npm,
            "1.0",
            "invalid npm version \"1.0\": unexpected end of input while parsing minor version number",
        ),
        (
            Scheme::Cargo,
            "v1.0.0",
            "invalid cargo version \"v1.0.0\": unexpected character 'v' while parsing major version number",
        ),
        (
            Scheme::Semver,
            "",
            "invalid semver version \"\": empty version",
        ),
        (
            Scheme::Generic,
            "1..2",
            "invalid generic version \"1..2\": empty segment (versions are split on '.' and '-')",
        ),
    ];
    for &(scheme, v, msg) in cases {
        assert_eq!(compare(scheme, v, "1.0.0").unwrap_err().to_string(), msg);
    }
    let e = compare(Scheme::Pypi, "1.0", "not a version")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid pypi version \"not a version\": "),
        "{e}"
    );
}

#[test]
fn scheme_mappings() {
    assert_eq!(Scheme::from_purl_type("pypi"), Some(Scheme::Pypi));
    assert_eq!(Scheme::from_purl_type("npm"), Some(Scheme::Npm));
    assert_eq!(Scheme::from_purl_type("cargo"), Some(Scheme::Cargo));
    assert_eq!(Scheme::from_purl_type("huggingface"), None);
    assert_eq!(Scheme::from_osv_ecosystem("PyPI"), Some(Scheme::Pypi));
    assert_eq!(Scheme::from_osv_ecosystem("npm"), Some(Scheme::Npm));
    assert_eq!(Scheme::from_osv_ecosystem("crates.io"), Some(Scheme::Cargo));
    assert_eq!(Scheme::from_osv_ecosystem("Go"), None);
}

/// (input, canonical form)
const ROUND_TRIPS: &[(&str, &str)] = &[
    ("vers:pypi/>=8.3.41|<=8.3.42", "vers:pypi/>=8.3.41|<=8.3.42"),
    (
        "vers:npm/1.2.3|>=2.0.0|<5.0.0",
        "vers:npm/1.2.3|>=2.0.0|<5.0.0",
    ),
    ("vers:npm/*", "vers:npm/*"),
    ("VERS:NPM/*", "vers:npm/*"),
    // unsorted: sorted
    (
        "vers:npm/<2.0.0|>=1.0.0|!=1.5.0",
        "vers:npm/>=1.0.0|!=1.5.0|<2.0.0",
    ),
    ("vers:pypi/<=8.3.42|>=8.3.41", "vers:pypi/>=8.3.41|<=8.3.42"),
    // spaces and tabs, empty constraints, explicit "="
    (" vers : pypi / > = 1.0 | | < 2.0 |", "vers:pypi/>=1.0|<2.0"),
    ("vers:pypi/|=1.0|\t=2.0|", "vers:pypi/1.0|2.0"),
    // PEP 440 versions are kept as written
    (
        "vers:pypi/0.0.0|0.0.1|0.0.2|0.0.3|1.0|2.0pre1",
        "vers:pypi/0.0.0|0.0.1|0.0.2|0.0.3|1.0|2.0pre1",
    ),
    (
        "vers:pypi/<1!0.1|>=2.0.post1",
        "vers:pypi/>=2.0.post1|<1%210.1",
    ),
    // percent-encoding: decoded for comparison, re-encoded in the canonical form
    (
        "vers:semver/>=1.0.0%2Bbuild|<2.0.0",
        "vers:semver/>=1.0.0+build|<2.0.0",
    ),
    ("vers:generic/1.0%3C2", "vers:generic/1.0%3C2"),
    (
        "vers:generic/<1.0|1.5|>=2.0|<3.0|>4.0",
        "vers:generic/<1.0|1.5|>=2.0|<3.0|>4.0",
    ),
];

#[test]
fn parse_display_round_trips() {
    for &(input, canonical) in ROUND_TRIPS {
        let range = VersRange::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(range.to_string(), canonical, "{input}");
        let again = VersRange::parse(canonical).unwrap();
        assert_eq!(again, range, "{canonical}");
        assert_eq!(again.to_string(), canonical);
    }
}

#[test]
fn accessors() {
    let r = VersRange::parse("vers:generic/1.0%3C2").unwrap();
    let Constraints::List(list) = r.constraints() else {
        panic!()
    };
    assert_eq!(list[0].version(), "1.0<2");
    assert_eq!(list[0].comparator(), Comparator::Eq);
    assert_eq!(r.scheme(), Scheme::Generic);
}

/// (range, inside, outside)
const CONTAINMENT: &[(&str, &[&str], &[&str])] = &[
    (
        "vers:pypi/>=8.3.41|<=8.3.42",
        &["8.3.41", "8.3.42", "8.3.41.post1", "8.3.42.0", "8.3.42rc1"],
        &["8.3.40", "8.3.43", "8.3.41rc1", "8.3.42.post1", "1!8.3.41"],
    ),
    (
        "vers:npm/>=1.0.0|<2.0.0|!=1.5.0",
        // Plain SemVer precedence, not node-semver's range rules: 2.0.0-alpha < 2.0.0.
        &["1.0.0", "1.4.9", "1.5.1", "1.99.0", "v1.2.0", "2.0.0-alpha"],
        &["0.9.9", "1.0.0-rc.1", "1.5.0", "2.0.0", "3.0.0"],
    ),
    (
        "vers:npm/1.2.3|>=2.0.0|<5.0.0",
        &["1.2.3", "2.0.0", "4.9.9"],
        &["1.2.2", "1.2.4", "1.9.9", "5.0.0", "5.0.1"],
    ),
    ("vers:npm/*", &["0.0.0", "99.0.0", "1.0.0-rc.1"], &[]),
    (
        "vers:npm/<1.0.0",
        &["0.9.9", "1.0.0-rc.1"],
        &["1.0.0", "2.0.0"],
    ),
    ("vers:npm/>1.0.0", &["1.0.1"], &["1.0.0", "0.1.0"]),
    ("vers:npm/!=1.5.0", &["1.4.0", "1.6.0"], &["1.5.0"]),
    (
        "vers:npm/!=1.5.0|!=1.6.0",
        &["1.4.0", "1.7.0"],
        &["1.5.0", "1.6.0"],
    ),
    (
        "vers:pypi/1.0",
        &["1.0", "1.0.0", "1"],
        &["1.0.post1", "1.0+local", "0.9"],
    ),
    (
        "vers:pypi/1.0|2.0",
        &["1.0", "2.0.0"],
        &["1.5", "3.0", "0.1"],
    ),
    ("vers:pypi/1.0|!=2.0", &["1.0"], &["2.0", "1.5"]),
    // two branches, as in the spec's tomee example
    (
        "vers:generic/>=1.0.0-beta1|<=1.7.5|>=7.0.0-M1|<=7.0.7|>=7.1.0|<=7.1.2|>=8.0.0-M1|<=8.0.1",
        &[
            "1.0.0-beta1",
            "1.5",
            "1.7.5",
            "7.0.5",
            "7.1.1",
            "8.0.0-M1",
            "8.0.1",
        ],
        &["0.9", "1.7.6", "7.0.8", "7.1.3", "8.0.2", "9.0"],
    ),
    // leading lesser bound and trailing greater bound
    (
        "vers:semver/<1.0.0|>=2.0.0|<3.0.0|>4.0.0",
        &["0.1.0", "2.0.0", "2.5.0", "4.0.1", "100.0.0"],
        &["1.0.0", "1.5.0", "3.0.0", "3.5.0", "4.0.0"],
    ),
    // strict bounds exclude themselves
    (
        "vers:cargo/>1.0.0|<2.0.0",
        &["1.0.1", "1.9.9"],
        &["1.0.0", "2.0.0"],
    ),
    (
        "vers:generic/<1.0|1.5|>=2.0",
        &["0.9", "1.5", "2.0", "3"],
        &["1.0", "1.2", "1.9"],
    ),
    // epochs, encoded or not
    ("vers:pypi/>=1!1.0", &["1!1.0", "1!2.0"], &["9.0", "1!0.9"]),
    ("vers:pypi/>=1%211.0", &["1!1.0"], &["9.0"]),
];

#[test]
fn containment() {
    for &(range, inside, outside) in CONTAINMENT {
        let r = VersRange::parse(range).unwrap_or_else(|e| panic!("{range}: {e}"));
        for v in inside {
            assert_eq!(r.contains(v), Ok(true), "{v} should be in {range}");
        }
        for v in outside {
            assert_eq!(r.contains(v), Ok(false), "{v} should not be in {range}");
        }
    }
}

#[test]
fn containment_of_an_invalid_version_names_it() {
    let r = VersRange::parse("vers:npm/>=1.0.0").unwrap();
    assert_eq!(
        r.contains("1.0").unwrap_err().to_string(),
        "invalid npm version \"1.0\": unexpected end of input while parsing minor version number"
    );
}

/// (input, exact error)
const MALFORMED: &[(&str, &str)] = &[
    (
        "",
        "malformed vers \"\": expected vers:<scheme>/<constraints>",
    ),
    (
        "pkg:npm/1.0.0",
        "malformed vers \"pkg:npm/1.0.0\": URI scheme is \"pkg\", expected \"vers\"",
    ),
    (
        "vers:npm",
        "malformed vers \"vers:npm\": no '/' after the versioning scheme (expected vers:<scheme>/<constraints>)",
    ),
    (
        "vers:deb/1.0",
        "malformed vers \"vers:deb/1.0\": unknown versioning scheme \"deb\" (expected one of: pypi, npm, cargo, semver, generic)",
    ),
    ("vers:npm/", "malformed vers \"vers:npm/\": no constraints"),
    (
        "vers:npm/||",
        "malformed vers \"vers:npm/||\": no constraints",
    ),
    (
        "vers:npm/*|1.0.0",
        "malformed vers \"vers:npm/*|1.0.0\": constraint \"*\": \"*\" must be the only constraint (percent-encode a literal '*' as %2A)",
    ),
    (
        "vers:npm/>=*",
        "malformed vers \"vers:npm/>=*\": constraint \">=*\": \"*\" must be the only constraint (percent-encode a literal '*' as %2A)",
    ),
    (
        "vers:npm/>=",
        "malformed vers \"vers:npm/>=\": constraint \">=\": no version after the comparator",
    ),
    (
        "vers:npm/>>1.0.0",
        "malformed vers \"vers:npm/>>1.0.0\": constraint \">>1.0.0\": unexpected '>' in the version (one comparator per constraint; percent-encode a literal '>')",
    ),
    (
        "vers:npm/=<1.0.0",
        "malformed vers \"vers:npm/=<1.0.0\": constraint \"=<1.0.0\": unexpected '<' in the version (one comparator per constraint; percent-encode a literal '<')",
    ),
    (
        "vers:npm/>=1.0",
        "malformed vers \"vers:npm/>=1.0\": constraint \">=1.0\": invalid npm version \"1.0\": unexpected end of input while parsing minor version number",
    ),
    (
        "vers:generic/1.0%2",
        "malformed vers \"vers:generic/1.0%2\": constraint \"1.0%2\": bad percent-escape at byte 3 (expected %XX with two hex digits)",
    ),
    (
        "vers:generic/1.0%ZZ",
        "malformed vers \"vers:generic/1.0%ZZ\": constraint \"1.0%ZZ\": bad percent-escape at byte 3 (expected %XX with two hex digits)",
    ),
    (
        "vers:generic/1.0%FF",
        "malformed vers \"vers:generic/1.0%FF\": constraint \"1.0%FF\": percent-decoded version is not UTF-8",
    ),
    (
        "vers:npm/1.0.0é",
        "malformed vers \"vers:npm/1.0.0é\": 'é' is not printable ASCII (percent-encode it in versions)",
    ),
    // duplicates, by the scheme's equality
    (
        "vers:npm/1.0.0|1.0.0",
        "malformed vers \"vers:npm/1.0.0|1.0.0\": constraint \"1.0.0\": version \"1.0.0\" already appears in constraint \"1.0.0\"; each version may appear only once",
    ),
    (
        "vers:pypi/>=1.0|<1.0.0",
        "malformed vers \"vers:pypi/>=1.0|<1.0.0\": constraint \"<1.0.0\": version \"1.0.0\" already appears in constraint \">=1.0\"; each version may appear only once",
    ),
    (
        "vers:npm/v1.0.0|!=1.0.0",
        "malformed vers \"vers:npm/v1.0.0|!=1.0.0\": constraint \"!=1.0.0\": version \"1.0.0\" already appears in constraint \"v1.0.0\"; each version may appear only once",
    ),
    // redundant neighbours
    (
        "vers:npm/>=1.0.0|>=2.0.0",
        "malformed vers \"vers:npm/>=1.0.0|>=2.0.0\": constraint \">=2.0.0\": redundant after \">=1.0.0\" (ignoring \"!=\", a \"=\", \"<\" or \"<=\" constraint must be followed by \"=\", \">\" or \">=\", and a \">\" or \">=\" constraint by \"<\" or \"<=\")",
    ),
    (
        "vers:npm/<1.0.0|<2.0.0",
        "malformed vers \"vers:npm/<1.0.0|<2.0.0\": constraint \"<2.0.0\": redundant after \"<1.0.0\" (ignoring \"!=\", a \"=\", \"<\" or \"<=\" constraint must be followed by \"=\", \">\" or \">=\", and a \">\" or \">=\" constraint by \"<\" or \"<=\")",
    ),
    (
        "vers:npm/>=1.0.0|1.5.0|<2.0.0",
        "malformed vers \"vers:npm/>=1.0.0|1.5.0|<2.0.0\": constraint \"1.5.0\": redundant after \">=1.0.0\" (ignoring \"!=\", a \"=\", \"<\" or \"<=\" constraint must be followed by \"=\", \">\" or \">=\", and a \">\" or \">=\" constraint by \"<\" or \"<=\")",
    ),
    (
        "vers:npm/1.0.0|<2.0.0",
        "malformed vers \"vers:npm/1.0.0|<2.0.0\": constraint \"<2.0.0\": redundant after \"1.0.0\" (ignoring \"!=\", a \"=\", \"<\" or \"<=\" constraint must be followed by \"=\", \">\" or \">=\", and a \">\" or \">=\" constraint by \"<\" or \"<=\")",
    ),
    (
        "vers:npm/>=1.0.0|!=1.5.0|>=2.0.0",
        "malformed vers \"vers:npm/>=1.0.0|!=1.5.0|>=2.0.0\": constraint \">=2.0.0\": redundant after \">=1.0.0\" (ignoring \"!=\", a \"=\", \"<\" or \"<=\" constraint must be followed by \"=\", \">\" or \">=\", and a \">\" or \">=\" constraint by \"<\" or \"<=\")",
    ),
];

#[test]
fn malformed_inputs() {
    for &(input, expected) in MALFORMED {
        match VersRange::parse(input) {
            Ok(r) => panic!("{input:?} parsed as {r}"),
            Err(e) => assert_eq!(e.to_string(), expected, "{input:?}"),
        }
    }
}
