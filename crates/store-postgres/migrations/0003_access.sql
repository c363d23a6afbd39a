-- anxin PostgreSQL schema, migration 3: accounts, sessions and the access log (SPEC §X2).
--
-- None of this is in the Merkle log: accounts and sessions are not records of insurance, and
-- the access log is the person's view of who read their data. It is append-only: the
-- trigger refuses every UPDATE and DELETE.
CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    region        INTEGER,
    person        BYTEA,
    org           TEXT,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX accounts_person ON accounts (person) WHERE person IS NOT NULL;

-- Only the SHA-256 of each session token is stored.
CREATE TABLE sessions (
    token      BYTEA PRIMARY KEY,
    account    BIGINT NOT NULL REFERENCES accounts (id),
    expires_at BIGINT NOT NULL
);

CREATE TABLE access_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    account  BIGINT NOT NULL,
    username TEXT NOT NULL,
    role     TEXT NOT NULL,
    person   BYTEA NOT NULL,
    what     TEXT NOT NULL,
    purpose  TEXT NOT NULL
);
CREATE INDEX access_log_person ON access_log (person, id);

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
