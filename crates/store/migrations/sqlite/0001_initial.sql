-- Warden's first schema, SQLite flavour. STRICT tables make SQLite refuse a value of the wrong type
-- instead of storing it. Timestamps are Unix seconds; lists and maps are JSON text.

CREATE TABLE agents (
    id                 TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    roles              TEXT    NOT NULL,
    capabilities       TEXT    NOT NULL,
    scopes             TEXT    NOT NULL,
    tier               TEXT,
    attributes         TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    tokens_valid_after INTEGER NOT NULL
) STRICT;

CREATE TABLE passwords (
    agent_id        TEXT    NOT NULL PRIMARY KEY REFERENCES agents (id),
    hash            TEXT    NOT NULL,
    changed_at      INTEGER NOT NULL,
    history         TEXT    NOT NULL,
    failed_attempts INTEGER NOT NULL,
    locked_until    INTEGER
) STRICT;

CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    agent_id    TEXT    NOT NULL REFERENCES agents (id),
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX api_keys_agent ON api_keys (agent_id);

CREATE TABLE public_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    agent_id   TEXT    NOT NULL REFERENCES agents (id),
    algorithm  TEXT    NOT NULL,
    public_key BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX public_keys_agent ON public_keys (agent_id);

-- No foreign key: a challenge may be issued for a name that does not exist, so that the answer does
-- not reveal which agents are registered.
CREATE TABLE challenges (
    nonce_hash BLOB    NOT NULL PRIMARY KEY,
    agent_id   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX challenges_expiry ON challenges (expires_at);

CREATE TABLE certificates (
    fingerprint TEXT    NOT NULL PRIMARY KEY,
    serial      TEXT    NOT NULL,
    agent_id    TEXT    NOT NULL REFERENCES agents (id),
    not_after   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX certificates_agent ON certificates (agent_id);

-- INVARIANT: at most one CA, so replicas starting together agree on it.
CREATE TABLE certificate_authority (
    id              INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    certificate_pem TEXT    NOT NULL,
    sealed_key      BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE refresh_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    family_id  TEXT    NOT NULL,
    agent_id   TEXT    NOT NULL REFERENCES agents (id),
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

CREATE TABLE revoked_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE revoked_families (
    family_id  TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE signing_keys (
    kid                TEXT    NOT NULL PRIMARY KEY,
    algorithm          TEXT    NOT NULL,
    sealed_private_key BLOB    NOT NULL,
    public_key         BLOB    NOT NULL,
    created_at         INTEGER NOT NULL,
    retired_at         INTEGER,
    verify_until       INTEGER
) STRICT;
-- INVARIANT: at most one current (unretired) signing key; a second concurrent rotation conflicts.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;

CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Append-only: the store never updates or deletes a row here.
CREATE TABLE audit_events (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    timestamp  INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    resource   TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    details    TEXT    NOT NULL,
    request_id TEXT
) STRICT;
