//! `ailedger check`: the CI/CD policy gate. Reads the policy file (if given), asks the
//! server (`POST /v1/check`), prints the report; exit 0 pass, 1 fail.

use std::path::PathBuf;

use ailedger_attest::gate::Report;
use ailedger_server::{CheckPolicy, CheckRequest, paths};
use clap::Args;
use comfy_table::{Table, presets::NOTHING};

use crate::{Ctx, Format, client::UserError, inspect::ExitWith, output};

/// Check a release against the policy gate: the artifact or deployment and everything it
/// transitively consumes, under the `gate` section of --policy or of the policy in force
/// (docs/policy-gate.md). Every failure has a code (AIL-GATE-…) and a recommendation.
///
/// Exit codes: 0 pass, 1 fail, 2 bad input (the file, field or ref is named), 3 server
/// unavailable. `--format sarif` prints SARIF 2.1.0 for code-scanning upload.
///
/// Example: ailedger check deployment:prod/support-bot --policy release-gate.toml --format sarif
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The release: a deployment (`deployment:<env>/<name>`) or any ref.
    #[arg(value_name = "REF")]
    pub ref_: String,
    /// A policy file (TOML or YAML, told by the extension: .toml, .yaml, .yml) whose
    /// `gate` section to apply instead of the policy in force. It is not put in force.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

impl CheckArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let policy = match &self.policy {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| UserError(format!("{}: {e}", path.display())))?;
                let format = match path.extension().and_then(|e| e.to_str()) {
                    Some("toml") => Some("toml".to_owned()),
                    Some("yaml" | "yml") => Some("yaml".to_owned()),
                    _ => None,
                };
                Some(CheckPolicy { format, text })
            }
        };
        let req = CheckRequest {
            ref_: self.ref_.clone(),
            policy,
        };
        let report: Report = ctx.client.post(paths::CHECK, &req).await.map_err(|e| {
            // A policy fault names the file it is in.
            match (e.downcast_ref::<UserError>(), &self.policy) {
                (Some(UserError(detail)), Some(path)) if detail.starts_with("policy.") => {
                    UserError(format!("{}: {detail}", path.display())).into()
                }
                _ => e,
            }
        })?;
        match ctx.format {
            Format::Json => output::json(&report)?,
            Format::Sarif => output::json(&report.to_sarif())?,
            Format::Table | Format::Xml => print_table(&report),
        }
        if report.passed {
            Ok(())
        } else {
            Err(ExitWith(1).into())
        }
    }
}

fn print_table(r: &Report) {
    let policy = match (r.policy.source.as_str(), r.policy.seq) {
        ("ledger", Some(seq)) => format!("the policy of entry {seq}"),
        ("request", _) => format!(
            "the given policy ({})",
            r.policy.digest.as_deref().unwrap_or("?")
        ),
        _ => "no policy".to_owned(),
    };
    println!(
        "{} {}: {} components at seq {}, under {policy}: {}",
        if r.passed { "PASS" } else { "FAIL" },
        r.subject.label,
        r.components,
        r.at_seq,
        if r.passed {
            "no failures".to_owned()
        } else {
            format!("{} failures", r.failures.len())
        }
    );
    for n in &r.notes {
        println!("note: {n}");
    }
    if r.failures.is_empty() {
        return;
    }
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_header(["CODE", "ARTIFACT", "FAILURE", "TO PASS"]);
    for f in &r.failures {
        t.add_row([
            f.code.as_str(),
            &f.artifact.label,
            &f.message,
            &f.recommendation,
        ]);
    }
    println!("{t}");
}
