//! Lockfiles and requirements: our own hand-written test data in `tests/data`.

use ailedger_formats::Format;

use crate::{DATA, count_edges, parse_ok, read};

fn ids(doc: &ailedger_formats::Document) -> Vec<&str> {
    let mut v: Vec<&str> = doc.artifacts.iter().map(|a| a.id.as_str()).collect();
    v.sort_unstable();
    v
}

#[test]
fn each_lockfile_is_an_environment_depending_on_its_packages() {
    let table: &[(&str, Format, &[&str])] = &[
        (
            "pip-freeze.txt",
            Format::PipFreeze,
            &[
                "pkg:pypi/certifi@2024.8.30",
                "pkg:pypi/charset-normalizer@3.3.2",
                "pkg:pypi/huggingface-hub@0.25.1",
                "pkg:pypi/idna@3.10",
                "pkg:pypi/safetensors@0.4.5",
            ],
        ),
        (
            "requirements.txt",
            Format::RequirementsTxt,
            &[
                "pkg:pypi/mypkg",
                "pkg:pypi/numpy@2.0.2",
                "pkg:pypi/requests",
                "pkg:pypi/torch@2.4.1",
                "pkg:pypi/transformers-lib@4.44.0",
            ],
        ),
        (
            "poetry.lock",
            Format::PoetryLock,
            &[
                "package:internal-tools@0.3.0",
                "pkg:pypi/certifi@2024.8.30",
                "pkg:pypi/idna@3.10",
            ],
        ),
        (
            "uv.lock",
            Format::UvLock,
            &[
                "package:demo-app@0.1.0",
                "pkg:pypi/idna@3.10",
                "pkg:pypi/tqdm@4.66.5",
            ],
        ),
        (
            "Pipfile.lock",
            Format::PipfileLock,
            &[
                "pkg:pypi/pytest@8.3.3",
                "pkg:pypi/requests@2.32.3",
                "pkg:pypi/urllib3@2.2.3",
            ],
        ),
        (
            "package-lock.json",
            Format::PackageLockJson { version: 3 },
            &[
                "package:shared@0.0.1",
                "pkg:npm/%40modelcontextprotocol/sdk@1.0.4",
                "pkg:npm/typescript@5.6.2",
                "pkg:npm/zod@3.22.4",
                "pkg:npm/zod@3.23.8",
            ],
        ),
        (
            "Cargo.lock",
            Format::CargoLock,
            &[
                "package:demo@0.1.0",
                "package:forked-dep@0.2.0",
                "pkg:cargo/serde@1.0.210",
                "pkg:cargo/tokenizers@0.20.0",
            ],
        ),
    ];
    for (file, format, want) in table {
        let bytes = read(&format!("{DATA}/{file}"));
        let doc = parse_ok(&bytes);
        assert_eq!(&doc.format, format, "{file}");
        assert_eq!(ailedger_formats::detect(&bytes).unwrap(), *format, "{file}");
        assert_eq!(doc.document.kind.as_str(), "environment", "{file}");
        assert_eq!(ids(&doc), *want, "{file}");
        // Each package is reached from the environment: directly for the formats that
        // state no graph, through the stated graph for the others (lock_graph.rs).
        let graph = matches!(
            format,
            Format::PoetryLock
                | Format::UvLock
                | Format::PackageLockJson { .. }
                | Format::CargoLock
        );
        if !graph {
            assert_eq!(count_edges(&doc, "depends-on"), want.len(), "{file}");
            assert!(
                doc.edges.iter().all(|e| e.from == doc.document.id),
                "{file}"
            );
        }
        let prefix = &doc.digest.hex()[..8];
        let name = doc.document.name.as_deref().unwrap();
        assert!(name.ends_with(&format!("{prefix})")), "{file}: {name}");
    }
}

#[test]
fn requirements_details() {
    let doc = parse_ok(&read(&format!("{DATA}/requirements.txt")));
    assert_eq!(doc.includes, ["base-requirements.txt", "constraints.txt"]);
    let get = |id: &str| doc.artifacts.iter().find(|a| a.id == id).unwrap();
    // One hash: it identifies the distribution file, so it is an alias; so is the
    // name and version, which merges a package some document knew only by those.
    let torch = get("pkg:pypi/torch@2.4.1");
    assert_eq!(
        torch.aliases,
        [
            "package:torch@2.4.1",
            "sha256:1495132f30f722af1a091950088baea383fe39903db06b20e6936fd99402803e"
        ]
    );
    // Two wheel hashes: attributes only; the name and version stay an alias.
    let numpy = get("pkg:pypi/numpy@2.0.2");
    assert_eq!(numpy.aliases, ["package:numpy@2.0.2"]);
    assert_eq!(numpy.attrs["hashes"].as_array().unwrap().len(), 2);
    let requests = get("pkg:pypi/requests");
    assert_eq!(requests.attrs["specifier"], ">=2.31,<3");
    assert_eq!(requests.attrs["extras"][0], "socks");
    assert_eq!(requests.attrs["marker"], "python_version >= \"3.9\"");
    // Editable installs and direct URLs are recorded as warnings with line numbers.
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.pointer == "12:1" && w.message.contains("editable")),
        "{:?}",
        doc.warnings
    );
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.pointer == "13:1" && w.message.contains("direct URL"))
    );
    // Index credentials are not stored.
    assert!(!format!("{:?}", doc.document.attrs).contains("s3cret"));
}

#[test]
fn lockfile_hashes_and_aliases() {
    let doc = parse_ok(&read(&format!("{DATA}/Cargo.lock")));
    let serde = doc
        .artifacts
        .iter()
        .find(|a| a.id == "pkg:cargo/serde@1.0.210")
        .unwrap();
    assert_eq!(
        serde.aliases,
        [
            "package:serde@1.0.210",
            "sha256:c8e3592472072e6e22e0a54d5904d9febf8508f65fb8552499a1abc7d1078c3a"
        ]
    );
    let doc = parse_ok(&read(&format!("{DATA}/poetry.lock")));
    let certifi = doc
        .artifacts
        .iter()
        .find(|a| a.id == "pkg:pypi/certifi@2024.8.30")
        .unwrap();
    assert_eq!(
        certifi.aliases,
        ["package:certifi@2024.8.30"],
        "wheel + sdist: two files, no digest alias"
    );
    let idna = doc
        .artifacts
        .iter()
        .find(|a| a.id == "pkg:pypi/idna@3.10")
        .unwrap();
    assert_eq!(idna.aliases.len(), 2);
    let doc = parse_ok(&read(&format!("{DATA}/package-lock.json")));
    let sdk = doc
        .artifacts
        .iter()
        .find(|a| a.id.starts_with("pkg:npm/%40modelcontextprotocol"))
        .unwrap();
    assert!(
        sdk.attrs["integrity"]
            .as_str()
            .unwrap()
            .starts_with("sha512-")
    );
}

#[test]
fn lockfile_faults_are_refused_with_a_location() {
    let cases = [
        (
            "torch==2.4.1 --hash=sha256:abcd\n",
            "requirements.txt: 1:1: SHA-256 value has 4 hex characters",
        ),
        (
            "torch==2.4.1\nnumpy>=1 ,, <2\n-x\n",
            "unrecognised document",
        ),
        (
            "# Generated by Cargo\n[[package]]\nname = \"a\"\nversion = 3\n",
            "TOML",
        ),
        (
            "# This file is automatically @generated by Cargo.\nversion = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://index.invalid/\"\nchecksum = \"zz\"\n",
            "Cargo.lock: /package/0/checksum",
        ),
        (
            "version = 1\nrequires-python = \">=3.11\"\n[[package]]\nname = \"x\"\nversion = \"1\"\nsource = { registry = \"https://r.invalid/simple\" }\nwheels = [{ url = \"https://r.invalid/x.whl\", hash = \"sha256:00\" }]\n",
            "uv.lock: /package/0/wheels/0/hash",
        ),
    ];
    for (input, want) in cases {
        let e = ailedger_formats::parse(input.as_bytes(), &Default::default())
            .map(|d| d.format)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{input:?}\n  got: {e}\n want: {want}");
    }
}

/// Every lockfile format with credentials in its URLs is recorded and stored redacted,
/// under the redacted digest, with the submitted digest as an alias; one without
/// credentials is stored as it is.
#[test]
fn lockfiles_with_credentials_are_stored_redacted() {
    for (file, from, to) in [
        (
            "package-lock.json",
            "https://registry.npm.invalid/",
            "https://u:zQLOCKSECRETQ9@registry.npm.invalid/",
        ),
        (
            "Pipfile.lock",
            "https://pypi.invalid/",
            "https://u:zQ/LOCK@SECRETQ9@pypi.invalid/",
        ),
        (
            "uv.lock",
            "https://pypi.invalid/simple",
            "https://__token__:zQLOCKSECRETQ9@pypi.invalid/simple",
        ),
        (
            "Cargo.lock",
            "sparse+https://index.crates.invalid/",
            "sparse+https://u:zQLOCKSECRETQ9@index.crates.invalid/",
        ),
    ] {
        let clean = read(&format!("{DATA}/{file}"));
        let r = ailedger_formats::parse_redacted(&clean, &ailedger_formats::Options::default())
            .unwrap();
        assert_eq!(r.bytes, None, "{file}: nothing to remove");
        if from.is_empty() {
            continue;
        }
        let text = String::from_utf8(clean).unwrap();
        assert!(text.contains(from), "{file}");
        let dirty = text.replace(from, to);
        let r = ailedger_formats::parse_redacted(
            dirty.as_bytes(),
            &ailedger_formats::Options::default(),
        )
        .unwrap();
        let stored = String::from_utf8(r.bytes.clone().expect(file)).unwrap();
        let recorded = format!("{:?}", r.document);
        for s in [&stored, &recorded] {
            assert!(!s.contains("SECRETQ9"), "{file}: {s}");
        }
        assert!(stored.contains("<redacted>"), "{file}");
        let orig = ailedger_core::Sha256Digest::of(dirty.as_bytes()).to_string();
        assert_eq!(r.original_digest.to_string(), orig);
        assert!(r.document.document.aliases.contains(&orig), "{file}");
        assert_eq!(
            r.document.document.id,
            ailedger_core::Sha256Digest::of(stored.as_bytes()).to_string()
        );
        assert!(!r.document.warnings.is_empty(), "{file}");
        // The environment's name carries the digest of what is stored.
        let name = r.document.document.name.clone().unwrap();
        assert!(
            name.ends_with(&format!("{})", &r.document.digest.hex()[..8])),
            "{file}: {name}"
        );
        crate::check_invariants(&r.document);
    }
    // The requirements test data has a password in its index URL.
    let r = ailedger_formats::parse_redacted(
        &read(&format!("{DATA}/requirements.txt")),
        &ailedger_formats::Options::default(),
    )
    .unwrap();
    let stored = String::from_utf8(r.bytes.unwrap()).unwrap();
    assert!(!stored.contains("s3cret") && !format!("{:?}", r.document).contains("s3cret"));
    assert!(stored.contains("--index-url https://user:<redacted>@pypi.internal.invalid/simple"));
    assert_eq!(r.document.warnings[0].pointer, "4:1");
}
