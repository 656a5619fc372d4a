//! Webhook subscriptions and the delivery queue (migration 9): rows beside the ledger,
//! not entries and not derived from them.

use ailedger_store::{
    Result, StoreError,
    webhook::{
        Attempt, AttemptOutcome, DeliveryRecord, DeliveryState, DueDelivery, NewDelivery,
        NewWebhook, WebhookRecord, WebhookStats,
    },
};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::{Dialect, SqlStore, Values, db_err, to_i64, to_u64};

/// Deliveries per multi-row INSERT (5 values each).
const DELIVERY_ROWS: usize = 500;

const HOOK_COLUMNS: &str = "id, url, events, secret, after_seq, created_us, created_by, removed_us";
const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event_type, d.seq, d.payload, d.attempts, \
     d.next_attempt_us, d.state, d.last_status, d.last_error, d.created_us, d.delivered_us";

fn corrupt(what: &str, id: i64, reason: impl std::fmt::Display) -> StoreError {
    StoreError::other(format!("{what} {id}: {reason}"))
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
    fn hook_row(r: &DB::Row) -> Result<WebhookRecord> {
        let id: i64 = r.get(0);
        let events: Vec<String> = serde_json::from_str(r.get::<&str, _>(2))
            .map_err(|e| corrupt("webhook", id, format!("events: {e}")))?;
        Ok(WebhookRecord {
            id: to_u64(id),
            url: r.get(1),
            events,
            secret: r.get(3),
            after_seq: to_u64(r.get::<i64, _>(4)),
            created_us: r.get(5),
            created_by: r.get(6),
            removed_us: r.get(7),
        })
    }

    fn delivery_row(r: &DB::Row) -> Result<DeliveryRecord> {
        let id: i64 = r.get(0);
        let state = r.get::<&str, _>(7);
        Ok(DeliveryRecord {
            id: to_u64(id),
            webhook_id: to_u64(r.get::<i64, _>(1)),
            event_type: r.get(2),
            seq: to_u64(r.get::<i64, _>(3)),
            payload: r.get(4),
            attempts: u32::try_from(r.get::<i64, _>(5)).unwrap_or(u32::MAX),
            next_attempt_us: r.get(6),
            state: DeliveryState::parse(state)
                .ok_or_else(|| corrupt("delivery", id, format!("state {state:?}")))?,
            last_status: r
                .get::<Option<i64>, _>(8)
                .and_then(|s| u16::try_from(s).ok()),
            last_error: r.get(9),
            created_us: r.get(10),
            delivered_us: r.get(11),
        })
    }

    pub(crate) async fn add_webhook_in(&self, hook: NewWebhook) -> Result<WebhookRecord> {
        let events = serde_json::to_string(&hook.events)
            .map_err(|e| StoreError::other(format!("encoding events: {e}")))?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO webhooks (url, events, secret, after_seq, created_us, created_by) \
             SELECT $1, $2, $3, seq, $4, $5 FROM ledger_head WHERE id = 1 \
             RETURNING {HOOK_COLUMNS}"
        ))
        .bind(hook.url.as_str())
        .bind(events)
        .bind(hook.secret.as_str())
        .bind(hook.created_us)
        .bind(hook.created_by.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err::<D>)?;
        let record = Self::hook_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    pub(crate) async fn webhooks_in(&self, removed: bool) -> Result<Vec<WebhookRecord>> {
        let filter = if removed {
            ""
        } else {
            "WHERE removed_us IS NULL "
        };
        let rows = sqlx::query(&format!(
            "SELECT {HOOK_COLUMNS} FROM webhooks {filter}ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter().map(Self::hook_row).collect()
    }

    pub(crate) async fn webhook_in(&self, id: u64) -> Result<Option<WebhookRecord>> {
        sqlx::query(&format!(
            "SELECT {HOOK_COLUMNS} FROM webhooks WHERE id = $1"
        ))
        .bind(to_i64(id))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?
        .as_ref()
        .map(Self::hook_row)
        .transpose()
    }

    pub(crate) async fn remove_webhook_in(&self, id: u64, now_us: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        // `RETURNING` says whether a row changed (the row count is not part of sqlx's
        // generic interface).
        let done = sqlx::query(
            "UPDATE webhooks SET removed_us = $1 WHERE id = $2 AND removed_us IS NULL \
             RETURNING id",
        )
        .bind(now_us)
        .bind(to_i64(id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err::<D>)?;
        if done.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'failed', last_error = 'webhook removed' \
             WHERE webhook_id = $1 AND state = 'pending'",
        )
        .bind(to_i64(id))
        .execute(&mut *tx)
        .await
        .map_err(db_err::<D>)?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn webhook_stats_in(&self, id: u64) -> Result<WebhookStats> {
        let rows = sqlx::query(
            "SELECT state, count(*) FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY state",
        )
        .bind(to_i64(id))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        let mut stats = WebhookStats::default();
        for r in &rows {
            let n = to_u64(r.get::<i64, _>(1));
            match DeliveryState::parse(r.get::<&str, _>(0)) {
                Some(DeliveryState::Pending) => stats.pending = n,
                Some(DeliveryState::Delivered) => stats.delivered = n,
                Some(DeliveryState::Failed) => stats.failed = n,
                None => {}
            }
        }
        stats.last_error = sqlx::query(
            "SELECT last_error FROM webhook_deliveries \
             WHERE webhook_id = $1 AND last_error IS NOT NULL \
             ORDER BY last_attempt_us DESC, id DESC LIMIT 1",
        )
        .bind(to_i64(id))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err::<D>)?
        .map(|r| r.get(0));
        Ok(stats)
    }

    pub(crate) async fn webhook_cursor_in(&self) -> Result<u64> {
        let row = sqlx::query("SELECT seq FROM webhook_cursor WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err::<D>)?;
        Ok(to_u64(row.get::<i64, _>(0)))
    }

    pub(crate) async fn enqueue_deliveries_in(
        &self,
        from: u64,
        to: u64,
        deliveries: Vec<NewDelivery>,
        now_us: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        // The cursor first: its row lock orders dispatchers of several servers, and the
        // one that finds it moved queues nothing.
        let moved = sqlx::query(
            "UPDATE webhook_cursor SET seq = $1 WHERE id = 1 AND seq = $2 RETURNING id",
        )
        .bind(to_i64(to))
        .bind(to_i64(from))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err::<D>)?;
        if moved.is_none() {
            return Ok(false);
        }
        for chunk in deliveries.chunks(DELIVERY_ROWS) {
            let mut values = Values::<DB>::new(
                "INSERT INTO webhook_deliveries (webhook_id, event_type, seq, payload, attempts, \
                 next_attempt_us, state, created_us) ",
            );
            for d in chunk {
                values.row();
                values
                    .bind(to_i64(d.webhook_id))?
                    .bind(d.event_type.as_str())?
                    .bind(to_i64(d.seq))?
                    .bind(d.payload.as_str())?
                    .bind(0_i64)?
                    .bind(now_us)?
                    .bind("pending")?
                    .bind(now_us)?;
                values.end_row();
            }
            let (mut sql, args) = values.into_parts();
            sql.push_str(" ON CONFLICT (webhook_id, seq) DO NOTHING");
            sqlx::query_with(&sql, args)
                .execute(&mut *tx)
                .await
                .map_err(db_err::<D>)?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn due_deliveries_in(
        &self,
        now_us: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS}, w.url, w.secret FROM webhook_deliveries d \
             JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.state = 'pending' AND d.next_attempt_us <= $1 AND w.removed_us IS NULL \
             ORDER BY d.next_attempt_us, d.id LIMIT $2"
        ))
        .bind(now_us)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter()
            .map(|r| {
                Ok(DueDelivery {
                    delivery: Self::delivery_row(r)?,
                    url: r.get(12),
                    secret: r.get(13),
                })
            })
            .collect()
    }

    pub(crate) async fn claim_delivery_in(
        &self,
        id: u64,
        due_us: i64,
        lease_until_us: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_us = $1 \
             WHERE id = $2 AND state = 'pending' AND next_attempt_us = $3 RETURNING id",
        )
        .bind(lease_until_us)
        .bind(to_i64(id))
        .bind(due_us)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err::<D>)?;
        tx.commit().await?;
        Ok(done.is_some())
    }

    pub(crate) async fn record_attempt_in(&self, id: u64, attempt: Attempt) -> Result<()> {
        let (state, next_us, delivered_us) = match attempt.outcome {
            AttemptOutcome::Delivered => ("delivered", attempt.at_us, Some(attempt.at_us)),
            AttemptOutcome::Retry { at_us } => ("pending", at_us, None),
            AttemptOutcome::Failed => ("failed", attempt.at_us, None),
        };
        // No NULL is bound (sqlx's generic `Option` binding needs bounds of its own):
        // -1 and '' stand for none.
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, state = $1, \
             next_attempt_us = $2, last_status = NULLIF($3, -1), last_error = NULLIF($4, ''), \
             last_attempt_us = $5, delivered_us = NULLIF($6, -1) \
             WHERE id = $7 AND state = 'pending'",
        )
        .bind(state)
        .bind(next_us)
        .bind(attempt.status.map_or(-1, i64::from))
        .bind(attempt.error.unwrap_or_default())
        .bind(attempt.at_us)
        .bind(delivered_us.unwrap_or(-1))
        .bind(to_i64(id))
        .execute(&mut *tx)
        .await
        .map_err(db_err::<D>)?;
        tx.commit().await
    }

    pub(crate) async fn deliveries_in(
        &self,
        webhook_id: u64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = $1 \
             ORDER BY d.id DESC LIMIT $2"
        ))
        .bind(to_i64(webhook_id))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err::<D>)?;
        rows.iter().map(Self::delivery_row).collect()
    }
}
