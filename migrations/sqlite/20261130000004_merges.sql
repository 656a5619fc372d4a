-- Identity merging: an artifact known only by a named ref that a later purl- or
-- digest-identified artifact claims as an alias is merged into it; its row stays (with
-- its history) and records where it went.
ALTER TABLE artifacts ADD COLUMN merged_into TEXT;

-- At most one active edge per (src, kind, dst) is kept by the applier, which checks
-- before it starts an edge; the unique partial index only doubled that check at the
-- cost of a fifth index on every edge insert. Lookups of active edges by source use
-- the primary key's (src, kind, dst) prefix.
DROP INDEX edges_active;
