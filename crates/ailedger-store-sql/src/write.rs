//! The write path: [`SqlWriter`], the bulk row operations under
//! [`CachedWriter`], and the append and replay transactions.

use std::sync::Arc;

use ailedger_core::{
    EdgeFact, EdgeKind, Entry,
    graph::{EdgeRow, GraphChanges},
};
use ailedger_store::{
    Appended, Blob, NewEntry, Result, StoreError, StoredEntry,
    cached::{ArtifactRow, Bulk, CachedWriter, FetchedArtifact, Id},
};
use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::{
    Dialect, SqlStore, Statements, Values, db_err, read::parse_attrs, read::parse_kind, to_i64,
};

/// Rows per bulk statement: each statement binds one JSON array of rows, so this only
/// bounds the size of that text (a few MB).
const BULK_ROWS: usize = 20_000;

/// Most entry rows per INSERT (6 parameters each, far below either database's limit:
/// SQLite 32,766, PostgreSQL 65,535) ...
const ENTRY_ROWS: usize = 1_000;
/// ... and roughly most body bytes (one large body still goes alone).
const ENTRY_BYTES: usize = 4 << 20;
/// Appends of at most this many items are encoded on the writing task (see
/// `append_in`).
const INLINE_ENCODE_ITEMS: usize = 64;

/// The entry bodies of an append: encoded already, or being encoded on a blocking
/// thread.
enum Encoding {
    Done(Result<Vec<StoredEntry>>),
    Running(tokio::task::JoinHandle<Result<Vec<StoredEntry>>>),
}

/// One JSON array parameter, `[[col, col, ...], ...]` or `[text, ...]`.
fn json_param<T: serde::Serialize>(rows: &[T]) -> Result<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::other(format!("encoding rows: {e}")))
}

/// An edge's paths as stored: a JSON array, or NULL for none.
fn paths_text(paths: &[String]) -> Result<Option<String>> {
    if paths.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(paths)
        .map(Some)
        .map_err(|e| StoreError::other(format!("encoding edge paths: {e}")))
}

/// Bulk row operations inside one write transaction; [`CachedWriter`] puts the
/// per-entry logic on top.
pub(crate) struct SqlWriter<'c, D: Dialect> {
    conn: &'c mut <D::Db as Database>::Connection,
    sql: &'c Statements,
}

#[async_trait]
impl<D, DB> Bulk for SqlWriter<'_, D>
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
    async fn fetch_artifacts(&mut self, ids: &[&str]) -> Result<Vec<FetchedArtifact>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(BULK_ROWS) {
            let rows = sqlx::query(&self.sql.fetch_artifacts)
                .bind(json_param(chunk)?)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
            for r in rows {
                let seq = crate::to_u64(r.get::<i64, _>(3));
                out.push(FetchedArtifact {
                    id: r.get::<String, _>(0),
                    kind: parse_kind(r.get::<&str, _>(1), seq)?,
                    attrs: parse_attrs(r.get::<&str, _>(2), seq)?,
                    merged_into: r.get(4),
                });
            }
        }
        Ok(out)
    }

    async fn fetch_aliases(&mut self, aliases: &[&str]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in aliases.chunks(BULK_ROWS) {
            let rows = sqlx::query(&self.sql.fetch_aliases)
                .bind(json_param(chunk)?)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
            out.extend(rows.iter().map(|r| (r.get(0), r.get(1))));
        }
        Ok(out)
    }

    async fn fetch_active_edges(
        &mut self,
        srcs: &[&str],
    ) -> Result<Vec<(String, EdgeKind, String)>> {
        let mut out = Vec::new();
        for chunk in srcs.chunks(BULK_ROWS) {
            let rows = sqlx::query(&self.sql.fetch_active_edges)
                .bind(json_param(chunk)?)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
            for r in rows {
                let seq = crate::to_u64(r.get::<i64, _>(3));
                out.push((r.get(0), parse_kind(r.get::<&str, _>(1), seq)?, r.get(2)));
            }
        }
        Ok(out)
    }

    async fn fetch_active_sources(&mut self, dst: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT DISTINCT src FROM edges WHERE dst = $1 AND until_seq IS NULL")
                .bind(dst)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn redirect_aliases(&mut self, rows: &[(String, String, u64)]) -> Result<()> {
        for (from, to, seq) in rows {
            sqlx::query("UPDATE aliases SET artifact = $1, seq = $2 WHERE artifact = $3")
                .bind(to.as_str())
                .bind(to_i64(*seq))
                .bind(from.as_str())
                .execute(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn insert_entry_owned(&mut self, e: StoredEntry) -> Result<()> {
        // The body is moved into the statement, not borrowed (see the blob).
        sqlx::query(
            "INSERT INTO entries (seq, time_us, actor, kind, body, leaf_hash) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(to_i64(e.seq))
        .bind(e.time_us)
        .bind(e.actor)
        .bind(e.kind)
        .bind(e.body)
        .bind(e.leaf_hash.to_vec())
        .execute(&mut *self.conn)
        .await
        .map_err(db_err::<D>)?;
        Ok(())
    }

    async fn insert_entries(&mut self, mut rows: &[StoredEntry]) -> Result<()> {
        // Bodies are bound as bytes (they can be large): up to ENTRY_ROWS rows or about
        // ENTRY_BYTES of bodies per statement, whichever comes first.
        while !rows.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            while n < rows.len()
                && n < ENTRY_ROWS
                && (n == 0 || bytes + rows[n].body.len() <= ENTRY_BYTES)
            {
                bytes += rows[n].body.len();
                n += 1;
            }
            let (chunk, rest) = rows.split_at(n);
            rows = rest;
            let mut v = Values::<DB>::new(
                "INSERT INTO entries (seq, time_us, actor, kind, body, leaf_hash) ",
            );
            for e in chunk {
                v.row();
                v.bind(to_i64(e.seq))?
                    .bind(e.time_us)?
                    .bind(e.actor.as_str())?
                    .bind(e.kind.as_str())?
                    .bind(e.body.as_slice())?
                    .bind(&e.leaf_hash[..])?
                    .end_row();
            }
            let (sql, args) = v.into_parts();
            sqlx::query_with(&sql, args)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn upsert_artifacts(&mut self, rows: &[ArtifactRow]) -> Result<()> {
        for chunk in rows.chunks(BULK_ROWS) {
            let js: Vec<_> = chunk
                .iter()
                .map(|a| {
                    (
                        &*a.id,
                        a.kind.as_str(),
                        a.name.as_deref(),
                        a.version.as_deref(),
                        a.attrs.as_str(),
                        a.first_seq,
                        a.last_seq,
                        a.merged_into.as_deref(),
                    )
                })
                .collect();
            sqlx::query(&self.sql.upsert_artifacts)
                .bind(json_param(&js)?)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn insert_aliases(&mut self, rows: &[(Id, Id, u64)]) -> Result<()> {
        for chunk in rows.chunks(BULK_ROWS) {
            sqlx::query(&self.sql.insert_aliases)
                .bind(json_param(chunk)?)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn insert_edges(&mut self, rows: &[EdgeRow]) -> Result<()> {
        for chunk in rows.chunks(BULK_ROWS) {
            let mut js = Vec::with_capacity(chunk.len());
            for e in chunk {
                js.push((
                    &*e.from,
                    e.edge.as_str(),
                    &*e.to,
                    e.since,
                    e.until,
                    paths_text(&e.paths)?,
                ));
            }
            sqlx::query(&self.sql.insert_edges)
                .bind(json_param(&js)?)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn insert_documents(&mut self, rows: &[(String, u64, String)]) -> Result<()> {
        for (digest, seq, format) in rows {
            sqlx::query(
                "INSERT INTO documents (digest, seq, format) VALUES ($1, $2, $3) \
                 ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest.as_str())
            .bind(to_i64(*seq))
            .bind(format.as_str())
            .execute(&mut *self.conn)
            .await
            .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn end_edges(&mut self, rows: &[(EdgeFact, u64)]) -> Result<()> {
        for (e, seq) in rows {
            sqlx::query(
                "UPDATE edges SET until_seq = $1 \
                 WHERE src = $2 AND kind = $3 AND dst = $4 AND until_seq IS NULL",
            )
            .bind(to_i64(*seq))
            .bind(e.from.as_str())
            .bind(e.edge.as_str())
            .bind(e.to.as_str())
            .execute(&mut *self.conn)
            .await
            .map_err(db_err::<D>)?;
        }
        Ok(())
    }

    async fn token_active(&mut self, name: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tokens WHERE name = $1 AND revoked_seq IS NULL",
        )
        .bind(name)
        .fetch_one(&mut *self.conn)
        .await
        .map_err(db_err::<D>)?;
        Ok(n > 0)
    }

    async fn grant_token(
        &mut self,
        t: &ailedger_core::token::TokenGrant,
        expires_us: Option<i64>,
        seq: u64,
    ) -> Result<()> {
        // Two statements rather than a bound NULL: sqlx's generic Option encoding is
        // not implied by the bounds above.
        const UPSERT: &str = "ON CONFLICT (name) DO UPDATE SET scope = excluded.scope, \
             hash = excluded.hash, expires_us = excluded.expires_us, \
             created_seq = excluded.created_seq, revoked_seq = NULL";
        let q = match expires_us {
            Some(_) => format!(
                "INSERT INTO tokens (name, scope, hash, created_seq, expires_us) \
                 VALUES ($1, $2, $3, $4, $5) {UPSERT}"
            ),
            None => format!(
                "INSERT INTO tokens (name, scope, hash, created_seq, expires_us) \
                 VALUES ($1, $2, $3, $4, NULL) {UPSERT}"
            ),
        };
        let mut q = sqlx::query(&q)
            .bind(t.name.as_str())
            .bind(t.scope.as_str())
            .bind(t.hash.to_string())
            .bind(to_i64(seq));
        if let Some(e) = expires_us {
            q = q.bind(e);
        }
        q.execute(&mut *self.conn).await.map_err(db_err::<D>)?;
        Ok(())
    }

    async fn revoke_token(&mut self, name: &str, seq: u64) -> Result<()> {
        sqlx::query("UPDATE tokens SET revoked_seq = $1 WHERE name = $2 AND revoked_seq IS NULL")
            .bind(to_i64(seq))
            .bind(name)
            .execute(&mut *self.conn)
            .await
            .map_err(db_err::<D>)?;
        Ok(())
    }
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
    /// The bulk writer over `conn`.
    fn writer<'c>(&'c self, conn: &'c mut DB::Connection) -> CachedWriter<SqlWriter<'c, D>> {
        CachedWriter::new(SqlWriter {
            conn,
            sql: &self.sql,
        })
    }

    /// Inside a write transaction: reserves `n` seqs (the `ledger_head` update is also
    /// the write lock across processes) and returns the first one and the (monotonic)
    /// time for them.
    async fn reserve(conn: &mut DB::Connection, n: u64, at_least_us: i64) -> Result<(u64, i64)> {
        // One statement: the time never goes back (the clock may), and each statement
        // of the write transaction is a round trip.
        let row = sqlx::query(
            "UPDATE ledger_head SET seq = seq + $1, \
             time_us = CASE WHEN time_us > $2 THEN time_us ELSE $2 END \
             WHERE id = 1 RETURNING seq, time_us",
        )
        .bind(to_i64(n))
        .bind(at_least_us)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err::<D>)?;
        let last = crate::to_u64(row.get::<i64, _>(0));
        Ok((last + 1 - n, row.get::<i64, _>(1)))
    }

    async fn set_head_time(conn: &mut DB::Connection, time_us: i64) -> Result<()> {
        sqlx::query("UPDATE ledger_head SET time_us = $1 WHERE id = 1")
            .bind(time_us)
            .execute(&mut *conn)
            .await
            .map_err(db_err::<D>)?;
        Ok(())
    }

    /// One append transaction: blob, seq reservation, derived rows, entry rows, log
    /// nodes, commit.
    pub(crate) async fn append_in(
        &self,
        entries: Vec<NewEntry>,
        blob: Option<Blob>,
    ) -> Result<(Vec<Appended>, GraphChanges)> {
        if entries.is_empty() {
            return Ok((vec![], GraphChanges::default()));
        }
        let started = std::time::Instant::now();
        let mut tx = self.begin_write().await?;
        if let Some(b) = blob {
            // The bytes are moved into the statement, not borrowed: a borrowed parameter
            // is copied before it goes to the database (a large document would be held
            // twice), and they are freed once stored.
            sqlx::query(
                "INSERT INTO blobs (digest, format, size, bytes) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (digest) DO NOTHING",
            )
            .bind(b.digest.to_string())
            .bind(b.format)
            .bind(i64::try_from(b.bytes.len()).unwrap_or(i64::MAX))
            .bind(b.bytes)
            .execute(&mut *tx)
            .await
            .map_err(db_err::<D>)?;
        }
        let (first, time_us) =
            Self::reserve(&mut tx, entries.len() as u64, ailedger_store::now_us()).await?;
        // Validating and encoding the bodies (canonical JSON, leaf hashes) is CPU work
        // independent of the derived rows: it runs on a blocking thread while this task
        // works out and buffers those rows. An append of very many items (a large
        // ingested document) instead encodes its bodies first, then buffers the derived
        // rows while freeing the data, and only then writes its entry rows: the data is
        // never in memory together with the copies of a body the database makes while
        // inserting it.
        // A small append (a few registrations, say) is encoded here: that takes less
        // than handing it to another thread.
        let items: usize = entries.iter().map(|e| ailedger_store::items(&e.data)).sum();
        let large = ailedger_store::is_large_append(items);
        let mut entries = Arc::new(entries);
        let encode = |entries: &Arc<Vec<NewEntry>>| {
            let entries = Arc::clone(entries);
            tokio::task::spawn_blocking(move || StoredEntry::encode_new(&entries, first, time_us))
        };
        let (encoding, encoded) = if large {
            let stored = encode(&entries)
                .await
                .map_err(|e| StoreError::other(format!("encoding entries: {e}")))??;
            (None, stored)
        } else if items <= INLINE_ENCODE_ITEMS {
            let stored = StoredEntry::encode_new(&entries, first, time_us);
            (Some(Encoding::Done(stored)), Vec::new())
        } else {
            (Some(Encoding::Running(encode(&entries))), Vec::new())
        };
        let mut w = self.writer(&mut tx);
        let mut applied = Vec::with_capacity(entries.len());
        let derived: Result<()> = async {
            w.prefetch(entries.iter().map(|e| &e.data)).await?;
            match Arc::get_mut(&mut entries) {
                // Large: encoded already and owned here, so each artifact's attributes
                // are freed as soon as it is buffered.
                Some(owned) if large => {
                    for (i, e) in owned.iter_mut().enumerate() {
                        let seq = first + i as u64;
                        applied.push(
                            ailedger_store::apply_data_consuming(&mut w, seq, &mut e.data).await?,
                        );
                    }
                }
                _ => {
                    for (i, e) in entries.iter().enumerate() {
                        let seq = first + i as u64;
                        applied.push(ailedger_store::apply_data(&mut w, seq, &e.data).await?);
                    }
                }
            }
            Ok(())
        }
        .await;
        let applied_at = started.elapsed();
        // The entries' data now lives on as bodies and buffered rows.
        drop(entries);
        let mut out = Vec::with_capacity(applied.len());
        match encoding {
            Some(encoding) => {
                let stored = match encoding {
                    Encoding::Done(stored) => stored,
                    Encoding::Running(task) => task
                        .await
                        .map_err(|e| StoreError::other(format!("encoding entries: {e}")))?,
                };
                // An invalid entry is reported as such, whatever the derived rows said.
                let stored = stored?;
                derived?;
                for (s, (notes, created)) in stored.into_iter().zip(applied) {
                    out.push(Appended {
                        seq: s.seq,
                        time_us,
                        leaf_hash: s.leaf_hash,
                        notes,
                        created,
                    });
                    w.push_entry(s);
                }
            }
            None => {
                derived?;
                ailedger_store::release_freed_memory();
                for (e, (notes, created)) in encoded.into_iter().zip(applied) {
                    out.push(Appended {
                        seq: e.seq,
                        time_us,
                        leaf_hash: e.leaf_hash,
                        notes,
                        created,
                    });
                    w.write_entry_now(e).await?;
                }
            }
        }
        let encoded_at = started.elapsed();
        let changes = w.flush().await?;
        let flushed_at = started.elapsed();
        let leaves: Vec<[u8; 32]> = out.iter().map(|a| a.leaf_hash).collect();
        let frontier = self.log_append(&mut tx, first, &leaves).await?;
        let logged_at = started.elapsed();
        tx.commit().await?;
        self.log.set(frontier);
        tracing::debug!(
            entries = out.len(),
            applied_ms = applied_at.as_millis() as u64,
            encoded_ms = encoded_at.as_millis() as u64,
            flushed_ms = flushed_at.as_millis() as u64,
            logged_ms = logged_at.as_millis() as u64,
            committed_ms = started.elapsed().as_millis() as u64,
            "append"
        );
        Ok((out, changes))
    }

    /// Writes already-sequenced entries in one transaction, each continuing the
    /// sequence.
    pub(crate) async fn replay_in(&self, entries: Vec<Entry>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let first = entries.first().map_or(1, |e| e.seq);
        let mut leaves = Vec::with_capacity(entries.len());
        for entry in entries {
            let (next, _) = Self::reserve(&mut tx, 1, entry.time_us).await?;
            if entry.seq != next {
                return Err(StoreError::Corrupt {
                    seq: entry.seq,
                    reason: format!("replay expected seq {next}"),
                });
            }
            Self::set_head_time(&mut tx, entry.time_us).await?;
            let mut w = self.writer(&mut tx);
            let stored = ailedger_store::apply(&mut w, &entry).await?.stored;
            w.flush().await?;
            leaves.push(stored.leaf_hash);
        }
        let frontier = self.log_append(&mut tx, first, &leaves).await?;
        tx.commit().await?;
        self.log.set(frontier);
        Ok(())
    }
}
