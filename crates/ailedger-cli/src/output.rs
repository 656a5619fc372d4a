//! Rendering answers: readable tables by default, the API's JSON on request.

use ailedger_server::{ArtifactView, HitView, TraversalView, WriteResponse};
use comfy_table::{Table, presets::NOTHING};

use crate::Format;

pub fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_header(header.iter().map(|h| h.to_string()));
    t
}

pub fn path(h: &HitView) -> String {
    let mut s = String::new();
    for step in &h.path {
        // A `contains` step names the file's paths within its model or dataset.
        let within = if step.paths.is_empty() {
            String::new()
        } else {
            format!("[{}]", step.paths.join(", "))
        };
        s.push_str(&format!(
            " -{}{within}-> {}",
            step.edge,
            step.label.as_deref().unwrap_or(&step.to)
        ));
    }
    s.trim_start().to_owned()
}

pub fn traversal(format: Format, v: &TraversalView) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(v);
    }
    let when = match &v.as_of {
        Some(t) => format!("as of {t} (seq {})", v.at_seq),
        None => format!("at seq {}", v.at_seq),
    };
    let what = if v.direction == "impact" {
        "Blast radius of"
    } else {
        "Dependencies of"
    };
    let name = match &v.label {
        Some(l) => format!("{l} ({})", v.id),
        None => v.id.clone(),
    };
    println!(
        "{what} {name} {when}: {} artifacts, {} deployments",
        v.count,
        v.deployments.len()
    );
    if v.hits.is_empty() {
        return Ok(());
    }
    let mut t = table(&["DEPTH", "KIND", "ARTIFACT", "FINDINGS", "SINCE", "PATH"]);
    for h in &v.hits {
        let name = match (&h.label, h.path.first()) {
            (Some(l), _) => l.clone(),
            // A file reached through a `contains` edge: its paths, then its digest.
            (None, Some(step)) if !step.paths.is_empty() => {
                format!("{} ({})", step.paths.join(", "), h.id)
            }
            (None, _) => h.id.clone(),
        };
        let findings = h.severity.clone().unwrap_or_else(|| "-".into());
        t.add_row(vec![
            h.depth.to_string(),
            h.kind.clone(),
            name,
            findings,
            format!("#{}", h.since_seq),
            path(h),
        ]);
    }
    println!("{t}");
    if v.direction == "impact" && !v.deployments.is_empty() {
        println!("\nDeployments exposed:");
        for d in &v.deployments {
            println!("  {d}");
        }
    }
    Ok(())
}

pub fn written(format: Format, v: &WriteResponse) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(v);
    }
    for e in &v.entries {
        let first = e.artifacts.first().map(String::as_str).unwrap_or("");
        let more = if e.artifacts.len() > 1 {
            format!(" (+{} more)", e.artifacts.len() - 1)
        } else {
            String::new()
        };
        println!("entry {} {} {first}{more} at {}", e.seq, e.kind, e.time);
        for n in &e.notes {
            println!("  note: {n}");
        }
    }
    Ok(())
}

pub fn artifact(format: Format, v: &ArtifactView) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(v);
    }
    println!("{} ({})", v.id, v.kind);
    if let Some(n) = &v.name {
        println!("  name:    {n}");
    }
    if let Some(ver) = &v.version {
        println!("  version: {ver}");
    }
    println!("  aliases: {}", v.aliases.join(", "));
    println!("  seen:    entries {}..{}", v.first_seq, v.last_seq);
    let shown: Vec<String> = v
        .attrs
        .iter()
        .filter(|(k, _)| k.as_str() != "manifest")
        .map(|(k, val)| {
            format!(
                "{k}={}",
                if let Some(s) = val.as_str() {
                    s.to_owned()
                } else {
                    val.to_string()
                }
            )
        })
        .collect();
    if !shown.is_empty() {
        println!("  attrs:   {}", shown.join(" "));
    }
    if !v.edges.is_empty() {
        let with_paths = v.edges.iter().any(|e| !e.paths.is_empty());
        let mut header = vec!["FROM", "EDGE", "TO", "SINCE", "UNTIL"];
        if with_paths {
            header.push("PATHS");
        }
        let mut t = table(&header);
        for e in &v.edges {
            let mut row = vec![
                e.from.clone(),
                e.edge.clone(),
                e.to.clone(),
                e.since_seq.to_string(),
                e.until_seq
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "-".into()),
            ];
            if with_paths {
                row.push(e.paths.join(", "));
            }
            t.add_row(row);
        }
        println!("{t}");
    }
    Ok(())
}

pub fn tokens(format: Format, v: &ailedger_server::TokensView) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(v);
    }
    let mut t = table(&["NAME", "SCOPE", "EXPIRES", "GRANTED", "REVOKED", "ACTIVE"]);
    for tok in &v.tokens {
        t.add_row(vec![
            tok.name.clone(),
            tok.scope.clone(),
            tok.expires.clone().unwrap_or_else(|| "-".into()),
            format!("#{}", tok.created_seq),
            tok.revoked_seq
                .map(|s| format!("#{s}"))
                .unwrap_or_else(|| "-".into()),
            if tok.active { "yes" } else { "no" }.into(),
        ]);
    }
    println!("{t}");
    Ok(())
}
