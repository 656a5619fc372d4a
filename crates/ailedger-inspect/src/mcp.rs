//! MCP client-config risks. Configs of Claude Desktop/Cursor (`mcpServers`), VS Code
//! (`servers` + `inputs`, settings `mcp.servers`), Claude Code (`projects.*.mcpServers`)
//! and opencode (`mcp`) are read as data; no configured server is ever started.

use crate::findings::{Sink, clip};
use crate::packages::check_into;
use ailedger_core::redact::{self, MARKER, UrlRule};
use serde_json::Value;

/// One configured server, normalised across client formats.
#[derive(Debug, Default)]
struct Server {
    path: String,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    url: Option<String>,
}

fn servers_of(root: &Value) -> Vec<Server> {
    let mut cands: Vec<(String, Option<&Value>)> = vec![
        ("mcpServers".into(), root.get("mcpServers")),
        ("servers".into(), root.get("servers")),
        ("mcp.servers".into(), root.get("mcp.servers")),
        ("context_servers".into(), root.get("context_servers")),
    ];
    if let Some(m) = root.get("mcp") {
        if m.get("servers").is_some() {
            cands.push(("mcp.servers".into(), m.get("servers")));
        } else {
            cands.push(("mcp".into(), Some(m)));
        }
    }
    if let Some(Value::Object(projects)) = root.get("projects") {
        for (p, v) in projects {
            cands.push((format!("projects.{p}.mcpServers"), v.get("mcpServers")));
        }
    }
    let maps = cands.into_iter().filter_map(|(p, v)| match v {
        Some(Value::Object(m)) => Some((p, m)),
        _ => None,
    });
    let mut out = Vec::new();
    for (path, m) in maps {
        for (name, s) in m {
            let Value::Object(o) = s else { continue };
            let mut srv = Server {
                path: format!("{path}.{name}"),
                ..Server::default()
            };
            match o.get("command") {
                Some(Value::String(c)) => srv.argv.extend(c.split_whitespace().map(str::to_string)),
                Some(Value::Array(a)) => srv
                    .argv
                    .extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
                _ => {}
            }
            if let Some(Value::Array(a)) = o.get("args") {
                srv.argv.extend(
                    a.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
                );
            }
            for key in ["env", "environment"] {
                if let Some(Value::Object(e)) = o.get(key) {
                    srv.env.extend(e.iter().map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_string),
                        )
                    }));
                }
            }
            if let Some(Value::Object(h)) = o.get("headers") {
                srv.headers.extend(h.iter().map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                }));
            }
            srv.url = ["url", "serverUrl", "uri"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(str::to_string);
            out.push(srv);
        }
    }
    out
}

fn basename(s: &str) -> &str {
    let b = s.rsplit(['/', '\\']).next().unwrap_or(s);
    b.strip_suffix(".exe")
        .or_else(|| b.strip_suffix(".cmd"))
        .unwrap_or(b)
}

/// Is the value only references (`${input:x}`, `${env:X}`, `$X`, `{env:X}`, `%X%`)?
fn is_reference(v: &str) -> bool {
    redact::is_reference(v)
}

/// A documentation placeholder, not a secret: the rule redaction uses, so that what
/// inspection reports and what ingest removes agree.
fn is_placeholder(v: &str) -> bool {
    redact::is_placeholder(v)
}

/// Token-shaped secret in `v`? Returns the kind. The one detector, shared with what
/// ingest removes (`ailedger_core::redact`).
pub(crate) fn secret_kind(v: &str) -> Option<&'static str> {
    redact::secret_kind(v)
}

fn secretish_key(k: &str) -> bool {
    let u = k.to_ascii_uppercase();
    [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "AUTH",
        "CREDENTIAL",
    ]
    .iter()
    .any(|p| u.contains(p))
}

fn high_entropy_literal(v: &str) -> bool {
    let v = v.trim();
    v.len() >= 16
        && !v.contains(' ')
        && !is_reference(v)
        && !is_placeholder(v)
        && v.chars().any(|c| c.is_ascii_digit())
        && v.chars().any(|c| c.is_ascii_alphabetic())
}

fn loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.starts_with("127.")
        || h == "::1"
        || h == "0.0.0.0"
        || h.ends_with(".localhost")
}

fn check_url(url: &str, sink: &mut Sink, path: &str) {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        if let Some((scheme, after)) = url.split_once("://") {
            check_userinfo(scheme, after, url, sink, path);
        }
        return;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let host = if hostport.starts_with('[') {
        hostport
            .split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    if url.starts_with("http://") && !loopback(host) {
        sink.add(
            "AIL-MCP-006",
            format!("{path}: plain http:// to {host} (traffic and tokens are readable on the way)"),
            clip(&redact::url(url, UrlRule::Endpoint), 160),
            None,
        );
    }
    let scheme = if url.starts_with("https") {
        "https"
    } else {
        "http"
    };
    check_userinfo(scheme, rest, url, sink, path);
    if let Some(q) = url.split_once('?').map(|x| x.1) {
        for pair in q.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let kl = k.to_ascii_lowercase();
            let named = ["key", "token", "secret", "password", "auth", "sig", "code"]
                .iter()
                .any(|p| kl.contains(p));
            if (named && !v.is_empty() && !is_reference(v) && !is_placeholder(v))
                || secret_kind(v).is_some()
            {
                sink.add(
                    "AIL-MCP-005",
                    format!("{path}: URL query parameter {k:?} carries a literal secret"),
                    format!("{k}={MARKER}"),
                    None,
                );
            }
        }
    }
}

fn check_userinfo(scheme: &str, after: &str, url: &str, sink: &mut Sink, path: &str) {
    let authority = after.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, pass)) = userinfo.split_once(':')
        && !pass.is_empty()
        && !is_reference(pass)
    {
        sink.add(
            "AIL-MCP-005",
            format!("{path}: {scheme} URL embeds a password"),
            clip(&redact::url(url, UrlRule::Endpoint), 160),
            None,
        );
    }
}

const SHELLS: &[&str] = &[
    "bash",
    "sh",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "cmd",
    "powershell",
    "pwsh",
];

fn check_launch(s: &Server, sink: &mut Sink) {
    let Some(cmd0) = s.argv.first() else { return };
    let path = &s.path;
    let exe = basename(cmd0).to_ascii_lowercase();
    let args: Vec<&str> = s.argv.iter().skip(1).map(String::as_str).collect();
    let jl = s.argv.join(" ").to_ascii_lowercase();
    // Evidence quotes the command line with its secrets removed (`--token VALUE` is
    // only recognisable as argv, not as joined text).
    let mut shown = s.argv.clone();
    redact::args(&mut shown);
    let joined = shown.join(" ");
    // Shell wrappers and download-and-run.
    if SHELLS.contains(&exe.as_str())
        && args.iter().any(|a| {
            matches!(
                a.to_ascii_lowercase().as_str(),
                "-c" | "/c" | "-command" | "-lc" | "-ic" | "/k"
            )
        })
    {
        sink.add(
            "AIL-MCP-003",
            format!("{path}: launched through `{exe} -c` (arbitrary shell)"),
            clip(&joined, 200),
            None,
        );
    }
    let downloads = [
        "curl ",
        "wget ",
        "iwr ",
        "invoke-webrequest",
        "irm ",
        "invoke-restmethod",
    ];
    let pipes = [
        "| sh", "|sh", "| bash", "|bash", "| iex", "|iex", "| python", "|python", "| zsh", "| sudo",
    ];
    if downloads.iter().any(|d| jl.contains(d)) && pipes.iter().any(|p| jl.contains(p)) {
        sink.add(
            "AIL-MCP-004",
            format!("{path}: downloads a script and pipes it into a shell"),
            clip(&joined, 200),
            None,
        );
    }
    // Package runners.
    let runner = match exe.as_str() {
        "npx" | "bunx" => Some(("npm", 0usize)),
        "pnpm" | "yarn" if args.first().is_some_and(|a| *a == "dlx") => Some(("npm", 1)),
        "npm" if args.first().is_some_and(|a| *a == "exec") => Some(("npm", 1)),
        "uvx" | "pipx" => Some((
            "pypi",
            usize::from(exe == "pipx" && args.first().is_some_and(|a| *a == "run")),
        )),
        "uv" if args.first().is_some_and(|a| *a == "tool")
            && args.get(1).is_some_and(|a| *a == "run") =>
        {
            Some(("pypi", 2))
        }
        _ => None,
    };
    if let Some((eco, skip)) = runner {
        let mut pkg: Option<String> = None;
        let mut i = skip;
        while let Some(a) = args.get(i) {
            if let Some(v) = a
                .strip_prefix("--package=")
                .or_else(|| a.strip_prefix("--from="))
            {
                pkg = Some(v.to_string());
                break;
            }
            if matches!(*a, "--package" | "-p" | "--from") {
                pkg = args.get(i + 1).map(|s| s.to_string());
                break;
            }
            if !a.starts_with('-') {
                pkg = Some(a.to_string());
                break;
            }
            i += 1;
        }
        if let Some(p) = pkg {
            let (name, version) = split_spec(eco, &p);
            let pinned = version.as_deref().is_some_and(|v| {
                !v.is_empty()
                    && !matches!(v, "latest" | "next" | "*" | "x")
                    && !v.starts_with(['^', '~', '>', '<'])
                    && !v.contains(['x', '*'])
            });
            if !pinned {
                let why = match version.as_deref() {
                    Some(v) if !v.is_empty() => format!("version {v:?} floats"),
                    _ => "no version".to_string(),
                };
                sink.add(
                    "AIL-MCP-001",
                    format!(
                        "{path}: `{exe}` runs {p} with {why}; every launch may fetch different code"
                    ),
                    p.clone(),
                    None,
                );
            }
            let before = sink.findings.len();
            check_into(eco, &name, sink, None);
            for f in sink.findings.iter_mut().skip(before) {
                if f.code == "AIL-PKG-001" {
                    f.code = "AIL-MCP-010".into();
                    f.message = format!("{path}: {}", f.message);
                }
            }
        }
    }
    if matches!(exe.as_str(), "docker" | "podman" | "nerdctl")
        && args.first().is_some_and(|a| *a == "run")
    {
        check_docker(path, args.get(1..).unwrap_or(&[]), sink);
    }
    // Broad filesystem roots passed as arguments.
    for a in &args {
        let t = a.trim_end_matches(['/', '\\']);
        let home_like = {
            let parts: Vec<&str> = a
                .trim_end_matches('/')
                .split('/')
                .filter(|p| !p.is_empty())
                .collect();
            a.starts_with('/')
                && parts.len() == 2
                && matches!(parts.first(), Some(&"home") | Some(&"Users"))
        };
        let broad = *a == "/"
            || matches!(
                t,
                "~" | "$HOME"
                    | "${HOME}"
                    | "${env:HOME}"
                    | "%USERPROFILE%"
                    | "${userHome}"
                    | "/home"
                    | "/Users"
                    | "/root"
                    | "C:"
                    | "c:"
                    | "/etc"
                    | "/var"
            )
            || home_like;
        if broad {
            sink.add(
                "AIL-MCP-007",
                format!("{path}: exposes the broad filesystem root {a:?} to the server"),
                a.to_string(),
                None,
            );
        }
    }
}

fn split_spec(eco: &str, p: &str) -> (String, Option<String>) {
    if eco == "pypi" {
        for sep in ["===", "==", "@", ">=", "~=", "<=", ">", "<"] {
            if let Some((n, v)) = p.split_once(sep) {
                let v = if sep == "==" || sep == "===" || sep == "@" {
                    v.to_string()
                } else {
                    format!("{sep}{v}")
                };
                let n = n.split('[').next().unwrap_or(n);
                return (n.to_string(), Some(v));
            }
        }
        return (p.split('[').next().unwrap_or(p).to_string(), None);
    }
    // npm: @scope/name@version or name@version
    let (scope_at, body) = if let Some(b) = p.strip_prefix('@') {
        ("@", b)
    } else {
        ("", p)
    };
    match body.split_once('@') {
        Some((n, v)) => (format!("{scope_at}{n}"), Some(v.to_string())),
        None => (p.to_string(), None),
    }
}

const VALUE_FLAGS: &[&str] = &[
    "-e",
    "--env",
    "-v",
    "--volume",
    "--name",
    "-p",
    "--publish",
    "--network",
    "--net",
    "--mount",
    "-w",
    "--workdir",
    "--env-file",
    "-u",
    "--user",
    "--entrypoint",
    "-l",
    "--label",
    "--platform",
    "--cap-add",
    "--cap-drop",
    "--add-host",
    "--device",
    "-m",
    "--memory",
    "--cpus",
    "--pid",
    "--ipc",
    "--security-opt",
    "-h",
    "--hostname",
    "--restart",
    "--log-driver",
    "--tmpfs",
    "--ulimit",
    "--volumes-from",
    "--network-alias",
    "--runtime",
    "--gpus",
    "--shm-size",
    "--userns",
    "--uts",
    "--dns",
    "--expose",
    "--health-cmd",
    "--stop-signal",
    "--cidfile",
];

fn check_docker(path: &str, args: &[&str], sink: &mut Sink) {
    let mut i = 0;
    let mut image: Option<&str> = None;
    while let Some(a) = args.get(i) {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v)),
            _ => (*a, None),
        };
        if !flag.starts_with('-') {
            image = Some(a);
            break;
        }
        let takes = VALUE_FLAGS.contains(&flag);
        let val = if takes && inline.is_none() {
            i += 1;
            args.get(i).copied()
        } else {
            inline
        };
        let v = val.unwrap_or("");
        match flag {
            "--privileged" => sink.add(
                "AIL-MCP-008",
                format!("{path}: container runs --privileged (full host access)"),
                "--privileged",
                None,
            ),
            "--network" | "--net" if v == "host" => {
                sink.add(
                    "AIL-MCP-009",
                    format!("{path}: container shares the host network"),
                    format!("{flag}={v}"),
                    None,
                );
            }
            "--pid" | "--ipc" | "--uts" | "--userns" if v == "host" => {
                sink.add(
                    "AIL-MCP-009",
                    format!("{path}: container shares the host {flag} namespace"),
                    format!("{flag}={v}"),
                    None,
                );
            }
            "--cap-add"
                if matches!(
                    v.to_ascii_uppercase().as_str(),
                    "ALL" | "SYS_ADMIN" | "SYS_PTRACE" | "SYS_MODULE"
                ) =>
            {
                sink.add(
                    "AIL-MCP-008",
                    format!("{path}: container gets capability {v}"),
                    format!("--cap-add={v}"),
                    None,
                );
            }
            "-v" | "--volume" | "--mount" => {
                let src = if flag == "--mount" {
                    v.split(',')
                        .find_map(|kv| {
                            kv.strip_prefix("source=")
                                .or_else(|| kv.strip_prefix("src="))
                        })
                        .unwrap_or("")
                } else {
                    v.split(':').next().unwrap_or("")
                };
                if src.ends_with("docker.sock") {
                    sink.add(
                        "AIL-MCP-008",
                        format!("{path}: mounts the Docker socket (control of the host)"),
                        v.to_string(),
                        None,
                    );
                } else if src == "/"
                    || matches!(
                        src,
                        "~" | "$HOME" | "${HOME}" | "/home" | "/Users" | "/root" | "/etc"
                    )
                {
                    sink.add(
                        "AIL-MCP-009",
                        format!("{path}: mounts the host path {src:?} into the container"),
                        v.to_string(),
                        None,
                    );
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(img) = image {
        let last = img.rsplit('/').next().unwrap_or(img);
        if !img.contains("@sha256:") {
            let tag = last.split_once(':').map(|(_, t)| t);
            if tag.is_none_or(|t| t == "latest") {
                sink.add(
                    "AIL-MCP-002",
                    format!(
                        "{path}: image {img} is {}; pin a version tag or digest",
                        if tag.is_none() {
                            "untagged"
                        } else {
                            "tagged latest"
                        }
                    ),
                    img.to_string(),
                    None,
                );
            }
        }
    }
}

fn hidden_unicode(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        matches!(c as u32,
            0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0x00AD | 0x180E
            | 0xE0000..=0xE007F)
    })
}

const INSTRUCTIONS: &[&str] = &[
    "ignore previous instructions",
    "ignore all previous",
    "ignore the previous",
    "disregard previous",
    "disregard all",
    "do not tell the user",
    "don't tell the user",
    "do not mention",
    "without telling",
    "without informing",
    "do not inform",
    "<important>",
    "</important>",
    "system prompt",
    "you must first",
    "before using this tool",
    "read ~/.ssh",
    "id_rsa",
    ".ssh/",
    "exfiltrate",
    "send the contents",
    "do not reveal",
    "keep this secret",
    "the user must not",
    "<secret>",
    "sidenote",
];

fn walk_strings(v: &Value, key: &str, path: &str, sink: &mut Sink) {
    match v {
        Value::String(s) => {
            if let Some(c) = hidden_unicode(s).or_else(|| hidden_unicode(key)) {
                sink.add(
                    "AIL-MCP-011",
                    format!("{path}: contains hidden Unicode U+{:04X}", c as u32),
                    format!(
                        "U+{:04X} in {}",
                        c as u32,
                        clip(
                            &s.chars().filter(|c| !c.is_control()).collect::<String>(),
                            80
                        )
                    ),
                    None,
                );
            }
            let kl = key.to_ascii_lowercase();
            if kl.contains("description")
                || kl.contains("instruction")
                || kl.contains("prompt")
                || kl == "title"
            {
                let l = s.to_ascii_lowercase();
                if let Some(p) = INSTRUCTIONS.iter().find(|p| l.contains(*p)) {
                    sink.add(
                        "AIL-MCP-012",
                        format!("{path}: description contains instruction-like text ({p:?})"),
                        clip(s, 160),
                        None,
                    );
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_strings(x, key, &format!("{path}[{i}]"), sink);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                walk_strings(x, k, &format!("{path}.{k}"), sink);
            }
        }
        _ => {}
    }
}

pub(crate) fn check(root: &Value, sink: &mut Sink) {
    let servers = servers_of(root);
    if servers.is_empty() {
        sink.add("AIL-MCP-013", "no MCP servers recognised (mcpServers, servers, mcp.servers, projects.*.mcpServers, mcp)", "", None);
    }
    for s in &servers {
        check_launch(s, sink);
        if let Some(u) = &s.url {
            check_url(u, sink, &s.path);
        }
        for a in s.argv.iter().skip(1) {
            if a.contains("://") {
                check_url(a, sink, &s.path);
            } else if let Some(kind) = secret_kind(a) {
                sink.add(
                    "AIL-MCP-005",
                    format!("{}: argument holds a literal {kind}", s.path),
                    MARKER,
                    None,
                );
            }
        }
        for (k, v) in &s.env {
            let kind = secret_kind(v).or_else(|| {
                (secretish_key(k) && high_entropy_literal(v)).then_some("secret-named variable")
            });
            if let Some(kind) = kind {
                sink.add(
                    "AIL-MCP-005",
                    format!("{}: env {k} holds a literal {kind}", s.path),
                    format!("{k}={MARKER}"),
                    None,
                );
            }
            if v.contains("://") {
                check_url(v, sink, &format!("{}.env.{k}", s.path));
            }
        }
        for (k, v) in &s.headers {
            let kind = secret_kind(v).or_else(|| {
                (secretish_key(k) && high_entropy_literal(v)).then_some("secret-named header")
            });
            if let Some(kind) = kind {
                sink.add(
                    "AIL-MCP-005",
                    format!("{}: header {k} holds a literal {kind}", s.path),
                    format!("{k}: {MARKER}"),
                    None,
                );
            }
        }
    }
    walk_strings(root, "", "$", sink);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_not_secrets() {
        assert_eq!(secret_kind("${input:github_token}"), None);
        assert_eq!(secret_kind("${env:GITHUB_TOKEN}"), None);
        assert_eq!(secret_kind("Bearer ${input:token}"), None);
        assert_eq!(
            secret_kind("ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"),
            Some("GitHub token")
        );
        assert_eq!(
            secret_kind("sk-proj-EXAMPLEEXAMPLEEXAMPLE"),
            Some("API secret key (sk-)")
        );
        assert!(secret_kind("AKIAIOSFODNN7EXAMPLE").is_some());
    }

    #[test]
    fn specs() {
        assert_eq!(
            split_spec("npm", "@scope/x@1.2.3"),
            ("@scope/x".into(), Some("1.2.3".into()))
        );
        assert_eq!(split_spec("npm", "pkg"), ("pkg".into(), None));
        assert_eq!(
            split_spec("pypi", "mcp-server-fetch==2025.4.7"),
            ("mcp-server-fetch".into(), Some("2025.4.7".into()))
        );
    }
}
