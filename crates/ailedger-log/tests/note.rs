//! Signed notes, keys and checkpoints.
//!
//! Interop vectors: the PeterNeumann and EnochRoot keys, note text and signatures
//! published with Go's golang.org/x/mod/sumdb/note (package documentation and
//! note_test.go). Ed25519 is deterministic, so signing the same text with the same
//! private key must reproduce the published note byte for byte.

#![allow(clippy::unwrap_used)] // tests may unwrap

use ailedger_log::note::{MAX_SIGNATURES, NoteError, key_id, open_note, sign_note};
use ailedger_log::{Checkpoint, Signer, Verifier, fuzz_note};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> Verifier {
    Verifier::from_text(PETER_VKEY).unwrap()
}

fn splice(s: &str, at: usize, insert: &str) -> String {
    format!("{}{}{}", &s[..at], insert, &s[at..])
}

#[test]
fn go_keys_parse_and_round_trip() {
    let v = peter();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f20a3);
    assert_eq!(key_id("PeterNeumann", &v.public_key()), 0xc74f20a3);
    assert_eq!(v.to_text(), PETER_VKEY);
    let s = Signer::from_text(PETER_SKEY).unwrap();
    assert_eq!(s.to_text(), PETER_SKEY);
    assert_eq!(s.verifier(), v);
    assert_eq!(
        Verifier::from_text(ENOCH_VKEY).unwrap().key_id(),
        0xaf0cfe78
    );
    // Debug never shows the private key.
    assert!(!format!("{s:?}").contains("AYEKFALV"));
}

#[test]
fn go_note_is_reproduced_byte_for_byte() {
    let s = Signer::from_text(PETER_SKEY).unwrap();
    let note = sign_note(TEXT, &[&s]).unwrap();
    assert_eq!(note, format!("{TEXT}\n{PETER_SIG}"));
    assert_eq!(open_note(&note, &peter()).unwrap(), TEXT);
}

#[test]
fn go_open_cases() {
    let enoch = Verifier::from_text(ENOCH_VKEY).unwrap();
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(open_note(&both, &peter()).unwrap(), TEXT);
    assert_eq!(open_note(&both, &enoch).unwrap(), TEXT);

    // Signed, but not by the key asked for.
    let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
    assert_eq!(
        open_note(&only_enoch, &peter()),
        Err(NoteError::NotSignedBy("PeterNeumann".into()))
    );

    // A bad signature from the known key rejects the note.
    let bad = format!("{TEXT}\n{}", splice(PETER_SIG, 60, "ABCD"));
    assert_eq!(
        open_note(&bad, &peter()),
        Err(NoteError::BadSignature("PeterNeumann".into()))
    );

    // Duplicated known signatures and corrupt unknown ones are fine.
    let dup = format!(
        "{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{}",
        splice(ENOCH_SIG, 60, "ABCD")
    );
    assert_eq!(open_note(&dup, &peter()).unwrap(), TEXT);

    // Too many signatures.
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert!(open_note(&many, &peter()).is_err());

    // Malformed messages (Go's table, plus a few).
    let bad_msgs = [
        TEXT.to_string(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{TEXT}\n{}", PETER_SIG.replace("AM=", "AM")),
        format!("{TEXT}\n{}", PETER_SIG.replace(' ', "  ")),
        format!("{TEXT}\n\u{2014} PeterNeumann AAAA\n"),
        format!("{TEXT}\r\n{PETER_SIG}"),
        String::new(),
        "\n\n".into(),
    ];
    for msg in &bad_msgs {
        assert!(open_note(msg, &peter()).is_err(), "accepted {msg:?}");
    }
    // A tampered text fails.
    let tampered = format!(
        "{}\n{PETER_SIG}",
        TEXT.replace("cryptography", "cryptographY")
    );
    assert!(open_note(&tampered, &peter()).is_err());
}

#[test]
fn mangled_keys_are_refused() {
    for key in [PETER_VKEY, PETER_SKEY] {
        let parse = |k: &str| {
            if key == PETER_VKEY {
                Verifier::from_text(k).is_ok()
            } else {
                Signer::from_text(k).is_ok()
            }
        };
        assert!(parse(key));
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    let sub = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(!parse(sub), "accepted substring {sub:?}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            let m = String::from_utf8(m).unwrap();
            assert!(!parse(&m), "accepted mangled {m:?}");
        }
    }
    // Uppercase hex ids, wrong algorithm byte, wrong length, small-order key.
    assert!(Verifier::from_text(&PETER_VKEY.replace("c74f20a3", "C74F20A3")).is_err());
    assert!(
        Verifier::from_text(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    assert!(
        Verifier::from_text("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .is_err()
    );
    // The identity point (a small-order key) with a correct key id.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut material = vec![1u8];
    material.extend_from_slice(&identity);
    use base64::Engine as _;
    let text = format!(
        "weak+{:08x}+{}",
        key_id("weak", &identity),
        base64::engine::general_purpose::STANDARD.encode(&material)
    );
    assert_eq!(
        Verifier::from_text(&text),
        Err(NoteError::VerifierKey("small-order public key"))
    );
    assert!(Signer::generate("has space").is_err());
    assert!(Signer::generate("a+b").is_err());
    assert!(Signer::generate("").is_err());
}

#[test]
fn generated_keys_round_trip() {
    let s = Signer::generate("ledger.example/prod").unwrap();
    let s2 = Signer::from_text(&s.to_text()).unwrap();
    assert_eq!(s.verifier(), s2.verifier());
    let v = Verifier::from_text(&s.verifier().to_text()).unwrap();
    assert_eq!(v, s.verifier());
    assert_ne!(
        Signer::generate("ledger.example/prod").unwrap().verifier(),
        v
    );
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "ledger.example/prod".into(),
        size: 1234,
        root: [0xab; 32],
    }
}

#[test]
fn checkpoints_sign_and_open() {
    let s = Signer::from_seed("ledger.example/prod", [1; 32]).unwrap();
    let cp = checkpoint();
    let note = cp.sign(&s).unwrap();
    assert!(note.starts_with(
        "ledger.example/prod\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n\u{2014} ledger.example/prod "
    ));
    assert_eq!(Checkpoint::open(&note, &s.verifier()).unwrap(), cp);

    // Another key's signature appended is ignored; a note only signed by others fails.
    let other = Signer::from_seed("witness.example", [2; 32]).unwrap();
    let cosigned = format!(
        "{note}{}",
        sign_note(&cp.body(), &[&other])
            .unwrap()
            .split_at(cp.body().len() + 1)
            .1
    );
    assert_eq!(Checkpoint::open(&cosigned, &s.verifier()).unwrap(), cp);
    assert_eq!(Checkpoint::open(&cosigned, &other.verifier()).unwrap(), cp);
    let by_other = cp.sign(&other).unwrap();
    assert!(matches!(
        Checkpoint::open(&by_other, &s.verifier()),
        Err(NoteError::NotSignedBy(_))
    ));

    // Same name, different key: the key id differs, so the signature is ignored.
    let imposter = Signer::from_seed("ledger.example/prod", [3; 32]).unwrap();
    assert!(Checkpoint::open(&cp.sign(&imposter).unwrap(), &s.verifier()).is_err());

    // Empty tree.
    let empty = Checkpoint {
        size: 0,
        root: ailedger_log::merkle::EMPTY_ROOT,
        ..cp.clone()
    };
    assert_eq!(
        Checkpoint::open(&empty.sign(&s).unwrap(), &s.verifier()).unwrap(),
        empty
    );

    // Unsignable origins.
    for origin in ["", "two\nlines", "tab\there"] {
        assert!(
            Checkpoint {
                origin: origin.into(),
                ..cp.clone()
            }
            .sign(&s)
            .is_err()
        );
    }
}

#[test]
fn checkpoint_bodies_are_parsed_strictly() {
    let s = Signer::from_seed("ledger.example/prod", [1; 32]).unwrap();
    let root = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
    let bad_bodies = [
        format!("o\n1234\n{root}"),                   // no final newline
        format!("o\n01234\n{root}\n"),                // leading zero
        format!("o\n+1234\n{root}\n"),                // sign
        format!("o\n-1\n{root}\n"),                   // negative
        format!("o\n12 34\n{root}\n"),                // space
        format!("o\n18446744073709551616\n{root}\n"), // u64 overflow
        format!("o\n0x10\n{root}\n"),                 // hex
        "o\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urqw==\n".to_string(), // 31 bytes
        "o\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s\n".to_string(), // no padding
        "o\n1234\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=\n".to_string(), // non-canonical
        format!("o\n1234\n{root}\nextension\n"),      // extension line
        format!("\n1234\n{root}\n"),                  // empty origin
        "o\n1234\n".to_string(),
    ];
    for body in &bad_bodies {
        assert!(Checkpoint::parse_body(body).is_err(), "parsed {body:?}");
        if body.ends_with('\n') {
            // Even correctly signed, a bad body is refused.
            let note = sign_note(body, &[&s]).unwrap();
            assert!(
                Checkpoint::open(&note, &s.verifier()).is_err(),
                "opened {body:?}"
            );
        }
    }
    assert_eq!(
        Checkpoint::parse_body(&format!("o\n18446744073709551615\n{root}\n"))
            .unwrap()
            .size,
        u64::MAX
    );

    // Size limit.
    let big = format!("{}\n", "x".repeat(20_000));
    let note = sign_note(&big, &[&s]).unwrap();
    assert!(matches!(
        Checkpoint::open(&note, &s.verifier()),
        Err(NoteError::TooLarge(_))
    ));
}

/// Deterministic mutations of valid notes and keys through the fuzz body: no panics, and
/// any mutated note that still opens must yield the original checkpoint.
#[test]
fn fuzz_note_survives_mutations() {
    let s = Signer::from_seed("fuzz.example/log", [7; 32]).unwrap();
    let cp = Checkpoint {
        origin: "fuzz.example/log".into(),
        size: 987_654,
        root: [0x5a; 32],
    };
    let note = cp.sign(&s).unwrap();
    let seeds = [
        format!("{}\n{note}", s.verifier().to_text()),
        format!("{PETER_VKEY}\n{TEXT}\n{PETER_SIG}"),
        format!("{PETER_SKEY}\n{note}"),
        String::new(),
        "\n".into(),
    ];
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in &seeds {
        fuzz_note(seed.as_bytes());
        let bytes = seed.as_bytes();
        for _ in 0..400 {
            let mut m = bytes.to_vec();
            for _ in 0..=(rnd() % 3) {
                let at = if m.is_empty() {
                    0
                } else {
                    (rnd() % m.len() as u64) as usize
                };
                match rnd() % 5 {
                    0 if !m.is_empty() => m[at] ^= 1 << (rnd() % 8),
                    1 if !m.is_empty() => {
                        m.remove(at);
                    }
                    2 => m.insert(at, (rnd() % 256) as u8),
                    3 => m.truncate(at),
                    _ => m.insert(at, b"\n+=\xe2\x80\x94 0"[(rnd() % 8) as usize]),
                }
            }
            fuzz_note(&m);
            if let Ok(text) = std::str::from_utf8(&m)
                && let Some((_, n)) = text.split_once('\n')
                && let Ok(got) = Checkpoint::open(n, &s.verifier())
            {
                assert_eq!(got, cp, "mutated note opened to something else");
            }
        }
    }
}

/// The worked example in docs/log-format.md was produced with Python's `cryptography`
/// package (not with this crate); Ed25519 is deterministic, so the Rust signer must
/// produce the same note from the same seed.
#[test]
fn docs_example_matches_an_independent_signer() {
    let skey =
        "PRIVATE+KEY+ledger.example/docs+11c07649+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
    let vkey = "ledger.example/docs+11c07649+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
    let note = "ledger.example/docs\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\
                \u{2014} ledger.example/docs EcB2SfCm73F2SM9NPYUFjUSSor5rbFcWhEDxjxPFL9kwoHujqVLSXiWLowdk55e8Z1XGxhEW+fzHFRNDLn46RpMbtQQ=\n";
    let signer = Signer::from_text(skey).unwrap();
    assert_eq!(signer.verifier().to_text(), vkey);
    let cp = Checkpoint::open(note, &Verifier::from_text(vkey).unwrap()).unwrap();
    assert_eq!(cp.size, 8);
    assert_eq!(
        hex::encode(cp.root),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
    assert_eq!(cp.sign(&signer).unwrap(), note);
}
