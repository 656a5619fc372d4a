//! MCP client configurations (Claude Desktop / Cursor / Windsurf `mcpServers`, VS Code
//! `servers` and `mcp.servers`, Claude Code `projects.*.mcpServers`, opencode `mcp`).
//!
//! The config is an `mcp-config` artifact that `uses-tool` each server. A server's
//! identity is what it launches, not what a config calls it: `mcp-server:<target>@<h>`
//! where `<h>` is the first 12 hex digits of SHA-256 over its canonical launch spec
//! (transport + command + args, or transport + URL, after redaction) and `<target>` a
//! readable summary of the same spec; so two configs launching the same thing name the
//! same server. A stdio server launched through a package runner (`npx`, `uvx`,
//! `docker run`…) `runs` the package or image it names.
//!
//! Secrets are never stored: `env` and `headers` values, URL query values and URL
//! passwords are replaced by `sha256(salt || value)` so a change is detectable but the
//! value is not recoverable. Pure variable references (`${input:x}`, `${env:X}`) are
//! kept as written.

use ailedger_core::redact::{self, UrlRule};
use ailedger_core::{ArtifactKind, EdgeKind, Purl};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{
    Error, McpFlavour,
    graph::{Ctx, fact, named_ref},
    json::{at, type_name},
};

fn is_server_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.values().all(|s| {
            s.as_object().is_some_and(|o| {
                o.contains_key("command") || o.contains_key("url") || o.contains_key("type")
            })
        })
    })
}

/// Which layout an MCP config uses, if it is one.
pub(crate) fn flavour(obj: &Map<String, Value>) -> Option<McpFlavour> {
    let projects_have_servers = obj
        .get("projects")
        .and_then(Value::as_object)
        .is_some_and(|p| p.values().any(|v| v.get("mcpServers").is_some()));
    if projects_have_servers {
        return Some(McpFlavour::ClaudeCode);
    }
    if obj.get("mcpServers").is_some_and(Value::is_object) {
        return Some(McpFlavour::McpServers);
    }
    if obj.get("servers").is_some_and(is_server_map) {
        return Some(McpFlavour::VsCode);
    }
    if let Some(mcp) = obj.get("mcp").and_then(Value::as_object) {
        if mcp.get("servers").is_some_and(is_server_map) {
            return Some(McpFlavour::VsCodeSettings);
        }
        let opencode = obj
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("opencode"));
        if opencode || is_server_map(&Value::Object(mcp.clone())) {
            return Some(McpFlavour::Opencode);
        }
    }
    None
}

/// Stores a secret-bearing map (env, headers): key → `{"ref": …}` for a pure variable
/// reference, else the marker `<redacted>` (`ailedger_core::redact`).
fn secret_map(m: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in m {
        let kept = match v {
            Value::String(s) if redact::is_reference(s) => json!({ "ref": s }),
            Value::String(s) if s.is_empty() => Value::from(""),
            Value::Null | Value::Bool(_) => v.clone(),
            _ => Value::from(redact::MARKER),
        };
        out.insert(k.clone(), kept);
    }
    out
}

pub(crate) fn parse(root: Value, flavour: McpFlavour, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let Some(obj) = root.as_object() else {
        return Err(ctx.err("/", "expected an object"));
    };
    let mut servers: Vec<(String, &Value, String)> = Vec::new();
    fn add_map<'a>(
        servers: &mut Vec<(String, &'a Value, String)>,
        v: Option<&'a Value>,
        base: &str,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        match v {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Object(m)) => {
                for (name, s) in m {
                    servers.push((name.clone(), s, at(base, name)));
                }
                Ok(())
            }
            Some(other) => {
                let fault = format!("expected an object of servers, found {}", type_name(other));
                ctx.repair(base, &fault, "no servers recorded from it")
            }
        }
    }
    match flavour {
        McpFlavour::McpServers => add_map(&mut servers, obj.get("mcpServers"), "/mcpServers", ctx)?,
        McpFlavour::VsCode => add_map(&mut servers, obj.get("servers"), "/servers", ctx)?,
        McpFlavour::VsCodeSettings => add_map(
            &mut servers,
            obj.get("mcp").and_then(|m| m.get("servers")),
            "/mcp/servers",
            ctx,
        )?,
        McpFlavour::Opencode => add_map(&mut servers, obj.get("mcp"), "/mcp", ctx)?,
        McpFlavour::ClaudeCode => {
            add_map(&mut servers, obj.get("mcpServers"), "/mcpServers", ctx)?;
            if let Some(Value::Object(ps)) = obj.get("projects") {
                for (dir, p) in ps {
                    add_map(
                        &mut servers,
                        p.get("mcpServers"),
                        &at(&at("/projects", dir), "mcpServers"),
                        ctx,
                    )?;
                }
            }
        }
    }
    ctx.check_count("/", "servers", servers.len())?;
    if let Some(Value::Array(inputs)) = obj.get("inputs") {
        // VS Code input declarations: ids and prompts, never values.
        let kept: Vec<Value> = inputs
            .iter()
            .map(|i| {
                let mut m = Map::new();
                for k in ["id", "type", "description", "password"] {
                    if let Some(v) = i.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        ctx.doc_mut()
            .attrs
            .insert("inputs".into(), Value::Array(kept));
    }
    ctx.doc_mut().attrs.insert(
        "format".into(),
        Value::from(format!("MCP config ({flavour:?})")),
    );
    let doc_id = ctx.doc_id();
    for (name, s, ptr) in servers {
        if let Some(id) = server(&name, s, &ptr, flavour, ctx)? {
            ctx.edge(&doc_id, EdgeKind::UsesTool, &id)?;
        }
    }
    Ok(())
}

/// A list of command words: numbers and booleans read as text; an element of another
/// type is dropped, a value that is not a list ignored (repairs).
fn str_list(v: Option<&Value>, ptr: &str, ctx: &mut Ctx<'_>) -> Result<Vec<String>, Error> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, x) in a.iter().enumerate() {
                match x {
                    Value::String(s) => out.push(s.clone()),
                    Value::Number(n) => out.push(n.to_string()),
                    Value::Bool(b) => out.push(b.to_string()),
                    other => {
                        let fault = format!("expected a string, found {}", type_name(other));
                        ctx.repair(&at(ptr, i), &fault, "element dropped")?;
                    }
                }
            }
            Ok(out)
        }
        Some(other) => {
            let fault = format!("expected an array of strings, found {}", type_name(other));
            ctx.repair(ptr, &fault, "ignored")?;
            Ok(vec![])
        }
    }
}

fn server(
    name: &str,
    s: &Value,
    ptr: &str,
    flavour: McpFlavour,
    ctx: &mut Ctx<'_>,
) -> Result<Option<String>, Error> {
    let Some(o) = s.as_object() else {
        let fault = format!("expected a server object, found {}", type_name(s));
        ctx.repair(ptr, &fault, "server dropped")?;
        return Ok(None);
    };
    let mut attrs = Map::new();
    let mut redacted: Vec<Value> = Vec::new();
    attrs.insert("config_names".into(), json!([name]));
    // Command line: opencode gives one array; others a command string plus args.
    let (mut argv, url) = if flavour == McpFlavour::Opencode {
        let argv = match o.get("command") {
            Some(Value::String(c)) => vec![c.clone()],
            v => str_list(v, &at(ptr, "command"), ctx)?,
        };
        (argv, o.get("url").and_then(Value::as_str))
    } else {
        let mut argv = match o.get("command") {
            None | Some(Value::Null) => vec![],
            // "uv run python": a command string with spaces is split on whitespace.
            Some(Value::String(c)) => c.split_whitespace().map(str::to_owned).collect(),
            Some(other) => {
                let fault = format!("expected a string, found {}", type_name(other));
                ctx.repair(&at(ptr, "command"), &fault, "command ignored")?;
                vec![]
            }
        };
        argv.extend(str_list(o.get("args"), &at(ptr, "args"), ctx)?);
        (
            argv,
            o.get("url")
                .or_else(|| o.get("serverUrl"))
                .and_then(Value::as_str),
        )
    };
    let declared = o.get("type").and_then(Value::as_str).unwrap_or("");
    let spec;
    let target;
    let mut runs = None;
    if let Some(url) = url {
        let transport = match declared {
            "" | "remote" => {
                if url.contains("/sse") {
                    "sse"
                } else {
                    "http"
                }
            }
            t => t,
        };
        let clean = redact::url(url, UrlRule::Endpoint).into_owned();
        if clean != url {
            redacted.push(Value::from(at(ptr, "url")));
        }
        attrs.insert("transport".into(), Value::from(transport));
        attrs.insert("url".into(), Value::from(clean.clone()));
        target = clean
            .split("://")
            .nth(1)
            .unwrap_or(&clean)
            .split('?')
            .next()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned();
        spec = json!({ "transport": transport, "url": clean });
    } else if !argv.is_empty() {
        if !redact::args(&mut argv).is_empty() {
            redacted.push(Value::from(at(ptr, "args")));
        }
        attrs.insert("transport".into(), Value::from("stdio"));
        attrs.insert("command".into(), Value::from(argv[0].clone()));
        attrs.insert("args".into(), json!(argv[1..]));
        runs = launched_package(&argv, ptr, ctx);
        target = match &runs {
            Some((p, _)) => p.full_name(),
            None => argv[0].rsplit('/').next().unwrap_or(&argv[0]).to_owned(),
        };
        spec = json!({ "transport": "stdio", "argv": argv });
    } else {
        ctx.repair(
            ptr,
            "server has neither \"command\" nor \"url\"",
            "server dropped (nothing says what it runs or where it is)",
        )?;
        return Ok(None);
    }
    for key in ["env", "environment", "headers"] {
        match o.get(key) {
            Some(Value::Object(m)) => {
                attrs.insert(
                    if key == "environment" {
                        "env".into()
                    } else {
                        key.into()
                    },
                    Value::Object(secret_map(m)),
                );
            }
            None | Some(Value::Null) => {}
            Some(other) => {
                let fault = format!("expected an object, found {}", type_name(other));
                ctx.repair(&at(ptr, key), &fault, &format!("{key} not recorded"))?;
            }
        }
    }
    for key in [
        "cwd",
        "disabled",
        "enabled",
        "autoApprove",
        "alwaysAllow",
        "envFile",
        "timeout",
    ] {
        if let Some(v) = o.get(key) {
            attrs.insert(key.into(), v.clone());
        }
    }
    if !redacted.is_empty() {
        attrs.insert("redacted".into(), Value::Array(redacted));
    }
    let h = hex::encode(Sha256::digest(spec.to_string().as_bytes()));
    let target = if target.is_empty() {
        name.to_owned()
    } else {
        target
    };
    let id = named_ref(ArtifactKind::McpServer, &target, Some(&h[..12]))
        .or_else(|_| named_ref(ArtifactKind::McpServer, "server", Some(&h[..12])))
        .map_err(|e| ctx.err(ptr, e))?;
    let mut f = fact(id, ArtifactKind::McpServer, Some(name.to_owned()), None);
    f.attrs = attrs;
    let id = ctx.add(f)?;
    if let Some((p, pinned)) = runs {
        let mut pf = fact(
            p.to_string(),
            ArtifactKind::Package,
            Some(p.full_name()),
            p.version().map(str::to_owned),
        );
        pf.attrs.insert("pinned".into(), Value::from(pinned));
        let pid = ctx.add(pf)?;
        ctx.edge(&id, EdgeKind::Runs, &pid)?;
    }
    Ok(Some(id))
}

fn base_name(s: &str) -> &str {
    s.rsplit(['/', '\\']).next().unwrap_or(s)
}

/// The package or image a runner command line launches, and whether it is pinned.
fn launched_package(argv: &[String], ptr: &str, ctx: &mut Ctx<'_>) -> Option<(Purl, bool)> {
    let cmd = base_name(argv.first()?)
        .trim_end_matches(".exe")
        .trim_end_matches(".cmd");
    let rest: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let r = match (cmd, rest.first().copied()) {
        ("npx" | "bunx", _) => npm_target(&rest),
        ("pnpm" | "yarn", Some("dlx")) | ("npm", Some("exec")) => npm_target(&rest[1..]),
        ("uvx", _) => pypi_target(&rest),
        ("pipx", Some("run")) => pypi_target(&rest[1..]),
        ("uv", Some("tool")) if rest.get(1) == Some(&"run") => pypi_target(&rest[2..]),
        ("docker" | "podman", Some("run")) => image_target(&rest[1..]),
        ("python" | "python3", Some("-m")) => {
            let m = rest.get(1)?;
            let top = m.split('.').next()?;
            Purl::build("pypi", None, top, None, [], None)
                .ok()
                .map(|p| (p, false))
        }
        _ => None,
    };
    if r.is_none() && matches!(cmd, "npx" | "bunx" | "uvx" | "docker" | "podman" | "pipx") {
        ctx.warn(
            ptr,
            format!("could not tell which package `{cmd}` launches"),
        );
    }
    r
}

/// First non-flag argument of npx-style runners (`--package x` names it explicitly).
fn npm_target(args: &[&str]) -> Option<(Purl, bool)> {
    let mut i = 0;
    let mut spec = None;
    while i < args.len() {
        let a = args[i];
        if a == "-p" || a == "--package" {
            spec = args.get(i + 1).copied();
            break;
        } else if let Some(p) = a.strip_prefix("--package=") {
            spec = Some(p);
            break;
        } else if a == "--registry" || a == "--cache" || a == "-c" || a == "--call" {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            spec = Some(a);
            break;
        }
    }
    let spec = spec?;
    // @scope/name@version | name@version | name
    let (name, version) = match spec.rfind('@') {
        Some(i) if i > 0 => (&spec[..i], Some(&spec[i + 1..])),
        _ => (spec, None),
    };
    let (ns, n) = match name.split_once('/') {
        Some((s, n)) if s.starts_with('@') => (Some(s), n),
        Some(_) => return None, // a path or GitHub shorthand, not a registry package
        None => (None, name),
    };
    let exact = version.filter(|v| is_exact_version(v));
    Purl::build("npm", ns, n, exact, [], None)
        .ok()
        .map(|p| (p, exact.is_some()))
}

fn is_exact_version(v: &str) -> bool {
    v.chars().next().is_some_and(|c| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        && !v.contains(".x")
}

fn pypi_target(args: &[&str]) -> Option<(Purl, bool)> {
    let mut i = 0;
    let mut spec = None;
    while i < args.len() {
        let a = args[i];
        if a == "--from" {
            spec = args.get(i + 1).copied();
            break;
        } else if matches!(
            a,
            "--python" | "-p" | "--with" | "--index-url" | "--index" | "-i"
        ) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            spec = Some(a);
            break;
        }
    }
    let spec = spec?;
    let (name, version) = if let Some((n, v)) = spec.split_once("==") {
        (n, Some(v))
    } else if let Some((n, v)) = spec.split_once('@') {
        (n, Some(v).filter(|v| *v != "latest"))
    } else {
        (
            spec.split(['<', '>', '~', '!', '=']).next().unwrap_or(spec),
            None,
        )
    };
    let name = name.split('[').next().unwrap_or(name).trim();
    if name.is_empty() || name.contains('/') || name.contains(':') {
        return None;
    }
    let exact = version.filter(|v| is_exact_version(v));
    Purl::build("pypi", None, name, exact, [], None)
        .ok()
        .map(|p| (p, exact.is_some()))
}

/// The image of `docker run` / `podman run`: the first argument that is not an
/// option or an option's value. Digest-pinned images become `pkg:oci/…@sha256:…`;
/// others `pkg:docker/…[@tag]` (`latest` dropped: it pins nothing).
fn image_target(args: &[&str]) -> Option<(Purl, bool)> {
    const WITH_VALUE: &[&str] = &[
        "-e",
        "--env",
        "-v",
        "--volume",
        "--mount",
        "--name",
        "--network",
        "--net",
        "-p",
        "--publish",
        "--entrypoint",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--env-file",
        "--platform",
        "--label",
        "-l",
        "--add-host",
        "--cap-add",
        "--cap-drop",
        "--device",
        "--memory",
        "-m",
        "--cpus",
        "--pull",
        "--restart",
        "--runtime",
        "--security-opt",
        "--tmpfs",
        "--ulimit",
        "--hostname",
        "-h",
        "--ipc",
        "--pid",
        "--log-driver",
        "--log-opt",
        "--gpus",
        "--shm-size",
        "--dns",
        "--expose",
        "--group-add",
        "--cidfile",
    ];
    let mut i = 0;
    let mut image = None;
    while i < args.len() {
        let a = args[i];
        if WITH_VALUE.contains(&a) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            image = Some(a);
            break;
        }
    }
    let image = image?;
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let (repo, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    let mut segs: Vec<&str> = repo.split('/').collect();
    let registry = if segs.len() > 1
        && (segs[0].contains('.') || segs[0].contains(':') || segs[0] == "localhost")
    {
        Some(segs.remove(0))
    } else {
        None
    };
    let name = segs.pop()?;
    if let Some(d) = digest {
        // Without a registry host the image is on the default registry: no qualifier.
        let repository_url =
            registry.map(|r| format!("{r}/{}", repo.split_once('/').map_or(repo, |x| x.1)));
        let mut q: Vec<(&str, &str)> = repository_url
            .as_deref()
            .map(|u| ("repository_url", u))
            .into_iter()
            .collect();
        if let Some(t) = tag {
            q.push(("tag", t));
        }
        return Purl::build("oci", None, name, Some(d), q, None)
            .ok()
            .map(|p| (p, true));
    }
    let ns = if segs.is_empty() {
        if registry.is_none() {
            Some("library".to_owned())
        } else {
            None
        }
    } else {
        Some(segs.join("/"))
    };
    let version = tag.filter(|t| *t != "latest");
    let q: Vec<(&str, &str)> = registry
        .map(|r| ("repository_url", r))
        .into_iter()
        .collect();
    Purl::build("docker", ns.as_deref(), name, version, q, None)
        .ok()
        .map(|p| (p, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<&'static str> {
        v.iter().map(|x| &*String::leak((*x).to_owned())).collect()
    }

    #[test]
    fn runner_targets() {
        let t = |f: fn(&[&str]) -> Option<(Purl, bool)>, a: &[&str]| {
            f(&s(a)).map(|(p, pin)| (p.to_string(), pin))
        };
        assert_eq!(
            t(npm_target, &["-y", "@playwright/mcp@latest"]),
            Some(("pkg:npm/%40playwright/mcp".into(), false))
        );
        assert_eq!(
            t(
                npm_target,
                &[
                    "-y",
                    "@modelcontextprotocol/server-filesystem@2025.8.21",
                    "/"
                ]
            ),
            Some((
                "pkg:npm/%40modelcontextprotocol/server-filesystem@2025.8.21".into(),
                true
            ))
        );
        assert_eq!(
            t(pypi_target, &["mcp-server-fetch==2025.4.7"]),
            Some(("pkg:pypi/mcp-server-fetch@2025.4.7".into(), true))
        );
        assert_eq!(
            t(image_target, &["-i", "--rm", "-e", "X", "mcp/time"]),
            Some(("pkg:docker/mcp/time".into(), false))
        );
        assert_eq!(
            t(
                image_target,
                &["-i", "registry.invalid/github/github-mcp-server"]
            ),
            Some((
                "pkg:docker/github/github-mcp-server?repository_url=registry.invalid".into(),
                false
            ))
        );
        assert_eq!(
            t(image_target, &["-i", "example/mcp:latest"]),
            Some(("pkg:docker/example/mcp".into(), false))
        );
        let d = format!(
            "registry.invalid/github/github-mcp-server@sha256:{}",
            "0".repeat(64)
        );
        let got = t(image_target, &["-i", &d]).unwrap();
        assert_eq!(
            got.0,
            format!(
                "pkg:oci/github-mcp-server@sha256:{}?repository_url=registry.invalid%2Fgithub%2Fgithub-mcp-server",
                "0".repeat(64)
            )
        );
    }
}
