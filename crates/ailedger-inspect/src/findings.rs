//! A small collector that turns (code, message, evidence, offset) into
//! `ailedger_core::Finding`s with the code's default severity, the current file and
//! archive member, deduplication, and a cap on how many findings one file can produce.

use ailedger_core::{Finding, Location, Severity};
use std::collections::HashSet;

/// At most this many findings per collector; one more records the truncation.
pub const MAX_FINDINGS: usize = 200;

#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub file: Option<String>,
    pub member: Option<String>,
    pub findings: Vec<Finding>,
    seen: HashSet<(String, String, Option<String>)>,
    truncated: bool,
}

impl Sink {
    pub fn new(file: &str) -> Self {
        Self {
            file: Some(file.to_string()),
            ..Self::default()
        }
    }

    /// Adds a finding with the code's default severity.
    pub fn add(
        &mut self,
        code: &str,
        message: impl Into<String>,
        evidence: impl Into<String>,
        offset: Option<u64>,
    ) {
        let sev = crate::codes::lookup(code).map_or(Severity::Medium, |(s, _)| s);
        self.add_sev(code, sev, message, evidence, offset);
    }

    /// Adds a finding with an explicit severity. The same (code, evidence, member) is
    /// reported once, at its first offset.
    pub fn add_sev(
        &mut self,
        code: &str,
        severity: Severity,
        message: impl Into<String>,
        evidence: impl Into<String>,
        offset: Option<u64>,
    ) {
        // Findings are recorded in the ledger: no secret may reach evidence or message
        // (ailedger_core::redact, the rule ingest uses for what it stores).
        let evidence = redact_owned(evidence.into());
        let message = redact_owned(message.into());
        let key = (code.to_string(), evidence.clone(), self.member.clone());
        if self.seen.contains(&key) {
            // Keep the highest severity seen for the same evidence.
            if let Some(f) = self
                .findings
                .iter_mut()
                .find(|f| f.code == key.0 && f.evidence == key.1 && f.location.member == key.2)
                && severity > f.severity
            {
                f.severity = severity;
            }
            return;
        }
        if self.findings.len() >= MAX_FINDINGS {
            self.truncated = true;
            return;
        }
        self.seen.insert(key);
        self.findings.push(Finding {
            code: code.to_string(),
            severity,
            message,
            location: Location {
                file: self.file.clone(),
                member: self.member.clone(),
                offset,
            },
            evidence,
        });
    }

    pub fn finish(mut self) -> Vec<Finding> {
        if self.truncated {
            self.findings.push(Finding {
                code: "AIL-PKL-006".into(),
                severity: Severity::High,
                message: format!("more than {MAX_FINDINGS} findings; the rest were dropped"),
                location: Location {
                    file: self.file.clone(),
                    member: None,
                    offset: None,
                },
                evidence: String::new(),
            });
        }
        self.findings
    }
}

fn redact_owned(s: String) -> String {
    match ailedger_core::redact::text(&s, ailedger_core::redact::UrlRule::Endpoint) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(r) => r,
    }
}

/// Truncates evidence text to a readable length on a char boundary, after removing its
/// secrets (a secret cut in half would no longer be recognised).
pub(crate) fn clip(s: &str, max: usize) -> String {
    let s = &*ailedger_core::redact::text(s, ailedger_core::redact::UrlRule::Endpoint);
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or(""))
}
