//! The SQL both relational backends share, as a macro expanded inside each backend
//! crate (so this crate never depends on sqlx). Every statement here is written in
//! the common subset of SQLite and PostgreSQL: `$n` placeholders used in increasing
//! order, `RETURNING`, `ON CONFLICT DO NOTHING`, partial unique indexes.
//!
//! A backend provides `struct $store { pool: sqlx::Pool<$db>, .. }` and its own
//! `begin_write` (how it takes the write lock); the macro provides the rest.
//!
//! Bulk reads and writes bind one JSON array per statement instead of one parameter
//! per value: binding is where sqlx and SQLite spent most of a large write (measured:
//! 30,000 edges took 250 ms as 120-parameter statements, 100 ms as one JSON array). The
//! two dialects differ only in how a JSON array becomes rows, which the backend passes:
//! `rows` is a FROM item yielding one row per element as `j.value` (columns are read
//! with `j.value->>n`), `texts` a SELECT yielding the elements of an array of strings.

/// Implements [`Writer`](crate::Writer) for `$writer` and the shared read and write
/// methods for `$store`.
#[doc(hidden)]
#[macro_export]
macro_rules! sqlx_backend {
    ($db:ty, $store:ident, $writer:ident, rows = $rows:literal, texts = $texts:literal) => {
        use $crate::{
            Appended, ArtifactRecord, Counts, DerivedDump, NewEntry, Result, StoreError,
            StoredEntry,
        };
        use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, Entry, graph::{EdgeRow, GraphSink}};
        use serde_json::{Map, Value};
        use sqlx::Row as _;

        $crate::sqlx_log!($db, $store);

        fn db_err(e: sqlx::Error) -> StoreError {
            StoreError::Backend(e.to_string())
        }

        fn to_i64(v: u64) -> i64 {
            i64::try_from(v).unwrap_or(i64::MAX)
        }

        fn to_u64(v: i64) -> u64 {
            u64::try_from(v).unwrap_or(0)
        }

        fn parse_kind<T: std::str::FromStr>(s: &str, seq: u64) -> Result<T> {
            s.parse().map_err(|_| StoreError::Corrupt { seq, reason: format!("unknown kind {s:?} in derived row") })
        }

        fn parse_attrs(s: &str, seq: u64) -> Result<Map<String, Value>> {
            serde_json::from_str(s).map_err(|e| StoreError::Corrupt { seq, reason: format!("attrs: {e}") })
        }

        fn hash32(v: &[u8], seq: u64) -> Result<[u8; 32]> {
            v.try_into().map_err(|_| StoreError::Corrupt { seq, reason: "leaf hash is not 32 bytes".into() })
        }

        /// Bulk row operations inside one write transaction; [`CachedWriter`]
        /// ($crate::cached::CachedWriter) puts the per-entry logic on top.
        pub(crate) struct $writer<'c> {
            pub(crate) conn: &'c mut <$db as sqlx::Database>::Connection,
        }

        /// Rows per bulk statement: each statement binds one JSON array of rows, so
        /// this only bounds the size of that text (a few MB).
        const BULK_ROWS: usize = 20_000;

        /// Most entry rows per INSERT (6 parameters each, far below either database's
        /// limit: SQLite 32,766, PostgreSQL 65,535) ...
        const ENTRY_ROWS: usize = 1_000;
        /// ... and roughly most body bytes (one large body still goes alone).
        const ENTRY_BYTES: usize = 4 << 20;

        /// One JSON array parameter, `[[col, col, ...], ...]` or `[text, ...]`.
        fn json_param<T: $crate::__serde::Serialize>(rows: &[T]) -> Result<String> {
            serde_json::to_string(rows).map_err(|e| StoreError::Backend(format!("encoding rows: {e}")))
        }

        #[async_trait::async_trait]
        impl $crate::cached::Bulk for $writer<'_> {
            async fn fetch_artifacts(&mut self, ids: &[&str]) -> Result<Vec<$crate::cached::FetchedArtifact>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(BULK_ROWS) {
                    let q = concat!("SELECT id, kind, attrs, first_seq, merged_into FROM artifacts WHERE id IN (", $texts, ")");
                    for r in sqlx::query(q).bind(json_param(chunk)?).fetch_all(&mut *self.conn).await.map_err(db_err)? {
                        let seq = to_u64(r.get::<i64, _>(3));
                        out.push($crate::cached::FetchedArtifact {
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
                    let q = concat!("SELECT alias, artifact FROM aliases WHERE alias IN (", $texts, ")");
                    for r in sqlx::query(q).bind(json_param(chunk)?).fetch_all(&mut *self.conn).await.map_err(db_err)? {
                        out.push((r.get(0), r.get(1)));
                    }
                }
                Ok(out)
            }

            async fn fetch_active_edges(&mut self, srcs: &[&str]) -> Result<Vec<(String, EdgeKind, String)>> {
                let mut out = Vec::new();
                for chunk in srcs.chunks(BULK_ROWS) {
                    let q = concat!("SELECT src, kind, dst, since_seq FROM edges WHERE until_seq IS NULL AND src IN (", $texts, ")");
                    for r in sqlx::query(q).bind(json_param(chunk)?).fetch_all(&mut *self.conn).await.map_err(db_err)? {
                        let seq = to_u64(r.get::<i64, _>(3));
                        out.push((r.get(0), parse_kind(r.get::<&str, _>(1), seq)?, r.get(2)));
                    }
                }
                Ok(out)
            }

            async fn fetch_active_sources(&mut self, dst: &str) -> Result<Vec<String>> {
                let rows = sqlx::query("SELECT DISTINCT src FROM edges WHERE dst = $1 AND until_seq IS NULL")
                    .bind(dst)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            }

            async fn redirect_aliases(&mut self, rows: &[(String, String, u64)]) -> Result<()> {
                for (from, to, seq) in rows {
                    sqlx::query("UPDATE aliases SET artifact = $1, seq = $2 WHERE artifact = $3")
                        .bind(to)
                        .bind(to_i64(*seq))
                        .bind(from)
                        .execute(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }

            async fn insert_entry_owned(&mut self, e: StoredEntry) -> Result<()> {
                // The body is moved into the statement, not borrowed (see the blob).
                sqlx::query("INSERT INTO entries (seq, time_us, actor, kind, body, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(to_i64(e.seq))
                    .bind(e.time_us)
                    .bind(e.actor)
                    .bind(e.kind)
                    .bind(e.body)
                    .bind(e.leaf_hash.to_vec())
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn insert_entries(&mut self, mut rows: &[StoredEntry]) -> Result<()> {
                // Bodies are bound as bytes (they can be large): up to ENTRY_ROWS rows
                // or about ENTRY_BYTES of bodies per statement, whichever comes first.
                while !rows.is_empty() {
                    let mut n = 0;
                    let mut bytes = 0;
                    while n < rows.len() && n < ENTRY_ROWS && (n == 0 || bytes + rows[n].body.len() <= ENTRY_BYTES) {
                        bytes += rows[n].body.len();
                        n += 1;
                    }
                    let (chunk, rest) = rows.split_at(n);
                    rows = rest;
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO entries (seq, time_us, actor, kind, body, leaf_hash) ");
                    qb.push_values(chunk, |mut b, e| {
                        b.push_bind(to_i64(e.seq))
                            .push_bind(e.time_us)
                            .push_bind(e.actor.as_str())
                            .push_bind(e.kind.as_str())
                            .push_bind(e.body.as_slice())
                            .push_bind(&e.leaf_hash[..]);
                    });
                    qb.build().execute(&mut *self.conn).await.map_err(db_err)?;
                }
                Ok(())
            }

            async fn upsert_artifacts(&mut self, rows: &[$crate::cached::ArtifactRow]) -> Result<()> {
                for chunk in rows.chunks(BULK_ROWS) {
                    let js: Vec<_> = chunk.iter().map(|a| (&*a.id, a.kind.as_str(), a.name.as_deref(), a.version.as_deref(), a.attrs.as_str(), a.first_seq, a.last_seq, a.merged_into.as_deref())).collect();
                    let q = concat!(
                        "INSERT INTO artifacts (id, kind, name, version, attrs, first_seq, last_seq, merged_into) ",
                        "SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, CAST(j.value->>5 AS BIGINT), CAST(j.value->>6 AS BIGINT), j.value->>7 FROM ", $rows,
                        // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT.
                        " WHERE true ON CONFLICT (id) DO UPDATE SET attrs = excluded.attrs, last_seq = excluded.last_seq, merged_into = excluded.merged_into"
                    );
                    sqlx::query(q).bind(json_param(&js)?).execute(&mut *self.conn).await.map_err(db_err)?;
                }
                Ok(())
            }

            async fn insert_aliases(&mut self, rows: &[($crate::cached::Id, $crate::cached::Id, u64)]) -> Result<()> {
                for chunk in rows.chunks(BULK_ROWS) {
                    let q = concat!("INSERT INTO aliases (alias, artifact, seq) SELECT j.value->>0, j.value->>1, CAST(j.value->>2 AS BIGINT) FROM ", $rows);
                    sqlx::query(q).bind(json_param(chunk)?).execute(&mut *self.conn).await.map_err(db_err)?;
                }
                Ok(())
            }

            async fn insert_edges(&mut self, rows: &[EdgeRow]) -> Result<()> {
                for chunk in rows.chunks(BULK_ROWS) {
                    let mut js = Vec::with_capacity(chunk.len());
                    for e in chunk {
                        js.push((&*e.from, e.edge.as_str(), &*e.to, e.since, e.until, paths_text(&e.paths)?));
                    }
                    let q = concat!(
                        "INSERT INTO edges (src, kind, dst, since_seq, until_seq, paths) ",
                        "SELECT j.value->>0, j.value->>1, j.value->>2, CAST(j.value->>3 AS BIGINT), CAST(j.value->>4 AS BIGINT), j.value->>5 FROM ", $rows
                    );
                    sqlx::query(q).bind(json_param(&js)?).execute(&mut *self.conn).await.map_err(db_err)?;
                }
                Ok(())
            }

            async fn insert_documents(&mut self, rows: &[(String, u64, String)]) -> Result<()> {
                for (digest, seq, format) in rows {
                    sqlx::query("INSERT INTO documents (digest, seq, format) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING")
                        .bind(digest)
                        .bind(to_i64(*seq))
                        .bind(format)
                        .execute(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }

            async fn end_edges(&mut self, rows: &[(EdgeFact, u64)]) -> Result<()> {
                for (e, seq) in rows {
                    sqlx::query("UPDATE edges SET until_seq = $1 WHERE src = $2 AND kind = $3 AND dst = $4 AND until_seq IS NULL")
                        .bind(to_i64(*seq))
                        .bind(&e.from)
                        .bind(e.edge.as_str())
                        .bind(&e.to)
                        .execute(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }
        }

        /// An edge's paths as stored: a JSON array, or NULL for none.
        fn paths_text(paths: &[String]) -> Result<Option<String>> {
            if paths.is_empty() {
                return Ok(None);
            }
            serde_json::to_string(paths).map(Some).map_err(|e| StoreError::Backend(format!("encoding edge paths: {e}")))
        }

        fn edge_row(r: &<$db as sqlx::Database>::Row) -> Result<EdgeRow> {
            let since = to_u64(r.get::<i64, _>(3));
            let paths = match r.get::<Option<&str>, _>(5) {
                None => Vec::new(),
                Some(p) => serde_json::from_str(p).map_err(|e| StoreError::Corrupt { seq: since, reason: format!("edge paths: {e}") })?,
            };
            Ok(EdgeRow {
                from: r.get::<&str, _>(0).into(),
                edge: parse_kind(r.get::<&str, _>(1), since)?,
                to: r.get::<&str, _>(2).into(),
                since,
                until: r.get::<Option<i64>, _>(4).map(to_u64),
                paths,
            })
        }

        impl $store {
            /// Takes the write lock, reserves `n` seqs, and returns the first one and
            /// the (monotonic) time for them.
            async fn reserve(conn: &mut <$db as sqlx::Database>::Connection, n: u64, at_least_us: i64) -> Result<(u64, i64)> {
                let row = sqlx::query("UPDATE ledger_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, time_us")
                    .bind(to_i64(n))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                let last = to_u64(row.get::<i64, _>(0));
                let time_us = at_least_us.max(row.get::<i64, _>(1));
                sqlx::query("UPDATE ledger_head SET time_us = $1 WHERE id = 1")
                    .bind(time_us)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                Ok((last + 1 - n, time_us))
            }

            async fn append_in(&self, entries: Vec<NewEntry>, blob: Option<$crate::Blob>) -> Result<(Vec<Appended>, ailedger_core::graph::GraphChanges)> {
                if entries.is_empty() {
                    return Ok((vec![], Default::default()));
                }
                let started = std::time::Instant::now();
                let mut tx = self.begin_write().await?;
                if let Some(b) = blob {
                    // The bytes are moved into the statement, not borrowed: a borrowed
                    // parameter is copied before it goes to the database (a large
                    // document would be held twice), and they are freed once stored.
                    sqlx::query("INSERT INTO blobs (digest, format, size, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING")
                        .bind(b.digest.to_string())
                        .bind(b.format)
                        .bind(i64::try_from(b.bytes.len()).unwrap_or(i64::MAX))
                        .bind(b.bytes)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                let (first, time_us) = Self::reserve(&mut tx, entries.len() as u64, $crate::now_us()).await?;
                // Validating and encoding the bodies (canonical JSON, leaf hashes) is CPU
                // work independent of the derived rows: it runs on a blocking thread
                // while this task works out and buffers those rows. An append of very
                // many items (a large ingested document) instead encodes its bodies
                // first, then buffers the derived rows while freeing the data, and only
                // then writes its entry rows: the data is never in memory together with
                // the copies of a body the database makes while inserting it.
                let large = $crate::is_large_append(entries.iter().map(|e| $crate::items(&e.data)).sum());
                let mut entries = std::sync::Arc::new(entries);
                let encode = |entries: &std::sync::Arc<Vec<NewEntry>>| {
                    let entries = std::sync::Arc::clone(entries);
                    tokio::task::spawn_blocking(move || StoredEntry::encode_new(&entries, first, time_us))
                };
                let (encoding, encoded) = if large {
                    let stored = encode(&entries)
                        .await
                        .map_err(|e| StoreError::Backend(format!("encoding entries: {e}")))??;
                    (None, stored)
                } else {
                    (Some(encode(&entries)), Vec::new())
                };
                let mut w = $crate::cached::CachedWriter::new($writer { conn: &mut tx });
                let mut applied = Vec::with_capacity(entries.len());
                let derived: Result<()> = async {
                    w.prefetch(entries.iter().map(|e| &e.data)).await?;
                    match std::sync::Arc::get_mut(&mut entries) {
                        // Large: encoded already and owned here, so each artifact's
                        // attributes are freed as soon as it is buffered.
                        Some(owned) if large => {
                            for (i, e) in owned.iter_mut().enumerate() {
                                applied.push($crate::apply_data_consuming(&mut w, first + i as u64, &mut e.data).await?);
                            }
                        }
                        _ => {
                            for (i, e) in entries.iter().enumerate() {
                                applied.push($crate::apply_data(&mut w, first + i as u64, &e.data).await?);
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
                        let stored = encoding
                            .await
                            .map_err(|e| StoreError::Backend(format!("encoding entries: {e}")))?;
                        // An invalid entry is reported as such, whatever the derived rows said.
                        let stored = stored?;
                        derived?;
                        for (s, (notes, created)) in stored.into_iter().zip(applied) {
                            out.push(Appended { seq: s.seq, time_us, leaf_hash: s.leaf_hash, notes, created });
                            w.push_entry(s);
                        }
                    }
                    None => {
                        derived?;
                        $crate::release_freed_memory();
                        for (e, (notes, created)) in encoded.into_iter().zip(applied) {
                            out.push(Appended { seq: e.seq, time_us, leaf_hash: e.leaf_hash, notes, created });
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
                tx.commit().await.map_err(db_err)?;
                self.log_committed(frontier);
                $crate::tracing::debug!(
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

            async fn replay_in(&self, entries: Vec<Entry>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let first = entries.first().map_or(1, |e| e.seq);
                let mut leaves = Vec::with_capacity(entries.len());
                for entry in entries {
                    let (next, _) = Self::reserve(&mut tx, 1, entry.time_us).await?;
                    if entry.seq != next {
                        return Err(StoreError::Corrupt { seq: entry.seq, reason: format!("replay expected seq {next}") });
                    }
                    sqlx::query("UPDATE ledger_head SET time_us = $1 WHERE id = 1")
                        .bind(entry.time_us)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let mut w = $crate::cached::CachedWriter::new($writer { conn: &mut tx });
                    let stored = $crate::apply(&mut w, &entry).await?.stored;
                    w.flush().await?;
                    leaves.push(stored.leaf_hash);
                }
                let frontier = self.log_append(&mut tx, first, &leaves).await?;
                tx.commit().await.map_err(db_err)?;
                self.log_committed(frontier);
                Ok(())
            }

            async fn head_in(&self) -> Result<u64> {
                let seq: i64 = sqlx::query_scalar("SELECT seq FROM ledger_head WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(to_u64(seq))
            }

            async fn counts_in(&self) -> Result<Counts> {
                let row = sqlx::query("SELECT (SELECT seq FROM ledger_head WHERE id = 1), (SELECT count(*) FROM artifacts), (SELECT count(*) FROM edges)")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(Counts {
                    entries: to_u64(row.get::<i64, _>(0)),
                    artifacts: to_u64(row.get::<i64, _>(1)),
                    edges: to_u64(row.get::<i64, _>(2)),
                })
            }

            async fn entries_in(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
                let rows = sqlx::query("SELECT seq, time_us, actor, kind, body, leaf_hash FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(to_i64(after))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let seq = to_u64(r.get::<i64, _>(0));
                        Ok(StoredEntry {
                            seq,
                            time_us: r.get(1),
                            actor: r.get(2),
                            kind: r.get(3),
                            body: r.get(4),
                            leaf_hash: hash32(r.get::<&[u8], _>(5), seq)?,
                        })
                    })
                    .collect()
            }

            async fn seq_at_in(&self, time_us: i64) -> Result<u64> {
                let seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM entries WHERE time_us <= $1")
                    .bind(time_us)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(seq.map(to_u64).unwrap_or(0))
            }

            async fn resolve_in(&self, alias: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT artifact FROM aliases WHERE alias = $1")
                    .bind(alias)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn aliases_with_prefix_in(&self, prefix: &str, limit: u32) -> Result<Vec<(String, String)>> {
                // Range scan instead of LIKE, so `%` and `_` in names mean nothing.
                let mut end = prefix.to_owned();
                end.push(char::MAX);
                let rows = sqlx::query("SELECT alias, artifact FROM aliases WHERE alias >= $1 AND alias < $2 ORDER BY alias LIMIT $3")
                    .bind(prefix)
                    .bind(end)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            }

            async fn artifact_in(&self, id: &str) -> Result<Option<ArtifactRecord>> {
                let Some(r) = sqlx::query("SELECT id, kind, name, version, attrs, first_seq, last_seq, merged_into FROM artifacts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?
                else {
                    return Ok(None);
                };
                let aliases = sqlx::query_scalar("SELECT alias FROM aliases WHERE artifact = $1 ORDER BY alias")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(Some(artifact_row(&r, aliases)?))
            }

            async fn edges_of_in(&self, id: &str) -> Result<Vec<EdgeRow>> {
                let rows = sqlx::query("SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE src = $1 UNION ALL SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE dst = $2 ORDER BY 4, 1, 2, 3")
                    .bind(id)
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(edge_row).collect()
            }

            async fn load_into_in(&self, index: &mut (dyn GraphSink + Send), after: u64) -> Result<u64> {
                use futures_util::TryStreamExt as _;
                let head = self.head_in().await?;
                if head <= after {
                    return Ok(head);
                }
                {
                    // New and changed artifacts, new ones in (first seq, id) order, which
                    // fixes their node numbers. A first load walks the (first_seq, id)
                    // index; a tail finds the few changed rows by last_seq.
                    let query = if after == 0 {
                        sqlx::query("SELECT id, kind, first_seq, name, version, attrs FROM artifacts WHERE first_seq <= $1 ORDER BY first_seq, id")
                            .bind(to_i64(head))
                    } else {
                        sqlx::query("SELECT id, kind, first_seq, name, version, attrs FROM artifacts WHERE last_seq > $1 AND first_seq <= $2 ORDER BY first_seq, id")
                            .bind(to_i64(after))
                            .bind(to_i64(head))
                    };
                    let mut rows = query.fetch(&self.pool);
                    while let Some(r) = rows.try_next().await.map_err(db_err)? {
                        let seq = to_u64(r.get::<i64, _>(2));
                        let (id, kind) = (r.get::<&str, _>(0), parse_kind(r.get::<&str, _>(1), seq)?);
                        let meta = ailedger_core::graph::NodeMeta::of(id, kind, r.get(3), r.get(4), r.get(5));
                        index.artifact(id, kind, meta);
                    }
                }
                // A first load reads every row in table order; a tail reads what started or
                // ended after `after` (the index does not care about row order).
                let query = if after == 0 {
                    sqlx::query("SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE since_seq <= $1")
                        .bind(to_i64(head))
                } else {
                    sqlx::query("SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE (since_seq > $1 AND since_seq <= $2) OR (until_seq > $3 AND until_seq <= $4)")
                        .bind(to_i64(after))
                        .bind(to_i64(head))
                        .bind(to_i64(after))
                        .bind(to_i64(head))
                };
                let mut rows = query.fetch(&self.pool);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    if let Err(row) = index.edge(edge_row(&r)?) {
                        return Err(StoreError::Corrupt { seq: row.since, reason: format!("edge {} {} {} names an unknown artifact", row.from, row.edge, row.to) });
                    }
                }
                Ok(head)
            }

            async fn dump_derived_in(&self) -> Result<DerivedDump> {
                let rows = sqlx::query("SELECT id, kind, name, version, attrs, first_seq, last_seq, merged_into FROM artifacts ORDER BY id")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                let alias_rows = sqlx::query("SELECT alias, artifact, seq FROM aliases ORDER BY alias")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                let aliases: Vec<(String, String, u64)> = alias_rows.iter().map(|r| (r.get(0), r.get(1), to_u64(r.get::<i64, _>(2)))).collect();
                let mut by_artifact: std::collections::HashMap<&str, Vec<String>> = Default::default();
                for (alias, artifact, _) in &aliases {
                    by_artifact.entry(artifact.as_str()).or_default().push(alias.clone());
                }
                let artifacts = rows
                    .iter()
                    .map(|r| {
                        let id: &str = r.get(0);
                        artifact_row(r, by_artifact.remove(id).unwrap_or_default())
                    })
                    .collect::<Result<Vec<_>>>()?;
                let edges = sqlx::query("SELECT src, kind, dst, since_seq, until_seq, paths FROM edges ORDER BY src, kind, dst, since_seq")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(edge_row)
                    .collect::<Result<Vec<_>>>()?;
                let documents = sqlx::query("SELECT digest, seq, format FROM documents ORDER BY digest")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(|r| (r.get::<String, _>(0), to_u64(r.get::<i64, _>(1)), r.get::<String, _>(2)))
                    .collect();
                Ok(DerivedDump { artifacts, aliases, edges, documents })
            }
        }

        fn artifact_row(r: &<$db as sqlx::Database>::Row, aliases: Vec<String>) -> Result<ArtifactRecord> {
            let first_seq = to_u64(r.get::<i64, _>(5));
            Ok(ArtifactRecord {
                id: r.get(0),
                kind: parse_kind(r.get::<&str, _>(1), first_seq)?,
                name: r.get(2),
                version: r.get(3),
                attrs: parse_attrs(r.get::<&str, _>(4), first_seq)?,
                first_seq,
                last_seq: to_u64(r.get::<i64, _>(6)),
                merged_into: r.get(7),
                aliases,
            })
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>> { Ok(self.append_in(entries, None).await?.0) }
            async fn append_indexed(&self, entries: Vec<NewEntry>, blob: Option<$crate::Blob>) -> Result<(Vec<Appended>, ailedger_core::graph::GraphChanges)> {
                self.append_in(entries, blob).await
            }
            async fn blob(&self, digest: &ailedger_core::Sha256Digest) -> Result<Option<(String, Vec<u8>)>> {
                let row = sqlx::query("SELECT format, bytes FROM blobs WHERE digest = $1")
                    .bind(digest.to_string())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(row.map(|r| (r.get(0), r.get(1))))
            }
            async fn setting(&self, name: &str, init: &str) -> Result<String> {
                sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(init)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)
            }
            async fn document_seq(&self, digest: &ailedger_core::Sha256Digest) -> Result<Option<u64>> {
                let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM documents WHERE digest = $1")
                    .bind(digest.to_string())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(seq.map(to_u64))
            }
            async fn head(&self) -> Result<u64> { self.head_in().await }
            async fn counts(&self) -> Result<Counts> { self.counts_in().await }
            async fn entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> { self.entries_in(after, limit).await }
            async fn seq_at(&self, time_us: i64) -> Result<u64> { self.seq_at_in(time_us).await }
            async fn resolve(&self, alias: &str) -> Result<Option<String>> { self.resolve_in(alias).await }
            async fn aliases_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<(String, String)>> { self.aliases_with_prefix_in(prefix, limit).await }
            async fn artifact(&self, id: &str) -> Result<Option<ArtifactRecord>> { self.artifact_in(id).await }
            async fn edges_of(&self, id: &str) -> Result<Vec<EdgeRow>> { self.edges_of_in(id).await }
            async fn load_into(&self, index: &mut (dyn GraphSink + Send), after: u64) -> Result<u64> { self.load_into_in(index, after).await }
            async fn dump_derived(&self) -> Result<DerivedDump> { self.dump_derived_in().await }
            async fn replay(&self, entries: Vec<Entry>) -> Result<()> { self.replay_in(entries).await }
        }
    };
}
