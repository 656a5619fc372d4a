-- A contains edge's paths: where the file sits within the model or dataset (a JSON
-- array of strings; NULL for an edge without paths).
ALTER TABLE edges ADD COLUMN paths TEXT;
