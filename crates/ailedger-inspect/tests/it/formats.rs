//! safetensors, GGUF, ONNX and Keras fixtures: the exact set of codes per file.

use ailedger_inspect::{DetectedFormat, Severity, inspect_path};

const EXPECTED: &[(&str, &[&str])] = &[
    ("st_ok.safetensors", &[]),
    ("st_bad_dtype.safetensors", &["AIL-ST-005"]),
    ("st_dup_keys.safetensors", &["AIL-ST-004", "AIL-ST-006"]),
    ("st_header_len_huge.safetensors", &["AIL-ST-001"]),
    ("st_header_len_past_eof.safetensors", &["AIL-ST-002"]),
    ("st_hole.safetensors", &["AIL-ST-006"]),
    ("st_leading_space.safetensors", &["AIL-ST-011"]),
    ("st_metadata_nonstring.safetensors", &["AIL-ST-010"]),
    ("st_overlap.safetensors", &["AIL-ST-006"]),
    ("st_shape_mismatch.safetensors", &["AIL-ST-008"]),
    ("st_shape_overflow.safetensors", &["AIL-ST-009"]),
    ("st_trailing_bytes.safetensors", &["AIL-ST-007"]),
    ("gguf_ok.gguf", &[]),
    ("gguf_array_len_huge.gguf", &["AIL-GGUF-003"]),
    ("gguf_bad_magic.gguf", &["AIL-GGUF-001"]),
    ("gguf_bad_value_type.gguf", &["AIL-GGUF-005"]),
    ("gguf_jinja_ssti.gguf", &["AIL-GGUF-007"]),
    ("gguf_kv_count_huge.gguf", &["AIL-GGUF-003"]),
    ("gguf_nested_array_deep.gguf", &["AIL-GGUF-004"]),
    ("gguf_string_len_huge.gguf", &["AIL-GGUF-003"]),
    ("gguf_tensor_ndims_huge.gguf", &["AIL-GGUF-006"]),
    ("gguf_tensor_past_eof.gguf", &["AIL-GGUF-006"]),
    ("gguf_version_99.gguf", &["AIL-GGUF-002"]),
    ("keras_lambda.keras", &["AIL-KERAS-001"]),
    ("onnx_case/onnx_ok.onnx", &[]),
    ("onnx_case/onnx_traversal_abs.onnx", &["AIL-ONNX-001"]),
    ("onnx_case/onnx_traversal_dotdot.onnx", &["AIL-ONNX-002"]),
    ("onnx_case/onnx_traversal_nested.onnx", &["AIL-ONNX-002"]),
];

#[test]
fn expected_codes_per_format_fixture() {
    let dir = crate::fixtures("formats");
    let mut failures = Vec::new();
    for (file, want) in EXPECTED {
        let r = &inspect_path(&dir.join(file), &crate::opts()).unwrap()[0];
        assert!(r.error.is_none(), "{file}: {:?}", r.error);
        let mut got: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
        got.sort_unstable();
        got.dedup();
        if got != *want {
            failures.push(format!("{file}: got {got:?} want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn safetensors_reads_only_the_header() {
    // A sparse 8 GiB file: one header, then a hole. Validation must not read the data.
    let dir = tempfile::tempdir().unwrap();
    let header = br#"{"w":{"dtype":"F32","shape":[2147483648],"data_offsets":[0,8589934592]}}"#;
    let path = dir.path().join("big.safetensors");
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    std::fs::write(&path, &bytes).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(8 + header.len() as u64 + 8_589_934_592).unwrap();
    let r = &inspect_path(&path, &crate::opts()).unwrap()[0];
    assert_eq!(r.format, Some(DetectedFormat::Safetensors));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[cfg(unix)]
#[test]
fn onnx_symlink_outside_model_dir() {
    let dir = tempfile::tempdir().unwrap();
    let model = std::fs::read(crate::fixtures("formats/onnx_case/onnx_symlink.onnx")).unwrap();
    std::fs::write(dir.path().join("m.onnx"), model).unwrap();
    std::os::unix::fs::symlink("/nonexistent_target_outside", dir.path().join("link.bin")).unwrap();
    let r = &inspect_path(&dir.path().join("m.onnx"), &crate::opts()).unwrap()[0];
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-ONNX-003"),
        "{:#?}",
        r.findings
    );
    // A link that stays inside is fine.
    std::fs::remove_file(dir.path().join("link.bin")).unwrap();
    std::fs::write(dir.path().join("real.bin"), [0u8; 64]).unwrap();
    std::os::unix::fs::symlink("real.bin", dir.path().join("link.bin")).unwrap();
    let r = &inspect_path(&dir.path().join("m.onnx"), &crate::opts()).unwrap()[0];
    assert!(
        !r.findings.iter().any(|f| f.code == "AIL-ONNX-003"),
        "{:#?}",
        r.findings
    );
}

#[test]
fn manifest_trust_names_pickle_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::fixtures("formats/st_ok.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    std::fs::copy(
        crate::fixtures("pickles/ben_torch_zip.pt"),
        dir.path().join("pytorch_model.bin"),
    )
    .unwrap();
    let reports = inspect_path(dir.path(), &crate::opts()).unwrap();
    let f = reports
        .iter()
        .flat_map(|r| &r.findings)
        .find(|f| f.code == "AIL-PKL-015")
        .expect("manifest finding");
    assert!(f.message.contains("pytorch_model.bin"), "{f:?}");
    assert_eq!(f.severity, Severity::Medium);
}

#[test]
fn directory_walk_is_sorted_and_errors_on_missing_root() {
    let reports = inspect_path(&crate::fixtures("formats"), &crate::opts()).unwrap();
    let paths: Vec<&String> = reports.iter().map(|r| &r.path).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert!(reports.len() >= 30);
    let err = inspect_path(&crate::fixtures("no-such-dir"), &crate::opts()).unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn h5_keras_config_by_byte_search() {
    let mut h5 = b"\x89HDF\r\n\x1a\n".to_vec();
    h5.extend_from_slice(&[0u8; 100]);
    h5.extend_from_slice(br#"{"class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "evil"}}, {"module": "os", "class_name": "system", "config": {}}]}}"#);
    h5.extend_from_slice(&[0u8; 100]);
    let r = ailedger_inspect::inspect_bytes("m.h5", &h5, &crate::opts());
    assert_eq!(r.format, Some(DetectedFormat::Hdf5));
    let codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(
        codes.contains(&"AIL-KERAS-001") && codes.contains(&"AIL-KERAS-003"),
        "{codes:?}"
    );
}
