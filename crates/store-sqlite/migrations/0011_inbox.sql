-- anxin SQLite schema, migration 11: the inbox (SPEC §M4).
--
-- Messages generated for a person from their record, each under a stable key (kind, person,
-- month) so that generating again adds nothing, and the delivery of each to the webhook: a
-- restart resumes the pending ones, and a delivered one is never sent again. Not in the
-- Merkle log: outreach derived from the record, not a record of insurance.
CREATE TABLE inbox_messages (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    person     BLOB NOT NULL,
    kind       TEXT NOT NULL,
    month      TEXT NOT NULL,
    params     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX inbox_messages_person ON inbox_messages (person, id);

CREATE TABLE inbox_deliveries (
    message      INTEGER PRIMARY KEY REFERENCES inbox_messages (id),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    last_error   TEXT,
    delivered_at INTEGER
);
CREATE INDEX inbox_deliveries_due ON inbox_deliveries (next_at, message) WHERE state = 'pending';
CREATE INDEX inbox_deliveries_dead ON inbox_deliveries (message) WHERE state = 'dead';
