//! The read side of [`Store`](ailedger_store::Store): entries, artifacts, edges, the
//! graph index load and the derived-state dump.

use std::collections::HashMap;

use ailedger_core::{
    Sha256Digest,
    graph::{EdgeRow, GraphSink, NodeMeta},
};
use ailedger_store::{
    ArtifactRecord, Counts, DerivedDump, PageBudget, PageEntry, Result, StoreError, StoredEntry,
    TokenRecord,
};
use futures_util::TryStreamExt as _;
use serde_json::{Map, Value};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::{Dialect, SqlStore, db_err, to_i64, to_u64};

pub(crate) fn parse_kind<T: std::str::FromStr>(s: &str, seq: u64) -> Result<T> {
    s.parse().map_err(|_| StoreError::Corrupt {
        seq,
        reason: format!("unknown kind {s:?} in derived row"),
    })
}

pub(crate) fn parse_attrs(s: &str, seq: u64) -> Result<Map<String, Value>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt {
        seq,
        reason: format!("attrs: {e}"),
    })
}

fn hash32(v: &[u8], seq: u64) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| StoreError::Corrupt {
        seq,
        reason: "leaf hash is not 32 bytes".into(),
    })
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
    fn edge_row(r: &DB::Row) -> Result<EdgeRow> {
        let since = to_u64(r.get::<i64, _>(3));
        let paths = match r.get::<Option<&str>, _>(5) {
            None => Vec::new(),
            Some(p) => serde_json::from_str(p).map_err(|e| StoreError::Corrupt {
                seq: since,
                reason: format!("edge paths: {e}"),
            })?,
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

    fn artifact_row(r: &DB::Row, aliases: Vec<String>) -> Result<ArtifactRecord> {
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

    pub(crate) async fn blob_in(&self, digest: &Sha256Digest) -> Result<Option<(String, Vec<u8>)>> {
        let row = sqlx::query("SELECT format, bytes FROM blobs WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub(crate) async fn document_seq_in(&self, digest: &Sha256Digest) -> Result<Option<u64>> {
        let row = sqlx::query("SELECT seq FROM documents WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(row.map(|r| to_u64(r.get::<i64, _>(0))))
    }

    pub(crate) async fn setting_in(&self, name: &str, init: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(init)
        .execute(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(row.get(0))
    }

    pub(crate) async fn head_in(&self) -> Result<u64> {
        let row = sqlx::query("SELECT seq FROM ledger_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(to_u64(row.get::<i64, _>(0)))
    }

    pub(crate) async fn counts_in(&self) -> Result<Counts> {
        let row = sqlx::query(
            "SELECT (SELECT seq FROM ledger_head WHERE id = 1), \
             (SELECT count(*) FROM artifacts), (SELECT count(*) FROM edges)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        Ok(Counts {
            entries: to_u64(row.get::<i64, _>(0)),
            artifacts: to_u64(row.get::<i64, _>(1)),
            edges: to_u64(row.get::<i64, _>(2)),
        })
    }

    pub(crate) async fn entries_in(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
        let rows = sqlx::query(
            "SELECT seq, time_us, actor, kind, body, leaf_hash FROM entries \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter().map(Self::entry_row).collect()
    }

    pub(crate) async fn entries_page_in(
        &self,
        after: u64,
        limit: u32,
        budget: PageBudget,
    ) -> Result<Vec<PageEntry>> {
        // First the sizes (neither engine reads a body to measure it), then the rows
        // that fit, with the bodies above the inline limit left unread.
        let sizes = sqlx::query(
            "SELECT CAST(length(body) AS BIGINT) FROM entries \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        let mut rows = 0i64;
        let mut bytes = 0u64;
        for r in &sizes {
            let len = to_u64(r.get::<i64, _>(0));
            let inline = if len <= budget.inline_max { len } else { 0 };
            if rows > 0 && bytes + inline > budget.page_bytes {
                break;
            }
            bytes += inline;
            rows += 1;
        }
        if rows == 0 {
            return Ok(Vec::new());
        }
        let found = sqlx::query(
            "SELECT seq, time_us, actor, kind, \
             CASE WHEN length(body) <= $3 THEN body ELSE NULL END, leaf_hash, \
             CAST(length(body) AS BIGINT) FROM entries \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(rows)
        .bind(to_i64(budget.inline_max))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        found
            .iter()
            .map(|r| {
                let seq = to_u64(r.get::<i64, _>(0));
                let body: Option<Vec<u8>> = r.get(4);
                let omitted = body.is_none().then(|| to_u64(r.get::<i64, _>(6)));
                Ok(PageEntry {
                    entry: StoredEntry {
                        seq,
                        time_us: r.get(1),
                        actor: r.get(2),
                        kind: r.get(3),
                        body: body.unwrap_or_default(),
                        leaf_hash: hash32(r.get::<&[u8], _>(5), seq)?,
                    },
                    omitted,
                })
            })
            .collect()
    }

    pub(crate) async fn book_entries_in(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
        // Served by the partial index of migration 8 (the kinds are literals for that;
        // they are `ailedger_core::incident::KINDS`).
        let rows = sqlx::query(
            "SELECT seq, time_us, actor, kind, body, leaf_hash FROM entries \
             WHERE kind IN ('incident', 'containment', 'advisory') AND seq > $1 \
             ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter().map(Self::entry_row).collect()
    }

    pub(crate) async fn latest_policy_in(&self, at: Option<u64>) -> Result<Option<StoredEntry>> {
        // Served by the partial index of migration 7 (the kind is a literal for that).
        sqlx::query(
            "SELECT seq, time_us, actor, kind, body, leaf_hash FROM entries \
             WHERE kind = 'policy' AND seq <= $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(at.map_or(i64::MAX, to_i64))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?
        .as_ref()
        .map(Self::entry_row)
        .transpose()
    }

    pub(crate) async fn seq_at_in(&self, time_us: i64) -> Result<u64> {
        let row = sqlx::query("SELECT max(seq) FROM entries WHERE time_us <= $1")
            .bind(time_us)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(row.get::<Option<i64>, _>(0).map(to_u64).unwrap_or(0))
    }

    pub(crate) async fn seq_times_in(&self, seqs: &[u64]) -> Result<Vec<(u64, i64)>> {
        let mut seqs: Vec<i64> = seqs.iter().map(|s| to_i64(*s)).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let mut out = Vec::with_capacity(seqs.len());
        // Many seqs close together (a report over many deployments): read the ranges
        // they span and keep the asked ones, rather than a thousand-long IN list each.
        if let (Some(&first), Some(&last)) = (seqs.first(), seqs.last())
            && seqs.len() >= 5_000
            && (last - first) < 4 * seqs.len() as i64
        {
            let mut wanted = seqs.iter().peekable();
            let mut from = first;
            while from <= last {
                let to = (from + 99_999).min(last);
                let rows = sqlx::query(
                    "SELECT seq, time_us FROM entries WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err::<D>)?;
                for r in &rows {
                    let seq = r.get::<i64, _>(0);
                    while wanted.next_if(|w| **w < seq).is_some() {}
                    if wanted.next_if(|w| **w == seq).is_some() {
                        out.push((to_u64(seq), r.get::<i64, _>(1)));
                    }
                }
                from = to + 1;
            }
            return Ok(out);
        }
        // The seqs are integers formatted here, never text from a request.
        for chunk in seqs.chunks(1000) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let rows = sqlx::query(&format!(
                "SELECT seq, time_us FROM entries WHERE seq IN ({list}) ORDER BY seq"
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err::<D>)?;
            out.extend(
                rows.iter()
                    .map(|r| (to_u64(r.get::<i64, _>(0)), r.get::<i64, _>(1))),
            );
        }
        Ok(out)
    }

    pub(crate) async fn resolve_in(&self, alias: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT artifact FROM aliases WHERE alias = $1")
            .bind(alias)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(row.map(|r| r.get(0)))
    }

    pub(crate) async fn aliases_with_prefix_in(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>> {
        // Range scan instead of LIKE, so `%` and `_` in names mean nothing.
        let mut end = prefix.to_owned();
        end.push(char::MAX);
        let rows = sqlx::query(
            "SELECT alias, artifact FROM aliases WHERE alias >= $1 AND alias < $2 \
             ORDER BY alias LIMIT $3",
        )
        .bind(prefix)
        .bind(end)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        // The range means "starts with" in byte order (PostgreSQL's column compares in
        // "C" since migration 10); checked again here whatever the database does.
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .filter(|(alias, _)| alias.starts_with(prefix))
            .collect())
    }

    pub(crate) async fn artifact_in(&self, id: &str) -> Result<Option<ArtifactRecord>> {
        let Some(r) = sqlx::query(
            "SELECT id, kind, name, version, attrs, first_seq, last_seq, merged_into \
             FROM artifacts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?
        else {
            return Ok(None);
        };
        let aliases = sqlx::query("SELECT alias FROM aliases WHERE artifact = $1 ORDER BY alias")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err::<D>)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(Some(Self::artifact_row(&r, aliases)?))
    }

    pub(crate) async fn artifacts_in(&self, ids: &[String]) -> Result<Vec<ArtifactRecord>> {
        // Ids per statement: one bound JSON array each, small enough for any database.
        const CHUNK: usize = 1000;
        let mut found: HashMap<String, ArtifactRecord> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let param = serde_json::to_string(chunk)
                .map_err(|e| StoreError::other(format!("encoding ids: {e}")))?;
            let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
            for r in sqlx::query(&self.sql.read_aliases_of)
                .bind(param.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err::<D>)?
            {
                aliases.entry(r.get(0)).or_default().push(r.get(1));
            }
            for r in sqlx::query(&self.sql.read_artifacts)
                .bind(param.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err::<D>)?
            {
                let id: String = r.get(0);
                let a = aliases.remove(&id).unwrap_or_default();
                found.insert(id, Self::artifact_row(&r, a)?);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    pub(crate) async fn edges_of_in(&self, id: &str) -> Result<Vec<EdgeRow>> {
        let rows = sqlx::query(
            "SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE src = $1 \
             UNION ALL SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE dst = $2 \
             ORDER BY 4, 1, 2, 3",
        )
        .bind(id)
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter().map(Self::edge_row).collect()
    }

    pub(crate) async fn load_into_in(
        &self,
        index: &mut (dyn GraphSink + Send),
        after: u64,
    ) -> Result<u64> {
        let head = self.head_in().await?;
        if head <= after {
            return Ok(head);
        }
        {
            // New and changed artifacts, new ones in (first seq, id) order, which fixes
            // their node numbers. A first load walks the (first_seq, id) index; a tail
            // finds the few changed rows by last_seq.
            let query = if after == 0 {
                sqlx::query(
                    "SELECT id, kind, first_seq, name, version, attrs FROM artifacts \
                     WHERE first_seq <= $1 ORDER BY first_seq, id",
                )
                .bind(to_i64(head))
            } else {
                sqlx::query(
                    "SELECT id, kind, first_seq, name, version, attrs FROM artifacts \
                     WHERE last_seq > $1 AND first_seq <= $2 ORDER BY first_seq, id",
                )
                .bind(to_i64(after))
                .bind(to_i64(head))
            };
            let mut rows = query.fetch(&self.pool);
            while let Some(r) = rows.try_next().await.map_err(db_err::<D>)? {
                let seq = to_u64(r.get::<i64, _>(2));
                let (id, kind) = (r.get::<&str, _>(0), parse_kind(r.get::<&str, _>(1), seq)?);
                let meta = NodeMeta::of(id, kind, r.get(3), r.get(4), r.get(5));
                index.artifact(id, kind, meta);
            }
        }
        // A first load reads every row in table order; a tail reads what started or
        // ended after `after` (the index does not care about row order).
        let query = if after == 0 {
            sqlx::query(
                "SELECT src, kind, dst, since_seq, until_seq, paths FROM edges WHERE since_seq <= $1",
            )
            .bind(to_i64(head))
        } else {
            sqlx::query(
                "SELECT src, kind, dst, since_seq, until_seq, paths FROM edges \
                 WHERE (since_seq > $1 AND since_seq <= $2) OR (until_seq > $3 AND until_seq <= $4)",
            )
            .bind(to_i64(after))
            .bind(to_i64(head))
            .bind(to_i64(after))
            .bind(to_i64(head))
        };
        let mut rows = query.fetch(&self.pool);
        while let Some(r) = rows.try_next().await.map_err(db_err::<D>)? {
            if let Err(row) = index.edge(Self::edge_row(&r)?) {
                return Err(StoreError::Corrupt {
                    seq: row.since,
                    reason: format!(
                        "edge {} {} {} names an unknown artifact",
                        row.from, row.edge, row.to
                    ),
                });
            }
        }
        Ok(head)
    }

    pub(crate) async fn dump_derived_in(&self) -> Result<DerivedDump> {
        let rows = sqlx::query(
            "SELECT id, kind, name, version, attrs, first_seq, last_seq, merged_into \
             FROM artifacts ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        let alias_rows = sqlx::query("SELECT alias, artifact, seq FROM aliases ORDER BY alias")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        let aliases: Vec<(String, String, u64)> = alias_rows
            .iter()
            .map(|r| (r.get(0), r.get(1), to_u64(r.get::<i64, _>(2))))
            .collect();
        let mut by_artifact: HashMap<&str, Vec<String>> = HashMap::new();
        for (alias, artifact, _) in &aliases {
            by_artifact
                .entry(artifact.as_str())
                .or_default()
                .push(alias.clone());
        }
        let artifacts = rows
            .iter()
            .map(|r| {
                let id: &str = r.get(0);
                Self::artifact_row(r, by_artifact.remove(id).unwrap_or_default())
            })
            .collect::<Result<Vec<_>>>()?;
        let edges = sqlx::query(
            "SELECT src, kind, dst, since_seq, until_seq, paths FROM edges \
             ORDER BY src, kind, dst, since_seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?
        .iter()
        .map(Self::edge_row)
        .collect::<Result<Vec<_>>>()?;
        let documents = sqlx::query("SELECT digest, seq, format FROM documents ORDER BY digest")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err::<D>)?
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>(0),
                    to_u64(r.get::<i64, _>(1)),
                    r.get::<String, _>(2),
                )
            })
            .collect();
        let tokens = self.tokens_in().await?;
        Ok(DerivedDump {
            artifacts,
            aliases,
            edges,
            documents,
            tokens,
        })
    }

    fn entry_row(r: &DB::Row) -> Result<StoredEntry> {
        let seq = to_u64(r.get::<i64, _>(0));
        Ok(StoredEntry {
            seq,
            time_us: r.get(1),
            actor: r.get(2),
            kind: r.get(3),
            body: r.get(4),
            leaf_hash: hash32(r.get::<&[u8], _>(5), seq)?,
        })
    }

    fn token_row(r: &DB::Row) -> Result<TokenRecord> {
        let created_seq = to_u64(r.get::<i64, _>(4));
        Ok(TokenRecord {
            name: r.get(0),
            scope: parse_kind(r.get::<&str, _>(1), created_seq)?,
            hash: r.get(2),
            expires_us: r.get(3),
            created_seq,
            revoked_seq: r.get::<Option<i64>, _>(5).map(to_u64),
        })
    }

    pub(crate) async fn tokens_in(&self) -> Result<Vec<TokenRecord>> {
        sqlx::query(
            "SELECT name, scope, hash, expires_us, created_seq, revoked_seq FROM tokens \
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?
        .iter()
        .map(Self::token_row)
        .collect()
    }

    pub(crate) async fn token_by_hash_in(&self, hash: &str) -> Result<Option<TokenRecord>> {
        sqlx::query(
            "SELECT name, scope, hash, expires_us, created_seq, revoked_seq FROM tokens \
             WHERE hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?
        .as_ref()
        .map(Self::token_row)
        .transpose()
    }
}
