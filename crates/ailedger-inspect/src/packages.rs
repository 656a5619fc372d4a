//! Package-name and requirements hygiene: typosquat detection against the most popular
//! PyPI and npm names (shipped as data, see docs/inspect.md for source and terms), and
//! checks of requirements.txt-style text (unpinned, unhashed, direct URL/VCS
//! dependencies, extra index URLs that open the door to dependency confusion).

use crate::findings::{Sink, clip};
use ailedger_core::Finding;
use std::collections::HashMap;
use std::sync::OnceLock;

const PYPI_TOP: &str = include_str!("../data/pypi-top.txt");
const NPM_TOP: &str = include_str!("../data/npm-top.txt");

/// Every listed name is a typosquat target (and exempt from the check); how close a
/// name must come to count depends on the target's length and rank: see `accepts`.
struct List {
    /// Normalised names in list order (popularity for PyPI, impact for npm).
    ranked: Vec<String>,
    rank: HashMap<String, usize>,
    /// The rank a target is judged by: its own, or for a PyPI name that is another
    /// listed name plus a Python affix (`pytorch`, `python-dateutil`) the better rank
    /// of the two, since people know it by either.
    standing: Vec<usize>,
    /// For a PyPI name ending in a version digit (`beautifulsoup4`, `urllib3`), its
    /// letters without the digits, when at least 5 letters remain: a typo of the stem
    /// imitates the versioned name too.
    stem: Vec<Option<String>>,
    /// For a PyPI name made of a Python affix and a core of 8 letters or more that is
    /// not itself listed (`pyspellchecker`), the core's letters: people name the
    /// package by it, so a typo of the core imitates the name too.
    cores: Vec<Vec<String>>,
    /// PyPI ranks whose standing is under `TWO_EDIT_STANDING`, best standing first,
    /// with their letters: the targets of the two-edit and stem-plus-word checks.
    two_edit: Vec<(usize, String, Histogram)>,
    /// Indexes of `ranked` that find every target within one edit of a candidate
    /// without comparing it with the whole list: each name's letters (separators
    /// dropped) and their one-character deletions (omitted, inserted, replaced and
    /// swapped characters all share one), the confusable-folded letters (several
    /// confusable characters) and the sorted letters (reordered words, rotations).
    by_del: Index,
    by_fold: Index,
    by_sorted: Index,
}

/// Ranks by a 64-bit hash of a key, sorted for binary search. A hash collision only
/// adds a candidate, which `edit_kind` then rejects.
#[derive(Default)]
struct Index(Vec<(u64, u32)>);

impl Index {
    fn push(&mut self, key: u64, rank: usize) {
        self.0.push((key, u32::try_from(rank).unwrap_or(u32::MAX)));
    }

    fn finish(mut self) -> Self {
        self.0.sort_unstable();
        self.0.dedup();
        self
    }

    fn get(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        let from = self.0.partition_point(|(k, _)| *k < key);
        self.0
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(move |(k, _)| *k == key)
            .map(|(_, r)| *r as usize)
    }
}

/// FNV-1a of `bytes`.
fn hash(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Hashes of the string and of every string made by deleting one of its bytes.
fn deletions(s: &str) -> Vec<u64> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() + 1);
    out.push(hash(b.iter().copied()));
    for i in 0..b.len() {
        out.push(hash(
            b.iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| *c),
        ));
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

fn is_sep(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

fn letters_key(s: &str) -> String {
    s.chars().filter(|c| !is_sep(*c)).collect()
}

fn sorted_key(s: &str) -> String {
    let mut b: Vec<char> = letters_key(s).chars().collect();
    b.sort_unstable();
    b.into_iter().collect()
}

fn load(text: &str, norm: fn(&str) -> String, python: bool) -> List {
    let mut ranked: Vec<String> = Vec::new();
    let mut rank: HashMap<String, usize> = HashMap::new();
    for n in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(norm)
    {
        if !rank.contains_key(&n) {
            rank.insert(n.clone(), ranked.len());
            ranked.push(n);
        }
    }
    let (mut by_del, mut by_fold, mut by_sorted) =
        (Index::default(), Index::default(), Index::default());
    let mut standing: Vec<usize> = (0..ranked.len()).collect();
    let mut stem: Vec<Option<String>> = vec![None; ranked.len()];
    let mut cores: Vec<Vec<String>> = vec![Vec::new(); ranked.len()];
    if python {
        for (r, t) in ranked.iter().enumerate() {
            for s in affix_stripped(t, PY_AFFIXES) {
                let core = letters_key(s);
                match rank.get(s) {
                    Some(&sr) if core.len() >= 4 => {
                        if let Some(st) = standing.get_mut(r) {
                            *st = (*st).min(sr);
                        }
                    }
                    None if core.len() >= 8 => {
                        if let Some(c) = cores.get_mut(r)
                            && !c.contains(&core)
                        {
                            c.push(core);
                        }
                    }
                    _ => {}
                }
            }
            let l = letters_key(t);
            let bare = l.trim_end_matches(|c: char| c.is_ascii_digit());
            if bare.len() < l.len()
                && bare.len() >= 5
                && let Some(slot) = stem.get_mut(r)
            {
                *slot = Some(bare.to_string());
            }
        }
    }
    let mut two_edit: Vec<(usize, String, Histogram)> = ranked
        .iter()
        .enumerate()
        .filter(|(r, _)| python && standing.get(*r).is_some_and(|&s| s < TWO_EDIT_STANDING))
        .map(|(r, t)| {
            let l = letters_key(t);
            let h = histogram(&l);
            (r, l, h)
        })
        .collect();
    two_edit.sort_by_key(|(r, _, _)| (standing.get(*r).copied(), *r));
    for (r, t) in ranked.iter().enumerate() {
        let l = letters_key(t);
        for d in deletions(&l) {
            by_del.push(d, r);
        }
        let extra = stem.get(r).into_iter().flatten();
        for st in extra.chain(cores.get(r).into_iter().flatten()) {
            for d in deletions(st) {
                by_del.push(d, r);
            }
        }
        by_fold.push(hash(fold_key(&l).bytes()), r);
        by_sorted.push(hash(sorted_key(t).bytes()), r);
    }
    List {
        ranked,
        rank,
        standing,
        stem,
        cores,
        two_edit,
        by_del: by_del.finish(),
        by_fold: by_fold.finish(),
        by_sorted: by_sorted.finish(),
    }
}

fn pypi() -> &'static List {
    static L: OnceLock<List> = OnceLock::new();
    L.get_or_init(|| load(PYPI_TOP, normalize_pypi, true))
}

fn npm() -> &'static List {
    static L: OnceLock<List> = OnceLock::new();
    L.get_or_init(|| load(NPM_TOP, |s| s.trim().to_ascii_lowercase(), false))
}

/// PEP 503 normalisation (the purl rule, `ailedger_core::purl::pep503`) of a name
/// as written in a requirements line or list, surrounding whitespace dropped.
pub fn normalize_pypi(name: &str) -> String {
    ailedger_core::purl::pep503(name.trim())
}

/// Characters that pass for one another in a package name.
const CONFUSABLE_GROUPS: &[&[u8]] = &[
    b"l1i", b"o0", b"s5", b"z2", b"b8", b"g9q", b"a4", b"e3", b"t7",
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

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// How a candidate differs from a target. The thresholds of `accepts` differ by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Only separators differ (`crossenv`, `setup-tools`).
    Separator,
    Omitted,
    /// An inserted copy of a neighbour (`requestss`, `axioss`).
    Repeated,
    /// An inserted character inside the name.
    Inserted,
    /// An inserted character at either end that is not a plural `s` or a digit: most
    /// such names are other words (`cflask`, `anyioc`) and are never reported.
    InsertedAtEnd,
    /// A trailing `s` (`python-dateutils`).
    Plural,
    /// A trailing digit (`mitmproxy2`).
    TrailingDigit,
    Swapped,
    /// One or more characters replaced by look-alikes (`djang0`, `js-3ha3`).
    Confusable,
    Keyboard,
    Vowel,
    /// One character replaced by an unrelated one (`djangf`, `jquerz`).
    Replaced,
    /// The same words in another order (`nmap-python`).
    Words,
    /// The letters rotated at a word boundary (`pythonkafka`, `libhtml5`).
    Rotated,
    /// A popular name plus an ecosystem word (`python-requests`, `jquery.js`).
    Affix,
    /// Two characters inserted or omitted, or one moved (`colouramas`, `reqest`,
    /// `botoceor`): PyPI only, for the most popular targets.
    TwoEdits,
    /// The stem of a popular versioned name followed by another word
    /// (`beautifulsoup-requests`): PyPI only.
    StemWord,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Separator => "separator change",
            Kind::Omitted => "omitted character",
            Kind::Repeated => "repeated character",
            Kind::Inserted | Kind::InsertedAtEnd => "inserted character",
            Kind::Plural => "added plural",
            Kind::TrailingDigit => "added digit",
            Kind::Swapped => "swapped characters",
            Kind::Confusable => "confusable character",
            Kind::Keyboard => "keyboard typo",
            Kind::Vowel => "replaced vowel",
            Kind::Replaced => "replaced character",
            Kind::Words => "swapped words",
            Kind::Rotated => "rotated words",
            Kind::Affix => "added prefix or suffix",
            Kind::TwoEdits => "two inserted, omitted or moved characters",
            Kind::StemWord => "version-less name plus a word",
        }
    }
}

/// How `c` differs from `t` by one edit (both are letter keys, separators dropped).
fn edit_kind(c: &[u8], t: &[u8]) -> Option<Kind> {
    if c == t {
        return Some(Kind::Separator);
    }
    let common = c.iter().zip(t).take_while(|(a, b)| a == b).count();
    if c.len() + 1 == t.len() {
        return (c.get(common..) == t.get(common + 1..)).then_some(Kind::Omitted);
    }
    if c.len() == t.len() + 1 {
        if c.get(common + 1..) != t.get(common..) {
            return None;
        }
        let x = c.get(common).copied().unwrap_or(0);
        let repeated =
            (common > 0 && c.get(common - 1) == Some(&x)) || c.get(common + 1) == Some(&x);
        return Some(if repeated {
            Kind::Repeated
        } else if common == t.len() && x == b's' {
            Kind::Plural
        } else if common == t.len() && x.is_ascii_digit() {
            Kind::TrailingDigit
        } else if common == 0 || common == t.len() {
            Kind::InsertedAtEnd
        } else {
            Kind::Inserted
        });
    }
    if c.len() != t.len() {
        return None;
    }
    let diffs: Vec<usize> = (0..c.len()).filter(|&i| c.get(i) != t.get(i)).collect();
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    match diffs.as_slice() {
        [i] => {
            let (a, b) = (at(c, *i), at(t, *i));
            Some(if confusable(a, b) {
                Kind::Confusable
            } else if adjacent_keys(a, b) {
                Kind::Keyboard
            } else if is_vowel(a) && is_vowel(b) {
                Kind::Vowel
            } else {
                Kind::Replaced
            })
        }
        [i, j] if *j == i + 1 && at(c, *i) == at(t, *j) && at(c, *j) == at(t, *i) => {
            Some(Kind::Swapped)
        }
        ds if ds.iter().all(|&i| confusable(at(c, i), at(t, i))) => Some(Kind::Confusable),
        _ => None,
    }
}

/// Whether a candidate that differs from the target of `len` letters and list rank
/// `rank` by `kind` is reported. Short names and names far down the list need a closer
/// resemblance: one edit of a 4-letter name is usually another word, and the further
/// down the list, the more unrelated real names sit one edit away. npm's list is
/// ordered by impact (every entry has over a million downloads or 500 dependents), so
/// its thresholds are by length only; PyPI's is by downloads and its long tail is
/// gated by rank too (tuned so that at most 0.5% of established PyPI names are
/// flagged, see docs/inspect.md).
fn accepts(npm: bool, kind: Kind, len: usize, rank: usize) -> bool {
    use Kind::*;
    if npm {
        return match kind {
            Separator | Omitted | Keyboard | Vowel | Inserted | TrailingDigit => len >= 5,
            Swapped | Repeated | Confusable | Plural | Affix => len >= 4,
            Replaced | Words | Rotated => len >= 6,
            InsertedAtEnd | TwoEdits | StemWord => false,
        };
    }
    match kind {
        Separator => len >= 8 || rank < 2_000,
        Swapped => len >= 6 || (len == 5 && rank < 1_000) || (len == 4 && rank < 100),
        Repeated => len >= 6 || rank < 1_000,
        Confusable => len >= 5,
        Omitted => {
            len >= 10
                || (len >= 8 && rank < 5_000)
                || (len >= 6 && rank < 700)
                || (len == 5 && rank < 300)
                || (len == 4 && rank < 100)
        }
        Keyboard | Vowel => len >= 10 || (len >= 6 && rank < 1_000) || (len == 5 && rank < 200),
        Replaced => len >= 10 || (len >= 6 && rank < 500),
        Inserted => len >= 8 || (len >= 6 && rank < 3_000) || (len == 5 && rank < 100),
        Plural => (len >= 4 && rank < 2_000) || (len >= 10 && rank < 5_000),
        TrailingDigit => len >= 8 && rank < 2_000,
        Words | Rotated => len >= 6,
        Affix => len >= 5 && rank < 500,
        // A letter or digit at either end (`0requests`, `pytorchb`) of a long, very
        // popular name; shorter or less popular names take one as another word.
        InsertedAtEnd => len >= 7 && rank < 400,
        // Checked by `two_edits` and `stem_word` against their own bounds.
        TwoEdits | StemWord => false,
    }
}

/// Two-edit and stem-plus-word checks consider PyPI targets whose standing is under
/// this; two edits of a name under 12 letters only under `TWO_EDIT_SHORT`.
const TWO_EDIT_STANDING: usize = 500;
const TWO_EDIT_SHORT: usize = 100;
const STEM_WORD_STANDING: usize = 200;

/// Characters inserted plus characters omitted to turn `a` into `b` (a moved character
/// counts two), by the longest common subsequence; `None` when over 2.
fn indel_distance(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len().abs_diff(b.len()) > 2 {
        return None;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            let v = if x == y {
                prev.get(j).map_or(0, |p| p + 1)
            } else {
                prev.get(j + 1)
                    .copied()
                    .unwrap_or(0)
                    .max(cur.get(j).copied().unwrap_or(0))
            };
            if let Some(c) = cur.get_mut(j + 1) {
                *c = v;
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let lcs = prev.last().copied().unwrap_or(0);
    let d = a.len() + b.len() - 2 * lcs;
    (d <= 2).then_some(d)
}

/// Byte counts folded into 32 buckets: the sum of the differences of two histograms
/// is a lower bound of the insertions and omissions between their strings.
type Histogram = [u8; 32];

fn histogram(s: &str) -> Histogram {
    let mut h = [0u8; 32];
    for b in s.bytes() {
        if let Some(c) = h.get_mut(usize::from(b % 32)) {
            *c = c.saturating_add(1);
        }
    }
    h
}

fn histogram_distance(a: &Histogram, b: &Histogram) -> usize {
    a.iter()
        .zip(b)
        .map(|(x, y)| usize::from(x.abs_diff(*y)))
        .sum()
}

/// `t` without each of `affixes` that it starts or ends with (as in `best_target`).
fn affix_stripped<'a>(t: &'a str, affixes: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for a in affixes {
        if a.starts_with('-') || a.starts_with('.') {
            out.extend(t.strip_suffix(a));
        } else if a.ends_with('-') {
            out.extend(t.strip_prefix(a));
        } else {
            out.extend(t.strip_prefix(a));
            out.extend(t.strip_suffix(a));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Whether `c` is `t` rotated at a point that moves a whole word (neither piece is the
/// bare `py`/`js` of wrapper packages such as `pypath` and `dash-py`).
fn rotated(c: &str, t: &str) -> bool {
    if c.len() != t.len() || c == t || c.len() < 6 {
        return false;
    }
    (1..t.len()).any(|i| {
        let (a, b) = (t.get(..i).unwrap_or(""), t.get(i..).unwrap_or(""));
        c.len() == a.len() + b.len()
            && c.starts_with(b)
            && c.ends_with(a)
            && !matches!(a, "py" | "js")
            && !matches!(b, "py" | "js")
    })
}

fn sorted_words(s: &str) -> Vec<&str> {
    let mut w: Vec<&str> = s.split(is_sep).filter(|x| !x.is_empty()).collect();
    w.sort_unstable();
    w
}

impl List {
    /// The most popular target `norm` imitates closely enough for its length and rank.
    fn best_target(&self, npm: bool, norm: &str, affixes: &[&str]) -> Option<(&str, Kind)> {
        let letters = letters_key(norm);
        let mut ranks: Vec<usize> = deletions(&letters)
            .into_iter()
            .flat_map(|d| self.by_del.get(d))
            .chain(self.by_fold.get(hash(fold_key(&letters).bytes())))
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        // Of the targets within one edit, the best standing wins (then the best rank):
        // `pythrch` is judged against `pytorch` by the standing of `torch`.
        let mut best: Option<((usize, usize), &str, Kind)> = None;
        for r in ranks {
            let Some(t) = self.ranked.get(r) else {
                continue;
            };
            let standing = self.standing(r);
            let full = letters_key(t);
            let stem = self.stem.get(r).and_then(Option::as_deref);
            let cores = self.cores.get(r).into_iter().flatten().map(String::as_str);
            for (tl, is_stem) in [(full.as_str(), false)]
                .into_iter()
                .chain(stem.into_iter().chain(cores).map(|s| (s, true)))
            {
                let Some(kind) = edit_kind(letters.as_bytes(), tl.as_bytes()) else {
                    continue;
                };
                // Same letters, different separators, in a name without any: not a
                // change; and a bare stem or core itself (`beautifulsoup`) is another
                // name.
                if kind == Kind::Separator
                    && (is_stem || (!norm.contains(is_sep) && !t.contains(is_sep)))
                {
                    continue;
                }
                if accepts(npm, kind, tl.len(), standing) {
                    if best.is_none_or(|(k, _, _)| (standing, r) < k) {
                        best = Some(((standing, r), t.as_str(), kind));
                    }
                    break;
                }
            }
        }
        if let Some((_, t, kind)) = best {
            return Some((t, kind));
        }
        for a in affixes {
            let stripped = if a.starts_with('-') || a.starts_with('.') {
                norm.strip_suffix(a)
            } else if a.ends_with('-') {
                norm.strip_prefix(a)
            } else {
                norm.strip_prefix(a).or_else(|| norm.strip_suffix(a))
            };
            if let Some(s) = stripped
                && let Some((t, &r)) = self.rank.get_key_value(s)
                && accepts(npm, Kind::Affix, letters_key(s).len(), self.standing(r))
            {
                return Some((t.as_str(), Kind::Affix));
            }
        }
        let words = sorted_words(norm);
        let mut ranks: Vec<usize> = self.by_sorted.get(hash(sorted_key(norm).bytes())).collect();
        ranks.sort_unstable();
        for r in ranks {
            let Some(t) = self.ranked.get(r) else {
                continue;
            };
            let tl = letters_key(t);
            let kind = if words.len() > 1 && words == sorted_words(t) {
                Kind::Words
            } else if rotated(&letters, &tl) {
                Kind::Rotated
            } else {
                continue;
            };
            if accepts(npm, kind, tl.len(), r) {
                return Some((t, kind));
            }
        }
        if npm {
            return None;
        }
        self.two_edits(&letters)
            .map(|t| (t, Kind::TwoEdits))
            .or_else(|| self.stem_word(norm).map(|t| (t, Kind::StemWord)))
    }

    fn standing(&self, r: usize) -> usize {
        self.standing.get(r).copied().unwrap_or(r)
    }

    /// The best-standing popular PyPI target (standing under `TWO_EDIT_STANDING`, at
    /// least 7 letters, under 12 letters only with standing under `TWO_EDIT_SHORT`)
    /// that `letters` reaches by two inserted or omitted characters (or one moved), or
    /// whose version-less stem it reaches by one. Two edits of any listed name would
    /// flag 2.5% of established names; of the few hundred most popular, long names
    /// none of the 2,000 sampled (docs/inspect.md).
    fn two_edits(&self, letters: &str) -> Option<&str> {
        let h = histogram(letters);
        for (r, tl, th) in &self.two_edit {
            let r = *r;
            if tl.len() < 7
                || tl.len().abs_diff(letters.len()) > 3
                || (tl.len() < 12 && self.standing(r) >= TWO_EDIT_SHORT)
                || histogram_distance(&h, th) > 3
            {
                continue;
            }
            let Some(t) = self.ranked.get(r) else {
                continue;
            };
            let stem = self.stem.get(r).and_then(Option::as_deref);
            if indel_distance(letters.as_bytes(), tl.as_bytes()).is_some_and(|d| d > 0)
                || stem.is_some_and(|s| indel_distance(letters.as_bytes(), s.as_bytes()) == Some(1))
            {
                return Some(t);
            }
        }
        None
    }

    /// A name whose first word is the version-less stem of a popular PyPI name
    /// (standing under `STEM_WORD_STANDING`, stem of 6 letters or more) and that has
    /// more words: `beautifulsoup-requests` for `beautifulsoup4`.
    fn stem_word(&self, norm: &str) -> Option<&str> {
        let mut words = norm.split(is_sep).filter(|w| !w.is_empty());
        let first = words.next()?;
        words.next()?;
        if first.len() < 6 {
            return None;
        }
        self.two_edit
            .iter()
            .map(|(r, _, _)| *r)
            .filter(|&r| self.standing(r) < STEM_WORD_STANDING)
            .find(|&r| self.stem.get(r).and_then(Option::as_deref) == Some(first))
            .and_then(|r| self.ranked.get(r))
            .map(String::as_str)
    }
}

const PY_AFFIXES: &[&str] = &[
    "python-", "python3-", "py-", "py3-", "py", "python", "-python", "-py", "-py3", "py3",
    "python3", "-python3",
];
const NPM_AFFIXES: &[&str] = &[
    "node-", "-js", "js", "-node", ".js", "node", "-npm", "-http", "-cli", "cli",
];

/// Checks one package name against the popular names of its ecosystem (`pypi` or
/// `npm`; other ecosystems yield nothing). A popular package itself is never reported.
pub fn check_package_name(ecosystem: &str, name: &str) -> Vec<Finding> {
    let mut sink = Sink::default();
    sink.file = None;
    check_into(ecosystem, name, &mut sink, None);
    sink.finish()
}

pub(crate) fn check_into(ecosystem: &str, name: &str, sink: &mut Sink, offset: Option<u64>) {
    let (list, norm, affixes, is_npm): (&List, String, &[&str], bool) =
        match ecosystem.to_ascii_lowercase().as_str() {
            "pypi" | "pip" | "python" => (pypi(), normalize_pypi(name), PY_AFFIXES, false),
            "npm" | "node" | "javascript" => {
                (npm(), name.trim().to_ascii_lowercase(), NPM_AFFIXES, true)
            }
            _ => return,
        };
    if norm.is_empty() || list.rank.contains_key(&norm) {
        return;
    }
    if let Some((target, kind)) = list.best_target(is_npm, &norm, affixes) {
        let kind = kind.describe();
        sink.add(
            "AIL-PKG-001",
            format!("{ecosystem} package {name:?} looks like a typosquat of the popular package {target:?} ({kind})"),
            format!("{name} ~ {target} ({kind})"),
            offset,
        );
    }
}

/// pip options a requirements file may hold (pip's own list for requirements files).
const REQ_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--prefer-binary",
    "--no-binary",
    "--only-binary",
    "--require-hashes",
    "--hash",
    "--use-feature",
    "--config-settings",
    "--global-option",
];

/// Whether `text` reads as a requirements file by content (for a file named explicitly
/// whatever its name, e.g. `deps.txt`). Every logical line (comments and `\`
/// continuations handled) must be a pip option, a URL or path, or a PEP 508 requirement
/// (name, optional `[extras]`, then nothing, a version specifier, `@ url`, `;` marker or
/// `--hash` options); and at least one line must be more than a bare name (a pin or
/// range, an option, a URL), so that a word list or prose is not taken for one.
pub fn looks_like_requirements(text: &str) -> bool {
    if text.contains('\0') {
        return false;
    }
    let mut strong = false;
    let mut any = false;
    let mut logical = String::new();
    let mut lines: Vec<String> = Vec::new();
    for raw in text.lines() {
        if let Some(cont) = raw.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        lines.push(std::mem::take(&mut logical));
    }
    lines.push(logical);
    for line in &lines {
        let l = match line.find(" #") {
            Some(i) => line.get(..i).unwrap_or(""),
            None if line.trim_start().starts_with('#') => "",
            None => line,
        }
        .trim();
        if l.is_empty() {
            continue;
        }
        any = true;
        if l.starts_with('-') {
            let opt = l.split(['=', ' ', '\t']).next().unwrap_or("");
            if !REQ_OPTIONS.contains(&opt) {
                return false;
            }
            strong = true;
            continue;
        }
        if l.starts_with("git+") || l.contains("://") || l.starts_with("./") || l.starts_with('/') {
            if l.contains(char::is_whitespace) && !l.contains(" --hash") && !l.contains(" @ ") {
                return false;
            }
            strong = true;
            continue;
        }
        let name_end = l
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(l.len());
        let name = l.get(..name_end).unwrap_or("");
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return false;
        }
        let mut rest = l.get(name_end..).unwrap_or("").trim_start();
        if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return false };
            let extras = r.get(..end).unwrap_or("");
            if !extras
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ',' | ' '))
            {
                return false;
            }
            rest = r.get(end + 1..).unwrap_or("").trim_start();
        }
        // Options after the requirement (`--hash=…`) and the environment marker.
        let (spec, opts) = match rest.find("--") {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
            None => (rest, ""),
        };
        let spec = spec.split(';').next().unwrap_or("").trim();
        if !opts.is_empty() {
            if !opts
                .split_whitespace()
                .all(|o| o.starts_with("--hash") || o.contains(':'))
            {
                return false;
            }
            strong = true;
        }
        if spec.is_empty() {
            continue;
        }
        if let Some(url) = spec.strip_prefix('@') {
            if !url.trim().contains("://") && !url.trim().starts_with("file:") {
                return false;
            }
            strong = true;
            continue;
        }
        // One or more comma-separated version clauses: ==1.2, >=2,<3, ~=1.4, !=1.5.*
        let ok = spec.split(',').all(|clause| {
            let c = clause.trim();
            let v = ["===", "==", ">=", "<=", "~=", "!=", ">", "<"]
                .iter()
                .find_map(|op| c.strip_prefix(op));
            v.map(str::trim).is_some_and(|v| {
                !v.is_empty()
                    && v.chars().all(|ch| {
                        ch.is_ascii_alphanumeric()
                            || matches!(ch, '.' | '*' | '+' | '!' | '-' | '_')
                    })
            })
        });
        if !ok {
            return false;
        }
        strong = true;
    }
    any && strong
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
            // A keyboard typo of a 5-letter name in the top 200 (`numoy` was real).
            ("pypi", "nunpy", Some("numpy")),
            ("pypi", "nunpx", None),
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
    fn edit_kinds_and_rotations() {
        let k = |c: &str, t: &str| edit_kind(c.as_bytes(), t.as_bytes());
        assert_eq!(k("djanga", "django"), Some(Kind::Vowel));
        assert_eq!(k("djangf", "django"), Some(Kind::Replaced));
        assert_eq!(k("djangu", "django"), Some(Kind::Vowel));
        assert_eq!(k("djangi", "django"), Some(Kind::Keyboard));
        assert_eq!(k("djang0", "django"), Some(Kind::Confusable));
        assert_eq!(k("djnago", "django"), Some(Kind::Swapped));
        assert_eq!(k("djago", "django"), Some(Kind::Omitted));
        assert_eq!(k("djangoo", "django"), Some(Kind::Repeated));
        assert_eq!(k("djangos", "django"), Some(Kind::Plural));
        assert_eq!(k("django2", "django"), Some(Kind::TrailingDigit));
        assert_eq!(k("djangox", "django"), Some(Kind::InsertedAtEnd));
        assert_eq!(k("xdjango", "django"), Some(Kind::InsertedAtEnd));
        assert_eq!(k("djaxngo", "django"), Some(Kind::Inserted));
        assert_eq!(k("djangoxx", "django"), None);
        assert_eq!(k("dxangx", "django"), None);
        assert!(rotated("pythonkafka", "kafkapython"));
        assert!(rotated("libhtml5", "html5lib"));
        assert!(!rotated("pypath", "pathpy"));
        assert!(!rotated("html5lib", "html5lib"));
        assert!(!rotated("kafkapython", "kafkanohtyp"));
    }

    #[test]
    fn indel_distance_counts_insertions_and_omissions() {
        let d = |a: &str, b: &str| indel_distance(a.as_bytes(), b.as_bytes());
        assert_eq!(d("colouramas", "colorama"), Some(2));
        assert_eq!(d("reqest", "requests"), Some(2));
        assert_eq!(d("botoceor", "botocore"), Some(2)); // one moved character
        assert_eq!(d("httpcodes", "httpcore"), None); // a replacement costs two
        assert_eq!(d("requests", "requests"), Some(0));
        assert_eq!(d("abc", "abcdef"), None);
        let (a, b) = (histogram("botoceor"), histogram("botocore"));
        assert_eq!(histogram_distance(&a, &b), 0);
        assert_eq!(
            histogram_distance(&histogram("reqest"), &histogram("requests")),
            2
        );
    }

    #[test]
    fn standing_stems_and_the_pypi_only_rules() {
        let l = pypi();
        let r = |n: &str| l.rank.get(n).copied().unwrap_or(usize::MAX);
        // `pytorch` stands where `torch` does; `torch` stands by itself.
        assert_eq!(l.standing(r("pytorch")), r("torch"));
        assert_eq!(l.standing(r("torch")), r("torch"));
        assert_eq!(
            l.stem
                .get(r("beautifulsoup4"))
                .cloned()
                .flatten()
                .as_deref(),
            Some("beautifulsoup")
        );
        assert_eq!(l.stem.get(r("boto3")).cloned().flatten(), None); // stem under 5
        // `pyspellchecker` is known by its core; `pytorch`'s core is a listed name.
        assert!(
            l.cores
                .get(r("pyspellchecker"))
                .is_some_and(|c| c.iter().any(|x| x == "spellchecker"))
        );
        assert!(l.cores.get(r("pytorch")).is_some_and(Vec::is_empty));
        let target = |eco: &str, n: &str| {
            check_package_name(eco, n)
                .first()
                .and_then(|f| f.evidence.split_once(" ~ ").map(|x| x.1.to_string()))
        };
        let starts = |eco: &str, n: &str, t: &str| {
            target(eco, n).is_some_and(|g| g.starts_with(&format!("{t} (")))
        };
        assert!(starts("pypi", "pythrch", "pytorch"));
        assert!(starts("pypi", "beautifulsoop", "beautifulsoup4"));
        assert!(starts("pypi", "beautifulsoup-xyz", "beautifulsoup4"));
        assert!(starts("pypi", "arequests", "requests"));
        assert!(starts("pypi", "colouramas", "colorama"));
        // The bare stem is another package, not a typo of the versioned one.
        assert_eq!(target("pypi", "beautifulsoup"), None);
        // npm keeps its own rules: no two-edit check.
        assert_eq!(target("npm", "lodaashh"), None);
        assert_eq!(target("pypi", "lodaashh"), None); // lodash is not a PyPI name
        assert!(starts("pypi", "requestsaa", "requests"));
    }

    #[test]
    fn pep503() {
        assert_eq!(normalize_pypi("Foo__Bar.baz"), "foo-bar-baz");
    }
}
