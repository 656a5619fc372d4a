//! The JSON writer the exports share: a pretty-printed document written a field and an
//! array element at a time.

use std::io::{self, Write};

use serde_json::Value;

/// Pretty-printed JSON (two-space indent, as `serde_json` writes it) of a document whose
/// top-level fields and arrays' elements come one at a time.
pub(crate) struct JsonOut<'w> {
    out: &'w mut dyn Write,
    /// Whether no field is written yet.
    first: bool,
    /// Whether the open array has no element yet.
    empty: bool,
}

impl<'w> JsonOut<'w> {
    pub(crate) fn new(out: &'w mut dyn Write) -> Self {
        JsonOut {
            out,
            first: true,
            empty: true,
        }
    }

    fn key(&mut self, key: &str) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"{\n  " } else { b",\n  " })?;
        self.first = false;
        push_value(self.out, &Value::from(key), 0)?;
        self.out.write_all(b": ")
    }

    pub(crate) fn field(&mut self, key: &str, v: &Value) -> io::Result<()> {
        self.key(key)?;
        push_value(self.out, v, 2)
    }

    /// Opens a top-level array.
    pub(crate) fn open(&mut self, key: &str) -> io::Result<()> {
        self.empty = true;
        self.key(key)
    }

    /// One element of the open array.
    pub(crate) fn item(&mut self, v: &Value) -> io::Result<()> {
        self.out
            .write_all(if self.empty { b"[\n    " } else { b",\n    " })?;
        self.empty = false;
        push_value(self.out, v, 4)
    }

    pub(crate) fn close(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.empty { b"[]" } else { b"\n  ]" })
    }

    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"{}\n" } else { b"\n}\n" })?;
        self.out.flush()
    }
}

/// `v` pretty-printed (two-space indent) at nesting `indent`.
fn push_value(out: &mut dyn Write, v: &Value, indent: usize) -> io::Result<()> {
    let text = serde_json::to_vec_pretty(v).map_err(io::Error::other)?;
    // JSON strings hold no raw newline: every newline is between tokens.
    let pad = vec![b' '; indent];
    let mut lines = text.split(|b| *b == b'\n');
    if let Some(first) = lines.next() {
        out.write_all(first)?;
    }
    for line in lines {
        out.write_all(b"\n")?;
        out.write_all(&pad)?;
        out.write_all(line)?;
    }
    Ok(())
}
