//! Secrets are never stored. Entries are append-only under a Merkle tree, so a secret that
//! reaches an entry, an artifact id or a stored document can never be removed: this module
//! is the one place that decides what a secret is and how it is removed, and ingest (the
//! stored bytes, attributes, ids, warnings) and inspection (finding evidence and messages)
//! all go through it, so what the inspector flags is what ingest removes.
//!
//! Every removed value is replaced by [`MARKER`]; names (query parameter names, `env` and
//! header names, option names) are kept so a reader sees what was there. Pure variable
//! references (`${input:token}`, `${env:TOKEN}`, `$TOKEN`, `%TOKEN%`, `{env:TOKEN}`), also
//! after an auth scheme (`Bearer ${input:token}`), are not secrets and are kept.
//!
//! The functions take untrusted text and never panic; they return the input unchanged
//! (borrowed) when there is nothing to remove.

use std::borrow::Cow;

use serde_json::Value;

/// What a removed secret is replaced by.
pub const MARKER: &str = "<redacted>";

/// How much of a URL is treated as secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRule {
    /// An endpoint a client calls (MCP server URLs, URLs in arguments, evidence): every
    /// query and fragment value, and secret-looking path segments ([`secret_segment`]).
    Endpoint,
    /// A locator in a lockfile (index, download and VCS URLs): query values whose name is
    /// secret-looking ([`secret_name`]) or that are token-shaped; path segments and
    /// fragments are kept (they carry file hashes, revisions and branches).
    Locator,
}

/// Is `v` only variable references (and perhaps an auth scheme word before them)?
pub fn is_reference(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() {
        return false;
    }
    let stripped = strip_refs(t);
    let rest = stripped.trim();
    let rest = ["Bearer", "bearer", "Basic", "basic", "Token", "token"]
        .iter()
        .find_map(|s| rest.strip_prefix(s))
        .unwrap_or(rest)
        .trim();
    rest.is_empty()
        || (t.starts_with('$')
            && t.len() > 1
            && t.chars()
                .skip(1)
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// A value with nothing to remove: empty, a reference, or already the marker.
fn clear(v: &str) -> bool {
    v.is_empty() || v == MARKER || is_reference(v)
}

/// `t` without its `${…}`, `{…}` and `%…%` references.
fn strip_refs(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find(['$', '{', '%']) {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        let close = if tail.starts_with("${") || tail.starts_with('{') {
            tail.find('}')
        } else if tail.starts_with('%') {
            tail.get(1..).and_then(|x| x.find('%')).map(|j| j + 1)
        } else if tail.starts_with('$') {
            // $NAME
            let n = tail
                .get(1..)
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .count();
            (n > 0).then_some(n)
        } else {
            None
        };
        match close {
            Some(j) => rest = tail.get(j + 1..).unwrap_or(""),
            None => {
                out.push_str(tail.get(..1).unwrap_or(""));
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// Values that are obviously documentation placeholders, not secrets.
pub fn is_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.contains('<') && v.contains('>')
        || [
            "your",
            "xxxx",
            "changeme",
            "replace",
            "placeholder",
            "...",
            "todo",
            "insert",
        ]
        .iter()
        .any(|p| l.contains(p))
}

/// Token prefixes, the least number of token characters after them, and the kind.
const TOKENS: &[(&str, usize, &str)] = &[
    ("ghp_", 20, "GitHub token"),
    ("gho_", 20, "GitHub token"),
    ("ghu_", 20, "GitHub token"),
    ("ghs_", 20, "GitHub token"),
    ("ghr_", 20, "GitHub token"),
    ("github_pat_", 20, "GitHub token"),
    ("glpat-", 16, "GitLab token"),
    ("sk-", 16, "API secret key (sk-)"),
    ("sk_live_", 10, "Stripe key"),
    ("sk_test_", 10, "Stripe key"),
    ("xoxb-", 8, "Slack token"),
    ("xoxp-", 8, "Slack token"),
    ("xoxa-", 8, "Slack token"),
    ("xoxs-", 8, "Slack token"),
    ("xapp-", 8, "Slack token"),
    ("hf_", 20, "Hugging Face token"),
    ("npm_", 30, "npm token"),
    ("pypi-", 40, "PyPI token"),
    ("AKIA", 16, "AWS access key ID"),
    ("ASIA", 16, "AWS access key ID"),
    ("AIza", 30, "Google API key"),
];

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Byte ranges of token-shaped secrets in `s` (known prefixes, JWTs, bearer credentials
/// and private-key blocks), sorted and not overlapping.
fn token_spans(s: &str) -> Vec<(usize, usize, &'static str)> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    for (p, min, kind) in TOKENS {
        for (i, _) in s.match_indices(p) {
            if i > 0 && b.get(i - 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
                continue;
            }
            let start = i + p.len();
            let run = b
                .get(start..)
                .unwrap_or(&[])
                .iter()
                .take_while(|c| is_token_char(**c))
                .count();
            if run >= *min {
                spans.push((i, start + run, *kind));
            }
        }
    }
    // JWTs: eyJ<b64url>.<b64url>.<b64url>
    for (i, _) in s.match_indices("eyJ") {
        if i > 0 && b.get(i - 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let run: Vec<u8> = b
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .copied()
            .take_while(|c| is_token_char(*c) || *c == b'.' || *c == b'=')
            .collect();
        let dots = run.iter().filter(|c| **c == b'.').count();
        if run.len() > 30 && dots == 2 {
            spans.push((i, i + run.len(), "JWT"));
        }
    }
    // Bearer credentials: what follows `bearer ` up to whitespace or a quote.
    let lower = s.to_ascii_lowercase();
    for (i, _) in lower.match_indices("bearer ") {
        let start = i + 7;
        let rest = s.get(start..).unwrap_or("");
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ','))
            .unwrap_or(rest.len());
        let tok = rest.get(..len).unwrap_or("");
        if tok.len() >= 12 && !is_reference(tok) && !is_placeholder(tok) {
            spans.push((start, start + len, "bearer token"));
        }
    }
    // Private keys: the whole block.
    if let Some(i) = s.find("-----BEGIN ")
        && s.get(i..).is_some_and(|r| {
            r.find('\n')
                .map_or(r, |n| r.get(..n).unwrap_or(""))
                .contains("PRIVATE KEY-----")
        })
    {
        let end_marker = "PRIVATE KEY-----";
        let after = i + 11;
        let end = s
            .get(after..)
            .and_then(|r| r.find("-----END "))
            .and_then(|e| {
                let from = after + e;
                s.get(from..)
                    .and_then(|r| r.find(end_marker))
                    .map(|k| from + k + end_marker.len())
            })
            .unwrap_or(s.len());
        spans.push((i, end, "private key"));
    }
    spans.sort_unstable();
    let mut out: Vec<(usize, usize, &'static str)> = Vec::new();
    for sp in spans {
        match out.last_mut() {
            Some(last) if sp.0 < last.1 => last.1 = last.1.max(sp.1),
            _ => out.push(sp),
        }
    }
    out
}

/// The kind of token-shaped secret in `v`, if any: the inspector's `AIL-MCP-005`
/// detector, and what [`text`] removes.
pub fn secret_kind(v: &str) -> Option<&'static str> {
    if is_reference(v) || v.len() < 8 {
        return None;
    }
    token_spans(v).first().map(|s| s.2)
}

/// Does a name (an option, a query parameter, a variable, a header) say its value is a
/// secret? (`key`, `token`, `secret`, `pass`, `auth`, `sig`, `cred`, `session`,
/// `cookie`, `bearer`; not `…-file`, `…-path`, `…-url`, `…-env`.)
pub fn secret_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    let l = l.trim_start_matches('-');
    if [
        "file", "path", "dir", "url", "uri", "env", "var", "type", "name",
    ]
    .iter()
    .any(|s| l.ends_with(s) && l.len() > s.len())
    {
        return false;
    }
    [
        "key", "token", "secret", "pass", "pwd", "auth", "sig", "cred", "session", "cookie",
        "bearer",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// A URL path segment that is a secret: a token-shaped value ([`secret_kind`]), or a
/// long random-looking one — at least 20 characters of `[A-Za-z0-9_.~=+-]` with at least
/// one digit and one letter (API keys and UUIDs that services put into endpoint paths).
pub fn secret_segment(seg: &str) -> bool {
    if seg.is_empty() || is_reference(seg) {
        return false;
    }
    if secret_kind(seg).is_some() {
        return true;
    }
    seg.len() >= 20
        && seg.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'~' | b'=' | b'+')
        })
        && seg.bytes().any(|c| c.is_ascii_digit())
        && seg.bytes().any(|c| c.is_ascii_alphabetic())
}

/// Redacts one URL (or anything containing `scheme://`): the userinfo's password (all
/// of it, whatever it contains: `/`, `@`, `:`), a token-shaped or random-looking user
/// name, query values per `rule`, and in [`UrlRule::Endpoint`] secret path segments
/// and fragment values.
pub fn url(u: &str, rule: UrlRule) -> Cow<'_, str> {
    let Some(i) = u.find("://") else {
        return Cow::Borrowed(u);
    };
    let scheme = u.get(..i + 3).unwrap_or("");
    let rest = u.get(i + 3..).unwrap_or("");
    // Query and fragment first: a password may hold '/' and '@' but is ended by neither.
    let (before_frag, frag) = match rest.find('#') {
        Some(f) => (rest.get(..f).unwrap_or(""), rest.get(f + 1..)),
        None => (rest, None),
    };
    let (main, query) = match before_frag.find('?') {
        Some(q) => (before_frag.get(..q).unwrap_or(""), before_frag.get(q + 1..)),
        None => (before_frag, None),
    };
    let mut out = String::with_capacity(u.len());
    out.push_str(scheme);
    let (userinfo, hostpath) = split_userinfo(main);
    if let Some(ui) = userinfo {
        match ui.split_once(':') {
            Some((user, pw)) => {
                out.push_str(&redact_user(user));
                out.push(':');
                if clear(pw) {
                    out.push_str(pw);
                } else {
                    out.push_str(MARKER);
                }
            }
            None => out.push_str(&redact_user(ui)),
        }
        out.push('@');
    }
    match rule {
        UrlRule::Endpoint => {
            for (n, seg) in hostpath.split('/').enumerate() {
                if n > 0 {
                    out.push('/');
                }
                if n > 0 && secret_segment(seg) {
                    out.push_str(MARKER);
                } else {
                    out.push_str(seg);
                }
            }
        }
        UrlRule::Locator => out.push_str(&text_tokens(hostpath)),
    }
    if let Some(q) = query {
        out.push('?');
        pairs(q, rule, &mut out);
    }
    if let Some(f) = frag {
        out.push('#');
        if rule == UrlRule::Endpoint && f.contains('=') {
            pairs(f, rule, &mut out);
        } else {
            out.push_str(&text_tokens(f));
        }
    }
    if out == u {
        Cow::Borrowed(u)
    } else {
        Cow::Owned(out)
    }
}

/// A user name that is a token (`https://ghp_…@github.com`) is a secret too.
fn redact_user(user: &str) -> Cow<'_, str> {
    if secret_segment(user) {
        Cow::Borrowed(MARKER)
    } else {
        Cow::Borrowed(user)
    }
}

/// Splits `user:pw@host/path` into the userinfo and the rest. The userinfo ends at the
/// last `@` whose prefix is a userinfo: no `/` at all, or a `:` before the first `/`
/// that is not a port (digits then `/`). Over-redacting an odd URL is safe; missing a
/// password is not.
fn split_userinfo(main: &str) -> (Option<&str>, &str) {
    for (at, _) in main.rmatch_indices('@') {
        let prefix = main.get(..at).unwrap_or("");
        let ok = match (prefix.find('/'), prefix.find(':')) {
            (None, _) => true,
            (Some(slash), Some(colon)) if colon < slash => {
                let port = prefix.get(colon + 1..slash).unwrap_or("");
                port.is_empty() || !port.bytes().all(|c| c.is_ascii_digit())
            }
            _ => false,
        };
        if ok {
            return (Some(prefix), main.get(at + 1..).unwrap_or(""));
        }
    }
    (None, main)
}

fn pairs(q: &str, rule: UrlRule, out: &mut String) {
    for (n, pair) in q.split('&').enumerate() {
        if n > 0 {
            out.push('&');
        }
        let Some((k, v)) = pair.split_once('=') else {
            out.push_str(&text_tokens(pair));
            continue;
        };
        let secret = !clear(v)
            && match rule {
                UrlRule::Endpoint => true,
                UrlRule::Locator => secret_name(k) || secret_segment(v),
            };
        out.push_str(k);
        out.push('=');
        if secret {
            out.push_str(MARKER);
        } else {
            out.push_str(v);
        }
    }
}

/// `s` with its token-shaped secrets ([`secret_kind`]) replaced.
fn text_tokens(s: &str) -> Cow<'_, str> {
    let spans = token_spans(s);
    if spans.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (a, b, _) in spans {
        if a < last {
            continue;
        }
        out.push_str(s.get(last..a).unwrap_or(""));
        out.push_str(MARKER);
        last = b;
    }
    out.push_str(s.get(last..).unwrap_or(""));
    Cow::Owned(out)
}

fn url_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\')
}

/// Redacts free text (an argument, a line of a lockfile, a finding's evidence): every
/// URL in it per `rule`; with [`UrlRule::Endpoint`] also, outside URLs, `NAME=value`
/// where the name is secret-looking and every token-shaped secret.
pub fn text(s: &str, rule: UrlRule) -> Cow<'_, str> {
    let mut out = String::new();
    let mut last = 0;
    let mut changed = false;
    let mut from = 0;
    while let Some(rel) = s.get(from..).and_then(|r| r.find("://")) {
        let at = from + rel;
        // Back over the scheme, forward to the end of the URL.
        let start = s
            .get(..at)
            .unwrap_or("")
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = s
            .get(at..)
            .unwrap_or("")
            .find(|c: char| !url_char(c))
            .map_or(s.len(), |e| at + e);
        let start = start.max(last);
        let piece = s.get(start..end).unwrap_or("");
        let red = url(piece, rule);
        if let Cow::Owned(r) = red {
            out.push_str(&text_rest(s.get(last..start).unwrap_or(""), rule));
            out.push_str(&r);
            last = end;
            changed = true;
        }
        from = end.max(at + 3);
    }
    if !changed {
        return text_rest(s, rule);
    }
    out.push_str(&text_rest(s.get(last..).unwrap_or(""), rule));
    Cow::Owned(out)
}

/// Text outside URLs: `NAME=value` with a secret-looking name, and token shapes.
fn text_rest(s: &str, rule: UrlRule) -> Cow<'_, str> {
    if rule == UrlRule::Locator {
        return Cow::Borrowed(s);
    }
    let toks = text_tokens(s);
    let mut changed = matches!(toks, Cow::Owned(_));
    let mut out = String::with_capacity(s.len());
    for (n, word) in toks.split(' ').enumerate() {
        if n > 0 {
            out.push(' ');
        }
        match word.split_once('=') {
            Some((k, v))
                if secret_name(k)
                    && !v.is_empty()
                    && !v.starts_with('=')
                    && v != MARKER
                    && !is_reference(v)
                    && k.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')) =>
            {
                changed = true;
                out.push_str(k);
                out.push('=');
                out.push_str(MARKER);
            }
            _ => out.push_str(word),
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Redacts a command line in place: `--api-key=…`, `--token VALUE` (an option whose
/// name is secret-looking, [`secret_name`]), every header value after `-H`/`--header`,
/// every `NAME=value` after `-e`/`--env`, and then every argument as [`text`] with
/// [`UrlRule::Endpoint`]. Returns the indices of the arguments that changed.
pub fn args(argv: &mut [String]) -> Vec<usize> {
    let mut changed = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let a = argv.get(i).cloned().unwrap_or_default();
        let mut new: Option<String> = None;
        let mut value_next = None;
        if a.starts_with('-') {
            match a.split_once('=') {
                Some((flag, v)) => {
                    if matches!(flag, "-H" | "--header") {
                        new = Some(format!("{flag}={}", header_line(v)));
                    } else if secret_name(flag) && !clear(v) {
                        new = Some(format!("{flag}={MARKER}"));
                    } else if matches!(flag, "-e" | "--env") {
                        new = Some(format!("{flag}={}", env_pair(v)));
                    }
                }
                None => {
                    if matches!(a.as_str(), "-H" | "--header") {
                        value_next = Some(Next::Header);
                    } else if matches!(a.as_str(), "-e" | "--env") {
                        value_next = Some(Next::Env);
                    } else if secret_name(&a) && a.starts_with("--") {
                        value_next = Some(Next::Secret);
                    } else if let Some(v) = a.strip_prefix("-H").filter(|v| v.contains(':')) {
                        new = Some(format!("-H{}", header_line(v)));
                    }
                }
            }
        }
        let a2 = new.clone().unwrap_or_else(|| a.clone());
        let red = text(&a2, UrlRule::Endpoint).into_owned();
        if red != a {
            if let Some(slot) = argv.get_mut(i) {
                *slot = red;
            }
            changed.push(i);
        }
        if let Some(kind) = value_next
            && let Some(v) = argv.get(i + 1).cloned()
            && !(kind == Next::Secret && v.starts_with('-'))
        {
            let red = match kind {
                Next::Header => header_line(&v),
                Next::Env => env_pair(&v),
                Next::Secret if clear(&v) => v.clone(),
                Next::Secret => MARKER.to_owned(),
            };
            let red = text(&red, UrlRule::Endpoint).into_owned();
            if red != v {
                if let Some(slot) = argv.get_mut(i + 1) {
                    *slot = red;
                }
                changed.push(i + 1);
            }
            i += 1;
        }
        i += 1;
    }
    changed
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Header,
    Env,
    Secret,
}

/// `Name: value` → `Name: <redacted>` (references kept).
fn header_line(v: &str) -> String {
    match v.split_once(':') {
        Some((name, val)) if !clear(val.trim()) => {
            format!("{name}: {MARKER}")
        }
        Some(_) => v.to_owned(),
        None if clear(v) => v.to_owned(),
        None => MARKER.to_owned(),
    }
}

/// `NAME=value` → `NAME=<redacted>` (a bare `NAME` and references kept).
fn env_pair(v: &str) -> String {
    match v.split_once('=') {
        Some((k, val)) if !clear(val) => format!("{k}={MARKER}"),
        _ => v.to_owned(),
    }
}

/// One value removed from a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// JSON pointer (`/mcpServers/x/env/API_KEY`) or `line:1` of a text document.
    pub pointer: String,
}

/// A document with its secrets removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub bytes: Vec<u8>,
    /// Where something was removed, in document order.
    pub redactions: Vec<Redaction>,
}

fn ptr_push(base: &str, key: &str) -> String {
    let mut p = String::with_capacity(base.len() + key.len() + 1);
    p.push_str(base);
    p.push('/');
    for c in key.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            c => p.push(c),
        }
    }
    p
}

/// Redacts an MCP client config (any layout: the walk is by key, not by layout):
/// values of every `env`, `environment` and `headers` object (names kept), `command`
/// and `args` as a command line ([`args`]), string values under a secret-looking key,
/// and every other string as [`text`] ([`UrlRule::Endpoint`]). `None` when the bytes
/// are not JSON or hold nothing to remove. The result is pretty-printed JSON with the
/// original key order.
pub fn mcp_config(bytes: &[u8]) -> Option<Redacted> {
    let mut v: Value = serde_json::from_slice(bytes).ok()?;
    let mut reds = Vec::new();
    walk_mcp(&mut v, "", None, &mut reds);
    if reds.is_empty() {
        return None;
    }
    let mut out = serde_json::to_vec_pretty(&v).ok()?;
    out.push(b'\n');
    Some(Redacted {
        bytes: out,
        redactions: reds,
    })
}

fn walk_mcp(v: &mut Value, ptr: &str, key: Option<&str>, reds: &mut Vec<Redaction>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let p = ptr_push(ptr, k);
                match (k.as_str(), &mut *x) {
                    ("env" | "environment" | "headers" | "http_headers", Value::Object(inner)) => {
                        for (name, val) in inner.iter_mut() {
                            let keep = match val {
                                Value::String(s) => clear(s),
                                Value::Null | Value::Bool(_) => true,
                                _ => false,
                            };
                            if !keep {
                                *val = Value::from(MARKER);
                                reds.push(Redaction {
                                    pointer: ptr_push(&p, name),
                                });
                            }
                        }
                    }
                    ("args" | "command", Value::Array(a)) => {
                        let mut argv: Vec<String> = a
                            .iter()
                            .map(|x| match x {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect();
                        for i in args(&mut argv) {
                            if let (Some(slot), Some(s)) = (a.get_mut(i), argv.get(i)) {
                                *slot = Value::from(s.clone());
                                reds.push(Redaction {
                                    pointer: ptr_push(&p, &i.to_string()),
                                });
                            }
                        }
                    }
                    ("command", Value::String(s)) => {
                        let mut argv: Vec<String> =
                            s.split_whitespace().map(str::to_owned).collect();
                        if !args(&mut argv).is_empty() {
                            *s = argv.join(" ");
                            reds.push(Redaction { pointer: p });
                        }
                    }
                    _ => walk_mcp(x, &p, Some(k), reds),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                walk_mcp(x, &ptr_push(ptr, &i.to_string()), key, reds);
            }
        }
        Value::String(s) => {
            let secret_key = key.is_some_and(secret_name);
            if secret_key && !clear(s) {
                *s = MARKER.to_owned();
                reds.push(Redaction {
                    pointer: ptr.to_owned(),
                });
            } else if let Cow::Owned(r) = text(s, UrlRule::Endpoint) {
                *s = r;
                reds.push(Redaction {
                    pointer: ptr.to_owned(),
                });
            }
        }
        _ => {}
    }
}

/// Redacts a lockfile or requirements file: JSON lockfiles string by string (then
/// pretty-printed), other text line by line, both as [`text`] with [`UrlRule::Locator`]
/// (URL passwords, token user names, secret query values, token shapes inside URLs and
/// `NAME=value` pairs with a secret name). `None` when there is nothing to remove.
pub fn lockfile(bytes: &[u8]) -> Option<Redacted> {
    let s = std::str::from_utf8(bytes).ok()?;
    if s.trim_start().starts_with('{') {
        let mut v: Value = serde_json::from_str(s).ok()?;
        let mut reds = Vec::new();
        walk_lock(&mut v, "", &mut reds);
        if reds.is_empty() {
            return None;
        }
        let mut out = serde_json::to_vec_pretty(&v).ok()?;
        out.push(b'\n');
        return Some(Redacted {
            bytes: out,
            redactions: reds,
        });
    }
    let mut out = String::with_capacity(s.len());
    let mut reds = Vec::new();
    for (n, line) in s.split_inclusive('\n').enumerate() {
        match lock_line(line) {
            Cow::Owned(r) => {
                out.push_str(&r);
                reds.push(Redaction {
                    pointer: format!("{}:1", n + 1),
                });
            }
            Cow::Borrowed(l) => out.push_str(l),
        }
    }
    (!reds.is_empty()).then(|| Redacted {
        bytes: out.into_bytes(),
        redactions: reds,
    })
}

/// One line of a text lockfile: its URLs. Text outside URLs is left alone (package
/// names like `sk-learn-…` would be false positives).
fn lock_line(line: &str) -> Cow<'_, str> {
    if !line.contains("://") {
        return Cow::Borrowed(line);
    }
    text(line, UrlRule::Locator)
}

fn walk_lock(v: &mut Value, ptr: &str, reds: &mut Vec<Redaction>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                walk_lock(x, &ptr_push(ptr, k), reds);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                walk_lock(x, &ptr_push(ptr, &i.to_string()), reds);
            }
        }
        Value::String(s) if s.contains("://") => {
            if let Cow::Owned(r) = url(s, UrlRule::Locator) {
                *s = r;
                reds.push(Redaction {
                    pointer: ptr.to_owned(),
                });
            }
        }
        _ => {}
    }
}

/// Body of the `redact` fuzz target: no input panics, and a secret planted after any
/// input is removed.
pub fn fuzz_redact(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    for rule in [UrlRule::Endpoint, UrlRule::Locator] {
        let _ = text(&s, rule);
        let _ = url(&s, rule);
    }
    let mut argv: Vec<String> = s.split(' ').map(str::to_owned).collect();
    args(&mut argv);
    let _ = secret_kind(&s);
    let _ = mcp_config(data);
    let _ = lockfile(data);
    let planted = format!("{s} --api-key=ghp_FUZZPLANTEDSECRET0123456789");
    assert!(!text(&planted, UrlRule::Endpoint).contains("FUZZPLANTEDSECRET"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_url(input: &str, rule: UrlRule, want: &str) {
        assert_eq!(url(input, rule), want, "{input}");
        fuzz_redact(input.as_bytes());
    }

    #[test]
    fn urls() {
        use UrlRule::{Endpoint as E, Locator as L};
        check_url(
            "https://h.invalid/mcp?api_key=S3CRET&x=1",
            E,
            "https://h.invalid/mcp?api_key=<redacted>&x=<redacted>",
        );
        check_url(
            "https://h.invalid/mcp?api_key=S3CRET&x=1",
            L,
            "https://h.invalid/mcp?api_key=<redacted>&x=1",
        );
        check_url(
            "postgresql://admin:hunter2@10.0.0.5/prod",
            L,
            "postgresql://admin:<redacted>@10.0.0.5/prod",
        );
        // Passwords holding '/', '@' and ':' are removed whole.
        check_url(
            "https://u:pa/ss@w:rd@pypi.invalid/simple/",
            L,
            "https://u:<redacted>@pypi.invalid/simple/",
        );
        check_url("https://u:a@b/c@host/x", L, "https://u:<redacted>@host/x");
        // npm scoped paths and ports are not userinfo.
        check_url(
            "https://registry.invalid/@types/node/-/node-1.0.tgz",
            L,
            "https://registry.invalid/@types/node/-/node-1.0.tgz",
        );
        check_url(
            "http://localhost:8080/@scope/x",
            E,
            "http://localhost:8080/@scope/x",
        );
        // A token as the user name.
        check_url(
            "https://ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123@github.invalid/o/r.git",
            L,
            "https://<redacted>@github.invalid/o/r.git",
        );
        check_url("https://user@h.invalid/", L, "https://user@h.invalid/");
        // Secret path segments (endpoint rule only).
        check_url(
            "https://actions.invalid/mcp/sk-ak-0123456789abcdefghij/sse",
            E,
            "https://actions.invalid/mcp/<redacted>/sse",
        );
        check_url(
            "https://h.invalid/hooks/2b1f6e0a-4c1d-4c1e-9f00-0123456789ab",
            E,
            "https://h.invalid/hooks/<redacted>",
        );
        check_url(
            "https://h.invalid/v1/github-mcp-server/sse",
            E,
            "https://h.invalid/v1/github-mcp-server/sse",
        );
        check_url(
            "https://files.invalid/packages/ab/0123456789abcdef0123456789/x.whl",
            L,
            "https://files.invalid/packages/ab/0123456789abcdef0123456789/x.whl",
        );
        // References are kept; fragments in endpoints are values too.
        check_url(
            "https://h.invalid/?key=${input:key}",
            E,
            "https://h.invalid/?key=${input:key}",
        );
        check_url(
            "https://h.invalid/cb#access_token=abc&x",
            E,
            "https://h.invalid/cb#access_token=<redacted>&x",
        );
        check_url(
            "git+https://github.invalid/o/r?rev=v1#deadbeef",
            L,
            "git+https://github.invalid/o/r?rev=v1#deadbeef",
        );
        check_url("not a url", E, "not a url");
    }

    #[test]
    fn tokens_and_text() {
        for (t, kind) in [
            ("ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "GitHub token"),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                "GitHub token",
            ),
            ("sk-proj-EXAMPLEEXAMPLEEXAMPLE", "API secret key (sk-)"),
            ("xoxb-1234-5678-abcdefgh", "Slack token"),
            ("xoxp-1234-5678-abcdefgh", "Slack token"),
            ("AKIAIOSFODNN7EXAMPLE", "AWS access key ID"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU",
                "JWT",
            ),
            ("Bearer abcdefghijklmnop", "bearer token"),
        ] {
            assert_eq!(secret_kind(t), Some(kind), "{t}");
            let input = format!("x {t} y");
            let red = text(&input, UrlRule::Endpoint);
            assert!(!red.contains(t.trim_start_matches("Bearer ")), "{t}: {red}");
        }
        assert_eq!(secret_kind("${input:github_token}"), None);
        assert_eq!(secret_kind("Bearer ${input:token}"), None);
        assert_eq!(secret_kind("sk-short"), None);
        assert_eq!(
            text("Bearer ${input:token}", UrlRule::Endpoint),
            "Bearer ${input:token}"
        );
        assert_eq!(
            text("API_KEY=abc123 PORT=80", UrlRule::Endpoint),
            "API_KEY=<redacted> PORT=80"
        );
        assert_eq!(text("keyring==1.0", UrlRule::Endpoint), "keyring==1.0");
        // Lockfile text: URLs only.
        assert_eq!(
            text("sk-learn-something-long==1.0", UrlRule::Locator),
            "sk-learn-something-long==1.0"
        );
        assert_eq!(
            text(
                "--extra-index-url https://u:p/w@pypi.invalid/simple",
                UrlRule::Locator
            ),
            "--extra-index-url https://u:<redacted>@pypi.invalid/simple"
        );
        let pk = "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            text(&format!("a {pk} b"), UrlRule::Endpoint),
            "a <redacted> b"
        );
    }

    #[test]
    fn command_lines() {
        let mut argv: Vec<String> = [
            "npx",
            "-y",
            "@x/server",
            "--api-key=K3Y-1",
            "--token",
            "T0K-2",
            "-H",
            "Authorization: Bearer B3AR-3-abcdefgh",
            "--header=X-Api-Key: H-4",
            "-e",
            "DB_PASSWORD=P-5",
            "-e",
            "PLAIN",
            "--port",
            "8080",
            "--token-file",
            "/run/t",
            "https://u:pw-6@h.invalid/x?q=Q-7",
            "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
            "--api-key",
            "${input:key}",
        ]
        .map(str::to_owned)
        .to_vec();
        let changed = args(&mut argv);
        assert_eq!(
            argv,
            [
                "npx",
                "-y",
                "@x/server",
                "--api-key=<redacted>",
                "--token",
                "<redacted>",
                "-H",
                "Authorization: <redacted>",
                "--header=X-Api-Key: <redacted>",
                "-e",
                "DB_PASSWORD=<redacted>",
                "-e",
                "PLAIN",
                "--port",
                "8080",
                "--token-file",
                "/run/t",
                "https://u:<redacted>@h.invalid/x?q=<redacted>",
                "<redacted>",
                "--api-key",
                "${input:key}",
            ]
        );
        assert_eq!(changed, [3, 5, 7, 8, 10, 17, 18]);
    }

    #[test]
    fn documents() {
        let cfg = br#"{"mcpServers": {"a": {"command": "npx", "args": ["-y", "x", "--api-key=SEKRET1"],
            "env": {"TOKEN": "SEKRET2", "REF": "${input:t}", "N": 3}},
            "b": {"url": "https://h.invalid/mcp?key=SEKRET3", "headers": {"Authorization": "Bearer SEKRET4abcdefgh"}},
            "c": {"command": "docker run -e A=SEKRET5 img", "apiKey": "SEKRET6"}},
            "inputs": [{"id": "t", "password": true}]}"#;
        let r = mcp_config(cfg).unwrap();
        let s = String::from_utf8(r.bytes.clone()).unwrap();
        assert!(!s.contains("SEKRET"), "{s}");
        assert!(
            s.contains("\"TOKEN\": \"<redacted>\"") && s.contains("${input:t}"),
            "{s}"
        );
        let ptrs: Vec<&str> = r.redactions.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            ptrs,
            [
                "/mcpServers/a/args/2",
                "/mcpServers/a/env/TOKEN",
                "/mcpServers/a/env/N",
                "/mcpServers/b/url",
                "/mcpServers/b/headers/Authorization",
                "/mcpServers/c/command",
                "/mcpServers/c/apiKey",
            ]
        );
        // Redacting the result again finds nothing.
        assert_eq!(mcp_config(&r.bytes), None);
        assert_eq!(
            mcp_config(br#"{"mcpServers": {"a": {"command": "uvx", "args": ["x"]}}}"#),
            None
        );

        let req = b"-i https://u:p/ss@pypi.invalid/simple\nrequests==2.0\n";
        let r = lockfile(req).unwrap();
        assert_eq!(
            r.bytes,
            b"-i https://u:<redacted>@pypi.invalid/simple\nrequests==2.0\n"
        );
        assert_eq!(
            r.redactions,
            [Redaction {
                pointer: "1:1".into()
            }]
        );
        let lock = br#"{"packages": {"node_modules/x": {"resolved": "https://u:SEKRET@r.invalid/x.tgz"}}}"#;
        let r = lockfile(lock).unwrap();
        assert!(!String::from_utf8_lossy(&r.bytes).contains("SEKRET"));
        assert_eq!(lockfile(b"requests==2.0\n"), None);
    }

    #[test]
    fn never_panics() {
        for s in [
            "",
            "://",
            "a://@",
            "x://u:@",
            "https://@@@/",
            "-H",
            "--token",
            "eyJ..",
            "Bearer ",
            "é://ü:é@ö/ä?ß=é#ü=1",
            "-----BEGIN PRIVATE KEY-----",
            "$",
            "${",
            "%",
            "{",
        ] {
            fuzz_redact(s.as_bytes());
            let mut argv = vec![s.to_owned(), s.to_owned()];
            args(&mut argv);
        }
        fuzz_redact(&[0xff, 0xfe, b':', b'/', b'/', b'@']);
    }

    /// The fuzz body over every MCP and lockfile fixture and deterministic mutations of
    /// each (truncations, bit flips); redacting a redacted config finds nothing more.
    #[test]
    fn fixtures_and_mutations() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let mut n = 0;
        for sub in ["mcp", "formats"] {
            let Ok(dir) = std::fs::read_dir(root.join(sub)) else {
                continue;
            };
            for e in dir.flatten() {
                let p = e.path();
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                if bytes.len() > 1 << 20 {
                    continue;
                }
                n += 1;
                fuzz_redact(&bytes);
                if let Some(r) = mcp_config(&bytes) {
                    assert_eq!(mcp_config(&r.bytes), None, "{}", p.display());
                }
                for i in (0..bytes.len()).step_by((bytes.len() / 16).max(1)) {
                    fuzz_redact(&bytes[..i]);
                    let mut m = bytes.clone();
                    m[i] ^= 0x20;
                    fuzz_redact(&m);
                }
            }
        }
        assert!(n > 10, "only {n} fixtures found");
    }
}
