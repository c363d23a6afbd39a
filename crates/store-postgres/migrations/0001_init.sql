-- anxin PostgreSQL schema, migration 1. Migrations are append-only: never edit a released one.
-- The same tables as the SQLite backend. Text that is compared or ordered is COLLATE "C", so
-- ordering is bytewise exactly as in SQLite (the audit merges sorted lists from both).
CREATE TABLE meta (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);

-- The log: one row per event, in sequence order from 0. `leaf` is the RFC 9162 leaf hash
-- of `body`; the audit recomputes it.
CREATE TABLE events (
    seq  BIGINT PRIMARY KEY,
    key  TEXT COLLATE "C" NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body BYTEA NOT NULL,
    leaf BYTEA NOT NULL
);

-- Exactly one row (id = 1) once the log is initialised; writers lock it FOR UPDATE.
CREATE TABLE head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    size       BIGINT NOT NULL,
    root       BYTEA NOT NULL,
    frontier   BYTEA NOT NULL,
    checkpoint TEXT NOT NULL
);

CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY,
    text TEXT NOT NULL
);

-- Projections: each row can be recomputed from the events.
CREATE TABLE persons (
    person           BYTEA PRIMARY KEY,
    sealed           BYTEA NOT NULL,
    hukou_region     INTEGER,
    residence_region INTEGER NOT NULL,
    employment_form  TEXT NOT NULL,
    platforms        TEXT NOT NULL,
    permit_region    INTEGER,
    permit_since     TEXT,
    household        TEXT,
    seq              BIGINT NOT NULL
);

CREATE TABLE orgs (
    code   TEXT COLLATE "C" PRIMARY KEY,
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    region INTEGER NOT NULL,
    seq    BIGINT NOT NULL
);

CREATE TABLE children (
    child         BYTEA PRIMARY KEY,
    sealed        BYTEA NOT NULL,
    guardian      BYTEA NOT NULL,
    relation      TEXT NOT NULL,
    school_region INTEGER,
    seq           BIGINT NOT NULL
);
CREATE INDEX children_guardian ON children (guardian);

CREATE TABLE contributions (
    seq         BIGINT PRIMARY KEY,
    record_id   TEXT NOT NULL,
    person      BYTEA NOT NULL,
    month       INTEGER NOT NULL,
    insurance   TEXT COLLATE "C" NOT NULL,
    region      INTEGER NOT NULL,
    payer       TEXT COLLATE "C" NOT NULL,
    payer_code  TEXT COLLATE "C" NOT NULL,
    base_fen    BIGINT NOT NULL,
    amount_fen  BIGINT NOT NULL,
    account_fen BIGINT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    paid_on     TEXT
);
-- One record per person, month, insurance, region and payer; also the per-person lookup.
CREATE UNIQUE INDEX contributions_slot
    ON contributions (person, month, insurance, region, payer, payer_code);

CREATE TABLE postings (
    seq        BIGINT NOT NULL,
    leg        INTEGER NOT NULL,
    account    TEXT COLLATE "C" NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (seq, leg)
);
