-- anxin SQLite schema, migration 1. Migrations are append-only: never edit a released one.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- The log: one row per event, in sequence order from 0. `leaf` is the RFC 9162 leaf hash
-- of `body`; the audit recomputes it.
CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    key  TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body BLOB NOT NULL,
    leaf BLOB NOT NULL
);

CREATE TABLE head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    size       INTEGER NOT NULL,
    root       BLOB NOT NULL,
    frontier   BLOB NOT NULL,
    checkpoint TEXT NOT NULL
);

CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    text TEXT NOT NULL
);

-- Projections: each row can be recomputed from the events.
CREATE TABLE persons (
    person           BLOB PRIMARY KEY,
    sealed           BLOB NOT NULL,
    hukou_region     INTEGER,
    residence_region INTEGER NOT NULL,
    employment_form  TEXT NOT NULL,
    platforms        TEXT NOT NULL,
    permit_region    INTEGER,
    permit_since     TEXT,
    household        TEXT,
    seq              INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE orgs (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    region INTEGER NOT NULL,
    seq    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE children (
    child         BLOB PRIMARY KEY,
    sealed        BLOB NOT NULL,
    guardian      BLOB NOT NULL,
    relation      TEXT NOT NULL,
    school_region INTEGER,
    seq           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX children_guardian ON children (guardian);

CREATE TABLE contributions (
    seq         INTEGER PRIMARY KEY,
    record_id   TEXT NOT NULL,
    person      BLOB NOT NULL,
    month       INTEGER NOT NULL,
    insurance   TEXT NOT NULL,
    region      INTEGER NOT NULL,
    payer       TEXT NOT NULL,
    payer_code  TEXT NOT NULL,
    base_fen    INTEGER NOT NULL,
    amount_fen  INTEGER NOT NULL,
    account_fen INTEGER NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    paid_on     TEXT
);
-- One record per person, month, insurance, region and payer; also the per-person lookup.
CREATE UNIQUE INDEX contributions_slot
    ON contributions (person, month, insurance, region, payer, payer_code);

CREATE TABLE postings (
    seq        INTEGER NOT NULL,
    leg        INTEGER NOT NULL,
    account    TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    PRIMARY KEY (seq, leg)
) WITHOUT ROWID;
