//! `ailedger verify model` over every OpenSSF model-signing vector in
//! tests/fixtures/attest/model_signing (key, certificate and Sigstore modes, files and
//! shards), each model copied to a temporary directory: it verifies, and a single
//! flipped byte in any signed file fails with exit code 4 and one line naming the file.
//! Then, with AILEDGER_TEST_PYTHON set, a signature made today by PyPI `model-signing`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

use super::BIN;

fn fixtures() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest/model_signing"
    ))
    .to_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        // Offline: no server is needed, none is contacted, no credentials are read.
        .env("AILEDGER_URL", "http://127.0.0.1:9")
        .env(
            "AILEDGER_CONFIG_DIR",
            std::env::temp_dir().join("ailedger-e2e-no-config"),
        )
        .env_remove("AILEDGER_TOKEN")
        .output()
        .unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_file() {
        std::fs::copy(from, to).unwrap();
        return;
    }
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        copy_tree(&e.path(), &to.join(e.file_name()));
    }
}

fn files_under(root: &Path, out: &mut Vec<PathBuf>) {
    if root.is_file() {
        out.push(root.to_owned());
        return;
    }
    for e in std::fs::read_dir(root).unwrap() {
        files_under(&e.unwrap().path(), out);
    }
}

struct Case {
    /// The signature, relative to the fixtures.
    sig: &'static str,
    /// The model, relative to the fixtures.
    model: &'static str,
    /// The mode's flags (fixture-relative paths are resolved).
    mode: &'static [&'static str],
    /// Files of the model (relative to it) that are not signed: changing them is fine.
    unsigned: &'static [&'static str],
    resources: u64,
}

const GOLDEN_KEY: &str = "@upstream-golden/keys/certificate/signing-key-pub.pem";
const CERTS: &[&str] = &[
    "--certificate-chain",
    "@upstream-golden/keys/certificate/ca-cert.pem",
    "--certificate-chain",
    "@upstream-golden/keys/certificate/int-ca-cert.pem",
];
const SIGSTORE: &[&str] = &[
    "--identity",
    "stefanb@us.ibm.com",
    "--identity-provider",
    "https://sigstore.verify.ibm.com/oauth2",
    "--trusted-root",
    "@../sigstore/production_trusted_root.json",
];

const CASES: &[Case] = &[
    Case {
        sig: "tiny-model.sig",
        model: "tiny-model",
        mode: &["--public-key", "@ec_p256_public.pem"],
        unsigned: &[],
        resources: 4,
    },
    Case {
        sig: "order-model.files.sig",
        model: "order-model",
        mode: &["--public-key", "@ec_p256_public.pem"],
        unsigned: &[],
        resources: 4,
    },
    Case {
        sig: "order-model.shards.sig",
        model: "order-model",
        mode: &["--public-key", "@ec_p256_public.pem"],
        unsigned: &[],
        resources: 6,
    },
    Case {
        sig: "upstream-golden/v1.1.0-elliptic-key/model.sig",
        model: "upstream-golden/v1.1.0-elliptic-key",
        mode: &["--public-key", GOLDEN_KEY],
        unsigned: &["ignore-me", "model.sig"],
        resources: 2,
    },
    Case {
        sig: "upstream-golden/v0.3.1-elliptic-key/model.sig",
        model: "upstream-golden/v0.3.1-elliptic-key/signme-1",
        mode: &["--public-key", GOLDEN_KEY],
        unsigned: &[],
        resources: 1,
    },
    Case {
        sig: "upstream-golden/v1.1.0-certificate/model.sig",
        model: "upstream-golden/v1.1.0-certificate",
        mode: CERTS,
        unsigned: &["ignore-me", "model.sig"],
        resources: 2,
    },
    Case {
        sig: "upstream-golden/v0.2.0-certificate/model.sig",
        model: "upstream-golden/v0.2.0-certificate",
        mode: CERTS,
        unsigned: &["model.sig"],
        resources: 2,
    },
    Case {
        sig: "upstream-golden/v1.1.0-sigstore/model.sig",
        model: "upstream-golden/v1.1.0-sigstore",
        mode: SIGSTORE,
        unsigned: &["ignore-me", "model.sig"],
        resources: 2,
    },
];

/// The command line for a case whose model sits at `model` and signature at `sig`.
fn args_for(case: &Case, model: &Path, sig: &Path) -> Vec<String> {
    let mut a = vec![
        "verify".to_owned(),
        "model".to_owned(),
        model.to_str().unwrap().to_owned(),
        "--signature".to_owned(),
        sig.to_str().unwrap().to_owned(),
    ];
    for m in case.mode {
        a.push(match m.strip_prefix('@') {
            Some(rel) => fixtures().join(rel).to_str().unwrap().to_owned(),
            None => (*m).to_owned(),
        });
    }
    a
}

#[track_caller]
fn verifies(args: &[String]) -> Value {
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--format", "json"]);
    let out = run(&a);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every vector verifies from a copy of its model; a flipped byte in any signed file
/// fails with exit 4 and one stderr line naming that file; unsigned files (ignored
/// paths, the signature itself) may change.
#[test]
fn every_vector_verifies_and_a_flipped_byte_names_the_file() {
    for case in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let src = fixtures().join(case.model);
        let model = tmp.path().join(src.file_name().unwrap());
        copy_tree(&src, &model);
        // The signature where it was: inside the model directory for upstream's vectors.
        let sig = if model.is_dir() && case.sig.ends_with("/model.sig") {
            model.join("model.sig")
        } else {
            let s = tmp.path().join("model.sig");
            std::fs::copy(fixtures().join(case.sig), &s).unwrap();
            s
        };
        let mut args = args_for(case, &model, &sig);
        if model.join("ignore-me").exists() {
            // Upstream's tests pass this on the command line too.
            args.extend([
                "--ignore-path".to_owned(),
                model.join("ignore-me").to_str().unwrap().to_owned(),
            ]);
        }
        let v = verifies(&args);
        assert_eq!(v["verified"], true, "{}", case.sig);
        assert_eq!(v["resources"], case.resources, "{}: {v}", case.sig);
        let mut files = Vec::new();
        files_under(&model, &mut files);
        assert!(!files.is_empty());
        for file in files {
            let rel = if model.is_file() {
                ".".to_owned()
            } else {
                file.strip_prefix(&model)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned()
            };
            let original = std::fs::read(&file).unwrap();
            let mut bad = original.clone();
            if bad.is_empty() {
                // An empty file: one byte more (a shard appears, or the digest changes).
                bad.push(b'x');
            } else {
                let at = bad.len() / 2;
                bad[at] ^= 0x20;
            }
            std::fs::write(&file, &bad).unwrap();
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&a);
            std::fs::write(&file, &original).unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            if case.unsigned.contains(&rel.as_str()) {
                // model.sig is the signature, not a model file (a byte flipped in it may
                // fall in unsigned material such as an unused chain certificate).
                if rel != "model.sig" {
                    assert!(
                        out.status.success(),
                        "{}: {rel} is not signed: {err}",
                        case.sig
                    );
                }
                continue;
            }
            assert_eq!(out.status.code(), Some(4), "{}: {rel}: {err}", case.sig);
            assert_eq!(err.trim_end().lines().count(), 1, "{}: {err}", case.sig);
            assert!(
                err.contains(&format!("`{rel}"))
                    && (original.is_empty() || err.contains("differs from the signature")),
                "{}: {rel}: {err}",
                case.sig
            );
        }
        // And the untouched copy still verifies.
        verifies(&args);
    }
}

/// A file added to the model or removed from it is named; a wrong key is exit 4; bad
/// input (an unreadable or malformed signature, a missing key file) is exit 2.
#[test]
fn extra_missing_wrong_key_and_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("tiny-model");
    copy_tree(&fixtures().join("tiny-model"), &model);
    let case = &CASES[0];
    let sig = fixtures().join("tiny-model.sig");
    let args = args_for(case, &model, &sig);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    std::fs::write(model.join("tokenizer/extra.txt"), b"new").unwrap();
    let out = run(&a);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not in the signature: `tokenizer/extra.txt`"),
        "{err}"
    );
    std::fs::remove_file(model.join("tokenizer/extra.txt")).unwrap();
    std::fs::remove_file(model.join("config.json")).unwrap();
    let out = run(&a);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("signed but missing: `config.json`"), "{err}");
    copy_tree(
        &fixtures().join("tiny-model/config.json"),
        &model.join("config.json"),
    );
    verifies(&args);
    // The wrong key.
    let mut wrong = args.clone();
    wrong[6] = fixtures()
        .join("upstream-golden/keys/certificate/signing-key-pub.pem")
        .to_str()
        .unwrap()
        .to_owned();
    let out = run(&wrong.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("publicKey/hint"));
    // Bad input: exit 2, one line naming the file.
    let junk = tmp.path().join("junk.sig");
    std::fs::write(&junk, b"{\"mediaType\": 3}").unwrap();
    let missing = tmp.path().join("nope.sig");
    for (sig, want) in [(&junk, "/mediaType"), (&missing, "nope.sig")] {
        let mut bad = args.clone();
        bad[4] = sig.to_str().unwrap().to_owned();
        let out = run(&bad.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(want) && err.trim_end().lines().count() == 1,
            "{err}"
        );
    }
    // No mode given: a usage error.
    let out = run(&a[..5]);
    assert_eq!(out.status.code(), Some(2));
}

/// In files mode the signature carries the digest of ailedger's own manifest of the
/// model: the one `ailedger manifest` (and `register model`) computes for the same files.
#[test]
fn manifest_digest_is_what_register_would_record() {
    let case = &CASES[0];
    let model = fixtures().join(case.model);
    let v = verifies(&args_for(case, &model, &fixtures().join(case.sig)));
    let out = run(&["manifest", model.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success());
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["manifest_digest"], m["digest"], "{v} {m}");
}

/// A signature made today by the current PyPI `model-signing` (in a venv whose Python is
/// AILEDGER_TEST_PYTHON) over a fresh model with a fresh P-256 key, in files and shards
/// mode, verifies; a flipped byte is caught.
#[test]
fn interop_signature_made_today_by_model_signing() {
    let Some(python) = std::env::var_os("AILEDGER_TEST_PYTHON") else {
        eprintln!(
            "SKIPPED: interop_signature_made_today_by_model_signing: set AILEDGER_TEST_PYTHON to a \
             Python with `pip install -r tools/interop/requirements.txt` to run it"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("fresh-model");
    std::fs::create_dir_all(model.join("a")).unwrap();
    std::fs::write(model.join("a/b"), b"nested").unwrap();
    std::fs::write(model.join("a-b"), b"dash").unwrap();
    std::fs::write(model.join("config.json"), b"{\"layers\": 2}").unwrap();
    let weights: Vec<u8> = (0u32..300_000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(model.join("weights.bin"), &weights).unwrap();
    let key = tmp.path().join("key.pem");
    let pubkey = tmp.path().join("key.pub");
    let script = format!(
        "from cryptography.hazmat.primitives.asymmetric import ec\n\
         from cryptography.hazmat.primitives import serialization as s\n\
         k = ec.generate_private_key(ec.SECP256R1())\n\
         open({key:?}, 'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))\n\
         open({pubkey:?}, 'wb').write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))\n",
        key = key.to_str().unwrap(),
        pubkey = pubkey.to_str().unwrap(),
    );
    let out = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files_sig = tmp.path().join("files.sig");
    let out = Command::new(&python)
        .args(["-m", "model_signing", "sign", "key"])
        .arg(&model)
        .arg("--private_key")
        .arg(&key)
        .arg("--signature")
        .arg(&files_sig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "model_signing sign key: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Shards through the Python API (the CLI signs by files).
    let shards_sig = tmp.path().join("shards.sig");
    let script = format!(
        "import model_signing\n\
         model_signing.signing.Config().use_elliptic_key_signer(private_key={key:?}).set_hashing_config(\n\
         model_signing.hashing.Config().use_shard_serialization(shard_size=65536)).sign({model:?}, {sig:?})\n",
        key = key.to_str().unwrap(),
        model = model.to_str().unwrap(),
        sig = shards_sig.to_str().unwrap(),
    );
    let out = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "model_signing shards: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (sig, resources) in [(&files_sig, 4), (&shards_sig, 3 + 5)] {
        let args: Vec<String> = [
            "verify",
            "model",
            model.to_str().unwrap(),
            "--signature",
            sig.to_str().unwrap(),
            "--public-key",
            pubkey.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec();
        let v = verifies(&args);
        assert_eq!(v["resources"], resources, "{v}");
        let mut bad = weights.clone();
        bad[200_000] ^= 1;
        std::fs::write(model.join("weights.bin"), &bad).unwrap();
        let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        std::fs::write(model.join("weights.bin"), &weights).unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(err.contains("`weights.bin"), "{err}");
    }
}
