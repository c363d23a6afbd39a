-- Witnessing between regional instances (issue 14, C2SP tlog-witness). As a witness: the
-- latest checkpoint cosigned of each peer's log, and every checkpoint of a peer refused because
-- its log shrank or forked (the peer's own signed note is the evidence). As a log: the
-- cosignatures the peers' witnesses gave this log's checkpoints. See anxin_records::witness.
CREATE TABLE witness_seen (
    peer       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    root       BLOB NOT NULL,
    checkpoint TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE TABLE witness_alarms (
    id         INTEGER PRIMARY KEY,
    peer       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    seen_size  INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    zh         TEXT NOT NULL,
    en         TEXT NOT NULL,
    checkpoint TEXT NOT NULL
);
CREATE TABLE cosignatures (
    witness TEXT NOT NULL,
    size    INTEGER NOT NULL,
    line    TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (witness, size)
);
CREATE INDEX cosignatures_size ON cosignatures (size);
