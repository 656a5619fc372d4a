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
        let key = self.sign.as_deref().map(read_key).transpose()?;
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
        match (key, self.sign.as_deref()) {
            (Some(key), Some(key_path)) => {
                let signer = Signer {
                    key: &key,
                    key_path,
                    predicate_type: CYCLONEDX_PREDICATE,
                    name_field: "serialNumber",
                };
                signed_export(
                    ctx,
                    paths::EXPORT_CYCLONEDX,
                    &query,
                    &signer,
                    self.output.as_deref(),
                )
                .await
            }
            _ => stream_to(ctx, paths::EXPORT_CYCLONEDX, &query, self.output.as_deref()).await,
        }
    }
}

/// Reads the signing key of `--sign` (Ed25519 or ECDSA P-256 PEM).
pub(crate) fn read_key(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    let pem =
        std::fs::read_to_string(path).map_err(|e| user(format!("{}: {e}", path.display())))?;
    SigningKey::from_pem(&pem).map_err(|e| user(format!("{}: {e}", path.display())))
}

/// How `--sign` wraps a document: the key, and the statement's predicate type and the
/// document's field that names it (the statement's subject name).
pub(crate) struct Signer<'a> {
    pub key: &'a SigningKey,
    pub key_path: &'a std::path::Path,
    pub predicate_type: &'a str,
    pub name_field: &'a str,
}

/// Fetches the document an export route answers, signs it (see [`sign_document`]) and
/// writes the envelope to `output` (or stdout).
pub(crate) async fn signed_export(
    ctx: &Ctx,
    path: &str,
    query: &[(&str, &str)],
    signer: &Signer<'_>,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let doc = ctx.client.get_bytes(path, query).await?;
    let out = sign_document(&doc, signer)
        .map_err(|e| user(format!("{}: {e}", signer.key_path.display())))?;
    match output {
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

/// The DSSE envelope of an in-toto Statement v1 about a document (subject: the name
/// its `name_field` gives, digest: the SHA-256 of its bytes) with the document as
/// predicate.
fn sign_document(doc: &[u8], signer: &Signer<'_>) -> Result<Vec<u8>, String> {
    let predicate: serde_json::Value = serde_json::from_slice(doc)
        .map_err(|e| format!("the server's document is not JSON: {e}"))?;
    let name = predicate
        .get(signer.name_field)
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let statement = Statement {
        statement_type: STATEMENT_V1.into(),
        subjects: vec![ResourceDescriptor {
            name,
            digest: BTreeMap::from([(
                "sha256".to_owned(),
                ailedger_core::Sha256Digest::of(doc).hex(),
            )]),
            ..ResourceDescriptor::default()
        }],
        predicate_type: signer.predicate_type.into(),
        predicate,
    };
    let payload = statement::to_json(&statement);
    let envelope =
        sign::sign_envelope(IN_TOTO_PAYLOAD, &payload, signer.key).map_err(|e| e.to_string())?;
    Ok(envelope.to_json())
}
