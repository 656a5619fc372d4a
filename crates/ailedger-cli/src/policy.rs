//! `ailedger policy set|show`: the trust policy that judges signed documents.

use std::path::PathBuf;

use ailedger_server::{PolicyRequest, PolicyView, WriteResponse, paths};
use clap::{Args, Subcommand};

use crate::{Ctx, Format, client::UserError, output};

/// The trust policy: which keys and Sigstore identities are trusted for which
/// artifacts, which builders are hosted or hardened, and what unsigned, untrusted or
/// failed documents get. Setting it needs an admin token; it is a ledger entry, and
/// every verification result names the policy (by seq) that judged it.
///
/// Reference and example: docs/attestations.md; schema: schemas/trust-policy.schema.json.
///
/// Example: ailedger policy set trust-policy.toml --file root.json=trusted_root.json
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Put a policy in force (admin). It is checked first; a fault names its field.
    Set(SetArgs),
    /// The policy in force (now, or at --at SEQ).
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The policy file (TOML or YAML, told by its extension: .toml, .yaml, .yml).
    pub file: PathBuf,
    /// A file the policy names, recorded with it: NAME=PATH (e.g. a Sigstore
    /// trusted_root.json named by `sigstore.trusted_root`).
    #[arg(long = "file", value_name = "NAME=PATH")]
    pub files: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The policy in force at this seq.
    #[arg(long)]
    pub at: Option<u64>,
}

fn read(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| UserError(format!("{}: {e}", path.display())).into())
}

impl PolicyCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            PolicyCommand::Set(a) => {
                let text = read(&a.file)?;
                let format = match a.file.extension().and_then(|e| e.to_str()) {
                    Some("toml") => Some("toml".to_owned()),
                    Some("yaml" | "yml") => Some("yaml".to_owned()),
                    _ => None,
                };
                let mut files = std::collections::BTreeMap::new();
                for f in &a.files {
                    let (name, path) = f
                        .split_once('=')
                        .ok_or_else(|| UserError(format!("--file {f}: expected NAME=PATH")))?;
                    files.insert(name.to_owned(), read(std::path::Path::new(path))?);
                }
                let req = PolicyRequest {
                    format,
                    text,
                    files,
                };
                let w: WriteResponse = ctx.client.put(paths::POLICY, &req).await?;
                output::written(ctx.format, &w)
            }
            PolicyCommand::Show(a) => {
                let at = a.at.map(|s| s.to_string());
                let query: Vec<(&str, &str)> = at.iter().map(|s| ("at", s.as_str())).collect();
                let v: PolicyView = ctx.client.get(paths::POLICY, &query).await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                match (&v.seq, &v.text) {
                    (Some(seq), Some(text)) => {
                        println!(
                            "# policy of entry {seq}, {} by {} ({})",
                            v.time.as_deref().unwrap_or("?"),
                            v.actor.as_deref().unwrap_or("?"),
                            v.digest.as_deref().unwrap_or("?")
                        );
                        print!("{text}");
                        if !text.ends_with('\n') {
                            println!();
                        }
                        for name in v.files.keys() {
                            println!("# with file {name}");
                        }
                    }
                    _ => println!(
                        "# no policy set: nothing is trusted; unsigned and untrusted documents are recorded as unverified, failed ones refused\n{}",
                        serde_json::to_string_pretty(&v.policy)?
                    ),
                }
                Ok(())
            }
        }
    }
}
