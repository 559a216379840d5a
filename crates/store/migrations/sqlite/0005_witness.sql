-- Warden as a witness for other logs (C2SP tlog-witness). `witness_keys` holds the cosigning key's Ed25519
-- seed sealed under the master key: one row, so every replica cosigns as the same witness.
CREATE TABLE witness_keys (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    sealed_seed BLOB    NOT NULL,
    public_key  BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- The latest checkpoint cosigned per log origin. It only moves forward, by compare-and-set on the size and
-- root it was checked against, so two replicas never cosign two forks of one log.
CREATE TABLE witness_checkpoints (
    origin     TEXT    NOT NULL PRIMARY KEY,
    size       INTEGER NOT NULL,
    root_hash  BLOB    NOT NULL,
    note       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
