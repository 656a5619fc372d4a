//! Incidents and containment: what the ledger remembers about compromised artifacts.
//!
//! An incident is opened by an `incident` entry (`open`), and moves open →
//! acknowledged → resolved (or retracted, when the advisory that opened it is
//! withdrawn) by later `incident` entries, each with its actor and note. Blocklist and
//! quarantine decisions are `containment` entries; imported OSV records are `advisory`
//! entries. Nothing here is derived into tables: [`Book`] folds those entries, in seq
//! order, into the current state, and [`Matcher`] says which artifacts an open incident
//! or an active blocklist entry covers.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Entry, EntryData, Error, Purl, Severity,
    osv::{OsvAffected, OsvRecord},
    vers::VersRange,
    version::Scheme,
};

/// What an incident or a blocklist entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Target {
    /// One artifact, by its canonical id: a digest, a purl with a version, a named ref.
    /// It may not be known yet: a later registration of it is then flagged.
    Artifact { id: String },
    /// Versions of a package: its purl without a version, and a `vers:` range (none:
    /// every version).
    Package {
        purl: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        range: Option<String>,
    },
    /// What an imported OSV record affects (its latest import; see [`Advisory`]).
    Advisory { id: String },
}

impl Target {
    /// Reads a target as a user writes it, when it is not a plain ref:
    /// `pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42` (a purl with a range) or
    /// `pkg:pypi/ultralytics` (every version). `None` for anything else (a digest, a
    /// named ref or a purl with one version, which the caller resolves to an artifact).
    pub fn parse_package(input: &str) -> Result<Option<Target>, Error> {
        if input.starts_with("vers:") {
            return Err(Error::Ref {
                input: input.into(),
                reason: "a vers: range needs its package: write pkg:<type>/<name>@vers:<scheme>/<constraints>".into(),
            });
        }
        if !input.starts_with("pkg:") {
            return Ok(None);
        }
        if let Some((purl, range)) = input.split_once("@vers:") {
            let range = format!("vers:{range}");
            let base: Purl = purl.parse()?;
            let parsed = VersRange::parse(&range).map_err(|e| Error::Ref {
                input: input.into(),
                reason: e.to_string(),
            })?;
            check_scheme(&base, parsed.scheme(), input)?;
            return Ok(Some(Target::Package {
                purl: base.to_string(),
                range: Some(parsed.to_string()),
            }));
        }
        let p: Purl = input.parse()?;
        if p.version().is_some() {
            return Ok(None);
        }
        Ok(Some(Target::Package {
            purl: p.to_string(),
            range: None,
        }))
    }

    /// How the target reads in reports: the id, the purl and its range, or the advisory.
    pub fn describe(&self) -> String {
        match self {
            Target::Artifact { id } => id.clone(),
            Target::Package { purl, range: None } => format!("{purl} (every version)"),
            Target::Package {
                purl,
                range: Some(r),
            } => format!("{purl}@{r}"),
            Target::Advisory { id } => format!("OSV {id}"),
        }
    }
}

impl Target {
    /// Checks a target as recorded: an artifact id that reads as a ref, a package purl
    /// without a version and a range that parses for its ecosystem.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Target::Artifact { id } => id.parse::<crate::Ref>().map(|_| ()),
            Target::Package { purl, range } => {
                let p: Purl = purl.parse()?;
                if p.version().is_some() || p.to_string() != *purl {
                    return Err(Error::Ref {
                        input: purl.clone(),
                        reason: "a package target is a canonical purl without a version".into(),
                    });
                }
                if let Some(r) = range {
                    let parsed = VersRange::parse(r).map_err(|e| Error::Ref {
                        input: r.clone(),
                        reason: e.to_string(),
                    })?;
                    check_scheme(&p, parsed.scheme(), r)?;
                }
                Ok(())
            }
            Target::Advisory { id } => nonempty("advisory id", id),
        }
    }
}

fn nonempty(what: &str, s: &str) -> Result<(), Error> {
    if s.trim().is_empty() {
        return Err(Error::Entry(format!("{what} is empty")));
    }
    if s.len() > 8192 {
        return Err(Error::Entry(format!("{what} is longer than 8192 bytes")));
    }
    Ok(())
}

impl IncidentEvent {
    /// Checks what an `incident` entry must satisfy before it is written.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            IncidentEvent::Open {
                target,
                reason,
                evidence,
                ..
            } => {
                target.validate()?;
                nonempty("reason", reason)?;
                for e in evidence {
                    if e.url.is_none() && e.digest.is_none() {
                        return Err(Error::Entry(
                            "evidence names neither a URL nor a file".into(),
                        ));
                    }
                }
                Ok(())
            }
            IncidentEvent::Update { note, .. } | IncidentEvent::Retract { note, .. } => {
                nonempty("note", note)
            }
            IncidentEvent::Exposed { consumer, via, .. } => {
                nonempty("consumer", consumer)?;
                nonempty("via", via)
            }
            IncidentEvent::Ack { .. } | IncidentEvent::Resolve { .. } => Ok(()),
        }
    }
}

impl Containment {
    /// Checks what a `containment` entry must satisfy before it is written.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Containment::Block { target, reason, .. } => {
                target.validate()?;
                nonempty("reason", reason)
            }
            Containment::Quarantine { artifact, reason } => {
                nonempty("artifact", artifact)?;
                nonempty("reason", reason)
            }
            Containment::Release { artifact, .. } => nonempty("artifact", artifact),
            Containment::Unblock { .. } => Ok(()),
        }
    }
}

fn check_scheme(base: &Purl, scheme: Scheme, input: &str) -> Result<(), Error> {
    match Scheme::from_purl_type(base.ty()) {
        Some(s)
            if s == scheme
                || scheme == Scheme::Generic
                || (scheme == Scheme::Semver && s.is_semver_family()) =>
        {
            Ok(())
        }
        Some(s) => Err(Error::Ref {
            input: input.into(),
            reason: format!(
                "{} packages order versions as {}, not {}",
                base.ty(),
                s.name(),
                scheme.name()
            ),
        }),
        None if scheme == Scheme::Generic || scheme == Scheme::Semver => Ok(()),
        None => Err(Error::Ref {
            input: input.into(),
            reason: format!(
                "purl type {:?} has no {} versions",
                base.ty(),
                scheme.name()
            ),
        }),
    }
}

/// Something an incident points at as its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// A web page (an advisory, a write-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A file kept in the ledger's document store (never removed while the ledger
    /// exists), by its digest…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<crate::Sha256Digest>,
    /// …and the name it was given under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One `incident` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum IncidentEvent {
    /// An artifact, package range or advisory is compromised. The incident's id is this
    /// entry's seq.
    Open {
        target: Target,
        reason: String,
        severity: Severity,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<Evidence>,
        /// The advisory id it was opened for (`GHSA-…`, `MAL-…`, `CVE-…`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        advisory: Option<String>,
    },
    /// A responder has taken it.
    Ack {
        incident: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Contained and closed.
    Resolve {
        incident: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The advisory it was opened for changed (a re-import of a modified record).
    Update { incident: u64, note: String },
    /// The advisory it was opened for was withdrawn: the incident no longer covers
    /// anything.
    Retract { incident: u64, note: String },
    /// A write made `consumer` consume something the incident covers (through `via`,
    /// the artifact it started consuming): flagged when it happened.
    Exposed {
        incident: u64,
        consumer: String,
        via: String,
    },
}

impl IncidentEvent {
    pub fn action(&self) -> &'static str {
        match self {
            IncidentEvent::Open { .. } => "open",
            IncidentEvent::Ack { .. } => "ack",
            IncidentEvent::Resolve { .. } => "resolve",
            IncidentEvent::Update { .. } => "update",
            IncidentEvent::Retract { .. } => "retract",
            IncidentEvent::Exposed { .. } => "exposed",
        }
    }
}

/// One `containment` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Containment {
    /// Every later registration or deployment of a matching artifact fails the policy
    /// gate (and is flagged when written). The block's id is this entry's seq.
    Block {
        target: Target,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<u64>,
    },
    /// A block is lifted.
    Unblock {
        block: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// An artifact is held until the policy's checks pass.
    Quarantine { artifact: String, reason: String },
    /// A held artifact is released.
    Release {
        artifact: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

impl Containment {
    pub fn action(&self) -> &'static str {
        match self {
            Containment::Block { .. } => "block",
            Containment::Unblock { .. } => "unblock",
            Containment::Quarantine { .. } => "quarantine",
            Containment::Release { .. } => "release",
        }
    }
}

/// An OSV record as the ledger keeps it: what matching needs, and the digest of the
/// record's canonical JSON, so a re-import knows what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advisory {
    pub id: String,
    /// `sha256:<hex>` of the record's RFC 8785 canonical JSON.
    pub digest: crate::Sha256Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<AdvisoryPackage>,
}

/// One package an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryPackage {
    pub ecosystem: String,
    pub name: String,
    /// The package URL without a version.
    pub purl: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The record's `ranges`, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Value>,
    /// `sha256:<hex>` of the package files the record names
    /// (`database_specific.indicators.package_integrity`): those files are affected
    /// whatever they are called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrity: Vec<String>,
}

impl Advisory {
    /// Reads an OSV record (a JSON value): the matching part, the skipped packages
    /// (ecosystems ailedger does not order) and the record's digest.
    pub fn from_osv(v: &Value) -> Result<(Advisory, Vec<String>), crate::osv_range::OsvError> {
        let (record, skipped) = OsvRecord::from_json(v)?;
        let canonical = crate::canonical::to_canonical_json(v)
            .map_err(|e| crate::osv_range::OsvError::Json(e.to_string()))?;
        let digest = crate::Sha256Digest::of(&canonical);
        let list = v.get("affected").and_then(Value::as_array);
        let affected = record
            .affected
            .iter()
            .map(|a| {
                // The record's own entry for this package, for what OsvRecord does not keep.
                let raw = list.and_then(|l| {
                    l.iter().find(|r| {
                        r.pointer("/package/name").and_then(Value::as_str) == Some(&a.name)
                            && r.pointer("/package/ecosystem").and_then(Value::as_str)
                                == Some(&a.ecosystem)
                    })
                });
                AdvisoryPackage {
                    ecosystem: a.ecosystem.clone(),
                    name: a.name.clone(),
                    purl: a.purl.clone(),
                    versions: a.versions.clone(),
                    ranges: raw
                        .and_then(|r| r.get("ranges"))
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                    integrity: raw.map(integrity_of).unwrap_or_default(),
                }
            })
            .collect();
        Ok((
            Advisory {
                id: record.id,
                digest,
                modified: record.modified,
                withdrawn: record.withdrawn,
                summary: record.summary,
                aliases: record.aliases,
                affected,
            },
            skipped,
        ))
    }

    /// Checks an advisory as recorded.
    pub fn validate(&self) -> Result<(), Error> {
        nonempty("advisory id", &self.id)?;
        for a in &self.affected {
            let p: Purl = a.purl.parse()?;
            if p.version().is_some() {
                return Err(Error::Entry(format!(
                    "advisory {}: package {} has a version",
                    self.id, a.purl
                )));
            }
        }
        Ok(())
    }

    /// The record's packages as [`OsvAffected`], ranges parsed.
    fn packages(&self) -> Vec<OsvAffected> {
        self.affected
            .iter()
            .filter_map(|a| {
                let (_, scheme) = crate::osv::package_purl(&a.ecosystem, &a.name).ok()?;
                let ranges = a
                    .ranges
                    .iter()
                    .map(crate::osv_range::OsvRange::from_json)
                    .collect::<Result<_, _>>()
                    .ok()?;
                Some(OsvAffected {
                    ecosystem: a.ecosystem.clone(),
                    name: a.name.clone(),
                    purl: a.purl.clone(),
                    scheme,
                    ranges,
                    versions: a.versions.clone(),
                })
            })
            .collect()
    }
}

fn integrity_of(affected: &Value) -> Vec<String> {
    let mut out: Vec<String> = affected
        .pointer("/database_specific/indicators/package_integrity")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.pointer("/hashes/sha256")?.as_str())
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|h| format!("sha256:{}", h.to_ascii_lowercase()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Acknowledged,
    Resolved,
    Retracted,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
            State::Retracted => "retracted",
        }
    }

    /// Open or acknowledged: it still covers what it targets.
    pub fn is_live(self) -> bool {
        matches!(self, State::Open | State::Acknowledged)
    }
}

/// One recorded step of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub seq: u64,
    pub time_us: i64,
    pub actor: String,
    /// `open`, `ack`, `resolve`, `update`, `retract`, `exposed`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An incident as its entries make it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// The seq of the entry that opened it.
    pub id: u64,
    pub target: Target,
    pub reason: String,
    pub severity: Severity,
    pub evidence: Vec<Evidence>,
    pub advisory: Option<String>,
    pub state: State,
    pub opened_by: String,
    pub opened_us: i64,
    pub steps: Vec<Step>,
    /// Write-time flags: `(seq, consumer, via)`.
    pub exposures: Vec<(u64, String, String)>,
}

/// An active or lifted blocklist entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub id: u64,
    pub target: Target,
    pub reason: String,
    pub incident: Option<u64>,
    pub actor: String,
    pub time_us: i64,
    /// The entry that lifted it.
    pub lifted: Option<u64>,
}

/// Shared by the fuzz bodies that read OSV records (`vers`, `osv`): an advisory as the
/// ledger keeps it matches without panicking, and an `advisory` entry holding it reads
/// back from its body.
pub fn fuzz_advisory(a: Advisory) {
    let m = Matcher::for_advisories(&[&a]);
    for p in &a.affected {
        let _ = m.covers([format!("{}@1.0.0", p.purl).as_str()]);
    }
    if a.validate().is_err() {
        return;
    }
    let data = EntryData::Advisory {
        advisories: vec![a],
    };
    if let Ok(body) = crate::entry::body_of(1, 0, "fuzz", &data) {
        let back = Entry::from_body(&body)
            .unwrap_or_else(|e| panic!("an advisory entry does not read back: {e}"));
        assert_eq!(back.data, data, "an advisory entry does not read back");
    }
}

/// An imported advisory: its latest record and the entry that brought it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryState {
    pub record: Advisory,
    pub seq: u64,
    /// The incident it opened, if it matched anything.
    pub incident: Option<u64>,
}

/// The fold of every `incident`, `containment` and `advisory` entry.
#[derive(Debug, Clone, Default)]
pub struct Book {
    pub incidents: BTreeMap<u64, Incident>,
    pub blocks: BTreeMap<u64, Block>,
    /// Quarantined artifacts, with the seq and reason that put them there.
    pub quarantined: BTreeMap<String, (u64, String)>,
    pub advisories: HashMap<String, AdvisoryState>,
    /// The seq of the last `advisory` entry folded in (0: none).
    pub advisories_seq: u64,
    head: u64,
}

/// The entry kinds a [`Book`] folds.
pub const KINDS: &[&str] = &["incident", "containment", "advisory"];

impl Book {
    /// The last seq folded in.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// Marks that entries up to `seq` have been seen (none of them a book entry).
    pub fn seen(&mut self, seq: u64) {
        self.head = self.head.max(seq);
    }

    /// Whether `event` may be written now: it names a known incident in a state that
    /// allows it. (The fold itself accepts whatever the ledger holds.)
    pub fn check(&self, event: &IncidentEvent) -> Result<(), Error> {
        let (id, allowed): (u64, &[State]) = match event {
            IncidentEvent::Open { .. } => return Ok(()),
            IncidentEvent::Ack { incident, .. } => (*incident, &[State::Open]),
            IncidentEvent::Resolve { incident, .. }
            | IncidentEvent::Retract { incident, .. }
            | IncidentEvent::Update { incident, .. }
            | IncidentEvent::Exposed { incident, .. } => {
                (*incident, &[State::Open, State::Acknowledged])
            }
        };
        let Some(i) = self.incidents.get(&id) else {
            return Err(Error::Entry(format!("no incident #{id}")));
        };
        if !allowed.contains(&i.state) {
            return Err(Error::Entry(format!(
                "incident #{id} is {}: it cannot be {}",
                i.state.as_str(),
                match event.action() {
                    "ack" => "acknowledged",
                    "resolve" => "resolved",
                    "retract" => "retracted",
                    "update" => "updated",
                    _ => "flagged",
                }
            )));
        }
        Ok(())
    }

    /// Folds one entry in (entries of other kinds only move the head).
    pub fn apply(&mut self, entry: &Entry) {
        self.head = self.head.max(entry.seq);
        let step = |action: &'static str, note: Option<String>| Step {
            seq: entry.seq,
            time_us: entry.time_us,
            actor: entry.actor.clone(),
            action,
            note,
        };
        match &entry.data {
            EntryData::Incident { incident: event } => match event.clone() {
                IncidentEvent::Open {
                    target,
                    reason,
                    severity,
                    evidence,
                    advisory,
                } => {
                    if let Target::Advisory { id } = &target
                        && let Some(a) = self.advisories.get_mut(id)
                    {
                        a.incident = Some(entry.seq);
                    }
                    self.incidents.insert(
                        entry.seq,
                        Incident {
                            id: entry.seq,
                            target,
                            reason: reason.clone(),
                            severity,
                            evidence,
                            advisory,
                            state: State::Open,
                            opened_by: entry.actor.clone(),
                            opened_us: entry.time_us,
                            steps: vec![step("open", Some(reason))],
                            exposures: vec![],
                        },
                    );
                }
                IncidentEvent::Ack { incident, note } => {
                    self.transition(incident, State::Acknowledged, step("ack", note))
                }
                IncidentEvent::Resolve { incident, note } => {
                    self.transition(incident, State::Resolved, step("resolve", note))
                }
                IncidentEvent::Retract { incident, note } => {
                    self.transition(incident, State::Retracted, step("retract", Some(note)))
                }
                IncidentEvent::Update { incident, note } => {
                    if let Some(i) = self.incidents.get_mut(&incident) {
                        i.steps.push(step("update", Some(note)));
                    }
                }
                IncidentEvent::Exposed {
                    incident,
                    consumer,
                    via,
                } => {
                    if let Some(i) = self.incidents.get_mut(&incident) {
                        i.exposures.push((entry.seq, consumer, via));
                    }
                }
            },
            EntryData::Containment { containment } => match containment.clone() {
                Containment::Block {
                    target,
                    reason,
                    incident,
                } => {
                    self.blocks.insert(
                        entry.seq,
                        Block {
                            id: entry.seq,
                            target,
                            reason,
                            incident,
                            actor: entry.actor.clone(),
                            time_us: entry.time_us,
                            lifted: None,
                        },
                    );
                }
                Containment::Unblock { block, .. } => {
                    if let Some(b) = self.blocks.get_mut(&block) {
                        b.lifted.get_or_insert(entry.seq);
                    }
                }
                Containment::Quarantine { artifact, reason } => {
                    self.quarantined.insert(artifact, (entry.seq, reason));
                }
                Containment::Release { artifact, .. } => {
                    self.quarantined.remove(&artifact);
                }
            },
            EntryData::Advisory { advisories } => {
                self.advisories_seq = entry.seq;
                for a in advisories {
                    let incident = self.advisories.get(&a.id).and_then(|s| s.incident);
                    self.advisories.insert(
                        a.id.clone(),
                        AdvisoryState {
                            record: a.clone(),
                            seq: entry.seq,
                            incident,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn transition(&mut self, id: u64, to: State, step: Step) {
        if let Some(i) = self.incidents.get_mut(&id) {
            i.state = to;
            i.steps.push(step);
        }
    }

    /// What covers artifacts now: live incidents and active blocks.
    pub fn matcher(&self) -> Matcher {
        let mut m = Matcher::default();
        for i in self.incidents.values().filter(|i| i.state.is_live()) {
            m.add(Cover::Incident(i.id), &i.target, self);
        }
        for b in self.blocks.values().filter(|b| b.lifted.is_none()) {
            m.add(Cover::Block(b.id), &b.target, self);
        }
        m
    }

    /// Every advisory that is not withdrawn, sorted by id, and a matcher whose
    /// [`Cover::Record`]s are positions in that list: what a newly registered package
    /// is checked against.
    pub fn advisory_matcher(&self) -> (Vec<String>, Matcher) {
        let mut ids: Vec<&AdvisoryState> = self
            .advisories
            .values()
            .filter(|a| a.record.withdrawn.is_none())
            .collect();
        ids.sort_by(|a, b| a.record.id.cmp(&b.record.id));
        let records: Vec<&Advisory> = ids.iter().map(|a| &a.record).collect();
        (
            records.iter().map(|a| a.id.clone()).collect(),
            Matcher::for_advisories(&records),
        )
    }

    /// A matcher for one incident only (its report), whatever its state.
    pub fn matcher_for(&self, incident: u64) -> Option<Matcher> {
        let i = self.incidents.get(&incident)?;
        let mut m = Matcher::default();
        m.add(Cover::Incident(i.id), &i.target, self);
        Some(m)
    }
}

/// What covers an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum Cover {
    Incident(u64),
    Block(u64),
    /// A record being imported, by its position in [`Matcher::for_advisories`].
    Record(u64),
}

#[derive(Debug, Clone)]
enum Versions {
    All,
    Range(VersRange),
    Osv(OsvAffected),
}

/// Which artifact ids live incidents and active blocks cover: by id (and package file
/// digest), and by package URL and version.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    by_id: HashMap<String, Vec<Cover>>,
    by_package: HashMap<String, Vec<(Cover, Versions)>>,
}

impl Matcher {
    fn add(&mut self, cover: Cover, target: &Target, book: &Book) {
        match target {
            Target::Artifact { id } => self.by_id.entry(id.clone()).or_default().push(cover),
            Target::Package { purl, range } => {
                let versions = match range.as_deref().map(VersRange::parse) {
                    None => Versions::All,
                    Some(Ok(r)) => Versions::Range(r),
                    // Checked when written; a range this build cannot read covers nothing.
                    Some(Err(_)) => return,
                };
                self.by_package
                    .entry(purl.clone())
                    .or_default()
                    .push((cover, versions));
            }
            Target::Advisory { id } => {
                if let Some(a) = book.advisories.get(id) {
                    self.add_advisory(cover, &a.record);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty() && self.by_package.is_empty()
    }

    /// A matcher for records being imported (withdrawn ones cover nothing); each
    /// cover is a [`Cover::Record`] naming the record's position.
    pub fn for_advisories(records: &[&Advisory]) -> Matcher {
        let mut m = Matcher::default();
        for (i, a) in records.iter().enumerate() {
            m.add_advisory(Cover::Record(i as u64), a);
        }
        m
    }

    fn add_advisory(&mut self, cover: Cover, a: &Advisory) {
        if a.withdrawn.is_some() {
            return;
        }
        for p in &a.affected {
            for d in &p.integrity {
                self.by_id.entry(d.clone()).or_default().push(cover);
            }
        }
        for p in a.packages() {
            self.by_package
                .entry(p.purl.clone())
                .or_default()
                .push((cover, Versions::Osv(p)));
        }
    }

    /// What covers the artifact with this id (or one of these aliases). A purl id is
    /// matched by package and version with its ecosystem's version order.
    pub fn covers<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<Cover> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(c) = self.by_id.get(id) {
                out.extend_from_slice(c);
            }
            if !self.by_package.is_empty()
                && id.starts_with("pkg:")
                && let Some((base, version)) = split_purl(id)
                && let Some(list) = self.by_package.get(&base)
            {
                for (cover, versions) in list {
                    let hit = match (versions, &version) {
                        (Versions::All, _) => true,
                        (_, None) => false,
                        (Versions::Range(r), Some(v)) => r.contains(v).unwrap_or(false),
                        (Versions::Osv(a), Some(v)) => {
                            crate::osv_range::affected(a.scheme, &a.ranges, &a.versions, v)
                                .unwrap_or(false)
                        }
                    };
                    if hit {
                        out.push(*cover);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every artifact of the index that something covers, with what covers it, in
    /// index order: ids matched exactly, and purl ids of a covered package (one pass
    /// over the ids; only a covered package's ids are parsed).
    pub fn matched_in<'a>(&self, index: &'a crate::GraphIndex) -> Vec<(&'a str, Vec<Cover>)> {
        let mut out = Vec::new();
        for id in index.ids() {
            let exact = self.by_id.contains_key(id);
            let package = !self.by_package.is_empty()
                && id.starts_with("pkg:")
                && id
                    .find('@')
                    .is_some_and(|at| self.by_package.contains_key(&id[..at]));
            if exact || package {
                let covers = self.covers([id]);
                if !covers.is_empty() {
                    out.push((id, covers));
                }
            }
        }
        out
    }
}

/// A purl id's package (without version, qualifiers or subpath) and version.
fn split_purl(id: &str) -> Option<(String, Option<String>)> {
    let p: Purl = id.parse().ok()?;
    let base = Purl::build(p.ty(), p.namespace(), p.name(), None, [], None).ok()?;
    Some((base.to_string(), p.version().map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_targets_read_as_written() {
        let t = Target::parse_package("pkg:pypi/Ultralytics@vers:pypi/>=8.3.41|<=8.3.42")
            .unwrap()
            .unwrap();
        assert_eq!(
            t,
            Target::Package {
                purl: "pkg:pypi/ultralytics".into(),
                range: Some("vers:pypi/>=8.3.41|<=8.3.42".into())
            }
        );
        assert_eq!(Target::parse_package("pkg:pypi/x@1.0").unwrap(), None);
        assert_eq!(Target::parse_package("sha256:00").unwrap(), None);
        assert!(Target::parse_package("vers:pypi/>=1").is_err());
        let e = Target::parse_package("pkg:npm/x@vers:pypi/>=1").unwrap_err();
        assert!(e.to_string().contains("as npm, not pypi"), "{e}");
    }
}
