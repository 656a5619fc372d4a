//! GGUF validation by seeking: the header, every metadata key/value and every tensor
//! info are walked with each count and length checked against the bytes left in the
//! file before anything is allocated; arrays are skipped without reading when their
//! elements have a fixed size. The chat template is checked for template injection.

use crate::findings::{Sink, clip};
use crate::source::Source;

const MAX_DEPTH: u32 = 3;
const MAX_TEMPLATE: u64 = 1 << 20;
const MAX_DIMS: u32 = 4;

/// Buffered cursor over a source.
struct Cur<'a> {
    src: &'a dyn Source,
    pos: u64,
    buf: Vec<u8>,
    buf_at: u64,
}

#[derive(Debug)]
enum Stop {
    /// A finding was recorded; stop walking.
    Found,
    Io(std::io::Error),
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Io(e)
    }
}

impl<'a> Cur<'a> {
    fn left(&self) -> u64 {
        self.src.len().saturating_sub(self.pos)
    }

    fn bytes(&mut self, n: usize, sink: &mut Sink, what: &str) -> Result<Vec<u8>, Stop> {
        if (n as u64) > self.left() {
            sink.add(
                "AIL-GGUF-009",
                format!("file ends inside {what}"),
                what.to_string(),
                Some(self.pos),
            );
            return Err(Stop::Found);
        }
        let end = self.pos + n as u64;
        let cached = self.pos >= self.buf_at && end <= self.buf_at + self.buf.len() as u64;
        if !cached {
            let want = n.max(1 << 16);
            self.buf = self.src.read_vec(self.pos, want)?;
            self.buf_at = self.pos;
        }
        let s = usize::try_from(self.pos - self.buf_at).unwrap_or(0);
        let out = self
            .buf
            .get(s..s + n)
            .map(<[u8]>::to_vec)
            .ok_or(Stop::Found)?;
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self, sink: &mut Sink, what: &str) -> Result<u32, Stop> {
        let b = self.bytes(4, sink, what)?;
        Ok(u32::from_le_bytes(
            <[u8; 4]>::try_from(b.as_slice()).map_err(|_| Stop::Found)?,
        ))
    }

    fn u64(&mut self, sink: &mut Sink, what: &str) -> Result<u64, Stop> {
        let b = self.bytes(8, sink, what)?;
        Ok(u64::from_le_bytes(
            <[u8; 8]>::try_from(b.as_slice()).map_err(|_| Stop::Found)?,
        ))
    }

    fn skip(&mut self, n: u64, sink: &mut Sink, what: &str) -> Result<(), Stop> {
        if n > self.left() {
            sink.add(
                "AIL-GGUF-003",
                format!("{what} needs {n} bytes but only {} are left", self.left()),
                format!("{what}: {n} bytes"),
                Some(self.pos),
            );
            return Err(Stop::Found);
        }
        self.pos += n;
        Ok(())
    }

    /// Reads a length-prefixed string; the whole string only if `keep` ≥ its length.
    fn string(&mut self, sink: &mut Sink, what: &str, keep: u64) -> Result<Option<String>, Stop> {
        let at = self.pos;
        let n = self.u64(sink, what)?;
        if n > self.left() {
            sink.add(
                "AIL-GGUF-003",
                format!(
                    "{what} length {n} exceeds the {} bytes left in the file",
                    self.left()
                ),
                format!("{what} length {n}"),
                Some(at),
            );
            return Err(Stop::Found);
        }
        if n > keep {
            self.pos += n;
            return Ok(None);
        }
        let b = self.bytes(usize::try_from(n).unwrap_or(0), sink, what)?;
        Ok(Some(String::from_utf8_lossy(&b).into_owned()))
    }
}

fn fixed_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// (block size in elements, bytes per block) of ggml tensor types; None = not a valid type.
fn ggml_type(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 36),
        10 => (256, 84),
        11 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        16 => (256, 66),
        17 => (256, 74),
        18 => (256, 98),
        19 => (256, 50),
        20 => (32, 18),
        21 => (256, 110),
        22 => (256, 82),
        23 => (256, 136),
        24 => (1, 1),
        25 => (1, 2),
        26 => (1, 4),
        27 => (1, 8),
        28 => (1, 8),
        29 => (256, 56),
        30 => (1, 2),
        34 => (256, 54),
        35 => (256, 66),
        39 => (32, 17),
        _ => return None,
    })
}

/// Patterns of a Jinja template that reaches beyond templating (SSTI).
pub(crate) fn template_risks(t: &str) -> Vec<String> {
    let lower = t.to_ascii_lowercase();
    let mut hits = Vec::new();
    for pat in [
        "__class__",
        "__globals__",
        "__builtins__",
        "__subclasses__",
        "__mro__",
        "__base__",
        "__bases__",
        "__init__",
        "__import__",
        "__getattribute__",
        "__dict__",
        "__code__",
        "__reduce__",
        "__self__",
        "__func__",
        "__module__",
        "popen",
        "subprocess",
        "|attr",
        "| attr",
        "attr(",
        "lipsum",
        "cycler",
        "joiner",
        "url_for",
        "get_flashed_messages",
        "\\x5f",
        "\\u005f",
        "eval(",
        "exec(",
        "system(",
        "os.",
        "import ",
    ] {
        let found = if pat == "os." || pat == "import " {
            // Word-bounded, so "photos." or "important" do not match.
            lower.match_indices(pat).any(|(i, _)| {
                i == 0
                    || lower
                        .as_bytes()
                        .get(i - 1)
                        .is_some_and(|c| !c.is_ascii_alphanumeric() && *c != b'_')
            })
        } else {
            lower.contains(pat)
        };
        if found {
            hits.push(pat.trim().to_string());
        }
    }
    hits
}

pub(crate) fn check(src: &dyn Source, sink: &mut Sink) -> std::io::Result<()> {
    match walk(src, sink) {
        Ok(()) | Err(Stop::Found) => Ok(()),
        Err(Stop::Io(e)) => Err(e),
    }
}

fn walk(src: &dyn Source, sink: &mut Sink) -> Result<(), Stop> {
    let mut c = Cur {
        src,
        pos: 0,
        buf: Vec::new(),
        buf_at: 0,
    };
    let magic = c.bytes(4, sink, "magic")?;
    if magic != b"GGUF" {
        sink.add(
            "AIL-GGUF-001",
            "file does not start with the GGUF magic",
            format!("{magic:02x?}"),
            Some(0),
        );
        return Err(Stop::Found);
    }
    let version = c.u32(sink, "version")?;
    if !(2..=3).contains(&version) {
        sink.add(
            "AIL-GGUF-002",
            format!("GGUF version {version} is not supported (2 or 3)"),
            format!("version={version}"),
            Some(4),
        );
        return Err(Stop::Found);
    }
    let tensors = c.u64(sink, "tensor count")?;
    let kvs = c.u64(sink, "metadata count")?;
    // Smallest possible kv: 8-byte key length + 4-byte type + 1-byte value; tensor info: 8+4+4+8.
    if kvs > c.left() / 13 {
        sink.add(
            "AIL-GGUF-003",
            format!(
                "metadata count {kvs} cannot fit in the {} bytes left",
                c.left()
            ),
            format!("kv_count={kvs}"),
            Some(16),
        );
        return Err(Stop::Found);
    }
    if tensors > c.left() / 24 {
        sink.add(
            "AIL-GGUF-003",
            format!(
                "tensor count {tensors} cannot fit in the {} bytes left",
                c.left()
            ),
            format!("tensor_count={tensors}"),
            Some(8),
        );
        return Err(Stop::Found);
    }
    let mut alignment: u64 = 32;
    for _ in 0..kvs {
        let at = c.pos;
        let key = c.string(sink, "metadata key", 65_536)?.unwrap_or_default();
        let ty = c.u32(sink, "metadata value type")?;
        let is_template = key.starts_with("tokenizer.chat_template");
        if key == "general.alignment" {
            if ty != 4 {
                sink.add(
                    "AIL-GGUF-008",
                    "general.alignment is not a uint32",
                    format!("type {ty}"),
                    Some(at),
                );
                value(&mut c, sink, ty, 0, &key)?;
            } else {
                let a = c.u32(sink, "alignment")?;
                if a == 0 || !a.is_power_of_two() {
                    sink.add(
                        "AIL-GGUF-008",
                        format!("general.alignment {a} is not a power of two"),
                        format!("alignment={a}"),
                        Some(at),
                    );
                    return Err(Stop::Found);
                }
                alignment = u64::from(a);
            }
            continue;
        }
        if is_template && ty == 8 {
            let vat = c.pos;
            match c.string(sink, "chat template", MAX_TEMPLATE)? {
                Some(t) => {
                    let risks = template_risks(&t);
                    if !risks.is_empty() {
                        sink.add(
                            "AIL-GGUF-007",
                            format!(
                                "{key} reaches beyond plain templating: {}",
                                risks.join(", ")
                            ),
                            clip(&t, 200),
                            Some(vat),
                        );
                    }
                }
                None => sink.add(
                    "AIL-GGUF-007",
                    format!("{key} is larger than 1 MiB and was not checked"),
                    key.clone(),
                    Some(vat),
                ),
            }
            continue;
        }
        value(&mut c, sink, ty, 0, &key)?;
    }
    let mut infos = Vec::new();
    for _ in 0..tensors {
        let at = c.pos;
        let name = c.string(sink, "tensor name", 65_536)?.unwrap_or_default();
        let nd = c.u32(sink, "tensor dimensions")?;
        if nd > MAX_DIMS {
            sink.add(
                "AIL-GGUF-006",
                format!("tensor {name:?} has {nd} dimensions (at most {MAX_DIMS})"),
                format!("{name}: n_dims={nd}"),
                Some(at),
            );
            return Err(Stop::Found);
        }
        let mut elems: Option<u64> = Some(1);
        for _ in 0..nd {
            let d = c.u64(sink, "tensor dimension")?;
            elems = elems.and_then(|e| e.checked_mul(d));
        }
        let ty = c.u32(sink, "tensor type")?;
        let off = c.u64(sink, "tensor offset")?;
        infos.push((name, elems, ty, off, at));
    }
    let data_start = c.pos.div_ceil(alignment).saturating_mul(alignment);
    let data_len = src.len().saturating_sub(data_start);
    for (name, elems, ty, off, at) in infos {
        let Some((block, bytes)) = ggml_type(ty) else {
            sink.add(
                "AIL-GGUF-006",
                format!("tensor {name:?} has invalid type {ty}"),
                format!("{name}: type={ty}"),
                Some(at),
            );
            continue;
        };
        if off % alignment != 0 {
            sink.add(
                "AIL-GGUF-006",
                format!("tensor {name:?} offset {off} is not aligned to {alignment}"),
                format!("{name}: offset={off}"),
                Some(at),
            );
        }
        let size = elems
            .map(|e| e.div_ceil(block))
            .and_then(|b| b.checked_mul(bytes));
        let end = size.and_then(|s| off.checked_add(s));
        match end {
            Some(e) if e <= data_len => {}
            _ => sink.add(
                "AIL-GGUF-006",
                format!("tensor {name:?} at offset {off} (size {}) runs past the {data_len}-byte data section", size.map_or("overflowing".to_string(), |s| s.to_string())),
                format!("{name}: offset={off}"),
                Some(at),
            ),
        }
    }
    Ok(())
}

fn value(c: &mut Cur<'_>, sink: &mut Sink, ty: u32, depth: u32, key: &str) -> Result<(), Stop> {
    let at = c.pos;
    if let Some(n) = fixed_size(ty) {
        return c.skip(n, sink, key);
    }
    match ty {
        8 => {
            c.string(sink, "string value", 0)?;
            Ok(())
        }
        9 => {
            if depth >= MAX_DEPTH {
                sink.add(
                    "AIL-GGUF-004",
                    format!("{key}: arrays nested deeper than {MAX_DEPTH}"),
                    key.to_string(),
                    Some(at),
                );
                return Err(Stop::Found);
            }
            let et = c.u32(sink, "array element type")?;
            let n = c.u64(sink, "array length")?;
            if let Some(sz) = fixed_size(et) {
                let Some(total) = n.checked_mul(sz) else {
                    sink.add(
                        "AIL-GGUF-003",
                        format!("{key}: array length {n} overflows"),
                        format!("{key} len={n}"),
                        Some(at),
                    );
                    return Err(Stop::Found);
                };
                return c.skip(total, sink, key);
            }
            // Strings take ≥ 8 bytes each, nested arrays ≥ 12.
            let min = if et == 8 { 8 } else { 12 };
            if n > c.left() / min {
                sink.add(
                    "AIL-GGUF-003",
                    format!(
                        "{key}: array length {n} cannot fit in the {} bytes left",
                        c.left()
                    ),
                    format!("{key} len={n}"),
                    Some(at),
                );
                return Err(Stop::Found);
            }
            if et != 8 && et != 9 {
                sink.add(
                    "AIL-GGUF-005",
                    format!("{key}: invalid array element type {et}"),
                    format!("type={et}"),
                    Some(at),
                );
                return Err(Stop::Found);
            }
            for _ in 0..n {
                value(c, sink, et, depth + 1, key)?;
            }
            Ok(())
        }
        other => {
            sink.add(
                "AIL-GGUF-005",
                format!("{key}: invalid value type {other}"),
                format!("type={other}"),
                Some(at),
            );
            Err(Stop::Found)
        }
    }
}
