//! Every route path of the API, written once: the router, the OpenAPI attributes and
//! the CLI's client all use these constants. [`ROUTES`] lists each path with its
//! methods; the router is built from the same list (`routes::table`), and a test holds
//! the OpenAPI document, the router and this list to each other.

pub const OPENAPI: &str = "/openapi.json";
pub const HEALTHZ: &str = "/healthz";
pub const STATUS: &str = "/v1/status";
pub const ARTIFACTS: &str = "/v1/artifacts";
pub const BATCH: &str = "/v1/batch";
pub const LINKS: &str = "/v1/links";
pub const UNLINKS: &str = "/v1/unlinks";
pub const DEPLOYMENTS: &str = "/v1/deployments";
pub const RESOLVE: &str = "/v1/resolve";
pub const IMPACT: &str = "/v1/impact";
pub const DEPS: &str = "/v1/deps";
pub const ENTRIES: &str = "/v1/entries";
pub const ENTRY: &str = "/v1/entries/{seq}";
pub const DOCUMENTS: &str = "/v1/documents";
pub const DOCUMENT: &str = "/v1/documents/{digest}";
pub const LOG_KEY: &str = "/v1/log/key";
pub const LOG_CHECKPOINT: &str = "/v1/log/checkpoint";
pub const LOG_CHECKPOINTS: &str = "/v1/log/checkpoints";
pub const LOG_STATUS: &str = "/v1/log/status";
pub const LOG_ENTRY: &str = "/v1/log/entries/{seq}";
pub const LOG_LEAVES: &str = "/v1/log/leaves";
pub const LOG_INCLUSION: &str = "/v1/log/proof/inclusion";
pub const LOG_CONSISTENCY: &str = "/v1/log/proof/consistency";

/// A path template with one `{name}` parameter filled in (percent-encoding is the
/// caller's business; the values used here are numbers and digests).
pub fn fill(template: &str, value: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{value}{}", &template[..open], &template[close + 1..])
        }
        _ => template.to_owned(),
    }
}

/// Every route: its path and the methods it answers. Paths outside `/v1/`
/// (`/openapi.json`, `/healthz`) are not part of the documented API.
pub const ROUTES: &[(&str, &[&str])] = &[
    (OPENAPI, &["GET"]),
    (HEALTHZ, &["GET"]),
    (STATUS, &["GET"]),
    (ARTIFACTS, &["GET", "POST"]),
    (BATCH, &["POST"]),
    (LINKS, &["POST"]),
    (UNLINKS, &["POST"]),
    (DEPLOYMENTS, &["POST"]),
    (RESOLVE, &["GET"]),
    (IMPACT, &["GET"]),
    (DEPS, &["GET"]),
    (ENTRIES, &["GET"]),
    (ENTRY, &["GET"]),
    (DOCUMENTS, &["POST"]),
    (DOCUMENT, &["GET"]),
    (LOG_KEY, &["GET"]),
    (LOG_CHECKPOINT, &["GET"]),
    (LOG_CHECKPOINTS, &["GET"]),
    (LOG_STATUS, &["GET"]),
    (LOG_ENTRY, &["GET"]),
    (LOG_LEAVES, &["GET"]),
    (LOG_INCLUSION, &["GET"]),
    (LOG_CONSISTENCY, &["GET"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_the_parameter() {
        assert_eq!(fill(ENTRY, "7"), "/v1/entries/7");
        assert_eq!(fill(LOG_ENTRY, "12"), "/v1/log/entries/12");
        assert_eq!(fill(STATUS, "x"), STATUS);
    }
}
