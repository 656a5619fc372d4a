-- Webhook subscriptions and their delivery queue. Not ledger entries and not derived
-- from them: a subscription holds the HMAC secret its deliveries are signed with, which
-- never goes into an entry. `events` is a JSON array of event types or patterns;
-- `after_seq` the ledger's head when it was added (it gets later events only).
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    after_seq  BIGINT  NOT NULL,
    created_us BIGINT  NOT NULL,
    created_by TEXT    NOT NULL,
    removed_us BIGINT
);

-- One event for one subscription: queued by the dispatcher in the transaction that
-- moves `webhook_cursor`, so an event is queued once or not at all.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      BIGINT  NOT NULL REFERENCES webhooks (id),
    event_type      TEXT    NOT NULL,
    seq             BIGINT  NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL,
    next_attempt_us BIGINT  NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    last_status     BIGINT,
    last_error      TEXT,
    last_attempt_us BIGINT,
    created_us      BIGINT  NOT NULL,
    delivered_us    BIGINT,
    UNIQUE (webhook_id, seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_us)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- The seq up to which incident and containment entries have been turned into
-- deliveries.
CREATE TABLE webhook_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);
INSERT INTO webhook_cursor (id, seq) VALUES (1, 0);
