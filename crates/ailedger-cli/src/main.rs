//! The `ailedger` binary: `serve` and `demo` run the server; every other subcommand
//! is a client of its HTTP API. Errors map to exit codes in one place ([`main`]):
//! 0 success, 2 bad input (a usage error, a malformed or unknown ref, an unreadable
//! file), 3 server unreachable or failing.

// The binary is the one place that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod attest;
mod check;
mod client;
mod cmd;
mod credentials;
mod demo;
mod export;
mod export_spdx;
mod hashing;
mod incident;
mod ingest;
mod inspect;
mod log;
mod output;
mod policy;
mod serve;
mod tls;
mod token;
mod verify;
mod webhook;

use ailedger_server::paths;
use std::process::ExitCode;

/// Writes and ingest allocate many small strings; measured, mimalloc cuts their time by
/// a tenth or more against the system allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns the memory mimalloc holds freed to the operating system now. mimalloc keeps
/// freed pages for a second before it returns them; the store calls this after it
/// frees a large document's facts and before the database copies the document's entry
/// body (twice, with the C allocator), so the two do not add up (docs/benchmarks.md).
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any
    // time; it only frees memory no allocation refers to any more.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

use clap::{Parser, Subcommand, ValueEnum};

const ABOUT: &str = "A tamper-evident ledger of your AI supply chain: models, datasets, packages, \
MCP tool servers and the deployments that use them.";

const LONG_ABOUT: &str = "A tamper-evident ledger of your AI supply chain: models, datasets, packages, \
MCP tool servers, signed provenance and the deployments that use them.\n\n\
Build pipelines register what they build and consume; when something upstream turns out to be \
compromised, `ailedger compromise` opens an incident and reports which deployments transitively \
consumed it, through which path, from when until when, who owns them and what to roll back to \
(`ailedger impact` asks the same of any artifact); later consumers are flagged as they are \
written, and `ailedger check` keeps releases that contain it from shipping.\n\n\
`ailedger serve` runs the server (SQLite file by default, or PostgreSQL); the other subcommands \
are its client (--server, or AILEDGER_URL).";

const EXAMPLES: &str = "Examples:\n  \
ailedger demo                                        # a server with a realistic supply chain\n  \
ailedger serve --db ailedger.db                      # the server, on a SQLite file, loopback HTTP\n  \
ailedger serve --listen 0.0.0.0:8443 --tls-cert server.pem --tls-key server.key  # HTTPS\n  \
ailedger --server https://ledger.internal:8443 --ca-cert ca.pem impact pkg:pypi/torch@2.4.1\n  \
ailedger register model ./llama-ft --name llama-ft --version 3\n  \
ailedger register package pkg:pypi/torch@2.4.1 --sha256 <hex>\n  \
ailedger link model:llama-ft@3 depends-on pkg:pypi/torch@2.4.1\n  \
ailedger deploy chatbot --env prod --uses model:llama-ft@3\n  \
ailedger impact pkg:pypi/torch@2.4.1                 # who is exposed\n  \
ailedger impact pkg:pypi/torch@2.4.1 --as-of 2026-11-01T00:00:00Z\n  \
ailedger check deployment:prod/chatbot --policy gate.toml   # the CI/CD policy gate\n\n\
Exit codes: 0 success, 1 `ailedger check` failed the gate (or `inspect` found findings), \
2 bad input or unknown ref, 3 server unreachable or failing, \
4 `ailedger log` or `ailedger verify` verification failed.";

#[derive(Debug, Parser)]
#[command(name = "ailedger", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Global {
    /// The ailedger server the client subcommands talk to.
    #[arg(
        long,
        global = true,
        env = "AILEDGER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    server: String,
    /// Output: a readable table, or JSON as the API returns it (SARIF for `inspect` and
    /// `check`; XML for `export cyclonedx`).
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// A CA certificate (PEM) to trust for an https:// server, besides the platform's
    /// root store: the CA of a private deployment.
    #[arg(long, global = true, env = "AILEDGER_CA_CERT", value_name = "FILE")]
    ca_cert: Option<std::path::PathBuf>,
}

/// Reads `--ca-cert`: a PEM file of one or more CA certificates, all of them trusted.
fn read_ca_cert(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, client::UserError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject as _};
    let shown = path.display();
    let bad = |why: String| client::UserError(format!("--ca-cert {shown}: {why}"));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .map(|c| {
            let der = c.map_err(|e| bad(format!("not a PEM certificate ({e})")))?;
            reqwest::Certificate::from_der(&der).map_err(|e| bad(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate (BEGIN CERTIFICATE) in it".into()));
    }
    Ok(certs)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// SARIF 2.1.0 (`inspect` and `check` only).
    Sarif,
    /// CycloneDX XML (`export cyclonedx` only).
    Xml,
}

#[derive(Debug, Subcommand)]
enum Command {
    Serve(serve::ServeArgs),
    Demo(demo::DemoArgs),
    #[command(subcommand)]
    Register(cmd::Register),
    /// Start an edge between known artifacts: <from> <edge> <to>, from consumer to consumed.
    ///
    /// Edge types: depends-on, built-from, derived-from, trained-on, uses-tool, runs, contains,
    /// deploys, describes, attests, built-by.
    ///
    /// Example: ailedger link model:llama-ft@3 derived-from model:llama@3.1
    Link(cmd::LinkArgs),
    /// End an active edge: <from> <edge> <to>. The edge's history stays in the ledger.
    ///
    /// Example: ailedger unlink model:llama-ft@3 depends-on pkg:pypi/torch@2.4.1
    Unlink(cmd::LinkArgs),
    Deploy(cmd::DeployArgs),
    /// Blast radius: every artifact and deployment that transitively consumes <REF>, nearest
    /// first, each with one shortest path back to it, its highest finding severity and its
    /// provenance (verified, unverified or failed attestations).
    ///
    /// Example: ailedger impact pkg:pypi/ultralytics@8.3.41 --as-of 2026-11-20T00:00:00Z
    Impact(cmd::TraversalArgs),
    /// Everything <REF> transitively consumes, nearest first, with paths.
    ///
    /// Example: ailedger deps deployment:prod/support-bot
    Deps(cmd::TraversalArgs),
    /// An artifact with its aliases, attributes, findings and edges (active and ended).
    ///
    /// Example: ailedger show model:llama-ft@3
    Show(cmd::RefArgs),
    /// The artifact id a ref names.
    ///
    /// Example: ailedger resolve sha256:<hex of a wheel>
    Resolve(cmd::RefArgs),
    Entries(cmd::EntriesArgs),
    Manifest(cmd::ManifestArgs),
    #[command(subcommand)]
    Log(log::LogCommand),
    Inspect(inspect::InspectArgs),
    Ingest(ingest::IngestArgs),
    #[command(subcommand)]
    Token(token::TokenCommand),
    Login(token::LoginArgs),
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    Attest(attest::AttestArgs),
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    Compromise(incident::CompromiseArgs),
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
    #[command(subcommand)]
    Blocklist(incident::BlocklistCommand),
    #[command(subcommand)]
    Osv(incident::OsvCommand),
    #[command(subcommand)]
    Quarantine(incident::QuarantineCommand),
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    Check(check::CheckArgs),
    #[command(subcommand)]
    Export(export::ExportCommand),
}

/// What every client subcommand gets.
#[derive(Debug)]
pub struct Ctx {
    pub client: client::Client,
    pub format: Format,
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.global.format == Format::Sarif
        && !matches!(cli.command, Command::Inspect(_) | Command::Check(_))
    {
        return Err(client::UserError(
            "--format sarif is only for `ailedger inspect` and `ailedger check`".into(),
        )
        .into());
    }
    if cli.global.format == Format::Xml
        && !matches!(
            cli.command,
            Command::Export(export::ExportCommand::Cyclonedx(_))
        )
    {
        return Err(client::UserError(
            "--format xml is only for `ailedger export cyclonedx`".into(),
        )
        .into());
    }
    // Serving, the demo and offline commands need no token; a client command reads one
    // from AILEDGER_TOKEN or the credentials file (`ailedger login`).
    let needs_token = !matches!(
        cli.command,
        Command::Serve(_)
            | Command::Demo(_)
            | Command::Manifest(_)
            | Command::Inspect(_)
            | Command::Login(_)
            | Command::Verify(_)
    );
    let token = if needs_token {
        credentials::token_for(&cli.global.server)?
    } else {
        None
    };
    // The server does not use the client: a CA meant for clients is not its concern.
    let serving = matches!(cli.command, Command::Serve(_) | Command::Demo(_));
    let ca_certs = match cli.global.ca_cert.as_deref() {
        Some(path) if !serving => read_ca_cert(path)?,
        _ => Vec::new(),
    };
    let ctx = Ctx {
        client: client::Client::new(&cli.global.server, token.as_deref(), &ca_certs)?,
        format: cli.global.format,
    };
    match cli.command {
        Command::Serve(a) => a.run().await,
        Command::Demo(a) => a.run().await,
        Command::Register(r) => r.run(&ctx).await,
        Command::Link(a) => a.run(&ctx, paths::LINKS).await,
        Command::Unlink(a) => a.run(&ctx, paths::UNLINKS).await,
        Command::Deploy(a) => a.run(&ctx).await,
        Command::Impact(a) => a.run(&ctx, paths::IMPACT).await,
        Command::Deps(a) => a.run(&ctx, paths::DEPS).await,
        Command::Show(a) => a.show(&ctx).await,
        Command::Resolve(a) => a.resolve(&ctx).await,
        Command::Entries(a) => a.run(&ctx).await,
        Command::Manifest(a) => a.run(&ctx),
        Command::Inspect(a) => a.run(ctx.format),
        Command::Ingest(a) => a.run(&ctx).await,
        Command::Log(c) => c.run(&ctx).await,
        Command::Token(c) => c.run(&ctx).await,
        Command::Login(a) => a.run(&cli.global.server, &ca_certs).await,
        Command::Policy(c) => c.run(&ctx).await,
        Command::Attest(a) => a.run(&ctx).await,
        Command::Verify(c) => c.run(ctx.format),
        Command::Compromise(a) => a.run(&ctx).await,
        Command::Incident(c) => c.run(&ctx).await,
        Command::Blocklist(c) => c.run(&ctx).await,
        Command::Osv(c) => c.run(&ctx).await,
        Command::Quarantine(c) => c.run(&ctx).await,
        Command::Webhook(c) => c.run(&ctx).await,
        Command::Check(a) => a.run(&ctx).await,
        Command::Export(c) => c.run(&ctx).await,
    }
}

/// A usage error is one line on stderr and exit 2, like every other bad input (help and
/// version are printed as clap prints them).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    // The message is clap's first paragraph (a list of missing arguments is indented
    // under it), joined; the usage and tips after it are left out.
    let text = e.render().to_string();
    let line = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    if line.is_empty() {
        eprintln!("error: invalid arguments");
    } else {
        eprintln!("{line}");
    }
    ExitCode::from(2)
}

fn main() -> ExitCode {
    ailedger_store::set_release_freed_memory(release_freed_memory);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<inspect::ExitWith>().is_some() => {
            ExitCode::from(e.downcast_ref::<inspect::ExitWith>().map_or(2, |x| x.0))
        }
        Err(e) => {
            let one_line = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {one_line}");
            if e.downcast_ref::<log::VerifyFailed>().is_some() {
                ExitCode::from(4)
            } else if e.downcast_ref::<client::Unavailable>().is_some()
                || e.downcast_ref::<client::CorruptLedger>().is_some()
            {
                ExitCode::from(3)
            } else {
                ExitCode::from(2)
            }
        }
    }
}
