-- Accounts and sessions. Timestamps are Unix seconds (BIGINT) and flags 0/1 (BIGINT) so that the
-- same queries run through sqlx's Any driver on PostgreSQL and SQLite (see docs/decisions/0101).
CREATE TABLE enterprises (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('personal', 'organization')),
    domain      TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    enterprise_id   TEXT NOT NULL REFERENCES enterprises (id),
    email           TEXT NOT NULL UNIQUE,
    email_verified  BIGINT NOT NULL DEFAULT 0,
    password_hash   TEXT,
    display_name    TEXT,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at      BIGINT NOT NULL
);

CREATE TABLE auth_identities (
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX auth_identities_user ON auth_identities (user_id);

CREATE TABLE email_verifications (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    rotated_at  BIGINT,
    revoked_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
