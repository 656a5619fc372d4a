//! The audit helper and the proof JSON shapes, end to end with a stored-node map.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::HashMap;

use ailedger_log::{
    Audit, AuditError, Checkpoint, ConsistencyProof, Error, Frontier, Hash, InclusionProof,
    KeyChoice, LeafError, NodeId, Signer, TrustState, consistency_plan, inclusion_plan, leaf_hash,
};

fn body(seq: u64) -> Vec<u8> {
    format!(r#"{{"actor":"ci","data":{{"n":{seq}}},"seq":{seq},"time":"t","v":1}}"#).into_bytes()
}

/// A toy store: entries' leaf hashes and the nodes Frontier::append asked to write.
struct Store {
    nodes: HashMap<NodeId, Hash>,
    frontier: Frontier,
}

impl Store {
    fn with(n: u64) -> Self {
        let mut s = Store {
            nodes: HashMap::new(),
            frontier: Frontier::new(),
        };
        for seq in 1..=n {
            for (id, h) in s.frontier.append(leaf_hash(&body(seq))) {
                s.nodes.insert(id, h);
            }
        }
        s
    }
    fn inclusion(&self, seq: u64, size: u64) -> InclusionProof {
        let plan = inclusion_plan(seq - 1, size).unwrap();
        let hashes = plan.assemble(|id| self.nodes.get(&id).copied()).unwrap();
        let leaf = self.nodes[&NodeId::leaf(seq - 1)];
        InclusionProof::new(seq, size, leaf, hashes).unwrap()
    }
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        let plan = consistency_plan(from, to).unwrap();
        ConsistencyProof {
            from,
            to,
            hashes: plan.assemble(|id| self.nodes.get(&id).copied()).unwrap(),
        }
    }
    fn checkpoint(&self, size: u64) -> Checkpoint {
        let root = ailedger_log::root_plan(size)
            .unwrap()
            .assemble_root(|id| self.nodes.get(&id).copied())
            .unwrap();
        Checkpoint {
            origin: "ledger.example/test".into(),
            size,
            root,
        }
    }
}

#[test]
fn proofs_serialise_as_documented_and_verify() {
    let store = Store::with(100);
    let p = store.inclusion(42, 100);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["leaf_index"], 41);
    assert_eq!(json["seq"], 42);
    assert_eq!(json["tree_size"], 100);
    assert_eq!(json["leaf_hash"], hex::encode(leaf_hash(&body(42))));
    assert_eq!(json["hashes"].as_array().unwrap().len(), p.hashes.len());
    let back: InclusionProof = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, p);
    let cp = store.checkpoint(100);
    back.verify_checkpoint(&cp).unwrap();
    back.verify_body(&body(42), &cp.root).unwrap();
    assert_eq!(
        back.verify_body(&body(43), &cp.root),
        Err(Error::LeafMismatch)
    );
    assert!(matches!(
        back.verify_checkpoint(&store.checkpoint(99)),
        Err(Error::CheckpointSize { .. })
    ));

    // seq and leaf_index must agree.
    let mut wrong = back.clone();
    wrong.leaf_index = 40;
    assert!(matches!(
        wrong.verify(&cp.root),
        Err(Error::SeqIndexMismatch { .. })
    ));
    assert_eq!(
        InclusionProof::new(0, 1, [0; 32], vec![]),
        Err(Error::SeqZero)
    );

    // Hex must be 64 lowercase digits.
    for bad in [
        "AB".repeat(32),
        "ab".repeat(31),
        "zz".repeat(32),
        "ab".repeat(33),
    ] {
        let mut j = json.clone();
        j["leaf_hash"] = serde_json::Value::String(bad.clone());
        assert!(
            serde_json::from_value::<InclusionProof>(j).is_err(),
            "accepted {bad}"
        );
        let mut j = json.clone();
        j["hashes"][0] = serde_json::Value::String(bad);
        assert!(serde_json::from_value::<InclusionProof>(j).is_err());
    }

    let c = store.consistency(37, 100);
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.starts_with(r#"{"from":37,"to":100,"hashes":[""#));
    let back: ConsistencyProof = serde_json::from_str(&json).unwrap();
    back.verify_checkpoints(&store.checkpoint(37), &cp).unwrap();
    assert!(back.verify_checkpoints(&store.checkpoint(38), &cp).is_err());
    let mut other = cp.clone();
    other.origin = "elsewhere".into();
    assert_eq!(
        back.verify_checkpoints(&store.checkpoint(37), &other),
        Err(Error::OriginMismatch)
    );
}

#[test]
fn audit_accepts_a_good_ledger() {
    let store = Store::with(1000);
    let mut audit = Audit::new();
    audit.expect_checkpoint(&store.checkpoint(0)).unwrap();
    for size in [1, 500, 777, 1000] {
        audit.expect_checkpoint(&store.checkpoint(size)).unwrap();
    }
    for seq in 1..=1000 {
        let b = body(seq);
        audit
            .push_body(seq, &b, &store.nodes[&NodeId::leaf(seq - 1)])
            .unwrap();
    }
    let summary = audit.finish().unwrap();
    assert_eq!(summary.size, 1000);
    assert_eq!(summary.root, store.checkpoint(1000).root);
    assert_eq!(summary.checkpoints_verified, 5);
}

#[test]
fn audit_names_gaps_and_the_first_bad_seq() {
    let store = Store::with(300);
    let stored = |seq: u64| store.nodes[&NodeId::leaf(seq - 1)];

    // Gap: seq 3 missing. The bad push is not absorbed.
    let mut audit = Audit::new();
    audit.push(1, &stored(1)).unwrap();
    audit.push(2, &stored(2)).unwrap();
    assert_eq!(
        audit.push(4, &stored(4)),
        Err(AuditError::Gap {
            expected: 3,
            got: 4
        })
    );
    assert_eq!(
        audit.push(0, &stored(1)),
        Err(AuditError::Gap {
            expected: 3,
            got: 0
        })
    );
    assert_eq!(audit.size(), 2);

    // A body edited after the fact: its recomputed hash differs from the stored one.
    let mut audit = Audit::new();
    audit.expect_checkpoint(&store.checkpoint(100)).unwrap();
    audit.expect_checkpoint(&store.checkpoint(300)).unwrap();
    let mut errors = Vec::new();
    for seq in 1..=300 {
        let b = if seq == 150 || seq == 222 {
            b"tampered".to_vec()
        } else {
            body(seq)
        };
        if let Err(e) = audit.push_body(seq, &b, &stored(seq)) {
            errors.push(e);
        }
    }
    assert!(matches!(
        errors[0],
        AuditError::LeafMismatch { seq: 150, .. }
    ));
    assert!(matches!(
        errors[1],
        AuditError::LeafMismatch { seq: 222, .. }
    ));
    match &errors[2] {
        AuditError::RootMismatch {
            size: 300,
            first_bad_seq: Some(150),
            verified_through: 100,
            ..
        } => {}
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        errors[2].to_string().contains("first bad seq is 150"),
        "{}",
        errors[2]
    );
    assert_eq!(audit.first_bad_seq(), Some(150));
    assert_eq!(
        audit.finish(),
        Err(AuditError::BadLeaves {
            first_bad_seq: 150,
            count: 2
        })
    );

    // Body and stored leaf hash both rewritten consistently: only the checkpoints can
    // tell, and they bound where the first bad seq is.
    let mut audit = Audit::new();
    for size in [100, 200, 300] {
        audit.expect_checkpoint(&store.checkpoint(size)).unwrap();
    }
    let mut first_err = None;
    for seq in 1..=300 {
        let h = if seq == 250 {
            leaf_hash(b"rewritten")
        } else {
            stored(seq)
        };
        if let Err(e) = audit.push_checked(seq, &h, &h) {
            first_err.get_or_insert(e);
        }
    }
    let e = first_err.unwrap();
    assert!(
        matches!(
            e,
            AuditError::RootMismatch {
                size: 300,
                first_bad_seq: None,
                verified_through: 200,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("between 201 and 300"), "{e}");
    assert!(matches!(
        audit.finish(),
        Err(AuditError::BadRoots {
            first_size: 300,
            count: 1
        })
    ));
}

#[test]
fn audit_checkpoint_bookkeeping() {
    let store = Store::with(10);
    let leaf = |seq: u64| store.nodes[&NodeId::leaf(seq - 1)];
    let mut audit = Audit::new();
    audit.expect_root(20, [1; 32]).unwrap();
    audit.expect_root(5, store.checkpoint(5).root).unwrap();
    audit.expect_root(5, store.checkpoint(5).root).unwrap();
    assert_eq!(
        audit.expect_root(5, [0; 32]),
        Err(AuditError::ConflictingCheckpoints { size: 5 })
    );
    for seq in 1..=10 {
        audit.push(seq, &leaf(seq)).unwrap();
    }
    assert_eq!(audit.verified_through(), 5);
    assert_eq!(
        audit.expect_root(3, [0; 32]),
        Err(AuditError::AlreadyPast {
            size: 3,
            audited: 10
        })
    );
    // The ledger ended before the checkpoint of size 20.
    assert_eq!(
        audit.clone().finish(),
        Err(AuditError::Short {
            size: 20,
            audited: 10
        })
    );
    // A checkpoint at the current size is checked immediately.
    assert!(matches!(
        audit.expect_root(10, [0; 32]),
        Err(AuditError::RootMismatch { .. })
    ));
    assert!(matches!(
        audit.finish(),
        Err(AuditError::BadRoots {
            first_size: 10,
            count: 1
        })
    ));
}

#[test]
fn signed_checkpoints_from_the_store_open() {
    let store = Store::with(77);
    let signer = Signer::from_seed("ledger.example/test", [9; 32]).unwrap();
    let note = store.checkpoint(77).sign(&signer).unwrap();
    let cp = Checkpoint::open(&note, &signer.verifier()).unwrap();
    assert_eq!(cp.root, store.frontier.root());
    store.inclusion(1, 77).verify_checkpoint(&cp).unwrap();
    store.inclusion(77, 77).verify_checkpoint(&cp).unwrap();
}

// ------------------------------------------------ audit_log, check_leaf, TrustState

/// An entry of the fake source: a body, and the leaf hash stored beside it.
#[derive(Clone, Debug)]
struct Row {
    seq: u64,
    body: Vec<u8>,
    leaf: Hash,
}

impl ailedger_log::LoggedEntry for Row {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn body(&self) -> &[u8] {
        &self.body
    }
    fn stored_leaf_hash(&self) -> &Hash {
        &self.leaf
    }
    /// The toy check: the body names the row's seq.
    fn check_body(&self) -> Result<(), String> {
        let want = format!(r#""seq":{},"#, self.seq);
        if self.body.windows(want.len()).any(|w| w == want.as_bytes()) {
            Ok(())
        } else {
            Err("the body names another seq".into())
        }
    }
}

/// A log of `n` entries in memory, served in pages of 3, with checkpoints at `signed`.
struct Fake {
    rows: Vec<Row>,
    tree: Store,
    notes: Vec<String>,
}

fn signer() -> Signer {
    Signer::from_seed("ledger.example/test", [5; 32]).unwrap()
}

impl Fake {
    fn new(n: u64, signed: &[u64]) -> Self {
        let tree = Store::with(n);
        let notes = signed
            .iter()
            .map(|&s| tree.checkpoint(s).sign(&signer()).unwrap())
            .collect();
        let rows = (1..=n)
            .map(|seq| Row {
                seq,
                body: body(seq),
                leaf: leaf_hash(&body(seq)),
            })
            .collect();
        Fake { rows, tree, notes }
    }
}

impl ailedger_log::AuditSource for Fake {
    type Entry = Row;
    type Error = String;

    async fn checkpoints(&self, after: u64) -> Result<Vec<String>, String> {
        let verifier = signer().verifier();
        Ok(self
            .notes
            .iter()
            .filter(|n| Checkpoint::open(n, &verifier).unwrap().size > after)
            .cloned()
            .collect())
    }

    async fn entries(&self, after: u64) -> Result<ailedger_log::EntryPage<Row>, String> {
        let entries: Vec<Row> = self
            .rows
            .iter()
            .filter(|r| r.seq > after)
            .take(3)
            .cloned()
            .collect();
        let tree_leaves = entries
            .iter()
            .filter_map(|r| {
                let id = NodeId::leaf(r.seq - 1);
                self.tree.nodes.get(&id).map(|h| (r.seq, *h))
            })
            .collect();
        Ok(ailedger_log::EntryPage {
            entries,
            tree_leaves,
        })
    }

    async fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof, String> {
        if to > self.tree.frontier.size() {
            return Err(format!("no tree of size {to}"));
        }
        Ok(self.tree.consistency(from, to))
    }
}

/// Polls a future that never waits (the fake source answers at once) to its end.
fn run<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[track_caller]
fn fails_at(fake: &Fake, seq: u64) -> String {
    match run(ailedger_log::audit_log(fake, &signer().verifier(), None)) {
        Err(ailedger_log::VerifyError::Failed(f)) => {
            assert_eq!(f.first_bad_seq, Some(seq), "{f}");
            f.message
        }
        other => panic!("expected a finding at seq {seq}, got {other:?}"),
    }
}

#[test]
fn audit_log_over_a_source() {
    let verifier = signer().verifier();
    // Good: every checkpoint checked, across pages, entries after the last one too.
    let fake = Fake::new(10, &[4, 8]);
    let a = run(ailedger_log::audit_log(&fake, &verifier, None)).unwrap();
    assert_eq!(
        (
            a.summary.size,
            a.summary.checkpoints_verified,
            a.latest.size
        ),
        (10, 2, 8)
    );
    assert_eq!((a.unsigned_entries(), a.previous_size), (2, None));
    assert_eq!(a.latest_note, fake.notes[1]);
    // A seen checkpoint the log extends: checked against the tree and by a proof.
    let seen = fake.tree.checkpoint(6);
    let a = run(ailedger_log::audit_log(&fake, &verifier, Some(&seen))).unwrap();
    assert_eq!(
        (a.previous_size, a.summary.checkpoints_verified),
        (Some(6), 3)
    );

    // Each tamper class names its seq.
    let mut f = Fake::new(10, &[8]);
    f.rows[4].body = body(50);
    let msg = fails_at(&f, 5);
    assert!(msg.contains("the body names another seq"), "{msg}");
    let mut f = Fake::new(10, &[8]);
    f.rows[5].body[3] ^= 0xff;
    let msg = fails_at(&f, 6);
    assert!(msg.contains("leaf hash does not match the body"), "{msg}");
    let mut f = Fake::new(10, &[8]);
    f.rows.remove(3);
    let msg = fails_at(&f, 4);
    assert!(msg.contains("gap"), "{msg}");
    // Body and stored hash rewritten together: the tree's leaf differs.
    let mut f = Fake::new(10, &[8]);
    let forged = br#"{"actor":"x","data":{},"seq":7,"time":"t","v":1}"#.to_vec();
    f.rows[6].leaf = leaf_hash(&forged);
    f.rows[6].body = forged;
    let msg = fails_at(&f, 7);
    assert!(msg.contains("stored leaf hash"), "{msg}");
    // No tree leaf for an entry (entries beyond the tree).
    let mut f = Fake::new(10, &[8]);
    f.rows.push(Row {
        seq: 11,
        body: body(11),
        leaf: leaf_hash(&body(11)),
    });
    let msg = fails_at(&f, 11);
    assert!(msg.contains("the tree has no leaf"), "{msg}");

    // No checkpoint at all, and a checkpoint beyond the entries.
    let f = Fake::new(3, &[]);
    let e = run(ailedger_log::audit_log(&f, &verifier, None)).unwrap_err();
    assert!(e.to_string().contains("no signed checkpoint"), "{e}");
    let mut f = Fake::new(10, &[10]);
    f.rows.truncate(6);
    let e = run(ailedger_log::audit_log(&f, &verifier, None)).unwrap_err();
    assert!(
        e.to_string().contains("before the checkpoint of size 10"),
        "{e}"
    );
    // A source failure is passed through as such.
    let f = Fake::new(10, &[8]);
    let seen = Fake::new(12, &[]).tree.checkpoint(12);
    match run(ailedger_log::check_extends(
        &f,
        Some(&f.tree.checkpoint(6)),
        &seen,
    )) {
        Err(ailedger_log::VerifyError::Source(e)) => assert!(e.contains("12"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn check_leaf_reports_the_first_problem_in_order() {
    let good = Row {
        seq: 2,
        body: body(2),
        leaf: leaf_hash(&body(2)),
    };
    let tree = leaf_hash(&body(2));
    let c = ailedger_log::check_leaf(&good, Some(&tree));
    assert_eq!((c.seq, c.recomputed, c.problem), (2, tree, None));
    // The body check comes first, then the stored hash, then the tree.
    let mut bad = good.clone();
    bad.body = body(3);
    bad.leaf = [0; 32];
    let c = ailedger_log::check_leaf(&bad, None);
    assert!(
        matches!(c.problem, Some(LeafError::Body { seq: 2, .. })),
        "{c:?}"
    );
    assert_eq!(c.recomputed, leaf_hash(&body(3)));
    let mut bad = good.clone();
    bad.leaf = [0; 32];
    let c = ailedger_log::check_leaf(&bad, None);
    assert_eq!(c.problem, Some(LeafError::StoredHash { seq: 2 }));
    let c = ailedger_log::check_leaf(&good, None);
    assert_eq!(c.problem, Some(LeafError::NoTreeLeaf { seq: 2 }));
    let c = ailedger_log::check_leaf(&good, Some(&[1; 32]));
    assert!(
        matches!(c.problem, Some(LeafError::TreeLeaf { seq: 2, tree, .. }) if tree == [1; 32]),
        "{c:?}"
    );
}

#[test]
fn trust_state_pins_once_and_remembers_the_newest_checkpoint() {
    let key = signer().verifier();
    let other = Signer::from_seed("ledger.example/other", [6; 32])
        .unwrap()
        .verifier();
    let mut t = TrustState::default();
    assert_eq!(t.pinned("https://l.example"), Ok(KeyChoice::Unpinned));
    assert!(t.pin("https://l.example", &key));
    // Pinned once: a second key for the same server is not taken.
    assert!(!t.pin("https://l.example", &other));
    assert_eq!(
        t.pinned("https://l.example"),
        Ok(KeyChoice::Pinned(key.clone()))
    );
    assert_eq!(t.pinned("https://m.example"), Ok(KeyChoice::Unpinned));

    let tree = Store::with(9);
    let (c4, c9) = (tree.checkpoint(4), tree.checkpoint(9));
    let (n4, n9) = (c4.sign(&signer()).unwrap(), c9.sign(&signer()).unwrap());
    assert_eq!(t.seen(&key), Ok(None));
    assert!(t.see(&key, &c9, &n9));
    assert_eq!(t.seen(&key), Ok(Some(c9.clone())));
    // An older checkpoint does not replace a newer one.
    assert!(!t.see(&key, &c4, &n4));
    assert_eq!(t.seen(&key), Ok(Some(c9)));
    assert_eq!(t.seen(&other), Ok(None));
    // The state round-trips through JSON (the CLI's state file).
    let back: TrustState = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
    // A damaged pinned key or seen note is an error, never a reason to trust anew.
    let mut broken = t.clone();
    broken
        .servers
        .insert("https://l.example".into(), "not a key".into());
    assert!(broken.pinned("https://l.example").is_err());
    broken.checkpoints.insert(key.to_text(), "garbage".into());
    let e = broken.seen(&key).unwrap_err();
    assert!(
        e.message.contains("the checkpoint in the state file"),
        "{e}"
    );
}
