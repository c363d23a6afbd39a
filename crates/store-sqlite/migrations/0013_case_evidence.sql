-- anxin SQLite schema, migration 13: evidence attached to cases (issue 15).
--
-- Each row is projected from its `case_evidence` event (which holds the file's SHA-256, type
-- and size, never its name or content) and carries the file's name and its content, each
-- sealed apart with the data key to the case's worker (XChaCha20-Poly1305, the worker's keyed
-- hash as associated data), so a listing opens only the names. The audit compares every
-- column but the sealed ones with the event; opening a file checks its content against the
-- hash in the log.
CREATE TABLE case_evidence (
    seq        INTEGER PRIMARY KEY,
    case_id    TEXT NOT NULL,
    n          INTEGER NOT NULL,
    person     BLOB NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    name_sealed BLOB NOT NULL,
    UNIQUE (case_id, n)
);
