-- Stateless replicas (docs/scale.md). SQLite is the single-machine backend: one process owns the
-- file, so the audit `seq` stays the process's clock; the rate windows and the escrow's enclave
-- are kept here as in PostgreSQL, so both backends run the same code.

CREATE TABLE rate_windows (
    endpoint      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL,
    PRIMARY KEY (endpoint, subject)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);

ALTER TABLE escrows ADD COLUMN enclave TEXT NOT NULL DEFAULT '';

CREATE TABLE server_instances (
    id          TEXT PRIMARY KEY,
    trust       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);
