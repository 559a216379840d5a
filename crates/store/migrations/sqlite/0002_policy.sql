-- Policy sets as they were activated (the newest is the active one, on every replica) and
-- just-in-time grants. A grant is never deleted while it may still be read in a decision's audit
-- trail: revoking sets `revoked_at`; expired grants are purged later.

CREATE TABLE policy_versions (
    version      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    hash         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    files        TEXT    NOT NULL,
    activated_by TEXT    NOT NULL,
    activated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE grants (
    id             TEXT    NOT NULL PRIMARY KEY,
    agent_id       TEXT    NOT NULL REFERENCES agents (id),
    action         TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    delegable      INTEGER NOT NULL,
    parent_id      TEXT    REFERENCES grants (id),
    delegated_from TEXT,
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER
) STRICT;
CREATE INDEX grants_agent ON grants (agent_id, expires_at);
CREATE INDEX grants_parent ON grants (parent_id);
