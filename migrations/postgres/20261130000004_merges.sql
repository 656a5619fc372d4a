-- Identity merging: an artifact known only by a named ref that a later purl- or
-- digest-identified artifact claims as an alias is merged into it; its row stays (with
-- its history) and records where it went.
ALTER TABLE artifacts ADD COLUMN merged_into TEXT;
