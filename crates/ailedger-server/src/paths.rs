//! Every route path of the API, written once: the router, the OpenAPI attributes and
//! the CLI's client all use these constants. [`ROUTES`] lists each path with its
//! methods; the router is built from the same list (`routes::table`), and a test holds
//! the OpenAPI document, the router and this list to each other.

use crate::auth::Access::{self, Admin, Public, Read, Token, Write};

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

pub const TOKENS: &str = "/v1/tokens";
pub const TOKEN: &str = "/v1/tokens/{name}";
pub const WHOAMI: &str = "/v1/whoami";
pub const POLICY: &str = "/v1/policy";
pub const INCIDENTS: &str = "/v1/incidents";
pub const INCIDENT: &str = "/v1/incidents/{id}";
pub const INCIDENT_ACK: &str = "/v1/incidents/{id}/ack";
pub const INCIDENT_RESOLVE: &str = "/v1/incidents/{id}/resolve";
pub const INCIDENT_REPORT: &str = "/v1/incidents/{id}/report";
pub const BLOCKLIST: &str = "/v1/blocklist";
pub const BLOCK: &str = "/v1/blocklist/{id}";
pub const ADVISORIES: &str = "/v1/advisories";
pub const ADVISORIES_KNOWN: &str = "/v1/advisories/known";
pub const QUARANTINE: &str = "/v1/quarantine";
pub const QUARANTINE_RELEASE: &str = "/v1/quarantine/release";
pub const WEBHOOKS: &str = "/v1/webhooks";
pub const WEBHOOK: &str = "/v1/webhooks/{id}";
pub const WEBHOOK_DELIVERIES: &str = "/v1/webhooks/{id}/deliveries";
pub const CHECK: &str = "/v1/check";
pub const EXPORT_SPDX: &str = "/v1/export/spdx";
pub const EXPORT_CYCLONEDX: &str = "/v1/export/cyclonedx";

/// Every route: its path, the methods it answers and what each method needs (the
/// authorisation layer reads it; see `auth`). Paths outside `/v1/` (`/openapi.json`,
/// `/healthz`) are not part of the documented API.
pub const ROUTES: &[(&str, &[(&str, Access)])] = &[
    (OPENAPI, &[("GET", Public)]),
    (HEALTHZ, &[("GET", Public)]),
    (STATUS, &[("GET", Read)]),
    (ARTIFACTS, &[("GET", Read), ("POST", Write)]),
    (BATCH, &[("POST", Write)]),
    (LINKS, &[("POST", Write)]),
    (UNLINKS, &[("POST", Write)]),
    (DEPLOYMENTS, &[("POST", Write)]),
    (RESOLVE, &[("GET", Read)]),
    (IMPACT, &[("GET", Read)]),
    (DEPS, &[("GET", Read)]),
    (ENTRIES, &[("GET", Read)]),
    (ENTRY, &[("GET", Read)]),
    (DOCUMENTS, &[("POST", Write)]),
    (DOCUMENT, &[("GET", Read)]),
    (TOKENS, &[("GET", Admin), ("POST", Admin)]),
    (TOKEN, &[("DELETE", Admin)]),
    (WHOAMI, &[("GET", Token)]),
    (POLICY, &[("GET", Read), ("PUT", Admin)]),
    (INCIDENTS, &[("GET", Read), ("POST", Admin)]),
    (INCIDENT, &[("GET", Read)]),
    (INCIDENT_ACK, &[("POST", Admin)]),
    (INCIDENT_RESOLVE, &[("POST", Admin)]),
    (INCIDENT_REPORT, &[("GET", Read)]),
    (BLOCKLIST, &[("GET", Read), ("POST", Admin)]),
    (BLOCK, &[("DELETE", Admin)]),
    (ADVISORIES, &[("POST", Admin)]),
    (ADVISORIES_KNOWN, &[("POST", Admin)]),
    (QUARANTINE, &[("GET", Read)]),
    (QUARANTINE_RELEASE, &[("POST", Admin)]),
    (WEBHOOKS, &[("GET", Admin), ("POST", Admin)]),
    (WEBHOOK, &[("DELETE", Admin)]),
    (WEBHOOK_DELIVERIES, &[("GET", Admin)]),
    (CHECK, &[("POST", Read)]),
    (EXPORT_SPDX, &[("GET", Read)]),
    (EXPORT_CYCLONEDX, &[("GET", Read)]),
    (LOG_KEY, &[("GET", Read)]),
    (LOG_CHECKPOINT, &[("GET", Read)]),
    (LOG_CHECKPOINTS, &[("GET", Read)]),
    (LOG_STATUS, &[("GET", Read)]),
    (LOG_ENTRY, &[("GET", Read)]),
    (LOG_LEAVES, &[("GET", Read)]),
    (LOG_INCLUSION, &[("GET", Read)]),
    (LOG_CONSISTENCY, &[("GET", Read)]),
];

/// What `method` on the route `path` (a template, as matched) needs, if it is a route.
pub fn access(path: &str, method: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|(p, _)| *p == path)?
        .1
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, a)| *a)
}

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
