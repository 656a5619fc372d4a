//! The load test: the real `ailedger serve` on a SQLite file, driven over loopback by
//! 64 concurrent connections with tokens, for a bounded time.
//!
//! 1. **Mixed**: half the connections read, half write. Readers ask `impact` (8 in 10),
//!    `show` and `resolve`; writers
//!    `register` a package with an edge to an earlier one, and now and then ingest a
//!    small CycloneDX SBOM. Every answer is checked for its status.
//! 2. **Reads during a large ingest**: the readers run while one 100,000-component
//!    SBOM is ingested; their p99 is reported for that stretch.
//!
//! Run: `cargo bench -p ailedger-cli --bench load`. Settings (environment):
//! `AILEDGER_LOAD_SECS` (60), `AILEDGER_LOAD_CONNS` (64), `AILEDGER_LOAD_WRITERS` (32
//! of the connections), `AILEDGER_LOAD_BIG` (components of the large SBOM, 100000; 0
//! skips phase 2), `AILEDGER_LOAD_PACKAGES` (seeded packages, 5000); `AILEDGER_LOG` is
//! passed to the server (default `error`).

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::{
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small deterministic generator (xorshift), one per task.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Latencies (µs) of one kind of request, and its failures.
#[derive(Default)]
struct Op {
    micros: Vec<u32>,
    errors: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Kind {
    Impact,
    Show,
    Resolve,
    Register,
    Ingest,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Impact => "impact",
            Kind::Show => "show",
            Kind::Resolve => "resolve",
            Kind::Register => "register",
            Kind::Ingest => "ingest (small SBOM)",
        }
    }
    fn is_write(self) -> bool {
        matches!(self, Kind::Register | Kind::Ingest)
    }
}

type Stats = Arc<Mutex<std::collections::BTreeMap<Kind, Op>>>;

fn pct(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    f64::from(sorted[i]) / 1000.0
}

fn pkg(i: u64) -> String {
    format!("pkg:pypi/load-pkg-{i}@1.0.0")
}

struct Ctx {
    client: reqwest::Client,
    base: String,
    token: String,
    packages: u64,
    /// Packages registered so far (seeded and written).
    written: AtomicU64,
}

impl Ctx {
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<(), String> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
        }
    }

    async fn post(&self, path: &str, body: Vec<u8>, ctype: &str) -> Result<Value, String> {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|e| e.to_string())
        } else {
            Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
        }
    }

    async fn read(&self, rng: &mut Rng) -> (Kind, Result<(), String>) {
        let n = self.written.load(Ordering::Relaxed).min(self.packages);
        let target = pkg(rng.below(n));
        let roll = rng.below(10);
        let kind = match roll {
            0 => Kind::Show,
            1 => Kind::Resolve,
            _ => Kind::Impact,
        };
        let path = match kind {
            Kind::Show => "/v1/artifacts",
            Kind::Resolve => "/v1/resolve",
            _ => "/v1/impact",
        };
        (kind, self.get(path, &[("ref", &target)]).await)
    }

    async fn write(&self, rng: &mut Rng, writer: u64, n: &mut u64) -> (Kind, Result<(), String>) {
        *n += 1;
        if rng.below(100) == 0 {
            let comps: Vec<Value> = (0..20)
                .map(|c| {
                    json!({"type": "library", "name": format!("w{writer}-sbom{n}-c{c}"),
                        "version": "1.0.0",
                        "purl": format!("pkg:pypi/w{writer}-sbom{n}-c{c}@1.0.0")})
                })
                .collect();
            let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
                "metadata": {"component": {"type": "application",
                    "name": format!("w{writer}-app{n}"), "version": "1"}},
                "components": comps});
            let r = self
                .post(
                    "/v1/documents?name=bom.json",
                    serde_json::to_vec(&bom).unwrap(),
                    "application/octet-stream",
                )
                .await
                .map(drop);
            return (Kind::Ingest, r);
        }
        let to = pkg(rng.below(self.packages));
        let me = format!("pkg:pypi/w{writer}-n{n}@1.0.0");
        let req = json!({"artifacts": [{"kind": "package", "ref": me}],
            "edges": [{"from": me, "edge": "depends-on", "to": to}]});
        let r = self
            .post(
                "/v1/artifacts",
                serde_json::to_vec(&req).unwrap(),
                "application/json",
            )
            .await
            .map(drop);
        (Kind::Register, r)
    }
}

fn record(stats: &Stats, kind: Kind, took: Duration, r: Result<(), String>, errors: &AtomicU64) {
    let mut s = stats.lock().unwrap();
    let op = s.entry(kind).or_default();
    op.micros
        .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
    if let Err(e) = r {
        op.errors += 1;
        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
            eprintln!("error ({}): {e}", kind.name());
        }
    }
}

fn report(title: &str, stats: &Stats, secs: f64) {
    let s = stats.lock().unwrap();
    println!("\n{title} ({secs:.1} s)");
    println!(
        "{:<20} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "request", "count", "per s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    let mut errors = 0;
    for (kind, op) in s.iter() {
        let mut m = op.micros.clone();
        m.sort_unstable();
        println!(
            "{:<20} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            kind.name(),
            m.len(),
            m.len() as f64 / secs,
            pct(&m, 0.50),
            pct(&m, 0.99),
            pct(&m, 1.0),
            op.errors
        );
        errors += op.errors;
        if kind.is_write() {
            writes.extend_from_slice(&m);
        } else {
            reads.extend_from_slice(&m);
        }
    }
    reads.sort_unstable();
    writes.sort_unstable();
    println!(
        "all reads: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms; all writes: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms; errors {errors}",
        reads.len() as f64 / secs,
        pct(&reads, 0.5),
        pct(&reads, 0.99),
        writes.len() as f64 / secs,
        pct(&writes, 0.5),
        pct(&writes, 0.99),
    );
}

/// A CycloneDX SBOM of `n` components in a chain of dependencies.
fn big_sbom(n: u64) -> Vec<u8> {
    let comps: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "library", "bom-ref": format!("c{i}"), "name": format!("big-{i}"),
                "version": "1.0.0", "purl": format!("pkg:npm/big-{i}@1.0.0")})
        })
        .collect();
    let deps: Vec<Value> = (0..n)
        .map(|i| json!({"ref": format!("c{i}"), "dependsOn": [format!("c{}", (i + 1) % n)]}))
        .collect();
    serde_json::to_vec(&json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"component": {"type": "application", "bom-ref": "root", "name": "big-app", "version": "1"}},
        "components": comps, "dependencies": deps}))
    .unwrap()
}

fn main() {
    let secs = env_num("AILEDGER_LOAD_SECS", 60);
    let conns = env_num("AILEDGER_LOAD_CONNS", 64);
    let writers = env_num("AILEDGER_LOAD_WRITERS", conns / 2).min(conns);
    let big = env_num("AILEDGER_LOAD_BIG", 100_000);
    let packages = env_num("AILEDGER_LOAD_PACKAGES", 5000).max(10);

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token_file = dir.path().join("admin.token");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_ailedger"))
            .args(["serve", "--db"])
            .arg(dir.path().join("load.db"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--init-admin-token")
            .arg(&token_file)
            .arg("--log-key")
            .arg(dir.path().join("log.key"))
            .env(
                "AILEDGER_LOG",
                std::env::var("AILEDGER_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(conns as usize)
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let token = loop {
            if let Ok(t) = std::fs::read_to_string(&token_file)
                && client
                    .get(format!("{base}/v1/status"))
                    .bearer_auth(t.trim())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            {
                break t.trim().to_owned();
            }
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let ctx = Arc::new(Ctx {
            client,
            base,
            token,
            packages,
            written: AtomicU64::new(0),
        });

        // Seed: packages in chains of ten, a hundred models each on twenty packages,
        // and fifty deployments each of four models.
        let t = Instant::now();
        for start in (0..packages).step_by(1000) {
            let end = (start + 1000).min(packages);
            let artifacts: Vec<Value> = (start..end)
                .map(|i| json!({"kind": "package", "ref": pkg(i)}))
                .collect();
            let edges: Vec<Value> = (start..end)
                .filter(|i| i % 10 != 0)
                .map(|i| json!({"from": pkg(i), "edge": "depends-on", "to": pkg(i - 1)}))
                .collect();
            let body = serde_json::to_vec(&json!({"artifacts": artifacts, "edges": edges})).unwrap();
            ctx.post("/v1/artifacts", body, "application/json")
                .await
                .unwrap();
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let models: Vec<Value> = (0..100)
            .map(|m| json!({"kind": "model", "name": format!("m{m}"), "version": "1"}))
            .collect();
        let edges: Vec<Value> = (0..100)
            .flat_map(|m| (0..20).map(move |k| (m, k)))
            .map(|(m, _)| json!({"from": format!("model:m{m}@1"), "edge": "depends-on", "to": pkg(rng.below(packages))}))
            .collect();
        let body = serde_json::to_vec(&json!({"artifacts": models, "edges": edges})).unwrap();
        ctx.post("/v1/artifacts", body, "application/json")
            .await
            .unwrap();
        for d in 0..50u64 {
            let uses: Vec<String> = (0..4).map(|k| format!("model:m{}@1", (d * 2 + k) % 100)).collect();
            let body = serde_json::to_vec(&json!({"name": format!("svc-{d}"), "env": "prod", "uses": uses})).unwrap();
            ctx.post("/v1/deployments", body, "application/json")
                .await
                .unwrap();
        }
        ctx.written.store(packages, Ordering::Relaxed);
        println!(
            "seeded {packages} packages, 100 models, 50 deployments in {:.1?}; {conns} connections ({writers} writing), {secs} s",
            t.elapsed()
        );

        // Phase 1: mixed load for `secs`.
        let stats: Stats = Arc::default();
        let errors = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..conns {
            let (ctx, stats, errors, stop) = (ctx.clone(), stats.clone(), errors.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (c + 1).wrapping_mul(0x9e37_79b9));
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let (kind, r) = if c < writers {
                        ctx.write(&mut rng, c, &mut n).await
                    } else {
                        ctx.read(&mut rng).await
                    };
                    record(&stats, kind, t.elapsed(), r, &errors);
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        report("mixed load", &stats, started.elapsed().as_secs_f64());

        // Phase 2: reads while a large SBOM is ingested.
        if big > 0 {
            let doc = big_sbom(big);
            let stats: Stats = Arc::default();
            let stop = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            for c in writers..conns {
                let (ctx, stats, errors, stop) = (ctx.clone(), stats.clone(), errors.clone(), stop.clone());
                tasks.push(tokio::spawn(async move {
                    let mut rng = Rng(0x1234_5678 ^ (c + 1).wrapping_mul(0x9e37_79b9));
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        let (kind, r) = ctx.read(&mut rng).await;
                        record(&stats, kind, t.elapsed(), r, &errors);
                    }
                }));
            }
            let t = Instant::now();
            let size = doc.len();
            let r = ctx
                .post("/v1/documents?name=big.json", doc, "application/octet-stream")
                .await;
            let took = t.elapsed();
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                t.await.unwrap();
            }
            match r {
                Ok(v) => println!(
                    "\ningested {big} components ({:.1} MB) in {took:.1?}: {} artifacts",
                    size as f64 / 1e6,
                    v["artifacts"]
                ),
                Err(e) => println!("\nthe large ingest failed: {e}"),
            }
            report(
                "reads during the large ingest",
                &stats,
                took.as_secs_f64(),
            );
        }
        let total = errors.load(Ordering::Relaxed);
        println!("\nerrors: {total}");
    });
    drop(server);
}
