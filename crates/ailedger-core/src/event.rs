//! Webhook events: what a ledger entry announces to subscribers, and the rules of
//! delivering it (which subscriptions want it, how the body is signed, when a failed
//! delivery is tried again).
//!
//! Events come from the ledger, never from request handlers: each `incident` entry is
//! the event `incident.<action>` and each `containment` entry `containment.<action>`
//! (advisory imports and every other kind announce nothing). The payload is the JSON
//! object [`Event`], described by `schemas/webhook-event.schema.json`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Entry, EntryData, Error, entry::format_time};

/// Every event type, in a fixed order.
pub const TYPES: &[&str] = &[
    "incident.open",
    "incident.ack",
    "incident.resolve",
    "incident.update",
    "incident.retract",
    "incident.exposed",
    "containment.block",
    "containment.unblock",
    "containment.quarantine",
    "containment.release",
];

/// Most patterns in one subscription's filter.
pub const MAX_FILTERS: usize = 32;

/// One event, as POSTed to a subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// `incident.<action>` or `containment.<action>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The seq of the entry that is the event (an incident's id is the seq of its
    /// `incident.open` event; a block's the seq of its `containment.block`).
    pub seq: u64,
    /// When the entry was written (RFC 3339, UTC, microseconds).
    pub time: String,
    /// Who wrote it (the token's name).
    pub actor: String,
    /// The entry's `incident` or `containment` object, as in the entry body.
    pub data: Value,
}

impl Event {
    /// The event an entry is, if it is one.
    pub fn from_entry(entry: &Entry) -> Result<Option<Event>, Error> {
        let (type_, data) = match &entry.data {
            EntryData::Incident { incident } => (
                format!("incident.{}", incident.action()),
                serde_json::to_value(incident),
            ),
            EntryData::Containment { containment } => (
                format!("containment.{}", containment.action()),
                serde_json::to_value(containment),
            ),
            EntryData::Register { .. }
            | EntryData::Link { .. }
            | EntryData::Unlink { .. }
            | EntryData::Deploy { .. }
            | EntryData::Document { .. }
            | EntryData::Token { .. }
            | EntryData::TokenRevoke { .. }
            | EntryData::Policy { .. }
            | EntryData::Advisory { .. } => return Ok(None),
        };
        let data = data.map_err(|e| Error::Entry(format!("event data: {e}")))?;
        Ok(Some(Event {
            type_,
            seq: entry.seq,
            time: format_time(entry.time_us),
            actor: entry.actor.clone(),
            data,
        }))
    }

    /// The payload: the event as compact JSON, the bytes that are signed and sent.
    pub fn payload(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Entry(format!("event payload: {e}")))
    }
}

/// Checks one pattern of a subscription's filter: an event type, `incident.*`,
/// `containment.*` or `*`.
pub fn check_pattern(pattern: &str) -> Result<(), Error> {
    if pattern == "*" || pattern == "incident.*" || pattern == "containment.*" {
        return Ok(());
    }
    if TYPES.contains(&pattern) {
        return Ok(());
    }
    Err(Error::Entry(format!(
        "unknown event {pattern:?} (expected one of: {}, incident.*, containment.*, *)",
        TYPES.join(", ")
    )))
}

/// Checks a whole filter: one to [`MAX_FILTERS`] patterns, each valid.
pub fn check_filter(patterns: &[String]) -> Result<(), Error> {
    if patterns.is_empty() {
        return Err(Error::Entry(
            "events is empty: name at least one event type, incident.* or *".into(),
        ));
    }
    if patterns.len() > MAX_FILTERS {
        return Err(Error::Entry(format!(
            "events has {} patterns; at most {MAX_FILTERS}",
            patterns.len()
        )));
    }
    patterns.iter().try_for_each(|p| check_pattern(p))
}

/// Whether a filter wants events of `type_`.
pub fn wants(patterns: &[String], type_: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => type_.starts_with(prefix),
        None => p == type_,
    })
}

/// The `X-Ailedger-Signature-256` header value of a body: `sha256=` and the lowercase
/// hex HMAC-SHA256 of the body under the subscription's secret (its UTF-8 bytes).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

/// When a failed delivery is tried again: exponential backoff from `base_ms`, doubling
/// per failed attempt up to `cap_ms`, and no more tries after `max_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub base_ms: u64,
    pub cap_ms: u64,
    pub max_attempts: u32,
}

impl Default for Retry {
    /// 10 s, 20 s, 40 s … capped at one hour, 12 attempts (about 6 hours in all).
    fn default() -> Self {
        Self {
            base_ms: 10_000,
            cap_ms: 3_600_000,
            max_attempts: 12,
        }
    }
}

impl Retry {
    /// How long to wait after `attempts` failed attempts before the next one; `None`
    /// when none is left (the delivery has failed).
    pub fn delay_ms(&self, attempts: u32) -> Option<u64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(63);
        let delay = self.base_ms.saturating_mul(1u64 << doublings);
        Some(delay.min(self.cap_ms))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{
        Severity,
        incident::{Containment, IncidentEvent, Target},
    };

    fn entry(data: EntryData) -> Entry {
        Entry {
            seq: 7,
            time_us: 1_800_000_000_123_456,
            actor: "alice".into(),
            data,
        }
    }

    fn incidents() -> Vec<IncidentEvent> {
        vec![
            IncidentEvent::Open {
                target: Target::Artifact {
                    id: "pkg:pypi/ultralytics@8.3.41".into(),
                },
                reason: "cryptominer in the wheel".into(),
                severity: Severity::Critical,
                evidence: vec![],
                advisory: Some("GHSA-xxxx".into()),
            },
            IncidentEvent::Ack {
                incident: 7,
                note: None,
            },
            IncidentEvent::Resolve {
                incident: 7,
                note: Some("pinned".into()),
            },
            IncidentEvent::Update {
                incident: 7,
                note: "n".into(),
            },
            IncidentEvent::Retract {
                incident: 7,
                note: "n".into(),
            },
            IncidentEvent::Exposed {
                incident: 7,
                consumer: "deployment:prod/x".into(),
                via: "pkg:pypi/ultralytics@8.3.41".into(),
            },
        ]
    }

    fn containments() -> Vec<Containment> {
        vec![
            Containment::Block {
                target: Target::Package {
                    purl: "pkg:pypi/ultralytics".into(),
                    range: None,
                },
                reason: "r".into(),
                incident: Some(7),
            },
            Containment::Unblock {
                block: 8,
                note: None,
            },
            Containment::Quarantine {
                artifact: "model:m@1".into(),
                reason: "r".into(),
            },
            Containment::Release {
                artifact: "model:m@1".into(),
                note: None,
            },
        ]
    }

    #[test]
    fn every_incident_and_containment_entry_is_an_event_of_a_listed_type() {
        let mut seen = Vec::new();
        for incident in incidents() {
            let want = serde_json::to_value(&incident).unwrap();
            let e = Event::from_entry(&entry(EntryData::Incident { incident }))
                .unwrap()
                .unwrap();
            assert_eq!(e.data, want);
            seen.push(e.type_);
        }
        for containment in containments() {
            let want = serde_json::to_value(&containment).unwrap();
            let e = Event::from_entry(&entry(EntryData::Containment { containment }))
                .unwrap()
                .unwrap();
            assert_eq!(e.data, want);
            seen.push(e.type_);
        }
        assert_eq!(seen, TYPES);
        let open = Event::from_entry(&entry(EntryData::Incident {
            incident: incidents().remove(0),
        }))
        .unwrap()
        .unwrap();
        assert_eq!(
            (open.seq, open.time.as_str(), open.actor.as_str()),
            (7, "2027-01-15T08:00:00.123456Z", "alice")
        );
        assert_eq!(open.data["action"], "open");
        assert_eq!(open.data["severity"], "critical");
        let back: Event = serde_json::from_str(&open.payload().unwrap()).unwrap();
        assert_eq!(back, open);
    }

    #[test]
    fn other_entries_are_no_event() {
        let e = entry(EntryData::Advisory { advisories: vec![] });
        assert_eq!(Event::from_entry(&e).unwrap(), None);
        let e = entry(EntryData::TokenRevoke { name: "x".into() });
        assert_eq!(Event::from_entry(&e).unwrap(), None);
    }

    #[test]
    fn filters() {
        let f = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_filter(&f(&["incident.open", "containment.*"])).is_ok());
        assert!(check_filter(&f(&["*"])).is_ok());
        for bad in [
            &["incident.opened"][..],
            &["incident"],
            &["incident.*x"],
            &["advisory.*"],
            &[""],
            &[],
        ] {
            assert!(check_filter(&f(bad)).is_err(), "{bad:?}");
        }
        let too_many = vec!["*".to_string(); MAX_FILTERS + 1];
        assert!(check_filter(&too_many).is_err());
        let hook = f(&["incident.open", "containment.*"]);
        assert!(wants(&hook, "incident.open"));
        assert!(!wants(&hook, "incident.ack"));
        assert!(wants(&hook, "containment.release"));
        assert!(wants(&f(&["*"]), "incident.exposed"));
        assert!(wants(&f(&["incident.*"]), "incident.exposed"));
        assert!(!wants(&f(&["incident.*"]), "containment.block"));
    }

    #[test]
    fn signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_to_the_cap_then_stops() {
        let r = Retry {
            base_ms: 100,
            cap_ms: 1000,
            max_attempts: 6,
        };
        let delays: Vec<_> = (1..=7).map(|a| r.delay_ms(a)).collect();
        assert_eq!(
            delays,
            [
                Some(100),
                Some(200),
                Some(400),
                Some(800),
                Some(1000),
                None,
                None
            ]
        );
        let huge = Retry {
            base_ms: u64::MAX / 2,
            cap_ms: u64::MAX,
            max_attempts: 100,
        };
        assert_eq!(huge.delay_ms(90), Some(u64::MAX));
    }
}
