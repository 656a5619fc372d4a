//! Replay and compare: every entry of a live store is replayed into a scratch store,
//! and the derived tables of both are compared row by row. Derived rows are a cache of
//! the entries (they are not signed), so this is how an audit checks them
//! (`ailedger log verify --replay`) and how the contract suite proves that a replay
//! reproduces a backend's state.

use std::fmt;

use serde::Serialize;

use crate::{ArtifactRecord, DerivedDump, Store, StoreError};

/// Entries read and replayed per round.
const PAGE: u32 = 10_000;

/// The first derived row that differs between a replay (`replay`) and the live store
/// (`live`), or the first table whose row counts differ.
#[derive(Debug, Clone, PartialEq)]
pub enum DerivedDifference {
    /// Artifact number `index` (in the dump's order) differs.
    Artifact {
        index: usize,
        replay: Box<ArtifactRecord>,
        live: Box<ArtifactRecord>,
    },
    /// An alias row `(alias, artifact id, seq)` differs.
    Alias {
        replay: (String, String, u64),
        live: (String, String, u64),
    },
    /// An edge row differs.
    Edge {
        replay: ailedger_core::graph::EdgeRow,
        live: ailedger_core::graph::EdgeRow,
    },
    /// A document row `(digest, seq, format)` differs.
    Document {
        replay: (String, u64, String),
        live: (String, u64, String),
    },
    /// A token row differs.
    Token {
        replay: crate::TokenRecord,
        live: crate::TokenRecord,
    },
    /// A table has more rows on one side (its rows up to the shorter length agree).
    Count {
        table: &'static str,
        replay: usize,
        live: usize,
    },
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl fmt::Display for DerivedDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIFFER: &str = "derived tables differ from a replay of the entries";
        match self {
            DerivedDifference::Artifact {
                index,
                replay,
                live,
            } => write!(
                f,
                "{DIFFER}: artifact #{index}: replay has {}, live has {}",
                to_json(replay),
                to_json(live)
            ),
            DerivedDifference::Alias { replay, live } => {
                write!(
                    f,
                    "{DIFFER}: alias: replay has {replay:?}, live has {live:?}"
                )
            }
            DerivedDifference::Edge { replay, live } => write!(
                f,
                "{DIFFER}: edge: replay has {}, live has {}",
                to_json(replay),
                to_json(live)
            ),
            DerivedDifference::Document { replay, live } => {
                write!(
                    f,
                    "{DIFFER}: document: replay has {replay:?}, live has {live:?}"
                )
            }
            DerivedDifference::Token { replay, live } => write!(
                f,
                "{DIFFER}: token: replay has {}, live has {}",
                to_json(replay),
                to_json(live)
            ),
            DerivedDifference::Count {
                table,
                replay,
                live,
            } => write!(
                f,
                "derived tables differ: replay has {replay} {table}, live has {live}"
            ),
        }
    }
}

/// The first difference between two row lists, as `row(replay, live)` or as a count.
fn first_difference<T: PartialEq + Clone>(
    table: &'static str,
    replay: &[T],
    live: &[T],
    row: impl FnOnce(usize, &T, &T) -> DerivedDifference,
) -> Option<DerivedDifference> {
    if let Some((i, (r, l))) = replay
        .iter()
        .zip(live)
        .enumerate()
        .find(|(_, (r, l))| r != l)
    {
        return Some(row(i, r, l));
    }
    (replay.len() != live.len()).then_some(DerivedDifference::Count {
        table,
        replay: replay.len(),
        live: live.len(),
    })
}

/// The first derived row in which `replay` and `live` differ (artifacts, then aliases,
/// edges and documents), or `None` when they are identical.
pub fn diff_derived(replay: &DerivedDump, live: &DerivedDump) -> Option<DerivedDifference> {
    first_difference(
        "artifacts",
        &replay.artifacts,
        &live.artifacts,
        |index, r, l| DerivedDifference::Artifact {
            index,
            replay: Box::new(r.clone()),
            live: Box::new(l.clone()),
        },
    )
    .or_else(|| {
        first_difference("aliases", &replay.aliases, &live.aliases, |_, r, l| {
            DerivedDifference::Alias {
                replay: r.clone(),
                live: l.clone(),
            }
        })
    })
    .or_else(|| {
        first_difference("edges", &replay.edges, &live.edges, |_, r, l| {
            DerivedDifference::Edge {
                replay: r.clone(),
                live: l.clone(),
            }
        })
    })
    .or_else(|| {
        first_difference(
            "documents",
            &replay.documents,
            &live.documents,
            |_, r, l| DerivedDifference::Document {
                replay: r.clone(),
                live: l.clone(),
            },
        )
    })
    .or_else(|| {
        first_difference("tokens", &replay.tokens, &live.tokens, |_, r, l| {
            DerivedDifference::Token {
                replay: r.clone(),
                live: l.clone(),
            }
        })
    })
}

/// Why [`replay_and_compare`] did not confirm the live store's derived tables.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Reading the live store failed (a [`StoreError::Corrupt`] names a bad entry).
    #[error("{0}")]
    Live(StoreError),
    /// A stored entry does not decode (or disagrees with its row).
    #[error("first bad seq {seq}: {source}")]
    Entry { seq: u64, source: StoreError },
    /// The scratch store refused the replay or could not be read back.
    #[error("replay: {0}")]
    Scratch(StoreError),
    /// The replay's derived rows are not the live ones.
    #[error("{0}")]
    Differs(Box<DerivedDifference>),
}

/// Replays every entry of `live`, in pages, into `scratch` (an empty store, of any
/// backend) and compares every derived row. Returns the number of entries replayed.
pub async fn replay_and_compare(live: &dyn Store, scratch: &dyn Store) -> Result<u64, ReplayError> {
    let mut after = 0u64;
    loop {
        let page = live.entries(after, PAGE).await.map_err(ReplayError::Live)?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        let entries = page
            .iter()
            .map(|e| {
                e.decode()
                    .map_err(|source| ReplayError::Entry { seq: e.seq, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        scratch
            .replay(entries)
            .await
            .map_err(ReplayError::Scratch)?;
        after = last;
    }
    let replayed = scratch.dump_derived().await.map_err(ReplayError::Scratch)?;
    let current = live.dump_derived().await.map_err(ReplayError::Live)?;
    match diff_derived(&replayed, &current) {
        Some(d) => Err(ReplayError::Differs(Box::new(d))),
        None => Ok(after),
    }
}

#[cfg(test)]
mod tests {
    use ailedger_core::{ArtifactKind, EdgeKind, graph::EdgeRow};

    use super::*;

    fn artifact(id: &str, name: &str) -> ArtifactRecord {
        ArtifactRecord {
            id: id.into(),
            kind: ArtifactKind::Package,
            name: Some(name.into()),
            version: Some("1".into()),
            attrs: Default::default(),
            first_seq: 1,
            last_seq: 1,
            merged_into: None,
            aliases: vec![id.into()],
        }
    }

    fn dump() -> DerivedDump {
        DerivedDump {
            artifacts: vec![artifact("pkg:pypi/a@1", "a"), artifact("pkg:pypi/b@1", "b")],
            aliases: vec![
                ("pkg:pypi/a@1".into(), "pkg:pypi/a@1".into(), 1),
                ("pkg:pypi/b@1".into(), "pkg:pypi/b@1".into(), 1),
            ],
            edges: vec![EdgeRow {
                from: "pkg:pypi/a@1".into(),
                edge: EdgeKind::DependsOn,
                to: "pkg:pypi/b@1".into(),
                since: 1,
                until: None,
                paths: vec![],
            }],
            documents: vec![("ab".repeat(32), 1, "CycloneDX 1.6".into())],
            tokens: vec![crate::TokenRecord {
                name: "ci".into(),
                scope: ailedger_core::token::Scope::Write,
                hash: format!("sha256:{}", "cd".repeat(32)),
                expires_us: None,
                created_seq: 2,
                revoked_seq: None,
            }],
        }
    }

    #[test]
    fn identical_dumps_have_no_difference() {
        assert_eq!(diff_derived(&dump(), &dump()), None);
    }

    #[test]
    fn the_first_differing_row_is_named() {
        let mut live = dump();
        live.artifacts[1].name = Some("evil".into());
        live.edges[0].until = Some(2);
        let d = diff_derived(&dump(), &live).expect("a difference");
        assert!(
            matches!(&d, DerivedDifference::Artifact { index: 1, live, .. } if live.name.as_deref() == Some("evil")),
            "{d:?}"
        );
        let text = d.to_string();
        assert!(
            text.starts_with("derived tables differ from a replay of the entries: artifact #1:")
                && text.contains("evil"),
            "{text}"
        );
        // With the artifacts equal, the edge is next.
        let mut live = dump();
        live.edges[0].until = Some(2);
        assert!(matches!(
            diff_derived(&dump(), &live),
            Some(DerivedDifference::Edge { .. })
        ));
    }

    #[test]
    fn extra_rows_and_documents_are_differences() {
        let mut live = dump();
        live.aliases.push(("x".into(), "pkg:pypi/a@1".into(), 2));
        assert_eq!(
            diff_derived(&dump(), &live),
            Some(DerivedDifference::Count {
                table: "aliases",
                replay: 2,
                live: 3
            })
        );
        let mut live = dump();
        live.documents[0].1 = 2;
        let d = diff_derived(&dump(), &live).expect("documents are compared too");
        let mut revoked = dump();
        revoked.tokens[0].revoked_seq = Some(3);
        let t = diff_derived(&dump(), &revoked).expect("tokens are compared too");
        assert!(t.to_string().contains("token"), "{t}");
        assert!(matches!(d, DerivedDifference::Document { .. }), "{d:?}");
    }
}
