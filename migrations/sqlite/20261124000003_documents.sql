-- Raw bytes of ingested documents, content-addressed. Not derived from entries (an
-- entry holds the digest), so a replay from entries alone does not recreate them.
CREATE TABLE blobs (
    digest TEXT    PRIMARY KEY,
    format TEXT    NOT NULL,
    size   INTEGER NOT NULL,
    bytes  BLOB    NOT NULL
);

-- Derived: which entry first ingested each document.
CREATE TABLE documents (
    digest TEXT    PRIMARY KEY,
    seq    INTEGER NOT NULL,
    format TEXT    NOT NULL
);

-- Server settings shared by every server on the database (e.g. the salt for hashing
-- secret values found in MCP configs, so all servers hash alike).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
