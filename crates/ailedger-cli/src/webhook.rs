//! `ailedger webhook add|list|remove|deliveries` (admin).

use ailedger_server::{
    DeliveriesView, WebhookCreated, WebhookRequest, WebhookView, WebhooksView, paths,
};
use clap::{Args, Subcommand};

use crate::{Ctx, Format, client::UserError, output};

/// Manage webhooks: ledger events POSTed to a URL (needs an admin token).
///
/// Events come from the ledger's incident and containment entries: incident.open, .ack,
/// .resolve, .update, .retract, .exposed; containment.block, .unblock, .quarantine,
/// .release. Each delivery is JSON signed with HMAC-SHA256 under the subscription's
/// secret (header X-Ailedger-Signature-256), queued in the database and retried with
/// backoff until a 2xx answer. See docs/webhooks.md.
///
/// Example: ailedger webhook add https://hooks.example/ailedger --events incident.open,incident.exposed
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL and print its signing secret (once).
    Add(AddArgs),
    /// Every subscription: its events and how its deliveries stand. Never a secret.
    List,
    /// Remove a subscription: nothing more is sent to it; its pending deliveries fail.
    Remove(IdArgs),
    /// A subscription's most recent deliveries: state, attempts, last answer or error.
    Deliveries(DeliveriesArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Where to POST events: https://, or http:// to a loopback host (elsewhere only if
    /// the server runs with --webhook-allow-http).
    pub url: String,
    /// Event types or patterns, comma-separated: incident.open, incident.*,
    /// containment.*, * …
    #[arg(long, value_delimiter = ',', required = true)]
    pub events: Vec<String>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The subscription's id (from `webhook list`).
    pub id: String,
}

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// The subscription's id (from `webhook list`).
    pub id: String,
    /// How many, newest first (at most 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// A subscription id as the API takes it: a number (checked here so that a typo is
/// named as the ID, not as a path).
fn id_path(template: &str, id: &str) -> anyhow::Result<String> {
    let n: u64 = id.parse().map_err(|_| {
        UserError(format!(
            "webhook id {id:?}: expected a number (see `ailedger webhook list`)"
        ))
    })?;
    Ok(paths::fill(template, &n.to_string()))
}

impl WebhookCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            WebhookCommand::Add(a) => {
                let req = WebhookRequest {
                    url: a.url,
                    events: a.events.into_iter().map(|e| e.trim().to_owned()).collect(),
                };
                let w: WebhookCreated = ctx.client.post(paths::WEBHOOKS, &req).await?;
                if ctx.format == Format::Json {
                    return output::json(&w);
                }
                println!("{}", w.secret);
                eprintln!(
                    "webhook {} added for {} ({}); it gets events after entry {}. Its signing secret, above, is shown only now.",
                    w.id,
                    w.url,
                    w.events.join(","),
                    w.after_seq
                );
                Ok(())
            }
            WebhookCommand::List => {
                let v: WebhooksView = ctx.client.get(paths::WEBHOOKS, &[]).await?;
                output::webhooks(ctx.format, &v.webhooks)
            }
            WebhookCommand::Remove(a) => {
                let path = id_path(paths::WEBHOOK, &a.id)?;
                let v: WebhookView = ctx.client.delete(&path).await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                eprintln!(
                    "webhook {} ({}) removed; {} pending deliveries failed",
                    v.id, v.url, v.failed
                );
                Ok(())
            }
            WebhookCommand::Deliveries(a) => {
                let path = id_path(paths::WEBHOOK_DELIVERIES, &a.id)?;
                let limit = a.limit.to_string();
                let v: DeliveriesView = ctx.client.get(&path, &[("limit", &limit)]).await?;
                output::deliveries(ctx.format, &v)
            }
        }
    }
}
