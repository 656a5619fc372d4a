//! Typosquats and requirements hygiene.

use ailedger_inspect::{check_package_name, inspect_requirements};

#[test]
fn popular_packages_are_never_typosquats() {
    for list in ["pypi-top.txt", "npm-top.txt"] {
        let eco = if list.starts_with("pypi") {
            "pypi"
        } else {
            "npm"
        };
        let text = std::fs::read_to_string(
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/").to_string() + list,
        )
        .unwrap();
        for name in text.lines().filter(|l| !l.starts_with('#')).take(3000) {
            assert!(check_package_name(eco, name).is_empty(), "{eco} {name}");
        }
    }
}

#[test]
fn known_typosquat_shapes() {
    for (eco, name) in [
        ("pypi", "reqeusts"),
        ("pypi", "requestss"),
        ("pypi", "urlib3"),
        ("pypi", "python-dateutils"),
        ("pypi", "beautfulsoup4"),
        ("pypi", "py-requests"),
        ("npm", "crossenv"),
        ("npm", "expres"),
        ("npm", "lodahs"),
    ] {
        let f = check_package_name(eco, name);
        assert_eq!(f.len(), 1, "{eco} {name}: {f:?}");
        assert_eq!(f[0].code, "AIL-PKG-001");
    }
}

#[test]
fn requirements_checks() {
    let text = "\
--extra-index-url https://user:secret@private.example/simple
requests==2.32.3 --hash=sha256:aaaa
flask>=2
git+https://github.com/x/y.git#egg=y
reqeusts==1.0 --hash=sha256:bbbb
numpy==1.* --hash=sha256:cccc
-i https://mirror.example/simple
";
    let f = inspect_requirements("requirements.txt", text);
    let has = |code: &str, ev: &str| f.iter().any(|x| x.code == code && x.evidence.contains(ev));
    assert!(has("AIL-PKG-005", "private.example"), "{f:#?}");
    assert!(
        !f.iter().any(|x| x.evidence.contains("secret")),
        "password leaked into evidence"
    );
    assert!(has("AIL-PKG-002", "flask"));
    assert!(has("AIL-PKG-002", "numpy"));
    assert!(
        !f.iter()
            .any(|x| x.code == "AIL-PKG-002" && x.evidence.contains("requests=="))
    );
    assert!(has("AIL-PKG-004", "git+"));
    assert!(has("AIL-PKG-001", "reqeusts"));
    assert!(has("AIL-PKG-003", "flask"));
    assert!(has("AIL-PKG-006", "mirror.example"));
    assert!(
        f.iter()
            .all(|x| x.location.file.as_deref() == Some("requirements.txt"))
    );
}

mod by_content {
    use ailedger_inspect::{DetectedFormat, inspect_path, looks_like_requirements};

    fn dir() -> std::path::PathBuf {
        crate::fixtures("requirements")
    }

    #[test]
    fn explicit_deps_txt_is_read_as_requirements() {
        let reports = inspect_path(&dir().join("deps.txt"), &crate::opts()).unwrap();
        assert_eq!(reports.len(), 1);
        let r = &reports[0];
        assert_eq!(r.format, Some(DetectedFormat::Requirements), "{r:?}");
        let has = |code: &str, ev: &str| {
            r.findings
                .iter()
                .any(|f| f.code == code && f.evidence.contains(ev))
        };
        assert!(
            has("AIL-PKG-001", "reqeusts ~ requests"),
            "{:#?}",
            r.findings
        );
        assert!(has("AIL-PKG-001", "pyymal ~ pyyaml"), "{:#?}", r.findings);
        assert!(has("AIL-PKG-005", "pypi.internal.example"));
        assert!(has("AIL-PKG-002", "torch"));
        // numpy is pinned and hashed; the others have no hash while numpy does.
        assert!(!has("AIL-PKG-002", "numpy"));
        assert!(has("AIL-PKG-003", "reqeusts"));
    }

    #[test]
    fn explicit_prose_and_word_lists_are_not_requirements() {
        for f in ["prose.txt", "words.txt"] {
            let reports = inspect_path(&dir().join(f), &crate::opts()).unwrap();
            let r = &reports[0];
            assert_ne!(r.format, Some(DetectedFormat::Requirements), "{f}");
            assert!(
                !r.findings.iter().any(|x| x.code.starts_with("AIL-PKG")),
                "{f}: {:?}",
                r.findings
            );
        }
        let prose = std::fs::read_to_string(dir().join("prose.txt")).unwrap();
        assert!(!looks_like_requirements(&prose));
        assert!(!looks_like_requirements(""));
        assert!(!looks_like_requirements("# only a comment\n"));
    }

    #[test]
    fn directory_walk_keeps_the_name_rule() {
        let reports = inspect_path(&dir(), &crate::opts()).unwrap();
        let get = |name: &str| {
            reports
                .iter()
                .find(|r| r.path.ends_with(name))
                .unwrap_or_else(|| panic!("{name} not in {reports:?}"))
        };
        let deps = get("deps.txt");
        assert_eq!(deps.format, None, "{deps:?}");
        assert!(deps.findings.is_empty(), "{:?}", deps.findings);
        let dev = get("requirements-dev.txt");
        assert_eq!(dev.format, Some(DetectedFormat::Requirements));
        assert!(dev.findings.iter().any(|f| f.code == "AIL-PKG-002"));
    }

    #[test]
    fn content_rule_shapes() {
        for yes in [
            "requests==2.32.3\n",
            "-r other.txt\n",
            "# c\nflask>=2,<3 ; python_version < \"3.13\"\n",
            "numpy==1.26.4 --hash=sha256:abcd\n",
            "pkg @ https://example.invalid/pkg-1.0.tar.gz\n",
            "cython==3.0.10\nsix\n",
        ] {
            assert!(looks_like_requirements(yes), "{yes:?}");
        }
        for no in [
            "numpy\npandas\n",
            "Hello world\n",
            "name: value\n",
            "pip install requests==2\n",
            "--not-an-option x\n",
            "a==\n",
        ] {
            assert!(!looks_like_requirements(no), "{no:?}");
        }
    }
}
