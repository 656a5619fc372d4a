//! SARIF 2.1.0 output, so findings show up in code-scanning UIs. Every known code is a
//! rule (with its default level); each finding is a result pointing at the file, and at
//! the byte offset when one is known. Archive members are named in the message and in
//! the result's properties.

use crate::FileReport;
use ailedger_core::Severity;
use serde_json::{Value, json};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let mut out = String::new();
    for c in p.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '%' => out.push_str("%25"),
            _ => out.push(c),
        }
    }
    out
}

/// Converts reports to a SARIF 2.1.0 log.
pub fn to_sarif(reports: &[FileReport]) -> Value {
    let rules: Vec<Value> = crate::codes::ALL
        .iter()
        .map(|(id, sev, title)| {
            json!({
                "id": id,
                "shortDescription": { "text": title },
                "defaultConfiguration": { "level": level(*sev) },
                "properties": { "severity": sev.to_string() }
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for r in reports {
        for f in &r.findings {
            let file = f.location.file.clone().unwrap_or_else(|| r.path.clone());
            let mut phys = json!({ "artifactLocation": { "uri": uri(&file) } });
            if let (Some(o), None) = (f.location.offset, &f.location.member) {
                phys["region"] = json!({ "byteOffset": o });
            }
            let mut msg = f.message.clone();
            if let Some(m) = &f.location.member {
                msg = format!("{msg} (archive member {m})");
            }
            if !f.evidence.is_empty() && !msg.contains(&f.evidence) {
                msg = format!("{msg} [evidence: {}]", f.evidence);
            }
            let mut result = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": { "text": msg },
                "locations": [ { "physicalLocation": phys } ],
                "properties": { "severity": f.severity.to_string() }
            });
            if let Some(i) = crate::codes::ALL.iter().position(|(c, _, _)| *c == f.code) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(m) = &f.location.member {
                result["properties"]["member"] = json!(m);
                if let Some(o) = f.location.offset {
                    result["properties"]["memberByteOffset"] = json!(o);
                }
            }
            results.push(result);
        }
        if let Some(e) = &r.error {
            notifications.push(json!({
                "level": "error",
                "message": { "text": format!("{}: {e}", r.path) },
                "locations": [ { "physicalLocation": { "artifactLocation": { "uri": uri(&r.path) } } } ]
            }));
        }
    }
    json!({
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [ {
            "tool": { "driver": {
                "name": "ailedger",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            } },
            "invocations": [ {
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications
            } ],
            "results": results
        } ]
    })
}
