//! Crash consistency and replicas (issue 18): the real server killed with SIGKILL at
//! random points under a stream of writes, restarted on the same database, and held to
//! what it acknowledged; two servers on one PostgreSQL database held to one ledger.
//!
//! Writes go over plain HTTP/1.1 from several client threads: registrations (two
//! packages and an edge in one entry), links, deploys, and document ingests of real
//! fixtures (each a unique copy, so every ingest records a new document; the largest
//! is 2 MB, so a kill can land mid-ingest). Every write is recorded with its outcome:
//! acknowledged (a 2xx with its answer), refused (an answered error) or unanswered
//! (the connection died). After each restart the checks are:
//!
//! * every acknowledged write is present: the entry at its seq has the acknowledged
//!   leaf hash (for an ingest, the document's digest, and the document comes back
//!   byte for byte), and what it wrote resolves through the API;
//! * every other write is wholly present or wholly absent: its entry and all its
//!   effects (both registered packages and their edge; the link; the deployment and
//!   all its `deploys` edges; the document's bytes, artifact and edges), or none;
//! * seq is gap-free: the stored leaves are 1..=n and n is the ledger head and tree size;
//! * `ailedger log verify --db …` passes (with `--replay` after every
//!   [`REPLAY_EVERY`]-th restart and the last), with a state file that holds the
//!   checkpoint fetched (by `ailedger log checkpoint`) just before the kill, so the tree
//!   after the restart must extend it; and the checkpoint read before the kill is
//!   checked against the one signed after the restart with a consistency proof here too.
//!
//! The seed of the random choices (kill times, the write mix) is printed; set
//! `AILEDGER_CRASH_SEED` to replay a run's choices (thread timing is not replayed).

use std::{
    collections::BTreeMap,
    io::{Read as _, Write as _},
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use sha2::Digest as _;

use super::{BIN, Db, Server, fixture, serve, token_of};

/// Kills per backend.
const KILLS: usize = 20;
/// `log verify --replay` after every this many restarts (plain `log verify` after the
/// others).
const REPLAY_EVERY: usize = 4;
/// Client threads writing at once.
const WRITERS: usize = 4;

// ------------------------------------------------------------------ random choices

/// SplitMix64: small, seeded, good enough to pick kill times and writes.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

fn seed() -> u64 {
    match std::env::var("AILEDGER_CRASH_SEED") {
        Ok(s) => s.parse().expect("AILEDGER_CRASH_SEED is a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

// ------------------------------------------------------------------ plain HTTP

/// A server's address and the admin token.
#[derive(Debug, Clone)]
struct Api {
    addr: String,
    token: String,
}

impl Api {
    fn of(server: &Server) -> Self {
        Api {
            addr: server.url.strip_prefix("http://").unwrap().to_owned(),
            token: token_of(&server.url).unwrap(),
        }
    }

    /// One request on its own connection: (status, body), or the I/O error that ended
    /// it (the server died, or was never there).
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut s = std::net::TcpStream::connect(&self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n",
            self.addr, self.token
        );
        if let Some((ctype, bytes)) = body {
            head += &format!(
                "Content-Type: {ctype}\r\nContent-Length: {}\r\n",
                bytes.len()
            );
        }
        head += "\r\n";
        s.write_all(head.as_bytes())?;
        if let Some((_, bytes)) = body {
            s.write_all(bytes)?;
        }
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        parse_response(&raw).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("incomplete response ({} bytes)", raw.len()),
            )
        })
    }

    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.call("GET", path, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    #[track_caller]
    fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }

    /// Whether a ref resolves (200) or is unknown (404); anything else fails the test.
    #[track_caller]
    fn known(&self, r: &str) -> bool {
        let path = format!("/v1/resolve?ref={}", enc(r));
        match self.get(&path) {
            (200, _) => true,
            (404, _) => false,
            (s, b) => panic!("GET {path}: {s} {}", String::from_utf8_lossy(&b)),
        }
    }

    #[track_caller]
    fn show(&self, r: &str) -> Value {
        self.json(&format!("/v1/artifacts?ref={}", enc(r)))
    }
}

/// A complete HTTP/1.1 response: its status and (de-chunked) body; `None` when cut off.
fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?.to_ascii_lowercase();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let rest = &raw[end + 4..];
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        let (mut body, mut at) = (Vec::new(), 0);
        loop {
            let line_end = at + rest[at..].windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[at..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            at = line_end + 2;
            if size == 0 {
                return Some((status, body));
            }
            body.extend_from_slice(rest.get(at..at + size)?);
            at += size + 2;
        }
    }
    match header("content-length:") {
        Some(n) => {
            let n: usize = n.parse().ok()?;
            Some((status, rest.get(..n)?.to_vec()))
        }
        None => Some((status, rest.to_vec())),
    }
}

/// Percent-encodes a query value (refs hold `:`, `/` and `@`, which may stay).
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@".contains(&b) {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

// ------------------------------------------------------------------ writes

/// What a write asked for: enough to look for its entry and its effects.
#[derive(Debug, Clone)]
enum Write {
    /// Two packages and `a depends-on b`, one entry.
    Register { a: String, b: String },
    /// `from depends-on to`, both acknowledged earlier.
    Link { from: String, to: String },
    /// `deployment:crash/<name>` consuming `uses`.
    Deploy { name: String, uses: Vec<String> },
    /// A document: its digest and submitted name.
    Ingest { digest: String, name: String },
}

#[derive(Debug, Clone)]
enum Outcome {
    /// A 2xx with its answer: the entry's seq and (not for ingests) its leaf hash.
    Acked { seq: u64, leaf: Option<String> },
    /// An answered error (nothing may be recorded, but it is held to the weaker
    /// all-or-nothing rule).
    Refused(u16),
    /// The connection died before a whole answer came.
    Unanswered,
}

#[derive(Debug, Clone)]
struct Attempt {
    round: usize,
    /// The server's address.
    at: String,
    write: Write,
    outcome: Outcome,
}

impl Attempt {
    /// The text its entry's body must hold (a unique id of what it wrote).
    fn marker(&self) -> Vec<String> {
        match &self.write {
            Write::Register { a, .. } => vec![format!("\"{a}\"")],
            Write::Link { from, to } => {
                vec![format!("\"from\":\"{from}\""), format!("\"to\":\"{to}\"")]
            }
            Write::Deploy { name, .. } => vec![format!("deployment:crash/{name}\"")],
            Write::Ingest { digest, name } => vec![
                format!("\"digest\":\"{digest}\""),
                format!("\"name\":\"{name}\""),
            ],
        }
    }

    fn kind(&self) -> &'static str {
        match self.write {
            Write::Register { .. } => "register",
            Write::Link { .. } => "link",
            Write::Deploy { .. } => "deploy",
            Write::Ingest { .. } => "document",
        }
    }
}

/// The documents ingested: each copy gets a unique serial number (CycloneDX) or
/// namespace (SPDX), so every ingest is a new document; the large one is rare.
struct Fixtures {
    small: Vec<(String, Value)>,
    large: (String, Value),
    /// The share of writes that are ingests, in percent.
    ingest_percent: u64,
}

impl Fixtures {
    fn load(ingest_percent: u64) -> Self {
        let read = |rel: &str| {
            let v: Value = serde_json::from_slice(&std::fs::read(fixture(rel)).unwrap()).unwrap();
            (rel.rsplit('/').next().unwrap().to_owned(), v)
        };
        Fixtures {
            small: [
                "cyclonedx/spec-valid-bom-1.6.json",
                "cyclonedx/examples-laravel-7.12.0-1.4.json",
                "spdx/protobom-curl.spdx.json",
            ]
            .iter()
            .map(|r| read(r))
            .collect(),
            large: read("cyclonedx/examples-juice-shop-npm-bare-1.4.json"),
            ingest_percent,
        }
    }

    /// A unique copy: (file name, bytes).
    fn copy(&self, rng: &mut Rng, tag: &str) -> (String, Vec<u8>) {
        let (name, doc) = if rng.range(0, 20) == 0 {
            &self.large
        } else {
            rng.pick(&self.small)
        };
        let mut doc = doc.clone();
        let n = rng.next();
        if doc.get("spdxVersion").is_some() {
            doc["documentNamespace"] = json!(format!("https://crash.example/{tag}/{n:016x}"));
        } else {
            doc["serialNumber"] = json!(format!(
                "urn:uuid:{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                n >> 32,
                (n >> 16) & 0xffff,
                n & 0xfff,
                (n >> 4) & 0xfff,
                n & 0xffff_ffff_ffff
            ));
        }
        (format!("{tag}-{name}"), serde_json::to_vec(&doc).unwrap())
    }
}

/// What one writer thread knows across rounds: the artifacts it has seen acknowledged.
#[derive(Debug, Default, Clone)]
struct Known {
    /// Acknowledged package ids.
    acked: Vec<String>,
    /// Acknowledged `a` packages no link starts from yet (so every link is new).
    linkable: Vec<String>,
    count: u64,
}

/// One writer: writes until `stop` or until the server stops answering.
fn writer(
    api: Api,
    label: String,
    round: usize,
    mut rng: Rng,
    mut known: Known,
    fixtures: Arc<Fixtures>,
    stop: Arc<AtomicBool>,
) -> (Known, Vec<Attempt>) {
    let mut attempts = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        known.count += 1;
        let tag = format!("{label}-{}", known.count);
        // Registrations, links and deploys share what ingests leave, 5:3:2.
        let ingest = rng.range(0, 100) < fixtures.ingest_percent;
        let choice = rng.range(0, 100);
        let (write, path, ctype, body) = if ingest {
            let (name, bytes) = fixtures.copy(&mut rng, &tag);
            let digest = format!("sha256:{:x}", sha2::Sha256::digest(&bytes));
            (
                Write::Ingest {
                    digest,
                    name: name.clone(),
                },
                format!("/v1/documents?name={}", enc(&name)),
                "application/octet-stream",
                bytes,
            )
        } else if choice < 50 || known.acked.len() < 2 {
            let (a, b) = (
                format!("pkg:pypi/crash-{tag}-a@1"),
                format!("pkg:pypi/crash-{tag}-b@1"),
            );
            let req = json!({
                "artifacts": [
                    {"kind": "package", "ref": a},
                    {"kind": "package", "ref": b},
                ],
                "edges": [{"from": a, "edge": "depends-on", "to": b}],
            });
            (
                Write::Register { a, b },
                "/v1/artifacts".to_owned(),
                "application/json",
                serde_json::to_vec(&req).unwrap(),
            )
        } else if choice < 80 && !known.linkable.is_empty() {
            let from = known
                .linkable
                .swap_remove(rng.next() as usize % known.linkable.len());
            let to = rng.pick(&known.acked).clone();
            // Not itself, nor its partner (`from depends-on` that one since it was
            // registered): every link is a new edge.
            if to == from || to == from.replace("-a@1", "-b@1") {
                known.linkable.push(from);
                continue;
            }
            let req = json!({"edges": [{"from": from, "edge": "depends-on", "to": to}]});
            (
                Write::Link { from, to },
                "/v1/links".to_owned(),
                "application/json",
                serde_json::to_vec(&req).unwrap(),
            )
        } else {
            let mut uses: Vec<String> = (0..rng.range(1, 4))
                .map(|_| rng.pick(&known.acked).clone())
                .collect();
            uses.sort();
            uses.dedup();
            let req = json!({"name": tag, "env": "crash", "uses": uses});
            (
                Write::Deploy { name: tag, uses },
                "/v1/deployments".to_owned(),
                "application/json",
                serde_json::to_vec(&req).unwrap(),
            )
        };
        let outcome = match api.call("POST", &path, Some((ctype, &body))) {
            Ok((status, answer)) if (200..300).contains(&status) => {
                let v: Value = serde_json::from_slice(&answer).unwrap();
                match &write {
                    Write::Ingest { digest, .. } => {
                        assert_eq!(v["digest"], digest.as_str(), "{v}");
                        assert_eq!(v["unchanged"], false, "{v}");
                        Outcome::Acked {
                            seq: v["seq"].as_u64().unwrap(),
                            leaf: None,
                        }
                    }
                    _ => {
                        let e = &v["entries"][0];
                        Outcome::Acked {
                            seq: e["seq"].as_u64().unwrap(),
                            leaf: Some(e["leaf_hash"].as_str().unwrap().to_owned()),
                        }
                    }
                }
            }
            Ok((status, _)) => Outcome::Refused(status),
            // Refused connection: the server is gone and this write never reached it.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Err(_) => Outcome::Unanswered,
        };
        if let (Outcome::Acked { .. }, Write::Register { a, b }) = (&outcome, &write) {
            known.acked.extend([a.clone(), b.clone()]);
            known.linkable.push(a.clone());
        }
        let done = matches!(outcome, Outcome::Unanswered);
        attempts.push(Attempt {
            round,
            at: api.addr.clone(),
            write,
            outcome,
        });
        if done {
            break;
        }
    }
    (known, attempts)
}

// ------------------------------------------------------------------ checks

/// What the checks carry from round to round.
struct Ledger {
    /// Entries checked so far: seq → (kind, leaf hash).
    entries: BTreeMap<u64, (String, String)>,
    /// Bodies of the entries not checked yet are fetched from here on.
    checked: u64,
}

/// What the writes came to.
#[derive(Debug, Default)]
struct Stats {
    acked: usize,
    /// Statuses of answered errors (503: the ingest memory budget was full).
    refused: BTreeMap<u16, usize>,
    /// Unanswered writes found recorded (the kill came after their commit)…
    unanswered_recorded: usize,
    /// …and found absent.
    unanswered_absent: usize,
    /// Of the unanswered writes, the document ingests (killed mid-ingest, or after).
    unanswered_ingests: usize,
}

/// Whether a write's effects are all there, none of them, or some (a failure).
#[derive(Debug, PartialEq, Eq)]
enum Effects {
    Whole,
    Absent,
    Partial(String),
}

fn effects(api: &Api, w: &Write, seq: Option<u64>, entry_body: Option<&Value>) -> Effects {
    let all_or_none = |parts: Vec<(&str, bool)>| {
        if parts.iter().all(|(_, p)| *p) {
            Effects::Whole
        } else if parts.iter().all(|(_, p)| !*p) {
            Effects::Absent
        } else {
            Effects::Partial(format!("{parts:?}"))
        }
    };
    let has_edge = |from: &str, to: &str, kind: &str| {
        api.show(from)["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == from && e["to"] == to && e["edge"] == kind)
    };
    match w {
        Write::Register { a, b } => {
            let (ka, kb) = (api.known(a), api.known(b));
            let edge = ka && kb && has_edge(a, b, "depends-on");
            all_or_none(vec![("a", ka), ("b", kb), ("edge", edge)])
        }
        Write::Link { from, to } => all_or_none(vec![("edge", has_edge(from, to, "depends-on"))]),
        Write::Deploy { name, uses } => {
            let id = format!("deployment:crash/{name}");
            if !api.known(&id) {
                return Effects::Absent;
            }
            let shown = api.show(&id);
            let deploys: Vec<&str> = shown["edges"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["from"] == id.as_str() && e["edge"] == "deploys")
                .map(|e| e["to"].as_str().unwrap())
                .collect();
            let all = uses.iter().all(|u| deploys.contains(&u.as_str()));
            all_or_none(vec![
                ("deployment", true),
                ("deploys edges", all && deploys.len() == uses.len()),
            ])
        }
        Write::Ingest { digest, .. } => {
            let (status, bytes) = api.get(&format!("/v1/documents/{digest}"));
            assert!(
                status == 200 || status == 404,
                "GET document {digest}: {status}"
            );
            let stored =
                status == 200 && format!("sha256:{:x}", sha2::Sha256::digest(&bytes)) == *digest;
            let artifact = api.known(digest);
            let mut parts = vec![("bytes", stored), ("document artifact", artifact)];
            // With its entry: the document's edges and a sample of its artifacts are
            // there as the entry says.
            let mut edges_agree = false;
            let mut sample_known = false;
            if let (Some(seq), Some(body), true) = (seq, entry_body, artifact) {
                let shown = api.show(digest);
                let doc_id = shown["id"].as_str().unwrap();
                assert_eq!(shown["first_seq"], seq, "{digest}");
                let data = &body["data"];
                let want = data["edges"].as_array().map_or(0, |es| {
                    es.iter()
                        .filter(|e| e["from"] == doc_id || e["to"] == doc_id)
                        .count()
                });
                let have = shown["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["since_seq"] == seq)
                    .count();
                edges_agree = want == have;
                let arts = data["artifacts"].as_array().unwrap();
                sample_known = arts
                    .iter()
                    .step_by((arts.len() / 8).max(1))
                    .all(|a| api.known(a["id"].as_str().unwrap()));
            }
            if seq.is_some() {
                parts.extend([("document edges", edges_agree), ("artifacts", sample_known)]);
            }
            all_or_none(parts)
        }
    }
}

/// All stored leaves, checked to be seq 1..=n: seq → leaf hash.
fn leaves(api: &Api) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let page = api.json(&format!("/v1/log/leaves?after={}&limit=10000", out.len()));
        let rows = page["leaves"].as_array().unwrap();
        if rows.is_empty() {
            return out;
        }
        for row in rows {
            let seq = row[0].as_u64().unwrap();
            assert_eq!(seq, out.len() as u64 + 1, "a gap in the stored leaves");
            out.push(row[1].as_str().unwrap().to_owned());
        }
    }
}

/// The entries after `after`, with their bodies (small pages: document bodies are large).
fn entries_after(api: &Api, mut after: u64) -> Vec<(u64, String, String, Value)> {
    let mut out = Vec::new();
    loop {
        let page = api.json(&format!("/v1/entries?after={after}&limit=20"));
        let rows = page["entries"].as_array().unwrap();
        if rows.is_empty() {
            return out;
        }
        for e in rows {
            let seq = e["seq"].as_u64().unwrap();
            assert_eq!(seq, after + 1, "a gap in the entries");
            after = seq;
            // A body above the server's inline limit is listed by reference.
            let body = match e["body_ref"].as_str() {
                Some(at) => api.json(at)["body"].clone(),
                None => e["body"].clone(),
            };
            out.push((
                seq,
                e["kind"].as_str().unwrap().to_owned(),
                e["leaf_hash"].as_str().unwrap().to_owned(),
                body,
            ));
        }
    }
}

/// Waits until the server signed a checkpoint at the ledger head; returns (size, note).
fn signed_head(api: &Api, head: u64) -> (u64, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = api.json("/v1/log/status");
        assert_ne!(s["signer"]["state"], "refused", "the signer refused: {s}");
        if s["checkpoint_size"] == head {
            let (status, note) = api.get("/v1/log/checkpoint");
            assert_eq!(status, 200);
            let note = String::from_utf8(note).unwrap();
            if let Some(size) = checkpoint_size(&note).filter(|s| *s == head) {
                return (size, note);
            }
        }
        assert!(Instant::now() < deadline, "no checkpoint at {head}: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn checkpoint_size(note: &str) -> Option<u64> {
    note.lines().nth(1)?.parse().ok()
}

/// The checkpoint `before` (read before a kill) and `after` (signed after the restart)
/// verify under `key`, and the tree of `after` extends that of `before`.
fn check_consistent(api: &Api, key: &str, before: &str, after: &str) {
    let v = ailedger_log::Verifier::from_text(key).unwrap();
    let old = ailedger_log::Checkpoint::open(before, &v).unwrap();
    let new = ailedger_log::Checkpoint::open(after, &v).unwrap();
    assert!(
        new.size >= old.size,
        "the tree shrank: {} → {}",
        old.size,
        new.size
    );
    let proof: ailedger_log::ConsistencyProof = serde_json::from_value(api.json(&format!(
        "/v1/log/proof/consistency?from={}&to={}",
        old.size, new.size
    )))
    .unwrap();
    proof
        .verify_checkpoints(&old, &new)
        .unwrap_or_else(|e| panic!("checkpoint {} → {}: {e}", old.size, new.size));
}

/// `ailedger log verify --db …` (with `--replay` if `replay`) with the state file
/// `state`; panics on failure.
fn log_verify(db: &Db, key: &str, state: &Path, replay: bool) {
    let out = Command::new(BIN)
        .args(["log", "verify", "--db", &db.arg(), "--public-key", key])
        .args(replay.then_some("--replay"))
        .arg("--state")
        .arg(state)
        .env("AILEDGER_CONFIG_DIR", state.join("no-config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "log verify (replay: {replay}): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ailedger log checkpoint`: the client remembers the latest checkpoint in `state`.
fn remember_checkpoint(url: &str, state: &Path) {
    let out = Command::new(BIN)
        .args(["log", "checkpoint", "--state"])
        .arg(state)
        .env("AILEDGER_URL", url)
        .env("AILEDGER_TOKEN", token_of(url).unwrap())
        .env("AILEDGER_CONFIG_DIR", state.join("no-config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "log checkpoint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The checks after a restart (see the module doc). `attempts` is everything written so
/// far; those of `round` are the ones whose entries are not checked yet.
fn check_after_restart(
    api: &Api,
    ledger: &mut Ledger,
    attempts: &mut [Attempt],
    round: usize,
    last: bool,
    stats: &mut Stats,
) {
    // Gap-free: leaves 1..=n, n the head, the tree size and the entry count.
    let leaves = leaves(api);
    let head = api.json("/v1/status")["head"].as_u64().unwrap();
    assert_eq!(leaves.len() as u64, head, "stored leaves vs. ledger head");
    assert_eq!(api.json("/v1/log/status")["tree_size"], head);
    let fresh = entries_after(api, ledger.checked);
    assert_eq!(
        ledger.checked + fresh.len() as u64,
        head,
        "entries vs. head"
    );
    for (seq, kind, leaf, _) in &fresh {
        assert_eq!(
            &leaves[*seq as usize - 1],
            leaf,
            "seq {seq}: leaf column vs. tree leaf"
        );
        ledger.entries.insert(*seq, (kind.clone(), leaf.clone()));
    }
    // Entries already checked are still there, unchanged.
    for (seq, (_, leaf)) in &ledger.entries {
        assert_eq!(&leaves[*seq as usize - 1], leaf, "seq {seq} changed");
    }
    // Each write of this round is in at most one new entry, found by its marker, and
    // every new entry is one of them (the first entry grants the admin token).
    let texts: Vec<String> = fresh
        .iter()
        .map(|(_, _, _, body)| body.to_string())
        .collect();
    let find = |a: &Attempt| -> Vec<(u64, &Value)> {
        let markers = a.marker();
        fresh
            .iter()
            .zip(&texts)
            .filter(|((_, kind, _, _), text)| {
                kind == a.kind() && markers.iter().all(|m| text.contains(m.as_str()))
            })
            .map(|((seq, _, _, body), _)| (*seq, body))
            .collect()
    };
    let mut explained = std::collections::BTreeSet::new();
    for a in attempts.iter_mut() {
        if a.round != round {
            // Acknowledged in an earlier round: its entry is unchanged (checked above
            // through the leaf hashes); on the last pass, what it wrote is still there.
            if let (true, Outcome::Acked { seq, .. }) = (last, &a.outcome) {
                let (kind, _) = &ledger.entries[seq];
                assert_eq!(kind, a.kind(), "{a:?}");
                assert_eq!(effects(api, &a.write, None, None), Effects::Whole, "{a:?}");
            }
            continue;
        }
        let found = find(a);
        assert!(
            found.len() <= 1,
            "{a:?} is in several entries: {:?}",
            found.iter().map(|f| f.0).collect::<Vec<_>>()
        );
        let entry = found.first().copied();
        if let Some((seq, _)) = entry {
            assert!(explained.insert(seq), "seq {seq} holds two writes");
        }
        match a.outcome.clone() {
            Outcome::Acked { seq, leaf } => {
                stats.acked += 1;
                let (at, body) = entry.unwrap_or_else(|| panic!("acknowledged write lost: {a:?}"));
                assert_eq!(at, seq, "{a:?} is at seq {at}");
                let stored = &ledger.entries[&seq].1;
                match leaf {
                    Some(l) => assert_eq!(&l, stored, "{a:?}: leaf hash"),
                    None => {
                        a.outcome = Outcome::Acked {
                            seq,
                            leaf: Some(stored.clone()),
                        }
                    }
                }
                assert_eq!(
                    effects(api, &a.write, Some(seq), Some(body)),
                    Effects::Whole,
                    "{a:?}"
                );
            }
            Outcome::Refused(_) | Outcome::Unanswered => {
                if let (Outcome::Unanswered, Write::Ingest { .. }) = (&a.outcome, &a.write) {
                    stats.unanswered_ingests += 1;
                }
                match (&a.outcome, entry.is_some()) {
                    (Outcome::Refused(status), _) => {
                        *stats.refused.entry(*status).or_default() += 1
                    }
                    (_, false) => stats.unanswered_absent += 1,
                    (_, true) => stats.unanswered_recorded += 1,
                }
                let got = effects(api, &a.write, entry.map(|e| e.0), entry.map(|e| e.1));
                match entry {
                    Some(_) => assert_eq!(
                        got,
                        Effects::Whole,
                        "unacknowledged, its entry present: {a:?}"
                    ),
                    None => assert_eq!(got, Effects::Absent, "unacknowledged, no entry: {a:?}"),
                }
            }
        }
    }
    for (seq, kind, _, _) in &fresh {
        assert!(
            explained.contains(seq) || (*seq == 1 && kind == "token"),
            "seq {seq} ({kind}) is no write the clients sent"
        );
    }
    ledger.checked = head;
}

// ------------------------------------------------------------------ the crash test

fn crash_case(backend: &str) {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let Some(db) = Db::fresh(backend, tmp.path(), "the PostgreSQL crash test") else {
        return;
    };
    let seed = seed();
    eprintln!(
        "crash test on {backend}: seed {seed} (AILEDGER_CRASH_SEED={seed} replays its choices)"
    );
    let mut rng = Rng(seed);
    let fixtures = Arc::new(Fixtures::load(20));
    let state: PathBuf = tmp.path().join("client-state");
    let mut ledger = Ledger {
        entries: BTreeMap::new(),
        checked: 0,
    };
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut known = vec![Known::default(); WRITERS];
    let mut before_kill: Option<String> = None;
    let mut stats = Stats::default();
    let mut server = serve(&db.arg());
    let mut api = Api::of(&server);
    let key = String::from_utf8(api.get("/v1/log/key").1)
        .unwrap()
        .trim()
        .to_owned();
    let mut spent: BTreeMap<&str, Duration> = BTreeMap::new();
    let mut lap = Instant::now();
    let mut took = |what: &'static str| {
        *spent.entry(what).or_default() += lap.elapsed();
        lap = Instant::now();
    };
    for round in 0..=KILLS {
        // After a restart (and at the start): everything holds.
        check_after_restart(
            &api,
            &mut ledger,
            &mut attempts,
            round.saturating_sub(1),
            round == KILLS,
            &mut stats,
        );
        took("checks");
        let (_, note) = signed_head(&api, ledger.checked);
        took("checkpoint");
        if let Some(before) = &before_kill {
            check_consistent(&api, &key, before, &note);
        }
        // The replay is most of the test's time (a debug build replaying every
        // document), so it runs after every REPLAY_EVERY-th restart and the last one;
        // a derived table a kill left wrong stays wrong until it is compared.
        log_verify(
            &db,
            &key,
            &state,
            round % REPLAY_EVERY == 0 || round == KILLS,
        );
        took("log verify");
        if round == KILLS {
            break;
        }
        // Writes from several threads; the client remembers the latest checkpoint;
        // more writes; SIGKILL.
        let (pin_at, kill_after) = (rng.range(50, 400), rng.range(0, 250));
        let mut pinned = None;
        let child = &mut server.child;
        let url = server.url.clone();
        let mut tried = write_for(
            std::slice::from_ref(&api),
            round,
            &mut rng,
            &mut known,
            &fixtures,
            pin_at,
            || {
                remember_checkpoint(&url, &state);
                let (status, note) = api.get("/v1/log/checkpoint");
                assert_eq!(status, 200);
                pinned = Some(String::from_utf8(note).unwrap());
                std::thread::sleep(Duration::from_millis(kill_after));
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
            },
        );
        before_kill = pinned;
        attempts.append(&mut tried);
        took("writes");
        drop(server);
        server = serve(&db.arg());
        api = Api::of(&server);
        took("restart");
    }
    eprintln!("crash test on {backend}: time spent: {spent:?}");
    let took = started.elapsed();
    eprintln!(
        "crash test on {backend}: {KILLS} kills, {} entries; writes: {} acknowledged, refused {:?}, {} unanswered and recorded, {} unanswered and absent ({} of the unanswered were ingests); {:.1} s",
        ledger.checked,
        stats.acked,
        stats.refused,
        stats.unanswered_recorded,
        stats.unanswered_absent,
        stats.unanswered_ingests,
        took.as_secs_f64()
    );
    drop(server);
}

/// SIGKILL at random points under writes, on SQLite.
#[test]
fn crash_consistency_on_sqlite() {
    crash_case("sqlite");
}

/// SIGKILL at random points under writes, on PostgreSQL.
#[test]
fn crash_consistency_on_postgres() {
    crash_case("postgres");
}

// ------------------------------------------------------------------ replicas

/// Runs `WRITERS` writer threads, thread `t` against `apis[t % apis.len()]`, for
/// `for_ms`, then `then` (with the time the writers still run), and collects what they
/// tried.
fn write_for(
    apis: &[Api],
    round: usize,
    rng: &mut Rng,
    known: &mut [Known],
    fixtures: &Arc<Fixtures>,
    for_ms: u64,
    then: impl FnOnce(),
) -> Vec<Attempt> {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (api, fixtures, stop) =
                (apis[t % apis.len()].clone(), fixtures.clone(), stop.clone());
            let k = std::mem::take(&mut known[t]);
            let r = Rng(rng.next());
            std::thread::spawn(move || {
                writer(api, format!("r{round}-t{t}"), round, r, k, fixtures, stop)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(for_ms));
    then();
    stop.store(true, Ordering::Relaxed);
    let mut attempts = Vec::new();
    for (t, h) in threads.into_iter().enumerate() {
        let (k, mut tried) = h.join().unwrap();
        known[t] = k;
        attempts.append(&mut tried);
    }
    attempts
}

/// Waits until every server's graph index is at the ledger head; returns the head.
fn settled(apis: &[&Api]) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s: Vec<Value> = apis.iter().map(|a| a.json("/v1/status")).collect();
        let head = &s[0]["head"];
        if s.iter()
            .all(|s| s["head"] == *head && s["index_head"] == *head)
        {
            return head.as_u64().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the servers do not settle: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Both servers list the same entries (seq, kind, leaf hash) and leaves, and serve
/// the same checkpoint at the head, signed by both or one of them without refusing.
fn agree(a: &Api, b: &Api) -> (u64, String) {
    let head = settled(&[a, b]);
    let strip = |es: Vec<(u64, String, String, Value)>| -> Vec<(u64, String, String)> {
        es.into_iter().map(|(s, k, l, _)| (s, k, l)).collect()
    };
    let ea = strip(entries_after(a, 0));
    assert_eq!(ea.len() as u64, head);
    assert_eq!(
        ea,
        strip(entries_after(b, 0)),
        "the servers list different entries"
    );
    assert_eq!(leaves(a), leaves(b));
    let (_, na) = signed_head(a, head);
    let (_, nb) = signed_head(b, head);
    assert_eq!(na, nb, "the servers serve different checkpoints at {head}");
    let history = |api: &Api| api.json("/v1/log/checkpoints?after=0")["checkpoints"].clone();
    assert_eq!(history(a), history(b));
    (head, na)
}

/// Two servers on one PostgreSQL database under concurrent writes to both keep one
/// ledger: the same entries in the same seq order, the same checkpoint at the same
/// size (both sign with one key: Ed25519 is deterministic); after one is killed while
/// writes continue to both, the survivor holds everything the killed one
/// acknowledged, and the killed one restarted agrees again.
#[test]
fn replicas_on_one_postgres() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let Some(db) = Db::fresh("postgres", tmp.path(), "the PostgreSQL replicas test") else {
        return;
    };
    let seed = seed();
    eprintln!("replicas test: seed {seed} (AILEDGER_CRASH_SEED={seed} replays its choices)");
    let mut rng = Rng(seed);
    // Mostly small writes: the point is many interleaved entries from two servers.
    let fixtures = Arc::new(Fixtures::load(5));
    let state = tmp.path().join("client-state");
    let url = db.arg();
    let a = serve(&url);
    let mut b = serve(&url);
    let (api_a, api_b) = (Api::of(&a), Api::of(&b));
    let key = String::from_utf8(api_a.get("/v1/log/key").1)
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        String::from_utf8(api_b.get("/v1/log/key").1)
            .unwrap()
            .trim(),
        key
    );
    let mut known = vec![Known::default(); WRITERS];
    let mut ledger = Ledger {
        entries: BTreeMap::new(),
        checked: 0,
    };
    let mut stats = Stats::default();

    // Concurrent writes to both, then: one ledger, one checkpoint.
    let both = [api_a.clone(), api_b.clone()];
    let mut attempts = write_for(&both, 0, &mut rng, &mut known, &fixtures, 3000, || {});
    let failed: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| !matches!(a.outcome, Outcome::Acked { .. }))
        .collect();
    assert!(
        failed.is_empty(),
        "writes failed with both servers up: {failed:?}"
    );
    let first = attempts.len();
    let (head, before) = agree(&api_a, &api_b);
    check_after_restart(&api_a, &mut ledger, &mut attempts, 0, false, &mut stats);
    let mut signed = Vec::new();
    for api in [&api_a, &api_b] {
        let s = api.json("/v1/log/status");
        assert_eq!(s["signer"]["state"], "signing", "{s}");
        signed.push(s["signer"]["last_signed"].clone());
    }
    remember_checkpoint(&a.url, &state);
    log_verify(&db, &key, &state, true);

    // Kill b while writes go to both; everything b acknowledged is there through a.
    let kill_at = rng.range(300, 1500);
    let b_child = &mut b.child;
    let mut more = write_for(&both, 1, &mut rng, &mut known, &fixtures, kill_at, || {
        b_child.kill().unwrap(); // SIGKILL
        b_child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(1000));
    });
    let to_b = more
        .iter()
        .filter(|w| w.at == api_b.addr && matches!(w.outcome, Outcome::Acked { .. }))
        .count();
    attempts.append(&mut more);
    check_after_restart(&api_a, &mut ledger, &mut attempts, 1, true, &mut stats);
    let (_, note) = signed_head(&api_a, ledger.checked);
    check_consistent(&api_a, &key, &before, &note);
    log_verify(&db, &key, &state, true);
    drop(b);
    // Restarted, b agrees with a again.
    let b = serve(&url);
    let api_b = Api::of(&b);
    let (end, _) = agree(&api_a, &api_b);
    eprintln!(
        "replicas test: {first} writes to two servers, {} entries at the kill's start; then {} more acknowledged ({to_b} of them by the server killed), {} unanswered and recorded, {} unanswered and absent; {end} entries; last checkpoints signed by each before the kill: {signed:?}; {:.1} s",
        head,
        stats.acked - first,
        stats.unanswered_recorded,
        stats.unanswered_absent,
        started.elapsed().as_secs_f64()
    );
}
