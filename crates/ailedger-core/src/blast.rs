//! The blast-radius report of an incident: every affected deployment with its
//! environment, owner, the path to the compromised artifact, its exposure window and
//! its last known-good configuration; every intermediate artifact; the seq it was
//! computed at. Rendered as JSON (serde), a table, Markdown and CSV.
//!
//! Built from an [`Exposure`] (where routes to the incident's targets ran over
//! history) and a second one for everything live incidents and blocks cover (what a
//! rollback must avoid). Times are filled in afterwards from the store
//! ([`Report::seqs`], [`Report::fill_times`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{
    ArtifactKind, EdgeKind, GraphIndex,
    graph::{Exposed, Exposure},
};

/// A seq and, once filled in, its time (RFC 3339 UTC, seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

impl Moment {
    fn new(seq: u64) -> Self {
        Moment { seq, time: None }
    }

    /// `#58 2026-12-06T05:22:06Z`, or `#58` without a time.
    pub fn display(&self) -> String {
        match &self.time {
            Some(t) => format!("#{} {t}", self.seq),
            None => format!("#{}", self.seq),
        }
    }
}

/// One step of a path: the edge taken and the artifact it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    pub edge: EdgeKind,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One stretch of exposure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Moment,
    /// `None`: still exposed.
    pub until: Option<Moment>,
}

/// The configuration to roll back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownGood {
    /// When the deployment started running it.
    pub since: Moment,
    /// When it stopped running it.
    pub until: Option<Moment>,
    /// What it deployed then: artifact ids…
    pub uses: Vec<String>,
    /// …and each one's readable label, where its id is a digest (same order).
    pub labels: Vec<Option<String>>,
}

impl KnownGood {
    /// Each artifact by its label, or its id where it has none.
    pub fn names(&self) -> Vec<&str> {
        self.uses
            .iter()
            .zip(&self.labels)
            .map(|(u, l)| l.as_deref().unwrap_or(u))
            .collect()
    }
}

/// An affected artifact (a deployment, or an intermediate one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub id: String,
    pub kind: ArtifactKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// From this artifact to a compromised one, as it ran at the last moment of
    /// exposure.
    pub path: Vec<PathStep>,
    /// When it first consumed a compromised artifact.
    pub first_exposed: Moment,
    /// When it stopped; `None`: still exposed.
    pub exposed_until: Option<Moment>,
    pub still_exposed: bool,
    pub windows: Vec<Window>,
    /// Deployments only: the most recent configuration before its latest exposure of
    /// which nothing is covered by a live incident or block now (`None`: there is
    /// none; roll forward instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_good: Option<KnownGood>,
}

/// A compromised artifact the incident matched in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compromised {
    pub id: String,
    pub kind: ArtifactKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The incident, if the report is one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// What was compromised, as the incident says it.
    pub target: String,
    /// The ledger state it was computed at: the same seq gives the same report.
    pub at: Moment,
    /// The Merkle tree size (= `at`) and root hash of the ledger at `at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    pub compromised: Vec<Compromised>,
    pub deployments: Vec<Affected>,
    pub intermediates: Vec<Affected>,
}

/// The ledger state a report is tied to: the Merkle tree of the entries up to `at`
/// (`ailedger log verify` proves a signed checkpoint consistent with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tree_size: u64,
    pub root_hash: String,
}

impl Report {
    /// Builds the report from the incident's exposure; `live` is the exposure to
    /// everything live incidents and blocks cover (the known-good must avoid it).
    pub fn build(
        incident: Option<u64>,
        target: String,
        index: &GraphIndex,
        exposure: &Exposure<'_>,
        live: &Exposure<'_>,
    ) -> Report {
        let label = |id: &str| index.label_of(id).map(str::to_owned);
        let mut compromised: Vec<Compromised> = exposure
            .targets()
            .map(|id| Compromised {
                id: id.to_owned(),
                kind: index.kind_of(id).unwrap_or(ArtifactKind::File),
                label: label(id),
            })
            .collect();
        compromised.sort_by(|a, b| a.id.cmp(&b.id));
        let mut deployments = Vec::new();
        let mut intermediates = Vec::new();
        for e in exposure.exposed() {
            let mut a = affected(index, &e);
            if e.kind == ArtifactKind::Deployment {
                a.known_good = known_good(index, &e, live, exposure.at());
                deployments.push(a);
            } else {
                intermediates.push(a);
            }
        }
        // Still exposed first, then by when the exposure began.
        let order = |a: &Affected, b: &Affected| {
            (!a.still_exposed, a.first_exposed.seq, &a.id).cmp(&(
                !b.still_exposed,
                b.first_exposed.seq,
                &b.id,
            ))
        };
        deployments.sort_by(order);
        intermediates.sort_by(order);
        Report {
            incident,
            target,
            at: Moment::new(exposure.at()),
            checkpoint: None,
            compromised,
            deployments,
            intermediates,
        }
    }

    /// Every seq the report names, for looking their times up.
    pub fn seqs(&self) -> Vec<u64> {
        let mut out = vec![self.at.seq];
        for a in self.deployments.iter().chain(&self.intermediates) {
            out.push(a.first_exposed.seq);
            out.extend(a.exposed_until.as_ref().map(|m| m.seq));
            for w in &a.windows {
                out.push(w.from.seq);
                out.extend(w.until.as_ref().map(|m| m.seq));
            }
            if let Some(k) = &a.known_good {
                out.push(k.since.seq);
                out.extend(k.until.as_ref().map(|m| m.seq));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Fills in each seq's time (RFC 3339; shown to the second).
    pub fn fill_times(&mut self, times: &HashMap<u64, String>) {
        let fill = |m: &mut Moment| m.time = times.get(&m.seq).map(|t| crate::entry::to_seconds(t));
        fill(&mut self.at);
        for a in self.deployments.iter_mut().chain(&mut self.intermediates) {
            fill(&mut a.first_exposed);
            a.exposed_until.as_mut().map(fill);
            for w in &mut a.windows {
                fill(&mut w.from);
                w.until.as_mut().map(fill);
            }
            if let Some(k) = &mut a.known_good {
                fill(&mut k.since);
                k.until.as_mut().map(fill);
            }
        }
    }

    /// A plain-text table for terminals.
    pub fn table(&self) -> String {
        let mut out = self.heading("");
        out.push('\n');
        let rows: Vec<[String; 7]> = self
            .deployments
            .iter()
            .map(|a| {
                [
                    a.id.clone(),
                    a.env.clone().unwrap_or_default(),
                    a.owner.clone().unwrap_or_default(),
                    a.first_exposed.display(),
                    until_text(a),
                    path_text(a),
                    known_good_text(a),
                ]
            })
            .collect();
        out.push_str(&format!("DEPLOYMENTS ({})\n", rows.len()));
        out.push_str(&columns(
            &[
                "DEPLOYMENT",
                "ENV",
                "OWNER",
                "EXPOSED SINCE",
                "UNTIL",
                "PATH",
                "LAST KNOWN-GOOD",
            ],
            &rows,
        ));
        let rows: Vec<[String; 5]> = self
            .intermediates
            .iter()
            .map(|a| {
                [
                    a.label.clone().unwrap_or_else(|| a.id.clone()),
                    a.kind.to_string(),
                    a.first_exposed.display(),
                    until_text(a),
                    path_text(a),
                ]
            })
            .collect();
        out.push_str(&format!("\nINTERMEDIATE ARTIFACTS ({})\n", rows.len()));
        out.push_str(&columns(
            &["ARTIFACT", "KIND", "EXPOSED SINCE", "UNTIL", "PATH"],
            &rows,
        ));
        out
    }

    fn heading(&self, mark: &str) -> String {
        let mut out = String::new();
        match self.incident {
            Some(i) => out.push_str(&format!("{mark}Incident #{i}: {}\n", self.target)),
            None => out.push_str(&format!("{mark}Blast radius of {}\n", self.target)),
        }
        out.push_str(&format!("\nComputed at ledger seq {}", self.at.display()));
        if let Some(c) = &self.checkpoint {
            out.push_str(&format!(
                " (Merkle tree size {}, root {})",
                c.tree_size, c.root_hash
            ));
        }
        out.push_str(".\n");
        let names: Vec<String> = self
            .compromised
            .iter()
            .map(|c| c.label.clone().unwrap_or_else(|| c.id.clone()))
            .collect();
        out.push_str(&format!(
            "Compromised artifacts in the ledger ({}): {}\n",
            names.len(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ));
        let still = self.deployments.iter().filter(|a| a.still_exposed).count();
        out.push_str(&format!(
            "Deployments affected: {} ({} still exposed, {} no longer).\n",
            self.deployments.len(),
            still,
            self.deployments.len() - still
        ));
        out
    }

    /// Markdown, for an incident ticket.
    pub fn markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = self.heading("# ");
        out.push_str("\n## Deployments\n\n");
        if self.deployments.is_empty() {
            out.push_str("None.\n");
        } else {
            out.push_str("| Deployment | Env | Owner | Contact | Exposed since | Until | Path | Last known-good |\n");
            out.push_str("|---|---|---|---|---|---|---|---|\n");
            for a in &self.deployments {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
                    cell(&a.id),
                    cell(a.env.as_deref().unwrap_or("")),
                    cell(a.owner.as_deref().unwrap_or("")),
                    cell(a.contact.as_deref().unwrap_or("")),
                    a.first_exposed.display(),
                    until_text(a),
                    cell(&path_text(a)),
                    cell(&known_good_text(a)),
                ));
            }
        }
        out.push_str("\n## Intermediate artifacts\n\n");
        if self.intermediates.is_empty() {
            out.push_str("None.\n");
        } else {
            out.push_str(
                "| Artifact | Kind | Exposed since | Until | Path |\n|---|---|---|---|---|\n",
            );
            for a in &self.intermediates {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    cell(a.label.as_deref().unwrap_or(&a.id)),
                    a.kind,
                    a.first_exposed.display(),
                    until_text(a),
                    cell(&path_text(a)),
                ));
            }
        }
        out
    }

    /// CSV (RFC 4180), one row per affected artifact, deployments first.
    pub fn csv(&self) -> String {
        let q = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let time = |m: Option<&Moment>| m.and_then(|m| m.time.clone()).unwrap_or_default();
        let mut out = String::from(
            "incident,id,kind,label,env,owner,contact,exposed_since_seq,exposed_since,exposed_until_seq,exposed_until,still_exposed,path,known_good\r\n",
        );
        for a in self.deployments.iter().chain(&self.intermediates) {
            let fields = [
                self.incident.map(|i| i.to_string()).unwrap_or_default(),
                a.id.clone(),
                a.kind.to_string(),
                a.label.clone().unwrap_or_default(),
                a.env.clone().unwrap_or_default(),
                a.owner.clone().unwrap_or_default(),
                a.contact.clone().unwrap_or_default(),
                a.first_exposed.seq.to_string(),
                time(Some(&a.first_exposed)),
                a.exposed_until
                    .as_ref()
                    .map(|m| m.seq.to_string())
                    .unwrap_or_default(),
                time(a.exposed_until.as_ref()),
                a.still_exposed.to_string(),
                path_text(a),
                a.known_good
                    .as_ref()
                    .map(|k| k.names().join(" "))
                    .unwrap_or_default(),
            ];
            let row: Vec<String> = fields.iter().map(|f| q(f)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

fn affected(index: &GraphIndex, e: &Exposed<'_>) -> Affected {
    let meta = index.deployment_of(e.id).cloned().unwrap_or_default();
    let windows: Vec<Window> = e
        .spans
        .iter()
        .map(|&(a, b)| Window {
            from: Moment::new(a),
            until: b.map(Moment::new),
        })
        .collect();
    Affected {
        id: e.id.to_owned(),
        kind: e.kind,
        label: index.label_of(e.id).map(str::to_owned),
        env: meta.env,
        owner: meta.owner,
        contact: meta.contact,
        path: e
            .path
            .iter()
            .map(|(edge, id)| PathStep {
                edge: *edge,
                id: (*id).to_owned(),
                label: index.label_of(id).map(str::to_owned),
            })
            .collect(),
        first_exposed: Moment::new(e.first()),
        exposed_until: e.until().map(Moment::new),
        still_exposed: e.until().is_none(),
        windows,
        known_good: None,
    }
}

/// A deployment's last known-good configuration with respect to `live` (everything
/// live incidents and blocks cover): `Err` names why there is none to roll back to.
pub fn known_good_of(
    index: &GraphIndex,
    deployment: &str,
    live: &Exposure<'_>,
) -> Result<KnownGood, String> {
    let Some(e) = live.of(deployment).filter(|e| e.until().is_none()) else {
        return Err(format!(
            "{deployment} consumes nothing a live incident or the blocklist covers: nothing to roll back"
        ));
    };
    known_good(index, &e, live, live.at()).ok_or_else(|| {
        format!(
            "{deployment} ran no configuration before its exposure (seq {}) that nothing live covers: roll forward instead",
            e.spans.last().map_or(0, |s| s.0)
        )
    })
}

/// The most recent configuration the deployment ran that began before its latest
/// exposure and of which nothing is covered by a live incident or block now.
fn known_good(
    index: &GraphIndex,
    e: &Exposed<'_>,
    live: &Exposure<'_>,
    at: u64,
) -> Option<KnownGood> {
    let first = e.spans.last().map_or(0, |s| s.0);
    index
        .deploy_history(e.id, Some(at))
        .into_iter()
        .rev()
        .filter(|s| s.start < first)
        .find(|s| s.uses.iter().all(|u| !live.exposed_at(u, None)))
        .map(|s| KnownGood {
            since: Moment::new(s.start),
            until: s.end.map(Moment::new),
            labels: s
                .uses
                .iter()
                .map(|u| index.label_of(u).map(str::to_owned))
                .collect(),
            uses: s.uses.iter().map(|u| (*u).to_owned()).collect(),
        })
}

fn until_text(a: &Affected) -> String {
    match &a.exposed_until {
        Some(m) => m.display(),
        None => "still exposed".into(),
    }
}

fn path_text(a: &Affected) -> String {
    let mut out = String::new();
    for s in &a.path {
        out.push_str(&format!(
            " -{}-> {}",
            s.edge,
            s.label.as_deref().unwrap_or(&s.id)
        ));
    }
    out.trim_start().to_owned()
}

fn known_good_text(a: &Affected) -> String {
    match &a.known_good {
        Some(k) => format!("{} (ran from {})", k.names().join(" "), k.since.display()),
        None if a.kind == ArtifactKind::Deployment => "none".into(),
        None => String::new(),
    }
}

/// Left-aligned columns separated by two spaces.
fn columns<const N: usize>(head: &[&str; N], rows: &[[String; N]]) -> String {
    let mut width = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&mut head.iter().copied());
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}
