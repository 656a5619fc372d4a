//! The pickle scanner: a symbolic pickle virtual machine. It simulates the stack, the
//! mark stack and the memo instead of pattern-matching bytes, so STACK_GLOBAL operands
//! fetched through the memo, protocol-4 dotted names and globals reached through
//! `getattr`/`__import__` chains are resolved. Nothing is ever imported or called.
//!
//! Findings made before a parse error are kept: a broken pickle whose payload ran before
//! the error is malicious, not merely malformed.

use crate::findings::{Sink, clip};
use crate::policy::{Verdict, judge, walk_target};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Limits of one pickle scan.
#[derive(Debug, Clone, Copy)]
pub struct PickleLimits {
    pub max_memo: usize,
    pub max_stack: usize,
    pub max_marks: usize,
    pub max_ops: u64,
    pub max_pickles: usize,
}

impl Default for PickleLimits {
    fn default() -> Self {
        Self {
            max_memo: 1_000_000,
            max_stack: 1_000_000,
            max_marks: 10_000,
            max_ops: 500_000_000,
            max_pickles: 64,
        }
    }
}

/// Longest string kept verbatim on the symbolic stack.
const MAX_STR: usize = 4096;
/// Most entries kept of a dict or tuple (the rest are counted, not stored).
const MAX_ITEMS: usize = 64;

#[derive(Debug, Clone)]
enum V {
    Str(Rc<str>),
    LongStr,
    Bytes,
    Int(i64),
    OtherScalar,
    List,
    Tuple(Rc<Vec<V>>),
    Dict(Rc<Vec<(V, V)>>),
    Global(Rc<(String, String)>),
    Module(Rc<str>),
    Obj(Rc<Obj>),
    PersId,
    Unknown,
}

#[derive(Debug)]
struct Obj {
    callee: Option<String>,
    args: V,
    state: Option<V>,
}

/// How one stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// STOP at this position (exclusive end).
    Stop(usize),
    /// Parse error at this position; bytes consumed before the error.
    Error { pos: usize, msg: String, ops: u64 },
    /// A limit stopped the scan.
    Limit,
}

/// What a caller needs to know about the scanned streams.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub pickles: usize,
    pub globals: Vec<String>,
}

#[derive(Debug, Default)]
struct GlobalSeen {
    offset: u64,
    imported: bool,
    called: Option<&'static str>,
    verdict: Option<Verdict>,
    /// The module a dotted name starts from and the dangerous module it walks into.
    walk: Option<(String, &'static str)>,
}

/// The module a dotted global starts from and the dangerous module it walks into.
fn walk_of(module: &str, name: &str) -> Option<(String, &'static str)> {
    let to = walk_target(module, name)?;
    let from = module.split('.').next().unwrap_or(module);
    (from != to).then(|| (from.to_string(), to))
}

/// Scans `data` as a pickle stream and its following stacked pickles.
pub(crate) struct Scanner<'s> {
    pub sink: &'s mut Sink,
    pub base: u64,
    pub limits: PickleLimits,
    /// Persistent IDs are expected (inside a PyTorch archive).
    pub persid_ok: bool,
    globals: BTreeMap<String, GlobalSeen>,
    ops: u64,
    depth: u32,
}

impl<'s> Scanner<'s> {
    pub fn new(sink: &'s mut Sink, base: u64, limits: PickleLimits, persid_ok: bool) -> Self {
        Self {
            sink,
            base,
            limits,
            persid_ok,
            globals: BTreeMap::new(),
            ops: 0,
            depth: 0,
        }
    }

    /// Scans stacked pickles until the data ends. `tolerate_tail`: bytes after the last
    /// complete pickle that do not parse are raw data (legacy torch), not a malformed pickle.
    /// `max_streams` bounds how many pickles are read (legacy torch: exactly five).
    pub fn scan_all(
        mut self,
        data: &[u8],
        tolerate_tail: bool,
        max_streams: Option<usize>,
    ) -> Summary {
        let mut pos = 0usize;
        let mut summary = Summary::default();
        let max = max_streams.unwrap_or(self.limits.max_pickles);
        while pos < data.len() {
            if summary.pickles >= max {
                if max_streams.is_none() {
                    self.sink.add(
                        "AIL-PKL-006",
                        format!("more than {max} stacked pickles; the rest was not scanned"),
                        format!("max_pickles={max}"),
                        Some(self.base + pos as u64),
                    );
                }
                break;
            }
            let Some(rest) = data.get(pos..) else { break };
            let before_globals = self.globals.len();
            let end = self.scan_one(rest, pos);
            match end {
                End::Stop(n) => {
                    summary.pickles += 1;
                    pos += n.max(1);
                }
                End::Limit => break,
                End::Error {
                    pos: epos,
                    msg,
                    ops,
                } => {
                    let trivially_not_pickle = ops <= 1 && self.globals.len() == before_globals;
                    if summary.pickles > 0
                        && (trivially_not_pickle || tolerate_tail)
                        && self.globals.len() == before_globals
                    {
                        if !tolerate_tail {
                            self.sink.add(
                                "AIL-PKL-010",
                                format!(
                                    "{} bytes after the last pickle are not a pickle",
                                    data.len() - pos
                                ),
                                clip(&msg, 120),
                                Some(self.base + pos as u64),
                            );
                        }
                    } else {
                        self.sink.add(
                            "AIL-PKL-005",
                            format!("malformed pickle: {msg}"),
                            clip(&msg, 120),
                            Some(self.base + (pos + epos) as u64),
                        );
                    }
                    summary.pickles += 1;
                    break;
                }
            }
        }
        summary.globals = self.globals.keys().cloned().collect();
        self.flush();
        summary
    }

    fn flush(&mut self) {
        let globals = std::mem::take(&mut self.globals);
        for (name, g) in globals {
            let walk = g
                .walk
                .as_ref()
                .map(|(from, to)| {
                    format!(", a dotted name that walks from {from} to the {to} module")
                })
                .unwrap_or_default();
            match (&g.verdict, g.called) {
                (Some(Verdict::Dangerous(why)), Some(how)) => self.sink.add(
                    "AIL-PKL-001",
                    format!("pickle calls {name}{walk} ({why}) via {how}"),
                    name.clone(),
                    Some(g.offset),
                ),
                (Some(Verdict::Dangerous(why)), None) => self.sink.add(
                    "AIL-PKL-002",
                    format!("pickle imports {name}{walk} ({why})"),
                    name.clone(),
                    Some(g.offset),
                ),
                (Some(Verdict::Unknown), called) => self.sink.add(
                    "AIL-PKL-003",
                    format!(
                        "pickle {} {name}, which is on no allow-list profile",
                        if called.is_some() { "calls" } else { "imports" }
                    ),
                    name.clone(),
                    Some(g.offset),
                ),
                _ => {}
            }
            let _ = g.imported;
        }
    }

    fn note_global(&mut self, module: &str, name: &str, off: u64) -> V {
        let key = format!("{module}.{name}");
        let entry = self.globals.entry(key).or_insert_with(|| GlobalSeen {
            offset: off,
            ..GlobalSeen::default()
        });
        entry.imported = true;
        if entry.verdict.is_none() {
            entry.verdict = Some(judge(module, name));
            entry.walk = walk_of(module, name);
        }
        if let Some(Verdict::Dangerous(_)) = entry.verdict
            && name.contains('.')
            && name
                .split('.')
                .any(|s| s.starts_with("__") && s.ends_with("__"))
        {
            self.sink.add(
                "AIL-PKL-008",
                format!("global {module}.{name} walks attributes through a dunder name"),
                format!("{module}.{name}"),
                Some(off),
            );
        }
        V::Global(Rc::new((module.to_string(), name.to_string())))
    }

    fn note_call(&mut self, callee: &V, args: &V, how: &'static str, off: u64) -> V {
        match callee {
            V::Global(g) => {
                let (m, n) = (&g.0, &g.1);
                let key = format!("{m}.{n}");
                if let Some(e) = self.globals.get_mut(&key) {
                    if e.called.is_none() {
                        e.called = Some(how);
                    }
                } else {
                    // A global synthesised by getattr resolution.
                    let verdict = judge(m, n);
                    self.globals.insert(
                        key.clone(),
                        GlobalSeen {
                            offset: off,
                            imported: false,
                            called: Some(how),
                            verdict: Some(verdict),
                            walk: walk_of(m, n),
                        },
                    );
                }
                let first = match args {
                    V::Tuple(t) => t.first().cloned(),
                    _ => None,
                };
                let second = match args {
                    V::Tuple(t) => t.get(1).cloned(),
                    _ => None,
                };
                let norm_m = if m == "__builtin__" {
                    "builtins"
                } else {
                    m.as_str()
                };
                // Resolve __import__('os') and getattr(x, 'attr') so chained calls are judged.
                match (norm_m, n.as_str(), first, second) {
                    ("builtins", "__import__", Some(V::Str(s)), _)
                    | ("importlib", "import_module", Some(V::Str(s)), _) => {
                        return V::Module(s);
                    }
                    ("builtins", "getattr", Some(V::Module(mm)), Some(V::Str(attr))) => {
                        return V::Global(Rc::new((mm.to_string(), attr.to_string())));
                    }
                    ("builtins", "getattr", Some(V::Global(gg)), Some(V::Str(attr))) => {
                        return V::Global(Rc::new((gg.0.clone(), format!("{}.{attr}", gg.1))));
                    }
                    ("functools", "partial", Some(inner @ V::Global(_)), _) => {
                        // partial(f, …) is judged as f being called.
                        let _ = self.note_call(&inner, &V::Unknown, "functools.partial", off);
                    }
                    _ => {}
                }
                V::Obj(Rc::new(Obj {
                    callee: Some(key),
                    args: args.clone(),
                    state: None,
                }))
            }
            V::Module(mm) => {
                self.sink.add(
                    "AIL-PKL-004",
                    format!("pickle calls the module object {mm} via {how}"),
                    mm.to_string(),
                    Some(off),
                );
                V::Unknown
            }
            other => {
                let what = match other {
                    V::Obj(o) => format!("result of {}", o.callee.as_deref().unwrap_or("?")),
                    V::Unknown => "an unresolved value".to_string(),
                    _ => "a non-callable value".to_string(),
                };
                // Calling the result of an allow-listed constructor is not something legit
                // checkpoints do either.
                self.sink.add(
                    "AIL-PKL-004",
                    format!(
                        "pickle calls {what} via {how}; the callee cannot be resolved statically"
                    ),
                    what,
                    Some(off),
                );
                V::Unknown
            }
        }
    }

    /// Scans one pickle from the start of `d`. `at` is `d`'s offset in the scanned data.
    #[allow(clippy::too_many_lines)]
    fn scan_one(&mut self, d: &[u8], at: usize) -> End {
        let mut st: Vec<V> = Vec::new();
        let mut marks: Vec<usize> = Vec::new();
        let mut memo: HashMap<u64, V> = HashMap::new();
        let mut p = 0usize;
        let mut local_ops = 0u64;
        let base = self.base + at as u64;

        macro_rules! fail {
            ($pos:expr, $($arg:tt)*) => {
                {
                    self.ops += local_ops;
                    return End::Error { pos: $pos, msg: format!($($arg)*), ops: local_ops };
                }
            };
        }
        macro_rules! pop {
            ($op:expr) => {
                match st.pop() {
                    Some(v) => v,
                    None => fail!(p, "stack underflow at {} (offset {})", $op, base + p as u64),
                }
            };
        }
        macro_rules! take {
            ($n:expr) => {{
                let n: usize = $n;
                match p.checked_add(n).and_then(|e| d.get(p..e)) {
                    Some(s) => {
                        p += n;
                        s
                    }
                    None => fail!(
                        p,
                        "truncated: {} bytes wanted at offset {}",
                        n,
                        base + p as u64
                    ),
                }
            }};
        }
        macro_rules! line {
            () => {{
                let rest = d.get(p..).unwrap_or(&[]);
                match rest.iter().take(1 << 16).position(|&b| b == b'\n') {
                    Some(i) => {
                        let s = rest.get(..i).unwrap_or(&[]);
                        p += i + 1;
                        s
                    }
                    None => fail!(p, "unterminated line at offset {}", base + p as u64),
                }
            }};
        }
        macro_rules! pop_mark {
            () => {{
                let Some(m) = marks.pop() else {
                    fail!(p, "MARK expected at offset {}", base + p as u64)
                };
                if m > st.len() {
                    fail!(p, "corrupt mark stack");
                }
                st.split_off(m)
            }};
        }
        // Pops to the last mark, discarding the items (no allocation).
        macro_rules! drop_mark {
            () => {{
                let Some(m) = marks.pop() else {
                    fail!(p, "MARK expected at offset {}", base + p as u64)
                };
                if m > st.len() {
                    fail!(p, "corrupt mark stack");
                }
                st.truncate(m);
            }};
        }
        macro_rules! le {
            ($n:expr) => {{
                let b = take!($n);
                let mut v: u64 = 0;
                for (i, x) in b.iter().enumerate() {
                    v |= u64::from(*x) << (8 * i);
                }
                v
            }};
        }

        let limits = self.limits;
        let ops_budget = limits.max_ops.saturating_sub(self.ops);
        loop {
            local_ops += 1;
            // Limits are checked every 64 opcodes and whenever a structure is near its
            // limit, so the common path stays short.
            if local_ops & 63 == 0
                || st.len() >= limits.max_stack
                || marks.len() >= limits.max_marks
                || memo.len() >= limits.max_memo
            {
                if st.len() > limits.max_stack || marks.len() > limits.max_marks {
                    self.sink.add(
                        "AIL-PKL-006",
                        "pickle stack depth limit exceeded; the rest of the pickle was not scanned",
                        format!("stack={} marks={}", st.len(), marks.len()),
                        Some(base + p as u64),
                    );
                    self.ops += local_ops;
                    return End::Limit;
                }
                if memo.len() > limits.max_memo {
                    self.sink.add(
                        "AIL-PKL-006",
                        "pickle memo size limit exceeded; the rest of the pickle was not scanned",
                        format!("memo={}", memo.len()),
                        Some(base + p as u64),
                    );
                    self.ops += local_ops;
                    return End::Limit;
                }
                if local_ops > ops_budget {
                    self.sink.add(
                        "AIL-PKL-006",
                        "pickle opcode count limit exceeded; the rest was not scanned",
                        format!("ops={}", self.ops + local_ops),
                        Some(base + p as u64),
                    );
                    self.ops += local_ops;
                    return End::Limit;
                }
            }
            let op_pos = p;
            let off = base + op_pos as u64;
            let Some(&op) = d.get(p) else {
                fail!(p, "pickle ends without STOP")
            };
            p += 1;
            match op {
                b'.' => {
                    self.ops += local_ops;
                    return End::Stop(p);
                }
                b'(' => marks.push(st.len()),
                b'0' => {
                    if st.pop().is_none() {
                        // POP on an empty stack after a mark pops the mark (Python 3 behaviour).
                        if marks.pop().is_none() {
                            fail!(op_pos, "stack underflow at POP");
                        }
                    }
                }
                b'1' => {
                    drop_mark!();
                }
                b'2' => {
                    let v = pop!("DUP");
                    st.push(v.clone());
                    st.push(v);
                }
                b'F' => {
                    let _ = line!();
                    st.push(V::OtherScalar);
                }
                b'I' => {
                    let l = line!();
                    let s = String::from_utf8_lossy(l);
                    st.push(s.trim().parse::<i64>().map_or(V::OtherScalar, V::Int));
                }
                b'J' => {
                    let v = le!(4) as u32 as i32;
                    st.push(V::Int(i64::from(v)));
                }
                b'K' => {
                    let v = le!(1);
                    st.push(V::Int(v as i64));
                }
                b'M' => {
                    let v = le!(2);
                    st.push(V::Int(v as i64));
                }
                b'L' => {
                    let _ = line!();
                    st.push(V::OtherScalar);
                }
                b'N' | 0x88 | 0x89 => st.push(V::OtherScalar),
                b'P' => {
                    let _ = line!();
                    self.persid(off);
                    st.push(V::PersId);
                }
                b'Q' => {
                    let _ = pop!("BINPERSID");
                    self.persid(off);
                    st.push(V::PersId);
                }
                b'R' => {
                    let args = pop!("REDUCE");
                    let f = pop!("REDUCE");
                    let r = self.note_call(&f, &args, "REDUCE", off);
                    st.push(r);
                }
                b'S' => {
                    let l = line!();
                    st.push(str_value(&unquote_string(l)));
                }
                b'T' => {
                    let n = le!(4) as usize;
                    let b = take!(n);
                    st.push(str_value(&String::from_utf8_lossy(b)));
                }
                b'U' => {
                    let n = le!(1) as usize;
                    let b = take!(n);
                    st.push(str_value(&String::from_utf8_lossy(b)));
                }
                b'V' => {
                    let l = line!();
                    st.push(str_value(&raw_unicode_escape(l)));
                }
                b'X' => {
                    let n = le!(4) as usize;
                    let b = take!(n);
                    st.push(str_value(&String::from_utf8_lossy(b)));
                }
                0x8c => {
                    let n = le!(1) as usize;
                    let b = take!(n);
                    st.push(str_value(&String::from_utf8_lossy(b)));
                }
                0x8d => {
                    let n = le!(8);
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    let b = take!(n);
                    st.push(str_value(&String::from_utf8_lossy(b)));
                }
                b'B' => {
                    let n = le!(4) as usize;
                    let _ = take!(n);
                    st.push(V::Bytes);
                }
                b'C' => {
                    let n = le!(1) as usize;
                    let _ = take!(n);
                    st.push(V::Bytes);
                }
                0x8e | 0x96 => {
                    let n = usize::try_from(le!(8)).unwrap_or(usize::MAX);
                    let _ = take!(n);
                    st.push(V::Bytes);
                }
                0x97 => st.push(V::Bytes),
                0x98 => {
                    let _ = pop!("READONLY_BUFFER");
                    st.push(V::Bytes);
                }
                b'a' => {
                    let _ = pop!("APPEND");
                    if st.is_empty() {
                        fail!(op_pos, "stack underflow at APPEND");
                    }
                }
                b'e' => {
                    drop_mark!();
                    if st.is_empty() {
                        fail!(op_pos, "stack underflow at APPENDS");
                    }
                }
                b'b' => {
                    let state = pop!("BUILD");
                    let Some(top) = st.pop() else {
                        fail!(op_pos, "stack underflow at BUILD")
                    };
                    let built = self.build(top, state, off);
                    let skip = self.joblib_skip(&built, d, p, at, off);
                    match skip {
                        Ok(Some(n)) => p = n,
                        Ok(None) => {}
                        Err(()) => {
                            self.ops += local_ops;
                            return End::Limit;
                        }
                    }
                    st.push(built);
                }
                b'c' => {
                    let m = String::from_utf8_lossy(line!()).into_owned();
                    let n = String::from_utf8_lossy(line!()).into_owned();
                    let g = self.note_global(&m, &n, off);
                    st.push(g);
                }
                0x93 => {
                    let name = pop!("STACK_GLOBAL");
                    let module = pop!("STACK_GLOBAL");
                    match (&module, &name) {
                        (V::Str(m), V::Str(n)) => {
                            let g = self.note_global(m, n, off);
                            st.push(g);
                        }
                        _ => {
                            self.sink.add(
                                "AIL-PKL-004",
                                "STACK_GLOBAL operands are not plain strings; the imported global cannot be resolved",
                                format!("module={} name={}", describe(&module), describe(&name)),
                                Some(off),
                            );
                            st.push(V::Unknown);
                        }
                    }
                }
                b'i' => {
                    let m = String::from_utf8_lossy(line!()).into_owned();
                    let n = String::from_utf8_lossy(line!()).into_owned();
                    let g = self.note_global(&m, &n, off);
                    let items = pop_mark!();
                    let r = self.note_call(&g, &V::Tuple(Rc::new(items)), "INST", off);
                    st.push(r);
                }
                b'o' => {
                    let mut items = pop_mark!();
                    if items.is_empty() {
                        fail!(op_pos, "OBJ without a class");
                    }
                    let cls = items.remove(0);
                    let r = self.note_call(&cls, &V::Tuple(Rc::new(items)), "OBJ", off);
                    st.push(r);
                }
                0x81 => {
                    let args = pop!("NEWOBJ");
                    let cls = pop!("NEWOBJ");
                    let r = self.note_call(&cls, &args, "NEWOBJ", off);
                    st.push(r);
                }
                0x92 => {
                    let _kw = pop!("NEWOBJ_EX");
                    let args = pop!("NEWOBJ_EX");
                    let cls = pop!("NEWOBJ_EX");
                    let r = self.note_call(&cls, &args, "NEWOBJ_EX", off);
                    st.push(r);
                }
                0x82..=0x84 => {
                    let n = match op {
                        0x82 => 1,
                        0x83 => 2,
                        _ => 4,
                    };
                    let code = le!(n);
                    self.sink.add(
                        "AIL-PKL-007",
                        format!("extension code {code} names a global through the copyreg registry; it cannot be checked"),
                        format!("EXT code {code}"),
                        Some(off),
                    );
                    st.push(V::Unknown);
                }
                b'd' => {
                    let items = pop_mark!();
                    st.push(dict_from(items));
                }
                b'}' => st.push(V::Dict(Rc::new(Vec::new()))),
                b'l' => {
                    drop_mark!();
                    st.push(V::List);
                }
                b']' => st.push(V::List),
                b't' => {
                    let mut items = pop_mark!();
                    items.truncate(MAX_ITEMS);
                    st.push(V::Tuple(Rc::new(items)));
                }
                b')' => st.push(V::Tuple(Rc::new(Vec::new()))),
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if st.len() < n {
                        fail!(op_pos, "stack underflow at TUPLE{n}");
                    }
                    let items = st.split_off(st.len() - n);
                    st.push(V::Tuple(Rc::new(items)));
                }
                b's' => {
                    let v = pop!("SETITEM");
                    let k = pop!("SETITEM");
                    match st.last_mut() {
                        Some(V::Dict(dv)) => {
                            let dv = Rc::make_mut(dv);
                            if dv.len() < MAX_ITEMS {
                                dv.push((k, v));
                            }
                        }
                        Some(_) => {}
                        None => fail!(op_pos, "stack underflow at SETITEM"),
                    }
                }
                b'u' => {
                    let items = pop_mark!();
                    match st.last_mut() {
                        Some(V::Dict(dv)) => {
                            let dv = Rc::make_mut(dv);
                            let mut it = items.into_iter();
                            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                                if dv.len() < MAX_ITEMS {
                                    dv.push((k, v));
                                }
                            }
                        }
                        Some(_) => {}
                        None => fail!(op_pos, "stack underflow at SETITEMS"),
                    }
                }
                0x8f => st.push(V::OtherScalar),
                0x90 => {
                    drop_mark!();
                    if st.is_empty() {
                        fail!(op_pos, "stack underflow at ADDITEMS");
                    }
                }
                0x91 => {
                    drop_mark!();
                    st.push(V::OtherScalar);
                }
                b'g' => {
                    let l = line!();
                    let k = String::from_utf8_lossy(l).trim().parse::<u64>().ok();
                    self.memo_get(&mut st, &memo, k, off);
                }
                b'h' => {
                    let k = le!(1);
                    self.memo_get(&mut st, &memo, Some(k), off);
                }
                b'j' => {
                    let k = le!(4);
                    self.memo_get(&mut st, &memo, Some(k), off);
                }
                b'p' => {
                    let l = line!();
                    let Some(k) = String::from_utf8_lossy(l).trim().parse::<u64>().ok() else {
                        fail!(op_pos, "bad PUT key");
                    };
                    let Some(v) = st.last() else {
                        fail!(op_pos, "stack underflow at PUT")
                    };
                    memo.insert(k, v.clone());
                }
                b'q' | b'r' => {
                    let k = if op == b'q' { le!(1) } else { le!(4) };
                    let Some(v) = st.last() else {
                        fail!(op_pos, "stack underflow at PUT")
                    };
                    memo.insert(k, v.clone());
                }
                0x94 => {
                    let Some(v) = st.last() else {
                        fail!(op_pos, "stack underflow at MEMOIZE")
                    };
                    let k = memo.len() as u64;
                    memo.insert(k, v.clone());
                }
                b'G' => {
                    let _ = take!(8);
                    st.push(V::OtherScalar);
                }
                0x80 => {
                    let v = le!(1);
                    if v > 5 {
                        fail!(op_pos, "unsupported pickle protocol {v}");
                    }
                }
                0x8a => {
                    let n = le!(1) as usize;
                    let _ = take!(n);
                    st.push(V::OtherScalar);
                }
                0x8b => {
                    let n = le!(4) as usize;
                    let _ = take!(n);
                    st.push(V::OtherScalar);
                }
                0x95 => {
                    let _ = le!(8);
                }
                other => fail!(op_pos, "invalid opcode 0x{other:02x} at offset {off}"),
            }
        }
    }

    fn persid(&mut self, off: u64) {
        if !self.persid_ok {
            self.sink.add(
                "AIL-PKL-016",
                "persistent ID outside a PyTorch archive (needs a custom persistent_load)",
                "PERSID",
                Some(off),
            );
        }
    }

    fn memo_get(&mut self, st: &mut Vec<V>, memo: &HashMap<u64, V>, k: Option<u64>, off: u64) {
        match k.and_then(|k| memo.get(&k)) {
            Some(v) => st.push(v.clone()),
            None => {
                self.sink.add(
                    "AIL-PKL-009",
                    "memo key read before it was written (the loader fails here, after what ran before)",
                    format!("memo key {}", k.map_or_else(|| "?".to_string(), |k| k.to_string())),
                    Some(off),
                );
                st.push(V::Unknown);
            }
        }
    }

    fn build(&mut self, top: V, state: V, off: u64) -> V {
        match top {
            V::Obj(o) => V::Obj(Rc::new(Obj {
                callee: o.callee.clone(),
                args: o.args.clone(),
                state: Some(state),
            })),
            V::Global(g) => {
                self.sink.add(
                    "AIL-PKL-004",
                    format!(
                        "BUILD sets attributes on the class or function {}.{}",
                        g.0, g.1
                    ),
                    format!("{}.{}", g.0, g.1),
                    Some(off),
                );
                V::Global(g)
            }
            other => other,
        }
    }

    /// joblib writes the raw bytes of a numpy array right after the pickled
    /// `NumpyArrayWrapper`; returns where the pickle resumes. Err = could not skip.
    fn joblib_skip(
        &mut self,
        built: &V,
        d: &[u8],
        p: usize,
        at: usize,
        off: u64,
    ) -> Result<Option<usize>, ()> {
        let V::Obj(o) = built else { return Ok(None) };
        let Some(callee) = o.callee.as_deref() else {
            return Ok(None);
        };
        if !callee.ends_with("numpy_pickle.NumpyArrayWrapper") {
            return Ok(None);
        }
        let state = match &o.state {
            Some(V::Dict(dv)) => dv.clone(),
            _ => return self.joblib_fail(off, "wrapper state is not a dict"),
        };
        let get = |key: &str| {
            state
                .iter()
                .find(|(k, _)| matches!(k, V::Str(s) if &**s == key))
                .map(|(_, v)| v.clone())
        };
        let Some(V::Tuple(shape)) = get("shape") else {
            return self.joblib_fail(off, "no shape");
        };
        let mut count: u64 = 1;
        for dim in shape.iter() {
            let V::Int(n) = dim else {
                return self.joblib_fail(off, "non-integer shape");
            };
            let Ok(n) = u64::try_from(*n) else {
                return self.joblib_fail(off, "negative shape");
            };
            count = match count.checked_mul(n) {
                Some(c) => c,
                None => return self.joblib_fail(off, "shape overflows"),
            };
        }
        let dtype = match get("dtype") {
            Some(V::Obj(dt)) => match &dt.args {
                V::Tuple(a) => match a.first() {
                    Some(V::Str(s)) => s.to_string(),
                    _ => String::new(),
                },
                _ => String::new(),
            },
            _ => String::new(),
        };
        if dtype.trim_start_matches(['<', '>', '|', '=']) == "O" {
            // joblib pickles object arrays as a nested pickle right here.
            if self.depth >= 4 {
                return self.joblib_fail(off, "object arrays nested too deep");
            }
            self.depth += 1;
            let end = self.scan_one(d.get(p..).unwrap_or(&[]), at + p);
            self.depth -= 1;
            return match end {
                End::Stop(n) => Ok(Some(p + n)),
                End::Limit => Err(()),
                End::Error { msg, pos, .. } => {
                    self.sink.add(
                        "AIL-PKL-005",
                        format!("malformed pickle of a joblib object array: {msg}"),
                        clip(&msg, 120),
                        Some(self.base + (at + p + pos) as u64),
                    );
                    Err(())
                }
            };
        }
        let mut q = p;
        if get("numpy_array_alignment_bytes").is_some() {
            let Some(&pad) = d.get(q) else {
                return self.joblib_fail(off, "truncated padding");
            };
            q += 1 + usize::from(pad);
        }
        let Some(item) = dtype_size(&dtype) else {
            return self.joblib_fail(off, "unknown dtype");
        };
        let Some(bytes) = count.checked_mul(item) else {
            return self.joblib_fail(off, "size overflows");
        };
        let Some(end) = usize::try_from(bytes).ok().and_then(|b| q.checked_add(b)) else {
            return self.joblib_fail(off, "size overflows");
        };
        if end > d.len() {
            return self.joblib_fail(off, "array data past the end");
        }
        Ok(Some(end))
    }

    fn joblib_fail(&mut self, off: u64, why: &str) -> Result<Option<usize>, ()> {
        self.sink.add(
            "AIL-PKL-006",
            format!("joblib array data could not be skipped ({why}); the rest of the pickle was not scanned"),
            why.to_string(),
            Some(off),
        );
        Err(())
    }
}

fn dtype_size(dt: &str) -> Option<u64> {
    let t = dt.trim_start_matches(['<', '>', '|', '=']);
    let (kind, digits): (String, String) = t.chars().partition(|c| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    match kind.as_str() {
        "f" | "i" | "u" | "c" | "b" | "V" | "S" | "m" | "M" => Some(n),
        "U" => n.checked_mul(4),
        _ => None,
    }
}

fn describe(v: &V) -> String {
    match v {
        V::Str(s) => format!("{:?}", clip(s, 60)),
        V::LongStr => "<long string>".into(),
        V::Obj(o) => format!("<result of {}>", o.callee.as_deref().unwrap_or("?")),
        V::Global(g) => format!("<global {}.{}>", g.0, g.1),
        V::Module(m) => format!("<module {m}>"),
        V::Unknown => "<unknown>".into(),
        _ => "<non-string>".into(),
    }
}

fn str_value(s: &str) -> V {
    if s.len() > MAX_STR {
        V::LongStr
    } else {
        V::Str(Rc::from(s))
    }
}

fn dict_from(items: Vec<V>) -> V {
    let mut out = Vec::new();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if out.len() < MAX_ITEMS {
            out.push((k, v));
        }
    }
    V::Dict(Rc::new(out))
}

/// Decodes the quoted Python 2 `repr` that protocol 0's STRING opcode carries.
fn unquote_string(l: &[u8]) -> String {
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    let inner = match (l.first(), l.last()) {
        (Some(&a), Some(&b)) if l.len() >= 2 && a == b && (a == b'\'' || a == b'"') => {
            l.get(1..l.len() - 1).unwrap_or(&[])
        }
        _ => l,
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while let Some(&c) = inner.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = inner.get(i) else { break };
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'x' => {
                let h = inner
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(v);
                    i += 2;
                }
            }
            b'0'..=b'7' => {
                let mut v: u32 = u32::from(e - b'0');
                for _ in 0..2 {
                    match inner.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// Decodes protocol 0's UNICODE opcode (raw-unicode-escape).
fn raw_unicode_escape(l: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = l.get(i) {
        if c == b'\\' {
            let (len, next) = match l.get(i + 1) {
                Some(b'u') => (4, 2),
                Some(b'U') => (8, 2),
                _ => (0, 0),
            };
            if len > 0 {
                let hex = l
                    .get(i + next..i + next + len)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(ch) = hex
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                {
                    out.push(ch);
                    i += next + len;
                    continue;
                }
            }
        }
        out.push(char::from(c));
        i += 1;
    }
    out
}

/// Heuristic used for content sniffing: does `d` start like a pickle?
pub(crate) fn looks_like_pickle(d: &[u8]) -> bool {
    match d {
        [0x80, v, next, ..] => *v <= 5 && is_opcode(*next),
        [
            b'(' | b']' | b'}' | b')' | b'c' | b'N' | b'I' | b'L' | b'F' | b'S' | b'V' | b'd'
            | b'l',
            ..,
        ] => {
            // Protocol 0/1: require a STOP somewhere and only printable-ish prefix.
            d.len() >= 2 && d.iter().take(4096).any(|&b| b == b'.') && first_op_parses(d)
        }
        [
            b'K' | b'J' | b'M' | b'X' | b'U' | b'T' | b'G' | b'q' | b'h',
            ..,
        ] => first_op_parses(d),
        _ => false,
    }
}

fn is_opcode(b: u8) -> bool {
    matches!(b, 0x80..=0x98) || b"(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])GBC".contains(&b)
}

/// Parses the beginning of `d` and says whether it looks like pickle opcodes (at least
/// a couple of valid opcodes, or a complete tiny pickle).
fn first_op_parses(d: &[u8]) -> bool {
    let mut sink = Sink::default();
    let limits = PickleLimits {
        max_ops: 64,
        ..PickleLimits::default()
    };
    let mut sc = Scanner::new(&mut sink, 0, limits, true);
    let head = d.get(..d.len().min(4096)).unwrap_or(d);
    match sc.scan_one(head, 0) {
        End::Stop(_) | End::Limit => true,
        End::Error { ops, pos, .. } => ops >= 4 && pos >= head.len().saturating_sub(16),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(d: &[u8]) -> Vec<(String, String)> {
        let mut sink = Sink::new("t");
        Scanner::new(&mut sink, 0, PickleLimits::default(), false).scan_all(d, false, None);
        sink.finish()
            .into_iter()
            .map(|f| (f.code, f.evidence))
            .collect()
    }

    #[test]
    fn stack_global_and_dotted_names() {
        // proto 4: SHORT_BINUNICODE 'pathlib', SHORT_BINUNICODE 'os.system', STACK_GLOBAL,
        // SHORT_BINUNICODE 'id', TUPLE1, REDUCE, STOP
        let mut p = vec![0x80, 4, 0x8c, 7];
        p.extend_from_slice(b"pathlib");
        p.extend_from_slice(&[0x8c, 9]);
        p.extend_from_slice(b"os.system");
        p.extend_from_slice(&[0x93, 0x8c, 2, b'i', b'd', 0x85, b'R', b'.']);
        let f = scan(&p);
        assert!(
            f.contains(&("AIL-PKL-001".into(), "pathlib.os.system".into())),
            "{f:?}"
        );
    }

    #[test]
    fn getattr_import_chain_resolves() {
        // c__builtin__\ngetattr\n c__builtin__\n__import__\n (S'os'\ntR S'system'\n tR (S'id'\ntR .
        let p =
            b"c__builtin__\ngetattr\n(c__builtin__\n__import__\n(S'os'\ntRS'system'\ntR(S'id'\ntR.";
        let f = scan(p);
        assert!(
            f.iter()
                .any(|(c, e)| c == "AIL-PKL-001" && e == "os.system"),
            "{f:?}"
        );
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(unquote_string(b"'\\x6fs'"), "os");
        assert_eq!(raw_unicode_escape(b"\\u006fs"), "os");
    }
}
