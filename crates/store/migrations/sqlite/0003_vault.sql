-- The vault: a secret's metadata, its sealed versions (envelope-encrypted elsewhere; the store only
-- keeps bytes and which master key wrapped them) and the agents it is shared with.

CREATE TABLE secrets (
    name                   TEXT    NOT NULL PRIMARY KEY,
    kind                   TEXT    NOT NULL,
    owner                  TEXT    NOT NULL,
    tags                   TEXT    NOT NULL,
    current_version        INTEGER NOT NULL,
    rotation_days          INTEGER,
    expires_at             INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    rotation_noted_version INTEGER
) STRICT;

CREATE TABLE secret_versions (
    name          TEXT    NOT NULL REFERENCES secrets (name),
    version       INTEGER NOT NULL,
    sealed        BLOB    NOT NULL,
    master_key_id TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) STRICT;
CREATE INDEX secret_versions_master_key ON secret_versions (master_key_id);

CREATE TABLE secret_grants (
    name       TEXT    NOT NULL REFERENCES secrets (name),
    agent_id   TEXT    NOT NULL REFERENCES agents (id),
    granted_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (name, agent_id)
) STRICT;
