-- The tamper-evident log (docs/log-format.md).
--
-- log_nodes: the perfect subtrees of the RFC 9162 Merkle tree over the entries' leaf
-- hashes. (level, idx) is the hash over leaves [idx * 2^level, (idx + 1) * 2^level);
-- level 0 rows are the leaf hashes, idx = seq - 1. Written in the entry's transaction,
-- never updated.
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed checkpoints (C2SP tlog-checkpoint notes) the server issued. They are not
-- entries: they commit to the entries. `key` is the verifier key that signed `note`.
CREATE TABLE checkpoints (
    size    INTEGER PRIMARY KEY,
    root    BLOB    NOT NULL,
    note    TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    time_us INTEGER NOT NULL
);
