//! safetensors validation from the header alone: every rule of the format (header length
//! limit, JSON object starting with '{', no duplicate keys, known dtypes, contiguous
//! non-overlapping offsets covering the buffer exactly, shape × dtype sizes with
//! overflow checks, string-to-string `__metadata__`). Only the header is read, so a
//! 10 GB file costs one small read.

use crate::findings::{Sink, clip};
use crate::json_dup::{J, parse};
use crate::source::Source;

/// The reference reader's header limit.
pub const MAX_HEADER: u64 = 100_000_000;

/// Bits per element of each dtype the format defines.
fn dtype_bits(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Does this look like a safetensors file (used for sniffing without an extension)?
pub(crate) fn sniff(head: &[u8], file_len: u64) -> bool {
    let Some(n) = head
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
    else {
        return false;
    };
    (2..=MAX_HEADER).contains(&n)
        && n.checked_add(8).is_some_and(|e| e <= file_len)
        && head.get(8) == Some(&b'{')
}

pub(crate) fn check(src: &dyn Source, sink: &mut Sink) -> std::io::Result<()> {
    let len = src.len();
    if len < 8 {
        sink.add(
            "AIL-ST-002",
            "file shorter than the 8-byte header length",
            format!("{len} bytes"),
            Some(0),
        );
        return Ok(());
    }
    let mut b = [0u8; 8];
    src.read_at(0, &mut b)?;
    let n = u64::from_le_bytes(b);
    if n > MAX_HEADER {
        sink.add(
            "AIL-ST-001",
            format!("header length {n} exceeds the {MAX_HEADER}-byte limit"),
            format!("header_len={n}"),
            Some(0),
        );
        return Ok(());
    }
    if 8 + n > len {
        sink.add(
            "AIL-ST-002",
            format!("header length {n} runs past the end of the {len}-byte file"),
            format!("header_len={n} file_len={len}"),
            Some(0),
        );
        return Ok(());
    }
    let header = src.read_vec(8, usize::try_from(n).unwrap_or(0))?;
    let first = header.iter().position(|c| !c.is_ascii_whitespace());
    match (header.first(), first.and_then(|i| header.get(i))) {
        (Some(b'{'), _) => {}
        (_, Some(b'{')) => sink.add(
            "AIL-ST-011",
            "header starts with whitespace instead of '{' (the reference reader accepts it; the format forbids it)",
            format!("first byte 0x{:02x}", header.first().copied().unwrap_or(0)),
            Some(8),
        ),
        _ => {
            sink.add("AIL-ST-003", "header does not start with '{'", clip(&String::from_utf8_lossy(&header), 40), Some(8));
            return Ok(());
        }
    }
    let json = match parse(&header) {
        Ok(j) => j,
        Err(e) => {
            sink.add(
                "AIL-ST-003",
                format!("header is not valid JSON: {e}"),
                clip(&e, 80),
                Some(8),
            );
            return Ok(());
        }
    };
    let J::Obj(members) = &json else {
        sink.add(
            "AIL-ST-003",
            "header is not a JSON object",
            json.kind(),
            Some(8),
        );
        return Ok(());
    };
    for k in json.duplicate_keys() {
        sink.add(
            "AIL-ST-004",
            format!("duplicate key {k:?} in the header"),
            k.clone(),
            Some(8),
        );
    }
    let data_len = len - 8 - n;
    let mut spans: Vec<(u64, u64, &str)> = Vec::new();
    for (name, v) in members {
        if name == "__metadata__" {
            let ok = match v {
                J::Obj(m) => m.iter().all(|(_, x)| matches!(x, J::Str(_))),
                _ => false,
            };
            if !ok {
                sink.add(
                    "AIL-ST-010",
                    "__metadata__ must map strings to strings",
                    v.kind(),
                    Some(8),
                );
            }
            for k in v.duplicate_keys() {
                sink.add(
                    "AIL-ST-004",
                    format!("duplicate key {k:?} in __metadata__"),
                    k.clone(),
                    Some(8),
                );
            }
            continue;
        }
        for k in v.duplicate_keys() {
            sink.add(
                "AIL-ST-004",
                format!("duplicate field {k:?} in tensor {name:?}"),
                format!("{name}.{k}"),
                Some(8),
            );
        }
        let (Some(J::Str(dtype)), Some(J::Arr(shape)), Some(J::Arr(offs))) =
            (v.get("dtype"), v.get("shape"), v.get("data_offsets"))
        else {
            sink.add(
                "AIL-ST-012",
                format!("tensor {name:?} lacks dtype, shape or data_offsets"),
                name.clone(),
                Some(8),
            );
            continue;
        };
        let nums = |a: &[J]| {
            a.iter()
                .map(|x| {
                    if let J::Num(Some(u), false) = x {
                        Some(*u)
                    } else {
                        None
                    }
                })
                .collect::<Option<Vec<u64>>>()
        };
        let (Some(shape), Some(offs)) = (nums(shape), nums(offs)) else {
            sink.add(
                "AIL-ST-012",
                format!("tensor {name:?} has non-integer shape or offsets"),
                name.clone(),
                Some(8),
            );
            continue;
        };
        let [begin, end] = offs.as_slice() else {
            sink.add(
                "AIL-ST-012",
                format!("tensor {name:?} data_offsets must have two entries"),
                name.clone(),
                Some(8),
            );
            continue;
        };
        let (begin, end) = (*begin, *end);
        spans.push((begin, end, name.as_str()));
        let Some(bits) = dtype_bits(dtype) else {
            sink.add(
                "AIL-ST-005",
                format!("tensor {name:?} has unknown dtype {dtype:?}"),
                dtype.clone(),
                Some(8),
            );
            continue;
        };
        let elems = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        let Some(nbits) = elems.and_then(|e| e.checked_mul(bits)) else {
            sink.add(
                "AIL-ST-009",
                format!("tensor {name:?}: shape {shape:?} × {dtype} overflows"),
                format!("{name}: {shape:?}"),
                Some(8),
            );
            continue;
        };
        if nbits % 8 != 0 || end.checked_sub(begin) != Some(nbits / 8) {
            sink.add(
                "AIL-ST-008",
                format!(
                    "tensor {name:?}: shape {shape:?} × {dtype} is {} bytes but data_offsets span {}",
                    nbits / 8,
                    end.saturating_sub(begin)
                ),
                format!("{name}: [{begin}, {end}]"),
                Some(8),
            );
        }
    }
    spans.sort_unstable();
    let mut expected = 0u64;
    for (b, e, name) in &spans {
        if *b != expected || e < b {
            let what = if *b > expected {
                "leaves a hole before it"
            } else {
                "overlaps the previous tensor"
            };
            sink.add(
                "AIL-ST-006",
                format!("tensor {name:?} at [{b}, {e}] {what} (expected to start at {expected})"),
                format!("{name}: [{b}, {e}]"),
                Some(8 + n + b),
            );
        }
        expected = expected.max(*e);
    }
    if expected != data_len {
        let msg = if expected < data_len {
            format!(
                "{} bytes after the last tensor are covered by no tensor",
                data_len - expected
            )
        } else {
            format!("tensors end at {expected} but the data buffer has {data_len} bytes")
        };
        sink.add(
            "AIL-ST-007",
            msg,
            format!("covered={expected} buffer={data_len}"),
            Some(8 + n + expected.min(data_len)),
        );
    }
    Ok(())
}
