//! The dependency graph a lockfile states, and how its environment reaches it.
//!
//! A lockfile parser adds its packages to the [`Ctx`], then states here which package
//! depends on which (by artifact index) and which packages are the project's own
//! (its roots). [`LockGraph::finish`] records every package → package `depends-on`
//! edge, and environment → package edges only where the chain needs them: to each
//! root, then to each package no root reaches (first those nothing depends on, then,
//! for a cycle nothing outside reaches, its first package in file order). So every
//! package stays reachable from the environment, and the path to a deep package is the
//! real chain (environment → app → rustls → ring), not a shortcut.

use std::collections::HashSet;

use ailedger_core::EdgeKind;

use crate::{Error, graph::Ctx};

/// Index of the document (the environment) among a [`Ctx`]'s artifacts.
const DOC: usize = 0;

#[derive(Default)]
pub(crate) struct LockGraph {
    /// Artifact index of each package, in file order (two entries may share one).
    pkgs: Vec<usize>,
    /// `(from, to)` artifact indices, in the order stated.
    edges: Vec<(usize, usize)>,
    /// Packages the environment depends on directly, in the order stated.
    roots: Vec<usize>,
}

impl LockGraph {
    /// A package of the lockfile (artifact index from [`Ctx::add_at`]).
    pub fn package(&mut self, art: usize) {
        self.pkgs.push(art);
    }

    /// `from` depends on `to`. An edge from the environment itself makes `to` a root.
    pub fn depends(&mut self, from: usize, to: usize) {
        if from == DOC {
            self.root(to);
        } else if from != to && to != DOC {
            self.edges.push((from, to));
        }
    }

    /// The environment depends on `art` directly (a workspace member, the project).
    pub fn root(&mut self, art: usize) {
        if art != DOC {
            self.roots.push(art);
        }
    }

    /// The packages some other package depends on.
    pub fn depended_on(&self) -> HashSet<usize> {
        self.edges.iter().map(|&(_, t)| t).collect()
    }

    /// Records the edges in `ctx` (see the module comment). Returns the packages the
    /// environment depends on directly.
    pub fn finish(self, ctx: &mut Ctx<'_>) -> Result<Vec<usize>, Error> {
        let n = self
            .pkgs
            .iter()
            .chain(&self.roots)
            .chain(self.edges.iter().flat_map(|(f, t)| [f, t]))
            .max()
            .map_or(1, |m| m + 1);
        // Adjacency in compressed rows: `out[start[f]..start[f + 1]]` are f's targets.
        let mut start = vec![0usize; n + 1];
        let mut indegree = vec![0u32; n];
        for &(f, t) in &self.edges {
            start[f + 1] += 1;
            indegree[t] = indegree[t].saturating_add(1);
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut out = vec![0usize; self.edges.len()];
        for &(f, t) in &self.edges {
            out[fill[f]] = t;
            fill[f] += 1;
        }
        let mut reached = vec![false; n];
        reached[DOC] = true;
        let mut direct = Vec::new();
        let mut queue = Vec::new();
        let mut reach = |from: usize, reached: &mut Vec<bool>| {
            reached[from] = true;
            queue.push(from);
            while let Some(p) = queue.pop() {
                for &t in &out[start[p]..start[p + 1]] {
                    if !reached[t] {
                        reached[t] = true;
                        queue.push(t);
                    }
                }
            }
        };
        for &r in &self.roots {
            if !direct.contains(&r) {
                direct.push(r);
            }
            reach(r, &mut reached);
        }
        for &p in &self.pkgs {
            if !reached[p] && indegree[p] == 0 {
                direct.push(p);
                reach(p, &mut reached);
            }
        }
        for &p in &self.pkgs {
            if !reached[p] {
                direct.push(p);
                reach(p, &mut reached);
            }
        }
        for &d in &direct {
            ctx.edge_at(DOC, EdgeKind::DependsOn, d)?;
        }
        for &(f, t) in &self.edges {
            ctx.edge_at(f, EdgeKind::DependsOn, t)?;
        }
        Ok(direct)
    }
}

/// The environment's readable name: `<project> (<file>, <digest prefix>)`, or
/// `<file> (<digest prefix>)` when the lockfile names no project.
pub(crate) fn name_environment(ctx: &mut Ctx<'_>, project: Option<&str>, file: &str) {
    let prefix = digest_prefix(ctx);
    let name = match project.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => format!("{p} ({file}, {prefix})"),
        None => format!("{file} ({prefix})"),
    };
    ctx.doc_mut().name = Some(name);
}

/// The first 8 hex digits of the document's digest.
pub(crate) fn digest_prefix(ctx: &Ctx<'_>) -> String {
    let hex = ctx.digest.hex();
    hex.get(..8).unwrap_or(&hex).to_owned()
}

/// A project name for several local packages: their common name prefix at a `-`/`_`
/// boundary (`ailedger-cli`, `ailedger-core` → `ailedger`), else the first name and
/// how many more.
pub(crate) fn project_name(names: &[&str]) -> Option<String> {
    let (first, rest) = names.split_first()?;
    if rest.is_empty() {
        return Some((*first).to_owned());
    }
    let mut len = first.len();
    for n in rest {
        len = first
            .bytes()
            .zip(n.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    let common = first.get(..len).unwrap_or("");
    // Cut back to a word boundary unless every name continues with one there.
    let whole = names.iter().all(|n| {
        n.get(len..)
            .is_some_and(|r| r.is_empty() || r.starts_with(['-', '_']))
    });
    let stem = if whole {
        common
    } else {
        common
            .rfind(['-', '_'])
            .and_then(|i| common.get(..i))
            .unwrap_or("")
    };
    let stem = stem.trim_end_matches(['-', '_']);
    if stem.len() >= 3 {
        Some(stem.to_owned())
    } else {
        Some(format!("{first} and {} more", rest.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::project_name;

    #[test]
    fn project_names() {
        assert_eq!(project_name(&[]), None);
        assert_eq!(project_name(&["app"]).as_deref(), Some("app"));
        assert_eq!(
            project_name(&["ailedger-cli", "ailedger-core", "ailedger"]).as_deref(),
            Some("ailedger")
        );
        assert_eq!(
            project_name(&["ailedger-cli", "ailedger-core"]).as_deref(),
            Some("ailedger")
        );
        // "mcp-simple-" is no word boundary for "mcp-simplex": cut back to "mcp".
        assert_eq!(
            project_name(&["mcp-simple-tool", "mcp-simplex"]).as_deref(),
            Some("mcp")
        );
        assert_eq!(
            project_name(&["demo", "forked-dep"]).as_deref(),
            Some("demo and 1 more")
        );
    }
}
