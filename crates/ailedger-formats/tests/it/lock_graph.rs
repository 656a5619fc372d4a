//! Lockfiles keep their graph: package → package `depends-on` edges as each lockfile
//! states them, over real lockfiles (`tests/fixtures/lockfiles`, SOURCES-lockfiles.md)
//! and our own test data. The counts asserted here were made from the files by a
//! separate script, not by this parser.

use std::collections::{HashMap, HashSet};

use ailedger_formats::{Document, Format};

use crate::{DATA, FIXTURES, parse_ok, read};

/// The artifact called `name` (at `version`, if given); exactly one.
fn id<'d>(doc: &'d Document, name: &str, version: Option<&str>) -> &'d str {
    let found: Vec<&str> = doc
        .artifacts
        .iter()
        .filter(|a| {
            a.name.as_deref() == Some(name)
                && version.is_none_or(|v| a.version.as_deref() == Some(v))
        })
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name} {version:?}: {found:?}");
    found[0]
}

fn has_edge(doc: &Document, from: &str, to: &str) -> bool {
    doc.edges
        .iter()
        .any(|e| e.from == from && e.to == to && e.edge.as_str() == "depends-on")
}

/// (package → package edges, environment → package edges).
fn edge_counts(doc: &Document) -> (usize, usize) {
    let env = doc
        .edges
        .iter()
        .filter(|e| e.from == doc.document.id)
        .count();
    (doc.edges.len() - env, env)
}

/// Every artifact is reachable from the environment.
fn assert_all_reachable(doc: &Document, what: &str) {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in &doc.edges {
        out.entry(e.from.as_str()).or_default().push(e.to.as_str());
    }
    let mut seen: HashSet<&str> = HashSet::from([doc.document.id.as_str()]);
    let mut stack = vec![doc.document.id.as_str()];
    while let Some(n) = stack.pop() {
        for &t in out.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(t) {
                stack.push(t);
            }
        }
    }
    let lost: Vec<&str> = doc
        .artifacts
        .iter()
        .map(|a| a.id.as_str())
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: not reachable from the environment: {lost:?}"
    );
}

fn edge_warnings(doc: &Document) -> Vec<String> {
    doc.warnings
        .iter()
        .filter(|w| w.message.contains("no edge") || w.message.contains("none recorded"))
        .map(|w| format!("{}: {}", w.pointer, w.message))
        .collect()
}

/// The environment's name: `<project> (<file>, <first 8 hex of its digest>)`.
fn assert_named(doc: &Document, project: Option<&str>, file: &str) {
    let prefix = &doc.digest.hex()[..8];
    let want = match project {
        Some(p) => format!("{p} ({file}, {prefix})"),
        None => format!("{file} ({prefix})"),
    };
    assert_eq!(doc.document.name.as_deref(), Some(want.as_str()));
}

#[test]
fn cargo_lock_dependencies_resolve_to_the_exact_package() {
    let doc = parse_ok(&read(&format!("{FIXTURES}/lockfiles/ailedger-Cargo.lock")));
    assert_eq!(doc.format, Format::CargoLock);
    assert_eq!(doc.artifacts.len(), 433);
    // 1,261 `dependencies` entries; the environment depends on the 12 packages
    // without a source (the workspace's own crates), which reach every other.
    assert_eq!(edge_counts(&doc), (1261, 12));
    assert_eq!(edge_warnings(&doc), Vec::<String>::new());
    assert_all_reachable(&doc, "Cargo.lock");
    let ring = "pkg:cargo/ring@0.17.14";
    assert!(has_edge(&doc, "pkg:cargo/rustls@0.23.48", ring));
    assert!(has_edge(
        &doc,
        "pkg:cargo/sqlx-core@0.8.6",
        "pkg:cargo/rustls@0.23.48"
    ));
    assert!(has_edge(&doc, "package:ailedger-server@0.1.0", ring));
    // "getrandom 0.2.17" names one of the three getrandom packages, not another.
    assert!(has_edge(&doc, ring, "pkg:cargo/getrandom@0.2.17"));
    let other = id(&doc, "getrandom", Some("0.3.4"));
    assert!(!has_edge(&doc, ring, other));
    // Only the workspace's own crates hang off the environment.
    assert!(has_edge(
        &doc,
        &doc.document.id,
        "package:ailedger-cli@0.1.0"
    ));
    assert!(!has_edge(&doc, &doc.document.id, ring));
    // Named after the workspace crate nothing else depends on.
    assert_named(&doc, Some("ailedger-cli"), "Cargo.lock");
}

/// The project's own Cargo.lock as it is now: every `dependencies` entry is an edge
/// and every package is reachable from the environment.
#[test]
fn this_projects_cargo_lock() {
    let bytes = read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"));
    let doc = parse_ok(&bytes);
    let t: toml::Table = toml::from_str(std::str::from_utf8(&bytes).unwrap()).unwrap();
    let pkgs = t["package"].as_array().unwrap();
    let stated: usize = pkgs
        .iter()
        .map(|p| {
            p.get("dependencies")
                .and_then(|d| d.as_array())
                .map_or(0, Vec::len)
        })
        .sum();
    let local = pkgs.iter().filter(|p| p.get("source").is_none()).count();
    assert_eq!(edge_counts(&doc), (stated, local));
    assert_all_reachable(&doc, "Cargo.lock");
    assert_eq!(edge_warnings(&doc), Vec::<String>::new());
}

#[test]
fn package_lock_resolves_nested_node_modules_like_node() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/lockfiles/mcp-servers-package-lock.json"
    )));
    assert_eq!(doc.format, Format::PackageLockJson { version: 3 });
    // 294 installed entries (4 are links) merge into 288 artifacts (the same
    // name@version installed at two paths is one package).
    assert_eq!(doc.artifacts.len(), 288);
    // The root depends on its 4 workspaces (through their links); 428 distinct
    // package → package edges.
    assert_eq!(edge_counts(&doc), (428, 4));
    assert_eq!(edge_warnings(&doc), Vec::<String>::new());
    assert_all_reachable(&doc, "package-lock.json");
    // node_modules/body-parser/node_modules/content-type (2.0.0) shadows the hoisted
    // node_modules/content-type (1.0.5) for body-parser.
    let bp = "pkg:npm/body-parser@2.3.0";
    assert!(has_edge(&doc, bp, "pkg:npm/content-type@2.0.0"));
    assert!(!has_edge(&doc, bp, "pkg:npm/content-type@1.0.5"));
    // node_modules/execa/node_modules/cross-spawn (6.0.6) needs path-key: not in its
    // own node_modules, found one level up in execa's (2.0.1), not the hoisted 3.1.1.
    let cs = "pkg:npm/cross-spawn@6.0.6";
    assert!(has_edge(&doc, cs, "pkg:npm/path-key@2.0.1"));
    assert!(!has_edge(&doc, cs, "pkg:npm/path-key@3.1.1"));
    // The hoisted cross-spawn gets the hoisted path-key.
    assert!(has_edge(
        &doc,
        "pkg:npm/cross-spawn@7.0.6",
        "pkg:npm/path-key@3.1.1"
    ));
    // A workspace, reached through its link, resolves from its own directory upwards.
    let fs = id(&doc, "@modelcontextprotocol/server-filesystem", None);
    assert!(fs.starts_with("package:"), "{fs}");
    assert!(has_edge(&doc, &doc.document.id, fs));
    let sdk = id(&doc, "@modelcontextprotocol/sdk", None);
    assert!(has_edge(&doc, fs, sdk));
    assert!(!has_edge(&doc, &doc.document.id, sdk));
    assert_named(
        &doc,
        Some("@modelcontextprotocol/servers@0.6.2"),
        "package-lock.json",
    );
    assert_eq!(doc.document.version, None);
}

#[test]
fn poetry_lock_dependencies_by_normalised_name() {
    let doc = parse_ok(&read(&format!("{FIXTURES}/lockfiles/poetry-poetry.lock")));
    assert_eq!(doc.format, Format::PoetryLock);
    assert_eq!(doc.artifacts.len(), 78);
    // 87 `[package.dependencies]` entries; poetry.lock does not list the project, so
    // the environment depends on the 26 packages nothing else depends on.
    assert_eq!(edge_counts(&doc), (87, 26));
    assert_eq!(edge_warnings(&doc), Vec::<String>::new());
    assert_all_reachable(&doc, "poetry.lock");
    let build = id(&doc, "build", None);
    // Written `pyproject_hooks`, locked as `pyproject-hooks`.
    assert!(has_edge(&doc, build, id(&doc, "pyproject-hooks", None)));
    // A table with markers, and one with `optional = true` (an extra's dependency).
    assert!(has_edge(&doc, build, id(&doc, "importlib-metadata", None)));
    let cc = id(&doc, "cachecontrol", None);
    assert!(has_edge(&doc, cc, id(&doc, "filelock", None)));
    assert!(has_edge(&doc, cc, id(&doc, "requests", None)));
    assert!(!has_edge(
        &doc,
        &doc.document.id,
        id(&doc, "requests", None)
    ));
    assert_named(&doc, None, "poetry.lock");
}

#[test]
fn uv_lock_dependencies_optional_and_dev() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/lockfiles/mcp-python-sdk-uv.lock"
    )));
    assert_eq!(doc.format, Format::UvLock);
    assert_eq!(doc.artifacts.len(), 131);
    // 330 dependency entries across `dependencies`, `optional-dependencies` and
    // `dev-dependencies`, less mcp's dev dependency on itself; the environment
    // depends on the 17 workspace members with editable or virtual sources.
    assert_eq!(edge_counts(&doc), (329, 17));
    assert_eq!(edge_warnings(&doc), Vec::<String>::new());
    assert_all_reachable(&doc, "uv.lock");
    let mcp = id(&doc, "mcp", None);
    assert!(has_edge(&doc, mcp, id(&doc, "anyio", None)));
    assert!(has_edge(
        &doc,
        id(&doc, "anyio", None),
        id(&doc, "idna", None)
    ));
    // optional-dependencies.cli and dev-dependencies.codegen.
    assert!(has_edge(&doc, mcp, id(&doc, "typer", None)));
    assert!(has_edge(
        &doc,
        mcp,
        id(&doc, "datamodel-code-generator", None)
    ));
    // A workspace member depending on the project.
    assert!(has_edge(&doc, id(&doc, "mcp-simple-tool", None), mcp));
    // A git source is a dependency, not a root.
    let snc = id(&doc, "strict-no-cover", None);
    assert!(!has_edge(&doc, &doc.document.id, snc));
    assert!(has_edge(&doc, snc, id(&doc, "pydantic", None)));
    assert_named(&doc, Some("mcp"), "uv.lock");
}

/// Our hand-written lockfiles: the whole edge set.
#[test]
fn hand_written_lockfiles_state_their_graph() {
    let env = "ENV";
    type Edges<'a> = &'a [(&'a str, &'a str)];
    let table: &[(&str, Option<&str>, Edges<'_>)] = &[
        (
            "Cargo.lock",
            Some("demo"),
            &[
                (env, "package:demo@0.1.0"),
                // A git package nothing depends on: still in the environment.
                (env, "package:forked-dep@0.2.0"),
                ("package:demo@0.1.0", "pkg:cargo/serde@1.0.210"),
                ("package:demo@0.1.0", "pkg:cargo/tokenizers@0.20.0"),
                ("pkg:cargo/tokenizers@0.20.0", "pkg:cargo/serde@1.0.210"),
            ],
        ),
        (
            "package-lock.json",
            Some("mcp-gateway@1.2.0"),
            &[
                (env, "pkg:npm/%40modelcontextprotocol/sdk@1.0.4"),
                (env, "pkg:npm/zod@3.23.8"),
                (env, "package:shared@0.0.1"),
                // A dev dependency the root does not list: nothing reaches it.
                (env, "pkg:npm/typescript@5.6.2"),
                // The SDK's own nested zod, not the hoisted one.
                (
                    "pkg:npm/%40modelcontextprotocol/sdk@1.0.4",
                    "pkg:npm/zod@3.22.4",
                ),
            ],
        ),
        (
            "uv.lock",
            Some("demo-app"),
            &[
                (env, "package:demo-app@0.1.0"),
                ("package:demo-app@0.1.0", "pkg:pypi/idna@3.10"),
                ("package:demo-app@0.1.0", "pkg:pypi/tqdm@4.66.5"),
            ],
        ),
        (
            "poetry.lock",
            None,
            &[
                (env, "package:internal-tools@0.3.0"),
                (env, "pkg:pypi/certifi@2024.8.30"),
                (env, "pkg:pypi/idna@3.10"),
            ],
        ),
    ];
    for (file, project, want) in table {
        let doc = parse_ok(&read(&format!("{DATA}/{file}")));
        let mut got: Vec<(&str, &str)> = doc
            .edges
            .iter()
            .map(|e| {
                assert_eq!(e.edge.as_str(), "depends-on", "{file}");
                let from = if e.from == doc.document.id {
                    env
                } else {
                    e.from.as_str()
                };
                (from, e.to.as_str())
            })
            .collect();
        got.sort_unstable();
        let mut want = want.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{file}");
        assert_named(&doc, *project, file);
    }
}

/// A reference to a package the lockfile does not have is a warning at its pointer;
/// the document and its other edges are recorded.
#[test]
fn dangling_references_are_warnings_at_their_pointer() {
    let cargo = "version = 4\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"serde\",\n \"ghost 1.0.0\",\n \"serde 9.9.9\",\n]\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\n";
    let npm = r#"{"name":"x","lockfileVersion":3,"packages":{
        "":{"name":"x","dependencies":{"a":"1"}},
        "node_modules/a":{"version":"1.0.0","dependencies":{"b":"1","gone/x":"1"},
            "optionalDependencies":{"fsevents":"2"},"peerDependencies":{"react":"18"}},
        "node_modules/b":{"version":"1.0.0"}}}"#;
    let poetry = "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n[[package]]\nname = \"a\"\nversion = \"1.0\"\n\n[package.dependencies]\nb = \"*\"\nghost = \">=1\"\nwinonly = {version = \"*\", markers = \"sys_platform == \\\"win32\\\"\"}\nextra-only = {version = \"*\", optional = true}\n\n[[package]]\nname = \"b\"\nversion = \"2.0\"\n\n[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.10\"\ncontent-hash = \"abc\"\n";
    let uv = "version = 1\nrequires-python = \">=3.11\"\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"b\" }, { name = \"ghost\" }]\n\n[package.optional-dependencies]\nfast = [{ name = \"b\", version = \"9.9\" }]\n\n[[package]]\nname = \"b\"\nversion = \"2.0\"\nsource = { registry = \"https://r.invalid/simple\" }\n";
    let cases: &[(&str, &[&str], (usize, usize))] = &[
        (
            cargo,
            &["/package/0/dependencies/1", "/package/0/dependencies/2"],
            (1, 1),
        ),
        // JSON pointers escape `/` as `~1`.
        (
            npm,
            &["/packages/node_modules~1a/dependencies/gone~1x"],
            (1, 1),
        ),
        // Only the unconditional one warns: markers and extras may name packages
        // never locked.
        (poetry, &["/package/0/dependencies/ghost"], (1, 1)),
        (
            uv,
            &[
                "/package/0/dependencies/1",
                "/package/0/optional-dependencies/fast/0",
            ],
            (1, 1),
        ),
    ];
    for (text, pointers, counts) in cases {
        let doc = parse_ok(text.as_bytes());
        let mut got: Vec<&str> = doc
            .warnings
            .iter()
            .filter(|w| w.message.contains("no edge"))
            .map(|w| w.pointer.as_str())
            .collect();
        got.sort_unstable();
        assert_eq!(got, *pointers, "{}: {:?}", doc.format, doc.warnings);
        assert_eq!(edge_counts(&doc), *counts, "{}", doc.format);
        assert_all_reachable(&doc, &doc.format.to_string());
    }
}

/// A cycle nothing outside it reaches hangs off the environment by its first package;
/// a package nothing depends on does too, and no other package does.
#[test]
fn unreached_packages_and_cycles_hang_off_the_environment() {
    let lock = "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\ndependencies = [\"b\"]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\ndependencies = [\"a\"]\n\n[[package]]\nname = \"c\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\ndependencies = [\"a\"]\n\n[[package]]\nname = \"d\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\n";
    let doc = parse_ok(lock.as_bytes());
    let env = doc.document.id.as_str();
    // c reaches the a ⇄ b cycle; nothing reaches c or d.
    assert!(has_edge(&doc, env, "pkg:cargo/c@1.0.0"));
    assert!(has_edge(&doc, env, "pkg:cargo/d@1.0.0"));
    assert!(!has_edge(&doc, env, "pkg:cargo/a@1.0.0"));
    assert_eq!(edge_counts(&doc), (3, 2));
    // Without c, the cycle is reached through its first package.
    let lock = "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\ndependencies = [\"b\"]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\ndependencies = [\"a\"]\n";
    let doc = parse_ok(lock.as_bytes());
    let env = doc.document.id.as_str();
    assert!(has_edge(&doc, env, "pkg:cargo/a@1.0.0"));
    assert!(!has_edge(&doc, env, "pkg:cargo/b@1.0.0"));
    assert_eq!(edge_counts(&doc), (2, 1));
    assert_all_reachable(&doc, "cycle");
}
