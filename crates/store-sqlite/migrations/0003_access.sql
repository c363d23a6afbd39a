-- anxin SQLite schema, migration 3: accounts, sessions and the access log (SPEC §X2).
--
-- None of this is in the Merkle log: accounts and sessions are not records of insurance, and
-- the access log is the person's view of who read their data. It is append-only: the
-- triggers refuse every UPDATE and DELETE.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    region        INTEGER,
    person        BLOB,
    org           TEXT,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX accounts_person ON accounts (person) WHERE person IS NOT NULL;

-- Only the SHA-256 of each session token is stored.
CREATE TABLE sessions (
    token      BLOB PRIMARY KEY,
    account    INTEGER NOT NULL REFERENCES accounts (id),
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE access_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    account  INTEGER NOT NULL,
    username TEXT NOT NULL,
    role     TEXT NOT NULL,
    person   BLOB NOT NULL,
    what     TEXT NOT NULL,
    purpose  TEXT NOT NULL
);
CREATE INDEX access_log_person ON access_log (person, id);

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
