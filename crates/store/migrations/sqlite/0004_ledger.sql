-- The ledger: every audit event as a leaf of an RFC 9162 Merkle tree. `idx` is the leaf's position,
-- dense from 0, handed out by the audit writer under the database's write lock. `leaf` is the exact
-- canonical bytes that were hashed; retention sets it to NULL and keeps `leaf_hash`, so proofs still work.
CREATE TABLE ledger_entries (
    idx       INTEGER NOT NULL PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    leaf      BLOB,
    leaf_hash BLOB    NOT NULL
) STRICT;
CREATE INDEX ledger_entries_timestamp ON ledger_entries (timestamp);

-- Signed tree heads, one per size. `anchor` is JSON ({rpc, chain_id, tx_hash, block_number}) once the
-- root is on a chain; `cosignatures` the witnesses' signature lines.
CREATE TABLE ledger_checkpoints (
    size         INTEGER NOT NULL PRIMARY KEY,
    root_hash    BLOB    NOT NULL,
    note         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    anchor       TEXT,
    cosignatures TEXT    NOT NULL DEFAULT '[]'
) STRICT;

-- The checkpoint signing key and the identifier HMAC key, sealed under the master key. One row: every
-- replica signs with the same key, so the published verifier key never changes under an auditor.
CREATE TABLE ledger_keys (
    id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    sealed_keys  BLOB    NOT NULL,
    verifier_key TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
