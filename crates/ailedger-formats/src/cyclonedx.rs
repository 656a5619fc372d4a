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
    if let Some(cs) = obj.get_mut("components") {
        let Value::Array(cs) = cs else {
            return Err(cdx.ctx.err(
                "/components",
                format!("expected an array, found {}", type_name(cs)),
            ));
        };
        for (i, c) in cs.iter_mut().enumerate() {
            head.top
                .push(cdx.component(c, &format!("/components/{i}"))?);
            // What was not moved into attributes is no longer needed: free it now
            // so the facts built next reuse the memory (peak RSS on large BOMs).
            *c = Value::Null;
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
    from: String,
    /// (`dependsOn` or `provides`, index in that list, ref).
    targets: Vec<(&'static str, usize, String)>,
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
        if let Some(meta) = obj.get_mut("metadata") {
            let Some(meta) = meta.as_object_mut() else {
                return Err(self.ctx.err("/metadata", "expected an object"));
            };
            if let Some(c) = meta.get_mut("component") {
                head.subject = Some(self.component(c, "/metadata/component")?);
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
        if let Some(ss) = obj.get_mut("services") {
            let Value::Array(ss) = ss else {
                return Err(self.ctx.err(
                    "/services",
                    format!("expected an array, found {}", type_name(ss)),
                ));
            };
            for (i, s) in ss.iter_mut().enumerate() {
                top.push(self.service(s, &format!("/services/{i}"))?);
            }
        }
        // Formulation (1.5+): what the subject was built with.
        if let Some(Value::Array(fs)) = obj.get_mut("formulation") {
            for (i, f) in fs.iter_mut().enumerate() {
                if let Some(Value::Array(cs)) = f.get_mut("components") {
                    for (j, c) in cs.iter_mut().enumerate() {
                        let id = self.component(c, &format!("/formulation/{i}/components/{j}"))?;
                        if let Some(s) = subject {
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
                        let d = dep_of(self.ctx, d, i)?;
                        self.dependency(d)?;
                    }
                    !deps.is_empty()
                }
                Some(other) => {
                    return Err(self.ctx.err(
                        "/dependencies",
                        format!("expected an array, found {}", type_name(other)),
                    ));
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
            None if r.starts_with("urn:cdx:") => {
                self.ctx.warn(
                    &ptr(),
                    format!("BOM-Link {r:?} names another BOM; no edge recorded"),
                );
                Ok(None)
            }
            None => Err(self
                .ctx
                .err(&ptr(), format!("ref {r:?} does not name any bom-ref"))),
        }
    }

    fn dependency(&mut self, d: Dep) -> Result<(), Error> {
        let Dep {
            index,
            from,
            targets,
        } = d;
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

    /// Maps one component; returns its artifact index.
    fn component(&mut self, c: &mut Value, ptr: &str) -> Result<usize, Error> {
        self.components += 1;
        self.ctx.check_count(ptr, "components", self.components)?;
        let Some(obj) = c.as_object_mut() else {
            return Err(self.ctx.err(
                ptr,
                format!("expected a component object, found {}", type_name(c)),
            ));
        };
        let ty = req_str(self.ctx, obj, ptr, "type")?.to_owned();
        let kind = match ty.as_str() {
            "machine-learning-model" => ArtifactKind::Model,
            "data" => ArtifactKind::Dataset,
            "file" => ArtifactKind::File,
            "application"
            | "framework"
            | "library"
            | "container"
            | "platform"
            | "operating-system"
            | "device"
            | "device-driver"
            | "firmware"
            | "cryptographic-asset" => ArtifactKind::Package,
            other => {
                return Err(self.ctx.err(
                    &at(ptr, "type"),
                    format!("unknown component type {other:?}"),
                ));
            }
        };
        // An ailedger export says which ledger kind a component had.
        let (kind, ledger_aliases, ledger_edges, ledger_paths) = ledger_identity(obj, kind);
        let name = req_str(self.ctx, obj, ptr, "name")?.to_owned();
        let group = opt_str(self.ctx, obj, ptr, "group")?
            .filter(|g| !g.is_empty())
            .map(str::to_owned);
        let version = opt_str(self.ctx, obj, ptr, "version")?
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let full_name = match &group {
            Some(g) => format!("{g}/{name}"),
            None => name.clone(),
        };

        let mut attrs = Map::new();
        attrs.insert("type".into(), Value::from(ty));
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
                return Err(self.ctx.err(
                    &at(ptr, "purl"),
                    format!("expected a string, found {}", type_name(other)),
                ));
            }
        };

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

        let bom_ref = obj
            .get("bom-ref")
            .and_then(Value::as_str)
            .map(str::to_owned);
        take_attrs(obj, COMPONENT_ATTRS, &mut attrs);
        let (id, aliases) =
            self.identity(kind, &full_name, version.as_deref(), purl, sha256, ptr)?;
        let mut f = fact(id, kind, Some(full_name), version);
        f.aliases = aliases;
        f.aliases.extend(ledger_aliases);
        f.attrs = attrs;
        let id = self.ctx.add_at(f)?;
        if let Some(r) = bom_ref {
            self.set_target(&r, id);
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

        // Nested components are contained in this one.
        if let Some(cs) = obj.get_mut("components") {
            let Value::Array(cs) = cs else {
                return Err(self.ctx.err(
                    &at(ptr, "components"),
                    format!("expected an array, found {}", type_name(cs)),
                ));
            };
            for (i, child) in cs.iter_mut().enumerate() {
                let cid = self.component(child, &format!("{ptr}/components/{i}"))?;
                self.ctx.edge_at(id, EdgeKind::Contains, cid)?;
            }
        }
        // Pedigree: this component derives from its ancestors and variants; its
        // descendants derive from it.
        if let Some(p) = obj.get_mut("pedigree").and_then(Value::as_object_mut) {
            for key in ["ancestors", "variants", "descendants"] {
                if let Some(Value::Array(cs)) = p.get_mut(key) {
                    for (i, child) in cs.iter_mut().enumerate() {
                        let cid = self.component(child, &format!("{ptr}/pedigree/{key}/{i}"))?;
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

    /// The pointer recorded at `a..b` of `at`.
    fn at_of(&self, a: u32, b: u32) -> &str {
        self.at.get(a as usize..b as usize).unwrap_or("?")
    }

    fn set_target(&mut self, r: &str, id: usize) {
        if let Some(entry) = self.refs.get_mut(r) {
            entry.0 = Target::Artifact(id);
        }
    }

    /// A dataset described inline in a model card (no bom-ref).
    fn inline_dataset(&mut self, d: Value, ptr: &str) -> Result<Option<usize>, Error> {
        let Value::Object(mut obj) = d else {
            return Err(self.ctx.err(
                ptr,
                format!("expected a dataset object, found {}", type_name(&d)),
            ));
        };
        let Some(name) = obj.get("name").and_then(Value::as_str).map(str::to_owned) else {
            self.ctx
                .warn(ptr, "inline dataset without a name or ref; not recorded");
            return Ok(None);
        };
        let id = named_ref(ArtifactKind::Dataset, &name, None)
            .map_err(|e| self.ctx.err(&at(ptr, "name"), e))?;
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

    /// Maps one service; returns its artifact index.
    fn service(&mut self, s: &mut Value, ptr: &str) -> Result<usize, Error> {
        self.components += 1;
        self.ctx
            .check_count(ptr, "components and services", self.components)?;
        let Some(obj) = s.as_object_mut() else {
            return Err(self.ctx.err(
                ptr,
                format!("expected a service object, found {}", type_name(s)),
            ));
        };
        let name = req_str(self.ctx, obj, ptr, "name")?.to_owned();
        let group = opt_str(self.ctx, obj, ptr, "group")?
            .filter(|g| !g.is_empty())
            .map(str::to_owned);
        let version = opt_str(self.ctx, obj, ptr, "version")?
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let full_name = match &group {
            Some(g) => format!("{g}/{name}"),
            None => name,
        };
        let (kind, ledger_aliases, ledger_edges, ledger_paths) =
            ledger_identity(obj, ArtifactKind::Deployment);
        let id = named_ref(kind, &full_name, version.as_deref())
            .map_err(|e| self.ctx.err(&at(ptr, "name"), e))?;
        let mut f = fact(id, kind, Some(full_name), version);
        f.aliases = ledger_aliases;
        f.attrs.insert("type".into(), Value::from("service"));
        let bom_ref = obj
            .get("bom-ref")
            .and_then(Value::as_str)
            .map(str::to_owned);
        take_attrs(obj, SERVICE_ATTRS, &mut f.attrs);
        let id = self.ctx.add_at(f)?;
        if let Some(r) = bom_ref {
            self.set_target(&r, id);
        }
        for (k, to) in ledger_edges {
            self.edge_kinds.insert((id, to), k);
        }
        for (to, paths) in ledger_paths {
            self.edge_paths.insert((id, to), paths);
        }
        if let Some(Value::Array(ss)) = obj.get_mut("services") {
            for (i, child) in ss.iter_mut().enumerate() {
                let cid = self.service(child, &format!("{ptr}/services/{i}"))?;
                self.ctx.edge_at(id, EdgeKind::Contains, cid)?;
            }
        }
        Ok(id)
    }

    /// Validates `hashes`; returns `{alg: hex}` and the SHA-256 digest if any.
    fn hashes(
        &mut self,
        obj: &Map<String, Value>,
        ptr: &str,
    ) -> Result<(Map<String, Value>, Option<Sha256Digest>), Error> {
        let mut out = Map::new();
        let mut sha = None;
        let Some(hs) = obj.get("hashes") else {
            return Ok((out, sha));
        };
        let Value::Array(hs) = hs else {
            return Err(self.ctx.err(
                &at(ptr, "hashes"),
                format!("expected an array, found {}", type_name(hs)),
            ));
        };
        for (i, h) in hs.iter().enumerate() {
            let hp = format!("{ptr}/hashes/{i}");
            let (Some(alg), Some(content)) = (
                h.get("alg").and_then(Value::as_str),
                h.get("content").and_then(Value::as_str),
            ) else {
                return Err(self.ctx.err(&hp, "expected {\"alg\": …, \"content\": …}"));
            };
            let (name, hex) = hashes::check(alg, content).map_err(|e| self.ctx.err(&hp, e))?;
            if name == "SHA-256" {
                sha = Sha256Digest::from_hex(&hex).ok();
            }
            out.insert(name.to_owned(), Value::from(hex));
        }
        Ok((out, sha))
    }

    /// The identity rules: purl (packages only), else SHA-256, else a named ref.
    /// Returns the id and the other refs that identify the artifact.
    fn identity(
        &mut self,
        kind: ArtifactKind,
        full_name: &str,
        version: Option<&str>,
        purl: Option<Purl>,
        sha256: Option<Sha256Digest>,
        ptr: &str,
    ) -> Result<(String, Vec<String>), Error> {
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
                named_ref(kind, full_name, version)
                    .map_err(|e| self.ctx.err(&at(ptr, "name"), e))?
            }
        };
        Ok((id, aliases))
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

/// Checks one `dependencies` entry's shape.
fn dep_of(ctx: &Ctx<'_>, d: &Value, index: usize) -> Result<Dep, Error> {
    let ptr = || format!("/dependencies/{index}");
    let Some(obj) = d.as_object() else {
        return Err(ctx.err(
            &ptr(),
            format!("expected a dependency object, found {}", type_name(d)),
        ));
    };
    let from = match obj.get("ref") {
        Some(Value::String(r)) if !r.is_empty() => r.clone(),
        Some(Value::String(_)) => return Err(ctx.err(&at(&ptr(), "ref"), "ref is empty")),
        Some(other) => {
            return Err(ctx.err(
                &at(&ptr(), "ref"),
                format!("expected a string, found {}", type_name(other)),
            ));
        }
        None => return Err(ctx.err(&ptr(), "missing required \"ref\"")),
    };
    let mut targets = Vec::new();
    // `provides` (1.6): the component implements the provided asset (e.g. a
    // cryptographic algorithm); if that asset is broken, the provider is affected, so
    // it is recorded as provider depends-on provided.
    for key in ["dependsOn", "provides"] {
        let Some(list) = obj.get(key) else { continue };
        let Value::Array(list) = list else {
            return Err(ctx.err(
                &at(&ptr(), key),
                format!("expected an array, found {}", type_name(list)),
            ));
        };
        targets.reserve(list.len());
        for (i, t) in list.iter().enumerate() {
            let tp = || format!("/dependencies/{index}/{key}/{i}");
            // 1.2–1.4 JSON: strings; some writers emit {"ref": …} objects.
            let r = match t {
                Value::String(s) => s,
                Value::Object(o) => match o.get("ref") {
                    Some(Value::String(s)) => s,
                    _ => return Err(ctx.err(&tp(), "expected a bom-ref string")),
                },
                other => {
                    return Err(ctx.err(
                        &tp(),
                        format!("expected a bom-ref string, found {}", type_name(other)),
                    ));
                }
            };
            if r.is_empty() {
                return Err(ctx.err(&tp(), "ref is empty"));
            }
            targets.push((key, i, r.clone()));
        }
    }
    Ok(Dep {
        index,
        from,
        targets,
    })
}

fn req_str<'v>(
    ctx: &Ctx<'_>,
    obj: &'v Map<String, Value>,
    ptr: &str,
    key: &str,
) -> Result<&'v str, Error> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ctx.err(
            &at(ptr, key),
            format!("expected a string, found {}", type_name(other)),
        )),
        None => Err(ctx.err(ptr, format!("missing required {key:?}"))),
    }
}

fn opt_str<'v>(
    ctx: &Ctx<'_>,
    obj: &'v Map<String, Value>,
    ptr: &str,
    key: &str,
) -> Result<Option<&'v str>, Error> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(Some(s)),
        None | Some(Value::Null) => Ok(None),
        Some(other) => Err(ctx.err(
            &at(ptr, key),
            format!("expected a string, found {}", type_name(other)),
        )),
    }
}
