//! What a deployment records about who answers for it: an owner (a team) and a
//! contact (a URL or an e-mail address). Both are kept across later deploys unless
//! changed; a contact URL is stored with its secrets removed (a chat webhook's path is
//! a credential).

use crate::{Error, redact};

/// Longest owner or contact accepted.
const MAX_LEN: usize = 256;

fn invalid(what: &str, value: &str, why: &str) -> Error {
    Error::Entry(format!("{what} {value:?}: {why}"))
}

/// Checks an owner: a team or person's name, one line, not blank.
pub fn check_owner(owner: &str) -> Result<(), Error> {
    if owner.trim().is_empty() {
        return Err(invalid("owner", owner, "empty"));
    }
    if owner.len() > MAX_LEN {
        return Err(invalid("owner", owner, "longer than 256 bytes"));
    }
    if owner.trim() != owner || owner.chars().any(char::is_control) {
        return Err(invalid(
            "owner",
            owner,
            "starts or ends with whitespace, or contains a control character",
        ));
    }
    Ok(())
}

/// A contact as stored: an `https://`, `http://` or `mailto:` URL (secrets removed),
/// or an e-mail address.
pub fn contact(contact: &str) -> Result<String, Error> {
    if contact.is_empty() || contact.len() > MAX_LEN {
        return Err(invalid(
            "contact",
            contact,
            "empty or longer than 256 bytes",
        ));
    }
    if contact.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contact", contact, "contains whitespace"));
    }
    let lower = contact.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        if rest.split(['/', '?', '#']).next().is_none_or(str::is_empty) {
            return Err(invalid("contact", contact, "a URL without a host"));
        }
        return Ok(redact::url(contact, redact::UrlRule::Endpoint).into_owned());
    }
    let address = lower.strip_prefix("mailto:").unwrap_or(&lower);
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@') =>
        {
            Ok(contact.to_owned())
        }
        _ => Err(invalid(
            "contact",
            contact,
            "expected an https:// URL, a mailto: URL or an e-mail address",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn owners_and_contacts() {
        for ok in ["ml-platform", "Team Search (EMEA)"] {
            check_owner(ok).unwrap();
        }
        for bad in ["", "  ", " x", "a\nb", &"x".repeat(300)] {
            assert!(check_owner(bad).is_err(), "{bad:?}");
        }
        for (given, stored) in [
            ("oncall@example.com", "oncall@example.com"),
            ("mailto:oncall@example.com", "mailto:oncall@example.com"),
            (
                "https://chat.example.com/c/ml-oncall",
                "https://chat.example.com/c/ml-oncall",
            ),
        ] {
            assert_eq!(contact(given).unwrap(), stored);
        }
        // A chat webhook's secret path segment never reaches the ledger.
        let hook =
            "https://hooks.example.com/services/T0123ABCD/B0456EFGH/q8ZkLwX3vN7pR2sT9yU4bC1d";
        let stored = contact(hook).unwrap();
        assert!(!stored.contains("q8ZkLwX3vN7pR2sT9yU4bC1d"), "{stored}");
        for bad in [
            "oncall",
            "a@b",
            "@example.com",
            "x@.com",
            "ftp://x",
            "https://",
            "a b@c.d",
            "",
        ] {
            let e = contact(bad).unwrap_err().to_string();
            assert!(e.contains("contact"), "{bad}: {e}");
        }
    }
}
