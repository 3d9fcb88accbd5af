-- The vault, credentials, the escrow index, agent tokens and the audit log. Same conventions as
-- 0001: TEXT ids, BIGINT Unix seconds, binary values as base64url TEXT (portable through sqlx's
-- Any driver). Nothing here is a secret in the clear: the data key is wrapped by a KEK that is
-- never stored, credentials are sealed under the data key, escrow handles under a host key,
-- agent tokens are stored as SHA-256 hashes.
CREATE TABLE vaults (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    salt         TEXT NOT NULL,
    kdf_params   TEXT NOT NULL,
    wrapped_key  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('bearer', 'header', 'basic')),
    scope       TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    uses        BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE escrows (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('sealed', 'credential')),
    name           TEXT NOT NULL,
    credential_id  TEXT REFERENCES credentials (id) ON DELETE CASCADE,
    escrow_id      TEXT NOT NULL,
    handle         TEXT NOT NULL,
    boot_id        TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    lost_at        BIGINT,
    created_at     BIGINT NOT NULL,
    UNIQUE (user_id, kind, name)
);
CREATE INDEX escrows_boot ON escrows (boot_id);

CREATE TABLE agent_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    credentials  TEXT,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX agent_tokens_user ON agent_tokens (user_id);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, seq DESC);
