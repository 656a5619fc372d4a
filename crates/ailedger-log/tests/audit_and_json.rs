//! The audit helper and the proof JSON shapes, end to end with a stored-node map.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::HashMap;

use ailedger_log::{
    Audit, AuditError, Checkpoint, ConsistencyProof, Error, Frontier, Hash, InclusionProof, NodeId,
    Signer, consistency_plan, inclusion_plan, leaf_hash,
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
