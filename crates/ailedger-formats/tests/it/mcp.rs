//! MCP client configs: all fixtures parse; servers are identified by what they
//! launch; runner packages are recorded; secrets never appear in the output.

use ailedger_formats::{McpFlavour, Options, parse};

use crate::{FIXTURES, count_edges, parse_ok, read};

/// File, flavour, servers, `runs` edges.
const TABLE: &[(&str, McpFlavour, usize, usize)] = &[
    ("github-mcp-server__root__2.json", McpFlavour::VsCode, 1, 0),
    ("github-mcp-server__root__7.json", McpFlavour::VsCode, 1, 1),
    (
        "github-mcp-server__root__8.json",
        McpFlavour::VsCodeSettings,
        1,
        0,
    ),
    (
        "mcp-scan__configs_files__1.json",
        McpFlavour::McpServers,
        2,
        0,
    ),
    ("playwright-mcp__root__1.json", McpFlavour::McpServers, 1, 1),
    (
        "playwright-mcp__root__10.json",
        McpFlavour::McpServers,
        1,
        0,
    ),
    (
        "playwright-mcp__root__11.json",
        McpFlavour::McpServers,
        1,
        1,
    ),
    ("playwright-mcp__root__7.json", McpFlavour::Opencode, 1, 1),
    ("servers__fetch__1.json", McpFlavour::McpServers, 1, 1),
    ("servers__filesystem__1.json", McpFlavour::McpServers, 1, 1),
    ("servers__filesystem__2.json", McpFlavour::McpServers, 1, 1),
    ("servers__filesystem__4.json", McpFlavour::VsCode, 1, 1),
    ("servers__git__3.json", McpFlavour::McpServers, 1, 1),
    ("servers__memory__4.json", McpFlavour::McpServers, 1, 1),
    ("servers__time__2.json", McpFlavour::McpServers, 1, 1),
    ("synthetic__pinned_good.json", McpFlavour::McpServers, 3, 3),
    ("synthetic__risky_remote.json", McpFlavour::McpServers, 3, 0),
    ("synthetic__risky_stdio.json", McpFlavour::McpServers, 5, 4),
];

#[test]
fn every_mcp_fixture_parses() {
    let n = std::fs::read_dir(format!("{FIXTURES}/mcp"))
        .unwrap()
        .count();
    assert_eq!(n, TABLE.len(), "a fixture is missing from the table");
    for (file, flavour, servers, runs) in TABLE {
        let doc = parse_ok(&read(&format!("{FIXTURES}/mcp/{file}")));
        assert_eq!(
            doc.format,
            ailedger_formats::Format::McpConfig { flavour: *flavour },
            "{file}"
        );
        assert_eq!(doc.document.kind.as_str(), "mcp-config");
        assert_eq!(count_edges(&doc, "uses-tool"), *servers, "{file}");
        assert_eq!(count_edges(&doc, "runs"), *runs, "{file}");
        let n_servers = doc
            .artifacts
            .iter()
            .filter(|a| a.kind.as_str() == "mcp-server")
            .count();
        assert_eq!(n_servers, *servers, "{file}");
    }
}

#[test]
fn secrets_are_never_stored() {
    for file in [
        "synthetic__risky_stdio.json",
        "synthetic__risky_remote.json",
        "github-mcp-server__root__8.json",
    ] {
        let doc = parse_ok(&read(&format!("{FIXTURES}/mcp/{file}")));
        let out = format!("{:?}", doc);
        for secret in [
            "sk-proj-EXAMPLE",
            "wJalrXUtnFEMI",
            "hunter2",
            "EXAMPLEKEY123",
            "ghp_EXAMPLE",
            "<YOUR_TOKEN>",
        ] {
            assert!(!out.contains(secret), "{file} leaks {secret}");
        }
    }
    // Key names stay; values become the marker.
    let bytes = read(&format!("{FIXTURES}/mcp/synthetic__risky_stdio.json"));
    let d = parse(&bytes, &Options::new([1; 32])).unwrap();
    let db = d
        .artifacts
        .iter()
        .find(|a| a.name.as_deref() == Some("db"))
        .unwrap();
    assert_eq!(db.attrs["env"]["OPENAI_API_KEY"], "<redacted>");
    // Variable references are not secrets and are kept as written.
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/mcp/github-mcp-server__root__7.json"
    )));
    let s = doc
        .artifacts
        .iter()
        .find(|a| a.kind.as_str() == "mcp-server")
        .unwrap();
    assert_eq!(
        s.attrs["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"]["ref"],
        "${input:github_token}"
    );
    assert_eq!(doc.document.attrs["inputs"][0]["id"], "github_token");
}

#[test]
fn a_server_is_identified_by_what_it_launches() {
    let id = |file: &str, name: &str| {
        let doc = parse_ok(&read(&format!("{FIXTURES}/mcp/{file}")));
        doc.artifacts
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .unwrap()
            .id
            .clone()
    };
    // `uvx mcp-server-fetch` under two names in two configs: one server.
    let a = id("servers__fetch__1.json", "fetch");
    assert_eq!(a, id("synthetic__risky_stdio.json", "py"));
    assert!(a.starts_with("mcp-server:mcp-server-fetch@"), "{a}");
    // Pinned and unpinned launches differ.
    assert_ne!(a, id("synthetic__pinned_good.json", "fetch"));
}

#[test]
fn runner_packages_and_images() {
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/mcp/synthetic__pinned_good.json"
    )));
    let mut pkgs: Vec<&str> = doc
        .artifacts
        .iter()
        .filter(|a| a.kind.as_str() == "package")
        .map(|a| a.id.as_str())
        .collect();
    pkgs.sort_unstable();
    let zeros = "0".repeat(64);
    assert_eq!(
        pkgs,
        [
            "pkg:npm/%40modelcontextprotocol/server-filesystem@2025.8.21".to_owned(),
            format!(
                "pkg:oci/github-mcp-server@sha256:{zeros}?repository_url=ghcr.io%2Fgithub%2Fgithub-mcp-server"
            ),
            "pkg:pypi/mcp-server-fetch@2025.4.7".to_owned(),
        ]
    );
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/mcp/playwright-mcp__root__1.json"
    )));
    let p = doc
        .artifacts
        .iter()
        .find(|a| a.kind.as_str() == "package")
        .unwrap();
    assert_eq!(p.id, "pkg:npm/%40playwright/mcp");
    assert_eq!(p.attrs["pinned"], false);
    // Remote servers: the URL is kept without query values.
    let doc = parse_ok(&read(&format!(
        "{FIXTURES}/mcp/synthetic__risky_remote.json"
    )));
    let s = doc
        .artifacts
        .iter()
        .find(|a| a.name.as_deref() == Some("token-in-url"))
        .unwrap();
    assert_eq!(
        s.attrs["url"],
        "https://mcp.example.invalid/mcp?api_key=<redacted>"
    );
}

#[test]
fn claude_code_projects_are_read() {
    let cfg = r#"{"numStartups": 3, "projects": {"/home/u/app": {"mcpServers": {"mem": {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@0.6.2"]}}},
                 "/home/u/other": {"mcpServers": {}}}}"#;
    let doc = parse_ok(cfg.as_bytes());
    assert_eq!(
        doc.format,
        ailedger_formats::Format::McpConfig {
            flavour: McpFlavour::ClaudeCode
        }
    );
    assert_eq!(count_edges(&doc, "runs"), 1);
}
