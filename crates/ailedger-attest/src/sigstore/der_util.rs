//! Minimal DER helpers: splitting TLVs (to keep a signed structure's exact bytes), PEM
//! and lenient base64. Every function is total over untrusted input.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// One DER element: its tag byte, the whole encoding and its contents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub full: &'a [u8],
    pub content: &'a [u8],
}

/// Splits the first DER element off `input` (single-byte tags, definite lengths only).
pub(crate) fn tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags never occur in the structures read here
    }
    let first = *input.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2usize)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    Some((
        Tlv {
            tag,
            full: &input[..end],
            content: &input[hdr..end],
        },
        &input[end..],
    ))
}

/// The elements of a constructed value's contents, in order.
pub(crate) fn children(mut content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, rest) = tlv(content)?;
        out.push(t);
        content = rest;
    }
    Some(out)
}

/// Base64 as protobuf JSON writes it (standard alphabet), accepting the URL-safe
/// alphabet and missing padding too.
pub(crate) fn b64(text: &str) -> Option<Vec<u8>> {
    for engine in [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        if let Ok(v) = engine.decode(text) {
            return Some(v);
        }
    }
    None
}

pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The DER bytes of every PEM block labelled `label` in `text`, or of any label when
/// `label` is empty.
pub(crate) fn pem_blocks(text: &[u8], label: &str) -> Vec<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut body: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let l = rest.trim_end_matches('-').to_string();
            body = Some((l, String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((l, b)) = body.take()
                && (label.is_empty() || l == label)
                && let Ok(der) = STANDARD.decode(b.as_bytes())
            {
                out.push(der);
            }
        } else if let Some((_, b)) = body.as_mut() {
            b.push_str(line);
        }
    }
    out
}

/// Formats a Unix time as RFC 3339 for messages.
pub(crate) fn fmt_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{t}"))
}
