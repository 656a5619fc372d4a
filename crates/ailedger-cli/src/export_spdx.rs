//! `ailedger export spdx`: an SPDX 2.3 JSON document of an artifact and everything it
//! transitively consumes, from `GET /v1/export/spdx`.

use std::path::PathBuf;

use ailedger_core::Ref;
use ailedger_server::paths;
use clap::Args;

use crate::{Ctx, client::UserError};

/// SPDX 2.3 JSON of <REF> and everything it transitively consumes: one package per
/// artifact (purls, checksums, licences, supplier), the ledger's edges as relationships,
/// open incidents and attestations as annotations, and the ledger seq and Merkle root
/// it was computed at. The same ledger state gives byte-identical output.
///
/// Example: ailedger export spdx deployment:prod/support-bot -o support-bot.spdx.json
#[derive(Debug, Args)]
pub struct SpdxArgs {
    /// Any ref: sha256:<hex>, a purl, or <kind>:<name>[@<version>].
    #[arg(value_name = "REF")]
    pub ref_: String,
    /// Export the ledger as it was at this RFC 3339 time.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Write the document to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn run(args: SpdxArgs, ctx: &Ctx) -> anyhow::Result<()> {
    args.ref_
        .parse::<Ref>()
        .map_err(|e| UserError(e.to_string()))?;
    if let Some(t) = &args.as_of {
        ailedger_core::entry::parse_time(t).map_err(|e| UserError(format!("--as-of: {e}")))?;
    }
    let mut q = vec![("ref", args.ref_.as_str())];
    if let Some(t) = &args.as_of {
        q.push(("as_of", t));
    }
    let doc = ctx.client.get_bytes(paths::EXPORT_SPDX, &q).await?;
    match &args.output {
        Some(out) => {
            std::fs::write(out, &doc).map_err(|e| UserError(format!("{}: {e}", out.display())))?
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &doc)?,
    }
    Ok(())
}
