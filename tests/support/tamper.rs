//! Tampering with a ledger database behind the store's back, shared by the tamper tests
//! of `ailedger-cli` (end to end, `crates/ailedger-cli/tests/it/log.rs`) and
//! `ailedger-server` (in-process, `crates/ailedger-server/tests/it/audit.rs`), which
//! include this file with `#[path]`: each class of tampering, and the first bad seq an
//! audit and the signer must name for it.
//!
//! Every class works on a ledger whose last 8 entries register `pkg:pypi/p<n>@1`, n = 1
//! to 8, after `offset` entries (0, or 1 where the server granted an admin token first):
//! "entry n" below is seq n + offset.

use ailedger_store::Store;

/// Direct SQL access to the database under test.
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Pool {
    /// Runs `sql` with `blobs` bound to `$1`, `$2`, …
    pub async fn exec(&self, sql: &str, blobs: &[&[u8]]) {
        match self {
            Pool::Sqlite(p) => {
                let mut q = sqlx::query(sql);
                for b in blobs {
                    q = q.bind(*b);
                }
                q.execute(p).await.unwrap();
            }
            Pool::Pg(p) => {
                let mut q = sqlx::query(sql);
                for b in blobs {
                    q = q.bind(*b);
                }
                q.execute(p).await.unwrap();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// One byte of entry 3's body changed; still valid JSON, leaf hash column untouched.
    OneByte,
    /// One byte in the middle of entry 6's body flipped: no longer JSON (nor UTF-8).
    InvalidJson,
    /// Entry 4 deleted.
    Delete,
    /// Entries 3 and 6 swapped, bodies and leaf hashes.
    Swap,
    /// Entries 5-8 replaced by four other entries, each with a valid body and hash.
    TruncateAndReappend,
    /// Entry 7's leaf hash column cut to 31 bytes: the row no longer decodes.
    ShortLeafHash,
    /// The tree's stored leaf for entry 2 cut to 31 bytes.
    ShortTreeLeaf,
    /// A derived row altered (artifact `pkg:pypi/p2@1` renamed `evil`).
    DerivedRow,
}

impl Tamper {
    /// What an audit must name as the first bad seq (`None`: the entries are intact,
    /// only a replay comparison fails), on a ledger with `offset` entries before the 8.
    pub fn first_bad(self, offset: u64) -> Option<u64> {
        self.first_bad_entry().map(|n| n + offset)
    }

    fn first_bad_entry(self) -> Option<u64> {
        match self {
            Tamper::OneByte | Tamper::Swap => Some(3),
            Tamper::InvalidJson => Some(6),
            Tamper::Delete => Some(4),
            Tamper::TruncateAndReappend => Some(5),
            Tamper::ShortLeafHash => Some(7),
            Tamper::ShortTreeLeaf => Some(2),
            Tamper::DerivedRow => None,
        }
    }

    /// Tampers with the database `store` reads, through `pool`.
    pub async fn apply(self, store: &dyn Store, pool: &Pool, offset: u64) {
        let all = store.entries(0, 100).await.unwrap();
        assert_eq!(
            all.len() as u64,
            8 + offset,
            "the tamper classes expect 8 entries after {offset}"
        );
        let o = offset as usize;
        // `entries[i]` is entry i + 1 of the 8; `seq(n)` the seq of entry n.
        let entries = &all[o..];
        let seq = |n: u64| n + offset;
        match self {
            Tamper::OneByte => {
                // "p3" -> "q3" in the package name.
                let mut body = entries[2].body.clone();
                let at = body.windows(3).position(|w| w == b"/p3").unwrap() + 1;
                body[at] = b'q';
                let sql = format!("UPDATE entries SET body = $1 WHERE seq = {}", seq(3));
                pool.exec(&sql, &[&body]).await;
            }
            Tamper::InvalidJson => {
                let mut body = entries[5].body.clone();
                let mid = body.len() / 2;
                body[mid] ^= 0xff;
                assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
                let sql = format!("UPDATE entries SET body = $1 WHERE seq = {}", seq(6));
                pool.exec(&sql, &[&body]).await;
            }
            Tamper::Delete => {
                let sql = format!("DELETE FROM entries WHERE seq = {}", seq(4));
                pool.exec(&sql, &[]).await;
            }
            Tamper::Swap => {
                let (a, b) = (&entries[2], &entries[5]);
                let set = |n| {
                    format!(
                        "UPDATE entries SET body = $1, leaf_hash = $2 WHERE seq = {}",
                        seq(n)
                    )
                };
                pool.exec(&set(3), &[&b.body, &b.leaf_hash]).await;
                pool.exec(&set(6), &[&a.body, &a.leaf_hash]).await;
            }
            Tamper::TruncateAndReappend => {
                // Entries 1-4 replayed elsewhere, four different entries appended there.
                let dir = tempfile::tempdir().unwrap();
                let other = ailedger_store_sqlite::SqliteStore::open(&dir.path().join("forged.db"))
                    .await
                    .unwrap();
                other
                    .replay(all[..o + 4].iter().map(|e| e.decode().unwrap()).collect())
                    .await
                    .unwrap();
                let forged = (0..4)
                    .map(|i| ailedger_store::NewEntry {
                        actor: "forger@test".into(),
                        data: ailedger_core::EntryData::Register {
                            artifacts: vec![ailedger_core::ArtifactFact {
                                id: format!("pkg:pypi/forged{i}@1"),
                                kind: ailedger_core::ArtifactKind::Package,
                                name: Some(format!("forged{i}")),
                                version: Some("1".into()),
                                aliases: vec![],
                                attrs: Default::default(),
                            }],
                            edges: vec![],
                        },
                    })
                    .collect();
                other.append(forged).await.unwrap();
                let sql = format!("DELETE FROM entries WHERE seq > {}", seq(4));
                pool.exec(&sql, &[]).await;
                for e in other.entries(seq(4), 100).await.unwrap() {
                    let sql = format!(
                        "INSERT INTO entries (seq, time_us, actor, kind, body, leaf_hash) \
                         VALUES ({}, {}, '{}', '{}', $1, $2)",
                        e.seq, e.time_us, e.actor, e.kind
                    );
                    pool.exec(&sql, &[&e.body, &e.leaf_hash]).await;
                }
            }
            Tamper::ShortLeafHash => {
                let sql = format!("UPDATE entries SET leaf_hash = $1 WHERE seq = {}", seq(7));
                pool.exec(&sql, &[&entries[6].leaf_hash[..31]]).await;
            }
            Tamper::ShortTreeLeaf => {
                // Leaf index = seq - 1.
                let sql = format!(
                    "UPDATE log_nodes SET hash = $1 WHERE level = 0 AND idx = {}",
                    seq(2) - 1
                );
                pool.exec(&sql, &[&entries[1].leaf_hash[..31]]).await;
            }
            Tamper::DerivedRow => {
                pool.exec(
                    "UPDATE artifacts SET name = 'evil' WHERE id = 'pkg:pypi/p2@1'",
                    &[],
                )
                .await;
            }
        }
    }
}
