//! Runs every fuzz body over every fixture plus deterministic mutations, so the fuzz
//! targets' code paths are exercised on stable in every test run.

use ailedger_inspect::{
    fuzz_any, fuzz_gguf, fuzz_keras, fuzz_mcp, fuzz_onnx, fuzz_pickle, fuzz_safetensors,
    fuzz_seven_zip, fuzz_zip,
};

fn files() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for sub in ["pickles", "formats", "formats/onnx_case", "mcp"] {
        let mut entries: Vec<_> = std::fs::read_dir(crate::fixtures(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries.into_iter().filter(|p| p.is_file()) {
            let b = std::fs::read(&p).unwrap();
            if b.len() <= 64 * 1024 {
                out.push(b);
            }
        }
    }
    // The 7z regression input (the pickles hold a 7z-compressed PyTorch file too).
    out.push(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/fuzz-7z-names-oob.7z"
        ))
        .unwrap(),
    );
    out.push(crate::containers::zip(&[crate::containers::Member {
        name: "a/data.pkl",
        data: crate::containers::EVIL,
        deflate: true,
        flags: 0,
    }]));
    out
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn fuzz_bodies_survive_fixtures_and_mutations() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all: [fn(&[u8]); 9] = [
        fuzz_pickle,
        fuzz_safetensors,
        fuzz_gguf,
        fuzz_zip,
        fuzz_onnx,
        fuzz_mcp,
        fuzz_any,
        fuzz_keras,
        fuzz_seven_zip,
    ];
    let mut runs = 0;
    for f in files() {
        for body in all {
            body(&f);
        }
        for _ in 0..12 {
            let mut m = f.clone();
            match rng.next() % 4 {
                0 if !m.is_empty() => {
                    let n = (rng.next() as usize) % m.len();
                    m.truncate(n);
                }
                1 if !m.is_empty() => {
                    for _ in 0..4 {
                        let i = (rng.next() as usize) % m.len();
                        m[i] ^= 1 << (rng.next() % 8);
                    }
                }
                2 if !m.is_empty() => {
                    let i = (rng.next() as usize) % m.len();
                    m[i] = [0x00, 0xff, 0x7f, 0x80][(rng.next() % 4) as usize];
                }
                _ => {
                    let i = if m.is_empty() {
                        0
                    } else {
                        (rng.next() as usize) % m.len()
                    };
                    m.splice(i..i, (0..8).map(|_| rng.next() as u8));
                }
            }
            for body in all {
                body(&m);
            }
            runs += 1;
        }
    }
    assert!(runs > 500, "{runs}");
}
