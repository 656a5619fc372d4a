//! Webhook delivery: two background tasks over the store's delivery queue.
//!
//! The **dispatcher** tails the ledger's incident, containment and advisory entries
//! (`Store::book_entries`) from a cursor kept in the database, turns each into an
//! event (`ailedger_core::event`), and queues one delivery per matching subscription
//! in the same transaction that moves the cursor: an entry written just before the
//! server dies is still announced after a restart, and none twice. Handlers never
//! queue anything, so a write never waits for a receiver.
//!
//! The **delivery worker** takes due deliveries (claimed in the database, so several
//! servers on one database do not send one twice), at most `concurrency` at a time and
//! one at a time per subscription, POSTs each signed payload with connect and total
//! timeouts, and records the attempt: a 2xx answer delivers it; anything else is tried
//! again with exponential backoff until the attempts run out.

use std::{collections::HashSet, sync::Arc, time::Duration};

use ailedger_core::event::{self, Event, Retry};
use ailedger_store::{
    Store, StoreError,
    webhook::{Attempt, AttemptOutcome, DueDelivery, NewDelivery},
};
use tokio::task::JoinSet;

use crate::ApiError;

/// Book entries read per dispatcher step.
const DISPATCH_BATCH: u32 = 500;
/// Longest error text kept of a failed attempt.
const MAX_ERROR: usize = 500;
/// Longest subscription URL accepted.
pub const MAX_URL: usize = 2048;

/// How webhooks are delivered (`ailedger serve --webhook-…`).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Backoff and the number of attempts.
    pub retry: Retry,
    /// Most time to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Most time for a whole attempt, the answer included.
    pub timeout: Duration,
    /// Most deliveries in flight at once (each subscription has at most one).
    pub concurrency: usize,
    /// Accept `http://` URLs to hosts other than loopback.
    pub allow_http: bool,
    /// How often the dispatcher and the worker look for work.
    pub poll: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            retry: Retry::default(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            concurrency: 8,
            allow_http: false,
            poll: Duration::from_millis(500),
        }
    }
}

impl WebhookConfig {
    /// How long a claimed delivery stays taken: after it, should this server have died
    /// mid-attempt, another (or this one restarted) tries it again.
    fn lease(&self) -> Duration {
        // The total timeout bounds the attempt, the connection included.
        self.timeout + Duration::from_secs(5)
    }
}

/// Checks a subscription URL: `https://`, or `http://` to a loopback host (any host
/// with `allow_http`); no user name or password in it (the URL is listed and logged).
pub fn check_url(url: &str, allow_http: bool) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::Invalid(format!("url {url:?}: {why}"));
    if url.len() > MAX_URL {
        return Err(bad(&format!("longer than {MAX_URL} bytes")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let Some(host) = parsed.host_str() else {
        return Err(bad("no host"));
    };
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "a user name or password in the URL would be shown in every listing; authenticate the receiver by the signature",
        ));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        "http" => Err(bad(
            "plain http only to a loopback host (start the server with --webhook-allow-http to allow it elsewhere)",
        )),
        other => Err(bad(&format!("scheme {other}: expected https"))),
    }
}

/// A new subscription secret: 32 random bytes, hex, after a prefix that says what it is.
pub fn new_secret() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| ApiError::Internal("no randomness for a webhook secret".into()))?;
    Ok(format!("ailwh_{}", hex::encode(b)))
}

/// Starts the dispatcher and the delivery worker; they run until the process ends.
pub fn spawn(
    store: Arc<dyn Store>,
    config: Arc<WebhookConfig>,
) -> Result<[tokio::task::JoinHandle<()>; 2], ApiError> {
    let client = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        // A receiver's redirect is not followed: the admin chose the URL, not the
        // receiver (and a redirect could point anywhere).
        .redirect(reqwest::redirect::Policy::none())
        // Straight to the URL the admin chose, whatever proxy the environment names.
        .no_proxy()
        .user_agent(concat!("ailedger-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ApiError::Internal(format!("webhook HTTP client: {e}")))?;
    let dispatcher = tokio::spawn(dispatch_loop(store.clone(), config.clone()));
    let worker = tokio::spawn(deliver_loop(store, config, client));
    Ok([dispatcher, worker])
}

async fn dispatch_loop(store: Arc<dyn Store>, config: Arc<WebhookConfig>) {
    let mut tick = tokio::time::interval(config.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match dispatch_once(store.as_ref()).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatch failed");
                    break;
                }
            }
        }
    }
}

/// Queues the deliveries of the next batch of book entries and moves the cursor past
/// them, in one transaction. True when there may be more to read at once.
pub async fn dispatch_once(store: &dyn Store) -> Result<bool, StoreError> {
    let cursor = store.webhook_cursor().await?;
    let entries = store.book_entries(cursor, DISPATCH_BATCH).await?;
    let Some(to) = entries.last().map(|e| e.seq) else {
        return Ok(false);
    };
    // The subscriptions after the entries: one added meanwhile starts after them anyway.
    let hooks = store.webhooks(false).await?;
    let mut deliveries = Vec::new();
    for stored in &entries {
        let event = match stored.decode().and_then(|e| Ok(Event::from_entry(&e)?)) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(e) => {
                // Nothing to announce from an entry that does not read; the audit (`log
                // verify`) is what reports it.
                tracing::error!(seq = stored.seq, error = %e, "entry skipped by webhooks");
                continue;
            }
        };
        let wanted: Vec<u64> = hooks
            .iter()
            .filter(|h| h.after_seq < event.seq && event::wants(&h.events, &event.type_))
            .map(|h| h.id)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let payload = event.payload()?;
        deliveries.extend(wanted.into_iter().map(|webhook_id| NewDelivery {
            webhook_id,
            event_type: event.type_.clone(),
            seq: event.seq,
            payload: payload.clone(),
        }));
    }
    let queued = deliveries.len();
    if store
        .enqueue_deliveries(cursor, to, deliveries, ailedger_store::now_us())
        .await?
    {
        if queued > 0 {
            tracing::debug!(queued, up_to = to, "webhook deliveries queued");
        }
        Ok(entries.len() == DISPATCH_BATCH as usize)
    } else {
        // Another server moved the cursor first; read again from where it is.
        Ok(true)
    }
}

async fn deliver_loop(store: Arc<dyn Store>, config: Arc<WebhookConfig>, client: reqwest::Client) {
    let mut tick = tokio::time::interval(config.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut in_flight: JoinSet<u64> = JoinSet::new();
    let mut busy: HashSet<u64> = HashSet::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Ok(hook) = done {
                    busy.remove(&hook);
                }
                continue;
            }
        }
        if in_flight.len() >= config.concurrency {
            continue;
        }
        if let Err(e) = start_due(&store, &config, &client, &mut in_flight, &mut busy).await {
            tracing::warn!(error = %e, "webhook delivery: reading the queue failed");
        }
    }
}

/// Claims due deliveries of idle subscriptions, up to the free slots, and starts them.
async fn start_due(
    store: &Arc<dyn Store>,
    config: &Arc<WebhookConfig>,
    client: &reqwest::Client,
    in_flight: &mut JoinSet<u64>,
    busy: &mut HashSet<u64>,
) -> Result<(), StoreError> {
    let now = ailedger_store::now_us();
    let lease_us = i64::try_from(config.lease().as_micros()).unwrap_or(i64::MAX);
    let due = store.due_deliveries(now, 100).await?;
    for d in due {
        if in_flight.len() >= config.concurrency {
            break;
        }
        let hook = d.delivery.webhook_id;
        if busy.contains(&hook) {
            continue;
        }
        let id = d.delivery.id;
        if !store
            .claim_delivery(id, d.delivery.next_attempt_us, now.saturating_add(lease_us))
            .await?
        {
            continue;
        }
        busy.insert(hook);
        let (store, config, client) = (store.clone(), config.clone(), client.clone());
        in_flight.spawn(async move {
            let attempt = attempt(&client, &config.retry, &d).await;
            let delivered = attempt.outcome == AttemptOutcome::Delivered;
            tracing::debug!(delivery = id, webhook = hook, delivered, status = ?attempt.status, "webhook attempt");
            if let AttemptOutcome::Failed = attempt.outcome {
                tracing::warn!(delivery = id, webhook = hook, error = ?attempt.error, "webhook delivery failed for good");
            }
            if let Err(e) = store.record_attempt(id, attempt).await {
                // The claim's lease runs out and the delivery is tried again.
                tracing::warn!(delivery = id, error = %e, "recording a webhook attempt failed");
            }
            hook
        });
    }
    Ok(())
}

/// One POST of a delivery, and what it came to.
async fn attempt(client: &reqwest::Client, retry: &Retry, d: &DueDelivery) -> Attempt {
    let body = d.delivery.payload.as_bytes();
    let sent = client
        .post(&d.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Ailedger-Event", &d.delivery.event_type)
        .header("X-Ailedger-Delivery", d.delivery.id.to_string())
        .header(
            "X-Ailedger-Signature-256",
            event::signature(&d.secret, body),
        )
        .body(body.to_vec())
        .send()
        .await;
    let (status, error) = match sent {
        Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
        Ok(resp) => (
            Some(resp.status().as_u16()),
            Some(format!("HTTP {}", resp.status())),
        ),
        Err(e) => (None, Some(describe(&e))),
    };
    let at_us = ailedger_store::now_us();
    let outcome = if error.is_none() {
        AttemptOutcome::Delivered
    } else {
        match retry.delay_ms(d.delivery.attempts.saturating_add(1)) {
            Some(ms) => AttemptOutcome::Retry {
                at_us: at_us
                    .saturating_add(i64::try_from(ms.saturating_mul(1000)).unwrap_or(i64::MAX)),
            },
            None => AttemptOutcome::Failed,
        }
    };
    Attempt {
        at_us,
        status,
        error,
        outcome,
    }
}

/// A transport failure in a line: what failed and the innermost cause.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect not followed"
    } else {
        "request failed"
    };
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let mut text = format!("{what}: {cause}");
    if text.len() > MAX_ERROR {
        let mut end = MAX_ERROR;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://hooks.example/ailedger",
            "http://127.0.0.1:9000/x",
            "http://localhost/x",
            "http://[::1]:8080/",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://hooks.example/x", "--webhook-allow-http"),
            ("ftp://hooks.example/x", "scheme ftp"),
            ("https://user:pw@hooks.example/x", "password"),
            ("not a url", "url \"not a url\""),
            ("file:///etc/passwd", "no host"),
        ] {
            let e = check_url(bad, false).err().map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains(why)),
                "{bad}: {e:?}"
            );
        }
        assert!(check_url("http://hooks.example/x", true).is_ok());
        assert!(check_url(&format!("https://h/{}", "a".repeat(MAX_URL)), false).is_err());
    }

    #[test]
    fn secrets_are_fresh() {
        let (a, b) = (new_secret().ok(), new_secret().ok());
        assert!(a.as_deref().is_some_and(|s| s.len() == 6 + 64));
        assert_ne!(a, b);
    }
}
