//! ONNX external-data checks. ONNX is protobuf; a minimal bounds-checked walker follows
//! ModelProto → GraphProto (initializers, node attributes, subgraphs, sparse
//! initializers) → TensorProto.external_data and checks each `location` (absolute,
//! `..`, symlinks leading out of the model directory) and its offset/length.

use crate::findings::Sink;
use std::path::{Component, Path, PathBuf};

const MAX_DEPTH: u32 = 32;

struct Field<'a> {
    num: u64,
    wt: u8,
    bytes: &'a [u8],
    varint: u64,
    at: usize,
}

fn varint(d: &[u8], p: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let b = *d.get(*p)?;
        *p += 1;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Parses one message's fields; None on malformed input.
fn fields(d: &[u8], base: usize) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < d.len() {
        let at = base + p;
        let tag = varint(d, &mut p)?;
        let (num, wt) = (tag >> 3, (tag & 7) as u8);
        let mut f = Field {
            num,
            wt,
            bytes: &[],
            varint: 0,
            at,
        };
        match wt {
            0 => f.varint = varint(d, &mut p)?,
            1 => {
                f.bytes = d.get(p..p.checked_add(8)?)?;
                p += 8;
            }
            5 => {
                f.bytes = d.get(p..p.checked_add(4)?)?;
                p += 4;
            }
            2 => {
                let n = usize::try_from(varint(d, &mut p)?).ok()?;
                f.bytes = d.get(p..p.checked_add(n)?)?;
                f.at = base + p;
                p += n;
            }
            _ => return None,
        }
        out.push(f);
    }
    Some(out)
}

#[derive(Debug, Default)]
pub(crate) struct External {
    pub tensor: String,
    pub location: String,
    pub offset: Option<u64>,
    pub length: Option<u64>,
    pub at: usize,
}

fn tensor(d: &[u8], base: usize, out: &mut Vec<External>) -> Option<()> {
    let fs = fields(d, base)?;
    let name = fs
        .iter()
        .find(|f| f.num == 8 && f.wt == 2)
        .map(|f| String::from_utf8_lossy(f.bytes).into_owned());
    let mut ext = External {
        tensor: name.unwrap_or_default(),
        ..External::default()
    };
    let mut any = false;
    for f in fs.iter().filter(|f| f.num == 13 && f.wt == 2) {
        any = true;
        ext.at = f.at;
        let kv = fields(f.bytes, f.at)?;
        let get = |n: u64| {
            kv.iter()
                .find(|x| x.num == n && x.wt == 2)
                .map(|x| String::from_utf8_lossy(x.bytes).into_owned())
        };
        let (k, v) = (get(1).unwrap_or_default(), get(2).unwrap_or_default());
        match k.as_str() {
            "location" => ext.location = v,
            "offset" => ext.offset = v.trim().parse().ok(),
            "length" => ext.length = v.trim().parse().ok(),
            _ => {}
        }
    }
    if any {
        out.push(ext);
    }
    Some(())
}

fn graph(d: &[u8], base: usize, depth: u32, out: &mut Vec<External>) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    for f in fields(d, base)?.iter().filter(|f| f.wt == 2) {
        match f.num {
            5 => tensor(f.bytes, f.at, out)?,
            15 => {
                for s in fields(f.bytes, f.at)?
                    .iter()
                    .filter(|s| (s.num == 1 || s.num == 2) && s.wt == 2)
                {
                    tensor(s.bytes, s.at, out)?;
                }
            }
            1 => {
                for a in fields(f.bytes, f.at)?
                    .iter()
                    .filter(|a| a.num == 5 && a.wt == 2)
                {
                    for x in fields(a.bytes, a.at)?.iter().filter(|x| x.wt == 2) {
                        match x.num {
                            5 | 10 => tensor(x.bytes, x.at, out)?,
                            6 | 11 => graph(x.bytes, x.at, depth + 1, out)?,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// External-data references of a model; Err on malformed protobuf.
pub(crate) fn externals(model: &[u8]) -> Result<Vec<External>, ()> {
    let mut out = Vec::new();
    let fs = fields(model, 0).ok_or(())?;
    for f in fs.iter().filter(|f| f.num == 7 && f.wt == 2) {
        graph(f.bytes, f.at, 0, &mut out).ok_or(())?;
    }
    Ok(out)
}

/// Is `d` plausibly an ONNX ModelProto (ir_version varint field 1 first, a graph inside)?
pub(crate) fn sniff(d: &[u8]) -> bool {
    d.first() == Some(&0x08)
        && fields(d, 0).is_some_and(|fs| fs.iter().any(|f| f.num == 7 && f.wt == 2))
}

fn lexically_escapes(loc: &str) -> bool {
    let mut depth: i64 = 0;
    for c in Path::new(loc).components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

fn is_absolute(loc: &str) -> bool {
    let b = loc.as_bytes();
    loc.starts_with('/')
        || loc.starts_with('\\')
        || (b.len() >= 2
            && b.get(1) == Some(&b':')
            && b.first().is_some_and(u8::is_ascii_alphabetic))
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Follows `loc` under `dir` component by component; true when a symlink leads outside.
fn symlink_escapes(dir: &Path, loc: &str) -> bool {
    let root = normalize(&dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()));
    let mut cur = root.clone();
    for (hops, c) in Path::new(loc).components().enumerate() {
        if hops > 64 {
            return true;
        }
        let Component::Normal(part) = c else { continue };
        let next = cur.join(part);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                let Ok(target) = std::fs::read_link(&next) else {
                    return true;
                };
                let resolved = normalize(&cur.join(target));
                let resolved = resolved.canonicalize().unwrap_or(resolved);
                if !resolved.starts_with(&root) {
                    return true;
                }
                cur = resolved;
            }
            _ => cur = next,
        }
    }
    false
}

pub(crate) fn check(model: &[u8], dir: Option<&Path>, sink: &mut Sink) {
    let Ok(exts) = externals(model) else {
        sink.add(
            "AIL-ONNX-005",
            "malformed protobuf: not a readable ONNX model",
            "",
            None,
        );
        return;
    };
    for e in exts {
        let ev = format!("{}: {}", e.tensor, e.location);
        let at = Some(e.at as u64);
        if e.location.is_empty() {
            sink.add(
                "AIL-ONNX-005",
                format!("tensor {:?} has external data without a location", e.tensor),
                ev,
                at,
            );
            continue;
        }
        if is_absolute(&e.location) {
            sink.add(
                "AIL-ONNX-001",
                format!(
                    "tensor {:?} reads external data from the absolute path {:?}",
                    e.tensor, e.location
                ),
                ev,
                at,
            );
            continue;
        }
        if e.location.split(['/', '\\']).any(|s| s == "..") {
            let how = if lexically_escapes(&e.location) {
                "escapes the model directory"
            } else {
                "contains '..'"
            };
            sink.add(
                "AIL-ONNX-002",
                format!(
                    "tensor {:?} external data location {:?} {how}",
                    e.tensor, e.location
                ),
                ev,
                at,
            );
            continue;
        }
        let Some(dir) = dir else { continue };
        if symlink_escapes(dir, &e.location) {
            sink.add(
                "AIL-ONNX-003",
                format!("tensor {:?} external data {:?} resolves through a symlink outside the model directory", e.tensor, e.location),
                ev,
                at,
            );
            continue;
        }
        let path = dir.join(&e.location);
        match std::fs::metadata(&path) {
            Ok(m) => {
                let size = m.len();
                let off = e.offset.unwrap_or(0);
                let end = e.length.map_or(Some(off), |l| off.checked_add(l));
                if off > size || end.is_none_or(|x| x > size) {
                    sink.add(
                        "AIL-ONNX-004",
                        format!(
                            "tensor {:?}: offset {off} + length {} is past the end of {:?} ({size} bytes)",
                            e.tensor,
                            e.length.unwrap_or(0),
                            e.location
                        ),
                        ev,
                        at,
                    );
                }
            }
            Err(_) => sink.add_sev(
                "AIL-ONNX-004",
                ailedger_core::Severity::Low,
                format!(
                    "tensor {:?}: external data file {:?} is missing",
                    e.tensor, e.location
                ),
                ev,
                at,
            ),
        }
    }
}
