//! Incident response: `compromise`, `incident list|show|ack|resolve|report`,
//! `blocklist add|list|remove` and `osv import`. The server decides; this module reads
//! files, calls the API and prints.

use std::path::{Path, PathBuf};

use ailedger_core::{blast::Report, entry::to_seconds};
use ailedger_server::{
    BlockRequest, BlockView, BlocklistView, CompromiseRequest, EvidenceInput, ImportRequest,
    ImportView, IncidentView, IncidentsView, KnownRecord, KnownRequest, KnownView, QuarantineView,
    ReleaseRequest, TransitionRequest, paths,
};
use base64::Engine;
use clap::{Args, Subcommand};
use rayon::prelude::*;

use crate::{Ctx, Format, client::UserError, output};

/// Mark something compromised: opens an incident (admin) and prints its blast-radius
/// report: every affected deployment with its owner, the path through which it
/// consumed the target, when its exposure began and ended, and its last known-good.
///
/// The target is a ref or digest (sha256:<hex>, model:name@version), a purl with one
/// version, a purl without a version (every version), a purl with a vers: range
/// (pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42: PEP 440 order for PyPI, SemVer
/// for npm and cargo), or an OSV record file (.json).
///
/// Example: ailedger compromise 'pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42'
///   --reason "trojaned wheels (crypto miner)" --severity critical
///   --advisory GHSA-7rjr-3q55-vv33 --evidence https://example.com/advisory
#[derive(Debug, Args)]
pub struct CompromiseArgs {
    /// What is compromised (see above).
    pub target: String,
    /// Why: what the advisory says.
    #[arg(long)]
    pub reason: String,
    /// info, low, medium, high or critical.
    #[arg(long, default_value = "high")]
    pub severity: String,
    /// Evidence: an http(s) URL, or a file kept in the ledger's document store (one
    /// file per incident); repeatable.
    #[arg(long, value_name = "URL|FILE")]
    pub evidence: Vec<String>,
    /// The advisory's id (GHSA-…, CVE-…, MAL-…).
    #[arg(long)]
    pub advisory: Option<String>,
    /// Also put the target on the blocklist: later registrations and deployments of
    /// it are flagged and fail `ailedger check`.
    #[arg(long)]
    pub block: bool,
}

/// Incidents: what the ledger remembers as compromised, and how each was handled.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Incidents, most recent first (open and acknowledged unless --state says).
    List(ListArgs),
    /// One incident with its history: who opened, acknowledged and resolved it, and
    /// which writes were flagged for it.
    Show(IdArgs),
    /// Acknowledge an incident (admin): a responder has taken it.
    Ack(TransitionArgs),
    /// Resolve an incident (admin): contained and closed.
    Resolve(TransitionArgs),
    /// The blast-radius report: affected deployments (environment, owner, path,
    /// exposure window, last known-good), intermediate artifacts, and the ledger seq and
    /// Merkle root it was computed at. Table by default; --markdown for a ticket, --csv,
    /// or the global --format json.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// open (open and acknowledged), resolved, retracted or all.
    #[arg(long, default_value = "open")]
    pub state: String,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The incident's id (the seq of the entry that opened it).
    pub id: u64,
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    pub id: u64,
    /// What was done.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub id: u64,
    /// Compute it as of this seq: the same seq gives the same report.
    #[arg(long)]
    pub at: Option<u64>,
    /// Markdown, for an incident ticket.
    #[arg(long, conflicts_with = "csv")]
    pub markdown: bool,
    /// CSV, one row per affected artifact.
    #[arg(long)]
    pub csv: bool,
}

/// The blocklist: artifacts whose later registration or deployment is flagged and
/// fails `ailedger check`.
#[derive(Debug, Subcommand)]
pub enum BlocklistCommand {
    /// Block a target (admin): a ref, digest, purl, or purl with a vers: range.
    Add(BlockArgs),
    /// Every blocklist entry, lifted ones too.
    List,
    /// Lift a blocklist entry (admin).
    Remove(IdArgs),
}

#[derive(Debug, Args)]
pub struct BlockArgs {
    pub target: String,
    #[arg(long)]
    pub reason: String,
    /// The incident it belongs to.
    #[arg(long)]
    pub incident: Option<u64>,
}

/// Quarantine: with `quarantine = true` in the gate section of the policy in force,
/// newly registered models and packages that fail the policy's checks on themselves
/// are held (and fail `ailedger check`) until a later write makes them pass or an
/// admin releases them.
#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Quarantined artifacts, with the checks they failed.
    List,
    /// Release one (admin): refused, naming what still fails, unless the checks pass
    /// now or --force is given (say why with --note).
    Release(ReleaseArgs),
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[arg(value_name = "REF")]
    pub target: String,
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long)]
    pub force: bool,
}

impl QuarantineCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let v: QuarantineView = match self {
            QuarantineCommand::List => ctx.client.get(paths::QUARANTINE, &[]).await?,
            QuarantineCommand::Release(a) => {
                ctx.client
                    .post(
                        paths::QUARANTINE_RELEASE,
                        &ReleaseRequest {
                            ref_: a.target,
                            note: a.note,
                            force: a.force,
                        },
                    )
                    .await?
            }
        };
        if ctx.format == Format::Json {
            return output::json(&v);
        }
        if v.quarantined.is_empty() {
            println!("nothing is quarantined");
        }
        for q in &v.quarantined {
            println!(
                "{}  (#{} {}: {})",
                q.artifact,
                q.seq,
                to_seconds(&q.time),
                q.reason
            );
        }
        Ok(())
    }
}

/// OSV advisories.
#[derive(Debug, Subcommand)]
pub enum OsvCommand {
    /// Import OSV records (admin): files, or directories searched for *.json (a
    /// checkout of the OpenSSF malicious-packages repository, an osv.dev export). Each
    /// record is checked against the OSV schema and matched against the ledger's
    /// packages; each that matches opens an incident, or updates its incident when it
    /// changed, and a withdrawn record retracts it. Unchanged records are skipped, so
    /// re-importing is cheap. A bad record is named and skipped; the rest go on, and
    /// the exit code is 2 if any was bad.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| UserError(format!("{}: {e}", path.display())).into())
}

impl CompromiseArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let path = Path::new(&self.target);
        let (target, osv) = if self.target.ends_with(".json") && path.is_file() {
            let v: serde_json::Value = serde_json::from_slice(&read(path)?)
                .map_err(|e| UserError(format!("{}: not JSON: {e}", path.display())))?;
            (None, Some(v))
        } else {
            (Some(self.target.clone()), None)
        };
        let mut evidence = Vec::new();
        for e in &self.evidence {
            if e.starts_with("https://") || e.starts_with("http://") {
                evidence.push(EvidenceInput {
                    url: Some(e.clone()),
                    name: None,
                    content_base64: None,
                });
            } else {
                let p = Path::new(e);
                let bytes = read(p)?;
                evidence.push(EvidenceInput {
                    url: None,
                    name: p.file_name().and_then(|n| n.to_str()).map(str::to_owned),
                    content_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                });
            }
        }
        let req = CompromiseRequest {
            target,
            osv,
            reason: self.reason,
            severity: Some(self.severity),
            evidence,
            advisory: self.advisory,
            block: self.block,
        };
        let v: IncidentView = ctx.client.post(paths::INCIDENTS, &req).await?;
        if ctx.format == Format::Json {
            return output::json(&v);
        }
        println!(
            "incident #{} opened ({}): {} — {}",
            v.id, v.severity, v.describe, v.reason
        );
        if !v.blocks.is_empty() {
            println!("  blocklist entry #{}", v.blocks[0]);
        }
        println!();
        print!("{}", report(ctx, v.id, None).await?.table());
        Ok(())
    }
}

async fn report(ctx: &Ctx, id: u64, at: Option<u64>) -> anyhow::Result<Report> {
    let at = at.map(|s| s.to_string());
    let query: Vec<(&str, &str)> = at.iter().map(|s| ("at", s.as_str())).collect();
    ctx.client
        .get(
            &paths::fill(paths::INCIDENT_REPORT, &id.to_string()),
            &query,
        )
        .await
}

fn print_incident(v: &IncidentView, full: bool) {
    println!(
        "#{:<6} {} {:<12} {:<8} {}  ({})",
        v.id,
        to_seconds(&v.opened),
        v.state,
        v.severity,
        v.describe,
        v.reason
    );
    if !full {
        return;
    }
    if let Some(a) = &v.advisory {
        println!("  advisory: {a}");
    }
    for e in &v.evidence {
        let url = e.get("url").and_then(|u| u.as_str());
        let digest = e.get("digest").and_then(|u| u.as_str());
        let name = e.get("name").and_then(|u| u.as_str());
        match (url, digest) {
            (Some(u), _) => println!("  evidence: {u}"),
            (None, Some(d)) => println!(
                "  evidence: {} (GET {})",
                name.unwrap_or("file"),
                paths::fill(paths::DOCUMENT, d)
            ),
            _ => {}
        }
    }
    for s in &v.steps {
        println!(
            "  #{} {} {:<8} by {}{}",
            s.seq,
            to_seconds(&s.time),
            s.action,
            s.actor,
            s.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        );
    }
    for e in &v.exposures {
        println!(
            "  #{} {} flagged: {} started consuming {}",
            e.seq,
            to_seconds(&e.time),
            e.consumer,
            e.via
        );
    }
    if !v.blocks.is_empty() {
        let b: Vec<String> = v.blocks.iter().map(|b| format!("#{b}")).collect();
        println!("  blocklist entries: {}", b.join(", "));
    }
}

impl IncidentCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            IncidentCommand::List(a) => {
                let v: IncidentsView = ctx
                    .client
                    .get(paths::INCIDENTS, &[("state", a.state.as_str())])
                    .await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                if v.incidents.is_empty() {
                    println!("no incidents ({})", a.state);
                }
                for i in &v.incidents {
                    print_incident(i, false);
                }
                Ok(())
            }
            IncidentCommand::Show(a) => {
                let v: IncidentView = ctx
                    .client
                    .get(&paths::fill(paths::INCIDENT, &a.id.to_string()), &[])
                    .await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                print_incident(&v, true);
                Ok(())
            }
            IncidentCommand::Ack(a) => transition(ctx, paths::INCIDENT_ACK, a).await,
            IncidentCommand::Resolve(a) => transition(ctx, paths::INCIDENT_RESOLVE, a).await,
            IncidentCommand::Report(a) => {
                let r = report(ctx, a.id, a.at).await?;
                if ctx.format == Format::Json {
                    return output::json(&r);
                }
                if a.markdown {
                    print!("{}", r.markdown());
                } else if a.csv {
                    print!("{}", r.csv());
                } else {
                    print!("{}", r.table());
                }
                Ok(())
            }
        }
    }
}

async fn transition(ctx: &Ctx, template: &str, a: TransitionArgs) -> anyhow::Result<()> {
    let v: IncidentView = ctx
        .client
        .post(
            &paths::fill(template, &a.id.to_string()),
            &TransitionRequest { note: a.note },
        )
        .await?;
    if ctx.format == Format::Json {
        return output::json(&v);
    }
    print_incident(&v, true);
    Ok(())
}

impl BlocklistCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let print = |b: &BlockView| {
            println!(
                "#{:<6} {:<8} {}  ({}){}{}",
                b.id,
                if b.lifted.is_some() {
                    "lifted"
                } else {
                    "active"
                },
                b.describe,
                b.reason,
                b.incident
                    .map(|i| format!(" incident #{i}"))
                    .unwrap_or_default(),
                b.lifted
                    .map(|l| format!(" lifted by #{l}"))
                    .unwrap_or_default()
            )
        };
        match self {
            BlocklistCommand::Add(a) => {
                let v: BlockView = ctx
                    .client
                    .post(
                        paths::BLOCKLIST,
                        &BlockRequest {
                            target: a.target,
                            reason: a.reason,
                            incident: a.incident,
                        },
                    )
                    .await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                print(&v);
            }
            BlocklistCommand::List => {
                let v: BlocklistView = ctx.client.get(paths::BLOCKLIST, &[]).await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                if v.blocks.is_empty() {
                    println!("the blocklist is empty");
                }
                v.blocks.iter().for_each(print);
            }
            BlocklistCommand::Remove(a) => {
                let v: BlockView = ctx
                    .client
                    .delete(&paths::fill(paths::BLOCK, &a.id.to_string()))
                    .await?;
                if ctx.format == Format::Json {
                    return output::json(&v);
                }
                print(&v);
            }
        }
        Ok(())
    }
}

/// One record file read for import.
struct Read {
    path: PathBuf,
    record: Result<(String, String, serde_json::Value), String>,
}

/// Every `*.json` file under the paths (files given directly are taken as they are),
/// sorted, so an import goes in a stable order.
fn record_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir)
                    .map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
                for e in entries {
                    let e = e.map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
                    let path = e.path();
                    let ty = e
                        .file_type()
                        .map_err(|err| UserError(format!("{}: {err}", path.display())))?;
                    if ty.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|x| x == "json") {
                        out.push(path);
                    }
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(UserError(format!("{}: no such file or directory", p.display())).into());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Reads and hashes one record file: its id and the digest of its canonical JSON
/// (what the server compares to tell a changed record).
fn read_record(path: &Path) -> Result<(String, String, serde_json::Value), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    let id = v
        .get("id")
        .and_then(|i| i.as_str())
        .ok_or("/id: missing or not a string")?
        .to_owned();
    let canonical = ailedger_core::canonical::to_canonical_json(&v).map_err(|e| e.to_string())?;
    Ok((
        id,
        ailedger_core::Sha256Digest::of(&canonical).to_string(),
        v,
    ))
}

/// Records per import request, and bytes per request (about).
const BATCH_RECORDS: usize = 2000;
const BATCH_BYTES: usize = 24 << 20;

impl OsvCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let OsvCommand::Import(a) = self;
        let files = record_files(&a.paths)?;
        let read: Vec<Read> = files
            .into_par_iter()
            .map(|path| {
                let record = read_record(&path);
                Read { path, record }
            })
            .collect();
        let mut bad = 0usize;
        let mut good: Vec<(&Path, &str, &str, &serde_json::Value)> = Vec::new();
        for r in &read {
            match &r.record {
                Ok((id, digest, v)) => good.push((&r.path, id, digest, v)),
                Err(e) => {
                    bad += 1;
                    eprintln!("error: {}: {e}", r.path.display());
                }
            }
        }
        // Which records the ledger does not hold as they are.
        let mut changed = std::collections::HashSet::new();
        for chunk in good.chunks(ailedger_server::MAX_KNOWN.min(20_000)) {
            let req = KnownRequest {
                records: chunk
                    .iter()
                    .map(|(_, id, digest, _)| KnownRecord {
                        id: (*id).to_owned(),
                        digest: (*digest).to_owned(),
                    })
                    .collect(),
            };
            let v: KnownView = ctx.client.post(paths::ADVISORIES_KNOWN, &req).await?;
            changed.extend(v.changed);
        }
        let to_send: Vec<&(&Path, &str, &str, &serde_json::Value)> = good
            .iter()
            .filter(|(_, id, _, _)| changed.contains(*id))
            .collect();
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        counts.insert("unchanged".into(), good.len() - to_send.len());
        let mut incidents: Vec<String> = Vec::new();
        let mut start = 0;
        while start < to_send.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < to_send.len() && end - start < BATCH_RECORDS && bytes < BATCH_BYTES {
                bytes += to_send[end].3.to_string().len();
                end += 1;
            }
            let batch = &to_send[start..end];
            let req = ImportRequest {
                records: batch.iter().map(|r| r.3.clone()).collect(),
            };
            let v: ImportView = ctx.client.post(paths::ADVISORIES, &req).await?;
            for r in &v.results {
                let path = batch.get(r.index).map(|b| b.0.display().to_string());
                *counts.entry(r.status.clone()).or_default() += 1;
                if r.status == "invalid" {
                    bad += 1;
                    eprintln!(
                        "error: {}: {}",
                        path.unwrap_or_default(),
                        r.detail.as_deref().unwrap_or("invalid")
                    );
                    continue;
                }
                if let (Some(action), Some(i)) = (&r.action, r.incident) {
                    incidents.push(format!(
                        "incident #{i} {action}: {} affects {}",
                        r.id.as_deref().unwrap_or("?"),
                        if r.matched.is_empty() {
                            "nothing now".to_owned()
                        } else {
                            r.matched.join(", ")
                        }
                    ));
                }
            }
            start = end;
        }
        if ctx.format == Format::Json {
            output::json(&serde_json::json!({
                "files": read.len(),
                "counts": counts,
                "invalid": bad,
                "incidents": incidents,
            }))?;
        } else {
            for i in &incidents {
                println!("{i}");
            }
            let summary: Vec<String> = counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            println!(
                "{} record files: {}{}",
                read.len(),
                if summary.is_empty() {
                    "nothing to import".to_owned()
                } else {
                    summary.join(", ")
                },
                if bad > 0 {
                    format!(" ({bad} refused, named above)")
                } else {
                    String::new()
                }
            );
        }
        if bad > 0 {
            return Err(crate::inspect::ExitWith(2).into());
        }
        Ok(())
    }
}
