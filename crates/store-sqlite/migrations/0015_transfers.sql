-- anxin SQLite schema, migration 15: transfers between regional instances (issue 14).
--
-- The state machine of `anxin_service::transfer::machine` commits every message in one
-- transaction: the transfer's new state (here, and as a `transfer_step` event in the log),
-- the outbox, the reply stored under the message's sender and idempotency key, and at the
-- destination the months received with their provenance (origin, its log entry, the size of
-- the checkpoint it was proven at). No resident ID or name: a person is the keyed hash of
-- this instance (`person`), the ID crosses only sealed inside the signed messages.
CREATE TABLE transfers (
    id        TEXT PRIMARY KEY,
    role      TEXT NOT NULL CHECK (role IN ('origin', 'destination')),
    peer      TEXT NOT NULL,
    state     TEXT NOT NULL,
    since     TEXT NOT NULL,
    due       TEXT,
    package   TEXT,
    refusal   TEXT,
    seal      TEXT,
    person    BLOB,
    request   TEXT,
    received  TEXT
);
CREATE INDEX transfers_person ON transfers (person);
CREATE INDEX transfers_state ON transfers (state);

-- Messages waiting to be (re)sent, by their idempotency key.
CREATE TABLE transfer_outbox (
    key       TEXT PRIMARY KEY,
    peer      TEXT NOT NULL,
    transfer  TEXT NOT NULL,
    message   TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    next_try  INTEGER NOT NULL
);

-- The reply given to each message handled (NULL: nothing to answer), per sender, so a
-- message sent again is answered with the same bytes and never acted on twice.
CREATE TABLE transfer_replies (
    sender    TEXT NOT NULL,
    idem      TEXT NOT NULL,
    reply     TEXT,
    PRIMARY KEY (sender, idem)
);

-- Months received at the destination, with where each comes from.
CREATE TABLE transfer_months (
    transfer        TEXT NOT NULL,
    n               INTEGER NOT NULL,
    origin          TEXT NOT NULL,
    entry           INTEGER NOT NULL,
    checkpoint_size INTEGER NOT NULL,
    region          INTEGER NOT NULL,
    month           INTEGER NOT NULL,
    insurance       TEXT NOT NULL,
    base_fen        INTEGER NOT NULL,
    person          BLOB NOT NULL,
    PRIMARY KEY (transfer, n)
);
CREATE INDEX transfer_months_person ON transfer_months (person);
