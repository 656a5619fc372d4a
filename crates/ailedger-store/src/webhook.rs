//! Webhook subscriptions and their delivery queue, as the store keeps them. These are
//! not ledger entries and not derived from entries: a subscription holds the HMAC
//! secret its deliveries are signed with, which never goes into an entry.

use serde::Serialize;

/// A subscription to be added.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    /// Event types or patterns (`incident.*`, `*`), checked by the caller.
    pub events: Vec<String>,
    pub secret: String,
    /// The token name that added it.
    pub created_by: String,
    pub created_us: i64,
}

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: u64,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    /// The ledger's head when it was added: it gets the events of later entries only.
    pub after_seq: u64,
    pub created_us: i64,
    pub created_by: String,
    /// When it was removed (it then gets nothing more).
    pub removed_us: Option<i64>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not delivered yet; tried again at its next attempt time.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Given up: out of attempts, or the subscription was removed.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl std::fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event queued for one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub webhook_id: u64,
    pub event_type: String,
    /// The seq of the entry that is the event.
    pub seq: u64,
    /// The JSON body, fixed when queued: every attempt sends the same bytes.
    pub payload: String,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: u64,
    pub webhook_id: u64,
    pub event_type: String,
    pub seq: u64,
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_us: i64,
    pub state: DeliveryState,
    /// The HTTP status of the last attempt, if one was received.
    pub last_status: Option<u16>,
    /// Why the last attempt failed (a non-2xx status, a timeout, a refused connection).
    pub last_error: Option<String>,
    pub created_us: i64,
    pub delivered_us: Option<i64>,
}

/// A pending delivery that is due, with where it goes and how it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub delivery: DeliveryRecord,
    pub url: String,
    pub secret: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When the attempt ended.
    pub at_us: i64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub outcome: AttemptOutcome,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Tried again at this time.
    Retry {
        at_us: i64,
    },
    Failed,
}

/// A subscription's deliveries, counted by state, and its last error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookStats {
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    /// The error of the most recent delivery that has one.
    pub last_error: Option<String>,
}
