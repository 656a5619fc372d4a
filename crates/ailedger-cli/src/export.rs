//! `ailedger export`: a supply-chain document of an artifact or deployment and
//! everything it transitively consumes, as the ledger records it (`GET /v1/export/…`).

use std::{collections::BTreeMap, path::PathBuf};

use ailedger_attest::{
    judge::IN_TOTO_PAYLOAD,
    sign::{self, SigningKey},
    statement::{self, ResourceDescriptor, STATEMENT_V1, Statement},
};
use ailedger_server::paths;
use clap::{Args, Subcommand};

use crate::{Ctx, client::UserError};

/// The predicate type of a signed CycloneDX BOM.
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";

/// Export a supply-chain document of an artifact and everything it consumes.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    Cyclonedx(CycloneDxArgs),
    Spdx(crate::export_spdx::SpdxArgs),
}

impl ExportCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            ExportCommand::Cyclonedx(a) => a.run(ctx).await,
            ExportCommand::Spdx(a) => crate::export_spdx::run(a, ctx).await,
        }
    }
}

/// A CycloneDX BOM (JSON, or XML with --format xml) of <REF> and everything it
/// transitively consumes: components
/// with purls, hashes, licences and suppliers; models with their model cards, datasets
/// and lineage; MCP servers as services; attestations; open incidents as VEX; the ledger
/// seq and root hash it was computed at. The same ledger state gives the same bytes.
///
/// With --sign, the BOM is the predicate of an in-toto statement
/// (https://cyclonedx.org/bom) about the BOM's own SHA-256, in a DSSE envelope signed
/// with the key (Ed25519 or ECDSA P-256 PEM): `ailedger ingest` verifies it like any
/// other attestation.
///
/// Example: ailedger export cyclonedx deployment:prod/support-bot --spec-version 1.7 -o bom.json
///          ailedger export cyclonedx deployment:prod/support-bot --format xml -o bom.xml
#[derive(Debug, Args)]
pub struct CycloneDxArgs {
    /// The exported artifact: any ref (`deployment:prod/support-bot`, a purl, a digest).
    #[arg(value_name = "REF")]
    pub ref_: String,
    /// The CycloneDX spec version.
    #[arg(long, default_value = "1.6", value_parser = ["1.6", "1.7"])]
    pub spec_version: String,
    /// Export the ledger as it was at this RFC 3339 time.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Sign: write a DSSE envelope of an in-toto statement whose predicate is the BOM.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn user(e: impl std::fmt::Display) -> anyhow::Error {
    UserError(e.to_string()).into()
}

impl CycloneDxArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        // Read the key first: a bad key should not cost an export.
        let key = match &self.sign {
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| user(format!("{}: {e}", path.display())))?;
                Some(
                    SigningKey::from_pem(&pem)
                        .map_err(|e| user(format!("{}: {e}", path.display())))?,
                )
            }
            None => None,
        };
        let xml = ctx.format == crate::Format::Xml;
        if xml && key.is_some() {
            return Err(user(
                "--sign signs a JSON BOM (the in-toto predicate is JSON); drop --format xml",
            ));
        }
        let mut query = vec![
            ("ref", self.ref_.as_str()),
            ("spec_version", self.spec_version.as_str()),
            ("format", if xml { "xml" } else { "json" }),
        ];
        if let Some(t) = &self.as_of {
            query.push(("as_of", t));
        }
        let Some(key) = key else {
            return stream_to(ctx, paths::EXPORT_CYCLONEDX, &query, self.output.as_deref()).await;
        };
        let bom = ctx
            .client
            .get_bytes(paths::EXPORT_CYCLONEDX, &query)
            .await?;
        let out = sign_bom(&bom, &key).map_err(|e| {
            user(format!(
                "{}: {e}",
                self.sign
                    .as_deref()
                    .unwrap_or_else(|| "key".as_ref())
                    .display()
            ))
        })?;
        match &self.output {
            Some(path) => {
                std::fs::write(path, &out).map_err(|e| user(format!("{}: {e}", path.display())))
            }
            None => {
                use std::io::Write as _;
                std::io::stdout().write_all(&out)?;
                Ok(())
            }
        }
    }
}

/// Writes the document an export route answers to `output` (or stdout) as it arrives.
/// A file is written under a temporary name beside it and renamed when whole, so a
/// failed export leaves no truncated file.
pub(crate) async fn stream_to(
    ctx: &Ctx,
    path: &str,
    query: &[(&str, &str)],
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let Some(file) = output else {
        let mut stdout = std::io::BufWriter::new(std::io::stdout());
        return ctx.client.get_to(path, query, &mut stdout).await;
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| user(format!("{}: {e}", file.display())))?;
    let mut w = std::io::BufWriter::new(tmp);
    ctx.client.get_to(path, query, &mut w).await?;
    let tmp = w
        .into_inner()
        .map_err(|e| user(format!("{}: {}", file.display(), e.error())))?;
    tmp.persist(file)
        .map_err(|e| user(format!("{}: {}", file.display(), e.error)))?;
    Ok(())
}

/// The DSSE envelope of an in-toto Statement v1 about the BOM (subject: its serial
/// number, digest: the SHA-256 of its bytes) with the BOM as predicate.
fn sign_bom(bom: &[u8], key: &SigningKey) -> Result<Vec<u8>, String> {
    let predicate: serde_json::Value =
        serde_json::from_slice(bom).map_err(|e| format!("the server's BOM is not JSON: {e}"))?;
    let name = predicate
        .get("serialNumber")
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let statement = Statement {
        statement_type: STATEMENT_V1.into(),
        subjects: vec![ResourceDescriptor {
            name,
            digest: BTreeMap::from([(
                "sha256".to_owned(),
                ailedger_core::Sha256Digest::of(bom).hex(),
            )]),
            ..ResourceDescriptor::default()
        }],
        predicate_type: CYCLONEDX_PREDICATE.into(),
        predicate,
    };
    let payload = statement::to_json(&statement);
    let envelope =
        sign::sign_envelope(IN_TOTO_PAYLOAD, &payload, key).map_err(|e| e.to_string())?;
    Ok(envelope.to_json())
}
