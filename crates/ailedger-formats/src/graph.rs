//! Collects what a parser finds — artifacts merged by id, edges without duplicates or
//! self-loops, warnings — and assembles the [`Document`]. Every parser goes through
//! this, so the "one artifact per identity" rule is enforced in one place.

use std::collections::HashSet;

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, Ref, Sha256Digest};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::{Document, Error, Format, Options, Warning};

/// Warnings kept per document; the rest are counted in a final warning.
const MAX_WARNINGS: usize = 1000;

/// Parsing state shared by all format modules.
pub(crate) struct Ctx<'o> {
    pub opts: &'o Options,
    /// Format label used in errors, e.g. `CycloneDX 1.6`.
    pub label: String,
    pub digest: Sha256Digest,
    arts: IndexMap<String, ArtifactFact>,
    edges: Vec<(u32, EdgeKind, u32)>,
    edge_set: HashSet<(u32, EdgeKind, u32)>,
    warnings: Vec<Warning>,
    suppressed: usize,
    pub includes: Vec<String>,
}

impl<'o> Ctx<'o> {
    /// Starts a document whose own artifact is `sha256:<digest of bytes>` of `kind`.
    pub fn new(opts: &'o Options, label: String, bytes: &[u8], kind: ArtifactKind) -> Self {
        let digest = Sha256Digest::of(bytes);
        let doc = ArtifactFact {
            id: digest.to_string(),
            kind,
            name: None,
            version: None,
            aliases: vec![],
            attrs: Map::new(),
        };
        let mut arts = IndexMap::new();
        arts.insert(doc.id.clone(), doc);
        Ctx {
            opts,
            label,
            digest,
            arts,
            edges: Vec::new(),
            edge_set: HashSet::new(),
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
        if self.arts.len() >= self.opts.limits.max_elements.saturating_add(1)
            && !self.arts.contains_key(&fact.id)
        {
            return Err(self.err(
                "/",
                format!("more than {} artifacts", self.opts.limits.max_elements),
            ));
        }
        let id = fact.id.clone();
        let mut fact = fact;
        compact_map(&mut fact.attrs);
        // A purl- or digest-identified artifact with a name and version also answers to
        // `<kind>:<name>@<version>`: an artifact some document knew only by that name
        // is merged into it when the store applies the entry.
        if !matches!(id.parse::<Ref>(), Ok(Ref::Named { .. }) | Err(_))
            && let (Some(n), Some(v)) = (&fact.name, &fact.version)
            && let Ok(alias) = named_ref(fact.kind, n, Some(v))
        {
            fact.aliases.push(alias);
        }
        match self.arts.get_mut(&id) {
            None => {
                fact.aliases.retain(|a| *a != id);
                fact.aliases.sort_unstable();
                fact.aliases.dedup();
                self.arts.insert(id.clone(), fact);
            }
            Some(have) => {
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
            }
        }
        Ok(id)
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
                Some(EdgeFact {
                    from: ids.get(f as usize)?.clone(),
                    edge: e,
                    to: ids.get(t as usize)?.clone(),
                })
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
