//! Hash algorithm names and digest lengths, so a hash with the wrong length for its
//! algorithm is refused instead of being recorded as an identity.

/// The canonical spelling of a known algorithm and its digest length in hex
/// characters (`None`: variable length).
fn algorithm(name: &str) -> Option<(&'static str, Option<usize>)> {
    let norm: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_uppercase();
    Some(match norm.as_str() {
        "MD2" => ("MD2", Some(32)),
        "MD4" => ("MD4", Some(32)),
        "MD5" => ("MD5", Some(32)),
        "MD6" => ("MD6", None),
        "SHA1" => ("SHA-1", Some(40)),
        "SHA224" => ("SHA-224", Some(56)),
        "SHA256" => ("SHA-256", Some(64)),
        "SHA384" => ("SHA-384", Some(96)),
        "SHA512" => ("SHA-512", Some(128)),
        "SHA3256" => ("SHA3-256", Some(64)),
        "SHA3384" => ("SHA3-384", Some(96)),
        "SHA3512" => ("SHA3-512", Some(128)),
        "BLAKE2B256" => ("BLAKE2b-256", Some(64)),
        "BLAKE2B384" => ("BLAKE2b-384", Some(96)),
        "BLAKE2B512" => ("BLAKE2b-512", Some(128)),
        "BLAKE3" => ("BLAKE3", Some(64)),
        "STREEBOG256" => ("Streebog-256", Some(64)),
        "STREEBOG512" => ("Streebog-512", Some(128)),
        "ADLER32" => ("ADLER32", Some(8)),
        _ => return None,
    })
}

/// Checks a hash; returns the canonical algorithm name and the lowercase hex value.
pub(crate) fn check(alg: &str, value: &str) -> Result<(&'static str, String), String> {
    let Some((name, len)) = algorithm(alg) else {
        return Err(format!("unknown hash algorithm {alg:?}"));
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{name} value {:?} is not hexadecimal",
            truncate(value)
        ));
    }
    if let Some(len) = len
        && value.len() != len
    {
        return Err(format!(
            "{name} value has {} hex characters, expected {len}",
            value.len()
        ));
    }
    Ok((name, value.to_ascii_lowercase()))
}

/// At most 80 characters of `s`, for messages.
pub(crate) fn truncate(s: &str) -> String {
    if s.len() <= 80 {
        return s.to_owned();
    }
    let mut end = 77;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_per_algorithm() {
        assert!(check("SHA-256", &"a".repeat(64)).is_ok());
        assert!(check("sha256", &"A".repeat(64)).is_ok());
        assert!(
            check("SHA-256", &"a".repeat(63))
                .unwrap_err()
                .contains("expected 64")
        );
        assert!(check("MD5", &"a".repeat(32)).is_ok());
        assert!(check("BLAKE2b-512", &"a".repeat(128)).is_ok());
        assert!(check("SHA3-384", &"a".repeat(96)).is_ok());
        assert!(
            check("SHA-1", "zz")
                .unwrap_err()
                .contains("not hexadecimal")
        );
        assert!(
            check("SHA-2", "aa")
                .unwrap_err()
                .contains("unknown hash algorithm")
        );
    }
}
