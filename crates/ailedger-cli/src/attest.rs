//! `ailedger attest`: sign an in-toto statement about a registered artifact (DSSE,
//! Ed25519 or ECDSA P-256) and ingest it; or, with `--vsa`, sign a SLSA verification
//! summary of what the ledger verified about the artifact.

use std::{collections::BTreeMap, path::PathBuf};

use ailedger_attest::{
    judge::{IN_TOTO_PAYLOAD, Outcome, vsa_verdict},
    sign::{self, SigningKey},
    statement::{self, ResourceDescriptor, STATEMENT_V1, Statement},
};
use ailedger_server::{ArtifactView, IngestView, PolicyView, paths};
use clap::Args;

use crate::{Ctx, Format, client::UserError, output};

/// Sign an in-toto statement about a registered artifact and record it.
///
/// The subject is the artifact's SHA-256 (its id or a `sha256:` alias) under its
/// package URL or ref. The envelope is DSSE, signed with an Ed25519 or ECDSA P-256
/// PKCS#8 PEM key (securesystemslib key ids), and is ingested (judged by the trust
/// policy like any other) unless --no-ingest. With --vsa, the statement is a SLSA
/// Verification Summary of the attestations the ledger holds for the artifact, so
/// downstream systems can trust ailedger's verdict without re-verifying.
///
/// Example: ailedger attest model:llama-ft@3 --predicate-type https://slsa.dev/provenance/v1 --predicate build.json --key ci.pem
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The artifact: any ref (`sha256:…`, a purl, `<kind>:<name>[@<version>]`).
    #[arg(value_name = "REF")]
    pub ref_: String,
    /// The predicate type (a URI), e.g. https://slsa.dev/provenance/v1.
    #[arg(long, required_unless_present = "vsa", conflicts_with = "vsa")]
    pub predicate_type: Option<String>,
    /// The predicate: a JSON file.
    #[arg(long, required_unless_present = "vsa", conflicts_with = "vsa")]
    pub predicate: Option<PathBuf>,
    /// Sign a SLSA Verification Summary (https://slsa.dev/verification_summary/v1) of
    /// the artifact's attestations as the ledger judged them.
    #[arg(long)]
    pub vsa: bool,
    /// The verifier id recorded in a summary (default: the server's URL).
    #[arg(long, requires = "vsa")]
    pub verifier_id: Option<String>,
    /// The private key: PKCS#8 PEM (Ed25519 or ECDSA P-256), or SEC1 PEM (P-256).
    #[arg(long)]
    pub key: PathBuf,
    /// Also write the envelope to this file.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Do not record it in the ledger (write it with --output, or to stdout).
    #[arg(long)]
    pub no_ingest: bool,
}

fn user(e: impl std::fmt::Display) -> anyhow::Error {
    UserError(e.to_string()).into()
}

impl AttestArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let pem = std::fs::read_to_string(&self.key)
            .map_err(|e| user(format!("{}: {e}", self.key.display())))?;
        let key =
            SigningKey::from_pem(&pem).map_err(|e| user(format!("{}: {e}", self.key.display())))?;
        let art: ArtifactView = ctx
            .client
            .get(paths::ARTIFACTS, &[("ref", &self.ref_)])
            .await?;
        let subject = subject_of(&art).ok_or_else(|| {
            user(format!(
                "{}: {} has no SHA-256 digest (its id or a sha256: alias); an in-toto subject needs one",
                self.ref_, art.id
            ))
        })?;
        let statement = if self.vsa {
            self.vsa_statement(ctx, &art, subject).await?
        } else {
            let (Some(ptype), Some(path)) = (&self.predicate_type, &self.predicate) else {
                return Err(user(
                    "--predicate-type and --predicate are needed (or --vsa)",
                ));
            };
            let text = std::fs::read(path).map_err(|e| user(format!("{}: {e}", path.display())))?;
            let predicate: serde_json::Value = serde_json::from_slice(&text)
                .map_err(|e| user(format!("{}: not JSON: {e}", path.display())))?;
            Statement {
                statement_type: STATEMENT_V1.into(),
                subjects: vec![subject],
                predicate_type: ptype.clone(),
                predicate,
            }
        };
        let payload = statement::to_json(&statement);
        let envelope = sign::sign_envelope(IN_TOTO_PAYLOAD, &payload, &key)
            .map_err(|e| user(format!("{}: {e}", self.key.display())))?;
        let bytes = envelope.to_json();
        if let Some(out) = &self.output {
            std::fs::write(out, &bytes).map_err(|e| user(format!("{}: {e}", out.display())))?;
        }
        if self.no_ingest {
            if self.output.is_none() {
                println!("{}", String::from_utf8_lossy(&bytes));
            }
            return Ok(());
        }
        let name = format!("{}.intoto.json", if self.vsa { "vsa" } else { "statement" });
        let v: IngestView = ctx
            .client
            .post_bytes(paths::DOCUMENTS, &[("name", &name)], bytes)
            .await?;
        if ctx.format == Format::Json {
            return output::json(&v);
        }
        println!(
            "signed {} about {} with key {} → entry {} ({})",
            statement.predicate_type,
            art.id,
            key.keyid(),
            v.seq,
            v.digest
        );
        if let Some(a) = &v.attestation {
            output::attestation_lines(a, "  ");
        }
        Ok(())
    }

    async fn vsa_statement(
        &self,
        ctx: &Ctx,
        art: &ArtifactView,
        subject: ResourceDescriptor,
    ) -> anyhow::Result<Statement> {
        let judged: Vec<(Outcome, Option<u8>)> = art
            .attestations
            .iter()
            .map(|a| {
                let o = match a.outcome.as_str() {
                    "verified" => Outcome::Verified,
                    "failed" => Outcome::Failed,
                    _ => Outcome::Unverified,
                };
                (o, a.slsa_level.and_then(|l| u8::try_from(l).ok()))
            })
            .collect();
        let (passed, levels) = vsa_verdict(&judged);
        let policy: PolicyView = ctx.client.get(paths::POLICY, &[]).await?;
        let base = ctx.client.base().trim_end_matches('/').to_owned();
        let policy_uri = match policy.seq {
            Some(seq) => format!("{base}{}?at={seq}", paths::POLICY),
            None => format!("{base}{}", paths::POLICY),
        };
        let policy_digest = policy
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
            .map(str::to_owned)
            .unwrap_or_else(|| ailedger_core::Sha256Digest::of(b"").hex());
        let inputs: Vec<ResourceDescriptor> = art
            .attestations
            .iter()
            .filter_map(|a| {
                Some(ResourceDescriptor {
                    uri: Some(format!("{base}{}", paths::fill(paths::DOCUMENT, &a.id))),
                    digest: BTreeMap::from([(
                        "sha256".to_owned(),
                        a.id.strip_prefix("sha256:")?.to_owned(),
                    )]),
                    ..ResourceDescriptor::default()
                })
            })
            .collect();
        let now = ailedger_core::entry::format_time(ailedger_store::now_us());
        let resource = subject.name.clone().unwrap_or_else(|| art.id.clone());
        sign::vsa_statement(
            &[subject],
            self.verifier_id.as_deref().unwrap_or(&base),
            &now,
            &resource,
            (&policy_uri, &policy_digest),
            &inputs,
            passed,
            &levels,
        )
        .map_err(|e| user(format!("verification summary: {e}")))
    }
}

/// The in-toto subject for an artifact: its SHA-256, named by its purl or ref.
fn subject_of(art: &ArtifactView) -> Option<ResourceDescriptor> {
    let refs = || std::iter::once(&art.id).chain(&art.aliases);
    let sha = refs().find_map(|r| r.strip_prefix("sha256:"))?;
    let name = refs()
        .find(|r| r.starts_with("pkg:"))
        .or_else(|| refs().find(|r| !r.starts_with("sha256:")))
        .cloned()
        .unwrap_or_else(|| art.id.clone());
    Some(ResourceDescriptor {
        name: Some(name),
        digest: BTreeMap::from([("sha256".to_owned(), sha.to_owned())]),
        ..ResourceDescriptor::default()
    })
}
