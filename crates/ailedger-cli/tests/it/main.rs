//! End-to-end: the real `ailedger` binary as server and client over loopback HTTP, on
//! a SQLite file and on PostgreSQL (two servers sharing one database).

// Test helpers panic on failure, as tests do.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use sha2::Digest as _;

mod attest;
mod check;
mod crash;
mod export;
mod export_spdx;
mod incidents;
mod log;
mod own_sbom;
mod secrets;
mod tls;
mod verify_model;
mod webhooks;

const BIN: &str = env!("CARGO_BIN_EXE_ailedger");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The admin token of each server's ledger (by server URL and by database), for the
/// client processes the tests run against it.
static TOKENS: std::sync::Mutex<Vec<(String, String, String)>> = std::sync::Mutex::new(Vec::new());

fn token_of(url: &str) -> Option<String> {
    let tokens = TOKENS.lock().unwrap();
    tokens
        .iter()
        .find(|(u, _, _)| u == url)
        .map(|(_, _, t)| t.clone())
}

/// `ailedger serve` on `db` with a fresh loopback port and `--init-admin-token`; a
/// second server on a database that has its admin token already shares it.
fn serve(db: &str) -> Server {
    serve_with(db, &[])
}

/// [`serve`] with more `serve` flags.
fn serve_with(db: &str, extra: &[&str]) -> Server {
    // A port found free may be taken by another test's server before ours binds it:
    // then ours exits at once, and it is started again on another port.
    for _ in 0..5 {
        if let Some(server) = try_serve(db, extra) {
            return server;
        }
    }
    panic!("server on {db} did not start on any of 5 ports");
}

fn try_serve(db: &str, extra: &[&str]) -> Option<Server> {
    let port = free_port();
    let token_file =
        std::env::temp_dir().join(format!("ailedger-e2e-{}-{port}.token", std::process::id()));
    let _ = std::fs::remove_file(&token_file);
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(extra)
        .arg("--init-admin-token")
        .arg(&token_file)
        .env("AILEDGER_LOG", "warn")
        // One log key per test process, outside the source tree (PostgreSQL has no file to sit beside).
        .env(
            "AILEDGER_LOG_KEY",
            std::env::temp_dir().join(format!("ailedger-e2e-{}.key", std::process::id())),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(Instant::now() < deadline, "server on {db} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let shared = TOKENS
        .lock()
        .unwrap()
        .iter()
        .find(|(_, d, _)| d == db)
        .map(|(_, _, t)| t.clone());
    let token = match shared {
        Some(t) => t,
        None => loop {
            if let Ok(t) = std::fs::read_to_string(&token_file)
                && t.ends_with('\n')
            {
                let _ = std::fs::remove_file(&token_file);
                break t.trim().to_owned();
            }
            // Another test's server answered on this port; ours could not bind it.
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(
                Instant::now() < deadline,
                "no admin token from the server on {db}"
            );
            std::thread::sleep(Duration::from_millis(50));
        },
    };
    if child.try_wait().unwrap().is_some() {
        return None;
    }
    TOKENS
        .lock()
        .unwrap()
        .push((url.clone(), db.to_owned(), token));
    Some(Server { child, url })
}

fn cli(url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("AILEDGER_URL", url)
        // No credentials file of whoever runs the tests.
        .env(
            "AILEDGER_CONFIG_DIR",
            std::env::temp_dir().join("ailedger-e2e-no-config"),
        )
        .env_remove("AILEDGER_TOKEN");
    if let Some(t) = token_of(url) {
        cmd.env("AILEDGER_TOKEN", t);
    }
    cmd.output().unwrap()
}

#[track_caller]
fn ok(url: &str, args: &[&str]) -> String {
    let out = cli(url, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[track_caller]
fn json(url: &str, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&ok(url, &a)).unwrap()
}

/// Runs a failing command; returns (exit code, the stderr line).
#[track_caller]
fn fails(url: &str, args: &[&str]) -> (i32, String) {
    let out = cli(url, args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    (out.status.code().unwrap(), err.trim_end().to_owned())
}

fn head(url: &str) -> u64 {
    json(url, &["entries", "--limit", "1"])["head"]
        .as_u64()
        .unwrap()
}

fn write_model(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("config.json"), b"{\"architectures\":[\"X\"]}").unwrap();
    std::fs::write(dir.join("sub/weights.bin"), vec![7u8; 3 << 20]).unwrap();
}

#[test]
fn cli_over_loopback_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("l.db").to_string_lossy());
    let url_owned = server.url.clone();
    let url = url_owned.as_str();
    let model = tmp.path().join("m");
    write_model(&model);

    let first = json(
        url,
        &[
            "register",
            "model",
            model.to_str().unwrap(),
            "--name",
            "m",
            "--version",
            "1",
        ],
    );
    let id = first["entries"][0]["artifacts"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("sha256:"));
    // Same bytes again, under another directory name: the same artifact.
    let copy = tmp.path().join("copy");
    write_model(&copy);
    let again = json(
        url,
        &[
            "register",
            "model",
            copy.to_str().unwrap(),
            "--name",
            "m",
            "--version",
            "1",
        ],
    );
    assert_eq!(again["entries"][0]["artifacts"][0], id.as_str());
    assert_eq!(ok(url, &["resolve", "model:m@1"]).trim(), id);
    let shown = json(url, &["show", &id]);
    assert_eq!(shown["attrs"]["files"], 2);
    assert_eq!(
        shown["edges"].as_array().unwrap().len(),
        2,
        "a contains edge per file"
    );
    // Each contains edge carries the file's path within the model, and deps, show and
    // impact print it.
    let mut paths: Vec<&str> = shown["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["paths"][0].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["config.json", "sub/weights.bin"]);
    let weights = format!("{:x}", sha2::Sha256::digest(vec![7u8; 3 << 20]));
    let shown_table = ok(url, &["show", &id]);
    assert!(
        shown_table.contains("PATHS") && shown_table.contains("sub/weights.bin"),
        "{shown_table}"
    );
    let deps_table = ok(url, &["deps", "model:m@1"]);
    assert!(
        deps_table.contains(&format!("sub/weights.bin (sha256:{weights})")),
        "{deps_table}"
    );
    let impact_table = ok(url, &["impact", &format!("sha256:{weights}")]);
    assert!(
        impact_table.contains("-contains[sub/weights.bin]-> sha256:"),
        "{impact_table}"
    );
    let deps_json = json(url, &["deps", "model:m@1"]);
    assert!(
        deps_json["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["paths"] == serde_json::json!(["config.json"])),
        "{deps_json}"
    );

    ok(
        url,
        &[
            "register",
            "package",
            "pkg:pypi/Torch@2.4.1",
            "--sha256",
            &"cd".repeat(32),
        ],
    );
    ok(
        url,
        &[
            "register",
            "dataset",
            "--uri",
            "s3://corpora/wiki",
            "--version",
            "2026-06",
        ],
    );
    ok(
        url,
        &["link", "model:m@1", "depends-on", "pkg:pypi/torch@2.4.1"],
    );
    ok(
        url,
        &["link", "model:m@1", "trained-on", "dataset:wiki@2026-06"],
    );
    ok(
        url,
        &["deploy", "chat", "--env", "prod", "--uses", "model:m@1"],
    );
    let table = ok(url, &["impact", &format!("sha256:{}", "cd".repeat(32))]);
    assert!(
        table.contains("deployment:prod/chat")
            && table.contains("-deploys-> model:m@1 -depends-on-> pkg:pypi/torch@2.4.1"),
        "{table}"
    );
    let deps = json(url, &["deps", "deployment:prod/chat"]);
    assert_eq!(deps["count"], 5, "{deps}");

    // Bad input: exit code 2, one line naming the fault, nothing recorded.
    let before = head(url);
    let missing = tmp.path().join("no-such-model");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "register".into(),
                "model".into(),
                missing.to_string_lossy().into_owned(),
            ],
            "no-such-model",
        ),
        (
            vec!["register".into(), "package".into(), "torch==2.4".into()],
            "torch==2.4",
        ),
        (
            vec![
                "register".into(),
                "package".into(),
                "pkg:pypi/x@1".into(),
                "--sha256".into(),
                "xyz".into(),
            ],
            "--sha256",
        ),
        (
            vec![
                "link".into(),
                "model:m@1".into(),
                "eats".into(),
                "pkg:pypi/torch@2.4.1".into(),
            ],
            "unknown edge type \"eats\"",
        ),
        (
            vec![
                "link".into(),
                "model:m@1".into(),
                "depends-on".into(),
                "pkg:pypi/ghost@1".into(),
            ],
            "unknown ref pkg:pypi/ghost@1",
        ),
        (vec!["impact".into(), "sha256:123".into()], "64 hex"),
        (
            vec![
                "register".into(),
                "model".into(),
                model.to_string_lossy().into_owned(),
                "--name".into(),
                "foo@bar".into(),
            ],
            "give a version",
        ),
        (
            vec!["impact".into(), "model:nope@1".into()],
            "unknown ref model:nope@1",
        ),
        (
            vec![
                "impact".into(),
                "model:m@1".into(),
                "--as-of".into(),
                "last week".into(),
            ],
            "--as-of",
        ),
        (
            vec![
                "deploy".into(),
                "x".into(),
                "--env".into(),
                "prod".into(),
                "--uses".into(),
                "model:ghost".into(),
            ],
            "unknown ref model:ghost",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, line) = fails(url, &args);
        assert_eq!(code, 2, "{args:?}: {line}");
        assert!(line.contains(want), "{args:?}: {line:?} lacks {want:?}");
    }
    assert_eq!(head(url), before);
    // A file inside a model directory that cannot be read (a dangling symlink, which
    // fails even for root): named, nothing recorded.
    #[cfg(unix)]
    {
        let broken = tmp.path().join("broken");
        write_model(&broken);
        std::os::unix::fs::symlink(tmp.path().join("gone.bin"), broken.join("sub/extra.bin"))
            .unwrap();
        let (code, line) = fails(url, &["register", "model", broken.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(line.contains("extra.bin"), "{line}");
        assert_eq!(head(url), before);
    }
    // A usage error is exit code 2 too (clap's).
    assert_eq!(cli(url, &["impact"]).status.code(), Some(2));
    // History through the CLI.
    let t = json(url, &["entries", "--limit", "1"])["entries"][0]["time"]
        .as_str()
        .unwrap()
        .to_owned();
    let past = json(url, &["impact", "model:m@1", "--as-of", &t]);
    assert_eq!(past["count"], 0);
    drop(server);
    // No server: exit code 3.
    let (code, line) = fails(url, &["impact", "model:m@1"]);
    assert_eq!(code, 3, "{line}");
    assert!(line.contains("cannot reach"), "{line}");
}

#[test]
fn demo_runs_and_reports_the_blast_radius() {
    let out = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0", "--exit"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The demo opens an incident and prints its report: times, owners, windows and
    // the last known-good.
    assert!(
        text.contains("Incident #")
            && text.contains("pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42"),
        "{text}"
    );
    let row = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing: {text}"))
            .to_owned()
    };
    let prod = row("deployment:prod/defect-inspector");
    assert!(
        prod.contains("factory-vision") && prod.contains("still exposed"),
        "{prod}"
    );
    assert!(
        prod.contains("model:defect-detector@11"),
        "known-good: {prod}"
    );
    let batch = row("deployment:staging/vision-batch");
    assert!(!batch.contains("still exposed"), "{batch}");
    assert_eq!(
        batch.matches("Z ").count() + batch.matches("Z\t").count(),
        2,
        "two times: {batch}"
    );
    row("deployment:staging/defect-inspector");
    assert!(!text.contains("deployment:prod/support-bot"), "{text}");
    // A later consumer is flagged as it is written.
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("warning: deployment:dev/notebook now consumes pkg:pypi/ultralytics@8.3.41, compromised in incident #"),
        "{err}"
    );
    // The demo signs provenance for the fine-tuned model, and the ledger verifies it.
    assert!(
        text.contains("Signed provenance: model:support-bot@3")
            && text.contains("verified: signatures[0]: verified by key")
            && text.contains("SLSA build L2"),
        "{text}"
    );
}

/// Two servers on one PostgreSQL database, each taking writes, answer the same
/// `impact` query identically (each sees the other's writes within a second).
#[test]
fn two_servers_on_one_postgres_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(db) = Db::fresh("postgres", tmp.path(), "the two-server PostgreSQL test") else {
        return;
    };
    let url = db.arg();
    {
        let a = serve(&url);
        let b = serve(&url);
        ok(&a.url, &["register", "package", "pkg:pypi/urllib3@2.2.2"]);
        ok(&b.url, &["register", "package", "pkg:pypi/requests@2.32.3"]);
        ok(
            &a.url,
            &[
                "link",
                "pkg:pypi/requests@2.32.3",
                "depends-on",
                "pkg:pypi/urllib3@2.2.2",
            ],
        );
        ok(
            &b.url,
            &[
                "register",
                "artifact",
                "model",
                "--name",
                "m",
                "--version",
                "1",
            ],
        );
        ok(
            &a.url,
            &[
                "link",
                "model:m@1",
                "depends-on",
                "pkg:pypi/requests@2.32.3",
            ],
        );
        ok(
            &b.url,
            &["deploy", "chat", "--env", "prod", "--uses", "model:m@1"],
        );
        ok(
            &a.url,
            &[
                "deploy",
                "batch",
                "--env",
                "dev",
                "--uses",
                "pkg:pypi/requests@2.32.3",
            ],
        );
        std::thread::sleep(Duration::from_millis(1000));
        let ja = json(&a.url, &["impact", "pkg:pypi/urllib3@2.2.2"]);
        let jb = json(&b.url, &["impact", "pkg:pypi/urllib3@2.2.2"]);
        assert_eq!(ja, jb);
        assert_eq!(ja["count"], 4, "{ja}");
        // Entry 1 granted the admin token; six writes follow.
        assert_eq!(ja["at_seq"], 7 + 1);
        let entries = json(&a.url, &["entries"]);
        let seqs: Vec<u64> = entries["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    }
}

/// A database under test: a SQLite file, or a fresh PostgreSQL database.
pub(crate) enum Db {
    Sqlite(std::path::PathBuf),
    Pg {
        base: String,
        name: String,
        url: String,
    },
}

impl Db {
    pub(crate) fn arg(&self) -> String {
        match self {
            Db::Sqlite(p) => p.to_string_lossy().into_owned(),
            Db::Pg { url, .. } => url.clone(),
        }
    }

    /// A fresh database of `backend`, or `None` (said loudly, naming `what` did not
    /// run) without PostgreSQL. A PostgreSQL database is dropped with the value.
    pub(crate) fn fresh(backend: &str, dir: &Path, what: &str) -> Option<Db> {
        if backend == "sqlite" {
            return Some(Db::Sqlite(dir.join("ledger.db")));
        }
        let Ok(base) = std::env::var("AILEDGER_TEST_POSTGRES_URL") else {
            eprintln!("SKIPPED: AILEDGER_TEST_POSTGRES_URL is not set; {what} did not run");
            return None;
        };
        let name = format!("ailedger_test_{}_{}", std::process::id(), free_port());
        let out = Command::new("psql")
            .args([&base, "-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        Some(Db::Pg { base, name, url })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Db::Pg { base, name, .. } = self {
            let _ = Command::new("psql")
                .args([
                    base.as_str(),
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

/// `impact`/`deps` page through large answers: `--limit` shows the nearest hits and
/// says how many more there are, `--all` follows the cursors to the end, `--depth`
/// bounds the walk; every path is rebuilt from the hits' parents.
#[test]
fn traversals_page_through_large_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh("sqlite", tmp.path(), "").unwrap();
    let server = serve(&db.arg());
    let url = &server.url;
    let bom = fixture("cyclonedx/examples-laravel-7.12.0-1.4.json");
    ok(url, &["ingest", bom.to_str().unwrap()]);
    let root = "pkg:composer/cyclonedx/cyclonedx-php-composer-demo@dev-master";
    let all = json(url, &["deps", root, "--all"]);
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 60, "{all}");
    assert_eq!(all["hits"].as_array().unwrap().len() as u64, total);
    assert_eq!(all["truncated"], false);
    // Paged by the CLI (pages of at most 1000 here: one), the same hits as one answer.
    let few = json(url, &["deps", root, "--limit", "7"]);
    assert_eq!(few["hits"].as_array().unwrap().len(), 7);
    assert_eq!(few["truncated"], true);
    assert_eq!(
        few["hits"],
        serde_json::json!(all["hits"].as_array().unwrap()[..7])
    );
    // Continue from the cursor: the next hits, with the ancestors their paths need.
    let next = few["next"].as_str().unwrap();
    let rest = json(url, &["deps", root, "--limit", "1000", "--cursor", next]);
    assert_eq!(rest["offset"], 7);
    assert_eq!(
        rest["hits"],
        serde_json::json!(all["hits"].as_array().unwrap()[7..])
    );
    let table = ok(url, &["deps", root, "--limit", "7"]);
    assert!(
        table.contains(&format!("{} more not shown (7 of {total})", total - 7)),
        "{table}"
    );
    // A deep hit's path in the table ends at the queried artifact.
    let deepest = all["hits"].as_array().unwrap().last().unwrap();
    assert!(deepest["depth"].as_u64().unwrap() >= 2, "{deepest}");
    let line = ok(url, &["deps", root, "--all"])
        .lines()
        .find(|l| l.contains(deepest["id"].as_str().unwrap()) && l.contains("->"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{deepest}"));
    assert_eq!(
        line.matches("->").count() as u64,
        deepest["depth"].as_u64().unwrap(),
        "{line}"
    );
    assert!(line.trim_end().ends_with(root), "{line}");
    let near = json(url, &["deps", root, "--depth", "1", "--all"]);
    let near_total = near["total"].as_u64().unwrap();
    assert!(near_total < total && near_total > 0, "{near}");
    assert!(
        near["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["depth"] == 1)
    );
    // A limit of zero is a usage error naming the flag.
    let (code, err) = fails(url, &["deps", root, "--limit", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--limit"), "{err}");
}

/// `inspect` over labelled fixtures: exit 1 for malicious, 0 for benign, 2 for read errors;
/// SARIF on request.
#[test]
fn inspect_exit_codes_and_formats() {
    let url = "http://127.0.0.1:9"; // inspect needs no server
    let cases = [
        ("pickles/mal_os_system_p2.pkl", 1, "AIL-PKL-001"),
        ("pickles/mal_torch_zip.pt", 1, "AIL-PKL-001"),
        ("pickles/ben_torch_zip.pt", 0, ""),
        ("formats/st_ok.safetensors", 0, ""),
        ("mcp/synthetic__risky_stdio.json", 1, "AIL-MCP-"),
        // A requirements file named on the command line is recognised by content.
        ("requirements/deps.txt", 1, "reqeusts ~ requests"),
        ("requirements/prose.txt", 0, "\"findings\": []"),
        (
            "pickles-dotted/mal_torch_builtins_print_p4.pkl",
            1,
            "walks from torch to the builtins module",
        ),
    ];
    for (rel, code, want) in cases {
        let path = fixture(rel);
        let out = cli(
            url,
            &["inspect", path.to_str().unwrap(), "--format", "json"],
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1, "{rel}");
        assert!(text.contains(want), "{rel}: {text}");
    }
    let sarif = cli(
        url,
        &[
            "inspect",
            fixture("pickles").to_str().unwrap(),
            "--format",
            "sarif",
        ],
    );
    assert_eq!(sarif.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
    // Benign files pass at the default --fail-on high, and fail at info if they have findings.
    let missing = cli(url, &["inspect", "/definitely/not/here"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/definitely/not/here"));
}

/// The archive limits of `inspect` are flags: a spent budget is a high finding naming it
/// (exit 1, never clean), a bad value is exit 2 naming the flag.
#[test]
fn inspect_archive_limits_are_flags() {
    let url = "http://127.0.0.1:9"; // inspect needs no server
    let benign = fixture("pickles/ben_torch_zip.pt");
    let benign = benign.to_str().unwrap();
    let out = cli(
        url,
        &[
            "inspect",
            benign,
            "--format",
            "json",
            "--archive-timeout",
            "0",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("AIL-PKL-006") && text.contains("budget=time"),
        "{text}"
    );
    let out = cli(
        url,
        &[
            "inspect",
            benign,
            "--archive-budget-mib",
            "4096",
            "--archive-member-mib",
            "1",
            "--archive-memory-mib",
            "64",
            "--archive-timeout",
            "30",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (flag, value) in [
        ("--archive-timeout", "-1"),
        ("--archive-timeout", "soon"),
        ("--archive-budget-mib", "0"),
        ("--archive-member-mib", "x"),
        ("--archive-memory-mib", "0"),
    ] {
        let out = cli(url, &["inspect", benign, &format!("{flag}={value}")]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{flag} {value}: {err}");
    }
}

/// Registration runs the same inspection: findings become facts on the model, and the
/// blast radius shows them.
#[test]
fn registered_findings_show_in_impact() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("l.db").to_string_lossy());
    let url = server.url.clone();
    let model = tmp.path().join("trojan");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::copy(
        fixture("pickles/mal_torch_zip.pt"),
        model.join("pytorch_model.bin"),
    )
    .unwrap();
    std::fs::copy(
        fixture("formats/st_ok.safetensors"),
        model.join("model.safetensors"),
    )
    .unwrap();
    ok(
        &url,
        &[
            "register",
            "model",
            model.to_str().unwrap(),
            "--name",
            "trojan",
            "--version",
            "1",
        ],
    );
    let shown = json(&url, &["show", "model:trojan@1"]);
    let codes: Vec<&str> = shown["attrs"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"AIL-PKL-001"), "{codes:?}");
    assert!(
        codes.contains(&"AIL-PKL-015"),
        "mixed safetensors and pickle weights: {codes:?}"
    );
    ok(&url, &["register", "package", "pkg:pypi/torch@2.4.1"]);
    ok(
        &url,
        &[
            "link",
            "model:trojan@1",
            "depends-on",
            "pkg:pypi/torch@2.4.1",
        ],
    );
    ok(
        &url,
        &["deploy", "api", "--env", "prod", "--uses", "model:trojan@1"],
    );
    let v = json(&url, &["impact", "pkg:pypi/torch@2.4.1"]);
    let hit = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["label"] == "model:trojan@1")
        .unwrap();
    assert_eq!(hit["severity"], "critical");
    let table = ok(&url, &["impact", "pkg:pypi/torch@2.4.1"]);
    assert!(table.contains("critical"), "{table}");
}

/// The ids of an `impact`/`deps` answer's hits.
fn hit_ids(v: &Value) -> Vec<&str> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect()
}

/// A BOM whose components carry no purls or hashes (as some tools emit them) records
/// them by name and version; when the same BOM arrives with purls, each of those
/// provisional artifacts merges into its purl, and the blast radius of a purl reaches
/// what the first BOM said depended on it.
#[test]
fn name_only_components_merge_when_their_purls_appear() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("l.db").to_string_lossy());
    let url = server.url.clone();
    let juice = fixture("cyclonedx/examples-juice-shop-npm-bare-1.4.json");
    let mut bom: Value = serde_json::from_slice(&std::fs::read(&juice).unwrap()).unwrap();
    fn strip(comps: &mut Vec<Value>) -> usize {
        let mut n = 0;
        for c in comps {
            let c = c.as_object_mut().unwrap();
            n += usize::from(c.remove("purl").is_some());
            c.remove("hashes");
            if let Some(Value::Array(nested)) = c.get_mut("components") {
                n += strip(nested);
            }
        }
        n
    }
    let with_purl = strip(bom["components"].as_array_mut().unwrap());
    // The subject (metadata.component) keeps its purl in both documents.
    let stripped = tmp.path().join("juice-shop-names-only.json");
    std::fs::write(&stripped, serde_json::to_vec(&bom).unwrap()).unwrap();
    let first = json(&url, &["ingest", stripped.to_str().unwrap()]);
    assert_eq!(first[0]["merged"], 0);
    let named = json(&url, &["show", "package:sanitize-html@1.4.2"]);
    assert_eq!(named["id"], "package:sanitize-html@1.4.2", "{named}");
    let second = json(&url, &["ingest", juice.to_str().unwrap()]);
    assert!(with_purl > 100, "{with_purl}");
    // Only the subject was known already: every component is new under its purl
    // (and absorbed its provisional namesake).
    assert_eq!(second[0]["merged"], 1, "{second}");
    let shown = json(&url, &["show", "package:sanitize-html@1.4.2"]);
    assert_eq!(shown["id"], "pkg:npm/sanitize-html@1.4.2", "{shown}");
    // Before the second document, impact of lodash came only through the names; now
    // the purl's blast radius holds the first document too.
    let imp = json(&url, &["impact", "pkg:npm/lodash@2.4.2"]);
    assert!(
        hit_ids(&imp).contains(&"pkg:npm/sanitize-html@1.4.2"),
        "{imp}"
    );
    let doc1 = first[0]["digest"].as_str().unwrap();
    let deps = json(&url, &["deps", doc1]);
    let dep_ids = hit_ids(&deps);
    assert!(dep_ids.contains(&"pkg:npm/lodash@2.4.2"), "{deps}");
    assert!(
        !dep_ids.iter().any(|d| d.starts_with("package:")),
        "every name-only component merged: {dep_ids:?}"
    );
}

/// Documents go in as they are: detected, merged into the graph, kept by digest,
/// recognised when sent again; bad ones are refused with the fault named.
#[test]
fn ingest_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("l.db").to_string_lossy());
    let url = server.url.clone();
    let juice = fixture("cyclonedx/examples-juice-shop-npm-bare-1.4.json");
    let v = json(
        &url,
        &[
            "ingest",
            juice.to_str().unwrap(),
            fixture("mcp/synthetic__risky_stdio.json").to_str().unwrap(),
        ],
    );
    assert_eq!(v[0]["format"], "CycloneDX 1.4");
    assert_eq!(v[0]["unchanged"], false);
    assert_eq!(v[0]["added"], v[0]["artifacts"]);
    assert!(
        v[1]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "critical")
    );
    // Same bytes again: recognised, nothing recorded.
    let before = head(&url);
    let again = json(&url, &["ingest", juice.to_str().unwrap()]);
    assert_eq!(again[0]["unchanged"], true);
    assert_eq!(head(&url), before);
    // The raw document comes back byte for byte.
    let digest = v[0]["digest"].as_str().unwrap();
    let auth = format!("Authorization: Bearer {}", token_of(&url).unwrap());
    let raw = Command::new("curl")
        .args(["-sf", "-H", &auth, &format!("{url}/v1/documents/{digest}")])
        .output()
        .unwrap();
    assert_eq!(raw.stdout, std::fs::read(&juice).unwrap());
    // The blast radius runs through what the BOM said.
    let imp = json(&url, &["impact", "pkg:npm/lodash@2.4.2"]);
    assert!(
        imp["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == "pkg:npm/sanitize-html@1.4.2"),
        "{imp}"
    );
    // Bad documents: exit 2, the file and the fault named, nothing recorded — one that
    // cannot be parsed always, one with a local fault under --strict.
    for (rel, want, strict) in [
        (
            "cyclonedx/spec-invalid-dependency-1.6.json",
            "/dependencies/0",
            true,
        ),
        (
            "cyclonedx/examples-mlbom-hf-bert-base-cased-TRAILING-COMMA-invalid-json-1.6.json",
            "line",
            false,
        ),
    ] {
        let path = fixture(rel).to_str().unwrap().to_owned();
        let mut args = vec!["ingest", path.as_str()];
        if strict {
            args.push("--strict");
        }
        let out = cli(&url, &args);
        assert_eq!(out.status.code(), Some(2), "{rel}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(rel.rsplit('/').next().unwrap()) && err.contains(want),
            "{rel}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(head(&url), before);
    // Without --strict the local fault is repaired: recorded, with the warning at its
    // pointer.
    let out = cli(
        &url,
        &[
            "ingest",
            fixture("cyclonedx/spec-invalid-dependency-1.6.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("/dependencies/0"), "{said}");
    assert_eq!(head(&url), before + 1);
}

/// Tokens end to end: the admin grants, lists and revokes; a write token writes under its
/// own name; no token, a read token, or a revoked one is refused with exit code 2 and
/// one line; `login` stores a token in a 0600 credentials file the CLI then uses.
#[test]
fn tokens_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("l.db").to_string_lossy());
    let url = server.url.as_str();
    let grant = |name: &str, scope: &str| -> String {
        let out = cli(url, &["token", "create", "--name", name, "--scope", scope]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert!(secret.starts_with("ailt_"), "{secret}");
        secret
    };
    let writer = grant("release-bot", "write");
    let reader = grant("dashboard", "read");
    let as_token = |token: Option<&str>, args: &[&str]| -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("AILEDGER_URL", url)
            .env("AILEDGER_CONFIG_DIR", tmp.path().join("config"))
            .env_remove("AILEDGER_TOKEN");
        if let Some(t) = token {
            cmd.env("AILEDGER_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let register = [
        "register",
        "package",
        "pkg:pypi/idna@3.8",
        "--format",
        "json",
    ];
    let out = as_token(Some(&writer), &register);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let seq = v["entries"][0]["seq"].as_u64().unwrap().to_string();
    let e: Value = serde_json::from_slice(
        &as_token(
            Some(&reader),
            &[
                "entries",
                "--after",
                &(seq.parse::<u64>().unwrap() - 1).to_string(),
                "--limit",
                "1",
                "--format",
                "json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(e["entries"][0]["actor"], "release-bot", "{e}");
    for (token, want) in [
        (None, "needs a token"),
        (Some(reader.as_str()), "the write scope"),
    ] {
        let out = as_token(token, &register);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(want), "{err}");
    }
    // `login` reads the token from stdin and writes a private credentials file.
    let mut login = Command::new(BIN)
        .args(["login"])
        .env("AILEDGER_URL", url)
        .env("AILEDGER_CONFIG_DIR", tmp.path().join("config"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        writeln!(login.stdin.take().unwrap(), "{writer}").unwrap();
    }
    let out = login.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.contains("as release-bot"),
        "{said}"
    );
    let file = tmp.path().join("config/credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = as_token(None, &["register", "package", "pkg:pypi/idna@3.9"]);
    assert!(
        out.status.success(),
        "the stored token is used: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A credentials file others can read is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = as_token(None, &["impact", "pkg:pypi/idna@3.9"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // Revoked: refused at once.
    let listed = json(url, &["token", "list"]);
    assert!(
        listed["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "release-bot" && t["active"] == true)
    );
    ok(url, &["token", "revoke", "release-bot"]);
    let out = as_token(Some(&writer), &register);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revoked"));
    let listed = ok(url, &["token", "list"]);
    assert!(
        listed.contains("release-bot") && !listed.contains("ailt_"),
        "{listed}"
    );
}

/// A deployment's owner and contact are recorded, kept across later deploys unless
/// given again, checked, and a contact URL's secret never reaches the ledger.
#[test]
fn deployment_owner_and_contact_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(tmp.path().join("l.db").to_str().unwrap());
    let url = &server.url;
    ok(url, &["register", "package", "pkg:pypi/requests@2.32.3"]);
    let show = |url: &str| json(url, &["show", "deployment:prod/api"])["attrs"].clone();
    ok(
        url,
        &[
            "deploy",
            "api",
            "--env",
            "prod",
            "--owner",
            "search",
            "--contact",
            "search-oncall@example.com",
            "--uses",
            "pkg:pypi/requests@2.32.3",
        ],
    );
    assert_eq!(show(url)["owner"], "search");
    // A later deploy without them keeps both.
    ok(url, &["deploy", "api", "--env", "prod"]);
    let attrs = show(url);
    assert_eq!(
        (attrs["owner"].as_str(), attrs["contact"].as_str()),
        (Some("search"), Some("search-oncall@example.com"))
    );
    // Given again, they change; a webhook URL's secret segment is removed.
    let hook = "https://hooks.example.com/services/T0123ABCD/B0456EFGH/q8ZkLwX3vN7pR2sT9yU4bC1d";
    ok(
        url,
        &[
            "deploy",
            "api",
            "--env",
            "prod",
            "--owner",
            "platform",
            "--contact",
            hook,
        ],
    );
    let attrs = show(url);
    assert_eq!(attrs["owner"], "platform");
    assert!(
        attrs["contact"]
            .as_str()
            .unwrap()
            .starts_with("https://hooks.example.com/")
    );
    assert!(
        !attrs.to_string().contains("q8ZkLwX3vN7pR2sT9yU4bC1d"),
        "{attrs}"
    );
    // Bad ones: exit 2, one line naming the field, nothing recorded.
    let before = head(url);
    for (flag, value) in [("--contact", "oncall"), ("--owner", " padded ")] {
        let (code, line) = fails(url, &["deploy", "api", "--env", "prod", flag, value]);
        assert_eq!(code, 2, "{line}");
        assert!(line.contains(&flag[2..]), "{line}");
    }
    assert_eq!(head(url), before);
}
