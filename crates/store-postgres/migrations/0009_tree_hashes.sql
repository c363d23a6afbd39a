-- anxin PostgreSQL schema, migration 9: the Merkle tree's hashes stored as C2SP tlog-tiles
-- (height 8), so that proofs, checkpoints and the served tiles never need the whole tree in
-- memory (issue 18).
--
-- Level 0 of the tiles is the events' own `leaf` column. Level L (1 and up) holds, in order,
-- the root of every complete perfect subtree of 256^L leaves: row (L, i) covers leaves
-- i * 256^L up to (i + 1) * 256^L. A row is written in the transaction of the event that
-- completes its subtree and never changes; the audit recomputes every one. A database from
-- before this migration is filled in when it is next opened (`Records::open`).
CREATE TABLE tree_hashes (
    level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 7),
    idx   BIGINT NOT NULL CHECK (idx >= 0),
    hash  BYTEA NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
