//! Collects what a parser finds — artifacts merged by id, edges without duplicates or
//! self-loops, warnings — and assembles the [`Document`]. Every parser goes through
//! this, so the "one artifact per identity" rule is enforced in one place.

use std::collections::{HashMap, HashSet};

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, Ref, Sha256Digest, identity};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::{Document, Error, Format, Options, Warning};

/// The id of a [`Ctx::pending`] document until its digest is set (not a valid ref).
const PENDING: &str = "sha256:pending";

/// Warnings kept per document; the rest are counted in a final warning.
const MAX_WARNINGS: usize = 1000;

/// Parsing state shared by all format modules.
pub(crate) struct Ctx<'o> {
    pub opts: &'o Options,
    /// Format label used in errors, e.g. `CycloneDX 1.6`.
    pub label: String,
    pub digest: Sha256Digest,
    arts: IndexMap<String, ArtifactFact, foldhash::fast::RandomState>,
    edges: Vec<(u32, EdgeKind, u32)>,
    edge_set: HashSet<(u32, EdgeKind, u32), foldhash::fast::RandomState>,
    /// Where a contained artifact sits, for the `contains` edges a document states it of.
    edge_paths: HashMap<(u32, EdgeKind, u32), Vec<String>, foldhash::fast::RandomState>,
    warnings: Vec<Warning>,
    suppressed: usize,
    pub includes: Vec<String>,
}

impl<'o> Ctx<'o> {
    /// Starts a document whose own artifact is `sha256:<digest of bytes>` of `kind`.
    pub fn new(opts: &'o Options, label: String, bytes: &[u8], kind: ArtifactKind) -> Self {
        Self::with_digest(opts, label, Sha256Digest::of(bytes), kind)
    }

    /// [`Ctx::new`] for a document whose digest was computed already.
    pub fn with_digest(
        opts: &'o Options,
        label: String,
        digest: Sha256Digest,
        kind: ArtifactKind,
    ) -> Self {
        Self::start(opts, label, digest, digest.to_string(), kind)
    }

    /// Starts a document whose digest is not known yet: it is computed elsewhere (on
    /// another core) and given to [`Ctx::set_digest`] before [`Ctx::finish`]. Until
    /// then the document's id is a placeholder that no artifact id can equal.
    pub fn pending(opts: &'o Options, label: String, kind: ArtifactKind) -> Self {
        Self::start(opts, label, Sha256Digest([0; 32]), PENDING.to_owned(), kind)
    }

    /// Gives a [`Ctx::pending`] document its digest; `false` when an artifact of the
    /// document already has that id (the caller then parses it again the plain way).
    pub fn set_digest(&mut self, digest: Sha256Digest) -> bool {
        let id = digest.to_string();
        if self.arts.get_index_of(PENDING) != Some(0)
            || self.arts.replace_index(0, id.clone()).is_err()
        {
            return false;
        }
        self.arts[0].id = id;
        self.digest = digest;
        true
    }

    fn start(
        opts: &'o Options,
        label: String,
        digest: Sha256Digest,
        id: String,
        kind: ArtifactKind,
    ) -> Self {
        let doc = ArtifactFact {
            id,
            kind,
            name: None,
            version: None,
            aliases: vec![],
            attrs: Map::new(),
        };
        let mut arts = IndexMap::default();
        arts.insert(doc.id.clone(), doc);
        Ctx {
            opts,
            label,
            digest,
            arts,
            edges: Vec::new(),
            edge_set: HashSet::default(),
            edge_paths: HashMap::default(),
            warnings: Vec::new(),
            suppressed: 0,
            includes: Vec::new(),
        }
    }

    pub fn doc_id(&self) -> String {
        self.digest.to_string()
    }

    pub fn doc_mut(&mut self) -> &mut ArtifactFact {
        // Index 0 is always the document (inserted in `new`, never removed).
        &mut self.arts[0]
    }

    pub fn err(&self, pointer: &str, message: impl Into<String>) -> Error {
        Error::invalid(&self.label, pointer, message)
    }

    pub fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning {
                pointer: pointer.to_owned(),
                message: message.into(),
            });
        } else {
            self.suppressed += 1;
        }
    }

    /// A local fault at `pointer`: under [`Options::strict`] the document is refused
    /// with `fault`; otherwise `fault` and the `repair` made (what was dropped or how
    /// the part was kept, docs/formats.md "Repairs") are a warning.
    pub fn repair(&mut self, pointer: &str, fault: &str, repair: &str) -> Result<(), Error> {
        if self.opts.strict {
            return Err(self.err(pointer, fault));
        }
        self.warn(pointer, format!("{fault}; {repair}"));
        Ok(())
    }

    /// Adds already-made warnings (subject to the same cap as [`Ctx::warn`]).
    pub fn warn_all(&mut self, warnings: Vec<Warning>) {
        for w in warnings {
            self.warn(&w.pointer, w.message);
        }
    }

    /// Fails when a count exceeds `max_elements`.
    pub fn check_count(&self, pointer: &str, what: &str, n: usize) -> Result<(), Error> {
        if n > self.opts.limits.max_elements {
            return Err(self.err(
                pointer,
                format!(
                    "{n} {what} exceed the limit of {}",
                    self.opts.limits.max_elements
                ),
            ));
        }
        Ok(())
    }

    /// Adds an artifact or merges it into the one with the same id: name, version and
    /// kind are kept from the first mention, aliases are united, attributes missing so
    /// far are added. Returns the id.
    pub fn add(&mut self, fact: ArtifactFact) -> Result<String, Error> {
        let i = self.add_at(fact)?;
        Ok(self.id_at(i).to_owned())
    }

    /// [`Ctx::add`], returning the artifact's index (see [`Ctx::edge_at`]).
    pub fn add_at(&mut self, fact: ArtifactFact) -> Result<usize, Error> {
        if self.arts.len() >= self.opts.limits.max_elements.saturating_add(1)
            && !self.arts.contains_key(&fact.id)
        {
            return Err(self.err(
                "/",
                format!("more than {} artifacts", self.opts.limits.max_elements),
            ));
        }
        let mut fact = fact;
        compact_map(&mut fact.attrs);
        // The aliases its identity implies (ailedger_core::identity, the same rule as
        // the register API). A name and version that cannot form a ref imply none: a
        // warning, not a refusal.
        if let Err(e) = identity::imply(&mut fact) {
            self.warn("/", format!("{}: no name alias: {e}", fact.id));
        }
        let id = std::mem::take(&mut fact.id);
        match self.arts.get_full_mut(&id) {
            None => {
                fact.id.clone_from(&id);
                Ok(self.arts.insert_full(id, fact).0)
            }
            Some((i, _, have)) => {
                let kind_clash = have.kind != fact.kind;
                let have_kind = have.kind;
                if have.name.is_none() {
                    have.name = fact.name;
                }
                if have.version.is_none() {
                    have.version = fact.version;
                }
                for a in fact.aliases {
                    if a != id && !have.aliases.contains(&a) {
                        have.aliases.push(a);
                    }
                }
                for (k, v) in fact.attrs {
                    have.attrs.entry(k).or_insert(v);
                }
                if kind_clash {
                    let msg = format!(
                        "{id} is described both as a {have_kind} and as a {}; kept {have_kind}",
                        fact.kind
                    );
                    self.warn("/", msg);
                }
                Ok(i)
            }
        }
    }

    /// The id of the artifact at index `i` (from [`Ctx::add_at`]).
    pub fn id_at(&self, i: usize) -> &str {
        self.arts.get_index(i).map_or("", |(id, _)| id.as_str())
    }

    /// Adds an edge between two ids already added. Self-loops (two spellings of one
    /// artifact) and duplicates are dropped.
    pub fn edge(&mut self, from: &str, edge: EdgeKind, to: &str) -> Result<(), Error> {
        let (Some(f), Some(t)) = (self.arts.get_index_of(from), self.arts.get_index_of(to)) else {
            return Err(self.err(
                "/",
                format!("internal: edge {from} {edge} {to} names an unknown artifact"),
            ));
        };
        self.edge_at(f, edge, t)
    }

    /// [`Ctx::edge`] between artifacts given by index (from [`Ctx::add_at`]; the
    /// document itself is index 0).
    pub fn edge_at(&mut self, f: usize, edge: EdgeKind, t: usize) -> Result<(), Error> {
        if f >= self.arts.len() || t >= self.arts.len() {
            return Err(self.err("/", "internal: edge names an unknown artifact"));
        }
        if f == t {
            return Ok(());
        }
        let key = (
            u32::try_from(f).unwrap_or(u32::MAX),
            edge,
            u32::try_from(t).unwrap_or(u32::MAX),
        );
        if self.edge_set.insert(key) {
            if self.edges.len() >= self.opts.limits.max_elements.saturating_mul(4) {
                return Err(self.err("/", "too many edges"));
            }
            self.edges.push(key);
        }
        Ok(())
    }

    /// Records an edge with where `t` sits in `f` (a `contains` edge's paths).
    pub fn edge_with_paths_at(
        &mut self,
        f: usize,
        edge: EdgeKind,
        t: usize,
        mut paths: Vec<String>,
    ) -> Result<(), Error> {
        self.edge_at(f, edge, t)?;
        if f != t && !paths.is_empty() {
            let key = (
                u32::try_from(f).unwrap_or(u32::MAX),
                edge,
                u32::try_from(t).unwrap_or(u32::MAX),
            );
            let kept = self.edge_paths.entry(key).or_default();
            kept.append(&mut paths);
            kept.sort();
            kept.dedup();
        }
        Ok(())
    }

    pub fn finish(mut self, format: Format) -> Result<Document, Error> {
        if self.suppressed > 0 {
            let n = self.suppressed;
            self.warnings.push(Warning {
                pointer: "/".into(),
                message: format!("{n} further warnings suppressed"),
            });
        }
        let ids: Vec<String> = self.arts.keys().cloned().collect();
        let edges = self
            .edges
            .iter()
            .filter_map(|&(f, e, t)| {
                let mut edge = EdgeFact::new(
                    ids.get(f as usize)?.clone(),
                    e,
                    ids.get(t as usize)?.clone(),
                );
                edge.paths = self.edge_paths.remove(&(f, e, t)).unwrap_or_default();
                Some(edge)
            })
            .collect();
        let mut it = self.arts.into_values();
        let Some(document) = it.next() else {
            return Err(Error::invalid(
                &self.label,
                "/",
                "internal: no document artifact",
            ));
        };
        Ok(Document {
            format,
            digest: self.digest,
            document,
            artifacts: it.collect(),
            edges,
            warnings: self.warnings,
            includes: self.includes,
        })
    }
}

/// `<kind>:<name>[@<version>]` as a canonical ref, or why not. Surrounding whitespace
/// is trimmed; an empty version counts as none.
pub(crate) fn named_ref(
    kind: ArtifactKind,
    name: &str,
    version: Option<&str>,
) -> Result<String, String> {
    let name = name.trim();
    let version = version.map(str::trim).filter(|v| !v.is_empty());
    Ref::named(kind, name, version)
        .map(|r| r.to_string())
        .map_err(|e| e.to_string())
}

/// Rebuilds a map and everything in it at exactly the capacity it needs. Maps filled
/// one insert at a time keep room for twice their entries; a document's facts are held
/// until its entry is written, so for a large document that slack is hundreds of MB.
fn compact_map(m: &mut Map<String, Value>) {
    let old = std::mem::take(m);
    *m = old
        .into_iter()
        .map(|(k, mut v)| {
            compact(&mut v);
            (k, v)
        })
        .collect();
}

fn compact(v: &mut Value) {
    match v {
        Value::Object(m) => compact_map(m),
        Value::Array(a) => {
            a.iter_mut().for_each(compact);
            a.shrink_to_fit();
        }
        _ => {}
    }
}

/// Moves `keys` of `from` (when present and not null) into `attrs`.
pub(crate) fn take_attrs(
    from: &mut Map<String, Value>,
    keys: &[&str],
    attrs: &mut Map<String, Value>,
) {
    for k in keys {
        if let Some(v) = from.get_mut(*k)
            && !v.is_null()
        {
            attrs.insert((*k).to_owned(), v.take());
        }
    }
}

/// A new artifact fact.
pub(crate) fn fact(
    id: String,
    kind: ArtifactKind,
    name: Option<String>,
    version: Option<String>,
) -> ArtifactFact {
    ArtifactFact {
        id,
        kind,
        name,
        version,
        aliases: vec![],
        attrs: Map::new(),
    }
}
