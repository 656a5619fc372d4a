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

/// Adds a later page of the same traversal to `whole`: its hits, the ancestors its
/// paths need that `whole` does not hold yet, and where it ends.
pub fn append_page(whole: &mut TraversalView, page: TraversalView) {
    let held: std::collections::HashSet<u64> = whole
        .hits
        .iter()
        .chain(&whole.ancestors)
        .map(|h| h.pos)
        .collect();
    whole.ancestors.extend(
        page.ancestors
            .into_iter()
            .filter(|a| !held.contains(&a.pos)),
    );
    whole.count += page.count;
    whole.deployments.extend(page.deployments);
    whole.hits.extend(page.hits);
    whole.truncated = page.truncated;
    whole.next = page.next;
}

/// The hits of an answer (and the ancestors it carries) by position.
fn by_pos(v: &TraversalView) -> std::collections::HashMap<u64, &HitView> {
    v.hits
        .iter()
        .chain(&v.ancestors)
        .map(|h| (h.pos, h))
        .collect()
}

/// A hit's path to the queried artifact, rebuilt from the parents:
/// ` -depends-on-> requests -depends-on-> urllib3`.
fn path(h: &HitView, v: &TraversalView, hits: &std::collections::HashMap<u64, &HitView>) -> String {
    let mut s = String::new();
    let mut at = h;
    loop {
        // A `contains` step names the file's paths within its model or dataset.
        let within = if at.paths.is_empty() {
            String::new()
        } else {
            format!("[{}]", at.paths.join(", "))
        };
        let next = at.parent.and_then(|p| hits.get(&p).copied());
        let to = match (at.parent, next) {
            (None, _) => v.label.as_deref().unwrap_or(&v.id),
            (Some(_), Some(p)) => p.label.as_deref().unwrap_or(&p.id),
            // Not in the answer (a server that sent no ancestors): say so.
            (Some(p), None) => {
                s.push_str(&format!(" -{}{within}-> (hit #{p})", at.edge));
                break;
            }
        };
        s.push_str(&format!(" -{}{within}-> {to}", at.edge));
        match next {
            Some(p) => at = p,
            None => break,
        }
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
    let within = v
        .depth
        .map(|d| format!(" within {d} edges"))
        .unwrap_or_default();
    println!(
        "{what} {name} {when}{within}: {} artifacts, {} deployments",
        v.total, v.deployment_count
    );
    if v.hits.is_empty() {
        return Ok(());
    }
    let hits = by_pos(v);
    let mut t = table(&[
        "DEPTH",
        "KIND",
        "ARTIFACT",
        "FINDINGS",
        "PROVENANCE",
        "SINCE",
        "PATH",
    ]);
    for h in &v.hits {
        let name = match &h.label {
            Some(l) => l.clone(),
            // A file reached through a `contains` edge: its paths, then its digest.
            None if !h.paths.is_empty() => format!("{} ({})", h.paths.join(", "), h.id),
            None => h.id.clone(),
        };
        let findings = h.severity.clone().unwrap_or_else(|| "-".into());
        t.add_row(vec![
            h.depth.to_string(),
            h.kind.clone(),
            name,
            findings,
            h.verification.clone().unwrap_or_else(|| "-".into()),
            seq_time(h.since_seq, h.since.as_deref()),
            path(h, v, &hits),
        ]);
    }
    println!("{t}");
    if v.truncated {
        let shown = v.offset + v.hits.len() as u64;
        println!(
            "\n{} more not shown ({shown} of {}): raise --limit, or --all",
            v.total as u64 - shown,
            v.total
        );
    }
    if v.direction == "impact" && !v.deployments.is_empty() {
        let of = if v.deployments.len() < v.deployment_count {
            format!(" ({} of {})", v.deployments.len(), v.deployment_count)
        } else {
            String::new()
        };
        println!("\nDeployments exposed{of}:");
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
    flags(&v.flags);
    Ok(())
}

/// Write-time flags, on stderr: the write is recorded, and this is what it touched.
pub fn flags(flags: &[ailedger_server::Flag]) {
    for f in flags {
        eprintln!("warning: {}", f.message);
    }
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
    println!(
        "  seen:    entries {} .. {}",
        seq_time(v.first_seq, v.first.as_deref()),
        seq_time(v.last_seq, v.last.as_deref())
    );
    let shown: Vec<String> = v
        .attrs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "manifest" | "attestation"))
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
    if let Some(a) = v.attrs.get("attestation") {
        println!("  judgement:");
        attestation_lines(a, "    ");
    }
    if !v.attestations.is_empty() {
        println!("  attestations:");
        for a in &v.attestations {
            println!(
                "    {} {} (entry {}{}): {}",
                a.outcome,
                a.predicate_type.as_deref().unwrap_or(&a.format),
                a.seq,
                a.policy_seq
                    .map(|s| format!(", policy of entry {s}"))
                    .unwrap_or_else(|| ", no policy set".into()),
                a.reason
            );
            for s in &a.signers {
                println!("      signer: {}", signer_line(s));
            }
            if let Some(level) = a.slsa_level {
                println!(
                    "      SLSA build L{level}{}",
                    a.builder
                        .as_deref()
                        .map(|b| format!(", builder {b}"))
                        .unwrap_or_default()
                );
            }
            println!("      document: {}", a.id);
        }
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
                seq_time(e.since_seq, e.since.as_deref()),
                e.until_seq
                    .map(|u| seq_time(u, e.until.as_deref()))
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
            seq_time(tok.created_seq, tok.created.as_deref()),
            tok.revoked_seq
                .map(|s| seq_time(s, tok.revoked.as_deref()))
                .unwrap_or_else(|| "-".into()),
            if tok.active { "yes" } else { "no" }.into(),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// One signer of a judgement, as a line.
fn signer_line(s: &serde_json::Value) -> String {
    let text = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let who = match (text("identity"), text("key_id")) {
        ("", "") => "?".to_owned(),
        ("", key) => format!("key {key}"),
        (id, _) if text("issuer").is_empty() => id.to_owned(),
        (id, _) => format!("{id} ({})", text("issuer")),
    };
    let trusted = match text("trusted_as") {
        "" => String::new(),
        n => format!(", trusted as {n}"),
    };
    let at = match text("signed_at") {
        "" => String::new(),
        t => format!(", signed {t}"),
    };
    format!("{} {}: {who}{trusted}{at}", text("method"), text("outcome"))
}

/// An attestation's judgement (`IngestView::attestation`, `attrs.attestation`), as lines.
pub fn attestation_lines(a: &serde_json::Value, indent: &str) {
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let policy = match a
        .get("policy")
        .and_then(|p| p.get("seq"))
        .and_then(|s| s.as_u64())
    {
        Some(seq) => format!("policy of entry {seq}"),
        None => "no policy set".into(),
    };
    println!(
        "{indent}{}: {} ({policy})",
        text(a, "outcome"),
        text(a, "reason")
    );
    let items = a
        .get("items")
        .and_then(|i| i.as_array())
        .cloned()
        .unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        let at = if items.len() > 1 {
            format!("[{}] ", i + 1)
        } else {
            String::new()
        };
        if items.len() > 1 {
            println!(
                "{indent}{at}{}: {}",
                text(item, "outcome"),
                text(item, "reason")
            );
        }
        for s in item
            .get("signers")
            .and_then(|s| s.as_array())
            .into_iter()
            .flatten()
        {
            let reason = text(s, "reason");
            if reason == text(a, "reason") || reason == text(item, "reason") {
                println!("{indent}{at}signer {}", signer_line(s));
            } else {
                println!("{indent}{at}signer {}: {reason}", signer_line(s));
            }
        }
        if let Some(slsa) = item.get("slsa") {
            println!(
                "{indent}{at}SLSA build L{} ({}), builder {}{}",
                slsa.get("level").and_then(|l| l.as_u64()).unwrap_or(0),
                text(slsa, "reason"),
                text(slsa, "builder"),
                match (
                    text(slsa, "source_repo").as_str(),
                    text(slsa, "source_commit").as_str()
                ) {
                    ("", _) => String::new(),
                    (r, "") => format!(", source {r}"),
                    (r, c) => format!(", source {r}@{c}"),
                }
            );
        }
        if let Some(subjects) = item.get("subjects").and_then(|s| s.as_array()) {
            for s in subjects {
                println!("{indent}{at}subject {}", s.as_str().unwrap_or("?"));
            }
        }
    }
}

/// A seq with its time, for tables: `#58 2026-12-06T05:22:06Z` (whole seconds, UTC).
fn seq_time(seq: u64, time: Option<&str>) -> String {
    match time {
        Some(t) => format!("#{seq} {}", ailedger_core::entry::to_seconds(t)),
        None => format!("#{seq}"),
    }
}

/// Subscriptions as a table (or JSON): never a secret.
pub fn webhooks(format: Format, hooks: &[ailedger_server::WebhookView]) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(&serde_json::json!({ "webhooks": hooks }));
    }
    let mut t = table(&[
        "ID",
        "URL",
        "EVENTS",
        "PENDING",
        "DELIVERED",
        "FAILED",
        "LAST ERROR",
    ]);
    for h in hooks {
        t.add_row(vec![
            h.id.to_string(),
            h.url.clone(),
            h.events.join(","),
            h.pending.to_string(),
            h.delivered.to_string(),
            h.failed.to_string(),
            h.last_error.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// A subscription's deliveries, newest first.
pub fn deliveries(format: Format, v: &ailedger_server::DeliveriesView) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(v);
    }
    let mut t = table(&[
        "ID",
        "EVENT",
        "SEQ",
        "STATE",
        "ATTEMPTS",
        "LAST STATUS",
        "LAST ERROR",
        "NEXT / DELIVERED",
    ]);
    for d in &v.deliveries {
        t.add_row(vec![
            d.id.to_string(),
            d.event.clone(),
            d.seq.to_string(),
            d.state.clone(),
            d.attempts.to_string(),
            d.last_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            d.last_error.clone().unwrap_or_else(|| "-".into()),
            d.delivered
                .clone()
                .or_else(|| d.next_attempt.clone())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("{t}");
    Ok(())
}
