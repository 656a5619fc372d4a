-- API tokens, derived from `token` and `token-revoke` entries: the SHA-256 of each
-- secret, never the secret. A revoked name may be granted again (the row is replaced).
CREATE TABLE tokens (
    name        TEXT   PRIMARY KEY,
    scope       TEXT   NOT NULL,
    hash        TEXT   NOT NULL,
    expires_us  BIGINT,
    created_seq BIGINT NOT NULL,
    revoked_seq BIGINT
);
CREATE UNIQUE INDEX tokens_hash ON tokens (hash);
