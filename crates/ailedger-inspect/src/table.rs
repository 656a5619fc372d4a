//! Plain-text table of findings for terminals: one row per finding, worst first, then
//! one line per file that could not be read, then a summary line.

use crate::FileReport;

/// Renders reports as a plain-text table.
pub fn render_table(reports: &[FileReport]) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for r in reports {
        for f in &r.findings {
            let mut loc = f.location.file.clone().unwrap_or_else(|| r.path.clone());
            if let Some(m) = &f.location.member {
                loc.push_str(&format!("!{m}"));
            }
            if let Some(o) = f.location.offset {
                loc.push_str(&format!("@{o}"));
            }
            let msg = if f.evidence.is_empty() || f.message.contains(&f.evidence) {
                f.message.clone()
            } else {
                format!("{} [{}]", f.message, f.evidence)
            };
            rows.push([
                f.severity.to_string().to_uppercase(),
                f.code.clone(),
                loc,
                msg.replace('\n', " "),
            ]);
        }
    }
    rows.sort_by(|a, b| {
        sev_rank(&b[0])
            .cmp(&sev_rank(&a[0]))
            .then_with(|| a[2].cmp(&b[2]))
    });
    let header = [
        "SEVERITY".to_string(),
        "CODE".into(),
        "LOCATION".into(),
        "MESSAGE".into(),
    ];
    let w = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (w(0), w(1), w(2).min(60));
    let mut out = String::new();
    if !rows.is_empty() {
        for r in std::iter::once(&header).chain(rows.iter()) {
            out.push_str(&format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
                r[0], r[1], r[2], r[3]
            ));
        }
    }
    for r in reports.iter().filter(|r| r.error.is_some()) {
        out.push_str(&format!(
            "ERROR     {}: {}\n",
            r.path,
            r.error.as_deref().unwrap_or("")
        ));
    }
    let files = reports.iter().filter(|r| r.format.is_some()).count();
    let errors = reports.iter().filter(|r| r.error.is_some()).count();
    out.push_str(&format!(
        "{} finding(s) in {} inspected file(s) of {}; {} read error(s)\n",
        rows.len(),
        files,
        reports.len(),
        errors
    ));
    out
}

fn sev_rank(s: &str) -> u8 {
    match s {
        "CRITICAL" => 4,
        "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" => 1,
        _ => 0,
    }
}
