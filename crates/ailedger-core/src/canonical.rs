//! The one encoding that gets hashed: RFC 8785 JSON Canonicalization Scheme.
//!
//! Whatever `derive(Serialize)` emits is only an input here; what is hashed or
//! signed always goes through [`to_canonical_json`].

use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// Serialises `value` as RFC 8785 canonical JSON.
pub fn to_canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, crate::Error> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| crate::Error::Entry(e.to_string()))
}

/// RFC 9162 leaf hash: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8785_orders_keys_and_formats_numbers() {
        // From RFC 8785 section 3.2.2 (number formatting) and 3.2.3 (key ordering).
        let v: serde_json::Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],
                "string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals":[null,true,false]}"#,
        )
        .unwrap();
        let out = String::from_utf8(to_canonical_json(&v).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn leaf_hash_prefixes_zero() {
        // RFC 6962 test vector: the hash of the empty leaf.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
