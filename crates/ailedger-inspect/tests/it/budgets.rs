//! The archive budgets of one inspected file (decompressed bytes, wall-clock time) and the
//! 7z decoder's memory limit, over archives built in the test: a zip bomb of overlapping
//! entries, a solid 7z of many members, a 7z whose header declares a 4 GiB dictionary
//! (the 7z archives are written by hand, with plain headers and uncompressed LZMA2
//! chunks, so that every field is the test's).
//! Each test asserts the finding and that the work stayed within the budget it names.

use crate::containers::{EVIL, Member, zip};
use ailedger_inspect::{Finding, Options, Severity, inspect_bytes};
use std::io::Write;
use std::time::Duration;

/// The budget finding of a report, if any.
fn budget_finding<'a>(findings: &'a [Finding], which: &str) -> Option<&'a Finding> {
    findings
        .iter()
        .find(|f| f.code == "AIL-PKL-006" && f.evidence.starts_with(&format!("budget={which} ")))
}

/// `key=<number>` out of an evidence string.
fn field(evidence: &str, key: &str) -> u64 {
    evidence
        .split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {evidence}"))
        .parse()
        .unwrap()
}

/// A valid pickle of `n` bytes: one BINBYTES of zeros, then STOP.
fn zeros_pickle(n: usize) -> Vec<u8> {
    let mut p = vec![0x80, 0x04, b'B'];
    p.extend_from_slice(&((n - 8) as u32).to_le_bytes());
    p.resize(n - 1, 0);
    p.push(b'.');
    p
}

fn deflate(d: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(d).unwrap();
    e.finish().unwrap()
}

/// A zip whose central directory lists `entries` members, all pointing at one deflated
/// member of `member_len` decompressed bytes: each entry costs a full member of work.
fn overlapping_zip(entries: usize, member_len: usize) -> Vec<u8> {
    let data = zeros_pickle(member_len);
    let body = deflate(&data);
    let mut c = flate2::Crc::new();
    c.update(&data);
    let crc = c.sum();
    let name = b"m/0.pkl";
    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00");
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&body);
    let cd_off = out.len() as u32;
    let mut cd = Vec::new();
    for i in 0..entries {
        let name = format!("m/{i}.pkl");
        cd.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00");
        cd.extend_from_slice(&crc.to_le_bytes());
        cd.extend_from_slice(&(body.len() as u32).to_le_bytes());
        cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
        cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
        cd.extend_from_slice(&[0; 12]);
        cd.extend_from_slice(&0u32.to_le_bytes());
        cd.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&(entries as u16).to_le_bytes());
    out.extend_from_slice(&(entries as u16).to_le_bytes());
    out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn opts(f: impl FnOnce(&mut ailedger_inspect::Limits)) -> Options {
    let mut o = crate::opts();
    f(&mut o.limits);
    o
}

#[test]
fn overlapping_entries_zip_bomb_stops_at_the_byte_budget() {
    // 2,000 entries × 1 MiB from about 100 KiB of file: 2 GiB of inflating without a
    // total budget.
    let bomb = overlapping_zip(2000, 1 << 20);
    assert!(bomb.len() < 128 << 10, "{} bytes", bomb.len());
    let budget = 16 << 20;
    let r = inspect_bytes("bomb.zip", &bomb, &opts(|l| l.max_archive_bytes = budget));
    assert!(r.error.is_none(), "{:?}", r.error);
    let f = budget_finding(&r.findings, "bytes").unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.location.member, None);
    let used = field(&f.evidence, "decompressed");
    assert!(used <= budget, "{used} > {budget}");
    assert_eq!(field(&f.evidence, "limit"), budget);
    assert!(f.message.contains("budget"), "{}", f.message);
    // The budget is what stopped it: a larger one reads more of the same archive.
    let r = inspect_bytes("bomb.zip", &bomb, &opts(|l| l.max_archive_bytes = 64 << 20));
    let f = budget_finding(&r.findings, "bytes").unwrap();
    let more = field(&f.evidence, "decompressed");
    assert!(more > used && more <= 64 << 20, "{more}");
}

#[test]
fn the_byte_budget_is_shared_with_archives_inside_archives() {
    let inner = overlapping_zip(200, 1 << 20);
    let outer = zip(&[Member {
        name: "models/inner.zip",
        data: &inner,
        deflate: true,
        flags: 0,
    }]);
    let budget = 8 << 20;
    let r = inspect_bytes(
        "bundle.zip",
        &outer,
        &opts(|l| l.max_archive_bytes = budget),
    );
    let found: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.evidence.starts_with("budget="))
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", r.findings);
    assert_eq!(
        found[0].location.member.as_deref(),
        Some("models/inner.zip")
    );
    assert!(field(&found[0].evidence, "decompressed") <= budget);
}

#[test]
fn many_member_7z_is_decoded_member_by_member_within_the_budget() {
    // 48 members of 256 KiB (12 MiB decoded), the payload last.
    let mut members: Vec<(String, Vec<u8>)> = (0..47)
        .map(|i| (format!("m/{i:02}.pkl"), zeros_pickle(256 << 10)))
        .collect();
    members.push(("m/zz.pkl".into(), EVIL.to_vec()));
    let members: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let archive = lzma2_7z(&members, 24);
    let member_cap = 64 << 10;
    let budget = 1 << 20;
    let r = inspect_bytes(
        "many.7z",
        &archive,
        &opts(|l| {
            l.max_member_bytes = member_cap;
            l.max_archive_bytes = budget;
        }),
    );
    assert!(r.error.is_none(), "{:?}", r.error);
    let f = budget_finding(&r.findings, "bytes").unwrap_or_else(|| panic!("{:#?}", r.findings));
    let used = field(&f.evidence, "decompressed");
    assert!(used <= budget, "{used} > {budget}");
    // Skipped bytes count: each member costs its 256 KiB, of which 64 KiB are scanned.
    let cut: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == "AIL-PKL-006" && f.evidence.starts_with("size="))
        .collect();
    assert!(!cut.is_empty() && cut.len() <= 4, "{cut:#?}");
    assert!(!r.findings.iter().any(|f| f.code == "AIL-PKL-001"));
    assert!(r.findings.iter().any(|f| f.code == "AIL-PKL-012"));

    // With the default budget the same archive is read to the end and the payload found.
    let r = inspect_bytes(
        "many.7z",
        &archive,
        &opts(|l| l.max_member_bytes = member_cap),
    );
    assert!(
        budget_finding(&r.findings, "bytes").is_none(),
        "{:#?}",
        r.findings
    );
    let cut = r
        .findings
        .iter()
        .filter(|f| f.code == "AIL-PKL-006" && f.evidence.starts_with("size="))
        .count();
    assert_eq!(cut, 47);
    let evil = r.findings.iter().find(|f| f.code == "AIL-PKL-001").unwrap();
    assert_eq!(evil.location.member.as_deref(), Some("m/zz.pkl"));
}

/// A 7z number (`UINT64` of the format: leading one bits say how many bytes follow).
fn number(out: &mut Vec<u8>, v: u64) {
    for n in 0..8u32 {
        if v < 1 << (7 * (n + 1)) {
            let high = (v >> (8 * n)) as u8;
            let ones = if n == 0 { 0 } else { 0xffu8 << (8 - n) };
            out.push(ones | high);
            out.extend_from_slice(&v.to_le_bytes()[..n as usize]);
            return;
        }
    }
    out.push(0xff);
    out.extend_from_slice(&v.to_le_bytes());
}

/// A 7z written by hand with a plain (not encoded) header: `members` in one solid LZMA2
/// block of uncompressed chunks, and LZMA2 dictionary property `dict` (16 means 1 MiB,
/// 24 means 16 MiB, 40 means 4 GiB − 1).
fn lzma2_7z(members: &[(&str, &[u8])], dict: u8) -> Vec<u8> {
    let data: Vec<u8> = members
        .iter()
        .flat_map(|(_, d)| d.iter().copied())
        .collect();
    assert!(!data.is_empty());
    let mut packed = Vec::new();
    for (i, chunk) in data.chunks(1 << 16).enumerate() {
        // 1: uncompressed chunk with a dictionary reset, 2: without.
        packed.push(if i == 0 { 0x01 } else { 0x02 });
        packed.extend_from_slice(&((chunk.len() - 1) as u16).to_be_bytes());
        packed.extend_from_slice(chunk);
    }
    packed.push(0x00);
    let mut h = vec![0x01, 0x04, 0x06];
    number(&mut h, 0);
    number(&mut h, 1);
    h.push(0x09);
    number(&mut h, packed.len() as u64);
    h.extend_from_slice(&[0x00, 0x07, 0x0b]);
    number(&mut h, 1);
    h.push(0x00);
    number(&mut h, 1);
    h.extend_from_slice(&[0x21, 0x21, 0x01, dict, 0x0c]);
    number(&mut h, data.len() as u64);
    // End of the unpack info; the sub-streams: one per member.
    h.extend_from_slice(&[0x00, 0x08]);
    if members.len() > 1 {
        h.push(0x0d);
        number(&mut h, members.len() as u64);
        h.push(0x09);
        for (_, d) in &members[..members.len() - 1] {
            number(&mut h, d.len() as u64);
        }
    }
    // End of the sub-streams, of the streams info; the files.
    h.extend_from_slice(&[0x00, 0x00, 0x05]);
    number(&mut h, members.len() as u64);
    let mut names = Vec::new();
    for (name, _) in members {
        names.extend(name.encode_utf16().flat_map(u16::to_le_bytes));
        names.extend_from_slice(&[0, 0]);
    }
    h.push(0x11);
    number(&mut h, names.len() as u64 + 1);
    h.push(0x00);
    h.extend_from_slice(&names);
    h.extend_from_slice(&[0x00, 0x00]);
    let crc = |d: &[u8]| {
        let mut c = flate2::Crc::new();
        c.update(d);
        c.sum()
    };
    let mut start = Vec::new();
    start.extend_from_slice(&(packed.len() as u64).to_le_bytes());
    start.extend_from_slice(&(h.len() as u64).to_le_bytes());
    start.extend_from_slice(&crc(&h).to_le_bytes());
    let mut out = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
    out.extend_from_slice(&crc(&start).to_le_bytes());
    out.extend_from_slice(&start);
    out.extend_from_slice(&packed);
    out.extend_from_slice(&h);
    out
}

#[test]
fn a_7z_asking_for_a_huge_dictionary_is_refused_with_a_finding() {
    // The same hand-built archive with a 1 MiB dictionary decodes: the payload is found.
    let small = lzma2_7z(&[("archive/data.pkl", EVIL)], 16);
    let r = inspect_bytes("small.7z", &small, &crate::opts());
    assert!(
        r.findings.iter().any(|f| f.code == "AIL-PKL-001"),
        "{:#?}",
        r.findings
    );
    assert!(budget_finding(&r.findings, "memory").is_none());

    let huge = lzma2_7z(&[("archive/data.pkl", EVIL)], 40);
    let r = inspect_bytes("huge.7z", &huge, &crate::opts());
    assert!(r.error.is_none(), "{:?}", r.error);
    let f = budget_finding(&r.findings, "memory").unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(field(&f.evidence, "limit"), 1 << 30);
    assert!(
        field(&f.evidence, "needed_kib") >= 4 << 20,
        "{}",
        f.evidence
    );
    assert!(f.message.contains("memory limit"), "{}", f.message);
    assert!(!r.findings.iter().any(|f| f.code == "AIL-PKL-001"));

    // The limit is the option's: a 1 MiB dictionary is refused under 512 KiB.
    let r = inspect_bytes("small.7z", &small, &opts(|l| l.max_7z_memory = 512 << 10));
    assert!(
        budget_finding(&r.findings, "memory").is_some(),
        "{:#?}",
        r.findings
    );
}

#[test]
fn a_zero_time_budget_stops_zip_and_7z_with_a_finding() {
    let zero = opts(|l| l.archive_timeout = Duration::ZERO);
    let z = zip(&[Member {
        name: "a/data.pkl",
        data: EVIL,
        deflate: true,
        flags: 0,
    }]);
    let sz = lzma2_7z(&[("a/data.pkl", EVIL)], 16);
    for (name, bytes) in [("t.pt", &z), ("t.7z", &sz)] {
        // Found with the default time budget ...
        let r = inspect_bytes(name, bytes, &crate::opts());
        assert!(r.findings.iter().any(|f| f.code == "AIL-PKL-001"), "{name}");
        // ... and with none, the scan stops and says so: never silent, never clean.
        let r = inspect_bytes(name, bytes, &zero);
        assert!(r.error.is_none(), "{name}: {:?}", r.error);
        let f = budget_finding(&r.findings, "time")
            .unwrap_or_else(|| panic!("{name}: {:#?}", r.findings));
        assert_eq!(field(&f.evidence, "decompressed"), 0, "{name}");
        assert_eq!(field(&f.evidence, "timeout_ms"), 0, "{name}");
        assert!(
            !r.findings.iter().any(|f| f.code == "AIL-PKL-001"),
            "{name}"
        );
        assert!(r.max_severity() >= Some(Severity::High), "{name}");
    }
}
