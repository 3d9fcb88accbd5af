-- Stateless replicas (docs/scale.md): what several servers on one database must share.

-- Rate windows per (endpoint, subject), counted before the work they protect, so N replicas give
-- no more tries than one and a restart forgives nothing. Subjects are hashed (SHA-256 of
-- `ip:<addr>` or `acct:<email>`), so the table names no address or account in the clear.
CREATE TABLE rate_windows (
    endpoint      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL,
    PRIMARY KEY (endpoint, subject)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);

-- The audit cursor: one sequence for every replica, so two events never share a `seq` (a
-- per-process clock could give two replicas the same microsecond, and a page boundary between
-- them would skip one). Started above every `seq` written so far (those were microseconds).
CREATE SEQUENCE audit_events_seq;
SELECT setval('audit_events_seq', GREATEST((SELECT MAX(seq) FROM audit_events), 1));

-- Which enclave of the fleet holds each escrow (its configured URL); '' for rows written before
-- the fleet, which belong to the one configured enclave.
ALTER TABLE escrows ADD COLUMN enclave TEXT NOT NULL DEFAULT '';

-- Replicas announce themselves, so the no-enclave server-trust mode (single replica by design)
-- can warn when it sees another one.
CREATE TABLE server_instances (
    id          TEXT PRIMARY KEY,
    trust       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);
