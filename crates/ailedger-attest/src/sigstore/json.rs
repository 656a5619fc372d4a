//! Field access over untrusted protobuf-JSON with errors that name the field.

use serde_json::Value;

use super::SigstoreError;
use super::der_util;

fn bad(path: &str, reason: impl Into<String>) -> SigstoreError {
    SigstoreError::Field {
        field: path.to_string(),
        reason: reason.into(),
    }
}

pub(crate) fn field<'a>(v: &'a Value, path: &str, key: &str) -> Option<&'a Value> {
    let _ = path;
    v.get(key).filter(|x| !x.is_null())
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn req<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a Value, SigstoreError> {
    field(v, path, key).ok_or_else(|| bad(&join(path, key), "missing"))
}

pub(crate) fn opt_str<'a>(
    v: &'a Value,
    path: &str,
    key: &str,
) -> Result<Option<&'a str>, SigstoreError> {
    match field(v, path, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(&join(path, key), "expected a string")),
    }
}

pub(crate) fn req_str<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a str, SigstoreError> {
    opt_str(v, path, key)?.ok_or_else(|| bad(&join(path, key), "missing"))
}

pub(crate) fn opt_b64(v: &Value, path: &str, key: &str) -> Result<Option<Vec<u8>>, SigstoreError> {
    match opt_str(v, path, key)? {
        None => Ok(None),
        Some(s) => der_util::b64(s)
            .map(Some)
            .ok_or_else(|| bad(&join(path, key), "invalid base64")),
    }
}

pub(crate) fn req_b64(v: &Value, path: &str, key: &str) -> Result<Vec<u8>, SigstoreError> {
    opt_b64(v, path, key)?.ok_or_else(|| bad(&join(path, key), "missing"))
}

/// A protobuf-JSON int64: a decimal string or a JSON number.
pub(crate) fn opt_i64(v: &Value, path: &str, key: &str) -> Result<Option<i64>, SigstoreError> {
    match field(v, path, key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(&join(path, key), "not a 64-bit integer")),
        Some(Value::String(s)) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(&join(path, key), format!("not an integer: {s:?}"))),
        Some(_) => Err(bad(&join(path, key), "expected an integer")),
    }
}

pub(crate) fn req_i64(v: &Value, path: &str, key: &str) -> Result<i64, SigstoreError> {
    opt_i64(v, path, key)?.ok_or_else(|| bad(&join(path, key), "missing"))
}

pub(crate) fn opt_arr<'a>(
    v: &'a Value,
    path: &str,
    key: &str,
) -> Result<&'a [Value], SigstoreError> {
    match field(v, path, key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(bad(&join(path, key), "expected an array")),
    }
}

/// An RFC 3339 timestamp as Unix seconds.
pub(crate) fn opt_time(v: &Value, path: &str, key: &str) -> Result<Option<i64>, SigstoreError> {
    match opt_str(v, path, key)? {
        None => Ok(None),
        Some(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(|t| Some(t.unix_timestamp()))
            .map_err(|e| bad(&join(path, key), format!("not an RFC 3339 time: {e}"))),
    }
}

pub(crate) fn err(path: &str, reason: impl Into<String>) -> SigstoreError {
    bad(path, reason)
}
