//! Blast-radius reports over a small history: exposure windows that open and close,
//! paths as they ran, intermediate artifacts, owners and the last known-good
//! configuration; and what incidents and blocks cover.

// Tests unwrap: a failure should be loud, not handled.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use ailedger_core::{
    ArtifactKind, EdgeKind, Entry, EntryData, GraphIndex, Severity,
    blast::Report,
    graph::{EdgeRow, GraphSink, NodeMeta},
    incident::{Book, Containment, Cover, IncidentEvent, State, Target},
};

fn artifact(index: &mut GraphIndex, id: &str, kind: ArtifactKind, attrs: Option<&str>) {
    index.artifact(id, kind, NodeMeta::of(id, kind, None, None, attrs));
}

fn edge(
    index: &mut GraphIndex,
    from: &str,
    kind: EdgeKind,
    to: &str,
    since: u64,
    until: Option<u64>,
) {
    let row = EdgeRow {
        from: Arc::from(from),
        edge: kind,
        to: Arc::from(to),
        since,
        until,
        paths: vec![],
    };
    assert!(index.apply_edge_row(&row), "{from} -> {to}");
}

const GOOD: &str = "pkg:pypi/ultralytics@8.3.40";
const BAD: &str = "pkg:pypi/ultralytics@8.3.41";
const BAD2: &str = "pkg:pypi/ultralytics@8.3.42";

/// Two environments (one with the trojaned release), a model trained in the bad one,
/// and three deployments: one moved onto the bad environment, one that left it before
/// the advisory, one that never touched it.
fn ledger() -> GraphIndex {
    let mut g = GraphIndex::default();
    for p in [GOOD, BAD, BAD2] {
        artifact(&mut g, p, ArtifactKind::Package, None);
    }
    artifact(
        &mut g,
        "environment:train@1",
        ArtifactKind::Environment,
        None,
    );
    artifact(
        &mut g,
        "environment:serve@1",
        ArtifactKind::Environment,
        None,
    );
    artifact(&mut g, "model:bot@2", ArtifactKind::Model, None);
    for (id, owner) in [
        ("deployment:prod/bot", "ml-platform"),
        ("deployment:prod/old", "search-team"),
        ("deployment:prod/safe", "infra"),
    ] {
        let attrs =
            format!(r#"{{"env":"prod","owner":"{owner}","contact":"mailto:{owner}@example.com"}}"#);
        artifact(&mut g, id, ArtifactKind::Deployment, Some(&attrs));
    }
    edge(
        &mut g,
        "environment:serve@1",
        EdgeKind::DependsOn,
        GOOD,
        5,
        None,
    );
    edge(
        &mut g,
        "environment:train@1",
        EdgeKind::DependsOn,
        BAD,
        10,
        None,
    );
    edge(
        &mut g,
        "model:bot@2",
        EdgeKind::BuiltFrom,
        "environment:train@1",
        11,
        None,
    );
    // prod/bot ran the serving environment from 5, the new model from 20.
    edge(
        &mut g,
        "deployment:prod/bot",
        EdgeKind::Deploys,
        "environment:serve@1",
        5,
        Some(20),
    );
    edge(
        &mut g,
        "deployment:prod/bot",
        EdgeKind::Deploys,
        "model:bot@2",
        20,
        None,
    );
    // prod/old ran the training environment from 12 to 30, then the serving one.
    edge(
        &mut g,
        "deployment:prod/old",
        EdgeKind::Deploys,
        "environment:train@1",
        12,
        Some(30),
    );
    edge(
        &mut g,
        "deployment:prod/old",
        EdgeKind::Deploys,
        "environment:serve@1",
        30,
        None,
    );
    edge(
        &mut g,
        "deployment:prod/safe",
        EdgeKind::Deploys,
        "environment:serve@1",
        6,
        None,
    );
    g.set_head(40);
    g
}

fn entry(seq: u64, data: EntryData) -> Entry {
    Entry {
        seq,
        time_us: seq as i64 * 1_000_000,
        actor: "responder".into(),
        data,
    }
}

fn open(target: Target) -> EntryData {
    EntryData::Incident {
        incident: IncidentEvent::Open {
            target,
            reason: "trojaned wheels on PyPI".into(),
            severity: Severity::Critical,
            evidence: vec![],
            advisory: None,
        },
    }
}

fn report(g: &GraphIndex, book: &Book, incident: u64, at: Option<u64>) -> Report {
    let m = book.matcher_for(incident).unwrap();
    let targets: Vec<&str> = m.matched_in(g).into_iter().map(|(id, _)| id).collect();
    let live_targets: Vec<&str> = book
        .matcher()
        .matched_in(g)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let exposure = g.exposure(&targets, at);
    let live = g.exposure(&live_targets, at);
    Report::build(Some(incident), "t".into(), g, &exposure, &live)
}

#[test]
fn a_version_range_finds_deployments_with_windows_paths_owners_and_known_good() {
    let g = ledger();
    let mut book = Book::default();
    let target = Target::parse_package("pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42")
        .unwrap()
        .unwrap();
    book.apply(&entry(41, open(target)));
    let r = report(&g, &book, 41, None);
    let ids: Vec<&str> = r.compromised.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [BAD, BAD2]);
    let deps: Vec<(&str, u64, Option<u64>, bool)> = r
        .deployments
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.first_exposed.seq,
                a.exposed_until.as_ref().map(|m| m.seq),
                a.still_exposed,
            )
        })
        .collect();
    // Still exposed first; the one that stopped before the advisory is listed with its
    // window; the safe one is not affected.
    assert_eq!(
        deps,
        [
            ("deployment:prod/bot", 20, None, true),
            ("deployment:prod/old", 12, Some(30), false),
        ]
    );
    let bot = &r.deployments[0];
    assert_eq!(bot.owner.as_deref(), Some("ml-platform"));
    assert_eq!(bot.env.as_deref(), Some("prod"));
    let path: Vec<(EdgeKind, &str)> = bot.path.iter().map(|s| (s.edge, s.id.as_str())).collect();
    assert_eq!(
        path,
        [
            (EdgeKind::Deploys, "model:bot@2"),
            (EdgeKind::BuiltFrom, "environment:train@1"),
            (EdgeKind::DependsOn, BAD),
        ]
    );
    let kg = bot.known_good.as_ref().expect("prod/bot has a known-good");
    assert_eq!(kg.uses, ["environment:serve@1"]);
    assert_eq!(
        (kg.since.seq, kg.until.as_ref().map(|m| m.seq)),
        (5, Some(20))
    );
    // prod/old's path is the one it ran while exposed; it ran nothing before.
    let old = &r.deployments[1];
    assert_eq!(old.path[0].id, "environment:train@1");
    assert_eq!(old.known_good, None);
    // Intermediates: the model and the environment.
    let mids: Vec<&str> = r.intermediates.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(mids, ["environment:train@1", "model:bot@2"]);
    // The report as of seq 25 is the one a responder would have seen then.
    let then = report(&g, &book, 41, Some(25));
    assert_eq!(then.at.seq, 25);
    assert!(then.deployments.iter().all(|a| a.still_exposed));
    // Renderings carry the same facts.
    let md = r.markdown();
    assert!(
        md.contains("| `deployment:prod/old` | prod | search-team |"),
        "{md}"
    );
    assert!(md.contains("still exposed"));
    let csv = r.csv();
    assert_eq!(csv.lines().count(), 1 + 2 + 2, "{csv}");
    assert!(csv.contains("deployment:prod/old,deployment,,prod,search-team,mailto:search-team@example.com,12,,30,,false,"), "{csv}");
    assert!(r.table().contains("LAST KNOWN-GOOD"));
}

#[test]
fn an_exact_version_outside_the_range_and_a_resolved_incident_cover_nothing() {
    let g = ledger();
    let mut book = Book::default();
    book.apply(&entry(41, open(Target::Artifact { id: GOOD.into() })));
    let r = report(&g, &book, 41, None);
    let ids: Vec<&str> = r.deployments.iter().map(|a| a.id.as_str()).collect();
    // Still exposed first (by when it began), then the one that moved off it.
    assert_eq!(
        ids,
        [
            "deployment:prod/safe",
            "deployment:prod/old",
            "deployment:prod/bot"
        ]
    );
    assert_eq!(
        r.deployments[2].exposed_until.as_ref().map(|m| m.seq),
        Some(20)
    );
    assert!(book.matcher().covers([GOOD]).contains(&Cover::Incident(41)));
    assert!(book.matcher().covers([BAD]).is_empty());
    // Acknowledge, then resolve: it stops covering anything live.
    let ack = IncidentEvent::Ack {
        incident: 41,
        note: Some("taking it".into()),
    };
    book.check(&ack).unwrap();
    book.apply(&entry(
        42,
        EntryData::Incident {
            incident: ack.clone(),
        },
    ));
    assert!(book.check(&ack).is_err(), "acknowledged twice");
    let resolve = IncidentEvent::Resolve {
        incident: 41,
        note: None,
    };
    book.apply(&entry(
        43,
        EntryData::Incident {
            incident: resolve.clone(),
        },
    ));
    assert_eq!(book.incidents[&41].state, State::Resolved);
    assert!(book.check(&resolve).is_err());
    assert!(book.matcher().is_empty());
    let actions: Vec<&str> = book.incidents[&41].steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, ["open", "ack", "resolve"]);
    assert!(
        book.check(&IncidentEvent::Ack {
            incident: 7,
            note: None
        })
        .is_err()
    );
}

#[test]
fn blocks_cover_until_lifted_and_quarantine_is_held_until_released() {
    let mut book = Book::default();
    book.apply(&entry(
        1,
        EntryData::Containment {
            containment: Containment::Block {
                target: Target::Package {
                    purl: "pkg:npm/%40citely/mcp-server".into(),
                    range: None,
                },
                reason: "exfiltrates tokens".into(),
                incident: None,
            },
        },
    ));
    assert_eq!(
        book.matcher()
            .covers(["pkg:npm/%40citely/mcp-server@0.1.0"]),
        [Cover::Block(1)]
    );
    assert!(
        book.matcher()
            .covers(["pkg:npm/mcp-server@0.1.0"])
            .is_empty()
    );
    book.apply(&entry(
        2,
        EntryData::Containment {
            containment: Containment::Unblock {
                block: 1,
                note: None,
            },
        },
    ));
    assert!(book.matcher().is_empty());
    book.apply(&entry(
        3,
        EntryData::Containment {
            containment: Containment::Quarantine {
                artifact: BAD.into(),
                reason: "unsigned".into(),
            },
        },
    ));
    assert!(book.quarantined.contains_key(BAD));
    book.apply(&entry(
        4,
        EntryData::Containment {
            containment: Containment::Release {
                artifact: BAD.into(),
                note: None,
            },
        },
    ));
    assert!(book.quarantined.is_empty());
}
