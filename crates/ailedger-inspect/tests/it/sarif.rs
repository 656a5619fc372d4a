//! SARIF output validates against the official SARIF 2.1.0 schema.

use ailedger_inspect::{inspect_path, sarif::to_sarif};

#[test]
fn sarif_validates_against_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../schemas/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut reports = inspect_path(&crate::fixtures("pickles"), &crate::opts()).unwrap();
    reports.extend(inspect_path(&crate::fixtures("formats"), &crate::opts()).unwrap());
    reports.extend(inspect_path(&crate::fixtures("mcp"), &crate::opts()).unwrap());
    reports.push(ailedger_inspect::FileReport {
        path: "unreadable file.bin".into(),
        format: None,
        findings: vec![],
        error: Some("permission denied".into()),
    });
    let log = to_sarif(&reports);
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "ailedger");
    let results = run["results"].as_array().unwrap();
    assert!(results.len() > 50);
    let crit = results
        .iter()
        .find(|r| r["ruleId"] == "AIL-PKL-001")
        .unwrap();
    assert_eq!(crit["level"], "error");
    assert!(
        results
            .iter()
            .any(|r| r["locations"][0]["physicalLocation"]["region"]["byteOffset"].is_u64())
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    // A broken log is rejected by the validator (the test can fail).
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn table_and_exit_codes() {
    let reports = inspect_path(&crate::fixtures("pickles"), &crate::opts()).unwrap();
    let t = ailedger_inspect::render_table(&reports);
    assert!(t.contains("CRITICAL") && t.contains("AIL-PKL-001") && t.contains("mal_torch_zip.pt!"));
    assert_eq!(
        ailedger_inspect::exit_code(&reports, ailedger_core::Severity::High),
        1
    );
    let clean = inspect_path(&crate::fixtures("pickles/ben_dict_p2.pkl"), &crate::opts()).unwrap();
    assert_eq!(
        ailedger_inspect::exit_code(&clean, ailedger_core::Severity::High),
        0
    );
    let mut errored = clean.clone();
    errored[0].error = Some("boom".into());
    assert_eq!(
        ailedger_inspect::exit_code(&errored, ailedger_core::Severity::High),
        2
    );
    let json = serde_json::to_value(&reports).unwrap();
    assert!(json[0]["path"].is_string());
}
