-- The end-to-end vault (docs/vault.md): the server no longer derives keys from a passphrase or
-- holds a data key. It stores what the client produced: the KDF salt and parameters, the vault
-- key wrapped by the client's KEK, the SHA-256 of the client's verifier, and credentials as
-- client ciphertext bound to their policy (stored verbatim: the client hashes these exact bytes).
-- Vaults of earlier builds (server-side passphrase) cannot be carried over: their count is kept
-- for one warning at the next start, then they are dropped with their credentials and escrows.
CREATE TABLE legacy_vaults_removed (count BIGINT NOT NULL);
INSERT INTO legacy_vaults_removed (count) SELECT COUNT(*) FROM vaults;

DROP TABLE escrows;
DROP TABLE credentials;
DROP TABLE vaults;

CREATE TABLE vaults (
    user_id        TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    format         BIGINT NOT NULL,
    kdf            TEXT NOT NULL,
    wrapped_key    TEXT NOT NULL,
    verifier_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('bearer', 'header', 'basic')),
    policy      TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    uses        BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
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
