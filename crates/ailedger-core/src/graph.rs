//! The in-memory graph index: every artifact and every edge that ever existed, with
//! the seq range in which each edge was active, so that blast-radius queries can be
//! answered for now or for any moment in history.
//!
//! Nodes are interned ids (`IndexSet<Box<str>>`), edges live in a petgraph `Graph`
//! with `u32` indices and point from consumer to consumed. `impact` walks incoming
//! edges breadth-first, `deps` outgoing ones; both record one shortest path per hit.

use indexmap::IndexSet;
use petgraph::{
    Directed, Direction,
    graph::{Graph, NodeIndex},
    visit::EdgeRef,
};

use crate::{ArtifactKind, EdgeKind, Severity};

mod exposure;
pub use exposure::{DeployState, Exposed, Exposure};

/// Seq used for "still active".
const OPEN: u64 = u64::MAX;

/// How a traversal reached a node (read only when the node is first reached, for a
/// rare tie-break, and once when its hit is built).
#[derive(Debug, Clone, Copy)]
struct Visit {
    kind: EdgeKind,
    depth: u32,
    since: u64,
}

/// Per-thread traversal scratch space, reused across queries, so a query allocates only
/// its answer. `marks[n]` packs the query stamp (high half) and the parent that first
/// reached `n` (low half): one 8-byte read per edge tells whether `n` was reached and
/// from where. A slot is valid only when its stamp is the current query's, so nothing
/// is ever cleared.
#[derive(Debug, Default)]
struct Scratch {
    stamp: u32,
    marks: Vec<u64>,
    visits: Vec<Visit>,
    /// Position of each reached node in the answer, for building paths from parents.
    pos: Vec<u32>,
}

impl Scratch {
    fn reset(&mut self, nodes: usize) {
        if self.marks.len() < nodes {
            self.marks.resize(nodes, 0);
            self.visits.resize(
                nodes,
                Visit {
                    kind: EdgeKind::DependsOn,
                    depth: 0,
                    since: 0,
                },
            );
            self.pos.resize(nodes, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.stamp = 1;
        }
    }
    /// The parent that first reached `n` in this query, if it was reached.
    fn parent(&self, n: u32) -> Option<u32> {
        let m = self.marks[n as usize];
        ((m >> 32) as u32 == self.stamp).then_some(m as u32)
    }
    fn visit(&mut self, n: u32, parent: u32, v: Visit) {
        self.marks[n as usize] = (u64::from(self.stamp) << 32) | u64::from(parent);
        self.visits[n as usize] = v;
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

#[derive(Debug, Clone, Copy)]
struct EdgeW {
    since: u64,
    until: u64,
    kind: EdgeKind,
}

impl EdgeW {
    fn active_at(&self, at: u64) -> bool {
        self.since <= at && at < self.until
    }
}

/// One artifact reached by a traversal.
///
/// A hit names the hit it was reached from (`parent`), not its whole path: a long
/// chain costs one hit per artifact, not one path step per pair. [`path`] rebuilds a
/// hit's path from the parents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'a> {
    pub id: &'a str,
    pub kind: ArtifactKind,
    /// Number of edges between this artifact and the query's artifact.
    pub depth: u32,
    /// The position of the hit this one was first reached from, in the same answer;
    /// `None` when that is the query's artifact. Always smaller than this hit's own
    /// position (hits come breadth-first).
    pub parent: Option<u32>,
    /// The edge between this artifact and its parent (impact: this artifact consumes
    /// the parent; deps: the parent consumes this artifact).
    pub edge: EdgeKind,
    /// The latest `since` seq of the path's edges: since when this path has existed.
    pub since: u64,
}

/// One shortest path of `hits[i]`, starting after it and ending at the query's
/// artifact `root`: each step is the edge taken and the artifact it leads to.
pub fn path<'a>(hits: &[Hit<'a>], i: usize, root: &'a str) -> Vec<(EdgeKind, &'a str)> {
    let mut steps = Vec::with_capacity(hits[i].depth as usize);
    let mut at = i;
    loop {
        let h = &hits[at];
        match h.parent {
            Some(p) => {
                steps.push((h.edge, hits[p as usize].id));
                at = p as usize;
            }
            None => {
                steps.push((h.edge, root));
                return steps;
            }
        }
    }
}

/// An edge row as stored: `until` is `None` while the edge is active.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EdgeRow {
    /// Shared, not owned: a large write holds each id in many rows.
    pub from: std::sync::Arc<str>,
    pub edge: EdgeKind,
    pub to: std::sync::Arc<str>,
    pub since: u64,
    pub until: Option<u64>,
    /// The edge's paths (`contains` edges; see [`crate::EdgeFact::paths`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

/// Where a store delivers artifacts and edge rows: the index itself (at start-up) or
/// a [`GraphChanges`] buffer (while tailing, so the index is locked only to apply).
pub trait GraphSink {
    /// An artifact, new or changed.
    fn artifact(&mut self, id: &str, kind: ArtifactKind, meta: NodeMeta);
    /// Gives the row back when an endpoint is unknown.
    fn edge(&mut self, row: EdgeRow) -> Result<(), EdgeRow>;
}

/// Changes read from a store, to be applied to an index in one short step.
#[derive(Debug, Default)]
pub struct GraphChanges {
    pub artifacts: Vec<(String, ArtifactKind, NodeMeta)>,
    pub edges: Vec<EdgeRow>,
    /// Active edges that ended: `(from, edge, to, seq)`.
    pub ended: Vec<(String, EdgeKind, String, u64)>,
}

impl GraphSink for GraphChanges {
    fn artifact(&mut self, id: &str, kind: ArtifactKind, meta: NodeMeta) {
        self.artifacts.push((id.to_owned(), kind, meta));
    }
    fn edge(&mut self, row: EdgeRow) -> Result<(), EdgeRow> {
        self.edges.push(row);
        Ok(())
    }
}

impl GraphChanges {
    /// Applies the changes; returns the edge rows whose endpoints were unknown.
    pub fn apply_to(self, index: &mut GraphIndex) -> Vec<EdgeRow> {
        for (id, kind, meta) in self.artifacts {
            index.artifact(&id, kind, meta);
        }
        for (from, edge, to, seq) in &self.ended {
            index.end_active(from, *edge, to, *seq);
        }
        self.edges
            .into_iter()
            .filter(|row| !index.apply_edge_row(row))
            .collect()
    }
}

impl GraphSink for GraphIndex {
    fn artifact(&mut self, id: &str, kind: ArtifactKind, meta: NodeMeta) {
        let n = self.add_artifact(id, kind);
        if let Some(label) = meta.label {
            self.labels.insert(n, label.into());
        }
        match meta.severity {
            Some(s) => {
                self.severity.insert(n, s);
            }
            None => {
                self.severity.remove(&n);
            }
        }
        match meta.verification {
            Some(v) => {
                self.verification.insert(n, v);
            }
            None => {
                self.verification.remove(&n);
            }
        }
        if let Some(d) = meta.deployment {
            self.deployments.insert(n, d);
        }
    }
    fn edge(&mut self, row: EdgeRow) -> Result<(), EdgeRow> {
        if self.apply_edge_row(&row) {
            Ok(())
        } else {
            Err(row)
        }
    }
}

#[derive(Debug, Default)]
pub struct GraphIndex {
    ids: IndexSet<Box<str>, rustc_hash::FxBuildHasher>,
    kinds: Vec<ArtifactKind>,
    /// Readable names of artifacts whose ids are digests (models, datasets).
    labels: rustc_hash::FxHashMap<u32, Box<str>>,
    /// The highest severity among an artifact's inspection findings, where it has any.
    severity: rustc_hash::FxHashMap<u32, Severity>,
    /// How an attestation was judged when it was ingested.
    verification: rustc_hash::FxHashMap<u32, Verification>,
    /// Deployments' environments, owners and contacts.
    deployments: rustc_hash::FxHashMap<u32, DeploymentMeta>,
    /// The paths of `contains` edges that have them, by (from, to) node: a model's
    /// file names. (A digest-identified model's files and their paths never change.)
    paths: rustc_hash::FxHashMap<(u32, u32), Box<[Box<str>]>>,
    graph: Graph<(), EdgeW, Directed, u32>,
    head: u64,
    /// Edges collected during a bulk load, added at its end in consumed-artifact order.
    bulk: Option<Vec<(u32, u32, EdgeW)>>,
}

/// What the index keeps about an artifact besides its id and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeMeta {
    /// A readable name for an artifact whose id is a digest.
    pub label: Option<String>,
    /// The highest severity among its inspection findings.
    pub severity: Option<Severity>,
    /// For an attestation: how the trust policy judged it (`attrs.verification`).
    pub verification: Option<Verification>,
    /// For a deployment: its environment, owner and contact.
    pub deployment: Option<DeploymentMeta>,
}

/// What a blast-radius report says about a deployment besides its id.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// How the trust policy judged an attestation (see `ailedger_attest::judge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verification {
    Verified,
    Unverified,
    Failed,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Unverified => "unverified",
            Verification::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verified" => Some(Verification::Verified),
            "unverified" => Some(Verification::Unverified),
            "failed" => Some(Verification::Failed),
            _ => None,
        }
    }
}

impl NodeMeta {
    /// Derives the metadata from an artifact's stored fields.
    pub fn of(
        id: &str,
        kind: ArtifactKind,
        name: Option<&str>,
        version: Option<&str>,
        attrs: Option<&str>,
    ) -> Self {
        let severity = attrs
            .filter(|a| a.contains("\"findings\""))
            .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
            .and_then(|v| {
                v.get("findings")?
                    .as_array()?
                    .iter()
                    .filter_map(|f| f.get("severity")?.as_str()?.parse::<Severity>().ok())
                    .max()
            });
        let verification = (kind == ArtifactKind::Attestation)
            .then(|| attrs.filter(|a| a.contains("\"verification\"")))
            .flatten()
            .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
            .and_then(|v| Verification::parse(v.get("verification")?.as_str()?));
        let deployment = (kind == ArtifactKind::Deployment)
            .then(|| attrs.and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok()))
            .flatten()
            .map(|v| {
                let text = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_owned);
                DeploymentMeta {
                    env: text("env"),
                    owner: text("owner"),
                    contact: text("contact"),
                }
            });
        Self {
            label: label_for(id, kind, name, version),
            severity,
            verification,
            deployment,
        }
    }
}

/// The readable label of an artifact whose id is a digest: `<kind>:<name>[@<version>]`.
pub fn label_for(
    id: &str,
    kind: ArtifactKind,
    name: Option<&str>,
    version: Option<&str>,
) -> Option<String> {
    if !id.starts_with("sha256:") {
        return None;
    }
    crate::Ref::named(kind, name?, version)
        .ok()
        .map(|r| r.to_string())
}

impl GraphIndex {
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Self {
            ids: IndexSet::with_capacity_and_hasher(nodes, Default::default()),
            kinds: Vec::with_capacity(nodes),
            labels: Default::default(),
            severity: Default::default(),
            verification: Default::default(),
            deployments: Default::default(),
            paths: Default::default(),
            graph: Graph::with_capacity(nodes, edges),
            head: 0,
            bulk: None,
        }
    }

    /// The last seq whose effects are in the index.
    pub fn head(&self) -> u64 {
        self.head
    }

    pub fn set_head(&mut self, seq: u64) {
        self.head = self.head.max(seq);
    }

    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Adds an artifact; a known id keeps its kind.
    pub fn add_artifact(&mut self, id: &str, kind: ArtifactKind) -> u32 {
        if let Some(i) = self.ids.get_index_of(id) {
            return i as u32;
        }
        let (i, _) = self.ids.insert_full(id.into());
        self.kinds.push(kind);
        let n = self.graph.add_node(());
        debug_assert_eq!(n.index(), i);
        i as u32
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// The highest severity among an artifact's findings.
    pub fn severity_of(&self, id: &str) -> Option<Severity> {
        self.ids
            .get_index_of(id)
            .and_then(|i| self.severity.get(&(i as u32)))
            .copied()
    }

    /// How an artifact's provenance stands at seq `at` (default: now): for an
    /// attestation, how it was judged; for anything else, the best judgement among the
    /// attestations that attest it (verified, else failed, else unverified); `None`
    /// when nothing attests it.
    pub fn verification_of(&self, id: &str, at: Option<u64>) -> Option<Verification> {
        let n = self.ids.get_index_of(id)?;
        if let Some(v) = self.verification.get(&(n as u32)) {
            return Some(*v);
        }
        let at = at.unwrap_or(OPEN - 1);
        let mut best: Option<Verification> = None;
        for e in self
            .graph
            .edges_directed(NodeIndex::new(n), Direction::Incoming)
        {
            if e.weight().kind != EdgeKind::Attests || !e.weight().active_at(at) {
                continue;
            }
            let Some(v) = self.verification.get(&(e.source().index() as u32)) else {
                continue;
            };
            let rank = |v: Verification| match v {
                Verification::Verified => 0,
                Verification::Failed => 1,
                Verification::Unverified => 2,
            };
            if best.is_none_or(|b| rank(*v) < rank(b)) {
                best = Some(*v);
            }
        }
        best
    }

    /// A deployment's environment, owner and contact.
    pub fn deployment_of(&self, id: &str) -> Option<&DeploymentMeta> {
        self.ids
            .get_index_of(id)
            .and_then(|i| self.deployments.get(&(i as u32)))
    }

    /// Every edge among `ids` active at seq `at` (default: now): `(from, kind, to,
    /// paths)`, sorted, each once.
    pub fn edges_among<'a>(
        &'a self,
        ids: &[&str],
        at: Option<u64>,
    ) -> Vec<(&'a str, EdgeKind, &'a str, &'a [Box<str>])> {
        let at = at.unwrap_or(OPEN - 1);
        let set: rustc_hash::FxHashSet<u32> = ids
            .iter()
            .filter_map(|id| self.ids.get_index_of(*id).map(|i| i as u32))
            .collect();
        let mut out = Vec::new();
        for &n in &set {
            for e in self
                .graph
                .edges_directed(NodeIndex::new(n as usize), Direction::Outgoing)
            {
                let t = e.target().index() as u32;
                if !e.weight().active_at(at) || !set.contains(&t) {
                    continue;
                }
                let paths = self.paths.get(&(n, t)).map_or(&[][..], |p| &**p);
                out.push((
                    &*self.ids[n as usize],
                    e.weight().kind,
                    &*self.ids[t as usize],
                    paths,
                ));
            }
        }
        out.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        out.dedup_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2));
        out
    }

    /// The artifacts with an edge of kind `edge` into `id` active at seq `at` (default:
    /// now), in node order: what attests it (`attests`), which documents describe it
    /// (`describes`).
    pub fn sources_of(&self, id: &str, edge: EdgeKind, at: Option<u64>) -> Vec<&str> {
        let Some(n) = self.node(id) else {
            return vec![];
        };
        let at = at.unwrap_or(OPEN - 1);
        let mut out: Vec<u32> = self
            .graph
            .edges_directed(n, Direction::Incoming)
            .filter(|e| e.weight().kind == edge && e.weight().active_at(at))
            .map(|e| e.source().index() as u32)
            .collect();
        out.sort_unstable();
        out.dedup();
        out.into_iter()
            .filter_map(|i| self.ids.get_index(i as usize).map(|s| &**s))
            .collect()
    }

    /// The readable label of an artifact whose id is a digest.
    pub fn label_of(&self, id: &str) -> Option<&str> {
        self.ids
            .get_index_of(id)
            .and_then(|i| self.labels.get(&(i as u32)))
            .map(|l| &**l)
    }

    /// The paths of the edge from `from` to `to` within `from` (a model's file
    /// names); empty when it has none.
    pub fn edge_paths(&self, from: &str, to: &str) -> &[Box<str>] {
        let (Some(a), Some(b)) = (self.node(from), self.node(to)) else {
            return &[];
        };
        self.paths
            .get(&(a.index() as u32, b.index() as u32))
            .map_or(&[], |p| &**p)
    }

    pub fn kind_of(&self, id: &str) -> Option<ArtifactKind> {
        self.ids.get_index_of(id).map(|i| self.kinds[i])
    }

    fn node(&self, id: &str) -> Option<NodeIndex<u32>> {
        self.ids.get_index_of(id).map(NodeIndex::new)
    }

    /// Starts a bulk load (the start-up build): edges are collected, not yet linked.
    pub fn begin_bulk(&mut self) {
        self.bulk = Some(Vec::new());
    }

    /// Ends a bulk load: links the collected edges grouped by the artifact they point at,
    /// so each artifact's incoming edges sit together in memory and a blast-radius walk
    /// reads them in sequence instead of chasing pointers across the whole edge array.
    pub fn end_bulk(&mut self) {
        let Some(mut edges) = self.bulk.take() else {
            return;
        };
        edges.sort_unstable_by_key(|&(a, b, w)| (b, a, w.since));
        self.graph.reserve_edges(edges.len());
        for (a, b, w) in edges {
            self.graph
                .add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), w);
        }
    }

    /// Applies one stored edge row. Rows may be applied more than once (a row that
    /// started before `head` and ended after it is read again when it ends).
    /// Returns false when an endpoint is unknown.
    pub fn apply_edge_row(&mut self, row: &EdgeRow) -> bool {
        let (Some(a), Some(b)) = (self.node(&row.from), self.node(&row.to)) else {
            return false;
        };
        let until = row.until.unwrap_or(OPEN);
        if !row.paths.is_empty() {
            self.paths.insert(
                (a.index() as u32, b.index() as u32),
                row.paths.iter().map(|p| p.as_str().into()).collect(),
            );
        }
        if let Some(bulk) = &mut self.bulk {
            // A bulk load reads each row once.
            bulk.push((
                a.index() as u32,
                b.index() as u32,
                EdgeW {
                    since: row.since,
                    until,
                    kind: row.edge,
                },
            ));
            return true;
        }
        let existing = self
            .graph
            .edges_connecting(a, b)
            .find(|e| e.weight().kind == row.edge && e.weight().since == row.since)
            .map(|e| e.id());
        match existing {
            Some(e) => self.graph[e].until = until,
            None => {
                self.graph.add_edge(
                    a,
                    b,
                    EdgeW {
                        since: row.since,
                        until,
                        kind: row.edge,
                    },
                );
            }
        }
        true
    }

    /// Ends the active `edge` from `from` to `to` at `seq`, if there is one.
    pub fn end_active(&mut self, from: &str, edge: EdgeKind, to: &str, seq: u64) -> bool {
        let (Some(a), Some(b)) = (self.node(from), self.node(to)) else {
            return false;
        };
        let active = self
            .graph
            .edges_connecting(a, b)
            .find(|e| e.weight().kind == edge && e.weight().until == OPEN)
            .map(|e| e.id());
        match active {
            Some(e) => {
                self.graph[e].until = seq;
                true
            }
            None => false,
        }
    }

    /// Blast radius: every artifact that transitively consumes `id` at seq `at`
    /// (default: now), nearest first.
    pub fn impact(&self, id: &str, at: Option<u64>) -> Option<Vec<Hit<'_>>> {
        self.walk(id, at, Direction::Incoming, None)
    }

    /// Everything `id` transitively consumes at seq `at` (default: now), nearest first.
    pub fn deps(&self, id: &str, at: Option<u64>) -> Option<Vec<Hit<'_>>> {
        self.walk(id, at, Direction::Outgoing, None)
    }

    /// [`Self::impact`] (`consumers`) or [`Self::deps`], no deeper than `max_depth`
    /// edges when given. The work is linear in the artifacts and edges reached.
    pub fn traverse(
        &self,
        id: &str,
        at: Option<u64>,
        consumers: bool,
        max_depth: Option<u32>,
    ) -> Option<Vec<Hit<'_>>> {
        let dir = if consumers {
            Direction::Incoming
        } else {
            Direction::Outgoing
        };
        self.walk(id, at, dir, max_depth)
    }

    fn walk(
        &self,
        id: &str,
        at: Option<u64>,
        dir: Direction,
        max_depth: Option<u32>,
    ) -> Option<Vec<Hit<'_>>> {
        let start = self.node(id)?;
        let at = at.unwrap_or(OPEN - 1);
        let max_depth = max_depth.unwrap_or(u32::MAX);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let s = &mut *scratch;
            s.reset(self.ids.len());
            let root = start.index() as u32;
            s.visit(
                root,
                root,
                Visit {
                    kind: EdgeKind::DependsOn,
                    depth: 0,
                    since: 0,
                },
            );
            // Breadth-first, one level at a time, each level expanded in node-index
            // order and each node reached first from its smallest-index parent (by the
            // smallest edge kind), so the answer, paths included, does not depend on
            // the order edges were loaded in: every server gives the same one.
            let mut found: Vec<u32> = Vec::new();
            let mut level = vec![root];
            let mut depth = 0u32;
            while !level.is_empty() && depth < max_depth {
                depth += 1;
                let mut next_level = Vec::new();
                for &n in &level {
                    for e in self.graph.edges_directed(NodeIndex::new(n as usize), dir) {
                        let w = e.weight();
                        if !w.active_at(at) {
                            continue;
                        }
                        let next = match dir {
                            Direction::Incoming => e.source(),
                            Direction::Outgoing => e.target(),
                        }
                        .index() as u32;
                        match s.parent(next) {
                            None => {
                                s.visit(
                                    next,
                                    n,
                                    Visit {
                                        kind: w.kind,
                                        depth,
                                        since: w.since,
                                    },
                                );
                                next_level.push(next);
                            }
                            // A second edge between the same two artifacts: keep the smaller kind.
                            Some(p)
                                if p == n
                                    && next != root
                                    && w.kind < s.visits[next as usize].kind =>
                            {
                                s.visits[next as usize].kind = w.kind;
                                s.visits[next as usize].since = w.since;
                            }
                            Some(_) => {}
                        }
                    }
                }
                next_level.sort_unstable();
                found.extend_from_slice(&next_level);
                level = next_level;
            }
            // Hits in BFS order: a parent's hit is always built before its children's.
            let mut hits: Vec<Hit<'_>> = Vec::with_capacity(found.len());
            for (i, &n) in found.iter().enumerate() {
                s.pos[n as usize] = i as u32;
                let v = s.visits[n as usize];
                let parent = s.parent(n).unwrap_or(root);
                let (parent, since) = if parent == root {
                    (None, v.since)
                } else {
                    let p = s.pos[parent as usize];
                    (Some(p), v.since.max(hits[p as usize].since))
                };
                hits.push(Hit {
                    id: &self.ids[n as usize],
                    kind: self.kinds[n as usize],
                    depth: v.depth,
                    parent,
                    edge: v.kind,
                    since,
                });
            }
            Some(hits)
        })
    }

    /// Approximate heap bytes held by the index (capacity-based).
    pub fn memory_bytes(&self) -> usize {
        let strings: usize = self.ids.iter().map(|s| s.len()).sum::<usize>()
            + self.labels.values().map(|l| l.len() + 24).sum::<usize>()
            + self
                .paths
                .values()
                .map(|p| 32 + p.iter().map(|s| s.len() + 16).sum::<usize>())
                .sum::<usize>();
        let id_table = self.ids.capacity() * (size_of::<Box<str>>() + 8 + 8);
        let kinds = self.kinds.capacity();
        let nodes = self.graph.capacity().0 * size_of::<[u32; 2]>();
        let edges = self.graph.capacity().1 * (size_of::<EdgeW>() + size_of::<[u32; 4]>());
        strings + id_table + kinds + nodes + edges
    }

    pub fn shrink_to_fit(&mut self) {
        self.ids.shrink_to_fit();
        self.kinds.shrink_to_fit();
        self.labels.shrink_to_fit();
        self.severity.shrink_to_fit();
        self.paths.shrink_to_fit();
        self.graph.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(from: &str, edge: EdgeKind, to: &str, since: u64, until: Option<u64>) -> EdgeRow {
        EdgeRow {
            from: from.into(),
            edge,
            to: to.into(),
            since,
            until,
            paths: vec![],
        }
    }

    fn index() -> GraphIndex {
        let mut g = GraphIndex::default();
        for (id, k) in [
            ("pkg:pypi/requests@2.31.0", ArtifactKind::Package),
            ("pkg:pypi/urllib3@2.0.0", ArtifactKind::Package),
            ("model:base@1", ArtifactKind::Model),
            ("model:ft@1", ArtifactKind::Model),
            ("deployment:prod/chat", ArtifactKind::Deployment),
            ("deployment:dev/chat", ArtifactKind::Deployment),
        ] {
            g.add_artifact(id, k);
        }
        for r in [
            row(
                "pkg:pypi/requests@2.31.0",
                EdgeKind::DependsOn,
                "pkg:pypi/urllib3@2.0.0",
                1,
                None,
            ),
            row(
                "model:base@1",
                EdgeKind::DependsOn,
                "pkg:pypi/requests@2.31.0",
                2,
                None,
            ),
            row("model:ft@1", EdgeKind::DerivedFrom, "model:base@1", 3, None),
            row(
                "deployment:prod/chat",
                EdgeKind::Deploys,
                "model:ft@1",
                4,
                Some(6),
            ),
            row(
                "deployment:dev/chat",
                EdgeKind::Deploys,
                "model:base@1",
                5,
                None,
            ),
        ] {
            assert!(g.apply_edge_row(&r));
        }
        g.set_head(6);
        g
    }

    fn render(hits: &[Hit<'_>], root: &str) -> Vec<String> {
        hits.iter()
            .enumerate()
            .map(|(i, h)| {
                let mut s = format!("{} {} d{}:", h.kind, h.id, h.depth);
                for (e, n) in path(hits, i, root) {
                    s.push_str(&format!(" -{e}-> {n}"));
                }
                s
            })
            .collect()
    }

    #[test]
    fn impact_now_and_as_of() {
        let g = index();
        let now = render(
            &g.impact("pkg:pypi/urllib3@2.0.0", None).unwrap(),
            "pkg:pypi/urllib3@2.0.0",
        );
        assert_eq!(
            now,
            [
                "package pkg:pypi/requests@2.31.0 d1: -depends-on-> pkg:pypi/urllib3@2.0.0",
                "model model:base@1 d2: -depends-on-> pkg:pypi/requests@2.31.0 -depends-on-> pkg:pypi/urllib3@2.0.0",
                "model model:ft@1 d3: -derived-from-> model:base@1 -depends-on-> pkg:pypi/requests@2.31.0 -depends-on-> pkg:pypi/urllib3@2.0.0",
                "deployment deployment:dev/chat d3: -deploys-> model:base@1 -depends-on-> pkg:pypi/requests@2.31.0 -depends-on-> pkg:pypi/urllib3@2.0.0",
            ]
        );
        // At seq 5 the prod deployment still used the fine-tuned model.
        let then = render(&g.impact("model:base@1", Some(5)).unwrap(), "model:base@1");
        assert_eq!(
            then,
            [
                "model model:ft@1 d1: -derived-from-> model:base@1",
                "deployment deployment:dev/chat d1: -deploys-> model:base@1",
                "deployment deployment:prod/chat d2: -deploys-> model:ft@1 -derived-from-> model:base@1",
            ]
        );
        // Before seq 2 nothing consumed the requests package.
        assert!(
            g.impact("pkg:pypi/requests@2.31.0", Some(1))
                .unwrap()
                .is_empty()
        );
        assert!(g.impact("model:unknown", None).is_none());
    }

    /// `max_depth` stops the walk at that many edges; a deep chain costs one hit per
    /// artifact, each naming its parent, and [`path`] rebuilds the full path.
    #[test]
    fn depth_limit_and_parent_pointers_on_a_long_chain() {
        let g = index();
        let one = render(
            &g.traverse("pkg:pypi/urllib3@2.0.0", None, true, Some(1))
                .unwrap(),
            "pkg:pypi/urllib3@2.0.0",
        );
        assert_eq!(
            one,
            ["package pkg:pypi/requests@2.31.0 d1: -depends-on-> pkg:pypi/urllib3@2.0.0"]
        );
        assert_eq!(
            g.traverse("pkg:pypi/urllib3@2.0.0", None, true, Some(0))
                .unwrap(),
            []
        );

        let n = 100_000u32;
        let mut chain = GraphIndex::default();
        let name = |i: u32| format!("package:p{i}@1");
        for i in 0..n {
            chain.add_artifact(&name(i), ArtifactKind::Package);
        }
        for i in 1..n {
            assert!(chain.apply_edge_row(&row(
                &name(i),
                EdgeKind::DependsOn,
                &name(i - 1),
                u64::from(i),
                None
            )));
        }
        let hits = chain.impact(&name(0), None).unwrap();
        assert_eq!(hits.len(), (n - 1) as usize);
        let last = hits.len() - 1;
        assert_eq!(hits[last].id, name(n - 1));
        assert_eq!(hits[last].depth, n - 1);
        assert_eq!(hits[last].since, u64::from(n - 1));
        assert_eq!(hits[last].parent, Some(last as u32 - 1));
        let root = name(0);
        let steps = path(&hits, last, &root);
        assert_eq!(steps.len(), (n - 1) as usize);
        assert_eq!(steps[0].1, name(n - 2));
        assert_eq!(steps.last().unwrap().1, root);
        let ten = chain.traverse(&name(0), None, true, Some(10)).unwrap();
        assert_eq!(ten.len(), 10);
        assert_eq!(ten[9].id, name(10));
    }

    #[test]
    fn deps_and_reapplied_rows() {
        let mut g = index();
        // Ending an edge re-reads its row with `until` set; applying twice is harmless.
        assert!(g.apply_edge_row(&row(
            "model:ft@1",
            EdgeKind::DerivedFrom,
            "model:base@1",
            3,
            Some(7)
        )));
        assert!(g.apply_edge_row(&row(
            "model:ft@1",
            EdgeKind::DerivedFrom,
            "model:base@1",
            3,
            Some(7)
        )));
        assert_eq!(g.edge_count(), 5);
        assert!(g.deps("model:ft@1", None).unwrap().is_empty());
        let d = render(&g.deps("model:ft@1", Some(6)).unwrap(), "model:ft@1");
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(!g.apply_edge_row(&row(
            "model:nope",
            EdgeKind::DependsOn,
            "model:ft@1",
            8,
            None
        )));
    }

    /// A `contains` edge's paths are kept per (from, to), in bulk loads and row by
    /// row alike, and only where the edge has them.
    #[test]
    fn contains_edges_keep_their_paths() {
        for bulk in [false, true] {
            let mut g = index();
            g.add_artifact("file:w@1", ArtifactKind::File);
            if bulk {
                g.begin_bulk();
            }
            let mut r = row("model:base@1", EdgeKind::Contains, "file:w@1", 7, None);
            r.paths = vec!["a.bin".into(), "w/a.bin".into()];
            assert!(g.apply_edge_row(&r));
            if bulk {
                g.end_bulk();
            }
            let paths: Vec<&str> = g
                .edge_paths("model:base@1", "file:w@1")
                .iter()
                .map(|p| &**p)
                .collect();
            assert_eq!(paths, ["a.bin", "w/a.bin"]);
            assert!(g.edge_paths("file:w@1", "model:base@1").is_empty());
            assert!(g.edge_paths("model:ft@1", "model:base@1").is_empty());
            let hits = g.impact("file:w@1", None).unwrap();
            assert_eq!(hits[0].id, "model:base@1");
        }
    }

    /// `sources_of` gives the artifacts with an edge of one kind into an artifact, as of
    /// a seq: what deploys, attests or describes it.
    #[test]
    fn sources_of_an_edge_kind_as_of_a_seq() {
        let mut g = index();
        g.add_artifact("attestation:a@1", ArtifactKind::Attestation);
        assert!(g.apply_edge_row(&row(
            "attestation:a@1",
            EdgeKind::Attests,
            "model:base@1",
            7,
            Some(9)
        )));
        assert_eq!(
            g.sources_of("model:base@1", EdgeKind::Attests, Some(8)),
            ["attestation:a@1"]
        );
        assert!(
            g.sources_of("model:base@1", EdgeKind::Attests, None)
                .is_empty()
        );
        assert!(
            g.sources_of("model:base@1", EdgeKind::Attests, Some(6))
                .is_empty()
        );
        assert_eq!(
            g.sources_of("model:base@1", EdgeKind::Deploys, None),
            ["deployment:dev/chat"]
        );
        assert_eq!(
            g.sources_of("model:ft@1", EdgeKind::Deploys, Some(5)),
            ["deployment:prod/chat"]
        );
        assert!(
            g.sources_of("model:none", EdgeKind::Attests, None)
                .is_empty()
        );
    }
}
