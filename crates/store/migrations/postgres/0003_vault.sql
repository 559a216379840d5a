-- The vault: a secret's metadata, its sealed versions (envelope-encrypted elsewhere; the store only
-- keeps bytes and which master key wrapped them) and the agents it is shared with.

CREATE TABLE secrets (
    name                   TEXT    NOT NULL PRIMARY KEY,
    kind                   TEXT    NOT NULL,
    owner                  TEXT    NOT NULL,
    tags                   TEXT    NOT NULL,
    current_version        BIGINT  NOT NULL,
    rotation_days          BIGINT,
    expires_at             BIGINT,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL,
    rotation_noted_version BIGINT
);

CREATE TABLE secret_versions (
    name          TEXT    NOT NULL REFERENCES secrets (name),
    version       BIGINT  NOT NULL,
    sealed        BYTEA   NOT NULL,
    master_key_id TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX secret_versions_master_key ON secret_versions (master_key_id);

CREATE TABLE secret_grants (
    name       TEXT    NOT NULL REFERENCES secrets (name),
    agent_id   TEXT    NOT NULL REFERENCES agents (id),
    granted_by TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (name, agent_id)
);
