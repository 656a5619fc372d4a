//! CycloneDX 1.2–1.7 (JSON, and XML converted to the same shape by
//! [`crate::cyclonedx_xml`]) into artifacts and edges.
//!
//! The document is walked as a `serde_json::Value` with JSON-pointer tracking so every
//! refusal names its location; the subtrees we keep (model cards, licences, external
//! references…) are moved into attributes rather than copied. See docs/formats.md for
//! the mapping.

use std::collections::HashMap;

use ailedger_core::{ArtifactKind, EdgeKind, Purl, Sha256Digest};
use serde_json::{Map, Value};

pub(crate) mod stream;

use crate::{
    Error,
    graph::{Ctx, fact, named_ref, take_attrs},
    hashes,
    json::{at, type_name},
};

/// Spec versions we read.
pub(crate) const VERSIONS: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// Component attributes kept whole.
const COMPONENT_ATTRS: &[&str] = &[
    "bom-ref",
    "group",
    "supplier",
    "manufacturer",
    "author",
    "authors",
    "publisher",
    "description",
    "scope",
    "licenses",
    "copyright",
    "cpe",
    "swid",
    "omniborId",
    "swhid",
    "externalReferences",
    "properties",
    "tags",
    "modelCard",
    "data",
    "cryptoProperties",
    "isExternal",
    "versionRange",
];

const SERVICE_ATTRS: &[&str] = &[
    "bom-ref",
    "group",
    "provider",
    "description",
    "endpoints",
    "authenticated",
    "x-trust-boundary",
    "trustZone",
    "data",
    "licenses",
    "externalReferences",
    "properties",
    "tags",
];

/// What a bom-ref names.
enum Target {
    /// A component or service, by artifact index (see [`Ctx::add_at`]).
    Artifact(usize),
    /// Something else with a bom-ref (vulnerability, composition, formulation step…).
    Other,
    /// A component or service that was dropped (a repair, see docs/formats.md).
    Dropped,
}

struct Cdx<'c, 'o> {
    ctx: &'c mut Ctx<'o>,
    /// bom-ref → what it names and where it is (a range of `at`).
    refs: HashMap<String, (Target, u32, u32), foldhash::fast::RandomState>,
    /// The pointers of the bom-refs, end to end.
    at: String,
    /// Model (index) → dataset refs, resolved once every bom-ref is known.
    trained_on: Vec<(usize, String, String)>,
    /// (consumer index, bom-ref it lists) → the ledger edge kind an ailedger export
    /// recorded for it (`ailedger:edge`); other `dependsOn` entries are `depends-on`.
    edge_kinds: HashMap<(usize, String), EdgeKind, foldhash::fast::RandomState>,
    /// (consumer index, bom-ref) → where the consumed artifact sits in the consumer, as
    /// an ailedger export recorded it (`ailedger:edge.paths`).
    edge_paths: HashMap<(usize, String), Vec<String>, foldhash::fast::RandomState>,
    components: usize,
    /// Warnings about bom-refs, given out at the start of [`Cdx::tail`] so that the
    /// tree and stream readers, which collect bom-refs at different times, report them
    /// in the same place among the others.
    ref_warnings: Vec<(String, String)>,
}

/// Reads the spec version, or refuses the document.
pub(crate) fn spec_version(root: &Value, label: &str) -> Result<String, Error> {
    match root.get("specVersion") {
        Some(Value::String(v)) if VERSIONS.contains(&v.as_str()) => Ok(v.clone()),
        Some(Value::String(v)) => Err(Error::invalid(
            label,
            "/specVersion",
            format!("unsupported CycloneDX spec version {v:?} (supported: 1.2 to 1.7)"),
        )),
        Some(other) => Err(Error::invalid(
            label,
            "/specVersion",
            format!(
                "expected a string such as \"1.6\", found {}",
                type_name(other)
            ),
        )),
        None => Err(Error::invalid(
            label,
            "/specVersion",
            "missing required \"specVersion\"",
        )),
    }
}

pub(crate) fn parse(mut root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    if !root.is_object() {
        return Err(ctx.err(
            "/",
            format!("expected an object, found {}", type_name(&root)),
        ));
    }
    let mut cdx = Cdx::new(ctx);
    cdx.collect_refs(&root, &mut String::new())?;
    let Some(obj) = root.as_object_mut() else {
        return Ok(());
    };
    let mut head = cdx.head(obj)?;
    match obj.get_mut("components") {
        Some(Value::Array(cs)) => {
            for (i, c) in cs.iter_mut().enumerate() {
                if let Some(id) = cdx.component(c, &format!("/components/{i}"))? {
                    head.top.push(id);
                }
                // What was not moved into attributes is no longer needed: free it now
                // so the facts built next reuse the memory (peak RSS on large BOMs).
                *c = Value::Null;
            }
        }
        None | Some(Value::Null) => {}
        Some(cs) => {
            let fault = format!("expected an array, found {}", type_name(cs));
            cdx.ctx
                .repair("/components", &fault, "components not recorded")?;
        }
    }
    cdx.tail(obj, head, None)
}

/// What the document says before its components: its subject and metadata.
struct Head {
    /// The subject's artifact index.
    subject: Option<usize>,
    metadata: Map<String, Value>,
    /// Top-level components and services (artifact indices), in document order.
    top: Vec<usize>,
}

/// One `dependencies` entry, checked: its index, its `ref` and the refs it lists.
struct Dep {
    index: usize,
    /// `None`: the entry is dropped (see `faults`).
    from: Option<String>,
    /// (`dependsOn` or `provides`, index in that list, ref).
    targets: Vec<(&'static str, usize, String)>,
    /// Local faults of the entry and their repairs (pointer, fault, repair), reported
    /// when the entry is mapped, so that the stream and the tree reader report them at
    /// the same point.
    faults: Vec<(String, String, &'static str)>,
}

impl<'c, 'o> Cdx<'c, 'o> {
    fn new(ctx: &'c mut Ctx<'o>) -> Self {
        Cdx {
            ctx,
            refs: HashMap::default(),
            at: String::new(),
            trained_on: Vec::new(),
            edge_kinds: HashMap::default(),
            edge_paths: HashMap::default(),
            components: 0,
            ref_warnings: Vec::new(),
        }
    }
}

impl Cdx<'_, '_> {
    /// Records every bom-ref in the document; duplicates are refused. `ptr` is the
    /// pointer of `v`; it grows only into containers and bom-refs.
    fn collect_refs(&mut self, v: &Value, ptr: &mut String) -> Result<(), Error> {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let len = ptr.len();
                    if k == "bom-ref" {
                        if let Value::String(r) = x {
                            crate::json::push(ptr, k);
                            self.collect_ref(r, ptr)?;
                        }
                    } else if x.is_object() || x.is_array() {
                        crate::json::push(ptr, k);
                        self.collect_refs(x, ptr)?;
                    }
                    ptr.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    if x.is_object() || x.is_array() {
                        let len = ptr.len();
                        ptr.push('/');
                        ptr.push_str(itoa::Buffer::new().format(i));
                        self.collect_refs(x, ptr)?;
                        ptr.truncate(len);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Records the bom-ref `r` found at `ptr`, or refuses a duplicate, except where
    /// real documents repeat a bom-ref without ambiguity (docs/formats.md):
    /// - a vulnerability that takes the bom-ref of something else (scanners give a
    ///   vulnerability the bom-ref of the component it affects): the other keeps it,
    ///   with a warning at the vulnerability's;
    /// - formulation objects (workflows, tasks, workspaces, triggers…) that repeat one:
    ///   a task names the workspace of its workflow by repeating it; the first keeps it
    ///   (ailedger records none of these objects).
    fn collect_ref(&mut self, r: &str, ptr: &str) -> Result<(), Error> {
        if let Some(&(_, a, b)) = self.refs.get(r) {
            let first = self.at_of(a, b).to_owned();
            if is_vulnerability_ref(ptr) {
                self.ref_warnings
                    .push((ptr.to_owned(), shared_ref(r, &first)));
                return Ok(());
            }
            if is_vulnerability_ref(&first) {
                self.ref_warnings.push((first, shared_ref(r, ptr)));
                self.insert_ref(r, ptr);
                return Ok(());
            }
            if is_formulation_object_ref(ptr) && is_formulation_object_ref(&first) {
                return Ok(());
            }
            return Err(self
                .ctx
                .err(ptr, format!("duplicate bom-ref {r:?} (first at {first})")));
        }
        self.insert_ref(r, ptr);
        Ok(())
    }

    /// Records `r` as the bom-ref at `ptr` (not yet known to name an artifact).
    fn insert_ref(&mut self, r: &str, ptr: &str) {
        let a = u32::try_from(self.at.len()).unwrap_or(u32::MAX);
        self.at.push_str(ptr);
        let b = u32::try_from(self.at.len()).unwrap_or(u32::MAX);
        self.refs.insert(r.to_owned(), (Target::Other, a, b));
    }

    /// The metadata: its component is the document's subject.
    fn head(&mut self, obj: &mut Map<String, Value>) -> Result<Head, Error> {
        let mut head = Head {
            subject: None,
            metadata: Map::new(),
            top: Vec::new(),
        };
        if let Some(meta) = obj.get_mut("metadata").filter(|m| !m.is_null()) {
            let Some(meta) = meta.as_object_mut() else {
                let fault = format!("expected an object, found {}", type_name(meta));
                self.ctx
                    .repair("/metadata", &fault, "metadata not recorded")?;
                return Ok(head);
            };
            if let Some(c) = meta.get_mut("component") {
                head.subject = self.component(c, "/metadata/component")?;
            }
            take_attrs(
                meta,
                &[
                    "timestamp",
                    "tools",
                    "authors",
                    "supplier",
                    "manufacture",
                    "manufacturer",
                    "lifecycles",
                ],
                &mut head.metadata,
            );
        }
        Ok(head)
    }

    /// Everything after the top-level components: services, formulation, the
    /// dependency graph (from `deps` when it was read already, else from `obj`) and the
    /// document's own attributes.
    fn tail(
        &mut self,
        obj: &mut Map<String, Value>,
        head: Head,
        deps: Option<Vec<Dep>>,
    ) -> Result<(), Error> {
        // The document's own artifact is always index 0.
        let doc = 0;
        let Head {
            subject,
            metadata,
            mut top,
        } = head;
        for (ptr, msg) in std::mem::take(&mut self.ref_warnings) {
            self.ctx.warn(&ptr, msg);
        }
        match obj.get_mut("services") {
            Some(Value::Array(ss)) => {
                for (i, s) in ss.iter_mut().enumerate() {
                    if let Some(id) = self.service(s, &format!("/services/{i}"))? {
                        top.push(id);
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(ss) => {
                let fault = format!("expected an array, found {}", type_name(ss));
                self.ctx
                    .repair("/services", &fault, "services not recorded")?;
            }
        }
        // Formulation (1.5+): what the subject was built with.
        if let Some(Value::Array(fs)) = obj.get_mut("formulation") {
            for (i, f) in fs.iter_mut().enumerate() {
                if let Some(Value::Array(cs)) = f.get_mut("components") {
                    for (j, c) in cs.iter_mut().enumerate() {
                        let id = self.component(c, &format!("/formulation/{i}/components/{j}"))?;
                        if let (Some(s), Some(id)) = (subject, id) {
                            self.ctx.edge_at(s, EdgeKind::BuiltFrom, id)?;
                        }
                    }
                }
            }
        }

        // The document's own attributes.
        let mut doc_attrs = Map::new();
        doc_attrs.insert("format".into(), Value::from("CycloneDX"));
        take_attrs(
            obj,
            &["specVersion", "serialNumber", "version"],
            &mut doc_attrs,
        );
        for (k, v) in metadata {
            doc_attrs.insert(format!("metadata.{k}"), v);
        }
        if let Some(Value::Array(vulns)) = obj.get("vulnerabilities") {
            let ids: Vec<Value> = vulns.iter().filter_map(|v| v.get("id").cloned()).collect();
            doc_attrs.insert("vulnerabilities".into(), Value::Array(ids));
        }

        // Dependencies.
        let has_graph = match deps {
            Some(deps) => {
                self.ctx
                    .check_count("/dependencies", "dependency entries", deps.len())?;
                let has = !deps.is_empty();
                for d in deps {
                    self.dependency(d)?;
                }
                has
            }
            None => match obj.get_mut("dependencies") {
                None | Some(Value::Null) => false,
                Some(Value::Array(deps)) => {
                    self.ctx
                        .check_count("/dependencies", "dependency entries", deps.len())?;
                    for (i, d) in deps.iter_mut().enumerate() {
                        let d = dep_of(d, i);
                        self.dependency(d)?;
                    }
                    !deps.is_empty()
                }
                // A graph was stated but cannot be read: no edge is made up for it.
                Some(other) => {
                    let fault = format!("expected an array, found {}", type_name(other));
                    self.ctx
                        .repair("/dependencies", &fault, "no dependency edges recorded")?;
                    true
                }
            },
        };

        // Model → dataset.
        for (model, r, ptr) in std::mem::take(&mut self.trained_on) {
            if let Some(ds) = self.resolve(&r, || ptr.clone())? {
                self.ctx.edge_at(model, EdgeKind::TrainedOn, ds)?;
            }
        }

        // The document describes its subject. Without a dependency graph, the subject
        // depends on every top-level component (or, with no subject, the document
        // describes them).
        if let Some(s) = subject {
            self.ctx.edge_at(doc, EdgeKind::Describes, s)?;
        }
        if !has_graph {
            for &id in &top {
                match subject {
                    Some(s) => self.ctx.edge_at(s, EdgeKind::DependsOn, id)?,
                    None => self.ctx.edge_at(doc, EdgeKind::Describes, id)?,
                }
            }
        }
        if let Some(s) = subject {
            let name = self.ctx.id_at(s).to_owned();
            let d = self.ctx.doc_mut();
            d.name = Some(format!("CycloneDX BOM of {name}"));
        }
        let d = self.ctx.doc_mut();
        d.attrs.extend(doc_attrs);
        Ok(())
    }

    /// Resolves a ref to an artifact index; `None` (with a warning) when it names
    /// something that is not an artifact or another BOM. `ptr` says where the ref is
    /// (made only when a message needs it).
    fn resolve(&mut self, r: &str, ptr: impl Fn() -> String) -> Result<Option<usize>, Error> {
        match self.refs.get(r) {
            Some((Target::Artifact(i), ..)) => Ok(Some(*i)),
            Some(&(Target::Other, a, b)) => {
                let at = self.at_of(a, b);
                let msg = format!(
                    "ref {r:?} names {at}, which is not a component or service; no edge recorded"
                );
                self.ctx.warn(&ptr(), msg);
                Ok(None)
            }
            Some((Target::Dropped, ..)) => {
                self.ctx.warn(
                    &ptr(),
                    format!(
                        "ref {r:?} names a component or service that was dropped; no edge recorded"
                    ),
                );
                Ok(None)
            }
            None if r.starts_with("urn:cdx:") => {
                self.ctx.warn(
                    &ptr(),
                    format!("BOM-Link {r:?} names another BOM; no edge recorded"),
                );
                Ok(None)
            }
            None => {
                let fault = format!("ref {r:?} does not name any bom-ref");
                self.ctx.repair(&ptr(), &fault, "no edge recorded")?;
                Ok(None)
            }
        }
    }

    fn dependency(&mut self, d: Dep) -> Result<(), Error> {
        let Dep {
            index,
            from,
            targets,
            faults,
        } = d;
        for (ptr, fault, repair) in faults {
            self.ctx.repair(&ptr, &fault, repair)?;
        }
        let Some(from) = from else {
            return Ok(());
        };
        let from_id = self.resolve(&from, || format!("/dependencies/{index}/ref"))?;
        for (key, i, r) in targets {
            let to = self.resolve(&r, || format!("/dependencies/{index}/{key}/{i}"))?;
            if let (Some(f), Some(to)) = (from_id, to) {
                let key = (f, r);
                let kind = self
                    .edge_kinds
                    .get(&key)
                    .copied()
                    .unwrap_or(EdgeKind::DependsOn);
                match (kind, self.edge_paths.remove(&key)) {
                    (EdgeKind::Contains, Some(paths)) => {
                        self.ctx.edge_with_paths_at(f, kind, to, paths)?;
                    }
                    _ => self.ctx.edge_at(f, kind, to)?,
                }
            }
        }
        Ok(())
    }

    /// Maps one component; returns its artifact index, or `None` when it was dropped
    /// (a repair: see docs/formats.md, "Repairs"). Its nested components are mapped
    /// either way.
    fn component(&mut self, c: &mut Value, ptr: &str) -> Result<Option<usize>, Error> {
        self.components += 1;
        self.ctx.check_count(ptr, "components", self.components)?;
        let Some(obj) = c.as_object_mut() else {
            let fault = format!("expected a component object, found {}", type_name(c));
            self.ctx.repair(ptr, &fault, "component dropped")?;
            return Ok(None);
        };
        let ty = match obj.get("type") {
            Some(Value::String(t)) => Some(t.clone()),
            Some(other) => {
                let fault = format!("expected a string, found {}", type_name(other));
                self.ctx
                    .repair(&at(ptr, "type"), &fault, "recorded as a package")?;
                None
            }
            None => {
                self.ctx
                    .repair(ptr, "missing required \"type\"", "recorded as a package")?;
                None
            }
        };
        let kind = match ty.as_deref() {
            Some("machine-learning-model") => ArtifactKind::Model,
            Some("data") => ArtifactKind::Dataset,
            Some("file") => ArtifactKind::File,
            Some(
                "application"
                | "framework"
                | "library"
                | "container"
                | "platform"
                | "operating-system"
                | "device"
                | "device-driver"
                | "firmware"
                | "cryptographic-asset",
            )
            | None => ArtifactKind::Package,
            Some(other) => {
                let fault = format!("unknown component type {other:?}");
                self.ctx
                    .repair(&at(ptr, "type"), &fault, "recorded as a package")?;
                ArtifactKind::Package
            }
        };
        // An ailedger export says which ledger kind a component had.
        let (kind, ledger_aliases, ledger_edges, ledger_paths) = ledger_identity(obj, kind);
        let name = self
            .opt_str(obj, ptr, "name")?
            .filter(|n| !n.trim().is_empty());
        let group = self.opt_str(obj, ptr, "group")?.filter(|g| !g.is_empty());
        let version = self.opt_str(obj, ptr, "version")?.filter(|v| !v.is_empty());

        let mut attrs = Map::new();
        if let Some(ty) = ty {
            attrs.insert("type".into(), Value::from(ty));
        }
        let (hash_map, sha256) = self.hashes(obj, ptr)?;
        if !hash_map.is_empty() {
            attrs.insert("hashes".into(), Value::Object(hash_map));
        }
        let purl = match obj.get("purl") {
            Some(Value::String(p)) => match p.parse::<Purl>() {
                Ok(p) => Some(p),
                Err(e) => {
                    self.ctx.warn(
                        &at(ptr, "purl"),
                        format!("invalid purl kept as an attribute: {e}"),
                    );
                    attrs.insert("purl".into(), Value::from(p.clone()));
                    None
                }
            },
            Some(Value::Null) | None => None,
            Some(other) => {
                let fault = format!("expected a string, found {}", type_name(other));
                self.ctx.repair(&at(ptr, "purl"), &fault, "purl ignored")?;
                None
            }
        };
        let bom_ref = obj
            .get("bom-ref")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // A component without a name is named by its purl, else by its bom-ref.
        let name = match name {
            Some(n) => Some(n),
            None => {
                let fallback = purl
                    .as_ref()
                    .map(|p| ("its purl's name", p.full_name()))
                    .or_else(|| bom_ref.clone().map(|r| ("its bom-ref", r)))
                    .filter(|(_, n)| !n.trim().is_empty());
                let fault = match obj.get("name") {
                    Some(Value::String(_)) => "name is empty",
                    _ => "missing required \"name\"",
                };
                match fallback {
                    Some((by, n)) => {
                        self.ctx
                            .repair(ptr, fault, &format!("named by {by} {n:?}"))?;
                        Some(n)
                    }
                    None => {
                        self.ctx.repair(
                            ptr,
                            fault,
                            "component dropped (it has neither a purl nor a bom-ref to be named by)",
                        )?;
                        None
                    }
                }
            }
        };
        let full_name = name.map(|name| match &group {
            Some(g) => format!("{g}/{name}"),
            None => name,
        });

        // Datasets named by the model card, before it moves into the attributes.
        let mut dataset_refs = Vec::new();
        let mut inline_datasets = Vec::new();
        if let Some(Value::Array(ds)) = obj
            .get_mut("modelCard")
            .and_then(|m| m.get_mut("modelParameters"))
            .and_then(|m| m.get_mut("datasets"))
        {
            for (i, d) in ds.iter().enumerate() {
                let dp = format!("{ptr}/modelCard/modelParameters/datasets/{i}");
                match d.get("ref").and_then(Value::as_str) {
                    Some(r) => dataset_refs.push((r.to_owned(), at(&dp, "ref"))),
                    None => inline_datasets.push((d.clone(), dp)),
                }
            }
        }

        take_attrs(obj, COMPONENT_ATTRS, &mut attrs);
        let identity = match full_name {
            Some(full_name) => self
                .identity(kind, &full_name, version.as_deref(), purl, sha256, ptr)?
                .map(|ids| (ids, full_name)),
            None => None,
        };
        let id = match identity {
            Some(((id, aliases), full_name)) => {
                let mut f = fact(id, kind, Some(full_name), version);
                f.aliases = aliases;
                f.aliases.extend(ledger_aliases);
                f.attrs = attrs;
                let id = self.ctx.add_at(f)?;
                if let Some(r) = &bom_ref {
                    self.set_target(r, Target::Artifact(id));
                }
                for (k, to) in ledger_edges {
                    self.edge_kinds.insert((id, to), k);
                }
                for (to, paths) in ledger_paths {
                    self.edge_paths.insert((id, to), paths);
                }
                for (r, p) in dataset_refs {
                    self.trained_on.push((id, r, p));
                }
                for (d, dp) in inline_datasets {
                    if let Some(ds) = self.inline_dataset(d, &dp)? {
                        self.ctx.edge_at(id, EdgeKind::TrainedOn, ds)?;
                    }
                }
                Some(id)
            }
            None => {
                if let Some(r) = &bom_ref {
                    self.set_target(r, Target::Dropped);
                }
                None
            }
        };

        // Nested components are contained in this one.
        match obj.get_mut("components") {
            Some(Value::Array(cs)) => {
                for (i, child) in cs.iter_mut().enumerate() {
                    let cid = self.component(child, &format!("{ptr}/components/{i}"))?;
                    if let (Some(id), Some(cid)) = (id, cid) {
                        self.ctx.edge_at(id, EdgeKind::Contains, cid)?;
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(cs) => {
                let fault = format!("expected an array, found {}", type_name(cs));
                self.ctx.repair(
                    &at(ptr, "components"),
                    &fault,
                    "nested components not recorded",
                )?;
            }
        }
        // Pedigree: this component derives from its ancestors and variants; its
        // descendants derive from it.
        if let Some(p) = obj.get_mut("pedigree").and_then(Value::as_object_mut) {
            for key in ["ancestors", "variants", "descendants"] {
                if let Some(Value::Array(cs)) = p.get_mut(key) {
                    for (i, child) in cs.iter_mut().enumerate() {
                        let cid = self.component(child, &format!("{ptr}/pedigree/{key}/{i}"))?;
                        let (Some(id), Some(cid)) = (id, cid) else {
                            continue;
                        };
                        if key == "descendants" {
                            self.ctx.edge_at(cid, EdgeKind::DerivedFrom, id)?;
                        } else {
                            self.ctx.edge_at(id, EdgeKind::DerivedFrom, cid)?;
                        }
                    }
                }
            }
        }
        Ok(id)
    }

    /// An optional string member; one of another type is ignored (a repair).
    fn opt_str(
        &mut self,
        obj: &Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Result<Option<String>, Error> {
        match obj.get(key) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) => Ok(None),
            Some(other) => {
                let fault = format!("expected a string, found {}", type_name(other));
                self.ctx
                    .repair(&at(ptr, key), &fault, &format!("{key} ignored"))?;
                Ok(None)
            }
        }
    }

    /// The pointer recorded at `a..b` of `at`.
    fn at_of(&self, a: u32, b: u32) -> &str {
        self.at.get(a as usize..b as usize).unwrap_or("?")
    }

    fn set_target(&mut self, r: &str, t: Target) {
        if let Some(entry) = self.refs.get_mut(r) {
            entry.0 = t;
        }
    }

    /// A dataset described inline in a model card (no bom-ref).
    fn inline_dataset(&mut self, d: Value, ptr: &str) -> Result<Option<usize>, Error> {
        let Value::Object(mut obj) = d else {
            let fault = format!("expected a dataset object, found {}", type_name(&d));
            self.ctx.repair(ptr, &fault, "dataset dropped")?;
            return Ok(None);
        };
        let Some(name) = obj.get("name").and_then(Value::as_str).map(str::to_owned) else {
            self.ctx
                .warn(ptr, "inline dataset without a name or ref; not recorded");
            return Ok(None);
        };
        let id = match named_ref(ArtifactKind::Dataset, &name, None) {
            Ok(id) => id,
            Err(e) => {
                self.ctx.repair(&at(ptr, "name"), &e, "dataset dropped")?;
                return Ok(None);
            }
        };
        let mut f = fact(id, ArtifactKind::Dataset, Some(name), None);
        take_attrs(
            &mut obj,
            &[
                "type",
                "contents",
                "classification",
                "sensitiveData",
                "governance",
                "description",
            ],
            &mut f.attrs,
        );
        Ok(Some(self.ctx.add_at(f)?))
    }

    /// Maps one service; returns its artifact index, or `None` when it was dropped (a
    /// repair). Its nested services are mapped either way.
    fn service(&mut self, s: &mut Value, ptr: &str) -> Result<Option<usize>, Error> {
        self.components += 1;
        self.ctx
            .check_count(ptr, "components and services", self.components)?;
        let Some(obj) = s.as_object_mut() else {
            let fault = format!("expected a service object, found {}", type_name(s));
            self.ctx.repair(ptr, &fault, "service dropped")?;
            return Ok(None);
        };
        let name = self
            .opt_str(obj, ptr, "name")?
            .filter(|n| !n.trim().is_empty());
        let group = self.opt_str(obj, ptr, "group")?.filter(|g| !g.is_empty());
        let version = self.opt_str(obj, ptr, "version")?.filter(|v| !v.is_empty());
        let bom_ref = obj
            .get("bom-ref")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // A service without a name is named by its bom-ref.
        let name = match name {
            Some(n) => Some(n),
            None => {
                let fault = match obj.get("name") {
                    Some(Value::String(_)) => "name is empty",
                    _ => "missing required \"name\"",
                };
                match bom_ref.clone().filter(|r| !r.trim().is_empty()) {
                    Some(r) => {
                        self.ctx
                            .repair(ptr, fault, &format!("named by its bom-ref {r:?}"))?;
                        Some(r)
                    }
                    None => {
                        self.ctx.repair(
                            ptr,
                            fault,
                            "service dropped (it has no bom-ref to be named by)",
                        )?;
                        None
                    }
                }
            }
        };
        let (kind, ledger_aliases, ledger_edges, ledger_paths) =
            ledger_identity(obj, ArtifactKind::Deployment);
        let mut id = None;
        if let Some(name) = name {
            let full_name = match &group {
                Some(g) => format!("{g}/{name}"),
                None => name,
            };
            match named_ref(kind, &full_name, version.as_deref()) {
                Ok(r) => {
                    let mut f = fact(r, kind, Some(full_name), version);
                    f.aliases = ledger_aliases;
                    f.attrs.insert("type".into(), Value::from("service"));
                    take_attrs(obj, SERVICE_ATTRS, &mut f.attrs);
                    let i = self.ctx.add_at(f)?;
                    for (k, to) in ledger_edges {
                        self.edge_kinds.insert((i, to), k);
                    }
                    for (to, paths) in ledger_paths {
                        self.edge_paths.insert((i, to), paths);
                    }
                    id = Some(i);
                }
                Err(e) => self.ctx.repair(&at(ptr, "name"), &e, "service dropped")?,
            }
        }
        if let Some(r) = &bom_ref {
            self.set_target(r, id.map_or(Target::Dropped, Target::Artifact));
        }
        if let Some(Value::Array(ss)) = obj.get_mut("services") {
            for (i, child) in ss.iter_mut().enumerate() {
                let cid = self.service(child, &format!("{ptr}/services/{i}"))?;
                if let (Some(id), Some(cid)) = (id, cid) {
                    self.ctx.edge_at(id, EdgeKind::Contains, cid)?;
                }
            }
        }
        Ok(id)
    }

    /// Reads `hashes`; returns `{alg: hex}` and the SHA-256 digest if any. A hash that
    /// is malformed, of an unknown algorithm, not hex or of the wrong length for its
    /// algorithm is dropped (a repair).
    fn hashes(
        &mut self,
        obj: &Map<String, Value>,
        ptr: &str,
    ) -> Result<(Map<String, Value>, Option<Sha256Digest>), Error> {
        let mut out = Map::new();
        let mut sha = None;
        let hs = match obj.get("hashes") {
            None | Some(Value::Null) => return Ok((out, sha)),
            Some(Value::Array(hs)) => hs,
            Some(hs) => {
                let fault = format!("expected an array, found {}", type_name(hs));
                self.ctx
                    .repair(&at(ptr, "hashes"), &fault, "hashes not recorded")?;
                return Ok((out, sha));
            }
        };
        for (i, h) in hs.iter().enumerate() {
            let hp = format!("{ptr}/hashes/{i}");
            let (Some(alg), Some(content)) = (
                h.get("alg").and_then(Value::as_str),
                h.get("content").and_then(Value::as_str),
            ) else {
                self.ctx
                    .repair(&hp, "expected {\"alg\": …, \"content\": …}", "hash dropped")?;
                continue;
            };
            let (name, hex) = match hashes::check(alg, content) {
                Ok(checked) => checked,
                Err(e) => {
                    self.ctx.repair(&hp, &e, "hash dropped")?;
                    continue;
                }
            };
            if name == "SHA-256" {
                sha = Sha256Digest::from_hex(&hex).ok();
            }
            out.insert(name.to_owned(), Value::from(hex));
        }
        Ok((out, sha))
    }

    /// The identity rules: purl (packages only), else SHA-256, else a named ref.
    /// Returns the id and the other refs that identify the artifact; `None` when the
    /// name cannot form a ref and nothing else identifies it (the component is dropped,
    /// a repair).
    fn identity(
        &mut self,
        kind: ArtifactKind,
        full_name: &str,
        version: Option<&str>,
        purl: Option<Purl>,
        sha256: Option<Sha256Digest>,
        ptr: &str,
    ) -> Result<Option<(String, Vec<String>)>, Error> {
        let mut aliases = Vec::new();
        let id = match (kind, purl, sha256) {
            (ArtifactKind::Package, Some(p), sha) => {
                if let Some(d) = sha {
                    aliases.push(d.to_string());
                }
                p.to_string()
            }
            // A purl names a package; a model, dataset or file with a purl keeps its
            // kind and the purl becomes an alias.
            (_, p, Some(d)) => {
                if let Some(p) = p {
                    aliases.push(p.to_string());
                }
                d.to_string()
            }
            (_, p, None) => {
                if let Some(p) = p {
                    aliases.push(p.to_string());
                }
                match named_ref(kind, full_name, version) {
                    Ok(id) => id,
                    Err(e) => {
                        self.ctx.repair(&at(ptr, "name"), &e, "component dropped")?;
                        return Ok(None);
                    }
                }
            }
        };
        Ok(Some((id, aliases)))
    }
}

/// What an ailedger export recorded of a component in `ailedger:` properties (see
/// docs/export.md), so that an export reads back as the artifacts and edges it was made
/// from: the ledger kind (`ailedger:kind`), aliases (`ailedger:alias`) and the kinds of
/// the edges its `dependsOn` flattens (`ailedger:edge`, `"<kind> <bom-ref>"`), and where
/// a contained artifact sits (`ailedger:edge.paths`, `{"to": <bom-ref>, "paths": […]}`,
/// read for `contains` edges). Without
/// them (any other writer): `kind`, no aliases, every `dependsOn` a `depends-on`. A kind
/// that is not a ledger kind or is `attestation` (never exported as a component), an
/// alias that is not a canonical ref, and an edge kind other than those the export
/// flattens, are ignored.
#[allow(clippy::type_complexity)]
fn ledger_identity(
    obj: &Map<String, Value>,
    kind: ArtifactKind,
) -> (
    ArtifactKind,
    Vec<String>,
    Vec<(EdgeKind, String)>,
    Vec<(String, Vec<String>)>,
) {
    let Some(Value::Array(props)) = obj.get("properties") else {
        return (kind, Vec::new(), Vec::new(), Vec::new());
    };
    let mut out = kind;
    let mut aliases = Vec::new();
    let mut edges = Vec::new();
    let mut paths = Vec::new();
    for p in props {
        let (Some(name), Some(value)) = (
            p.get("name").and_then(Value::as_str),
            p.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        match name {
            "ailedger:kind" => {
                if let Ok(k) = value.parse::<ArtifactKind>()
                    && !matches!(k, ArtifactKind::Attestation)
                {
                    out = k;
                }
            }
            "ailedger:alias" => {
                if let Ok(r) = value.parse::<ailedger_core::Ref>()
                    && r.to_string() == value
                {
                    aliases.push(value.to_owned());
                }
            }
            "ailedger:edge" => {
                if let Some((k, to)) = value.split_once(' ')
                    && let Ok(k) = k.parse::<EdgeKind>()
                    && matches!(
                        k,
                        EdgeKind::Contains
                            | EdgeKind::Runs
                            | EdgeKind::UsesTool
                            | EdgeKind::Deploys
                            | EdgeKind::BuiltFrom
                            | EdgeKind::BuiltBy
                            | EdgeKind::TrainedOn
                    )
                {
                    edges.push((k, to.to_owned()));
                }
            }
            "ailedger:edge.paths" => {
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(value)
                    && let Some(Value::String(to)) = m.get("to")
                    && let Some(Value::Array(ps)) = m.get("paths")
                {
                    let ps: Vec<String> = ps
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if !ps.is_empty() {
                        paths.push((to.clone(), ps));
                    }
                }
            }
            _ => {}
        }
    }
    (out, aliases, edges, paths)
}

/// Whether `ptr` is the bom-ref of a vulnerability (`/vulnerabilities/<i>/bom-ref`).
fn is_vulnerability_ref(ptr: &str) -> bool {
    ptr.strip_prefix("/vulnerabilities/")
        .and_then(|rest| rest.strip_suffix("/bom-ref"))
        .is_some_and(|i| !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit()))
}

/// Whether `ptr` is the bom-ref of a formulation object other than a component or
/// service (a formula, workflow, task, step, workspace, trigger…).
fn is_formulation_object_ref(ptr: &str) -> bool {
    ptr.starts_with("/formulation/") && !ptr.contains("/components/") && !ptr.contains("/services/")
}

/// The warning for a vulnerability whose bom-ref `r` is also the one at `other`.
fn shared_ref(r: &str, other: &str) -> String {
    format!(
        "the vulnerability's bom-ref {r:?} is also the bom-ref at {other}, which keeps it; \
         refs to {r:?} name that"
    )
}

/// Reads one `dependencies` entry. Its faults are kept in the entry, to be reported
/// when it is mapped: an entry that is not an object or has no usable `ref` is dropped,
/// a list that is not an array is ignored, an element that is not a ref is dropped.
fn dep_of(d: &Value, index: usize) -> Dep {
    let ptr = || format!("/dependencies/{index}");
    let mut dep = Dep {
        index,
        from: None,
        targets: Vec::new(),
        faults: Vec::new(),
    };
    let Some(obj) = d.as_object() else {
        let fault = format!("expected a dependency object, found {}", type_name(d));
        dep.faults.push((ptr(), fault, "entry dropped"));
        return dep;
    };
    let fault = match obj.get("ref") {
        Some(Value::String(r)) if !r.is_empty() => {
            dep.from = Some(r.clone());
            None
        }
        Some(Value::String(_)) => Some((at(&ptr(), "ref"), "ref is empty".to_owned())),
        Some(other) => Some((
            at(&ptr(), "ref"),
            format!("expected a string, found {}", type_name(other)),
        )),
        None => Some((ptr(), "missing required \"ref\"".to_owned())),
    };
    if let Some((p, f)) = fault {
        dep.faults.push((p, f, "entry dropped"));
        return dep;
    }
    // `provides` (1.6): the component implements the provided asset (e.g. a
    // cryptographic algorithm); if that asset is broken, the provider is affected, so
    // it is recorded as provider depends-on provided.
    for key in ["dependsOn", "provides"] {
        let list = match obj.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(list)) => list,
            Some(other) => {
                let fault = format!("expected an array, found {}", type_name(other));
                dep.faults.push((at(&ptr(), key), fault, "list ignored"));
                continue;
            }
        };
        dep.targets.reserve(list.len());
        for (i, t) in list.iter().enumerate() {
            let tp = || format!("/dependencies/{index}/{key}/{i}");
            // 1.2–1.4 JSON: strings; some writers emit {"ref": …} objects.
            let r = match t {
                Value::String(s) => s,
                Value::Object(o) => match o.get("ref") {
                    Some(Value::String(s)) => s,
                    _ => {
                        let fault = "expected a bom-ref string".to_owned();
                        dep.faults.push((tp(), fault, "no edge recorded"));
                        continue;
                    }
                },
                other => {
                    let fault = format!("expected a bom-ref string, found {}", type_name(other));
                    dep.faults.push((tp(), fault, "no edge recorded"));
                    continue;
                }
            };
            if r.is_empty() {
                dep.faults
                    .push((tp(), "ref is empty".to_owned(), "no edge recorded"));
                continue;
            }
            dep.targets.push((key, i, r.clone()));
        }
    }
    dep
}
