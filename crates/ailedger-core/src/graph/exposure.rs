//! Exposure over history: for every artifact that ever had a route to one of a set of
//! targets, the stretches of seqs during which it had one, and through which edge.
//!
//! A monotone data flow over every edge that ever existed: a target is exposed over
//! `[0, ∞)`; an edge `m → n` active over `[since, until)` exposes `m` over `n`'s
//! stretches cut to `[since, until)`. Each artifact keeps disjoint spans, each naming
//! the artifact it was reached through, so a span only ever grows the uncovered part
//! and the flow ends. Paths are read back by following those names at one seq.

use std::collections::VecDeque;

use petgraph::{Direction, graph::NodeIndex, visit::EdgeRef};
use rustc_hash::FxHashMap;

use super::{GraphIndex, OPEN};
use crate::{ArtifactKind, EdgeKind};

/// A stretch of seqs `[start, end)` over which an artifact had a route to a target
/// (`end` is `None` while it still has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u64,
    end: u64,
    /// The next artifact on the route (itself for a target).
    via: u32,
    kind: EdgeKind,
}

/// Where routes to a set of targets ran, over history up to a seq.
#[derive(Debug)]
pub struct Exposure<'a> {
    index: &'a GraphIndex,
    spans: FxHashMap<u32, Vec<Span>>,
    targets: Vec<u32>,
    at: u64,
}

/// One artifact's exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed<'a> {
    pub id: &'a str,
    pub kind: ArtifactKind,
    /// `[start, end)` seqs; `end` is `None` while still exposed.
    pub spans: Vec<(u64, Option<u64>)>,
    /// A route from this artifact to a target, at the last seq it was exposed: each
    /// step is the edge taken and the artifact it leads to.
    pub path: Vec<(EdgeKind, &'a str)>,
}

impl Exposed<'_> {
    /// The seq of the first exposure.
    pub fn first(&self) -> u64 {
        self.spans.first().map_or(0, |s| s.0)
    }
    /// When it stopped being exposed; `None`: still exposed.
    pub fn until(&self) -> Option<u64> {
        self.spans.last().and_then(|s| s.1)
    }
}

impl GraphIndex {
    /// Ids of artifacts whose id starts with `prefix`, in index order.
    pub fn ids_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.ids
            .iter()
            .filter(move |id| id.starts_with(prefix))
            .map(|id| &**id)
    }

    /// Every id, in index order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(|id| &**id)
    }

    /// Exposure to `targets` (unknown ids are ignored) over every edge that started at
    /// or before `at` (default: now), as it stood at `at`.
    pub fn exposure<'a>(&'a self, targets: &[&str], at: Option<u64>) -> Exposure<'a> {
        let at = at.unwrap_or(OPEN - 1);
        let mut spans: FxHashMap<u32, Vec<Span>> = FxHashMap::default();
        let mut queue: VecDeque<(u32, Span)> = VecDeque::new();
        let mut roots = Vec::new();
        for t in targets {
            let Some(n) = self.ids.get_index_of(*t) else {
                continue;
            };
            let n = n as u32;
            if spans.contains_key(&n) {
                continue;
            }
            let s = Span {
                start: 0,
                end: OPEN,
                via: n,
                kind: EdgeKind::DependsOn,
            };
            spans.insert(n, vec![s]);
            queue.push_back((n, s));
            roots.push(n);
        }
        while let Some((n, span)) = queue.pop_front() {
            for e in self
                .graph
                .edges_directed(NodeIndex::new(n as usize), Direction::Incoming)
            {
                let w = e.weight();
                if w.since > at {
                    continue;
                }
                // An edge that ended after `at` was still active at `at`.
                let until = if w.until > at { OPEN } else { w.until };
                let start = span.start.max(w.since);
                let end = span.end.min(until);
                if start >= end {
                    continue;
                }
                let m = e.source().index() as u32;
                let offered = Span {
                    start,
                    end,
                    via: n,
                    kind: w.kind,
                };
                for piece in add_uncovered(spans.entry(m).or_default(), offered) {
                    queue.push_back((m, piece));
                }
            }
        }
        Exposure {
            index: self,
            spans,
            targets: roots,
            at,
        }
    }
}

/// Adds the parts of `offered` that `spans` (sorted, disjoint) does not cover; returns
/// them.
fn add_uncovered(spans: &mut Vec<Span>, offered: Span) -> Vec<Span> {
    let mut added = Vec::new();
    let mut cursor = offered.start;
    for s in spans.iter() {
        if s.end <= cursor {
            continue;
        }
        if s.start >= offered.end {
            break;
        }
        if s.start > cursor {
            added.push(Span {
                start: cursor,
                end: s.start,
                ..offered
            });
        }
        cursor = cursor.max(s.end);
        if cursor >= offered.end {
            break;
        }
    }
    if cursor < offered.end {
        added.push(Span {
            start: cursor,
            end: offered.end,
            ..offered
        });
    }
    if !added.is_empty() {
        spans.extend_from_slice(&added);
        spans.sort_unstable_by_key(|s| s.start);
    }
    added
}

impl<'a> Exposure<'a> {
    /// The seq it was computed as of.
    pub fn at(&self) -> u64 {
        self.at
    }

    /// The targets found in the index.
    pub fn targets(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.targets.iter().map(|&n| &*self.index.ids[n as usize])
    }

    /// Whether the artifact is exposed at seq `at` (or now).
    pub fn exposed_at(&self, id: &str, at: Option<u64>) -> bool {
        let at = at.unwrap_or(self.at);
        self.index
            .ids
            .get_index_of(id)
            .and_then(|n| self.spans.get(&(n as u32)))
            .is_some_and(|spans| spans.iter().any(|s| s.start <= at && at < s.end))
    }

    /// Every exposed artifact but the targets, in index order.
    pub fn exposed(&self) -> Vec<Exposed<'a>> {
        let mut nodes: Vec<u32> = self
            .spans
            .keys()
            .copied()
            .filter(|n| !self.targets.contains(n))
            .collect();
        nodes.sort_unstable();
        nodes.into_iter().filter_map(|n| self.one(n)).collect()
    }

    /// One artifact's exposure, if it was ever exposed.
    pub fn of(&self, id: &str) -> Option<Exposed<'a>> {
        self.one(self.index.ids.get_index_of(id)? as u32)
    }

    fn one(&self, n: u32) -> Option<Exposed<'a>> {
        let spans = self.spans.get(&n)?;
        // Adjacent spans reached through different artifacts are one stretch.
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for s in spans {
            match merged.last_mut() {
                Some(last) if last.1 == s.start => last.1 = s.end,
                _ => merged.push((s.start, s.end)),
            }
        }
        let last = spans.last()?;
        let when = if last.end == OPEN {
            self.at
        } else {
            last.end - 1
        };
        Some(Exposed {
            id: &self.index.ids[n as usize],
            kind: self.index.kinds[n as usize],
            spans: merged
                .into_iter()
                .map(|(a, b)| (a, (b != OPEN).then_some(b)))
                .collect(),
            path: self.path(n, when),
        })
    }

    /// The route from `n` to a target at seq `when`.
    fn path(&self, mut n: u32, when: u64) -> Vec<(EdgeKind, &'a str)> {
        let mut out = Vec::new();
        for _ in 0..self.index.ids.len() {
            let Some(s) = self
                .spans
                .get(&n)
                .and_then(|spans| spans.iter().find(|s| s.start <= when && when < s.end))
            else {
                break;
            };
            if s.via == n {
                break;
            }
            out.push((s.kind, &*self.index.ids[s.via as usize]));
            n = s.via;
        }
        out
    }
}

/// One configuration of a deployment: what it deployed over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployState<'a> {
    pub start: u64,
    /// `None` while it is the current one.
    pub end: Option<u64>,
    pub uses: Vec<&'a str>,
}

impl GraphIndex {
    /// A deployment's configurations over history, oldest first, up to `at` (default:
    /// now), from its `deploys` edges.
    pub fn deploy_history(&self, id: &str, at: Option<u64>) -> Vec<DeployState<'_>> {
        let at = at.unwrap_or(OPEN - 1);
        let Some(n) = self.node(id) else {
            return vec![];
        };
        let edges: Vec<(u64, u64, u32)> = self
            .graph
            .edges_directed(n, Direction::Outgoing)
            .filter(|e| e.weight().kind == EdgeKind::Deploys && e.weight().since <= at)
            .map(|e| {
                let w = e.weight();
                let until = if w.until > at { OPEN } else { w.until };
                (w.since, until, e.target().index() as u32)
            })
            .collect();
        let mut points: Vec<u64> = edges.iter().flat_map(|e| [e.0, e.1]).collect();
        points.retain(|&p| p != OPEN);
        points.sort_unstable();
        points.dedup();
        let mut out: Vec<DeployState<'_>> = Vec::new();
        for (i, &p) in points.iter().enumerate() {
            let mut uses: Vec<&str> = edges
                .iter()
                .filter(|e| e.0 <= p && p < e.1)
                .map(|e| &*self.ids[e.2 as usize])
                .collect();
            uses.sort_unstable();
            let end = points.get(i + 1).copied();
            if let Some(last) = out.last_mut()
                && last.uses == uses
            {
                last.end = end;
                continue;
            }
            out.push(DeployState {
                start: p,
                end,
                uses,
            });
        }
        out.retain(|s| !s.uses.is_empty());
        out
    }
}
