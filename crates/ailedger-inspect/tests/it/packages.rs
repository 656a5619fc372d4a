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
