//! CycloneDX JSON read as a stream: each element of `components` and `dependencies` is
//! parsed, checked and mapped on its own and then dropped, so the document is never
//! held as one `serde_json::Value` tree (about fourteen times its size in memory).
//!
//! Two halves meet in [`Event`]s. The [`Reader`] parses the bytes into top-level
//! members and array elements, checks them against the limits (and, when asked, the
//! schema, part by part) and hands them on in document order. The [`Mapper`] turns them
//! into artifacts and edges with the tree reader's own code. They run on one thread
//! ([`parse`]) or, for large documents, on two, the mapper taking batches of events from
//! a bounded queue ([`parse_piped`]), so that parsing and mapping each get a core.
//!
//! The stream vouches only for what it can do exactly as the tree reader in the parent
//! module would: it runs the same code on the same values in the same order. Whenever
//! that cannot be guaranteed — a syntax error, a limit or a refusal anywhere, `metadata`
//! after `components`, a repeated key, `components` or `dependencies` that are not
//! arrays — it gives up and the caller parses the document as a tree, which then
//! reports the precise error. A test runs both readers over every CycloneDX fixture
//! and compares the documents they produce.

use std::{
    collections::{HashMap, HashSet},
    sync::mpsc::{Receiver, SyncSender, sync_channel},
};

use ailedger_core::{ArtifactKind, Sha256Digest};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Cdx, Dep, Head, dep_of};
use crate::{
    Encoding, Format, Options, Warning,
    graph::Ctx,
    json::{self, check_tree_at},
    schema::{self, CdxPart, Deviations},
};

/// Events per batch on the queue between the two threads.
const BATCH: usize = 256;
/// Batches the queue holds before the reader waits (bounds the memory in flight).
const QUEUE: usize = 32;
/// Bytes of the document the reader hashes per batch it sends (the rest at the end), so
/// that the digest costs the mapper's thread nothing.
const HASH_PER_BATCH: usize = 64 * 1024;

/// Parses CycloneDX JSON as a stream on this thread, without a schema check; `None`
/// when the tree reader must do it. The document's digest is left
/// [pending](Ctx::pending): the caller sets it, adds the schema deviations and
/// finishes the document.
pub(crate) fn parse<'o>(json: &[u8], opts: &'o Options) -> Option<(Ctx<'o>, Format)> {
    let mut ctx = Ctx::pending(opts, "CycloneDX JSON".to_owned(), ArtifactKind::Sbom);
    let mut mapper = Mapper::new(&mut ctx, Encoding::Json);
    read(json, opts, false, &mut mapper)?;
    let format = mapper.finish()?;
    ctx.label = format.to_string();
    Some((ctx, format))
}

/// Parses CycloneDX JSON as a stream on two threads: this one maps, and a second one
/// reads, checks the schema part by part and computes the digest of `bytes` (a piece
/// per batch). Returns the document's context, digest set and deviations added;
/// `None` when the tree reader must do it.
pub(crate) fn parse_piped<'o>(
    json: &[u8],
    bytes: &[u8],
    opts: &'o Options,
) -> Option<(Ctx<'o>, Format)> {
    let (mut ctx, format, deviations) = produced(bytes, opts, Encoding::Json, |queue| {
        read(json, opts, true, queue)
    })?;
    ctx.warn_all(deviations);
    Some((ctx, format))
}

/// Maps on this thread the events `produce` sends, on a second thread, into a
/// [`Queue`] (which also hashes `bytes`). `produce` returns `None` when it gave up.
/// Returns the document's context, digest set, and what `produce` returned.
pub(crate) fn produced<'o, T: Send>(
    bytes: &[u8],
    opts: &'o Options,
    encoding: Encoding,
    produce: impl FnOnce(&mut Queue<'_>) -> Option<T> + Send,
) -> Option<(Ctx<'o>, Format, T)> {
    let (tx, rx) = sync_channel(QUEUE);
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut queue = Queue::new(tx, bytes);
            let out = produce(&mut queue);
            out.map(|o| (o, queue.digest()))
        });
        let mapped = map_queue(rx, opts, encoding);
        // The queue's receiver is gone: a producer still sending stops at its next batch.
        let (out, digest) = producer.join().ok()??;
        let (mut ctx, format) = mapped?;
        ctx.set_digest(digest).then_some((ctx, format, out))
    })
}

/// The part-by-part schema check of a CycloneDX JSON document, without mapping it.
/// `None` when the document is not one the stream reads. (Tests hold it to the whole
/// document's check.)
#[cfg(test)]
pub(crate) fn schema_parts(json: &[u8], opts: &Options) -> Option<Vec<Warning>> {
    read(json, opts, true, Discard)
}

/// Maps the events of a [`Queue`] until the reader's `End`; `None` when the mapper or
/// the reader gave up.
fn map_queue<'o>(
    rx: Receiver<Vec<Event>>,
    opts: &'o Options,
    encoding: Encoding,
) -> Option<(Ctx<'o>, Format)> {
    let mut ctx = Ctx::pending(opts, "CycloneDX".to_owned(), ArtifactKind::Sbom);
    let mut mapper = Mapper::new(&mut ctx, encoding);
    for batch in rx {
        for e in batch {
            if !mapper.take(e) {
                return None;
            }
        }
        if mapper.ended {
            break;
        }
    }
    let format = mapper.finish()?;
    ctx.label = format.to_string();
    Some((ctx, format))
}

/// What the reader hands the mapper, in document order.
pub(crate) enum Event {
    /// A top-level member other than `components` and `dependencies`: within the
    /// limits, and not a repeat.
    Member(String, Value),
    /// `components` begins (a `metadata` member, if any, came before it).
    Components,
    /// One element of `components`, within the limits.
    Component(Value),
    /// `dependencies` begins.
    Dependencies,
    /// One element of `dependencies`, within the limits.
    Dependency(Value),
    /// The whole document was read and checked.
    End,
}

/// Where the reader sends its events; `false` stops it (the document is handed back).
pub(crate) trait Sink {
    fn send(&mut self, e: Event) -> bool;
}

/// Drops the events (the schema check alone).
#[cfg(test)]
struct Discard;

#[cfg(test)]
impl Sink for Discard {
    fn send(&mut self, _: Event) -> bool {
        true
    }
}

/// Sends events in batches to the mapper on another thread, and hashes the document
/// a piece per batch.
pub(crate) struct Queue<'b> {
    tx: SyncSender<Vec<Event>>,
    batch: Vec<Event>,
    hasher: Sha256,
    /// What is left to hash.
    rest: &'b [u8],
}

impl<'b> Queue<'b> {
    fn new(tx: SyncSender<Vec<Event>>, bytes: &'b [u8]) -> Self {
        Queue {
            tx,
            batch: Vec::with_capacity(BATCH),
            hasher: Sha256::new(),
            rest: bytes,
        }
    }

    /// Hashes up to `n` more bytes.
    fn hash(&mut self, n: usize) {
        let (piece, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.hasher.update(piece);
        self.rest = rest;
    }

    /// The digest of the whole document.
    fn digest(mut self) -> Sha256Digest {
        self.hash(usize::MAX);
        Sha256Digest(self.hasher.finalize().into())
    }
}

impl Sink for &mut Queue<'_> {
    fn send(&mut self, e: Event) -> bool {
        let end = matches!(e, Event::End);
        self.batch.push(e);
        if end || self.batch.len() >= BATCH {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            if self.tx.send(full).is_err() {
                return false;
            }
            self.hash(HASH_PER_BATCH);
        }
        true
    }
}

impl Sink for &mut Mapper<'_, '_> {
    fn send(&mut self, e: Event) -> bool {
        self.take(e)
    }
}

/// Reads `json` and sends its events to `sink`, checking the schema part by part when
/// `check` is set. Returns the schema deviations (none when not checked); `None` when
/// the stream gave up.
fn read<S: Sink>(json: &[u8], opts: &Options, check: bool, sink: S) -> Option<Vec<Warning>> {
    let mut reader = Reader {
        opts,
        sink,
        keys: HashSet::new(),
        components: false,
        dependencies: false,
        parts: check.then(Parts::default),
        failed: false,
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    (&mut reader).deserialize(&mut de).ok()?;
    de.end().ok()?;
    if reader.failed {
        return None;
    }
    let deviations = match reader.parts.take() {
        Some(p) => p.finish(reader.components, reader.dependencies)?,
        None => Vec::new(),
    };
    reader.sink.send(Event::End).then_some(deviations)
}

struct Reader<'a, S> {
    opts: &'a Options,
    sink: S,
    /// Top-level keys read so far (a repeat hands the document back).
    keys: HashSet<String>,
    /// Whether `components` (`dependencies`) has been read.
    components: bool,
    dependencies: bool,
    parts: Option<Parts>,
    /// Set when the stream hit something only the tree reader may answer.
    failed: bool,
}

/// The part-by-part schema check.
#[derive(Default)]
struct Parts {
    dev: Option<Deviations>,
    /// The top-level members other than the two arrays, as written.
    skeleton: Map<String, Value>,
    /// Digest of each element's canonical JSON → its index (`uniqueItems`).
    seen: HashMap<[u8; 32], usize>,
    /// The canonical JSON of the element at hand (one buffer, reused).
    buf: Vec<u8>,
}

impl Parts {
    /// The skeleton's check, after everything else; `None` for what is not a CycloneDX
    /// document of a version we read.
    fn finish(mut self, components: bool, dependencies: bool) -> Option<Vec<Warning>> {
        if self.skeleton.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
            return None;
        }
        let version = self
            .skeleton
            .get("specVersion")
            .and_then(Value::as_str)?
            .to_owned();
        if !super::VERSIONS.contains(&version.as_str()) {
            return None;
        }
        let format = Format::CycloneDx {
            version: version.clone(),
            encoding: Encoding::Json,
        };
        if components {
            self.skeleton
                .insert("components".into(), Value::Array(vec![]));
        }
        if dependencies {
            self.skeleton
                .insert("dependencies".into(), Value::Array(vec![]));
        }
        if let Some(v) = schema::cdx_part(&version, CdxPart::Bom) {
            let d = self.dev.get_or_insert_with(|| Deviations::new(&format));
            d.check(v, &Value::Object(self.skeleton), "");
        }
        Some(self.dev.map(Deviations::finish).unwrap_or_default())
    }

    /// The check of one array element; `false` when the stream must give up (the spec
    /// version is not known yet).
    fn check(&mut self, part: CdxPart, array: &str, i: usize, v: &Value) -> bool {
        // The spec version must come before the arrays.
        let Some(version) = self.skeleton.get("specVersion").and_then(Value::as_str) else {
            return false;
        };
        let Some(validator) = schema::cdx_part(version, part) else {
            return false;
        };
        let dev = self.dev.get_or_insert_with(|| {
            Deviations::new(&Format::CycloneDx {
                version: version.to_owned(),
                encoding: Encoding::Json,
            })
        });
        // Most elements conform: the pointer is made only for those that do not.
        if !validator.is_valid(v) {
            dev.check(validator, v, &format!("/{array}/{i}"));
        }
        // A component with a bom-ref equals no other: an equal one would repeat its
        // bom-ref, and a document with a repeated bom-ref is refused (by the mapper and
        // the tree reader alike), so its deviations are never reported.
        if matches!(part, CdxPart::Component) && v.get("bom-ref").is_some_and(Value::is_string) {
            return true;
        }
        let canonical = &mut self.buf;
        canonical.clear();
        if ailedger_core::canonical::write_value(v, canonical).is_err() {
            return false;
        }
        // Components and dependencies are numbered apart: their digests cannot clash
        // (a component has a `type`, a dependency does not… but do not rely on it).
        canonical.push(match part {
            CdxPart::Component => b'c',
            _ => b'd',
        });
        let digest = Sha256Digest::of(canonical).0;
        if let Some(first) = self.seen.insert(digest, i) {
            dev.add(
                &format!("/{array}"),
                &format!("items {first} and {i} are equal, but the items must be unique"),
            );
        }
        true
    }
}

impl<S: Sink> Reader<'_, S> {
    /// Checks a value found at `depth` against the limits.
    fn limits_ok(&self, v: &Value, depth: usize) -> bool {
        !matches!(v, Value::Array(_) | Value::Object(_) | Value::String(_))
            || check_tree_at(v, depth, "", &self.opts.limits).is_ok()
    }

    /// Checks one array element and sends it on; `false` when the stream must give up.
    fn element(&mut self, part: CdxPart, i: usize, v: Value) -> bool {
        if !self.limits_ok(&v, 3) {
            return false;
        }
        let (array, event): (_, fn(Value) -> Event) = match part {
            CdxPart::Component => ("components", Event::Component),
            _ => ("dependencies", Event::Dependency),
        };
        if let Some(p) = self.parts.as_mut()
            && !p.check(part, array, i, &v)
        {
            return false;
        }
        self.sink.send(event(v))
    }
}

impl<'de, S: Sink> DeserializeSeed<'de> for &mut Reader<'_, S> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// Stops the stream: the tree reader takes over.
fn give_up<E: de::Error, S>(reader: &mut Reader<'_, S>) -> E {
    reader.failed = true;
    E::custom("streaming reader gives up")
}

impl<'de, S: Sink> Visitor<'de> for &mut Reader<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CycloneDX JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key.len() > self.opts.limits.max_string_len {
                return Err(give_up(self));
            }
            match key.as_str() {
                "components" if !self.components => {
                    self.components = true;
                    if !self.sink.send(Event::Components) {
                        return Err(give_up(self));
                    }
                    map.next_value_seed(Elements(self, CdxPart::Component))?;
                }
                "dependencies" if !self.dependencies => {
                    self.dependencies = true;
                    if !self.sink.send(Event::Dependencies) {
                        return Err(give_up(self));
                    }
                    map.next_value_seed(Elements(self, CdxPart::Dependency))?;
                }
                "components" | "dependencies" => return Err(give_up(self)),
                // After the components, it would change which mention comes first.
                "metadata" if self.components => return Err(give_up(self)),
                _ => {
                    let v: Value = map.next_value()?;
                    if self.keys.contains(&key) || !self.limits_ok(&v, 2) {
                        return Err(give_up(self));
                    }
                    self.keys.insert(key.clone());
                    if let Some(p) = self.parts.as_mut() {
                        p.skeleton.insert(key.clone(), v.clone());
                    }
                    if !self.sink.send(Event::Member(key, v)) {
                        return Err(give_up(self));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The elements of `components` or `dependencies`.
struct Elements<'r, 'a, S>(&'r mut Reader<'a, S>, CdxPart);

impl<'de, S: Sink> DeserializeSeed<'de> for Elements<'_, '_, S> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Elements<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Elements(r, part) = self;
        let mut i = 0usize;
        while let Some(v) = seq.next_element::<Value>()? {
            if !r.element(part, i, v) {
                return Err(give_up(r));
            }
            i += 1;
        }
        Ok(())
    }
}

/// Maps events to artifacts and edges with the tree reader's code.
struct Mapper<'c, 'o> {
    cdx: Cdx<'c, 'o>,
    /// Every top-level member but `components` and `dependencies`.
    root: Map<String, Value>,
    /// Set once `components` begins.
    head: Option<Head>,
    deps: Option<Vec<Dep>>,
    /// Elements of the array at hand mapped so far.
    n: usize,
    /// The pointer of the element at hand (one buffer, reused).
    ptr: String,
    /// The reader's `End` has come.
    ended: bool,
    encoding: Encoding,
}

impl<'c, 'o> Mapper<'c, 'o> {
    fn new(ctx: &'c mut Ctx<'o>, encoding: Encoding) -> Self {
        Mapper {
            encoding,
            cdx: Cdx::new(ctx),
            root: Map::new(),
            head: None,
            deps: None,
            n: 0,
            ptr: String::new(),
            ended: false,
        }
    }

    /// Maps one event; `false` when the stream must give up.
    fn take(&mut self, e: Event) -> bool {
        self.try_take(e).is_some()
    }

    fn try_take(&mut self, e: Event) -> Option<()> {
        match e {
            Event::Member(key, v) => {
                self.ptr.clear();
                json::push(&mut self.ptr, &key);
                self.cdx.collect_refs(&v, &mut self.ptr).ok()?;
                self.root.insert(key, v);
            }
            Event::Components => {
                // `metadata` has been read (or is absent): its component comes first, as
                // in the tree reader.
                let mut meta = Map::new();
                if let Some(m) = self.root.get_mut("metadata") {
                    meta.insert("metadata".into(), m.take());
                }
                let head = self.cdx.head(&mut meta).ok()?;
                if let Some(m) = meta.remove("metadata") {
                    self.root.insert("metadata".into(), m);
                }
                self.head = Some(head);
                self.n = 0;
            }
            Event::Component(mut c) => {
                self.element_ptr("/components/");
                let len = self.ptr.len();
                self.cdx.collect_refs(&c, &mut self.ptr).ok()?;
                self.ptr.truncate(len);
                let id = self.cdx.component(&mut c, &self.ptr).ok()?;
                let head = self.head.as_mut()?;
                if let Some(id) = id {
                    head.top.push(id);
                }
                self.n += 1;
            }
            Event::Dependencies => {
                self.deps = Some(Vec::new());
                self.n = 0;
            }
            Event::Dependency(d) => {
                // A dependency's bom-refs count too (the tree reader collects them all).
                self.element_ptr("/dependencies/");
                self.cdx.collect_refs(&d, &mut self.ptr).ok()?;
                let dep = dep_of(&d, self.n);
                self.deps.as_mut()?.push(dep);
                self.n += 1;
            }
            Event::End => self.ended = true,
        }
        Some(())
    }

    /// Sets the pointer to `array` + the index of the element at hand.
    fn element_ptr(&mut self, array: &str) {
        self.ptr.clear();
        self.ptr.push_str(array);
        self.ptr.push_str(itoa::Buffer::new().format(self.n));
    }

    /// What follows the arrays, once the whole document is read: the checks the tree
    /// reader's format detection makes, the subject (when there were no components),
    /// the services, the dependency graph. Returns the format.
    fn finish(self) -> Option<Format> {
        let Mapper {
            mut cdx,
            mut root,
            head,
            deps,
            ended,
            encoding,
            ..
        } = self;
        if !ended || root.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
            return None;
        }
        let version = root.get("specVersion").and_then(Value::as_str)?.to_owned();
        if !super::VERSIONS.contains(&version.as_str()) {
            return None;
        }
        let head = match head {
            Some(h) => h,
            None => cdx.head(&mut root).ok()?,
        };
        // Without a streamed graph, a `dependencies` member that is no array (an XML
        // root attribute, say) is judged by the tree reader's rule.
        cdx.tail(&mut root, head, deps).ok()?;
        Some(Format::CycloneDx { version, encoding })
    }
}
