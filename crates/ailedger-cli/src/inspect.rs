//! `ailedger inspect`: scan local files and directories for dangerous or malformed
//! content without registering anything. `register model`/`register dataset` run the
//! same inspection and record its findings on the artifact.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ailedger_core::{Finding, Severity};
use ailedger_inspect::{FileReport, Options};
use clap::Args;

use crate::{Format, client::UserError, output};

/// Scan files or directories for pickle code execution, malformed safetensors/GGUF/ONNX/Keras
/// files, risky MCP configs and dependency hygiene, without registering them.
///
/// Exit code: 0 clean, 1 when a finding reaches --fail-on, 2 on a usage or read error (an
/// error is never reported as clean). `--format sarif` writes SARIF 2.1.0 for code-scanning
/// UIs. The codes are listed in docs/inspect.md. A file named here is recognised by its
/// content too (a requirements file under any name, such as deps.txt); in a directory,
/// requirements files are recognised by name (requirements*.txt / .in).
///
/// The --archive-* flags bound what the zip, 7z and tar archives of one file may cost
/// (member size, decompressed bytes, time, 7z decoder memory); hitting one is a high
/// AIL-PKL-006 finding naming it, so the file is never reported clean.
///
/// Example: ailedger inspect ./checkpoints/llama-ft --fail-on medium --format sarif > inspect.sarif
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files or directories to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The lowest severity that makes the exit code 1.
    #[arg(long, default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
    #[command(flatten)]
    pub limits: ArchiveLimitArgs,
}

/// What the archives (zip, 7z, tar) of one inspected file may cost. Hitting a limit is an
/// AIL-PKL-006 finding (high) naming it, and the rest of the archive is not scanned.
#[derive(Debug, Args)]
pub struct ArchiveLimitArgs {
    /// Largest decompressed archive member scanned, in MiB; only the start of a larger
    /// member is scanned.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub archive_member_mib: u64,
    /// Decompressed bytes read from the zip and 7z archives of one inspected file, in MiB:
    /// all members and archives inside archives together (a zip of overlapping entries
    /// costs this, not entries × the member limit).
    #[arg(long, value_name = "MIB", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub archive_budget_mib: u64,
    /// Seconds the zip and 7z archives of one inspected file may take, counted from the
    /// start of the file's inspection.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_secs)]
    pub archive_timeout: f64,
    /// Memory the 7z decoder may use for its dictionary or model, in MiB; an archive that
    /// declares more is refused before anything is allocated.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub archive_memory_mib: u64,
}

impl ArchiveLimitArgs {
    /// The library limits these flags give.
    pub fn limits(&self) -> ailedger_inspect::Limits {
        ailedger_inspect::Limits {
            max_member_bytes: self.archive_member_mib << 20,
            max_archive_bytes: self.archive_budget_mib << 20,
            archive_timeout: Duration::from_secs_f64(self.archive_timeout),
            max_7z_memory: self.archive_memory_mib << 20,
            ..ailedger_inspect::Limits::default()
        }
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds from 0 to 86400")),
    }
}

/// Ends the process with this exit code after output was written.
#[derive(Debug, thiserror::Error)]
#[error("exit {0}")]
pub struct ExitWith(pub u8);

/// Inspects `paths`, turning unreadable top-level paths into reports with an error.
pub fn scan(paths: &[PathBuf], opts: &Options) -> Vec<FileReport> {
    let mut reports = Vec::new();
    for p in paths {
        match ailedger_inspect::inspect_path(p, opts) {
            Ok(r) => reports.extend(r),
            Err(e) => reports.push(FileReport {
                path: p.display().to_string(),
                format: None,
                findings: vec![],
                error: Some(e.to_string()),
            }),
        }
    }
    reports
}

/// Findings for a registration: every file's findings, with paths relative to `root`.
pub fn findings_for_registration(root: &Path) -> anyhow::Result<Vec<Finding>> {
    let reports = ailedger_inspect::inspect_path(root, &Options::default())
        .map_err(|e| UserError(e.to_string()))?;
    let base = if root.is_dir() {
        root.to_path_buf()
    } else {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut out = Vec::new();
    for r in reports {
        if let Some(e) = r.error {
            return Err(UserError(format!("{}: {e}", r.path)).into());
        }
        for mut f in r.findings {
            if let Some(file) = &f.location.file
                && let Ok(rel) = Path::new(file).strip_prefix(&base)
            {
                f.location.file = Some(rel.to_string_lossy().replace('\\', "/"));
            }
            out.push(f);
        }
    }
    Ok(out)
}

impl InspectArgs {
    pub fn run(self, format: Format) -> anyhow::Result<()> {
        let opts = Options {
            fail_on: self.fail_on,
            limits: self.limits.limits(),
        };
        let reports = scan(&self.paths, &opts);
        match format {
            Format::Json => output::json(&reports)?,
            Format::Sarif => output::json(&ailedger_inspect::sarif::to_sarif(&reports))?,
            Format::Table | Format::Xml => {
                print!("{}", ailedger_inspect::render_table(&reports));
                for r in reports.iter().filter(|r| r.error.is_some()) {
                    eprintln!("error: {}: {}", r.path, r.error.as_deref().unwrap_or(""));
                }
            }
        }
        match ailedger_inspect::exit_code(&reports, self.fail_on) {
            0 => Ok(()),
            code => Err(ExitWith(u8::try_from(code).unwrap_or(2)).into()),
        }
    }
}
