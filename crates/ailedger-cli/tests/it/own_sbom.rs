//! ailedger's own supply chain, through ailedger: the workspace's Cargo.lock ingested
//! into a scratch ledger, exported as a CycloneDX SBOM (checked against the official
//! schema by ailedger's reader and, with `AILEDGER_TEST_PYTHON`, by cyclonedx-python-lib),
//! and that SBOM ingested into a second scratch ledger, which must know every locked
//! crate by its purl, each registry crate by its `.crate` checksum, and the same
//! dependency edges around a deep crate (`ring`) as the first.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use serde_json::Value;

use super::{
    export::{check, python_validates},
    *,
};

/// One `[[package]]` of a Cargo.lock, read line by line (not with ailedger's parser,
/// which is what is under test).
#[derive(Debug, Default)]
struct Locked {
    name: String,
    version: String,
    registry: bool,
    checksum: Option<String>,
}

fn locked(text: &str) -> Vec<Locked> {
    let mut out: Vec<Locked> = Vec::new();
    for line in text.lines() {
        if line == "[[package]]" {
            out.push(Locked::default());
            continue;
        }
        let Some(p) = out.last_mut() else { continue };
        let value = |l: &str, key: &str| {
            l.strip_prefix(key)
                .and_then(|r| r.strip_prefix(" = \""))
                .and_then(|r| r.strip_suffix('"'))
                .map(str::to_owned)
        };
        if let Some(v) = value(line, "name") {
            p.name = v;
        } else if let Some(v) = value(line, "version") {
            p.version = v;
        } else if let Some(v) = value(line, "source") {
            p.registry = v.starts_with("registry+");
        } else if let Some(v) = value(line, "checksum") {
            p.checksum = Some(v);
        }
    }
    out
}

fn workspace_lock() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock")
}

/// The active edges of an artifact, as `show` lists them: (from, edge, to).
fn active_edges(url: &str, r: &str) -> BTreeSet<(String, String, String)> {
    let v = json(url, &["show", r]);
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["until_seq"].is_null())
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("from"), s("edge"), s("to"))
        })
        .collect()
}

/// The bom-refs of a BOM's components, and those that are cargo packages.
fn components(bom: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let all: BTreeSet<String> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap().to_owned())
        .collect();
    let cargo = all
        .iter()
        .filter(|r| r.starts_with("pkg:cargo/"))
        .cloned()
        .collect();
    (all, cargo)
}

/// Two sets are equal; when not, says what each has that the other lacks.
#[track_caller]
fn assert_same(got: &BTreeSet<String>, want: &BTreeSet<String>, what: &str) {
    let extra: Vec<_> = got.difference(want).collect();
    let missing: Vec<_> = want.difference(got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: unexpected {extra:?}, missing {missing:?}"
    );
}

#[test]
fn the_projects_own_sbom_round_trips_through_two_ledgers() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let lock_path = workspace_lock();
    let lock = locked(&std::fs::read_to_string(&lock_path).unwrap());
    let registry: BTreeSet<String> = lock
        .iter()
        .filter(|p| p.registry)
        // A purl percent-encodes a `+` in the version (`wasi@0.11.1%2Bwasi-…`).
        .map(|p| format!("pkg:cargo/{}@{}", p.name, p.version.replace('+', "%2B")))
        .collect();
    let local = lock.iter().filter(|p| !p.registry).count();
    assert!(
        registry.len() > 100 && local >= 10,
        "{} {local}",
        registry.len()
    );

    // 1. The lockfile into a scratch ledger: the environment is the document.
    let first = serve(&s(&tmp.path().join("first.db")));
    let v = json(&first.url, &["ingest", &s(&lock_path)]);
    assert_eq!(v[0]["format"], "Cargo.lock", "{v}");
    assert_eq!(v[0]["warnings"].as_array().map_or(0, Vec::len), 0, "{v}");
    let env = v[0]["digest"].as_str().unwrap().to_owned();
    let shown = json(&first.url, &["show", &env]);
    assert_eq!(shown["kind"], "environment", "{shown}");

    // 2. Its CycloneDX SBOM, valid against the official schema.
    let bom_path = tmp.path().join("ailedger.cdx.json");
    ok(
        &first.url,
        &["export", "cyclonedx", &env, "-o", &s(&bom_path)],
    );
    let bom = check(&std::fs::read(&bom_path).unwrap());
    python_validates("1.6", &[&bom_path]);
    assert_eq!(bom["metadata"]["component"]["bom-ref"], env.as_str());
    let (all, cargo) = components(&bom);
    // Every locked crate, and nothing else: registry crates by purl, workspace
    // members by name and version.
    assert_same(&cargo, &registry, "cargo packages in the SBOM");
    assert_eq!(all.len(), lock.len(), "components in the SBOM");

    // 3. The SBOM into a second scratch ledger.
    let second = serve(&s(&tmp.path().join("second.db")));
    let v = json(&second.url, &["ingest", &s(&bom_path)]);
    assert!(
        v[0]["format"].as_str().unwrap().starts_with("CycloneDX"),
        "{v}"
    );
    assert_eq!(v[0]["warnings"].as_array().map_or(0, Vec::len), 0, "{v}");
    // It knows what the first one knew: exported again, the same crates.
    let again_path = tmp.path().join("again.cdx.json");
    ok(
        &second.url,
        &["export", "cyclonedx", &env, "-o", &s(&again_path)],
    );
    let again = check(&std::fs::read(&again_path).unwrap());
    let (all2, cargo2) = components(&again);
    assert_eq!(
        cargo2.len(),
        registry.len(),
        "cargo packages after the round trip"
    );
    assert_same(&all2, &all, "components after the round trip");

    // A deep crate: ring, found by purl and by its .crate checksum, with the same
    // dependency edges in and out as in the first ledger.
    let ring = lock.iter().find(|p| p.name == "ring").unwrap();
    let ring_purl = format!("pkg:cargo/ring@{}", ring.version);
    assert_eq!(ok(&second.url, &["resolve", &ring_purl]).trim(), ring_purl);
    let checksum = format!("sha256:{}", ring.checksum.as_deref().unwrap());
    assert_eq!(ok(&second.url, &["resolve", &checksum]).trim(), ring_purl);
    let edges = active_edges(&first.url, &ring_purl);
    assert!(
        edges
            .iter()
            .any(|(from, e, to)| e == "depends-on" && to == &ring_purl && from != &env),
        "nothing depends on ring: {edges:?}"
    );
    assert!(
        edges
            .iter()
            .any(|(from, e, _)| e == "depends-on" && from == &ring_purl),
        "ring depends on nothing: {edges:?}"
    );
    assert_eq!(active_edges(&second.url, &ring_purl), edges);
    // In both ledgers a crate that depends on ring reaches it (`deps`), and ring's
    // blast radius reaches the environment (`impact`).
    let dependent = edges
        .iter()
        .find(|(from, e, to)| e == "depends-on" && to == &ring_purl && from != &env)
        .map(|(from, _, _)| from.clone())
        .unwrap();
    for url in [&first.url, &second.url] {
        let deps = json(url, &["deps", &dependent]);
        assert!(
            hit_ids(&deps).contains(&ring_purl.as_str()),
            "{url}: deps of {dependent} misses {ring_purl}: {deps}"
        );
        let imp = json(url, &["impact", &ring_purl]);
        assert!(
            hit_ids(&imp).contains(&env.as_str()),
            "{url}: impact of {ring_purl} misses the environment: {imp}"
        );
    }
}
