//! Every labelled pickle: malicious → at least high, benign → below high.

use ailedger_inspect::{Severity, inspect_bytes, inspect_path};

#[test]
fn labels_tsv_malicious_high_benign_below() {
    let dir = crate::fixtures("pickles");
    let labels = std::fs::read_to_string(dir.join("LABELS.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in labels.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, label) = (cols[0], cols[1]);
        let reports = inspect_path(&dir.join(file), &crate::opts()).unwrap();
        assert_eq!(reports.len(), 1);
        let r = &reports[0];
        assert!(r.error.is_none(), "{file}: {:?}", r.error);
        assert!(r.format.is_some(), "{file}: not recognised");
        let max = r.max_severity();
        let ok = match label {
            "malicious" => max >= Some(Severity::High),
            "benign" => max < Some(Severity::High),
            other => panic!("unknown label {other}"),
        };
        if !ok {
            failures.push(format!("{file} ({label}): max {max:?} {:?}", r.findings));
        }
        checked += 1;
    }
    assert!(checked >= 39, "only {checked} labelled files");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Expected codes (exact set) for fixtures where the reason matters.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "mal_broken_after_payload_p2.pkl",
        &["AIL-PKL-001", "AIL-PKL-005"],
    ),
    (
        "mal_memo_missing_key_p4.pkl",
        &["AIL-PKL-001", "AIL-PKL-004", "AIL-PKL-009"],
    ),
    ("mal_numpy_object.npy", &["AIL-PKL-001", "AIL-PKL-014"]),
    ("mal_torch_7z.pt", &["AIL-PKL-001", "AIL-PKL-012"]),
    ("mal_torch_zip_bad_crc.pt", &["AIL-PKL-001", "AIL-PKL-011"]),
    ("mal_torch_zip.pt", &["AIL-PKL-001"]),
    ("mal_torch_legacy.pt", &["AIL-PKL-001"]),
    ("mal_stack_global_memo_p4.pkl", &["AIL-PKL-001"]),
    ("mal_stacked_second_pickle.pkl", &["AIL-PKL-001"]),
    ("ben_torch_zip.pt", &[]),
    ("ben_joblib_numpy.joblib", &[]),
    ("ben_big_floats_p4.pkl", &[]),
    ("ben_malicious_looking_strings_p4.pkl", &[]),
    ("ben_user_class_p0.pkl", &["AIL-PKL-003"]),
    ("ben_torch_state_dict_p2.pkl", &["AIL-PKL-016"]),
];

#[test]
fn expected_codes_per_fixture() {
    let dir = crate::fixtures("pickles");
    for (file, want) in EXPECTED {
        let r = &inspect_path(&dir.join(file), &crate::opts()).unwrap()[0];
        let mut got: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
        got.sort_unstable();
        got.dedup();
        assert_eq!(&got, want, "{file}: {:#?}", r.findings);
    }
}

#[test]
fn evidence_names_the_resolved_global() {
    let dir = crate::fixtures("pickles");
    for (file, global) in [
        ("mal_os_system_p2.pkl", "posix.system"),
        ("mal_builtins_eval_p4.pkl", "builtins.eval"),
        ("mal_pip_main_p4.pkl", "pip.main"),
        ("mal_runpy_p4.pkl", "runpy._run_code"),
        ("mal_getattr_import_chain_p2.pkl", "os.system"),
        ("mal_torch_zip.pt", "posix.system"),
    ] {
        let r = &inspect_path(&dir.join(file), &crate::opts()).unwrap()[0];
        assert!(
            r.findings.iter().any(|f| f.code == "AIL-PKL-001"
                && f.severity == Severity::Critical
                && f.evidence == global),
            "{file}: {:#?}",
            r.findings
        );
    }
    // The zip member and offset are located.
    let r = &inspect_path(&dir.join("mal_torch_zip.pt"), &crate::opts()).unwrap()[0];
    let f = r.findings.iter().find(|f| f.code == "AIL-PKL-001").unwrap();
    assert!(f.location.member.as_deref().unwrap().ends_with("data.pkl"));
    assert!(f.location.offset.is_some());
}

fn p4(module: &str, name: &str, tail: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, 4, 0x8c, module.len() as u8];
    v.extend_from_slice(module.as_bytes());
    v.push(0x8c);
    v.push(name.len() as u8);
    v.extend_from_slice(name.as_bytes());
    v.push(0x93);
    v.extend_from_slice(tail);
    v
}

const CALL_ID: &[u8] = &[0x8c, 2, b'i', b'd', 0x85, b'R', b'.'];

/// Crafted pickles: (name, bytes, expected max severity, a code that must appear).
#[test]
fn crafted_pickles() {
    let mut ext1 = vec![0x80, 2, 0x82, 7, b')', b'R', b'.'];
    let _ = &mut ext1;
    let cases: Vec<(&str, Vec<u8>, Severity, &str)> = vec![
        (
            "dotted pathlib os.system",
            p4("pathlib", "os.system", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "importlib",
            p4("importlib", "import_module", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "marshal",
            p4("marshal", "loads", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "timeit",
            p4("timeit", "timeit", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "pkgutil",
            p4("pkgutil", "resolve_name", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "ctypes",
            p4("ctypes", "CDLL", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "webbrowser",
            p4("webbrowser", "open", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "nested pickle",
            p4("_pickle", "loads", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "asyncio",
            p4("asyncio.unix_events", "_UnixSubprocessTransport", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "numpy runstring",
            p4("numpy.testing._private.utils", "runstring", CALL_ID),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "imported only",
            p4("os", "system", b"."),
            Severity::High,
            "AIL-PKL-002",
        ),
        (
            "dunder walk",
            p4("collections", "OrderedDict.__init__.__globals__", CALL_ID),
            Severity::Critical,
            "AIL-PKL-008",
        ),
        (
            "unknown global",
            p4("mypkg.model", "Net", CALL_ID),
            Severity::Medium,
            "AIL-PKL-003",
        ),
        (
            "allowed torch",
            p4("torch._utils", "_rebuild_tensor_v2", CALL_ID),
            Severity::Info,
            "",
        ),
        (
            "allowed sklearn NEWOBJ",
            p4(
                "sklearn.linear_model._base",
                "LinearRegression",
                &[b')', 0x81, b'}', b'b', b'.'],
            ),
            Severity::Info,
            "",
        ),
        ("extension registry", ext1, Severity::High, "AIL-PKL-007"),
        (
            "protocol 0 STRING escapes",
            b"c__builtin__\ngetattr\n(S'\\x6fs'\ntR.".to_vec(),
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "no STOP",
            vec![0x80, 2, b'N'],
            Severity::Medium,
            "AIL-PKL-005",
        ),
        (
            "functools.partial of os.system",
            {
                let mut v = b"cfunctools\npartial\n(cos\nsystem\nS'id'\ntR".to_vec();
                v.extend_from_slice(b")R.");
                v
            },
            Severity::Critical,
            "AIL-PKL-001",
        ),
        (
            "STACK_GLOBAL on non-strings",
            vec![0x80, 4, b'K', 1, b'K', 2, 0x93, b'.'],
            Severity::High,
            "AIL-PKL-004",
        ),
    ];
    for (what, bytes, max, code) in cases {
        let r = inspect_bytes("x.pkl", &bytes, &crate::opts());
        let got = r.max_severity().unwrap_or(Severity::Info);
        assert_eq!(got, max, "{what}: {:#?}", r.findings);
        if !code.is_empty() {
            assert!(
                r.findings.iter().any(|f| f.code == code),
                "{what}: {:#?}",
                r.findings
            );
        }
    }
}

#[test]
fn limits_are_findings() {
    let mut opts = crate::opts();
    opts.limits.pickle.max_memo = 4;
    // 10 × (None, MEMOIZE)
    let mut p = vec![0x80, 4];
    for _ in 0..10 {
        p.extend_from_slice(&[b'N', 0x94]);
    }
    p.push(b'.');
    let r = inspect_bytes("x.pkl", &p, &opts);
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-PKL-006"),
        "{:#?}",
        r.findings
    );

    let mut opts = crate::opts();
    opts.limits.pickle.max_marks = 8;
    let mut p = vec![0x80, 2];
    p.extend(std::iter::repeat_n(b'(', 100));
    let r = inspect_bytes("x.pkl", &p, &opts);
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-PKL-006"),
        "{:#?}",
        r.findings
    );
    assert!(r.max_severity() >= Some(Severity::High));
}

#[test]
fn content_not_extension() {
    let bytes = std::fs::read(crate::fixtures("pickles/mal_os_system_p4.pkl")).unwrap();
    for name in ["model.bin", "weights.dat", "README", "x.txt.bak"] {
        let r = inspect_bytes(name, &bytes, &crate::opts());
        assert_eq!(r.max_severity(), Some(Severity::Critical), "{name}");
    }
    // Text is not mistaken for a pickle.
    let r = inspect_bytes("notes.bin", b"(hello) this is text.\n", &crate::opts());
    assert!(r.format.is_none(), "{r:?}");
}

/// Dotted globals written by real `pickle` (tests/fixtures/pickles-dotted/make.py) that
/// walk from an allow-listed module into a dangerous one: high or critical, and the
/// message names the module reached.
#[test]
fn dotted_globals_walking_into_dangerous_modules() {
    let dir = crate::fixtures("pickles-dotted");
    let cases: &[(&str, &str, &str)] = &[
        ("mal_torch_serialization_os_system_p4.pkl", "torch", "os"),
        ("mal_numpy_testing_utils_os_system_p5.pkl", "numpy", "os"),
        ("mal_collections_os_system_p4.pkl", "collections", "os"),
        ("mal_torch_sys_modules_p4.pkl", "torch", "sys"),
        ("mal_numpy_subprocess_p4.pkl", "numpy", "subprocess"),
        ("mal_torch_builtins_eval_p4.pkl", "torch", "builtins"),
        ("mal_torch_builtins_print_p4.pkl", "torch", "builtins"),
        ("mal_torch_importlib_p4.pkl", "torch", "importlib"),
        (
            "mal_collections_shutil_rmtree_p4.pkl",
            "collections",
            "shutil",
        ),
        ("mal_torch_socket_p4.pkl", "torch", "socket"),
        ("mal_numpy_runpy_p4.pkl", "numpy", "runpy"),
        ("mal_torch_pty_spawn_p4.pkl", "torch", "pty"),
        ("mal_torch_posix_system_p4.pkl", "torch", "posix"),
        ("mal_global_opcode_dotted_p4.pkl", "torch", "os"),
        ("mal_numpy_lib_io_stored_p4.pkl", "numpy", "io"),
        ("mal_collections_os_stored_p4.pkl", "collections", "os"),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        if !file.ends_with(".pkl") {
            continue;
        }
        seen += 1;
        let reports = inspect_path(&path, &crate::opts()).unwrap();
        let r = &reports[0];
        if file.starts_with("ben_") {
            assert!(
                r.max_severity() < Some(Severity::High),
                "{file}: {:?}",
                r.findings
            );
            continue;
        }
        let (_, from, to) = cases
            .iter()
            .find(|c| c.0 == file)
            .unwrap_or_else(|| panic!("{file} has no expectation"));
        assert!(
            r.max_severity() >= Some(Severity::High),
            "{file}: {:?}",
            r.findings
        );
        let want = format!("walks from {from} to the {to} module");
        assert!(
            r.findings
                .iter()
                .any(|f| f.severity >= Severity::High && f.message.contains(&want)),
            "{file}: no finding says {want:?}: {:?}",
            r.findings
        );
        assert!(
            !r.findings.iter().any(|f| f.code == "AIL-PKL-003"),
            "{file}: still reported as outside the allow-list: {:?}",
            r.findings
        );
    }
    assert_eq!(seen, cases.len() + 1, "fixtures and expectations differ");
}

#[test]
fn dotted_walks_judged_without_a_file() {
    use ailedger_inspect::policy::{Verdict, judge, walk_target};
    // Before: Unknown (medium). A walk into builtins or io is dangerous whatever follows.
    assert!(matches!(
        judge("torch", "_utils.builtins.print"),
        Verdict::Dangerous(_)
    ));
    assert!(matches!(judge("numpy", "lib.io"), Verdict::Dangerous(_)));
    assert_eq!(
        walk_target("numpy", "distutils.exec_command.subprocess.check_output"),
        Some("subprocess")
    );
    // Negative: plain allow-listed globals and nested class names walk nowhere.
    assert_eq!(walk_target("collections", "OrderedDict"), None);
    assert_eq!(walk_target("torch._utils", "_rebuild_tensor_v2"), None);
    assert_eq!(walk_target("os", "system"), None);
    assert!(matches!(
        judge("collections", "OrderedDict"),
        Verdict::Allowed(_)
    ));
}
