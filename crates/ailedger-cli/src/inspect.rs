//! `ailedger inspect`: scan local files and directories for dangerous or malformed
//! content without registering anything. `register model`/`register dataset` run the
//! same inspection and record its findings on the artifact.

use std::path::{Path, PathBuf};

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
/// Example: ailedger inspect ./checkpoints/llama-ft --fail-on medium --format sarif > inspect.sarif
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files or directories to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The lowest severity that makes the exit code 1.
    #[arg(long, default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
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
            ..Options::default()
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
