//! The trust policy example in docs/attestations.md is valid: against the JSON schema in
//! schemas/, as a policy file, and compiled (keys, regexes, authorities) once its
//! placeholder certificates are replaced by real ones.
#![allow(clippy::unwrap_used)]

use ailedger_attest::{
    judge::TrustPolicy,
    policy::{PolicyFile, PolicyFiles, PolicyFormat},
};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const CERTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/attest/model_signing/upstream-golden/keys/certificate/"
);

fn doc_example() -> String {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/attestations.md")).unwrap();
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("{ROOT}/schemas/trust-policy.schema.json")).unwrap();
    jsonschema::options()
        .build(&serde_json::from_str(&text).unwrap())
        .unwrap()
}

#[test]
fn the_documented_example_is_a_valid_policy() {
    let text = doc_example();
    let value: serde_json::Value = toml::from_str(&text).unwrap();
    let errors: Vec<String> = schema()
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let (file, format) = PolicyFile::parse(&text, None).unwrap();
    assert_eq!(format, PolicyFormat::Toml);
    assert_eq!(file.keys.len(), 1);
    assert_eq!(file.builders.len(), 2);
    // The placeholder PEM becomes the model-signing test CA chain; then it compiles.
    let chain = format!(
        "{}{}",
        std::fs::read_to_string(format!("{CERTS}ca-cert.pem")).unwrap(),
        std::fs::read_to_string(format!("{CERTS}int-ca-cert.pem")).unwrap()
    );
    let start = text.find("certificates = \"\"\"\n").unwrap() + "certificates = \"\"\"\n".len();
    let end = start + text[start..].find("\"\"\"").unwrap();
    let real = format!("{}{chain}{}", &text[..start], &text[end..]);
    TrustPolicy::compile(&real, None, &PolicyFiles::new(), None).unwrap();
}

#[test]
fn the_schema_and_the_reader_refuse_the_same_faults() {
    let schema = schema();
    for (text, field) in [
        ("version = 2", "version"),
        ("version = 1\nunknown = 1", "unknown"),
        ("version = 1\n[on]\nfailed = \"ignore\"", "failed"),
        (
            "version = 1\n[[identities]]\nname = \"a\"\nsan = \"x\"",
            "issuer",
        ),
        ("version = 1\n[[builders]]\nhardened = true", "id"),
        (
            "version = 1\n[[keys]]\nname = \"k\"\npublic_key = \"x\"\nscope = { purl_namespaces = [\"pypi/x\"] }",
            "purl_namespaces",
        ),
    ] {
        let value: serde_json::Value = toml::from_str(text).unwrap();
        assert!(!schema.is_valid(&value), "schema accepts {text}");
        let e = PolicyFile::parse(text, Some(PolicyFormat::Toml))
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{text}: {e}");
    }
}

/// The gate example in docs/policy-gate.md: valid against the schema, read as a policy
/// file with every knob set, compiled; and its code table is the gate's codes.
#[test]
fn the_documented_gate_example_is_a_valid_policy() {
    use ailedger_attest::gate::Code;
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/policy-gate.md")).unwrap();
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let text = &doc[start..end];
    let value: serde_json::Value = toml::from_str(text).unwrap();
    let errors: Vec<String> = schema()
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let (file, _) = PolicyFile::parse(text, None).unwrap();
    let gate = file.gate.clone().unwrap();
    // Every knob is shown: the example's section, serialised, has every key the
    // schema lists for `gate`.
    let shown = serde_json::to_value(&gate).unwrap();
    let schema_text =
        std::fs::read_to_string(format!("{ROOT}/schemas/trust-policy.schema.json")).unwrap();
    let schema_value: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let knobs = schema_value["properties"]["gate"]["properties"]
        .as_object()
        .unwrap();
    for k in knobs.keys() {
        assert!(shown.get(k).is_some(), "the example does not show {k}");
        assert!(doc.contains(&format!("`{k}")), "the knob table lacks {k}");
    }
    TrustPolicy::compile(text, None, &PolicyFiles::new(), None).unwrap();
    for c in Code::ALL {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", c.as_str())))
            .unwrap_or_else(|| panic!("no row for {}", c.as_str()));
        assert!(row.contains(&format!("`{}`", c.knob())), "{row}");
        assert!(row.contains(c.title()), "{row}");
    }
}

#[test]
fn the_schema_and_the_reader_refuse_the_same_gate_faults() {
    let schema = schema();
    for (gate, field) in [
        ("min_slsa_level = { model = 4 }", "min_slsa_level"),
        ("min_slsa_level = { robot = 2 }", "robot"),
        ("deny_formats = [\"zip\"]", "deny_formats"),
        ("allowed_sources = [\"*\"]", "allowed_sources"),
        ("allowed_sources = [\"pkg:*/x\"]", "allowed_sources"),
        ("max_model_age_days = 0", "max_model_age_days"),
        ("deny_findings_at = \"severe\"", "severe"),
        ("require_verified = [\"robot\"]", "robot"),
        ("deny_architectures = [\"\"]", "deny_architectures"),
        ("require_evaluation = [\"\"]", "require_evaluation"),
        ("no_such_knob = true", "no_such_knob"),
    ] {
        let text = format!("version = 1\n[gate]\n{gate}\n");
        let value: serde_json::Value = toml::from_str(&text).unwrap();
        assert!(!schema.is_valid(&value), "schema accepts {gate}");
        let e = PolicyFile::parse(&text, Some(PolicyFormat::Toml))
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{gate}: {e}");
    }
}

/// The policy fuzz body never panics on the documented example, its truncations and
/// byte flips, nor on a YAML form.
#[test]
fn fuzz_policy_never_panics_on_the_example_and_mutations() {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/policy-gate.md")).unwrap();
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let text = &doc.as_bytes()[start..end];
    ailedger_attest::gate::fuzz_policy(text);
    ailedger_attest::gate::fuzz_policy(
        b"version: 1\ngate:\n  deny_open_incidents: true\n  deny_formats: [pickle]\n",
    );
    for cut in (0..text.len()).step_by(7) {
        ailedger_attest::gate::fuzz_policy(&text[..cut]);
    }
    for i in (0..text.len()).step_by(5) {
        let mut m = text.to_vec();
        m[i] ^= 0x21;
        ailedger_attest::gate::fuzz_policy(&m);
    }
}
