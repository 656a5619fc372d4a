//! `ailedger serve`: open the store, build the graph index, serve the API.

use std::{
    fmt::Debug,
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use ailedger_server::AppState;
use ailedger_store::Store;
use anyhow::Context;
use clap::Args;

use crate::client::UserError;

/// Run the ailedger server.
///
/// With no flags it keeps the ledger in ./ailedger.db (SQLite) and listens on 127.0.0.1:8080
/// over plain HTTP. Anywhere else it serves HTTPS (--tls-cert, --tls-key): it refuses to
/// listen on a non-loopback address without TLS unless --insecure-behind-proxy says a
/// TLS-terminating proxy is in front. Several servers may share one PostgreSQL database;
/// each sees the others' writes within a second. The API is described at /openapi.json.
///
/// Every request but /openapi.json and /healthz needs a bearer token (reads too, unless
/// --public-read). The first admin token comes from --init-admin-token; more from
/// `ailedger token create`.
/// Keep the checkpoint signing key apart from the database (--log-key): whoever can
/// rewrite the database must not also be able to re-sign it. The server refuses a key
/// file that group or others may read or change.
///
/// Example: ailedger serve --db postgres://ailedger@db.internal/ailedger?sslmode=verify-full
///   --listen 0.0.0.0:8443 --tls-cert server.pem --tls-key server.key --log-key /etc/ailedger/log.key
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A SQLite file path (created if missing) or a postgres:// URL.
    #[arg(long, default_value = "ailedger.db", env = "AILEDGER_DB")]
    pub db: String,
    /// Address to listen on. A non-loopback address needs --tls-cert and --tls-key (or
    /// --insecure-behind-proxy).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// When the ledger has no active admin token: grant one named `admin` and write its
    /// secret to this new file (mode 0600). The secret is never logged.
    #[arg(long, value_name = "FILE")]
    pub init_admin_token: Option<PathBuf>,
    /// Serve reads (impact, deps, entries, the log, …) without a token.
    #[arg(long)]
    pub public_read: bool,
    /// A host name requests may be addressed to (repeatable). Default when listening on
    /// loopback: localhost, 127.0.0.1 and [::1] only, so that DNS rebinding cannot
    /// reach the server from a web page; otherwise any.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        env = "AILEDGER_TLS_CERT"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        env = "AILEDGER_TLS_KEY"
    )]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address. Only for a server behind a
    /// TLS-terminating proxy on a network you trust: tokens and writes would otherwise
    /// cross the network in clear.
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure_behind_proxy: bool,
    /// Memory, in MiB, that document ingests may use at once. Each ingest counts 12× its
    /// document's size (what parsing costs); one that does not fit while others run is
    /// answered 503 with Retry-After (the CLI exits 3). A document larger than the
    /// budget runs alone.
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = ailedger_server::IngestBudget::DEFAULT_MIB,
        env = "AILEDGER_INGEST_MEMORY_MIB",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub ingest_memory_mib: u32,
    /// Most hits one impact/deps answer may hold; a client asking for more is refused
    /// (422) and pages with the answer's cursor instead. Answers hold 1000 hits unless
    /// the request names a limit.
    #[arg(
        long,
        value_name = "HITS",
        default_value_t = ailedger_server::Limits::DEFAULT_TRAVERSAL_MAX,
        env = "AILEDGER_TRAVERSAL_MAX",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub traversal_max: u32,
    /// Bytes of entry bodies, in MiB, one `GET /v1/entries` page holds at most; the page
    /// ends before the body that would pass it.
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = ailedger_server::Limits::DEFAULT_ENTRIES_PAGE_MIB,
        env = "AILEDGER_ENTRIES_PAGE_MIB",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub entries_page_mib: u32,
    /// An entry body larger than this, in KiB, is listed by reference (`body_ref`) and
    /// read on its own from `GET /v1/entries/{seq}`.
    #[arg(
        long,
        value_name = "KIB",
        default_value_t = ailedger_server::Limits::DEFAULT_ENTRY_INLINE_KIB,
        env = "AILEDGER_ENTRY_INLINE_KIB",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub entry_inline_kib: u32,
    /// The largest document, in MiB, `POST /v1/documents` (`ailedger ingest`) accepts;
    /// a larger one is answered 413 naming this limit.
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = ailedger_server::Limits::DEFAULT_DOCUMENT_MIB,
        env = "AILEDGER_MAX_DOCUMENT_MIB",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_document_mib: u32,
    #[command(flatten)]
    pub log: crate::log::LogKeyArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// How webhook deliveries are made (see docs/webhooks.md).
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// Seconds a webhook receiver has to accept the connection (TCP and TLS).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub webhook_connect_timeout: f64,
    /// Seconds a webhook attempt may take in all, the answer included.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub webhook_timeout: f64,
    /// Seconds before the first retry of a failed delivery; each later retry waits
    /// twice as long, up to --webhook-backoff-max.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub webhook_backoff: f64,
    /// Longest wait between two attempts, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600.0)]
    pub webhook_backoff_max: f64,
    /// Attempts of one delivery before it is given up as failed.
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_max_attempts: u32,
    /// Deliveries in flight at once (each subscription has one at a time).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub webhook_concurrency: u32,
    /// Accept webhook URLs with plain http:// to hosts other than loopback. Bodies
    /// (and their signatures) would cross the network in clear.
    #[arg(long)]
    pub webhook_allow_http: bool,
}

impl WebhookArgs {
    /// The delivery settings these flags give.
    pub fn config(&self) -> Result<ailedger_server::webhooks::WebhookConfig, UserError> {
        let secs = |flag: &str, v: f64| -> Result<Duration, UserError> {
            if v.is_finite() && v > 0.0 && v <= 86_400.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(UserError(format!(
                    "--{flag} {v}: expected seconds, more than 0 and at most 86400"
                )))
            }
        };
        let backoff = secs("webhook-backoff", self.webhook_backoff)?;
        let backoff_max = secs("webhook-backoff-max", self.webhook_backoff_max)?;
        if backoff_max < backoff {
            return Err(UserError(format!(
                "--webhook-backoff-max {}: less than --webhook-backoff {}",
                self.webhook_backoff_max, self.webhook_backoff
            )));
        }
        Ok(ailedger_server::webhooks::WebhookConfig {
            retry: ailedger_core::event::Retry {
                base_ms: backoff.as_millis() as u64,
                cap_ms: backoff_max.as_millis() as u64,
                max_attempts: self.webhook_max_attempts,
            },
            connect_timeout: secs("webhook-connect-timeout", self.webhook_connect_timeout)?,
            timeout: secs("webhook-timeout", self.webhook_timeout)?,
            concurrency: self.webhook_concurrency as usize,
            allow_http: self.webhook_allow_http,
            ..Default::default()
        })
    }
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

/// Serves the API over `state` on `listener` (plain TCP or [`crate::tls::TlsListener`])
/// until `shutdown` resolves.
pub async fn serve_on<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    SocketAddr: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let _tailer = state.spawn_tailer(Duration::from_millis(250));
    let _signer = ailedger_server::log::spawn_signer(&state, Duration::from_secs(1));
    // Events of the ledger's incident and containment entries, to subscribers.
    let _webhooks = state
        .spawn_webhooks()
        .map_err(|e| anyhow::anyhow!("starting webhook delivery: {e}"))?;
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
    // The directory first: a grant whose secret could not be written would lock out.
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| UserError(format!("--init-admin-token {}: {e}", dir.display())))?;
    }
    let name = if tokens.iter().any(|t| t.name == "admin") {
        format!("admin-{}", tokens.len() + 1)
    } else {
        "admin".to_owned()
    };
    // The secret is on disk before its grant is recorded: a crash in between leaves a
    // file the next start refuses (remove it and start again), never an admin token
    // whose secret nobody holds.
    let secret = ailedger_server::auth::new_secret()
        .map_err(|e| anyhow::anyhow!("making the admin token: {e}"))?;
    crate::credentials::write_private_new(file, &format!("{secret}\n"))?;
    let created = match ailedger_server::auth::grant_token(
        store,
        "ailedger-serve",
        &name,
        ailedger_core::token::Scope::Admin,
        None,
        secret,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(file);
            anyhow::bail!("granting the admin token: {e}");
        }
    };
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

/// Refuses plain HTTP on an address other machines can reach, before anything is
/// opened or bound.
fn check_listen(listen: SocketAddr, tls: bool, behind_proxy: bool) -> Result<(), UserError> {
    if tls || behind_proxy || listen.ip().is_loopback() {
        return Ok(());
    }
    Err(UserError(format!(
        "refusing to serve plain HTTP on {listen}, which is not a loopback address: \
         give --tls-cert and --tls-key, or --insecure-behind-proxy if a TLS-terminating \
         proxy is in front"
    )))
}

impl ServeArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        check_listen(
            self.listen,
            self.tls_cert.is_some(),
            self.insecure_behind_proxy,
        )?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
            _ => None,
        };
        let webhooks = self.webhooks.config()?;
        init_tracing();
        // The key first: a key file others can read stops the server before it listens.
        let log = self.log.log_state(&self.db)?;
        let (store, backend) = open_store(&self.db).await?;
        let listener = bind(self.listen).await?;
        let started = std::time::Instant::now();
        let mut state = AppState::new(store, backend)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("building the graph index")?;
        state.log = log;
        let allowed_hosts = if !self.allowed_hosts.is_empty() {
            Some(self.allowed_hosts.clone())
        } else if self.listen.ip().is_loopback() {
            Some(ailedger_server::auth::loopback_hosts(
                &listener.local_addr()?,
            ))
        } else {
            None
        };
        state = state
            .with_auth(ailedger_server::auth::AuthConfig::new(
                self.public_read,
                allowed_hosts,
            ))
            .with_webhooks(webhooks)
            .with_ingest_budget(self.ingest_memory_mib)
            .with_limits(ailedger_server::Limits {
                traversal_max: self.traversal_max,
                entries_page_bytes: u64::from(self.entries_page_mib) << 20,
                entry_inline_bytes: u64::from(self.entry_inline_kib) << 10,
                document_bytes: u64::from(self.max_document_mib) << 20,
                ..ailedger_server::Limits::default()
            });
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
        let addr = listener.local_addr()?;
        match tls {
            Some(config) => {
                eprintln!("ailedger listening on https://{addr} ({backend})");
                // Tapped so that the client's address reaches the handlers
                // (`ConnectInfo<SocketAddr>`, which failed logins are counted by).
                let listener = axum::serve::ListenerExt::tap_io(
                    crate::tls::TlsListener::new(listener, config)?,
                    |_| {},
                );
                serve_on(listener, state, ctrl_c()).await
            }
            None => {
                eprintln!("ailedger listening on http://{addr} ({backend})");
                serve_on(listener, state, ctrl_c()).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_only_on_loopback() {
        let check = |addr: &str, tls, proxy| super::check_listen(addr.parse().unwrap(), tls, proxy);
        assert!(check("127.0.0.1:8080", false, false).is_ok());
        assert!(check("[::1]:8080", false, false).is_ok());
        assert!(check("0.0.0.0:8443", true, false).is_ok());
        assert!(check("0.0.0.0:8080", false, true).is_ok());
        for addr in ["0.0.0.0:8080", "[::]:8080", "192.0.2.7:8080"] {
            let err = check(addr, false, false).unwrap_err().to_string();
            assert!(
                err.contains("--insecure-behind-proxy") && err.contains("--tls-cert"),
                "{err}"
            );
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
