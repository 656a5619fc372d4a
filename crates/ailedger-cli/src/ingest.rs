//! `ailedger ingest`: send documents (SBOMs, lockfiles, MCP configs) to the server as
//! they are, following `-r`/`-c` includes of requirements files. An include is followed
//! only inside the directory of the document given on the command line (after symlinks
//! and `..` are resolved) unless `--allow-includes-outside`: a requirements file saying
//! `-r ~/.claude.json` must not upload a local MCP config.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use ailedger_server::{IngestView, paths};
use clap::Args;

use crate::{Ctx, Format, client::UserError, output};

/// Ingest supply-chain documents as they are: CycloneDX 1.2–1.7 (JSON or XML), SPDX 2.2/2.3
/// and 3.0, requirements.txt / pip freeze (with their -r includes), poetry.lock, uv.lock,
/// Pipfile.lock, package-lock.json, Cargo.lock, and MCP client configs (Claude Desktop,
/// Cursor, VS Code, Claude Code, opencode), and signed provenance: in-toto DSSE envelopes
/// and statements (SLSA provenance, test results, any predicate), `.intoto.jsonl` files,
/// Sigstore bundles v0.1–v0.3 and OpenSSF model signatures, each verified offline and
/// judged by the trust policy (`ailedger policy`). The format is detected from the content. Each
/// document becomes one ledger entry; its bytes stay retrievable by digest (MCP configs
/// and lockfiles with their secrets replaced by `<redacted>`; the submitted file's own
/// digest is kept as an alias). The same bytes ingested again are recognised and record
/// nothing. `-r`/`-c` includes are followed only inside the directory of the file given.
///
/// Example: ailedger ingest sbom.cdx.json requirements.txt ~/.cursor/mcp.json
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The documents.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Follow `-r`/`-c` includes that resolve outside the directory of the document
    /// given on the command line (refused by default, exit code 2).
    #[arg(long)]
    pub allow_includes_outside: bool,
    /// Refuse an attestation unless it is verified by a signer the trust policy trusts
    /// (unsigned and untrusted ones are otherwise recorded as unverified claims).
    #[arg(long)]
    pub require_verified: bool,
    /// Refuse a document with any local fault (a hash that is not hex, a relationship
    /// naming no element, a package without a name…) instead of recording it repaired
    /// with a warning at the fault's pointer (exit code 2; nothing is recorded).
    #[arg(long)]
    pub strict: bool,
}

impl IngestArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        // Each document with the directory its includes are confined to (`None` for
        // one given on the command line: its own directory).
        let mut queue: Vec<(PathBuf, Option<PathBuf>)> =
            self.files.iter().map(|f| (f.clone(), None)).collect();
        queue.reverse();
        let mut seen = BTreeSet::new();
        let mut views = Vec::new();
        let mut failed = Vec::new();
        while let Some((path, root)) = queue.pop() {
            let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if !seen.insert(key.clone()) {
                continue;
            }
            let root =
                root.unwrap_or_else(|| key.parent().map(Path::to_path_buf).unwrap_or_default());
            match ingest_one(ctx, &path, self.require_verified, self.strict).await {
                Ok(v) => {
                    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    for inc in v.includes.iter().rev() {
                        let target = base.join(inc);
                        if !self.allow_includes_outside {
                            confined(&path, inc, &target, &root)?;
                        }
                        queue.push((target, Some(root.clone())));
                    }
                    if ctx.format != Format::Json {
                        print_summary(&path, &v);
                    }
                    views.push(v);
                }
                // The server being down ends the run; a bad document does not stop the others.
                Err(e) if e.downcast_ref::<UserError>().is_none() => return Err(e),
                Err(e) => failed.push((path.display().to_string(), e)),
            }
        }
        if ctx.format == Format::Json {
            output::json(&views)?;
        }
        // One document that failed alone: its error is the one line.
        if views.is_empty()
            && failed.len() == 1
            && let Some((_, e)) = failed.pop()
        {
            return Err(e);
        }
        for (_, e) in &failed {
            eprintln!("error: {e:#}");
        }
        let failed: Vec<String> = failed.into_iter().map(|(p, _)| p).collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(UserError(format!(
                "{} of the documents were not ingested: {}",
                failed.len(),
                failed.join(", ")
            ))
            .into())
        }
    }
}

/// Refuses an include that resolves (symlinks and `..` followed) outside `root`. An
/// include that does not exist is left to the read, which fails naming it.
fn confined(doc: &Path, inc: &str, target: &Path, root: &Path) -> anyhow::Result<()> {
    let Ok(resolved) = std::fs::canonicalize(target) else {
        return Ok(());
    };
    if resolved.starts_with(root) {
        return Ok(());
    }
    Err(UserError(format!(
        "{}: include {inc:?} resolves outside {}; not followed (--allow-includes-outside follows it)",
        doc.display(),
        root.display()
    ))
    .into())
}

async fn ingest_one(
    ctx: &Ctx,
    path: &Path,
    require_verified: bool,
    strict: bool,
) -> anyhow::Result<IngestView> {
    let bytes = std::fs::read(path).map_err(|e| UserError(format!("{}: {e}", path.display())))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("document")
        .to_owned();
    ctx.client
        .post_bytes(
            paths::DOCUMENTS,
            &[
                ("name", &name),
                (
                    "require_verified",
                    if require_verified { "true" } else { "false" },
                ),
                ("strict", if strict { "true" } else { "false" }),
            ],
            bytes,
        )
        .await
        .map_err(|e| match e.downcast::<UserError>() {
            Ok(u) => UserError(format!(
                "{}: {}",
                path.display(),
                u.0.trim_start_matches(&format!("{name}: "))
            ))
            .into(),
            Err(e) => e,
        })
}

fn print_summary(path: &Path, v: &IngestView) {
    if v.unchanged {
        println!(
            "{}: unchanged ({} already ingested by entry {})",
            path.display(),
            v.digest,
            v.seq
        );
        return;
    }
    println!(
        "{}: {} → entry {}: {} artifacts ({} added, {} merged), {} edges, {} warnings, {} findings",
        path.display(),
        v.format,
        v.seq,
        v.artifacts,
        v.added,
        v.merged,
        v.edges,
        v.warnings.len(),
        v.findings.len()
    );
    if let Some(a) = &v.attestation {
        output::attestation_lines(a, "  ");
    }
    for w in &v.warnings {
        println!("  warning: {w}");
    }
    output::flags(&v.flags);
    for f in &v.findings {
        println!("  {} {} {}", f.severity, f.code, f.message);
    }
    match &v.original_digest {
        Some(o) => println!("  stored redacted: {} (submitted as {o})", v.digest),
        None => println!("  raw document: {}", v.digest),
    }
}
