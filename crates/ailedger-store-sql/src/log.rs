//! The log's tables: the tree nodes an append writes in its transaction (`log_nodes`),
//! the frontier restored from them, and the reads behind
//! [`LogStore`](ailedger_store::log::LogStore).

use std::collections::HashMap;

use ailedger_log::{Frontier, Hash, NodeId};
use ailedger_store::{Result, StoreError, log::SavedCheckpoint};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::{Dialect, SqlStore, Values, db_err, to_i64};

/// Node rows per multi-row INSERT (3 parameters each, far below SQLite's limit of
/// 32,766 and PostgreSQL's of 65,535): a batch of 20,000 entries writes about 40,000
/// nodes, and each statement is a round trip to the database.
const LOG_CHUNK: usize = 2_000;

fn node_hash(v: &[u8], level: i64, idx: i64) -> Result<Hash> {
    v.try_into().map_err(|_| StoreError::Corrupt {
        seq: u64::try_from(idx).unwrap_or(0).saturating_add(1),
        reason: format!("log node ({level}, {idx}) is not 32 bytes"),
    })
}

/// The stored hashes of `ids` (missing nodes are absent), read over `conn`.
pub(crate) async fn nodes_on<D>(
    conn: &mut <D::Db as Database>::Connection,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>>
where
    D: Dialect,
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    usize: ColumnIndex<<D::Db as Database>::Row>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    for<'a> &'a [u8]: Decode<'a, D::Db> + Type<D::Db>,
{
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let mut sql = String::from("SELECT level, idx, hash FROM log_nodes WHERE ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!(
                "(level = ${} AND idx = ${})",
                2 * i + 1,
                2 * i + 2
            ));
        }
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(i64::from(id.level)).bind(to_i64(id.index));
        }
        for r in q.fetch_all(&mut *conn).await.map_err(db_err::<D>)? {
            let (level, idx): (i64, i64) = (r.get(0), r.get(1));
            let id = NodeId::new(
                u8::try_from(level).unwrap_or(u8::MAX),
                u64::try_from(idx).unwrap_or(u64::MAX),
            );
            out.insert(id, node_hash(r.get::<&[u8], _>(2), level, idx)?);
        }
    }
    Ok(out)
}

impl<D, DB> SqlStore<D>
where
    D: Dialect<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB> + Default,
    usize: ColumnIndex<DB::Row>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    Vec<u8>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    /// Inside the write transaction that reserved seqs `first..`, appends their leaf
    /// hashes to the tree and writes the new nodes. Returns the frontier to keep
    /// (`self.log.set`) once the transaction committed.
    pub(crate) async fn log_append(
        &self,
        conn: &mut DB::Connection,
        first: u64,
        leaves: &[Hash],
    ) -> Result<Frontier> {
        let size = first.saturating_sub(1);
        let mut frontier = match self.log.get(size) {
            Some(f) => f,
            None => Self::frontier_on(conn, size).await?,
        };
        let mut nodes = Vec::with_capacity(leaves.len() * 2 + 8);
        for leaf in leaves {
            frontier.append_into(*leaf, &mut nodes);
        }
        Self::insert_nodes_on(conn, &nodes).await?;
        Ok(frontier)
    }

    /// The frontier of the committed tree of `size` leaves, from stored nodes. A
    /// database whose `log_nodes` table is entirely empty (one created before the log
    /// existed) gets its tree built here from the entries' bodies; a partly missing
    /// tree is corruption.
    async fn frontier_on(conn: &mut DB::Connection, size: u64) -> Result<Frontier> {
        let ids = Frontier::node_ids_for_size(size);
        let rows = nodes_on::<D>(conn, &ids).await?;
        match Frontier::restore(size, |id| rows.get(&id).copied()) {
            Ok(f) => Ok(f),
            Err(ailedger_log::Error::MissingNode(id)) => {
                let any = sqlx::query("SELECT level FROM log_nodes LIMIT 1")
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err::<D>)?;
                if any.is_some() {
                    return Err(StoreError::Log(ailedger_log::Error::MissingNode(id)));
                }
                Self::backfill_on(conn, size).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn backfill_on(conn: &mut DB::Connection, size: u64) -> Result<Frontier> {
        let mut frontier = Frontier::new();
        let mut nodes = Vec::new();
        while frontier.size() < size {
            let rows =
                sqlx::query("SELECT seq, body FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(to_i64(frontier.size()))
                    .bind(10_000i64)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db_err::<D>)?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let seq = u64::try_from(r.get::<i64, _>(0)).unwrap_or(0);
                if seq != frontier.size() + 1 {
                    return Err(StoreError::Corrupt {
                        seq,
                        reason: format!(
                            "expected seq {} while building the log",
                            frontier.size() + 1
                        ),
                    });
                }
                if seq > size {
                    break;
                }
                frontier.append_into(ailedger_log::leaf_hash(r.get::<&[u8], _>(1)), &mut nodes);
            }
            Self::insert_nodes_on(conn, &nodes).await?;
            nodes.clear();
        }
        if frontier.size() != size {
            return Err(StoreError::Corrupt {
                seq: frontier.size() + 1,
                reason: "entry missing while building the log".into(),
            });
        }
        Ok(frontier)
    }

    async fn insert_nodes_on(conn: &mut DB::Connection, nodes: &[(NodeId, Hash)]) -> Result<()> {
        for chunk in nodes.chunks(LOG_CHUNK) {
            let mut v = Values::<DB>::new("INSERT INTO log_nodes (level, idx, hash) ");
            for (id, hash) in chunk {
                v.row();
                v.bind(i64::from(id.level))?
                    .bind(to_i64(id.index))?
                    .bind(&hash[..])?
                    .end_row();
            }
            let (sql, args) = v.into_parts();
            sqlx::query_with(&sql, args)
                .execute(&mut *conn)
                .await
                .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    fn checkpoint_row(r: &DB::Row) -> Result<SavedCheckpoint> {
        let size = u64::try_from(r.get::<i64, _>(0)).unwrap_or(0);
        let root = r
            .get::<&[u8], _>(1)
            .try_into()
            .map_err(|_| StoreError::Corrupt {
                seq: size,
                reason: "checkpoint root is not 32 bytes".into(),
            })?;
        Ok(SavedCheckpoint {
            size,
            root,
            note: r.get(2),
            key: r.get(3),
            time_us: r.get(4),
        })
    }

    pub(crate) async fn log_leaves_in(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>> {
        let rows = sqlx::query(
            "SELECT idx, hash FROM log_nodes WHERE level = 0 AND idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter()
            .map(|r| {
                let idx: i64 = r.get(0);
                Ok((
                    u64::try_from(idx).unwrap_or(0) + 1,
                    node_hash(r.get::<&[u8], _>(1), 0, idx)?,
                ))
            })
            .collect()
    }

    pub(crate) async fn latest_checkpoint_in(&self) -> Result<Option<SavedCheckpoint>> {
        let row = sqlx::query(
            "SELECT size, root, note, key, time_us FROM checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        row.as_ref().map(Self::checkpoint_row).transpose()
    }

    pub(crate) async fn checkpoints_in(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<SavedCheckpoint>> {
        let rows = sqlx::query(
            "SELECT size, root, note, key, time_us FROM checkpoints \
             WHERE size > $1 ORDER BY size LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter().map(Self::checkpoint_row).collect()
    }

    pub(crate) async fn save_checkpoint_in(&self, cp: &SavedCheckpoint) -> Result<bool> {
        // `RETURNING` tells whether the row went in (the row count is not part of
        // sqlx's database-generic API).
        let inserted = sqlx::query(
            "INSERT INTO checkpoints (size, root, note, key, time_us) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING RETURNING size",
        )
        .bind(to_i64(cp.size))
        .bind(&cp.root[..])
        .bind(cp.note.as_str())
        .bind(cp.key.as_str())
        .bind(cp.time_us)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        Ok(inserted.is_some())
    }
}
