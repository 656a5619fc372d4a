-- The tamper-evident log (docs/log-format.md).
--
-- log_nodes: the perfect subtrees of the RFC 9162 Merkle tree over the entries' leaf
-- hashes. (level, idx) is the hash over leaves [idx * 2^level, (idx + 1) * 2^level);
-- level 0 rows are the leaf hashes, idx = seq - 1. Written in the entry's transaction,
-- never updated.
CREATE TABLE log_nodes (
    level BIGINT   NOT NULL,
    idx   BIGINT   NOT NULL,
    hash  BYTEA    NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed checkpoints (C2SP tlog-checkpoint notes) the server issued. They are not
-- entries: they commit to the entries. `key` is the verifier key that signed `note`.
CREATE TABLE checkpoints (
    size    BIGINT PRIMARY KEY,
    root    BYTEA  NOT NULL,
    note    TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    time_us BIGINT NOT NULL
);
