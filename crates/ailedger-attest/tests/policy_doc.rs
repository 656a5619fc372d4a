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
