//! Cross-checks the Rust proofs and checkpoints with the independent Python checker
//! (tools/logcheck). Runs only when `AILEDGER_TEST_PYTHON` names a Python interpreter
//! with the `cryptography` package; otherwise it says loudly that it was skipped.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use ailedger_log::{
    Checkpoint, ConsistencyProof, Frontier, Hash, InclusionProof, NodeId, Signer, consistency_plan,
    inclusion_plan, leaf_hash, root_plan,
};

const ORIGIN: &str = "ledger.example/interop";

fn body(seq: u64) -> Vec<u8> {
    format!(r#"{{"actor":"ci","data":{{"n":{seq}}},"seq":{seq},"time":"t","v":1}}"#).into_bytes()
}

struct Fixture {
    dir: PathBuf,
    python: String,
    checker: PathBuf,
    nodes: HashMap<NodeId, Hash>,
    signer: Signer,
}

impl Fixture {
    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn checkpoint(&self, size: u64) -> String {
        let root = root_plan(size)
            .unwrap()
            .assemble_root(|id| self.nodes.get(&id).copied())
            .unwrap();
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
        }
        .sign(&self.signer)
        .unwrap()
    }

    fn inclusion(&self, seq: u64, size: u64) -> InclusionProof {
        let hashes = inclusion_plan(seq - 1, size)
            .unwrap()
            .assemble(|id| self.nodes.get(&id).copied())
            .unwrap();
        InclusionProof::new(seq, size, self.nodes[&NodeId::leaf(seq - 1)], hashes).unwrap()
    }

    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        let hashes = consistency_plan(from, to)
            .unwrap()
            .assemble(|id| self.nodes.get(&id).copied())
            .unwrap();
        ConsistencyProof { from, to, hashes }
    }

    /// Runs the checker; returns (success, combined output).
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(&self.python)
            .arg(&self.checker)
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match out.status.code() {
            Some(0) => (true, text),
            Some(1) => (false, text),
            other => panic!("checker exited with {other:?}: {text}"),
        }
    }

    fn ok(&self, what: &str, args: &[&str]) {
        let (ok, out) = self.run(args);
        assert!(ok, "{what}: expected success, got: {out}");
    }

    fn fails(&self, what: &str, args: &[&str]) {
        let (ok, out) = self.run(args);
        assert!(!ok, "{what}: expected failure, got: {out}");
        assert!(out.contains("FAILED"), "{what}: {out}");
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

#[test]
fn python_checker_agrees_with_rust() {
    let Ok(python) = std::env::var("AILEDGER_TEST_PYTHON") else {
        // Written to the real stderr, not through eprintln!, so that the test harness's
        // output capture cannot hide it.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED python_checker_agrees_with_rust: set AILEDGER_TEST_PYTHON to a \
             python with the `cryptography` package (pip install -r \
             tools/logcheck/requirements.txt) to cross-check against \
             tools/logcheck/logcheck.py ***\n"
        );
        return;
    };
    let has_crypto = Command::new(&python)
        .args(["-c", "import cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_crypto,
        "AILEDGER_TEST_PYTHON={python} cannot import `cryptography`"
    );

    let root_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/logcheck");
    let unit = Command::new(&python)
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&root_dir)
        .output()
        .unwrap();
    assert!(
        unit.status.success(),
        "{}",
        String::from_utf8_lossy(&unit.stderr)
    );

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("ailedger-logcheck-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let mut frontier = Frontier::new();
    let mut nodes = HashMap::new();
    for seq in 1..=1000 {
        nodes.extend(frontier.append(leaf_hash(&body(seq))));
    }
    let fx = Fixture {
        dir: dir.clone(),
        python,
        checker: root_dir.join("logcheck.py"),
        nodes,
        signer: Signer::from_seed(ORIGIN, [42; 32]).unwrap(),
    };
    let vkey = fx.signer.verifier().to_text();
    let vkey_file = fx.write("vkey", format!("{vkey}\n"));
    let other_vkey = Signer::from_seed(ORIGIN, [43; 32])
        .unwrap()
        .verifier()
        .to_text();

    // Checkpoints.
    let mut cps = HashMap::new();
    for size in [0u64, 1, 2, 500, 512, 999, 1000] {
        let path = fx.write(&format!("cp-{size}"), fx.checkpoint(size));
        fx.ok("checkpoint", &["checkpoint", &path, &vkey]);
        cps.insert(size, path);
    }
    fx.ok("vkey from file", &["checkpoint", &cps[&1000], &vkey_file]);
    fx.fails("other key", &["checkpoint", &cps[&1000], &other_vkey]);
    let good = fx.checkpoint(1000);
    let tampered = [
        ("size changed", good.replacen("\n1000\n", "\n1001\n", 1)),
        ("root changed", {
            let mut lines: Vec<String> = good.split('\n').map(str::to_owned).collect();
            let mut root = lines[2].clone().into_bytes();
            root[0] = if root[0] == b'A' { b'B' } else { b'A' };
            lines[2] = String::from_utf8(root).unwrap();
            lines.join("\n")
        }),
        ("no final newline", good.trim_end().to_owned()),
        (
            "no signature",
            format!(
                "{}\n",
                Checkpoint::parse_body(&good[..good.find("\n\n").unwrap() + 1])
                    .unwrap()
                    .body()
            ),
        ),
        ("extension line", good.replacen("\n\n", "\next\n\n", 1)),
    ];
    for (what, note) in &tampered {
        let path = fx.write("cp-bad", note);
        fx.fails(what, &["checkpoint", &path, &vkey]);
    }

    // Inclusion proofs.
    for (seq, size) in [
        (1, 1),
        (1, 2),
        (2, 2),
        (17, 500),
        (500, 500),
        (1, 1000),
        (513, 1000),
        (1000, 1000),
    ] {
        let proof = fx.inclusion(seq, size);
        let path = fx.write("incl.json", json(&proof));
        let body_path = fx.write("body", body(seq));
        fx.ok(
            "inclusion",
            &["inclusion", &path, &cps[&size], &vkey, "--body", &body_path],
        );
    }
    let proof = fx.inclusion(321, 1000);
    let body_path = fx.write("body", body(322));
    let incl_path = fx.write("incl.json", json(&proof));
    fx.fails(
        "wrong body",
        &[
            "inclusion",
            &incl_path,
            &cps[&1000],
            &vkey,
            "--body",
            &body_path,
        ],
    );
    fx.fails(
        "wrong checkpoint size",
        &["inclusion", &incl_path, &cps[&999], &vkey],
    );
    let mut bad = proof.clone();
    bad.hashes[3][7] ^= 1;
    let p = fx.write("bad.json", json(&bad));
    fx.fails("flipped hash", &["inclusion", &p, &cps[&1000], &vkey]);
    let mut bad = proof.clone();
    bad.seq += 1;
    bad.leaf_index += 1;
    let p = fx.write("bad.json", json(&bad));
    fx.fails("other seq", &["inclusion", &p, &cps[&1000], &vkey]);
    let mut bad = proof.clone();
    bad.hashes.pop();
    let p = fx.write("bad.json", json(&bad));
    fx.fails("short proof", &["inclusion", &p, &cps[&1000], &vkey]);
    let p = fx.write(
        "bad.json",
        json(&proof).replace(
            &hex::encode(proof.leaf_hash),
            &hex::encode(proof.leaf_hash).to_uppercase(),
        ),
    );
    fx.fails("uppercase hex", &["inclusion", &p, &cps[&1000], &vkey]);

    // Consistency proofs.
    for (from, to) in [
        (0, 1000),
        (1, 2),
        (1, 1000),
        (2, 1000),
        (500, 1000),
        (512, 1000),
        (999, 1000),
        (1000, 1000),
        (500, 512),
    ] {
        let path = fx.write("cons.json", json(&fx.consistency(from, to)));
        fx.ok(
            "consistency",
            &["consistency", &path, &cps[&from], &cps[&to], &vkey],
        );
    }
    let proof = fx.consistency(500, 1000);
    let p = fx.write("cons.json", json(&proof));
    fx.fails(
        "swapped checkpoints",
        &["consistency", &p, &cps[&1000], &cps[&500], &vkey],
    );
    fx.fails(
        "wrong old checkpoint",
        &["consistency", &p, &cps[&512], &cps[&1000], &vkey],
    );
    let mut bad = proof.clone();
    bad.hashes[0][0] ^= 0x10;
    let p = fx.write("bad.json", json(&bad));
    fx.fails(
        "flipped hash",
        &["consistency", &p, &cps[&500], &cps[&1000], &vkey],
    );
    // A forked log: a different tree at size 1000 signed by the same key.
    let mut forked = Frontier::new();
    for seq in 1..=1000 {
        let b = if seq == 700 {
            b"fork".to_vec()
        } else {
            body(seq)
        };
        forked.push(leaf_hash(&b));
    }
    let fork = Checkpoint {
        origin: ORIGIN.into(),
        size: 1000,
        root: forked.root(),
    };
    let fork_path = fx.write("cp-fork", fork.sign(&fx.signer).unwrap());
    let p = fx.write("cons.json", json(&proof));
    fx.fails("fork", &["consistency", &p, &cps[&500], &fork_path, &vkey]);
    // Same size, different roots.
    let p = fx.write("cons.json", json(&fx.consistency(1000, 1000)));
    fx.fails(
        "fork at equal size",
        &["consistency", &p, &cps[&1000], &fork_path, &vkey],
    );

    std::fs::remove_dir_all(&dir).unwrap();
}
