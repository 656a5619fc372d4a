//! JSON loading under [`Limits`], with syntax errors reported by line and column and
//! limit violations by JSON pointer, plus small helpers for pointer-tracked walking.

use serde_json::Value;

use crate::{Error, Limits};

/// Strips a UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// serde_json's message without its trailing " at line N column M".
fn bare_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Parses JSON and checks nesting depth and string lengths.
pub(crate) fn parse(bytes: &[u8], label: &str, limits: &Limits) -> Result<Value, Error> {
    let v: Value = serde_json::from_slice(strip_bom(bytes)).map_err(|e| Error::Syntax {
        format: label.to_owned(),
        syntax: "JSON",
        line: e.line(),
        column: e.column(),
        message: bare_message(&e),
    })?;
    check_tree(&v, label, limits)?;
    Ok(v)
}

/// Checks depth and string lengths of an already parsed value.
pub(crate) fn check_tree(v: &Value, label: &str, limits: &Limits) -> Result<(), Error> {
    check_tree_at(v, 1, label, limits)
}

/// [`check_tree`] of a value found at nesting depth `depth` (the document is at 1).
/// A failure names the pointer within `v`.
pub(crate) fn check_tree_at(
    v: &Value,
    depth: usize,
    label: &str,
    limits: &Limits,
) -> Result<(), Error> {
    fn walk(
        v: &Value,
        depth: usize,
        limits: &Limits,
        path: &mut Vec<String>,
    ) -> Result<(), String> {
        if depth > limits.max_depth {
            return Err(format!("nesting deeper than {} levels", limits.max_depth));
        }
        match v {
            Value::String(s) if s.len() > limits.max_string_len => Err(format!(
                "string of {} bytes exceeds the limit of {}",
                s.len(),
                limits.max_string_len
            )),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    if matches!(x, Value::Array(_) | Value::Object(_) | Value::String(_)) {
                        walk(x, depth + 1, limits, path).inspect_err(|_e| {
                            path.push(i.to_string());
                        })?;
                    }
                }
                Ok(())
            }
            Value::Object(m) => {
                for (k, x) in m {
                    if k.len() > limits.max_string_len {
                        return Err(format!(
                            "object key of {} bytes exceeds the limit of {}",
                            k.len(),
                            limits.max_string_len
                        ));
                    }
                    if matches!(x, Value::Array(_) | Value::Object(_) | Value::String(_)) {
                        walk(x, depth + 1, limits, path).inspect_err(|_e| {
                            path.push(k.clone());
                        })?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    let mut path = Vec::new();
    walk(v, depth, limits, &mut path).map_err(|msg| {
        let mut p = String::new();
        for seg in path.iter().rev() {
            push(&mut p, seg);
        }
        Error::invalid(label, &p, msg)
    })
}

/// Appends one reference token to a JSON pointer.
pub(crate) fn push(p: &mut String, seg: &str) {
    p.push('/');
    for c in seg.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            c => p.push(c),
        }
    }
}

/// `base` + `/seg`.
pub(crate) fn at(base: &str, seg: impl std::fmt::Display) -> String {
    let mut p = base.to_owned();
    push(&mut p, &seg.to_string());
    p
}

/// Describes a JSON value's type, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_string_limits_name_the_pointer() {
        let limits = Limits {
            max_depth: 3,
            max_string_len: 4,
            ..Limits::default()
        };
        let e = parse(br#"{"a":{"b":{"c":{}}}}"#, "T", &limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/a/b/c") && e.contains("deeper than 3"), "{e}");
        let e = parse(br#"{"a":["ok","toolong"]}"#, "T", &limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/a/1") && e.contains("7 bytes"), "{e}");
        let e = parse(b"{\"a\":1,}", "T", &limits).unwrap_err().to_string();
        assert!(e.contains("line 1, column 8"), "{e}");
    }
}
