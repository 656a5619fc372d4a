//! The contract every [`Store`] backend must honour, as async test functions.
//!
//! A backend's test suite calls [`contract_tests!`](crate::contract_tests) with a
//! function that makes a [`Fixture`]; the macro expands to one test per contract.

// Test support: a failed expectation is a panic, as in any test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, EntryData};
use async_trait::async_trait;
use serde_json::{Map, json};

use crate::{NewEntry, Store, StoreError, StoredEntry, build_index};

/// A fresh, empty database for one test.
#[async_trait]
pub trait Fixture: Send + Sync {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;
    /// Another handle (its own connections, as a second server process would have)
    /// to the same database.
    async fn another(&self) -> Arc<dyn Store>;
    /// A second, empty database of the same backend.
    async fn sibling(&self) -> Arc<dyn Store>;
}

/// Expands to one `#[tokio::test]` per contract, each calling `$make().await` for a
/// fresh [`Fixture`].
#[macro_export]
macro_rules! contract_tests {
    ($make:path) => {
        $crate::contract_tests!(@each $make,
            append_is_gap_free_and_hashes_bodies,
            entry_pages_keep_to_their_byte_budget,
            register_resolve_and_merge,
            provisional_identity_merges_when_a_purl_appears,
            failed_write_records_nothing,
            deploy_sets_uses_and_ends_old_edges,
            as_of_answers_from_history,
            replay_reproduces_derived_state,
            large_appends_write_what_small_ones_do,
            index_tail_matches_full_build,
            concurrent_writers_stay_gap_free,
            log_proofs_match_the_entries,
            log_consistency_across_appends,
            log_checkpoints_are_kept,
            contains_edges_keep_their_paths,
            latest_policy_is_the_one_in_force,
            book_entries_are_the_incident_kinds,
            artifacts_in_bulk_match_one_by_one,
            seq_times_answer_each_seq,
            webhooks_are_added_listed_and_removed,
            deliveries_are_queued_once_with_the_cursor,
            deliveries_are_claimed_once_and_retried,
        );
    };
    (@each $make:path, $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(fx) = $make().await else { return };
                $crate::contract::$name(&fx).await;
            }
        )+
    };
}

fn pkg(name: &str, version: &str) -> ArtifactFact {
    ArtifactFact {
        id: format!("pkg:pypi/{name}@{version}"),
        kind: ArtifactKind::Package,
        name: Some(name.into()),
        version: Some(version.into()),
        aliases: vec![],
        attrs: Map::new(),
    }
}

fn named(kind: ArtifactKind, name: &str, version: &str) -> ArtifactFact {
    ArtifactFact {
        id: format!("{kind}:{name}@{version}"),
        kind,
        name: Some(name.into()),
        version: Some(version.into()),
        aliases: vec![],
        attrs: Map::new(),
    }
}

fn edge(from: &str, edge: EdgeKind, to: &str) -> EdgeFact {
    EdgeFact::new(from, edge, to)
}

fn entry(data: EntryData) -> NewEntry {
    NewEntry {
        actor: "contract@test".into(),
        data,
    }
}

fn register(artifacts: Vec<ArtifactFact>, edges: Vec<EdgeFact>) -> NewEntry {
    entry(EntryData::Register { artifacts, edges })
}

fn deploy(name: &str, uses: &[&str]) -> NewEntry {
    entry(EntryData::Deploy {
        deployment: ArtifactFact {
            id: format!("deployment:{name}"),
            kind: ArtifactKind::Deployment,
            name: Some(name.into()),
            version: None,
            aliases: vec![],
            attrs: Map::new(),
        },
        uses: uses.iter().map(|s| s.to_string()).collect(),
    })
}

/// A small supply chain: two packages, a model depending on one, a fine-tune, a deployment.
async fn seed(store: &dyn Store) {
    store
        .append(vec![
            register(
                vec![pkg("urllib3", "2.0.7"), pkg("requests", "2.31.0")],
                vec![edge(
                    "pkg:pypi/requests@2.31.0",
                    EdgeKind::DependsOn,
                    "pkg:pypi/urllib3@2.0.7",
                )],
            ),
            register(
                vec![named(ArtifactKind::Model, "base", "1")],
                vec![edge(
                    "model:base@1",
                    EdgeKind::DependsOn,
                    "pkg:pypi/requests@2.31.0",
                )],
            ),
            register(
                vec![named(ArtifactKind::Model, "ft", "1")],
                vec![edge("model:ft@1", EdgeKind::DerivedFrom, "model:base@1")],
            ),
            deploy("prod/chat", &["model:ft@1"]),
        ])
        .await
        .unwrap();
}

pub async fn append_is_gap_free_and_hashes_bodies(fx: &dyn Fixture) {
    let store = fx.store();
    assert_eq!(store.head().await.unwrap(), 0);
    let a = store
        .append(vec![register(vec![pkg("numpy", "1.26.4")], vec![])])
        .await
        .unwrap();
    let b = store
        .append(vec![
            register(vec![pkg("torch", "2.4.1")], vec![]),
            register(vec![pkg("six", "1.16.0")], vec![]),
        ])
        .await
        .unwrap();
    let seqs: Vec<u64> = a.iter().chain(&b).map(|x| x.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    let entries = store.entries(0, 100).await.unwrap();
    assert_eq!(entries.len(), 3);
    for (e, appended) in entries.iter().zip(a.iter().chain(&b)) {
        let decoded = e.decode().unwrap();
        assert_eq!(e.leaf_hash, appended.leaf_hash);
        assert_eq!(e.leaf_hash, ailedger_core::canonical::leaf_hash(&e.body));
        assert_eq!(decoded.actor, "contract@test");
        assert_eq!(e.kind, "register");
    }
    assert!(
        entries.windows(2).all(|w| w[0].time_us <= w[1].time_us),
        "times are monotonic"
    );
    assert_eq!(store.entries(2, 100).await.unwrap().len(), 1);
    assert_eq!(store.head().await.unwrap(), 3);
}

/// A page of entries holds the bodies within its budget, leaves out (and sizes) each
/// body above the inline limit, and ends before the body that would pass the page
/// budget — but always holds one entry.
pub async fn entry_pages_keep_to_their_byte_budget(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let all = store.entries(0, 100).await.unwrap();
    assert_eq!(all.len(), 4);
    let sizes: Vec<u64> = all.iter().map(|e| e.body.len() as u64).collect();
    let unlimited = crate::PageBudget {
        inline_max: u64::MAX,
        page_bytes: u64::MAX,
    };
    let page = store.entries_page(0, 100, unlimited).await.unwrap();
    assert_eq!(
        page.iter().map(|p| p.entry.clone()).collect::<Vec<_>>(),
        all
    );
    assert!(page.iter().all(|p| p.omitted.is_none()));
    assert_eq!(store.entries_page(1, 2, unlimited).await.unwrap().len(), 2);

    // The largest body is left out, with its size; the others are whole.
    let largest = *sizes.iter().max().unwrap();
    let inline_max = largest - 1;
    let page = store
        .entries_page(
            0,
            100,
            crate::PageBudget {
                inline_max,
                page_bytes: u64::MAX,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 4);
    for (p, full) in page.iter().zip(&all) {
        if full.body.len() as u64 > inline_max {
            assert_eq!(p.omitted, Some(full.body.len() as u64));
            assert!(p.entry.body.is_empty());
            assert_eq!(p.entry.leaf_hash, full.leaf_hash);
            assert_eq!(p.entry.seq, full.seq);
        } else {
            assert_eq!(p.omitted, None);
            assert_eq!(&p.entry, full);
        }
    }

    // The page ends before the body that would pass the page budget…
    let two = sizes[0] + sizes[1];
    let page = store
        .entries_page(
            0,
            100,
            crate::PageBudget {
                inline_max: u64::MAX,
                page_bytes: two,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    // …and holds at least one entry, whatever the budget.
    let page = store
        .entries_page(
            2,
            100,
            crate::PageBudget {
                inline_max: u64::MAX,
                page_bytes: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].entry, all[2]);
    assert!(
        store
            .entries_page(4, 100, unlimited)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn register_resolve_and_merge(fx: &dyn Fixture) {
    let store = fx.store();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let mut torch = pkg("torch", "2.4.1");
    torch.aliases = vec![digest.clone()];
    torch.attrs = Map::from_iter([("source".to_string(), json!("pypi"))]);
    store
        .append(vec![register(vec![torch.clone()], vec![])])
        .await
        .unwrap();
    // The same package again, with a new attribute: one artifact, merged attributes.
    let mut again = pkg("torch", "2.4.1");
    again.attrs = Map::from_iter([("license".to_string(), json!("BSD-3-Clause"))]);
    store
        .append(vec![register(vec![again], vec![])])
        .await
        .unwrap();
    assert_eq!(
        store
            .resolve("pkg:pypi/torch@2.4.1")
            .await
            .unwrap()
            .as_deref(),
        Some("pkg:pypi/torch@2.4.1")
    );
    assert_eq!(
        store.resolve(&digest).await.unwrap().as_deref(),
        Some("pkg:pypi/torch@2.4.1")
    );
    assert_eq!(store.resolve("pkg:pypi/torch@9").await.unwrap(), None);
    let rec = store
        .artifact("pkg:pypi/torch@2.4.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.kind, ArtifactKind::Package);
    assert_eq!(rec.attrs.get("source"), Some(&json!("pypi")));
    assert_eq!(rec.attrs.get("license"), Some(&json!("BSD-3-Clause")));
    assert_eq!((rec.first_seq, rec.last_seq), (1, 2));
    assert_eq!(
        rec.aliases,
        vec!["pkg:pypi/torch@2.4.1".to_string(), digest.clone()]
    );
    // An alias another artifact already holds is not taken over, and the note says so.
    let mut other = pkg("torchvision", "0.19.1");
    other.aliases = vec![digest.clone()];
    let res = store
        .append(vec![register(vec![other], vec![])])
        .await
        .unwrap();
    assert!(
        res[0].notes[0].contains("already names pkg:pypi/torch@2.4.1"),
        "{:?}",
        res[0].notes
    );
    assert_eq!(
        store.resolve(&digest).await.unwrap().as_deref(),
        Some("pkg:pypi/torch@2.4.1")
    );
    // A kind clash is refused.
    let mut clash = named(ArtifactKind::Model, "x", "1");
    clash.id = digest.clone();
    let err = store
        .append(vec![register(vec![clash], vec![])])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let pre = store
        .aliases_with_prefix("pkg:pypi/torch", 10)
        .await
        .unwrap();
    assert_eq!(pre.len(), 2, "{pre:?}");
}

pub async fn failed_write_records_nothing(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let before = store.dump_derived().await.unwrap();
    let head = store.head().await.unwrap();
    // The second entry of the batch links to an unknown artifact: the whole batch fails.
    let err = store
        .append(vec![
            register(vec![pkg("idna", "3.7")], vec![]),
            entry(EntryData::Link {
                edges: vec![edge("model:base@1", EdgeKind::DependsOn, "pkg:pypi/nope@1")],
            }),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownArtifact(id) if id == "pkg:pypi/nope@1"),
        "{err}"
    );
    // A malformed entry fails validation.
    let bad = store
        .append(vec![entry(EntryData::Link {
            edges: vec![edge("model:base@1", EdgeKind::DependsOn, "model:base@1")],
        })])
        .await
        .unwrap_err();
    assert!(matches!(bad, StoreError::Invalid(_)), "{bad}");
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(store.dump_derived().await.unwrap(), before);
    assert_eq!(store.resolve("pkg:pypi/idna@3.7").await.unwrap(), None);
    // And the sequence continues without a gap.
    let ok = store
        .append(vec![register(vec![pkg("idna", "3.7")], vec![])])
        .await
        .unwrap();
    assert_eq!(ok[0].seq, head + 1);
}

pub async fn deploy_sets_uses_and_ends_old_edges(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    // prod/chat moves from the fine-tune to the base model (seq 5).
    store
        .append(vec![deploy("prod/chat", &["model:base@1"])])
        .await
        .unwrap();
    let edges = store.edges_of("deployment:prod/chat").await.unwrap();
    let mut rendered: Vec<String> = edges
        .iter()
        .map(|e| format!("{} {} {} {}..{:?}", e.from, e.edge, e.to, e.since, e.until))
        .collect();
    rendered.sort();
    assert_eq!(
        rendered,
        [
            "deployment:prod/chat deploys model:base@1 5..None",
            "deployment:prod/chat deploys model:ft@1 4..Some(5)",
        ]
    );
    // Deploying the same set again changes no edge.
    store
        .append(vec![deploy("prod/chat", &["model:base@1"])])
        .await
        .unwrap();
    assert_eq!(
        store.edges_of("deployment:prod/chat").await.unwrap().len(),
        2
    );
    // Unlink ends an edge; linking again starts a new one.
    store
        .append(vec![entry(EntryData::Unlink {
            edges: vec![edge("model:ft@1", EdgeKind::DerivedFrom, "model:base@1")],
        })])
        .await
        .unwrap();
    store
        .append(vec![entry(EntryData::Link {
            edges: vec![edge("model:ft@1", EdgeKind::DerivedFrom, "model:base@1")],
        })])
        .await
        .unwrap();
    let ft: Vec<_> = store
        .edges_of("model:ft@1")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.edge == EdgeKind::DerivedFrom)
        .map(|e| (e.since, e.until))
        .collect();
    assert_eq!(ft.len(), 2);
    assert!(
        ft.contains(&(3, Some(7))) && ft.contains(&(8, None)),
        "{ft:?}"
    );
}

pub async fn as_of_answers_from_history(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let t4 = store.entries(3, 1).await.unwrap()[0].time_us;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store
        .append(vec![deploy("prod/chat", &["pkg:pypi/requests@2.31.0"])])
        .await
        .unwrap();
    assert_eq!(store.seq_at(t4).await.unwrap(), 4);
    assert_eq!(store.seq_at(0).await.unwrap(), 0);
    let index = build_index(store.as_ref()).await.unwrap();
    let ids = |hits: Vec<ailedger_core::Hit<'_>>| {
        hits.into_iter()
            .map(|h| h.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(index.impact("model:base@1", None).unwrap()),
        ["model:ft@1"]
    );
    assert_eq!(
        ids(index.impact("model:base@1", Some(4)).unwrap()),
        ["model:ft@1", "deployment:prod/chat"]
    );
    let deps = index.deps("deployment:prod/chat", Some(4)).unwrap();
    assert_eq!(deps.len(), 4);
    assert_eq!(deps.last().unwrap().depth, 4);
}

/// Replays every entry of `store` into a fresh sibling database and checks that the
/// entries and every derived row come out identical. Returns the decoded entries.
async fn replays_identically(fx: &dyn Fixture, store: &dyn Store) -> Vec<ailedger_core::Entry> {
    let entries: Vec<_> = store
        .entries(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.decode().unwrap())
        .collect();
    let fresh = fx.sibling().await;
    let replayed = crate::replay::replay_and_compare(store, fresh.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replayed, store.head().await.unwrap());
    assert_eq!(
        fresh.entries(0, 1000).await.unwrap(),
        store.entries(0, 1000).await.unwrap()
    );
    entries
}

pub async fn replay_reproduces_derived_state(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let mut torch = pkg("torch", "2.4.1");
    torch.aliases = vec![format!("sha256:{}", "cd".repeat(32))];
    torch.attrs = Map::from_iter([("k".to_string(), json!({"nested": [1, 2.5, "x"]}))]);
    let mut contains = edge("model:base@1", EdgeKind::Contains, "pkg:pypi/torch@2.4.1");
    contains.paths = vec!["vendor/torch.whl".into()];
    store
        .append(vec![register(vec![torch], vec![contains])])
        .await
        .unwrap();
    store
        .append(vec![deploy(
            "prod/chat",
            &["model:base@1", "pkg:pypi/torch@2.4.1"],
        )])
        .await
        .unwrap();
    store
        .append(vec![deploy("dev/chat", &["model:ft@1"])])
        .await
        .unwrap();
    // Tokens: granted, revoked, granted again under the same name.
    let grant = |n: u8| EntryData::Token {
        token: ailedger_core::token::TokenGrant {
            name: "ci".into(),
            scope: ailedger_core::token::Scope::Write,
            hash: ailedger_core::Sha256Digest([n; 32]),
            expires: Some("2030-01-01T00:00:00.000000Z".into()),
        },
    };
    for data in [
        grant(1),
        EntryData::TokenRevoke { name: "ci".into() },
        grant(2),
    ] {
        store
            .append(vec![NewEntry {
                actor: "admin".into(),
                data,
            }])
            .await
            .unwrap();
    }
    let tokens = store.tokens().await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0].hash,
        ailedger_core::Sha256Digest([2; 32]).to_string()
    );
    assert!(tokens[0].revoked_seq.is_none() && tokens[0].expires_us.is_some());
    // Revoking what is not active, or granting an active name, records nothing.
    let head = store.head().await.unwrap();
    for (data, want) in [
        (
            EntryData::TokenRevoke {
                name: "nobody".into(),
            },
            "no active token",
        ),
        (grant(3), "is active"),
    ] {
        let e = store
            .append(vec![NewEntry {
                actor: "admin".into(),
                data,
            }])
            .await
            .unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    assert_eq!(store.head().await.unwrap(), head);
    // A document entry with its raw bytes.
    let bytes = br#"{"bomFormat":"CycloneDX"}"#.to_vec();
    let digest = ailedger_core::Sha256Digest::of(&bytes);
    let doc = ArtifactFact {
        id: digest.to_string(),
        kind: ArtifactKind::Sbom,
        name: Some("bom".into()),
        version: None,
        aliases: vec![],
        attrs: Map::new(),
    };
    let data = EntryData::Document {
        document: ailedger_core::DocumentInfo {
            digest,
            format: "CycloneDX 1.6".into(),
            size: bytes.len() as u64,
            name: None,
        },
        artifacts: vec![doc, pkg("urllib3", "2.0.7"), pkg("idna", "3.7")],
        edges: vec![edge(
            &digest.to_string(),
            EdgeKind::Describes,
            "pkg:pypi/urllib3@2.0.7",
        )],
        warnings: vec!["/x: a warning".into()],
    };
    let appended = store
        .append_indexed(
            vec![entry(data)],
            Some(crate::Blob {
                digest,
                format: "CycloneDX 1.6".into(),
                bytes: bytes.clone(),
            }),
        )
        .await
        .unwrap()
        .0
        .remove(0);
    assert_eq!(
        appended.created, 2,
        "the document and idna are new, urllib3 merged"
    );
    assert_eq!(
        store.document_seq(&digest).await.unwrap(),
        Some(appended.seq)
    );
    assert_eq!(
        store.blob(&digest).await.unwrap(),
        Some(("CycloneDX 1.6".to_string(), bytes))
    );
    let entries = replays_identically(fx, store.as_ref()).await;
    // A replay that skips a seq is refused.
    let gap = fx.sibling().await;
    let err = gap.replay(entries[1..].to_vec()).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { seq: 2, .. }), "{err}");
}

/// An append of very many items writes its entry rows first and frees them before
/// working out the derived rows: the rows written are the same, and a failure in the
/// derived rows still records nothing.
pub async fn large_appends_write_what_small_ones_do(fx: &dyn Fixture) {
    let data = |n: usize| {
        let artifacts: Vec<ArtifactFact> = (0..n).map(|i| pkg(&format!("p{i}"), "1")).collect();
        let edges = (1..n)
            .map(|i| {
                edge(
                    &format!("pkg:pypi/p{i}@1"),
                    EdgeKind::DependsOn,
                    &format!("pkg:pypi/p{}@1", i / 2),
                )
            })
            .collect();
        vec![
            register(artifacts, edges),
            deploy("prod/x", &["pkg:pypi/p7@1"]),
        ]
    };
    let small = fx.store();
    small.append(data(40)).await.unwrap();
    let large = fx.sibling().await;
    crate::set_large_append_items(10);
    let written = large.append(data(40)).await;
    // A large append whose derived rows fail (an edge to nothing) records nothing.
    let mut bad = data(40);
    if let EntryData::Register { edges, .. } = &mut bad[0].data {
        edges.push(edge(
            "pkg:pypi/p1@1",
            EdgeKind::DependsOn,
            "pkg:pypi/nowhere@1",
        ));
    }
    let failed = large.append(bad).await;
    crate::set_large_append_items(200_000);
    assert_eq!(written.unwrap().len(), 2);
    assert!(failed.is_err());
    assert_eq!(large.head().await.unwrap(), 2);
    assert_eq!(
        large.dump_derived().await.unwrap(),
        small.dump_derived().await.unwrap()
    );
    let decoded = |s: Vec<StoredEntry>| -> Vec<EntryData> {
        s.iter().map(|e| e.decode().unwrap().data).collect()
    };
    assert_eq!(
        decoded(large.entries(0, 10).await.unwrap()),
        decoded(small.entries(0, 10).await.unwrap())
    );
    replays_identically(fx, large.as_ref()).await;
}

/// A component first known only by name and version (`package:left-pad@1.3.0`) is
/// merged into the purl-identified package once a fact claims that name as an alias:
/// refs resolve to the purl, edges move (history kept), later mentions of the name land
/// on the purl, and a replay and a tailing index agree.
pub async fn provisional_identity_merges_when_a_purl_appears(fx: &dyn Fixture) {
    let store = fx.store();
    let mut index = build_index(store.as_ref()).await.unwrap();
    let name = "package:left-pad@1.3.0";
    let purl = "pkg:npm/left-pad@1.3.0";
    let mut provisional = named(ArtifactKind::Package, "left-pad", "1.3.0");
    provisional.attrs = Map::from_iter([("license".to_string(), json!("WTFPL"))]);
    store
        .append(vec![register(
            vec![
                provisional,
                named(ArtifactKind::Package, "app", "1"),
                named(ArtifactKind::Package, "util", "2"),
            ],
            vec![
                edge("package:app@1", EdgeKind::DependsOn, name),
                edge(name, EdgeKind::DependsOn, "package:util@2"),
            ],
        )])
        .await
        .unwrap();
    store
        .append(vec![deploy("prod/web", &[name])])
        .await
        .unwrap();
    // The purl arrives, naming the provisional identity as an alias.
    let mut real = pkg("left-pad", "1.3.0");
    real.id = purl.into();
    real.aliases = vec![name.into()];
    let appended = store
        .append(vec![register(vec![real], vec![])])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(appended.created, 1);
    assert!(
        appended.notes.iter().any(|n| n.contains("merged into")),
        "{:?}",
        appended.notes
    );
    let merge_seq = appended.seq;
    assert_eq!(store.resolve(name).await.unwrap().as_deref(), Some(purl));
    let old = store.artifact(name).await.unwrap().unwrap();
    assert_eq!(old.merged_into.as_deref(), Some(purl));
    let new = store.artifact(purl).await.unwrap().unwrap();
    assert_eq!(new.attrs.get("license"), Some(&json!("WTFPL")));
    assert!(new.aliases.contains(&name.to_string()), "{:?}", new.aliases);
    let active = |rows: &[ailedger_core::graph::EdgeRow]| {
        let mut v: Vec<String> = rows
            .iter()
            .filter(|r| r.until.is_none())
            .map(|r| format!("{} {} {}", r.from, r.edge, r.to))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        active(&store.edges_of(purl).await.unwrap()),
        [
            "deployment:prod/web deploys pkg:npm/left-pad@1.3.0".to_string(),
            "package:app@1 depends-on pkg:npm/left-pad@1.3.0".into(),
            "pkg:npm/left-pad@1.3.0 depends-on package:util@2".into(),
        ]
    );
    let old_edges = store.edges_of(name).await.unwrap();
    assert_eq!(old_edges.len(), 3);
    assert!(old_edges.iter().all(|r| r.until == Some(merge_seq)));

    // Later mentions of the name (a fact and an edge) land on the purl.
    let later = store
        .append(vec![register(
            vec![named(ArtifactKind::Package, "left-pad", "1.3.0")],
            vec![edge(name, EdgeKind::DependsOn, "package:app@1")],
        )])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(later.created, 0);
    assert!(store.edges_of(name).await.unwrap().len() == 3);
    assert!(
        active(&store.edges_of(purl).await.unwrap())
            .contains(&"pkg:npm/left-pad@1.3.0 depends-on package:app@1".to_string())
    );
    // A deployment naming the old ref uses the purl.
    store
        .append(vec![deploy("prod/web", &[name, "package:util@2"])])
        .await
        .unwrap();
    assert!(
        active(&store.edges_of(purl).await.unwrap())
            .contains(&"deployment:prod/web deploys pkg:npm/left-pad@1.3.0".to_string())
    );

    // The tailing index and a full build agree; impact of the purl reaches the
    // dependents the provisional artifact had.
    let head = store.load_into(&mut index, 0).await.unwrap();
    index.set_head(head);
    let full = build_index(store.as_ref()).await.unwrap();
    for at in [None, Some(merge_seq - 1), Some(merge_seq)] {
        assert_eq!(index.impact(purl, at), full.impact(purl, at), "{at:?}");
        assert_eq!(index.impact(name, at), full.impact(name, at), "{at:?}");
    }
    let hits: Vec<&str> = full
        .impact(purl, Some(merge_seq))
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert!(hits.contains(&"deployment:prod/web"), "{hits:?}");
    assert!(hits.contains(&"package:app@1"), "{hits:?}");
    let before: Vec<&str> = full
        .impact(name, Some(merge_seq - 1))
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert!(before.contains(&"deployment:prod/web"), "{before:?}");

    // Replaying every entry reproduces the merged state.
    replays_identically(fx, store.as_ref()).await;
}

pub async fn index_tail_matches_full_build(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let mut index = build_index(store.as_ref()).await.unwrap();
    // A second handle (as a second server would be) writes; the first index tails it.
    let other = fx.another().await;
    other
        .append(vec![deploy("prod/chat", &["model:base@1"])])
        .await
        .unwrap();
    other
        .append(vec![register(
            vec![named(ArtifactKind::Dataset, "wiki", "1")],
            vec![],
        )])
        .await
        .unwrap();
    other
        .append(vec![entry(EntryData::Link {
            edges: vec![edge("model:base@1", EdgeKind::TrainedOn, "dataset:wiki@1")],
        })])
        .await
        .unwrap();
    let after = index.head();
    let head = store.load_into(&mut index, after).await.unwrap();
    index.set_head(head);
    assert_eq!(head, 7);
    let full = build_index(store.as_ref()).await.unwrap();
    for id in ["dataset:wiki@1", "pkg:pypi/urllib3@2.0.7", "model:ft@1"] {
        for at in [None, Some(4), Some(5), Some(6)] {
            assert_eq!(index.impact(id, at), full.impact(id, at), "{id} at {at:?}");
        }
    }
    assert_eq!(index.edge_count(), full.edge_count());
    let hits = index.impact("dataset:wiki@1", None).unwrap();
    assert!(
        hits.iter()
            .any(|h| h.id == "deployment:prod/chat" && h.depth == 2)
    );
}

pub async fn concurrent_writers_stay_gap_free(fx: &dyn Fixture) {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 25;
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = if w == 0 {
            fx.store()
        } else {
            fx.another().await
        };
        handles.push(tokio::spawn(async move {
            for i in 0..PER_WRITER {
                let batch = vec![register(vec![pkg(&format!("w{w}-p{i}"), "1.0")], vec![])];
                store.append(batch).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let store = fx.store();
    let entries = store.entries(0, 10_000).await.unwrap();
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    let want: Vec<u64> = (1..=(WRITERS * PER_WRITER) as u64).collect();
    assert_eq!(seqs, want);
    for e in &entries {
        e.decode().unwrap();
    }
    assert!(entries.windows(2).all(|w| w[0].time_us <= w[1].time_us));
    assert_eq!(
        store.counts().await.unwrap().artifacts,
        (WRITERS * PER_WRITER) as u64
    );
}

/// The leaf hashes of every stored entry, recomputed from the bodies.
async fn body_leaves(store: &dyn Store) -> Vec<ailedger_log::Hash> {
    let entries = store.entries(0, 100_000).await.unwrap();
    entries
        .iter()
        .map(|e| ailedger_log::leaf_hash(&e.body))
        .collect()
}

pub async fn log_proofs_match_the_entries(fx: &dyn Fixture) {
    use ailedger_log::{inclusion_proof_from_leaves, root_of};
    let store = fx.store();
    let mut n = 0;
    for batch in [1usize, 2, 5, 8, 21] {
        let entries = (0..batch)
            .map(|_| {
                n += 1;
                register(vec![pkg(&format!("p{n}"), "1")], vec![])
            })
            .collect();
        store.append(entries).await.unwrap();
    }
    let leaves = body_leaves(store.as_ref()).await;
    assert_eq!(leaves.len(), 37);
    assert_eq!(store.tree_size().await.unwrap(), 37);
    let stored: Vec<_> = store.log_leaves(0, 1000).await.unwrap();
    assert_eq!(
        stored.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=37).collect::<Vec<u64>>()
    );
    assert!(
        stored.iter().zip(&leaves).all(|((_, a), b)| a == b),
        "stored leaves are the body hashes"
    );
    assert_eq!(store.log_leaves(35, 10).await.unwrap().len(), 2);
    for size in [0u64, 1, 2, 3, 4, 7, 8, 9, 16, 31, 32, 33, 36, 37] {
        let root = store.root_at(size).await.unwrap();
        assert_eq!(root, root_of(&leaves[..size as usize]), "root at {size}");
        for seq in [1, 2, size / 2, size.saturating_sub(1), size] {
            if seq == 0 || seq > size {
                continue;
            }
            let proof = store.inclusion_proof(seq, size).await.unwrap();
            assert_eq!(proof.leaf_hash, leaves[seq as usize - 1]);
            assert_eq!(
                proof.hashes,
                inclusion_proof_from_leaves(seq - 1, &leaves[..size as usize]).unwrap(),
                "inclusion of {seq} at {size}"
            );
            proof.verify(&root).unwrap();
            proof
                .verify_body(&store.entries(seq - 1, 1).await.unwrap()[0].body, &root)
                .unwrap();
        }
    }
    // Bad requests are errors, not panics or wrong answers.
    assert!(matches!(
        store.root_at(38).await,
        Err(StoreError::BeyondHead { size: 38, head: 37 })
    ));
    assert!(matches!(
        store.inclusion_proof(0, 5).await,
        Err(StoreError::Log(_))
    ));
    assert!(matches!(
        store.inclusion_proof(6, 5).await,
        Err(StoreError::Log(_))
    ));
    assert!(matches!(
        store.consistency_proof(6, 5).await,
        Err(StoreError::Log(_))
    ));
    assert!(matches!(
        store.consistency_proof(1, 40).await,
        Err(StoreError::BeyondHead { .. })
    ));
}

pub async fn log_consistency_across_appends(fx: &dyn Fixture) {
    use ailedger_log::root_of;
    let store = fx.store();
    let other = fx.another().await;
    let mut sizes = vec![0u64];
    for i in 0..12u64 {
        // Alternate writers, so each one's cached frontier goes stale.
        let writer = if i % 3 == 2 { &other } else { &store };
        let batch = (0..=(i % 4))
            .map(|j| register(vec![pkg(&format!("c{i}-{j}"), "1")], vec![]))
            .collect();
        writer.append(batch).await.unwrap();
        if i == 5 {
            // A failed append must leave the tree as it was.
            let bad = entry(EntryData::Link {
                edges: vec![edge(
                    "pkg:pypi/c0-0@1",
                    EdgeKind::DependsOn,
                    "pkg:pypi/nope@1",
                )],
            });
            store
                .append(vec![register(vec![pkg("z", "1")], vec![]), bad])
                .await
                .unwrap_err();
        }
        sizes.push(store.tree_size().await.unwrap());
    }
    let leaves = body_leaves(store.as_ref()).await;
    assert_eq!(*sizes.last().unwrap(), leaves.len() as u64);
    let mut roots = Vec::new();
    for &s in &sizes {
        let root = store.root_at(s).await.unwrap();
        assert_eq!(root, root_of(&leaves[..s as usize]), "root at {s}");
        assert_eq!(
            other.root_at(s).await.unwrap(),
            root,
            "both handles agree at {s}"
        );
        roots.push(root);
    }
    for (i, &a) in sizes.iter().enumerate() {
        for (j, &b) in sizes.iter().enumerate().skip(i) {
            let proof = store.consistency_proof(a, b).await.unwrap();
            proof
                .verify(&roots[i], &roots[j])
                .unwrap_or_else(|e| panic!("{a} -> {b}: {e}"));
            if a > 0 && a < b && roots[i] != roots[j] {
                assert!(
                    proof.verify(&roots[j], &roots[i]).is_err(),
                    "swapped roots must not verify"
                );
            }
        }
    }
    // A replay builds the same tree.
    let fresh = fx.sibling().await;
    let entries: Vec<_> = store
        .entries(0, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.decode().unwrap())
        .collect();
    let (head, tail) = entries.split_at(7);
    fresh.replay(head.to_vec()).await.unwrap();
    fresh.replay(tail.to_vec()).await.unwrap();
    assert_eq!(
        fresh.root_at(leaves.len() as u64).await.unwrap(),
        *roots.last().unwrap()
    );
}

pub async fn log_checkpoints_are_kept(fx: &dyn Fixture) {
    use crate::log::SavedCheckpoint;
    let store = fx.store();
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    let cp = |size: u64, note: &str| SavedCheckpoint {
        size,
        root: [size as u8; 32],
        note: note.into(),
        key: "k+00000000+AQ==".into(),
        time_us: 7,
    };
    assert!(store.save_checkpoint(&cp(3, "three")).await.unwrap());
    assert!(store.save_checkpoint(&cp(9, "nine")).await.unwrap());
    assert!(
        !store
            .save_checkpoint(&cp(3, "another three"))
            .await
            .unwrap(),
        "the first note of a size is kept"
    );
    assert_eq!(
        store.latest_checkpoint().await.unwrap(),
        Some(cp(9, "nine"))
    );
    assert_eq!(
        store.checkpoints(0, 10).await.unwrap(),
        vec![cp(3, "three"), cp(9, "nine")]
    );
    assert_eq!(store.checkpoints(3, 10).await.unwrap(), vec![cp(9, "nine")]);
    assert_eq!(
        fx.another()
            .await
            .latest_checkpoint()
            .await
            .unwrap()
            .map(|c| c.size),
        Some(9)
    );
}

/// A `contains` edge's paths are stored with it and come back from every read: the
/// artifact's edges, a full index build, the changes a write returns, and a tail.
pub async fn contains_edges_keep_their_paths(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let head = store.head().await.unwrap();
    let file = |n: u8| ArtifactFact {
        id: format!("sha256:{}", format!("{n:02x}").repeat(32)),
        kind: ArtifactKind::File,
        name: None,
        version: None,
        aliases: vec![],
        attrs: Map::new(),
    };
    let (a, b) = (file(1), file(2));
    let mut with_paths = edge("model:base@1", EdgeKind::Contains, &a.id);
    with_paths.paths = vec!["a.bin".into(), "w/é \"q\".bin".into()];
    let without = edge("model:base@1", EdgeKind::Contains, &b.id);
    let (_, changes) = store
        .append_indexed(
            vec![register(
                vec![a.clone(), b.clone()],
                vec![with_paths.clone(), without],
            )],
            None,
        )
        .await
        .unwrap();
    let want = |id: &str| -> Vec<String> {
        if id == a.id {
            with_paths.paths.clone()
        } else {
            vec![]
        }
    };
    for row in &changes.edges {
        assert_eq!(row.paths, want(&row.to), "changes of the write: {row:?}");
    }
    let edges = store.edges_of("model:base@1").await.unwrap();
    let contains: Vec<_> = edges
        .iter()
        .filter(|e| e.edge == EdgeKind::Contains)
        .collect();
    assert_eq!(contains.len(), 2);
    for row in contains {
        assert_eq!(row.paths, want(&row.to), "edges_of: {row:?}");
    }
    let index = build_index(store.as_ref()).await.unwrap();
    let mut tail = ailedger_core::graph::GraphChanges::default();
    fx.another().await.load_into(&mut tail, head).await.unwrap();
    let tailed: Vec<_> = tail
        .edges
        .iter()
        .filter(|e| e.to.as_ref() == a.id)
        .collect();
    assert_eq!(tailed.len(), 1);
    assert_eq!(tailed[0].paths, with_paths.paths, "tailed");
    let got: Vec<&str> = index
        .edge_paths("model:base@1", &a.id)
        .iter()
        .map(|p| &**p)
        .collect();
    assert_eq!(got, ["a.bin", "w/é \"q\".bin"], "full build");
    assert!(index.edge_paths("model:base@1", &b.id).is_empty());
}

/// Incidents, containment decisions and advisories are read back by kind, in seq
/// order, and one that breaks an entry rule records nothing.
pub async fn book_entries_are_the_incident_kinds(fx: &dyn Fixture) {
    use ailedger_core::incident::{Advisory, Containment, IncidentEvent, Target};
    let store = fx.store();
    let open = |reason: &str| {
        entry(EntryData::Incident {
            incident: IncidentEvent::Open {
                target: Target::Package {
                    purl: "pkg:pypi/ultralytics".into(),
                    range: Some("vers:pypi/>=8.3.41|<=8.3.42".into()),
                },
                reason: reason.into(),
                severity: ailedger_core::Severity::Critical,
                evidence: vec![],
                advisory: None,
            },
        })
    };
    let first = store.append(vec![open("trojaned wheels")]).await.unwrap()[0].seq;
    seed(store.as_ref()).await;
    let block = entry(EntryData::Containment {
        containment: Containment::Block {
            target: Target::Artifact {
                id: format!("sha256:{}", "ab".repeat(32)),
            },
            reason: "backdoored checkpoint".into(),
            incident: Some(first),
        },
    });
    let advisory = entry(EntryData::Advisory {
        advisories: vec![Advisory {
            id: "MAL-2026-1".into(),
            digest: ailedger_core::Sha256Digest::of(b"{}"),
            modified: None,
            withdrawn: None,
            summary: None,
            aliases: vec![],
            affected: vec![],
        }],
    });
    let seqs: Vec<u64> = store
        .append(vec![block, advisory])
        .await
        .unwrap()
        .iter()
        .map(|a| a.seq)
        .collect();
    let read = |after: u64, limit: u32| {
        let store = store.clone();
        async move {
            store
                .book_entries(after, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.seq, e.kind))
                .collect::<Vec<_>>()
        }
    };
    let all = read(0, 100).await;
    assert_eq!(
        all,
        vec![
            (first, "incident".to_string()),
            (seqs[0], "containment".to_string()),
            (seqs[1], "advisory".to_string()),
        ]
    );
    assert_eq!(read(first, 100).await, all[1..].to_vec());
    assert_eq!(read(0, 1).await, all[..1].to_vec());
    // Each body decodes back to what was written.
    let back = store.book_entries(0, 100).await.unwrap();
    assert!(matches!(
        back[0].decode().unwrap().data,
        EntryData::Incident {
            incident: IncidentEvent::Open { .. }
        }
    ));
    // An empty reason breaks the entry rules: nothing is recorded.
    let head = store.head().await.unwrap();
    assert!(store.append(vec![open(" ")]).await.is_err());
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(read(0, 100).await, all);
}

/// The trust policy in force at a seq is the last `policy` entry at or before it.
pub async fn latest_policy_is_the_one_in_force(fx: &dyn Fixture) {
    let store = fx.store();
    assert!(store.latest_policy(None).await.unwrap().is_none());
    let policy = |text: &str| {
        entry(EntryData::Policy {
            policy: ailedger_core::PolicyRecord {
                digest: ailedger_core::Sha256Digest::of(text.as_bytes()),
                format: "toml".into(),
                text: text.into(),
                files: Default::default(),
            },
        })
    };
    let first = store.append(vec![policy("version = 1\n")]).await.unwrap()[0].seq;
    seed(store.as_ref()).await;
    let second = store
        .append(vec![policy("version = 1\nunsigned = \"refuse\"\n")])
        .await
        .unwrap()[0]
        .seq;
    store
        .append(vec![register(vec![pkg("late", "1")], vec![])])
        .await
        .unwrap();
    let at = |seq: Option<u64>| {
        let store = store.clone();
        async move {
            store
                .latest_policy(seq)
                .await
                .unwrap()
                .map(|e| (e.seq, e.kind))
        }
    };
    assert_eq!(at(None).await, Some((second, "policy".to_string())));
    assert_eq!(
        at(Some(second - 1)).await,
        Some((first, "policy".to_string()))
    );
    assert_eq!(at(Some(first)).await, Some((first, "policy".to_string())));
    assert_eq!(at(Some(first - 1)).await, None);
    // A policy whose digest is not its text's records nothing.
    let head = store.head().await.unwrap();
    let mut bad = policy("version = 1\n");
    if let EntryData::Policy { policy } = &mut bad.data {
        policy.text.push(' ');
    }
    let e = store.append(vec![bad]).await.unwrap_err();
    assert!(e.to_string().contains("not the digest of its text"), "{e}");
    assert_eq!(store.head().await.unwrap(), head);
}

/// Each seq's time, as recorded in its entry; unknown seqs are left out.
pub async fn seq_times_answer_each_seq(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let head = store.head().await.unwrap();
    let entries = store.entries(0, 10_000).await.unwrap();
    let mut asked: Vec<u64> = (1..=head).rev().collect();
    asked.extend([head, head + 5, 0]);
    let times = store.seq_times(&asked).await.unwrap();
    let want: Vec<(u64, i64)> = entries.iter().map(|e| (e.seq, e.time_us)).collect();
    assert_eq!(times, want);
    assert!(store.seq_times(&[]).await.unwrap().is_empty());
    // Many seqs close together are read as ranges: the same answer, only the asked.
    let many: Vec<_> = (0..12_000)
        .map(|i| register(vec![pkg(&format!("many{i}"), "1")], vec![]))
        .collect();
    store.append(many).await.unwrap();
    let head = store.head().await.unwrap();
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = store.entries(after, 5_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        entries.extend(page);
    }
    let asked: Vec<u64> = (1..=head + 3).filter(|s| s % 3 != 1).collect();
    assert!(asked.len() >= 5_000);
    let want: Vec<(u64, i64)> = entries
        .iter()
        .filter(|e| e.seq % 3 != 1)
        .map(|e| (e.seq, e.time_us))
        .collect();
    assert_eq!(store.seq_times(&asked).await.unwrap(), want);
}

fn hook(url: &str, events: &[&str]) -> crate::webhook::NewWebhook {
    crate::webhook::NewWebhook {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: format!("secret-of-{url}"),
        created_by: "admin@test".into(),
        created_us: 1_000,
    }
}

fn delivery(webhook_id: u64, seq: u64) -> crate::webhook::NewDelivery {
    crate::webhook::NewDelivery {
        webhook_id,
        event_type: "incident.open".into(),
        seq,
        payload: format!("{{\"seq\":{seq}}}"),
    }
}

/// Subscriptions keep their filter, secret and the head they were added at; a removed
/// one is listed only on request, and removing it twice says so.
pub async fn webhooks_are_added_listed_and_removed(fx: &dyn Fixture) {
    let store = fx.store();
    assert!(store.webhooks(true).await.unwrap().is_empty());
    let a = store
        .add_webhook(hook("https://a.example/hook", &["incident.*"]))
        .await
        .unwrap();
    assert_eq!(a.after_seq, 0);
    seed(store.as_ref()).await;
    let head = store.head().await.unwrap();
    let b = store
        .add_webhook(hook(
            "http://127.0.0.1:9/b",
            &["incident.open", "containment.block"],
        ))
        .await
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(b.after_seq, head);
    assert_eq!(b.events, ["incident.open", "containment.block"]);
    assert_eq!(b.secret, "secret-of-http://127.0.0.1:9/b");
    assert_eq!((b.created_us, b.created_by.as_str()), (1_000, "admin@test"));
    assert_eq!(b.removed_us, None);
    // Another server on the database sees them.
    let other = fx.another().await;
    assert_eq!(other.webhooks(false).await.unwrap(), [a.clone(), b.clone()]);
    assert_eq!(other.webhook(b.id).await.unwrap(), Some(b.clone()));
    assert_eq!(store.webhook(b.id + 100).await.unwrap(), None);
    assert_eq!(
        store.webhook_stats(a.id).await.unwrap(),
        crate::webhook::WebhookStats::default()
    );

    assert!(store.remove_webhook(a.id, 2_000).await.unwrap());
    assert!(!other.remove_webhook(a.id, 3_000).await.unwrap());
    assert!(!store.remove_webhook(b.id + 100, 3_000).await.unwrap());
    assert_eq!(
        store.webhooks(false).await.unwrap(),
        std::slice::from_ref(&b)
    );
    let all = store.webhooks(true).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].removed_us, Some(2_000));
    assert_eq!(
        store.webhook(a.id).await.unwrap().unwrap().removed_us,
        Some(2_000)
    );
    // Nothing of this is in the ledger.
    assert_eq!(store.head().await.unwrap(), head);
}

/// Deliveries are queued in the transaction that moves the cursor, only from where the
/// cursor is: a dispatcher that lost the race (another server's) queues nothing, and
/// one event is queued once per subscription.
pub async fn deliveries_are_queued_once_with_the_cursor(fx: &dyn Fixture) {
    let store = fx.store();
    let other = fx.another().await;
    let a = store.add_webhook(hook("https://a/", &["*"])).await.unwrap();
    let b = store.add_webhook(hook("https://b/", &["*"])).await.unwrap();
    assert_eq!(store.webhook_cursor().await.unwrap(), 0);
    assert!(
        store
            .enqueue_deliveries(0, 5, vec![delivery(a.id, 3), delivery(b.id, 3)], 10)
            .await
            .unwrap()
    );
    assert_eq!(other.webhook_cursor().await.unwrap(), 5);
    // From a stale cursor: refused, nothing queued.
    assert!(
        !other
            .enqueue_deliveries(0, 9, vec![delivery(a.id, 7)], 10)
            .await
            .unwrap()
    );
    assert_eq!(store.webhook_cursor().await.unwrap(), 5);
    // The same event again: not queued twice.
    assert!(
        store
            .enqueue_deliveries(5, 8, vec![delivery(a.id, 3), delivery(a.id, 8)], 10)
            .await
            .unwrap()
    );
    let queued = store.deliveries(a.id, 100).await.unwrap();
    assert_eq!(
        queued.iter().map(|d| d.seq).collect::<Vec<_>>(),
        [8, 3],
        "newest first"
    );
    assert_eq!(store.deliveries(b.id, 100).await.unwrap().len(), 1);
    let d = &queued[1];
    assert_eq!(d.state, crate::webhook::DeliveryState::Pending);
    assert_eq!((d.attempts, d.next_attempt_us, d.created_us), (0, 10, 10));
    assert_eq!(d.payload, "{\"seq\":3}");
    assert_eq!(d.event_type, "incident.open");
    assert_eq!((d.last_status, d.last_error.as_deref()), (None, None));
    assert_eq!(store.deliveries(a.id, 1).await.unwrap().len(), 1);

    // Two servers racing from the same cursor: exactly one queues.
    let (x, y) = tokio::join!(
        store.enqueue_deliveries(8, 12, vec![delivery(a.id, 12)], 20),
        other.enqueue_deliveries(8, 12, vec![delivery(b.id, 12)], 20),
    );
    assert!(x.unwrap() ^ y.unwrap());
    assert_eq!(store.webhook_cursor().await.unwrap(), 12);
    let twelves = store.deliveries(a.id, 100).await.unwrap().len()
        + store.deliveries(b.id, 100).await.unwrap().len();
    assert_eq!(twelves, 4, "one of the two racing batches, not both");
    // Moving the cursor with nothing to queue.
    assert!(store.enqueue_deliveries(12, 13, vec![], 20).await.unwrap());
    assert_eq!(store.webhook_cursor().await.unwrap(), 13);
}

/// A due delivery is taken by one worker only, goes back to the queue with a later
/// time after a failed attempt, and ends delivered or failed; a removed subscription's
/// pending deliveries fail and are no longer due.
pub async fn deliveries_are_claimed_once_and_retried(fx: &dyn Fixture) {
    use crate::webhook::{Attempt, AttemptOutcome, DeliveryState};
    let store = fx.store();
    let other = fx.another().await;
    let a = store.add_webhook(hook("https://a/", &["*"])).await.unwrap();
    let b = store.add_webhook(hook("https://b/", &["*"])).await.unwrap();
    let batch = vec![delivery(a.id, 1), delivery(a.id, 2), delivery(b.id, 1)];
    assert!(store.enqueue_deliveries(0, 2, batch, 100).await.unwrap());
    assert!(store.due_deliveries(99, 10).await.unwrap().is_empty());
    let due = store.due_deliveries(100, 10).await.unwrap();
    assert_eq!(due.len(), 3);
    assert_eq!(store.due_deliveries(100, 2).await.unwrap().len(), 2);
    let first = due
        .iter()
        .find(|d| d.delivery.webhook_id == a.id && d.delivery.seq == 1)
        .unwrap();
    assert_eq!(first.url, "https://a/");
    assert_eq!(first.secret, "secret-of-https://a/");
    let id = first.delivery.id;
    // Two workers take it at once: one gets it.
    let (x, y) = tokio::join!(
        store.claim_delivery(id, 100, 5_000),
        other.claim_delivery(id, 100, 5_000),
    );
    assert!(x.unwrap() ^ y.unwrap());
    // Taken: not due until the lease ends (when a dead worker's delivery is retried).
    assert!(
        !store
            .due_deliveries(200, 10)
            .await
            .unwrap()
            .iter()
            .any(|d| d.delivery.id == id)
    );
    assert!(
        store
            .due_deliveries(5_000, 10)
            .await
            .unwrap()
            .iter()
            .any(|d| d.delivery.id == id)
    );
    // A failed attempt: back in the queue at the retry time.
    store
        .record_attempt(
            id,
            Attempt {
                at_us: 300,
                status: Some(503),
                error: Some("HTTP 503".into()),
                outcome: AttemptOutcome::Retry { at_us: 1_300 },
            },
        )
        .await
        .unwrap();
    let d = store.deliveries(a.id, 10).await.unwrap().pop().unwrap();
    assert_eq!(d.id, id);
    assert_eq!(
        (d.attempts, d.next_attempt_us, d.state, d.last_status),
        (1, 1_300, DeliveryState::Pending, Some(503))
    );
    assert_eq!(
        store
            .webhook_stats(a.id)
            .await
            .unwrap()
            .last_error
            .as_deref(),
        Some("HTTP 503")
    );
    assert!(store.claim_delivery(id, 1_300, 9_000).await.unwrap());
    store
        .record_attempt(
            id,
            Attempt {
                at_us: 1_400,
                status: Some(204),
                error: None,
                outcome: AttemptOutcome::Delivered,
            },
        )
        .await
        .unwrap();
    let d = store.deliveries(a.id, 10).await.unwrap().pop().unwrap();
    assert_eq!(
        (d.attempts, d.state, d.last_status, d.delivered_us),
        (2, DeliveryState::Delivered, Some(204), Some(1_400))
    );
    assert_eq!(d.last_error, None);
    // Delivered: never due again, and a late attempt report changes nothing.
    assert!(!store.claim_delivery(id, 1_400, 9_000).await.unwrap());
    store
        .record_attempt(
            id,
            Attempt {
                at_us: 1_500,
                status: None,
                error: Some("late".into()),
                outcome: AttemptOutcome::Failed,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.deliveries(a.id, 10).await.unwrap().pop().unwrap(), d);
    // Out of attempts: failed.
    let second = store.deliveries(a.id, 10).await.unwrap()[0].clone();
    assert!(store.claim_delivery(second.id, 100, 9_000).await.unwrap());
    store
        .record_attempt(
            second.id,
            Attempt {
                at_us: 1_600,
                status: None,
                error: Some("connection refused".into()),
                outcome: AttemptOutcome::Failed,
            },
        )
        .await
        .unwrap();
    let stats = store.webhook_stats(a.id).await.unwrap();
    assert_eq!((stats.pending, stats.delivered, stats.failed), (0, 1, 1));
    assert_eq!(stats.last_error.as_deref(), Some("connection refused"));
    // Removing b fails its pending delivery, which is then not due.
    assert!(store.remove_webhook(b.id, 2_000).await.unwrap());
    assert!(store.due_deliveries(i64::MAX, 10).await.unwrap().is_empty());
    let stats = other.webhook_stats(b.id).await.unwrap();
    assert_eq!((stats.pending, stats.delivered, stats.failed), (0, 0, 1));
    assert_eq!(stats.last_error.as_deref(), Some("webhook removed"));
}

/// `artifacts(ids)` gives what `artifact(id)` gives for each known id, aliases included,
/// in the order asked, over more ids than one statement takes; unknown ids are left out.
pub async fn artifacts_in_bulk_match_one_by_one(fx: &dyn Fixture) {
    let store = fx.store();
    seed(store.as_ref()).await;
    let many: Vec<ArtifactFact> = (0..2_500)
        .map(|i| {
            let mut p = pkg(&format!("bulk{i}"), "1.0");
            p.aliases = vec![format!("sha256:{i:064x}")];
            p.attrs.insert("n".into(), serde_json::Value::from(i));
            p
        })
        .collect();
    store.append(vec![register(many, vec![])]).await.unwrap();
    let mut ids: Vec<String> = (0..2_500)
        .rev()
        .map(|i| format!("pkg:pypi/bulk{i}@1.0"))
        .collect();
    ids.insert(1_200, "pkg:pypi/nobody@0".into());
    ids.extend(["model:ft@1".to_owned(), "deployment:prod/chat".to_owned()]);
    let got = store.artifacts(&ids).await.unwrap();
    assert_eq!(got.len(), 2_502);
    let mut one_by_one = Vec::new();
    for id in &ids {
        one_by_one.extend(store.artifact(id).await.unwrap());
    }
    assert_eq!(got, one_by_one);
    assert_eq!(got[0].aliases.len(), 2, "{:?}", got[0].aliases);
    assert!(store.artifacts(&[]).await.unwrap().is_empty());
}
