-- The ledger: entries are appended, never updated or deleted.
CREATE TABLE entries (
    seq       INTEGER PRIMARY KEY,
    time_us   INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    body      BLOB    NOT NULL,
    leaf_hash BLOB    NOT NULL
);
CREATE INDEX entries_time ON entries (time_us);

-- One row: the last seq handed out and its time. Updating it first in every write
-- transaction serialises writers and keeps seq gap-free and time monotonic.
CREATE TABLE ledger_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,
    time_us INTEGER NOT NULL
);
INSERT INTO ledger_head (id, seq, time_us) VALUES (1, 0, 0);

-- Derived state: rebuilt identically by replaying entries.
CREATE TABLE artifacts (
    id        TEXT    PRIMARY KEY,
    kind      TEXT    NOT NULL,
    name      TEXT,
    version   TEXT,
    attrs     TEXT    NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL
);
CREATE INDEX artifacts_first_seq ON artifacts (first_seq, id);
CREATE INDEX artifacts_last_seq ON artifacts (last_seq);

CREATE TABLE aliases (
    alias    TEXT    PRIMARY KEY,
    artifact TEXT    NOT NULL REFERENCES artifacts (id),
    seq      INTEGER NOT NULL
);
CREATE INDEX aliases_artifact ON aliases (artifact);

CREATE TABLE edges (
    src       TEXT    NOT NULL REFERENCES artifacts (id),
    kind      TEXT    NOT NULL,
    dst       TEXT    NOT NULL REFERENCES artifacts (id),
    since_seq INTEGER NOT NULL,
    until_seq INTEGER,
    PRIMARY KEY (src, kind, dst, since_seq)
);
CREATE UNIQUE INDEX edges_active ON edges (src, kind, dst) WHERE until_seq IS NULL;
CREATE INDEX edges_dst ON edges (dst);
CREATE INDEX edges_since ON edges (since_seq);
CREATE INDEX edges_until ON edges (until_seq) WHERE until_seq IS NOT NULL;
