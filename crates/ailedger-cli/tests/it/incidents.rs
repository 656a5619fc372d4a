//! Incident response end to end, over the demo supply chain served by `ailedger
//! demo`: an OSV import that hits one of its packages opens an incident whose report
//! names the affected deployments, their owners, paths and exposure windows
//! (including one that stopped using the package before the advisory); the incident
//! moves on; a rollback goes to the known-good configuration; bad records and bad
//! targets are named on one line with exit code 2.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::Value;

use super::{BIN, free_port};

/// `ailedger demo` kept serving: its URL and admin token.
pub(super) struct Demo {
    child: std::process::Child,
    pub(super) url: String,
    pub(super) token: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn demo() -> Demo {
    for _ in 0..5 {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (mut url, mut token) = (None, None);
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(u) = line.trim().strip_prefix("export AILEDGER_URL=") {
                url = Some(u.to_owned());
            }
            if let Some(t) = line.trim().strip_prefix("export AILEDGER_TOKEN=") {
                token = t.split_whitespace().next().map(str::to_owned);
            }
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        match (url, token) {
            (Some(url), Some(token)) => return Demo { child, url, token },
            // The port was taken before the demo bound it: try another.
            _ => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    panic!("the demo did not start");
}

impl Demo {
    pub(super) fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .env("AILEDGER_URL", &self.url)
            .env("AILEDGER_TOKEN", &self.token)
            .env(
                "AILEDGER_CONFIG_DIR",
                std::env::temp_dir().join("ailedger-e2e-no-config"),
            )
            .output()
            .unwrap()
    }

    #[track_caller]
    pub(super) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[track_caller]
    pub(super) fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
}

fn fixture(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn deployment<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {report}"))
}

#[test]
fn an_osv_record_hitting_the_demo_supply_chain_gives_a_full_report() {
    let d = demo();
    let record = fixture("incidents/ultralytics-8.3.41.osv.json");
    let out = d.ok(&["osv", "import", &record]);
    let line = out
        .lines()
        .find(|l| l.starts_with("incident #"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains(
            "opened: x_ailedger-test-ultralytics-2024-12 affects pkg:pypi/ultralytics@8.3.41"
        ),
        "{line}"
    );
    assert!(out.contains("1 record files: 1 new"), "{out}");
    let id: u64 = line["incident #".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = d.json(&["incident", "report", &id.to_string()]);
    assert_eq!(r["incident"], id);
    let names: Vec<&str> = r["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    for want in [
        "deployment:prod/defect-inspector",
        "deployment:staging/defect-inspector",
        "deployment:staging/vision-batch",
        "deployment:dev/notebook",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    assert!(!names.contains(&"deployment:prod/support-bot"), "{names:?}");
    // prod: through the fine-tuned model and its training environment; still exposed,
    // with the model trained before the bad release as its known-good.
    let prod = deployment(&r, "deployment:prod/defect-inspector");
    assert_eq!(prod["owner"], "factory-vision");
    assert_eq!(prod["env"], "prod");
    let path: Vec<&str> = prod["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().or(s["id"].as_str()).unwrap())
        .collect();
    assert_eq!(
        path,
        [
            "model:defect-detector@12",
            "environment:vision-train@2",
            "pkg:pypi/ultralytics@8.3.41"
        ]
    );
    assert_eq!(prod["still_exposed"], true);
    let known_good: Vec<&str> = prod["known_good"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(known_good, ["model:defect-detector@11"]);
    // The batch job stopped using it before the advisory was imported.
    let batch = deployment(&r, "deployment:staging/vision-batch");
    assert_eq!(batch["still_exposed"], false);
    let until = batch["exposed_until"]["seq"].as_u64().unwrap();
    assert!(until < id, "stopped at {until}, advisory at {id}");
    assert!(batch["first_exposed"]["seq"].as_u64().unwrap() < until);
    assert!(
        batch["exposed_until"]["time"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // Intermediates: the model fine-tuned in the bad environment, and the environment.
    let mids: Vec<&str> = r["intermediates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(mids.contains(&"environment:vision-train@2"), "{mids:?}");
    // The same report as a table, Markdown and CSV.
    let table = d.ok(&["incident", "report", &id.to_string()]);
    assert!(
        table.contains("LAST KNOWN-GOOD") && table.contains("still exposed"),
        "{table}"
    );
    let md = d.ok(&["incident", "report", &id.to_string(), "--markdown"]);
    assert!(md.starts_with("# Incident #"), "{md}");
    assert!(
        md.contains("| `deployment:staging/vision-batch` | staging | factory-vision |"),
        "{md}"
    );
    let csv = d.ok(&["incident", "report", &id.to_string(), "--csv"]);
    assert!(csv.starts_with("incident,id,kind,"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.contains("deployment:staging/vision-batch") && l.contains(",false,"))
    );
    // Re-importing changes nothing.
    let again = d.ok(&["osv", "import", &record]);
    assert!(again.contains("1 unchanged"), "{again}");
    // The responder takes it and resolves it after rolling prod back.
    d.ok(&[
        "incident",
        "ack",
        &id.to_string(),
        "--note",
        "paging factory-vision",
    ]);
    let out = d.ok(&[
        "deploy",
        "defect-inspector",
        "--env",
        "prod",
        "--rollback-to-known-good",
    ]);
    assert!(
        out.contains("deploy deployment:prod/defect-inspector"),
        "{out}"
    );
    let deps = d.json(&["deps", "deployment:prod/defect-inspector"]);
    assert!(
        deps["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["id"] != "model:defect-detector@12"),
        "{deps}"
    );
    let shown = d.json(&[
        "incident",
        "resolve",
        &id.to_string(),
        "--note",
        "rolled back",
    ]);
    assert_eq!(shown["state"], "resolved");
    let text = d.ok(&["incident", "show", &id.to_string()]);
    assert!(
        text.contains("ack") && text.contains("paging factory-vision"),
        "{text}"
    );
    assert!(
        text.contains("resolve") && text.contains("rolled back"),
        "{text}"
    );
    let listed = d.json(&["incident", "list", "--state", "all"]);
    assert!(
        listed["incidents"].as_array().unwrap().len() >= 2,
        "{listed}"
    );
}

#[test]
fn bad_targets_and_records_are_named_on_one_line() {
    let d = demo();
    for (args, needle) in [
        (
            vec!["compromise", "vers:pypi/>=1", "--reason", "x"],
            "needs its package",
        ),
        (
            vec![
                "compromise",
                "pkg:pypi/x@vers:pypi/>=1|<<2",
                "--reason",
                "x",
            ],
            "<<2",
        ),
        (
            vec![
                "compromise",
                "pkg:pypi/x",
                "--reason",
                "x",
                "--severity",
                "dire",
            ],
            "severity",
        ),
        (
            vec!["compromise", "model:nope@1", "--reason", "x"],
            "model:nope@1",
        ),
    ] {
        let out = d.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Nothing is quarantined in the demo; releasing something not held names it.
    assert!(
        d.ok(&["quarantine", "list"])
            .contains("nothing is quarantined")
    );
    let out = d.run(&["quarantine", "release", "pkg:pypi/requests@2.32.3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("pkg:pypi/requests@2.32.3 is not quarantined"),
        "{err}"
    );
    // A directory with one good record, one that violates the schema and one that is
    // not JSON: the bad ones are named, the good one is applied, exit code 2.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("osv/npm/@flcore/login/MAL-2025-3959.json"),
        dir.path().join("good.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"id": "MAL-2026-1", "modified": "yesterday"}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    let out = d.run(&["osv", "import", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.lines()
            .any(|l| l.contains("bad.json") && l.contains("/modified")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("broken.json") && l.contains("not JSON")),
        "{err}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("3 record files: 1 invalid, 1 new"), "{text}");
}
