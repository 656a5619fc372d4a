//! Secrets are never stored, end to end: the real binary ingests documents with secrets
//! in every position into a real `serve` on loopback, and no byte of any secret appears
//! in the CLI's output, the server's log, any API answer or the database files. And
//! `-r` includes are confined to the document's directory.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use sha2::Digest as _;

use super::{BIN, cli, free_port};

/// Each secret below holds exactly one of these; nothing else in the test does.
const SECRETS: &[&str] = &[
    "QENVSECRETQ",
    "QHDRSECRETQ",
    "QUSERPWQ",
    "QPATHSECRET",
    "QQUERYSECRETQ",
    "QARGEQSECRETQ",
    "QTOKENARGQ",
    "QHARGBEARERQ",
    "QGHPSECRETQ",
    "QSKSECRETQ",
    "QBAREBEARERQ",
    "QINDEXPWQ",
];

const MCP: &str = r#"{
  "mcpServers": {
    "stdio": {
      "command": "npx",
      "args": ["-y", "@example/mcp-server@1.2.3", "--api-key=zQARGEQSECRETQ9", "--token", "zQTOKENARGQ9",
               "-H", "Authorization: Bearer zQHARGBEARERQ9", "ghp_zQGHPSECRETQ9abcdefghijklmn",
               "sk-proj-zQSKSECRETQ9abcdefgh", "Bearer zQBAREBEARERQ9xyz"],
      "env": {"OPENAI_API_KEY": "zQENVSECRETQ9"}
    },
    "remote": {
      "url": "https://admin:zQ/USER@PW:QUSERPWQ9@mcp.example.invalid/v1/QPATHSECRET0123456789xyz/sse?api_key=zQQUERYSECRETQ9",
      "headers": {"X-Api-Key": "zQHDRSECRETQ9"}
    }
  }
}
"#;

#[track_caller]
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds the secret {s}");
    }
}

#[test]
fn secrets_never_leave_the_cli_or_reach_the_server_log_or_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("l.db");
    let log = tmp.path().join("serve.log");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--init-admin-token")
        .arg(tmp.path().join("admin.token"))
        // Everything the server logs, at its most verbose.
        .env("AILEDGER_LOG", "trace")
        .env("AILEDGER_LOG_KEY", tmp.path().join("log.key"))
        .stdout(Stdio::from(
            std::fs::File::create(tmp.path().join("serve.out")).unwrap(),
        ))
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = loop {
        if let Ok(t) = std::fs::read_to_string(tmp.path().join("admin.token"))
            && t.ends_with('\n')
        {
            break t.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "no admin token");
        std::thread::sleep(Duration::from_millis(50));
    };
    let cli = |url: &str, args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("AILEDGER_URL", url)
            .env("AILEDGER_TOKEN", &token)
            .env(
                "AILEDGER_CONFIG_DIR",
                std::env::temp_dir().join("ailedger-e2e-no-config"),
            )
            .output()
            .unwrap()
    };
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("mcp.json"), MCP).unwrap();
    std::fs::write(
        docs.join("requirements.txt"),
        "--extra-index-url https://u:zQ/IDX@PW:QINDEXPWQ9@pypi.example.invalid/simple\nrequests==2.32.3\n",
    )
    .unwrap();
    let files = [
        docs.join("mcp.json").to_string_lossy().into_owned(),
        docs.join("requirements.txt").to_string_lossy().into_owned(),
    ];
    let mut outputs = Vec::new();
    // Human output (warnings and findings printed), then JSON (the second run is
    // "unchanged", recognised by the submitted digest).
    let out = cli(&url, &["ingest", &files[0], &files[1]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        human.contains("warning: /mcpServers/stdio/env/OPENAI_API_KEY"),
        "{human}"
    );
    assert!(human.contains("stored redacted: sha256:"), "{human}");
    outputs.push(out);
    let out = cli(&url, &["ingest", &files[0], &files[1], "--format", "json"]);
    assert!(out.status.success());
    let views: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(views[0]["unchanged"], true, "{views}");
    outputs.push(out);
    let digest = views[0]["digest"].as_str().unwrap().to_owned();
    let original = views[0]["original_digest"].as_str().unwrap().to_owned();
    // What a user reads back: the entries, the document artifact (by the digest of the
    // file on their disk), the server it uses, the stored bytes.
    for args in [
        vec!["entries", "--limit", "100", "--format", "json"],
        vec!["show", &original],
        vec!["show", &original, "--format", "json"],
        vec!["deps", &original, "--format", "json"],
        vec![
            "impact",
            "pkg:npm/%40example/mcp-server@1.2.3",
            "--format",
            "json",
        ],
    ] {
        let out = cli(&url, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(out);
    }
    let show = String::from_utf8_lossy(&outputs[3].stdout).into_owned();
    assert!(show.contains(&digest), "{show}");
    let auth = format!("Authorization: Bearer {token}");
    let raw = Command::new("curl")
        .args(["-sf", "-H", &auth, &format!("{url}/v1/documents/{digest}")])
        .output()
        .unwrap();
    assert!(raw.status.success());
    assert!(String::from_utf8_lossy(&raw.stdout).contains("<redacted>"));
    outputs.push(raw);
    for (i, o) in outputs.iter().enumerate() {
        assert_clean(&format!("output {i} (stdout)"), &o.stdout);
        assert_clean(&format!("output {i} (stderr)"), &o.stderr);
    }
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read(&log).unwrap();
    // Nor is the admin token (written to its 0600 file, never logged, even at trace).
    assert!(
        !String::from_utf8_lossy(&logged).contains(&token),
        "the server logged its admin token"
    );
    assert!(
        !logged.is_empty(),
        "the server logged nothing at trace level"
    );
    assert_clean("the server's log", &logged);
    for f in std::fs::read_dir(tmp.path()).unwrap() {
        let p = f.unwrap().path();
        if p.is_file() && p.file_name().unwrap().to_string_lossy().starts_with("l.db") {
            assert_clean(&p.display().to_string(), &std::fs::read(&p).unwrap());
        }
    }
}

fn write(p: &Path, s: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, s).unwrap();
}

#[test]
fn includes_are_confined_to_the_documents_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let server = super::serve(&tmp.path().join("l.db").to_string_lossy());
    let url = server.url.clone();
    let project = tmp.path().join("project");
    // Outside the project: a local MCP config a malicious include points at.
    write(
        &tmp.path().join("home/.claude.json"),
        r#"{"mcpServers": {"leak": {"command": "uvx", "args": ["outside-marker-pkg==1.0"]}}}"#,
    );
    write(&project.join("base.txt"), "numpy==2.0.0\n");
    write(
        &project.join("sub/dev.txt"),
        "-r ../base.txt\npytest==8.0.0\n",
    );
    write(
        &project.join("ok.txt"),
        "-r sub/dev.txt\nrequests==2.32.3\n",
    );
    write(
        &project.join("evil.txt"),
        "-r ../home/.claude.json\nflask==3.0.0\n",
    );
    write(
        &project.join("abs.txt"),
        &format!(
            "-r {}\nflask==3.0.1\n",
            tmp.path().join("home/.claude.json").display()
        ),
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            tmp.path().join("home/.claude.json"),
            project.join("link.txt"),
        )
        .unwrap();
        write(&project.join("via-link.txt"), "-r link.txt\nflask==3.0.2\n");
    }
    // Inside: followed, nested includes too (`sub/dev.txt` names `../base.txt`, still
    // inside the directory of the document given).
    let v: Value = serde_json::from_slice(
        &cli(
            &url,
            &[
                "ingest",
                project.join("ok.txt").to_str().unwrap(),
                "--format",
                "json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    // Outside (by `..`, by an absolute path, through a symlink): exit 2, one line
    // naming the include, the file never read.
    let mut cases = vec![
        ("evil.txt", "../home/.claude.json".to_owned()),
        (
            "abs.txt",
            tmp.path().join("home/.claude.json").display().to_string(),
        ),
    ];
    if cfg!(unix) {
        cases.push(("via-link.txt", "link.txt".to_owned()));
    }
    for (doc, inc) in cases {
        let (code, line) = super::fails(&url, &["ingest", project.join(doc).to_str().unwrap()]);
        assert_eq!(code, 2, "{doc}: {line}");
        assert!(
            line.contains(&format!("{inc:?}")) && line.contains("--allow-includes-outside"),
            "{doc}: {line}"
        );
    }
    // The outside file was never uploaded: its digest names nothing.
    let outside = std::fs::read(tmp.path().join("home/.claude.json")).unwrap();
    let outside = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&outside)));
    assert!(!cli(&url, &["show", &outside]).status.success());
    // Allowed explicitly: followed. (A fresh file: an unchanged one is answered
    // without its includes.)
    write(
        &project.join("evil2.txt"),
        "-r ../home/.claude.json\nflask==3.0.3\n",
    );
    let out = cli(
        &url,
        &[
            "ingest",
            "--allow-includes-outside",
            project.join("evil2.txt").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    assert!(cli(&url, &["show", &outside]).status.success());
}
