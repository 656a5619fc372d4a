//! PostgreSQL backend: several `ailedger serve` processes may write to one database.
//! Every write transaction first updates the single `ledger_head` row, whose row lock
//! serialises writers across processes, so seq stays gap-free (a rolled-back
//! transaction rolls back its reservation too) and commits happen in seq order.

use std::{str::FromStr, time::Duration};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

ailedger_store::sqlx_backend!(
    sqlx::Postgres,
    PgStore,
    PgWriter,
    rows = "json_array_elements($1::json) AS j(value)",
    texts = "SELECT json_array_elements_text($1::json)"
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// A ledger in a PostgreSQL database (or one schema of it).
#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    log: ailedger_store::log::FrontierCache,
}

impl PgStore {
    /// Connects to `url` and migrates. `schema`, when given, is created if needed and
    /// used as the search path (tests give each test its own schema).
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let mut opts = PgConnectOptions::from_str(url).map_err(db_err)?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Backend(format!("bad schema name {schema:?}")));
            }
            let setup = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .map_err(db_err)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&setup)
                .await
                .map_err(db_err)?;
            setup.close().await;
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        // Concurrent first starts must not race each other's migrations.
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating: {e}")))?;
        Ok(Self {
            pool,
            log: Default::default(),
        })
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Postgres>> {
        self.pool.begin().await.map_err(db_err)
    }

    /// Direct access for tests that tamper with the database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
