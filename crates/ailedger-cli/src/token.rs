//! `ailedger token create|list|revoke` (admin) and `ailedger login`.

use std::io::{BufRead as _, IsTerminal as _};

use ailedger_server::{TokenCreated, TokenRequest, TokensView, WhoamiView, WriteResponse, paths};
use clap::{Args, Subcommand};

use crate::{Ctx, Format, client::UserError, credentials, output};

/// Manage API tokens (needs an admin token).
///
/// A token's name is the actor recorded on every entry written with it. Its secret is
/// printed once, on stdout; the ledger keeps only its SHA-256.
///
/// Example: ailedger token create --name ci-release --scope write --expires 90d
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Grant a token and print its secret (once).
    Create(CreateArgs),
    /// Every token: scope, expiry, whether it still works. Never a secret.
    List,
    /// Revoke a token: it stops working at once, on every server of the ledger.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Its name (letters, digits, `.`, `_`, `-`, `@`, `+`).
    #[arg(long)]
    pub name: String,
    /// read, write (includes read) or admin (includes write).
    #[arg(long)]
    pub scope: String,
    /// How long it works: 90d, 12h, 30m, or an RFC 3339 time. Default: until revoked.
    #[arg(long)]
    pub expires: Option<String>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The token's name.
    pub name: String,
}

impl TokenCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            TokenCommand::Create(a) => {
                let req = TokenRequest {
                    name: a.name,
                    scope: a.scope,
                    expires: a.expires,
                };
                let t: TokenCreated = ctx.client.post(paths::TOKENS, &req).await?;
                if ctx.format == Format::Json {
                    return output::json(&t);
                }
                println!("{}", t.secret);
                eprintln!(
                    "token {} ({}{}) granted in entry {}; its secret, above, is shown only now.\nUse it with: export AILEDGER_TOKEN=<secret>, or: ailedger login < file",
                    t.name,
                    t.scope,
                    t.expires
                        .as_deref()
                        .map(|e| format!(", expires {e}"))
                        .unwrap_or_default(),
                    t.seq
                );
                Ok(())
            }
            TokenCommand::List => {
                let v: TokensView = ctx.client.get(paths::TOKENS, &[]).await?;
                output::tokens(ctx.format, &v)
            }
            TokenCommand::Revoke(a) => {
                let path = paths::fill(paths::TOKEN, &a.name);
                let w: WriteResponse = ctx.client.delete(&path).await?;
                output::written(ctx.format, &w)
            }
        }
    }
}

/// Store a token for --server in the credentials file (mode 0600), read from stdin.
///
/// The token is checked against the server first. It is read from standard input, never
/// from an argument, so it does not land in shell history.
///
/// Example: ailedger login --server https://ledger.example < ci-token
#[derive(Debug, Args)]
pub struct LoginArgs {}

impl LoginArgs {
    pub async fn run(self, server: &str, ca_certs: &[reqwest::Certificate]) -> anyhow::Result<()> {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("Paste the token and press Enter:");
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let token = line.trim();
        if token.is_empty() {
            return Err(UserError("no token on standard input".into()).into());
        }
        let client = crate::client::Client::new(server, Some(token), ca_certs)?;
        let who: WhoamiView = client.get(paths::WHOAMI, &[]).await?;
        let file = credentials::save(server, token)?;
        eprintln!(
            "logged in to {server} as {} ({}); token saved in {}",
            who.name,
            who.scope,
            file.display()
        );
        Ok(())
    }
}
