//! The tamper-evident log's storage: the [`LogStore`] trait every [`Store`](crate::Store)
//! also implements, and [`FrontierCache`], the appender state a backend keeps next to
//! its pool.
//!
//! The tree scheme is `ailedger_log::tree`: the store persists the perfect subtrees the
//! [`Frontier`] returns on append (table `log_nodes`), in the same transaction as the
//! entries, and answers roots and proofs from O(log n) of them. The root is never
//! computed on the write path. Signed checkpoints are kept in table `checkpoints`; they
//! are not entries.
//!
//! The backends provide the primitive reads and writes (in the `sqlx_log!` macro);
//! roots and proofs are provided methods here, so every backend computes them alike.

use std::collections::HashMap;

use ailedger_log::{
    ConsistencyProof, Frontier, Hash, InclusionProof, NodeId, consistency_plan, inclusion_plan,
    root_plan,
};
use async_trait::async_trait;

use crate::{Result, StoreError};

/// A signed checkpoint as stored: the note, its parsed size and root, and the verifier
/// key (note format) that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub key: String,
    pub time_us: i64,
}

/// The last committed [`Frontier`] of this process, so that an append does not read it
/// back from the database. Only trusted when its size equals the size the append
/// reserved from: another process may have appended meanwhile (PostgreSQL).
#[derive(Debug, Default)]
pub struct FrontierCache(std::sync::Mutex<Frontier>);

impl FrontierCache {
    /// The cached frontier if it is the one for a tree of `size` leaves.
    pub fn get(&self, size: u64) -> Option<Frontier> {
        let f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (f.size() == size).then(|| f.clone())
    }

    /// Remembers `f`; call only after the transaction that wrote its nodes committed.
    pub fn set(&self, f: Frontier) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = f;
    }
}

/// Reading and writing the log's tables. Roots and proofs are provided on top of
/// [`LogStore::log_nodes`].
#[async_trait]
pub trait LogStore: Send + Sync {
    /// The stored hashes of the given nodes; missing nodes are absent from the map.
    async fn log_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>>;
    /// The stored leaf hashes (level-0 nodes) of seqs greater than `after`, at most
    /// `limit`, in seq order, as `(seq, leaf hash)`.
    async fn log_leaves(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>>;
    /// The size of the committed tree (= the ledger head; both move in one transaction).
    async fn tree_size(&self) -> Result<u64>;
    /// The checkpoint with the largest size, if any.
    async fn latest_checkpoint(&self) -> Result<Option<SavedCheckpoint>>;
    /// Checkpoints with size greater than `after`, at most `limit`, by size.
    async fn checkpoints(&self, after: u64, limit: u32) -> Result<Vec<SavedCheckpoint>>;
    /// Stores a checkpoint; `false` if one of that size already exists (and is kept).
    async fn save_checkpoint(&self, cp: &SavedCheckpoint) -> Result<bool>;

    /// The RFC 9162 root of the first `size` entries, from O(log n) stored nodes.
    async fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size).await?;
        let plan = root_plan(size)?;
        let rows = self.log_nodes(&plan.node_ids()).await?;
        Ok(plan.assemble_root(|id| rows.get(&id).copied())?)
    }

    /// The inclusion proof of entry `seq` in the tree of `size` entries. The leaf hash
    /// is the stored level-0 node.
    async fn inclusion_proof(&self, seq: u64, size: u64) -> Result<InclusionProof> {
        let index = seq.checked_sub(1).ok_or(ailedger_log::Error::SeqZero)?;
        self.check_size(size).await?;
        let plan = inclusion_plan(index, size)?;
        let mut ids = plan.node_ids();
        ids.push(NodeId::leaf(index));
        let rows = self.log_nodes(&ids).await?;
        let hashes = plan.assemble(|id| rows.get(&id).copied())?;
        let leaf = rows
            .get(&NodeId::leaf(index))
            .copied()
            .ok_or(ailedger_log::Error::MissingNode(NodeId::leaf(index)))?;
        Ok(InclusionProof::new(seq, size, leaf, hashes)?)
    }

    /// The consistency proof from the tree of `from` entries to the tree of `to`.
    async fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof> {
        self.check_size(to).await?;
        let plan = consistency_plan(from, to)?;
        let rows = self.log_nodes(&plan.node_ids()).await?;
        let hashes = plan.assemble(|id| rows.get(&id).copied())?;
        Ok(ConsistencyProof { from, to, hashes })
    }

    /// Fails with [`StoreError::BeyondHead`] when `size` exceeds the tree.
    async fn check_size(&self, size: u64) -> Result<()> {
        let head = self.tree_size().await?;
        if size > head {
            return Err(StoreError::BeyondHead { size, head });
        }
        Ok(())
    }
}

/// Implements the log part of a sqlx backend: `LogStore` for `$store` and the
/// `log_append` / `log_committed` helpers `append_in` and `replay_in` call. Expanded by
/// `sqlx_backend!`; `$store` must have a field `log: FrontierCache`.
#[doc(hidden)]
#[macro_export]
macro_rules! sqlx_log {
    ($db:ty, $store:ident) => {
        fn log_err(e: sqlx::Error) -> $crate::StoreError {
            $crate::StoreError::Backend(e.to_string())
        }

        fn log_hash(v: &[u8], level: i64, idx: i64) -> $crate::Result<ailedger_log::Hash> {
            v.try_into().map_err(|_| $crate::StoreError::Corrupt {
                seq: u64::try_from(idx).unwrap_or(0).saturating_add(1),
                reason: format!("log node ({level}, {idx}) is not 32 bytes"),
            })
        }

        fn log_i64(v: u64) -> i64 {
            i64::try_from(v).unwrap_or(i64::MAX)
        }

        /// Node rows per multi-row INSERT (3 parameters each, far below SQLite's limit of
        /// 32,766 and PostgreSQL's of 65,535): a batch of 20,000 entries writes about
        /// 40,000 nodes, and each statement is a round trip to the database.
        const LOG_CHUNK: usize = 2_000;

        impl $store {
            async fn log_nodes_on(
                conn: &mut <$db as sqlx::Database>::Connection,
                ids: &[ailedger_log::NodeId],
            ) -> $crate::Result<std::collections::HashMap<ailedger_log::NodeId, ailedger_log::Hash>> {
                use sqlx::Row as _;
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let mut out = std::collections::HashMap::with_capacity(ids.len());
                for chunk in ids.chunks(200) {
                    let mut sql = String::from("SELECT level, idx, hash FROM log_nodes WHERE ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push_str(" OR ");
                        }
                        sql.push_str(&format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2));
                    }
                    let mut q = sqlx::query(&sql);
                    for id in chunk {
                        q = q.bind(i64::from(id.level)).bind(log_i64(id.index));
                    }
                    for r in q.fetch_all(&mut *conn).await.map_err(log_err)? {
                        let (level, idx): (i64, i64) = (r.get(0), r.get(1));
                        let id = ailedger_log::NodeId::new(
                            u8::try_from(level).unwrap_or(u8::MAX),
                            u64::try_from(idx).unwrap_or(u64::MAX),
                        );
                        out.insert(id, log_hash(r.get::<&[u8], _>(2), level, idx)?);
                    }
                }
                Ok(out)
            }

            /// Inside the write transaction that reserved seqs `first..`, appends their
            /// leaf hashes to the tree and writes the new nodes. Returns the frontier to
            /// hand to [`log_committed`](Self::log_committed) after the commit.
            async fn log_append(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                first: u64,
                leaves: &[ailedger_log::Hash],
            ) -> $crate::Result<ailedger_log::Frontier> {
                let size = first.saturating_sub(1);
                let mut frontier = match self.log.get(size) {
                    Some(f) => f,
                    None => Self::log_frontier_on(conn, size).await?,
                };
                let mut nodes = Vec::with_capacity(leaves.len() * 2 + 8);
                for leaf in leaves {
                    frontier.append_into(*leaf, &mut nodes);
                }
                Self::log_insert_on(conn, &nodes).await?;
                Ok(frontier)
            }

            /// Keeps the frontier of a committed append.
            fn log_committed(&self, frontier: ailedger_log::Frontier) {
                self.log.set(frontier);
            }

            /// The frontier of the committed tree of `size` leaves, from stored nodes.
            /// A database whose `log_nodes` table is entirely empty (one created before
            /// the log existed) gets its tree built here from the entries' bodies; a
            /// partly missing tree is corruption.
            async fn log_frontier_on(
                conn: &mut <$db as sqlx::Database>::Connection,
                size: u64,
            ) -> $crate::Result<ailedger_log::Frontier> {
                let ids = ailedger_log::Frontier::node_ids_for_size(size);
                let rows = Self::log_nodes_on(conn, &ids).await?;
                match ailedger_log::Frontier::restore(size, |id| rows.get(&id).copied()) {
                    Ok(f) => Ok(f),
                    Err(ailedger_log::Error::MissingNode(id)) => {
                        let any: Option<i64> = sqlx::query_scalar("SELECT level FROM log_nodes LIMIT 1")
                            .fetch_optional(&mut *conn)
                            .await
                            .map_err(log_err)?;
                        if any.is_some() {
                            return Err($crate::StoreError::Log(ailedger_log::Error::MissingNode(id)));
                        }
                        Self::log_backfill_on(conn, size).await
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn log_backfill_on(
                conn: &mut <$db as sqlx::Database>::Connection,
                size: u64,
            ) -> $crate::Result<ailedger_log::Frontier> {
                use sqlx::Row as _;
                let mut frontier = ailedger_log::Frontier::new();
                let mut nodes = Vec::new();
                while frontier.size() < size {
                    let rows = sqlx::query("SELECT seq, body FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2")
                        .bind(log_i64(frontier.size()))
                        .bind(10_000i64)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(log_err)?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in rows {
                        let seq = u64::try_from(r.get::<i64, _>(0)).unwrap_or(0);
                        if seq != frontier.size() + 1 {
                            return Err($crate::StoreError::Corrupt { seq, reason: format!("expected seq {} while building the log", frontier.size() + 1) });
                        }
                        if seq > size {
                            break;
                        }
                        frontier.append_into(ailedger_log::leaf_hash(r.get::<&[u8], _>(1)), &mut nodes);
                    }
                    Self::log_insert_on(conn, &nodes).await?;
                    nodes.clear();
                }
                if frontier.size() != size {
                    return Err($crate::StoreError::Corrupt { seq: frontier.size() + 1, reason: "entry missing while building the log".into() });
                }
                Ok(frontier)
            }

            async fn log_insert_on(
                conn: &mut <$db as sqlx::Database>::Connection,
                nodes: &[(ailedger_log::NodeId, ailedger_log::Hash)],
            ) -> $crate::Result<()> {
                for chunk in nodes.chunks(LOG_CHUNK) {
                    // The builder writes each backend's own placeholders (`?` on SQLite,
                    // which binds in constant time; numbered ones are looked up by name).
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO log_nodes (level, idx, hash) ");
                    qb.push_values(chunk, |mut b, (id, hash)| {
                        b.push_bind(i64::from(id.level)).push_bind(log_i64(id.index)).push_bind(&hash[..]);
                    });
                    qb.build().execute(&mut *conn).await.map_err(log_err)?;
                }
                Ok(())
            }

            fn log_checkpoint_row(r: &<$db as sqlx::Database>::Row) -> $crate::Result<$crate::log::SavedCheckpoint> {
                use sqlx::Row as _;
                let size = u64::try_from(r.get::<i64, _>(0)).unwrap_or(0);
                let root = r.get::<&[u8], _>(1).try_into().map_err(|_| $crate::StoreError::Corrupt {
                    seq: size,
                    reason: "checkpoint root is not 32 bytes".into(),
                })?;
                Ok($crate::log::SavedCheckpoint { size, root, note: r.get(2), key: r.get(3), time_us: r.get(4) })
            }
        }

        #[async_trait::async_trait]
        impl $crate::log::LogStore for $store {
            async fn log_nodes(
                &self,
                ids: &[ailedger_log::NodeId],
            ) -> $crate::Result<std::collections::HashMap<ailedger_log::NodeId, ailedger_log::Hash>> {
                let mut conn = self.pool.acquire().await.map_err(log_err)?;
                Self::log_nodes_on(&mut conn, ids).await
            }

            async fn log_leaves(&self, after: u64, limit: u32) -> $crate::Result<Vec<(u64, ailedger_log::Hash)>> {
                use sqlx::Row as _;
                let rows = sqlx::query("SELECT idx, hash FROM log_nodes WHERE level = 0 AND idx >= $1 ORDER BY idx LIMIT $2")
                    .bind(log_i64(after))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(log_err)?;
                rows.iter()
                    .map(|r| {
                        let idx: i64 = r.get(0);
                        Ok((u64::try_from(idx).unwrap_or(0) + 1, log_hash(r.get::<&[u8], _>(1), 0, idx)?))
                    })
                    .collect()
            }

            async fn tree_size(&self) -> $crate::Result<u64> {
                let seq: i64 = sqlx::query_scalar("SELECT seq FROM ledger_head WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(log_err)?;
                Ok(u64::try_from(seq).unwrap_or(0))
            }

            async fn latest_checkpoint(&self) -> $crate::Result<Option<$crate::log::SavedCheckpoint>> {
                let row = sqlx::query("SELECT size, root, note, key, time_us FROM checkpoints ORDER BY size DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(log_err)?;
                row.as_ref().map(Self::log_checkpoint_row).transpose()
            }

            async fn checkpoints(&self, after: u64, limit: u32) -> $crate::Result<Vec<$crate::log::SavedCheckpoint>> {
                let rows = sqlx::query("SELECT size, root, note, key, time_us FROM checkpoints WHERE size > $1 ORDER BY size LIMIT $2")
                    .bind(log_i64(after))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(log_err)?;
                rows.iter().map(Self::log_checkpoint_row).collect()
            }

            async fn save_checkpoint(&self, cp: &$crate::log::SavedCheckpoint) -> $crate::Result<bool> {
                let done = sqlx::query("INSERT INTO checkpoints (size, root, note, key, time_us) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING")
                    .bind(log_i64(cp.size))
                    .bind(&cp.root[..])
                    .bind(&cp.note)
                    .bind(&cp.key)
                    .bind(cp.time_us)
                    .execute(&self.pool)
                    .await
                    .map_err(log_err)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
