//! Package-name and requirements hygiene: typosquat detection against the most popular
//! PyPI and npm names (shipped as data, see docs/inspect.md for source and terms), and
//! checks of requirements.txt-style text (unpinned, unhashed, direct URL/VCS
//! dependencies, extra index URLs that open the door to dependency confusion).

use crate::findings::{Sink, clip};
use ailedger_core::Finding;
use std::collections::HashSet;
use std::sync::OnceLock;

const PYPI_TOP: &str = include_str!("../data/pypi-top.txt");
const NPM_TOP: &str = include_str!("../data/npm-top.txt");

/// Only names this popular are typosquat targets (all listed names are exempt).
const TARGETS: usize = 5_000;
/// Shorter popular names are not targets: one edit of a 3-letter name is another word.
const MIN_TARGET_LEN: usize = 5;

struct List {
    all: HashSet<String>,
    /// Typosquat targets in popularity order.
    ranked: Vec<String>,
    targets: HashSet<String>,
    /// Indexes of `ranked` that find every target `typo_kind` can accept without
    /// comparing a candidate with the whole list: by each name and its one-character
    /// deletions (omitted, inserted, substituted and swapped characters all share one),
    /// by confusable-folded name (several confusable characters), by letters without
    /// separators (separator changes) and by sorted words (swapped words).
    by_del: std::collections::HashMap<String, Vec<usize>>,
    by_fold: std::collections::HashMap<String, Vec<usize>>,
    by_letters: std::collections::HashMap<String, Vec<usize>>,
    by_words: std::collections::HashMap<String, Vec<usize>>,
}

/// The name and every string made by deleting one of its characters.
fn deletions(s: &str) -> Vec<String> {
    let mut out = vec![s.to_owned()];
    for (i, c) in s.char_indices() {
        let mut d = String::with_capacity(s.len());
        d.push_str(&s[..i]);
        d.push_str(&s[i + c.len_utf8()..]);
        out.push(d);
    }
    out
}

/// Each byte replaced by the first member of its confusable group.
fn fold_key(s: &str) -> String {
    s.bytes()
        .map(|b| {
            CONFUSABLE_GROUPS
                .iter()
                .find(|g| g.contains(&b))
                .map_or(b, |g| g[0]) as char
        })
        .collect()
}

fn letters_key(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect()
}

fn words_key(s: &str) -> String {
    sorted_words(s).join("-")
}

impl List {
    /// Ranks of the targets a candidate could be a typosquat of, most popular first.
    fn candidates(&self, norm: &str) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for d in deletions(norm) {
            out.extend(self.by_del.get(&d).map(Vec::as_slice).unwrap_or_default());
        }
        out.extend(
            self.by_fold
                .get(&fold_key(norm))
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
        out.extend(
            self.by_letters
                .get(&letters_key(norm))
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
        out.extend(
            self.by_words
                .get(&words_key(norm))
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn load(text: &str, norm: fn(&str) -> String) -> List {
    let names: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(norm)
        .collect();
    let targets: Vec<String> = names
        .iter()
        .take(TARGETS)
        .filter(|n| n.len() >= MIN_TARGET_LEN)
        .cloned()
        .collect();
    let mut by_del: std::collections::HashMap<String, Vec<usize>> = Default::default();
    let mut by_fold: std::collections::HashMap<String, Vec<usize>> = Default::default();
    let mut by_letters: std::collections::HashMap<String, Vec<usize>> = Default::default();
    let mut by_words: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (rank, t) in targets.iter().enumerate() {
        for d in deletions(t) {
            let ranks = by_del.entry(d).or_default();
            if ranks.last() != Some(&rank) {
                ranks.push(rank);
            }
        }
        by_fold.entry(fold_key(t)).or_default().push(rank);
        by_letters.entry(letters_key(t)).or_default().push(rank);
        by_words.entry(words_key(t)).or_default().push(rank);
    }
    List {
        all: names.into_iter().collect(),
        targets: targets.iter().cloned().collect(),
        ranked: targets,
        by_del,
        by_fold,
        by_letters,
        by_words,
    }
}

fn pypi() -> &'static List {
    static L: OnceLock<List> = OnceLock::new();
    L.get_or_init(|| load(PYPI_TOP, normalize_pypi))
}

fn npm() -> &'static List {
    static L: OnceLock<List> = OnceLock::new();
    L.get_or_init(|| load(NPM_TOP, |s| s.trim().to_ascii_lowercase()))
}

/// PEP 503 normalisation (the purl rule, `ailedger_core::purl::pep503`) of a name
/// as written in a requirements line or list, surrounding whitespace dropped.
pub fn normalize_pypi(name: &str) -> String {
    ailedger_core::purl::pep503(name.trim())
}

fn is_one_omitted(short: &[u8], long: &[u8]) -> bool {
    if long.len() != short.len() + 1 {
        return false;
    }
    let i = short.iter().zip(long).take_while(|(a, b)| a == b).count();
    short.get(i..) == long.get(i + 1..)
}

/// Characters that pass for one another in a package name.
const CONFUSABLE_GROUPS: &[&[u8]] = &[
    b"l1i", b"o0", b"s5", b"z2", b"b8", b"g9q", b"a4", b"e3", b"t7", b"-_.",
];

fn confusable(a: u8, b: u8) -> bool {
    CONFUSABLE_GROUPS
        .iter()
        .any(|g| g.contains(&a) && g.contains(&b))
}

const KEYBOARD: &[&[u8]] = &[b"1234567890-", b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];

fn adjacent_keys(a: u8, b: u8) -> bool {
    let pos = |c: u8| {
        KEYBOARD.iter().enumerate().find_map(|(r, row)| {
            row.iter()
                .position(|&x| x == c)
                .map(|col| (r as i32, col as i32))
        })
    };
    match (pos(a), pos(b)) {
        (Some((r1, c1)), Some((r2, c2))) => {
            (r1 - r2).abs() <= 1 && (c1 - c2).abs() <= 1 && (r1, c1) != (r2, c2)
        }
        _ => false,
    }
}

/// Why `cand` looks like a typo of `target` (both normalised), if it does.
fn typo_kind(cand: &str, target: &str) -> Option<&'static str> {
    let (c, t) = (cand.as_bytes(), target.as_bytes());
    if c == t {
        return None;
    }
    if is_one_omitted(c, t) {
        return Some("omitted character");
    }
    if is_one_omitted(t, c) {
        let i = t.iter().zip(c).take_while(|(a, b)| a == b).count();
        let repeated = i > 0 && c.get(i) == c.get(i - 1) || c.get(i) == c.get(i + 1);
        return Some(if repeated {
            "repeated character"
        } else {
            "inserted character"
        });
    }
    if c.len() == t.len() {
        let diffs: Vec<usize> = (0..c.len()).filter(|&i| c.get(i) != t.get(i)).collect();
        match diffs.as_slice() {
            [i] => {
                let (a, b) = (
                    c.get(*i).copied().unwrap_or(0),
                    t.get(*i).copied().unwrap_or(0),
                );
                if (a ^ b).count_ones() == 1 && (a.is_ascii_alphanumeric() || a == b'-') {
                    return Some("bit flip");
                }
                if confusable(a, b) {
                    return Some("confusable character");
                }
                if adjacent_keys(a, b) && c.len() >= 6 {
                    return Some("keyboard typo");
                }
            }
            [i, j] if *j == i + 1 && c.get(*i) == t.get(*j) && c.get(*j) == t.get(*i) => {
                return Some("swapped characters");
            }
            ds if !ds.is_empty()
                && ds.iter().all(|&i| {
                    confusable(
                        c.get(i).copied().unwrap_or(0),
                        t.get(i).copied().unwrap_or(0),
                    )
                }) =>
            {
                return Some("confusable characters");
            }
            _ => {}
        }
    }
    // Swapped or re-separated words. Cheap checks first: this runs against every target.
    let is_sep = |c: &u8| matches!(c, b'-' | b'_' | b'.');
    let stripped_len = |s: &[u8]| s.iter().filter(|c| !is_sep(c)).count();
    if stripped_len(c) != stripped_len(t) {
        return None;
    }
    let same_letters = c
        .iter()
        .filter(|x| !is_sep(x))
        .eq(t.iter().filter(|x| !is_sep(x)));
    if same_letters {
        return Some("separator change");
    }
    if c.iter().any(is_sep) && t.iter().any(is_sep) && sorted_words(cand) == sorted_words(target) {
        return Some("swapped words");
    }
    None
}

fn sorted_words(s: &str) -> Vec<&str> {
    let mut w: Vec<&str> = s.split(['-', '_', '.']).filter(|x| !x.is_empty()).collect();
    w.sort_unstable();
    w
}

const PY_AFFIXES: &[&str] = &[
    "python-", "python3-", "py-", "py3-", "py", "python", "-python", "-py", "-py3", "py3",
    "python3", "-python3",
];
const NPM_AFFIXES: &[&str] = &["node-", "-js", "js", "-node", ".js", "node"];

/// Checks one package name against the popular names of its ecosystem (`pypi` or
/// `npm`; other ecosystems yield nothing). A popular package itself is never reported.
pub fn check_package_name(ecosystem: &str, name: &str) -> Vec<Finding> {
    let mut sink = Sink::default();
    sink.file = None;
    check_into(ecosystem, name, &mut sink, None);
    sink.finish()
}

pub(crate) fn check_into(ecosystem: &str, name: &str, sink: &mut Sink, offset: Option<u64>) {
    let (list, norm, affixes): (&List, String, &[&str]) =
        match ecosystem.to_ascii_lowercase().as_str() {
            "pypi" | "pip" | "python" => (pypi(), normalize_pypi(name), PY_AFFIXES),
            "npm" | "node" | "javascript" => (npm(), name.trim().to_ascii_lowercase(), NPM_AFFIXES),
            _ => return,
        };
    if norm.is_empty() || list.all.contains(&norm) {
        return;
    }
    // The most popular target it imitates.
    let mut hit: Option<(String, &'static str)> =
        list.candidates(&norm).into_iter().find_map(|rank| {
            let t = list.ranked.get(rank)?;
            typo_kind(&norm, t).map(|kind| (t.clone(), kind))
        });
    if hit.is_none() {
        for a in affixes {
            let stripped = if a.starts_with('-') || a.starts_with('.') {
                norm.strip_suffix(a)
            } else if a.ends_with('-') {
                norm.strip_prefix(a)
            } else {
                norm.strip_prefix(a).or_else(|| norm.strip_suffix(a))
            };
            if let Some(s) = stripped
                && s.len() >= MIN_TARGET_LEN
                && list.targets.contains(s)
            {
                hit = Some((s.to_string(), "added prefix or suffix"));
                break;
            }
        }
    }
    if let Some((target, kind)) = hit {
        sink.add(
            "AIL-PKG-001",
            format!("{ecosystem} package {name:?} looks like a typosquat of the popular package {target:?} ({kind})"),
            format!("{name} ~ {target} ({kind})"),
            offset,
        );
    }
}

/// Checks requirements.txt-style text. `name` is used as the findings' file.
pub fn inspect_requirements(name: &str, text: &str) -> Vec<Finding> {
    let mut sink = Sink::new(name);
    let mut reqs: Vec<(String, bool, u64)> = Vec::new();
    let mut off = 0u64;
    let mut logical = String::new();
    let mut start = 0u64;
    let mut lines: Vec<(String, u64)> = Vec::new();
    for raw in text.split_inclusive('\n') {
        if logical.is_empty() {
            start = off;
        }
        off += raw.len() as u64;
        let l = raw.trim_end_matches(['\n', '\r']);
        if let Some(cont) = l.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(l);
        lines.push((std::mem::take(&mut logical), start));
    }
    if !logical.is_empty() {
        lines.push((logical, start));
    }
    for (line, at) in lines {
        let line = match line.find(" #") {
            Some(i) => line.get(..i).unwrap_or(""),
            None if line.trim_start().starts_with('#') => "",
            None => line.as_str(),
        }
        .trim()
        .to_string();
        if line.is_empty() {
            continue;
        }
        let line_at = at;
        let at = Some(at);
        let mut toks = line.split_whitespace();
        let first = toks.next().unwrap_or("");
        let opt_value = |t: &str, long: &str| -> Option<String> {
            if let Some(v) = t.strip_prefix(&format!("{long}=")) {
                return Some(v.to_string());
            }
            None
        };
        let (opt, val) = match first.split_once('=') {
            Some((o, v)) if o.starts_with('-') => (o.to_string(), Some(v.to_string())),
            _ => (first.to_string(), None),
        };
        if opt.starts_with('-') {
            let val = val
                .or_else(|| line.split_whitespace().nth(1).map(str::to_string))
                .unwrap_or_default();
            let _ = opt_value;
            match opt.as_str() {
                "--extra-index-url" => sink.add(
                    "AIL-PKG-005",
                    "extra index URL: pip picks the highest version from any index, so a public package can shadow a private one (dependency confusion)",
                    clip(&redact_url(&val), 200),
                    at,
                ),
                "-i" | "--index-url" | "--trusted-host" | "-f" | "--find-links" => sink.add(
                    "AIL-PKG-006",
                    format!("{opt} changes where packages come from"),
                    clip(&redact_url(&val), 200),
                    at,
                ),
                "-e" | "--editable" => sink.add("AIL-PKG-004", "editable (local or VCS) requirement", clip(&redact_url(&val), 200), at),
                _ => {}
            }
            continue;
        }
        let hashed = line.contains("--hash=") || line.contains("--hash ");
        let spec = line.split(" --").next().unwrap_or("").trim();
        let spec = spec.split(';').next().unwrap_or("").trim();
        if spec.contains("://")
            || spec.starts_with("git+")
            || spec.contains(" @ ")
            || spec.contains("@ ")
        {
            sink.add(
                "AIL-PKG-004",
                "direct URL or VCS dependency (bypasses the index and its version pins)",
                clip(&redact_url(spec), 200),
                at,
            );
            reqs.push((spec.to_string(), hashed, line_at));
            continue;
        }
        if spec.starts_with('.') || spec.starts_with('/') {
            sink.add("AIL-PKG-004", "local path dependency", clip(spec, 200), at);
            continue;
        }
        let name_end = spec
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(spec.len());
        let pkg = spec.get(..name_end).unwrap_or("");
        if pkg.is_empty() {
            sink.add(
                "AIL-PKG-007",
                "unparsable requirement line",
                clip(&line, 120),
                at,
            );
            continue;
        }
        let rest = spec.get(name_end..).unwrap_or("");
        let rest = match rest.find(']') {
            Some(i) if rest.starts_with('[') => rest.get(i + 1..).unwrap_or(""),
            _ => rest,
        }
        .trim();
        let pinned = (rest.starts_with("==") && !rest.contains('*') && !rest.contains(','))
            || rest.starts_with("===");
        if !pinned {
            sink.add(
                "AIL-PKG-002",
                format!("{pkg} is not pinned to an exact version (=={{version}})"),
                clip(spec, 120),
                at,
            );
        }
        check_into("pypi", pkg, &mut sink, at);
        reqs.push((pkg.to_string(), hashed, line_at));
    }
    let any_hashed = reqs.iter().any(|r| r.1);
    if !reqs.is_empty() && !any_hashed {
        sink.add(
            "AIL-PKG-003",
            format!(
                "none of the {} requirements has a --hash (pip's hash-checking mode is off)",
                reqs.len()
            ),
            format!("{} requirements", reqs.len()),
            None,
        );
    } else {
        for (pkg, hashed, at) in reqs.iter().filter(|r| !r.1) {
            let _ = hashed;
            sink.add(
                "AIL-PKG-003",
                format!("{pkg} has no --hash while others do"),
                pkg.clone(),
                Some(*at),
            );
        }
    }
    sink.finish()
}

/// Hides the password of `scheme://user:password@host` in evidence.
/// `s` with its URL's secrets removed (`ailedger_core::redact`, the rule ingest uses).
pub(crate) fn redact_url(s: &str) -> String {
    ailedger_core::redact::text(s, ailedger_core::redact::UrlRule::Endpoint).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("pypi", "requests", None),
            ("pypi", "reqeusts", Some("requests")),
            ("pypi", "requestss", Some("requests")),
            ("pypi", "reqests", Some("requests")),
            ("pypi", "nunpy", None),
            ("pypi", "Requests", None),
            ("pypi", "python-requests", Some("requests")),
            ("pypi", "djang0", Some("django")),
            ("npm", "lodahs", Some("lodash")),
            ("npm", "express", None),
            ("npm", "crossenv", Some("cross-env")),
            ("cargo", "serde", None),
        ];
        for (eco, name, want) in cases {
            let f = check_package_name(eco, name);
            match want {
                None => assert!(f.is_empty(), "{name}: {f:?}"),
                Some(t) => assert!(
                    f.first()
                        .is_some_and(|f| f.evidence.contains(&format!("~ {t} "))),
                    "{name}: {f:?}"
                ),
            }
        }
    }

    #[test]
    fn pep503() {
        assert_eq!(normalize_pypi("Foo__Bar.baz"), "foo-bar-baz");
    }
}
