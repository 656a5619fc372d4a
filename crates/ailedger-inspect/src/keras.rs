//! Keras model configs: `.keras` archives (zip with config.json) and legacy `.h5` files.
//! For HDF5 we do not implement the HDF5 object model; we find the `model_config`
//! attribute's JSON by searching the bytes for `{"class_name"` and matching braces, which
//! covers files written by Keras (the attribute is stored as a plain string). Lambda
//! layers and layer modules outside keras/tensorflow are reported.

use crate::findings::{Sink, clip};
use crate::policy::{Verdict, judge};
use crate::source::Source;
use serde_json::Value;

const KERAS_MODULES: &[&str] = &[
    "keras",
    "tensorflow",
    "tf_keras",
    "keras_hub",
    "keras_nlp",
    "keras_cv",
    "tf",
];

fn walk(v: &Value, path: &str, sink: &mut Sink, depth: u32) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Object(o) => {
            if o.get("class_name").and_then(Value::as_str) == Some("Lambda") {
                let name = o
                    .get("config")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                sink.add(
                    "AIL-KERAS-001",
                    format!("Lambda layer {name:?} carries Python code that runs on load"),
                    format!("{path}: Lambda {name}"),
                    None,
                );
            }
            if let Some(m) = o.get("module").and_then(Value::as_str) {
                let root = m.split('.').next().unwrap_or(m);
                if !KERAS_MODULES.contains(&root) {
                    let class = o.get("class_name").and_then(Value::as_str).unwrap_or("");
                    if matches!(judge(m, class), Verdict::Dangerous(_))
                        || matches!(judge(m, "x"), Verdict::Dangerous(_))
                    {
                        sink.add(
                            "AIL-KERAS-003",
                            format!("layer module {m:?} is a code-execution module"),
                            format!("{path}: {m}.{class}"),
                            None,
                        );
                    } else {
                        sink.add(
                            "AIL-KERAS-002",
                            format!("object from module {m:?} outside keras/tensorflow"),
                            format!("{path}: {m}.{class}"),
                            None,
                        );
                    }
                }
            }
            if let Some(r) = o.get("registered_name").and_then(Value::as_str)
                && let Some((pkg, _)) = r.split_once('>')
                && !KERAS_MODULES.contains(&pkg)
            {
                sink.add(
                    "AIL-KERAS-002",
                    format!("custom registered object {r:?}"),
                    format!("{path}: {r}"),
                    None,
                );
            }
            for (k, x) in o {
                walk(x, &format!("{path}.{k}"), sink, depth + 1);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{path}[{i}]"), sink, depth + 1);
            }
        }
        _ => {}
    }
}

/// Checks a Keras config JSON document.
pub(crate) fn check_config(json: &[u8], sink: &mut Sink) {
    match serde_json::from_slice::<Value>(json) {
        Ok(v) => walk(&v, "$", sink, 0),
        Err(e) => sink.add(
            "AIL-KERAS-004",
            format!("Keras config is not valid JSON: {e}"),
            clip(&e.to_string(), 80),
            None,
        ),
    }
}

/// Extracts a balanced JSON object starting at `d[0] == '{'`.
fn balanced(d: &[u8], max: usize) -> Option<&[u8]> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for (i, &c) in d.iter().enumerate().take(max) {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return d.get(..=i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Scans an HDF5 file for Keras `model_config` JSON by byte search (chunked, bounded).
pub(crate) fn check_h5(src: &dyn Source, sink: &mut Sink, max_scan: u64) -> std::io::Result<()> {
    const NEEDLE: &[u8] = b"{\"class_name\"";
    const CHUNK: usize = 8 << 20;
    const MAX_JSON: usize = 64 << 20;
    let len = src.len().min(max_scan);
    let mut off = 0u64;
    let mut found = 0;
    while off < len && found < 4 {
        let chunk = src.read_vec(off, CHUNK + NEEDLE.len())?;
        let mut next_off = off + CHUNK as u64;
        if let Some(i) = chunk.windows(NEEDLE.len()).position(|w| w == NEEDLE) {
            let start = off + i as u64;
            let doc = src.read_vec(
                start,
                MAX_JSON.min(usize::try_from(src.len() - start).unwrap_or(MAX_JSON)),
            )?;
            if let Some(obj) = balanced(&doc, MAX_JSON) {
                found += 1;
                check_config(obj, sink);
                next_off = start + obj.len() as u64;
            } else {
                next_off = start + 1;
            }
        }
        off = next_off;
    }
    if src.len() > max_scan {
        sink.add_sev(
            "AIL-PKL-006",
            ailedger_core::Severity::Medium,
            format!(
                "only the first {max_scan} bytes of the HDF5 file were searched for a Keras config"
            ),
            format!("file_len={}", src.len()),
            None,
        );
    }
    if found == 0 {
        sink.add_sev(
            "AIL-KERAS-004",
            ailedger_core::Severity::Info,
            "HDF5 file without a Keras model_config (weights only, or not a Keras file)",
            "",
            None,
        );
    }
    Ok(())
}
