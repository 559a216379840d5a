-- The firewall's reversible PII tokens. `firewall_keys` holds, sealed under the master key, the HMAC key
-- that derives token ids and the key that encrypts originals (one row, shared by every replica, so the
-- same original gets the same token everywhere). `firewall_tokens` maps a token to its original,
-- encrypted under that key with the token bound as associated data; the token itself reveals nothing.
CREATE TABLE firewall_keys (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    sealed_keys BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE firewall_tokens (
    token      TEXT    NOT NULL PRIMARY KEY,
    entity     TEXT    NOT NULL,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL
) STRICT;
