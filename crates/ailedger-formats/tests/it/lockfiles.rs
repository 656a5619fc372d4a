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
        assert_eq!(count_edges(&doc, "depends-on"), want.len(), "{file}");
        assert!(
            doc.edges.iter().all(|e| e.from == doc.document.id),
            "{file}"
        );
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
