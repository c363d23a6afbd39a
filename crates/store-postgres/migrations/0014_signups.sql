-- anxin PostgreSQL schema, migration 14: workers sign themselves up; clerks reset passwords (issue 13).
--
-- A sign-up request waits here until a clerk of the region it names confirms the worker's
-- identity at the first visit (and the account is made) or refuses it with a reason. The
-- resident ID, name and phone are never stored in clear: `person` is the ID's keyed hash
-- (as in persons) and `sealed` the three, sealed to that key. Not in the Merkle log: an
-- account is not a record of insurance (a confirmation is witnessed through the access log).
CREATE TABLE signups (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL,
    person        BYTEA NOT NULL,
    sealed        BYTEA NOT NULL,
    region        INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'refused')),
    reason        TEXT,
    decided_by    BIGINT,
    decided_at    BIGINT,
    account       BIGINT
);
CREATE INDEX signups_pending ON signups (region, id) WHERE state = 'pending';
CREATE UNIQUE INDEX signups_pending_name ON signups (username) WHERE state = 'pending';

-- An account whose password a clerk reset: its holder must choose a new one before any
-- session opens.
ALTER TABLE accounts ADD COLUMN must_change BOOLEAN NOT NULL DEFAULT FALSE;
