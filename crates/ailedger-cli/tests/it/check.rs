//! `ailedger check` end to end: a real server on a SQLite file, a model registered from
//! a directory (its config.json's architectures and its pickle weights recorded), a
//! deployment; exit 0 on pass, 1 on fail (table, JSON, and SARIF validated against the
//! SARIF 2.1.0 schema), 2 on a bad policy file, field or ref, 3 without a server.

use serde_json::Value;

use super::{cli, fails, fixture, ok, serve};

const SARIF_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/sarif-schema-2.1.0.json"
);

#[test]
fn check_exits_by_verdict_and_prints_json_table_and_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&tmp.path().join("l.db").to_string_lossy());
    let url = server.url.as_str();
    let model = tmp.path().join("bot-model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(
        model.join("config.json"),
        br#"{"architectures":["LlamaForCausalLM"],"model_type":"llama"}"#,
    )
    .unwrap();
    std::fs::copy(
        fixture("pickles/ben_torch_zip.pt"),
        model.join("pytorch_model.bin"),
    )
    .unwrap();
    ok(
        url,
        &[
            "register",
            "model",
            model.to_str().unwrap(),
            "--name",
            "bot-model",
            "--version",
            "1",
            "--source",
            "https://huggingface.co/acme/bot-model",
        ],
    );
    ok(
        url,
        &[
            "deploy",
            "bot",
            "--env",
            "prod",
            "--uses",
            "model:bot-model@1",
        ],
    );
    // Registration recorded the architectures from config.json.
    let shown: Value =
        serde_json::from_str(&ok(url, &["show", "model:bot-model@1", "--format", "json"])).unwrap();
    assert_eq!(
        shown["attrs"]["architectures"],
        serde_json::json!(["LlamaForCausalLM"])
    );

    // No policy: a pass, exit 0.
    let out = cli(url, &["check", "deployment:prod/bot", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true, "{v}");
    let table = ok(url, &["check", "deployment:prod/bot"]);
    assert!(table.starts_with("PASS deployment:prod/bot"), "{table}");

    // A gate the release fails: pickle weights, a denied architecture, no SBOM.
    let gate = tmp.path().join("gate.toml");
    std::fs::write(
        &gate,
        "version = 1\n[gate]\ndeny_formats = [\"pickle\"]\ndeny_architectures = [\"Llama*\"]\n\
         require_sbom = true\nallowed_sources = [\"https://huggingface.co/acme/*\"]\n",
    )
    .unwrap();
    let gate_arg = gate.to_str().unwrap();
    let out = cli(
        url,
        &[
            "check",
            "deployment:prod/bot",
            "--policy",
            gate_arg,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["AIL-GATE-008", "AIL-GATE-011", "AIL-GATE-010"],
        "{v}"
    );
    assert_eq!(v["failures"][0]["artifact"]["label"], "model:bot-model@1");
    assert!(
        v["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("pytorch_model.bin"),
        "{v}"
    );
    // The same as YAML, as a table.
    let yaml = tmp.path().join("gate.yaml");
    std::fs::write(&yaml, "version: 1\ngate:\n  deny_formats: [pickle]\n").unwrap();
    let out = cli(
        url,
        &[
            "check",
            "model:bot-model@1",
            "--policy",
            yaml.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.starts_with("FAIL model:bot-model@1") && table.contains("AIL-GATE-008"),
        "{table}"
    );
    assert!(table.contains("safetensors"), "{table}");

    // SARIF, valid against the SARIF 2.1.0 schema.
    let out = cli(
        url,
        &[
            "check",
            "deployment:prod/bot",
            "--policy",
            gate_arg,
            "--format",
            "sarif",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(SARIF_SCHEMA).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ruleId"], "AIL-GATE-008");
    assert_eq!(results[0]["level"], "error");

    // Bad input: exit 2, one line naming the file, the field or the ref.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[gate]\ndeny_formats = [\"zip\"]\n").unwrap();
    let (code, err) = fails(
        url,
        &[
            "check",
            "deployment:prod/bot",
            "--policy",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(bad.to_str().unwrap()) && err.contains("gate.deny_formats[0]"),
        "{err}"
    );
    let missing = tmp.path().join("missing.toml");
    let (code, err) = fails(
        url,
        &[
            "check",
            "deployment:prod/bot",
            "--policy",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml"), "{err}");
    let (code, err) = fails(url, &["check", "deployment:prod/nobody"]);
    assert_eq!(code, 2);
    assert!(err.contains("deployment:prod/nobody"), "{err}");

    // No server: exit 3.
    let (code, _) = fails("http://127.0.0.1:9", &["check", "deployment:prod/bot"]);
    assert_eq!(code, 3);
}
