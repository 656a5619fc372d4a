-- The latest trust policy in force at a seq is read from the ledger itself: the last
-- `policy` entry at or before it.
CREATE INDEX entries_policy ON entries (seq) WHERE kind = 'policy';
