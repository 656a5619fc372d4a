//! OSV records checked against the official OSV schema (`schemas/osv/osv-schema.json`)
//! before an import applies them. Unlike SBOM schemas (whose deviations are
//! warnings), a record that violates the OSV schema is refused: a record states what
//! is compromised, and a malformed one cannot be trusted to state it right.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

const OSV: &str = include_str!("../../../schemas/osv/osv-schema.json");

static VALIDATOR: LazyLock<Option<Validator>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(OSV).ok()?;
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .ok()
});

/// Checks an OSV record against the schema; the error names the first violation's
/// JSON pointer (up to three violations).
pub fn validate_osv(record: &Value) -> Result<(), String> {
    let Some(v) = VALIDATOR.as_ref() else {
        return Err("the OSV schema did not compile".into());
    };
    let errors: Vec<String> = v
        .iter_errors(record)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("violates the OSV schema: {}", errors.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_compiles_and_names_the_field_at_fault() {
        assert!(VALIDATOR.is_some());
        let good = serde_json::json!({"id": "MAL-2026-1", "modified": "2026-09-04T00:47:46Z"});
        validate_osv(&good).unwrap();
        let bad = serde_json::json!({"id": "MAL-2026-1", "modified": "yesterday"});
        let e = validate_osv(&bad).unwrap_err();
        assert!(e.contains("/modified"), "{e}");
    }
}
