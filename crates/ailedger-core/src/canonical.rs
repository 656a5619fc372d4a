//! The one encoding that gets hashed: RFC 8785 JSON Canonicalization Scheme.
//!
//! Whatever `derive(Serialize)` emits is only an input here; what is hashed or
//! signed always goes through [`to_canonical_json`] or, for entry bodies, through
//! `entry::body_of`, which writes the entry's fields in canonical order with
//! [`write_str`] and [`write_value`] (same bytes, tested against the reference).

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// Largest integer magnitude an IEEE 754 double holds exactly (2^53): such integers
/// print the same in RFC 8785 (ECMAScript `Number.prototype.toString`) as in Rust.
const EXACT_INT: u64 = 1 << 53;

/// Serialises `value` as RFC 8785 canonical JSON.
///
/// The value goes through `serde_json::Value` and is written by [`write_value`], which
/// sorts object keys by UTF-16 code units, escapes strings as RFC 8785 does (exactly
/// the escapes serde_json writes) and prints integers up to 2^53 directly; every other
/// number is handed to `serde_json_canonicalizer`. It gives the same bytes as
/// `serde_json_canonicalizer::to_vec` (a test compares them) at several times its
/// speed, which allocates and re-parses every object key (measured: 140 ms of the
/// 10,000-component document entry; see docs/benchmarks.md).
pub fn to_canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, crate::Error> {
    let v = serde_json::to_value(value).map_err(|e| crate::Error::Entry(e.to_string()))?;
    let mut out = Vec::with_capacity(256);
    write_value(&v, &mut out)?;
    Ok(out)
}

/// Appends the RFC 8785 form of `v` to `out`.
pub fn write_value(v: &Value, out: &mut Vec<u8>) -> Result<(), crate::Error> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u <= EXACT_INT) {
                out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT_INT) {
                out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            } else {
                let s = serde_json_canonicalizer::to_vec(n)
                    .map_err(|e| crate::Error::Entry(e.to_string()))?;
                out.extend_from_slice(&s);
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(a) => write_list(a, out, write_value)?,
        Value::Object(m) => write_object(m, out)?,
    }
    Ok(())
}

/// Appends the RFC 8785 form of the object `m` (keys in UTF-16 order).
pub fn write_object(m: &Map<String, Value>, out: &mut Vec<u8>) -> Result<(), crate::Error> {
    let mut props: Vec<(&String, &Value)> = m.iter().collect();
    props.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
    out.push(b'{');
    for (i, (k, x)) in props.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(k, out);
        out.push(b':');
        write_value(x, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Appends the RFC 8785 form of the string `s`. Section 3.2.2.2: `"` and `\`
/// escaped, control characters as `\b \t \n \f \r` or `\u00xx` (lower-case hex),
/// everything else as it is.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `[item,item,…]`, each item written by `each`.
pub(crate) fn write_list<T>(
    items: &[T],
    out: &mut Vec<u8>,
    mut each: impl FnMut(&T, &mut Vec<u8>) -> Result<(), crate::Error>,
) -> Result<(), crate::Error> {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(x, out)?;
    }
    out.push(b']');
    Ok(())
}

/// Orders strings by their UTF-16 code units (RFC 8785 section 3.2.3). Byte order of
/// UTF-8 equals code point order, which differs from UTF-16 order only between
/// supplementary characters (surrogate pairs, 0xD800..) and U+E000..U+FFFF; the slow
/// path runs only when both strings hold non-ASCII text.
pub(crate) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() || b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Body of the `canonical` fuzz target: for any JSON input, the fast writer and
/// `serde_json_canonicalizer` must agree byte for byte.
pub fn fuzz_canonical(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let ours = to_canonical_json(&v).ok();
    let theirs = serde_json_canonicalizer::to_vec(&v).ok();
    assert_eq!(ours, theirs, "canonical forms differ");
}

/// RFC 9162 leaf hash: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8785_orders_keys_and_formats_numbers() {
        // From RFC 8785 section 3.2.2 (number formatting) and 3.2.3 (key ordering).
        let v: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],
                "string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals":[null,true,false]}"#,
        )
        .unwrap();
        let out = String::from_utf8(to_canonical_json(&v).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    /// The fast writer gives the crate's bytes on tricky keys, strings and numbers.
    #[test]
    fn matches_serde_json_canonicalizer() {
        let cases = [
            r#"{"b":1,"a":[1,2,{"z":null,"y":true}],"\u00e9":"x","\ud83d\ude00":1,"\ufb33":2,"":0}"#,
            r#"{"s":"\u0000\u0001\u001f\u007f\b\f\n\r\t\"\\/ \u2028 \ud83d\ude00 é"}"#,
            r#"[9007199254740992,9007199254740993,-9007199254740992,-9007199254740993,18446744073709551615,-1,0,1.5,-0.0,1e21,1e-7,123456789012345678901234567890]"#,
            r#"{"nested":{"k2":{"b":[],"a":{}},"k1":"v"},"arr":[[],[[]],{}]}"#,
        ];
        for c in cases {
            let v: Value = serde_json::from_str(c).unwrap();
            assert_eq!(
                String::from_utf8(to_canonical_json(&v).unwrap()).unwrap(),
                String::from_utf8(serde_json_canonicalizer::to_vec(&v).unwrap()).unwrap(),
                "{c}"
            );
        }
    }

    #[test]
    fn leaf_hash_prefixes_zero() {
        // RFC 6962 test vector: the hash of the empty leaf.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
