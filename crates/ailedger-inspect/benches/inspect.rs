//! Speed targets of ailedger-inspect (see docs/benchmarks-inspect.md):
//! the labelled pickle corpus, a 10 GB (sparse) safetensors file validated from its
//! header, and a 1 GB PyTorch zip checkpoint whose storages are never decompressed.
//! Generated inputs live in target/inspect-bench and are not committed.

use ailedger_inspect::{Options, inspect_path};
use criterion::{Criterion, criterion_group, criterion_main};
use std::io::Write;
use std::path::{Path, PathBuf};

fn bench_dir() -> PathBuf {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/inspect-bench"
    ));
    std::fs::create_dir_all(&d).expect("create bench dir");
    d
}

fn fixtures(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures")).join(sub)
}

/// A 10 GiB safetensors file: a real header, then a hole (sparse file).
fn sparse_safetensors(dir: &Path) -> PathBuf {
    let path = dir.join("sparse-10g.safetensors");
    let size: u64 = 10 << 30;
    let header = format!(
        r#"{{"__metadata__":{{"format":"pt"}},"w":{{"dtype":"F32","shape":[{}],"data_offsets":[0,{size}]}}}}"#,
        size / 4
    );
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    std::fs::write(&path, &bytes).expect("write header");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len(8 + header.len() as u64 + size).expect("set_len");
    path
}

fn crc(d: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(d);
    c.sum()
}

/// A 1 GiB PyTorch zip: archive/data.pkl plus eight 128 MiB stored storages of real
/// (non-zero) bytes. Written once and reused.
fn torch_zip(dir: &Path) -> PathBuf {
    let path = dir.join("torch-1g.pt");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > (1 << 30)) {
        return path;
    }
    let pkl = std::fs::read(fixtures("pickles/ben_torch_state_dict_p2.pkl")).expect("fixture");
    let storage: Vec<u8> = (0..128u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let storage_crc = crc(&storage);
    let mut members: Vec<(String, &[u8], u32)> = vec![("archive/data.pkl".into(), &pkl, crc(&pkl))];
    for i in 0..8 {
        members.push((format!("archive/data/{i}"), &storage, storage_crc));
    }
    members.push(("archive/version".into(), b"3\n", crc(b"3\n")));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let mut off: u32 = 0;
    let mut central = Vec::new();
    for (name, data, c) in &members {
        let mut h = Vec::new();
        h.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        h.extend_from_slice(&c.to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        f.write_all(&h).expect("write");
        f.write_all(data).expect("write");
        let mut cd = Vec::new();
        cd.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        cd.extend_from_slice(&c.to_le_bytes());
        cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
        cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
        cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
        cd.extend_from_slice(&[0; 12]);
        cd.extend_from_slice(&off.to_le_bytes());
        cd.extend_from_slice(name.as_bytes());
        central.extend_from_slice(&cd);
        off += (h.len() + data.len()) as u32;
    }
    f.write_all(&central).expect("write");
    let mut e = Vec::new();
    e.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    e.extend_from_slice(&(members.len() as u16).to_le_bytes());
    e.extend_from_slice(&(members.len() as u16).to_le_bytes());
    e.extend_from_slice(&(central.len() as u32).to_le_bytes());
    e.extend_from_slice(&off.to_le_bytes());
    e.extend_from_slice(&0u16.to_le_bytes());
    f.write_all(&e).expect("write");
    f.flush().expect("flush");
    path
}

fn benches(c: &mut Criterion) {
    let opts = Options::default();
    let dir = bench_dir();
    let corpus = fixtures("pickles");
    let st = sparse_safetensors(&dir);
    let pt = torch_zip(&dir);
    // Sanity: the generated files are clean and recognised.
    for p in [&st, &pt] {
        let r = inspect_path(p, &opts).expect("inspect");
        assert!(r[0].format.is_some() && r[0].error.is_none(), "{r:?}");
        assert!(r[0].findings.is_empty(), "{r:?}");
    }
    let mut g = c.benchmark_group("inspect");
    g.sample_size(20);
    g.bench_function("pickle_corpus_39_files", |b| {
        b.iter(|| inspect_path(&corpus, &opts).expect("scan"))
    });
    g.bench_function("safetensors_10GiB_sparse", |b| {
        b.iter(|| inspect_path(&st, &opts).expect("scan"))
    });
    g.bench_function("torch_zip_1GiB", |b| {
        b.iter(|| inspect_path(&pt, &opts).expect("scan"))
    });
    g.finish();
}

criterion_group!(inspect, benches);
criterion_main!(inspect);
