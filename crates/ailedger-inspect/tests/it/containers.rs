//! Archives built in the test: PyTorch zips (stored/deflated, odd flags, any top-level
//! folder), the old tar layout, and member limits.

use ailedger_inspect::{DetectedFormat, Severity, inspect_bytes};
use std::io::Write;

pub struct Member<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub deflate: bool,
    pub flags: u16,
}

fn crc(d: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(d);
    c.sum()
}

/// Writes a zip archive by hand (so tests control flags and methods).
pub fn zip(members: &[Member<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for m in members {
        let body = if m.deflate {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(m.data).unwrap();
            e.finish().unwrap()
        } else {
            m.data.to_vec()
        };
        let method: u16 = if m.deflate { 8 } else { 0 };
        let off = out.len() as u32;
        let mut h = Vec::new();
        h.extend_from_slice(b"PK\x03\x04");
        h.extend_from_slice(&20u16.to_le_bytes());
        h.extend_from_slice(&m.flags.to_le_bytes());
        h.extend_from_slice(&method.to_le_bytes());
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&crc(m.data).to_le_bytes());
        h.extend_from_slice(&(body.len() as u32).to_le_bytes());
        h.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(m.name.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(&body);
        let mut c = Vec::new();
        c.extend_from_slice(b"PK\x01\x02");
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&m.flags.to_le_bytes());
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&[0; 4]);
        c.extend_from_slice(&crc(m.data).to_le_bytes());
        c.extend_from_slice(&(body.len() as u32).to_le_bytes());
        c.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
        c.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 12]);
        c.extend_from_slice(&off.to_le_bytes());
        c.extend_from_slice(m.name.as_bytes());
        central.extend_from_slice(&c);
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

pub const EVIL: &[u8] = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.";
const BENIGN: &[u8] = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.";

#[test]
fn torch_zip_variants() {
    let cases: Vec<(&str, Vec<u8>, Severity, DetectedFormat)> = vec![
        (
            "deflated evil, odd folder",
            zip(&[Member {
                name: "weird_name/data.pkl",
                data: EVIL,
                deflate: true,
                flags: 0,
            }]),
            Severity::Critical,
            DetectedFormat::PytorchZip,
        ),
        (
            "odd flag bits",
            zip(&[Member {
                name: "a/data.pkl",
                data: EVIL,
                deflate: false,
                flags: 0x0808 | 0x40,
            }]),
            Severity::Critical,
            DetectedFormat::PytorchZip,
        ),
        (
            "evil in a second pickle member",
            zip(&[
                Member {
                    name: "a/data.pkl",
                    data: BENIGN,
                    deflate: false,
                    flags: 0,
                },
                Member {
                    name: "a/extra/hook.pkl",
                    data: EVIL,
                    deflate: true,
                    flags: 0,
                },
            ]),
            Severity::Critical,
            DetectedFormat::PytorchZip,
        ),
        (
            "unnamed pickle member found by content",
            zip(&[
                Member {
                    name: "a/data.pkl",
                    data: BENIGN,
                    deflate: false,
                    flags: 0,
                },
                Member {
                    name: "a/notes.txt",
                    data: EVIL,
                    deflate: false,
                    flags: 0,
                },
            ]),
            Severity::Critical,
            DetectedFormat::PytorchZip,
        ),
        (
            "storage members are raw data, not scanned",
            zip(&[
                Member {
                    name: "a/data.pkl",
                    data: BENIGN,
                    deflate: false,
                    flags: 0,
                },
                Member {
                    name: "a/data/0",
                    data: EVIL,
                    deflate: false,
                    flags: 0,
                },
            ]),
            Severity::Info,
            DetectedFormat::PytorchZip,
        ),
    ];
    for (what, bytes, want, fmt) in cases {
        let r = inspect_bytes("m.pt", &bytes, &crate::opts());
        assert_eq!(
            r.max_severity().unwrap_or(Severity::Info),
            want,
            "{what}: {:#?}",
            r.findings
        );
        assert_eq!(r.format, Some(fmt), "{what}");
    }
}

#[test]
fn member_and_size_limits() {
    let bytes = zip(&[
        Member {
            name: "a/data.pkl",
            data: BENIGN,
            deflate: false,
            flags: 0,
        },
        Member {
            name: "a/b.pkl",
            data: BENIGN,
            deflate: false,
            flags: 0,
        },
        Member {
            name: "a/c.pkl",
            data: EVIL,
            deflate: false,
            flags: 0,
        },
    ]);
    let mut opts = crate::opts();
    opts.limits.max_members = 2;
    let r = inspect_bytes("m.pt", &bytes, &opts);
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-PKL-006"),
        "{:#?}",
        r.findings
    );
    assert!(r.max_severity() >= Some(Severity::High));

    let big = vec![b'N'; 10_000];
    let bytes = zip(&[Member {
        name: "a/data.pkl",
        data: &big,
        deflate: true,
        flags: 0,
    }]);
    let mut opts = crate::opts();
    opts.limits.max_member_bytes = 1000;
    let r = inspect_bytes("m.pt", &bytes, &opts);
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-PKL-006"),
        "{:#?}",
        r.findings
    );
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let size = format!("{:011o}\0", data.len());
        h[124..136].copy_from_slice(size.as_bytes());
        h[156] = b'0';
        h[257..262].copy_from_slice(b"ustar");
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn legacy_tar_layout() {
    let mut storages = BENIGN.to_vec();
    storages.extend_from_slice(&[0xff; 64]);
    let bytes = tar(&[
        ("sys_info", BENIGN),
        ("pickle", EVIL),
        ("storages", &storages),
    ]);
    let r = inspect_bytes("old.pt", &bytes, &crate::opts());
    assert_eq!(r.format, Some(DetectedFormat::PytorchTar));
    assert_eq!(
        r.max_severity(),
        Some(Severity::Critical),
        "{:#?}",
        r.findings
    );
    let bytes = tar(&[
        ("sys_info", BENIGN),
        ("pickle", BENIGN),
        ("storages", &storages),
    ]);
    let r = inspect_bytes("old.pt", &bytes, &crate::opts());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn corrupt_archives_are_findings_not_panics() {
    let good = zip(&[Member {
        name: "a/data.pkl",
        data: EVIL,
        deflate: true,
        flags: 0,
    }]);
    for cut in [10, 40, good.len() - 30, good.len() - 5] {
        let r = inspect_bytes("m.pt", &good[..cut], &crate::opts());
        assert!(r.error.is_none() || r.findings.is_empty());
    }
}

fn joblib_object_array(nested: &[u8]) -> Vec<u8> {
    let mut v = b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(X\x05\x00\x00\x00shapeK\x02\x85X\x05\x00\x00\x00dtypecnumpy\ndtype\nX\x01\x00\x00\x00O\x89\x88\x87Rub".to_vec();
    v.extend_from_slice(nested);
    v.push(b'.');
    v
}

#[test]
fn joblib_object_arrays_are_nested_pickles() {
    let r = inspect_bytes("m.joblib", &joblib_object_array(EVIL), &crate::opts());
    assert_eq!(
        r.max_severity(),
        Some(Severity::Critical),
        "{:#?}",
        r.findings
    );
    let r = inspect_bytes(
        "m.joblib",
        &joblib_object_array(b"\x80\x02]q\x00."),
        &crate::opts(),
    );
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.format, Some(DetectedFormat::Joblib));
}

#[test]
fn npz_object_member_is_scanned() {
    let npy = std::fs::read(crate::fixtures("pickles/mal_numpy_object.npy")).unwrap();
    let bytes = zip(&[Member {
        name: "arr_0.npy",
        data: &npy,
        deflate: true,
        flags: 0,
    }]);
    let r = inspect_bytes("x.npz", &bytes, &crate::opts());
    let codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(
        codes.contains(&"AIL-PKL-014") && codes.contains(&"AIL-PKL-001"),
        "{codes:?}"
    );
}

/// Regression: a fuzz-found 7z header (more names than files) made sevenz-rust2 0.20
/// index out of bounds. It must be a finding, not a panic.
#[test]
fn fuzz_regressions() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"));
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for p in entries {
        let bytes = std::fs::read(&p).unwrap();
        let r = inspect_bytes(&p.display().to_string(), &bytes, &crate::opts());
        assert!(
            r.findings.iter().any(|f| f.code == "AIL-PKL-013"),
            "{}: {:#?}",
            p.display(),
            r.findings
        );
        ailedger_inspect::fuzz_zip(&bytes);
        ailedger_inspect::fuzz_any(&bytes);
    }
}

#[test]
fn archives_inside_archives() {
    let inner = zip(&[Member {
        name: "m/data.pkl",
        data: EVIL,
        deflate: true,
        flags: 0,
    }]);
    let outer = zip(&[Member {
        name: "models/model.pt",
        data: &inner,
        deflate: true,
        flags: 0,
    }]);
    let r = inspect_bytes("bundle.zip", &outer, &crate::opts());
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "AIL-PKL-001")
        .expect("nested payload found");
    assert_eq!(
        f.location.member.as_deref(),
        Some("models/model.pt!m/data.pkl")
    );
    // Too deep: reported, not opened.
    let deeper = zip(&[Member {
        name: "a.zip",
        data: &outer,
        deflate: false,
        flags: 0,
    }]);
    let deepest = zip(&[Member {
        name: "b.zip",
        data: &deeper,
        deflate: false,
        flags: 0,
    }]);
    let r = inspect_bytes("x.zip", &deepest, &crate::opts());
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-PKL-006"),
        "{:#?}",
        r.findings
    );
    assert!(r.max_severity() >= Some(Severity::High));
}
