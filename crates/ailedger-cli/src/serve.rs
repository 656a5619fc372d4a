//! `ailedger serve`: open the store, build the graph index, serve the API.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use ailedger_server::AppState;
use ailedger_store::Store;
use anyhow::Context;
use clap::Args;

use crate::client::UserError;

/// Run the ailedger server.
///
/// With no flags it keeps the ledger in ./ailedger.db (SQLite) and listens on 127.0.0.1:8080.
/// Several servers may share one PostgreSQL database; each sees the others' writes within a
/// second. The API is described at /openapi.json.
///
/// Every request but /openapi.json and /healthz needs a bearer token (reads too, unless
/// --public-read). The first admin token comes from --init-admin-token; more from
/// `ailedger token create`.
///
/// Example: ailedger serve --db ailedger.db --init-admin-token ~/.config/ailedger/admin-token
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A SQLite file path (created if missing) or a postgres:// URL.
    #[arg(long, default_value = "ailedger.db", env = "AILEDGER_DB")]
    pub db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// When the ledger has no active admin token: grant one named `admin` and write its
    /// secret to this new file (mode 0600). The secret is never logged.
    #[arg(long, value_name = "FILE")]
    pub init_admin_token: Option<std::path::PathBuf>,
    /// Serve reads (impact, deps, entries, the log, …) without a token.
    #[arg(long)]
    pub public_read: bool,
    /// A host name requests may be addressed to (repeatable). Default when listening on
    /// loopback: localhost, 127.0.0.1 and [::1] only, so that DNS rebinding cannot
    /// reach the server from a web page; otherwise any.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    #[command(flatten)]
    pub log: crate::log::LogKeyArgs,
}

/// Opens the store a `--db` value names; returns it and the backend's name.
pub async fn open_store(db: &str) -> anyhow::Result<(Arc<dyn Store>, &'static str)> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let store = ailedger_store_postgres::PgStore::connect(db, None)
            .await
            .map_err(|e| UserError(format!("--db {}: {e}", redact(db))))?;
        Ok((Arc::new(store), "postgres"))
    } else {
        let path = db
            .strip_prefix("sqlite://")
            .or_else(|| db.strip_prefix("sqlite:"))
            .unwrap_or(db);
        let store = ailedger_store_sqlite::SqliteStore::open(Path::new(path))
            .await
            .map_err(|e| UserError(format!("--db {path}: {e}")))?;
        Ok((Arc::new(store), "sqlite"))
    }
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// Binds `listen` and serves the API over `state` until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let _tailer = state.spawn_tailer(Duration::from_millis(250));
    let _signer = ailedger_server::log::spawn_signer(&state, Duration::from_secs(1));
    let _schemas = ailedger_server::warm_up_parsers();
    // The client address is what failed authentications are counted by.
    axum::serve(
        listener,
        ailedger_server::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

pub async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| UserError(format!("--listen {listen}: {e}")).into())
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AILEDGER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Grants the first admin token into `file` (new, mode 0600) unless an active admin
/// token exists already.
async fn init_admin_token(store: &dyn Store, file: &Path) -> anyhow::Result<()> {
    let now = ailedger_store::now_us();
    let tokens = store
        .tokens()
        .await
        .map_err(|e| anyhow::anyhow!("reading tokens: {e}"))?;
    if let Some(admin) = tokens
        .iter()
        .find(|t| t.scope == ailedger_core::token::Scope::Admin && t.is_active(now))
    {
        eprintln!(
            "--init-admin-token: the ledger has an admin token already ({}); {} left as it is",
            admin.name,
            file.display()
        );
        return Ok(());
    }
    if file.exists() {
        return Err(UserError(format!(
            "--init-admin-token {}: the file exists; remove it or name a new one",
            file.display()
        ))
        .into());
    }
    let name = if tokens.iter().any(|t| t.name == "admin") {
        format!("admin-{}", tokens.len() + 1)
    } else {
        "admin".to_owned()
    };
    let created = ailedger_server::auth::create_token(
        store,
        "ailedger-serve",
        &name,
        ailedger_core::token::Scope::Admin,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("granting the admin token: {e}"))?;
    crate::credentials::write_private_new(file, &format!("{}\n", created.secret))?;
    eprintln!(
        "granted admin token {name} (entry {}); its secret is in {} (mode 0600)",
        created.appended.seq,
        file.display()
    );
    Ok(())
}

pub async fn ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

impl ServeArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        init_tracing();
        let (store, backend) = open_store(&self.db).await?;
        let listener = bind(self.listen).await?;
        let started = std::time::Instant::now();
        let mut state = AppState::new(store, backend)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("building the graph index")?;
        state.log = self.log.log_state(&self.db)?;
        let allowed_hosts = if !self.allowed_hosts.is_empty() {
            Some(self.allowed_hosts.clone())
        } else if self.listen.ip().is_loopback() {
            Some(ailedger_server::auth::loopback_hosts(
                &listener.local_addr()?,
            ))
        } else {
            None
        };
        state = state.with_auth(ailedger_server::auth::AuthConfig::new(
            self.public_read,
            allowed_hosts,
        ));
        if let Some(file) = &self.init_admin_token {
            init_admin_token(state.store.as_ref(), file).await?;
        }
        {
            let index = state.index.read().unwrap_or_else(|e| e.into_inner());
            tracing::info!(
                backend,
                head = index.head(),
                artifacts = index.node_count(),
                edges = index.edge_count(),
                ms = started.elapsed().as_millis() as u64,
                "graph index built"
            );
        }
        eprintln!(
            "ailedger listening on http://{} ({backend})",
            listener.local_addr()?
        );
        serve_on(listener, state, ctrl_c()).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
