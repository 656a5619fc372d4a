//! `ailedger export spdx`: an SPDX 2.3 JSON document of an artifact and everything it
//! transitively consumes, from `GET /v1/export/spdx`.

use std::path::PathBuf;

use ailedger_core::Ref;
use ailedger_server::paths;
use clap::Args;

use crate::{
    Ctx,
    client::UserError,
    export::{Signer, read_key, signed_export, stream_to},
};

/// The predicate type of a signed SPDX document (the in-toto attestation framework's
/// SPDX predicate).
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// SPDX 2.3 JSON of <REF> and everything it transitively consumes: one package per
/// artifact (purls, checksums, licences, supplier), the ledger's edges as relationships,
/// open incidents and attestations as annotations, and the ledger seq and Merkle root
/// it was computed at; model cards, findings, MCP servers, deployments and other
/// attributes as annotations. The same ledger state gives byte-identical output.
///
/// With --sign, the document is the predicate of an in-toto statement
/// (https://spdx.dev/Document) about the document's own SHA-256 (subject name: its
/// documentNamespace), in a DSSE envelope signed with the key (Ed25519 or ECDSA P-256
/// PEM): `ailedger ingest` verifies it like any other attestation.
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
    /// Sign: write a DSSE envelope of an in-toto statement whose predicate is the document.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
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
    // Read the key first: a bad key should not cost an export.
    let key = args.sign.as_deref().map(read_key).transpose()?;
    let mut q = vec![("ref", args.ref_.as_str())];
    if let Some(t) = &args.as_of {
        q.push(("as_of", t));
    }
    match (key, args.sign.as_deref()) {
        (Some(key), Some(key_path)) => {
            let signer = Signer {
                key: &key,
                key_path,
                predicate_type: SPDX_PREDICATE,
                name_field: "documentNamespace",
            };
            signed_export(ctx, paths::EXPORT_SPDX, &q, &signer, args.output.as_deref()).await
        }
        _ => stream_to(ctx, paths::EXPORT_SPDX, &q, args.output.as_deref()).await,
    }
}
