-- anxin SQLite schema, migration 7: import jobs that survive a restart.
--
-- The file itself is kept with the job, and the job's progress and refusals are written in
-- the same transaction as each batch's events, so a restarted server resumes after the last
-- durable batch. Not in the Merkle log: a job is how rows arrived, not a record of insurance.
CREATE TABLE import_jobs (
    id         INTEGER PRIMARY KEY,
    owner      INTEGER NOT NULL,
    file_name  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    format     TEXT NOT NULL,
    today      TEXT NOT NULL,
    -- The uploaded file; empty for a file of the command line, which stays at `path`.
    content    BLOB NOT NULL,
    path       TEXT,
    -- SHA-256 of the file (hex): the same file imported again resumes its unfinished job.
    digest     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    rows_total INTEGER NOT NULL DEFAULT 0,
    rows_read  INTEGER NOT NULL DEFAULT 0,
    last_row   INTEGER NOT NULL DEFAULT 0,
    read       INTEGER NOT NULL DEFAULT 0,
    added      INTEGER NOT NULL DEFAULT 0,
    unchanged  INTEGER NOT NULL DEFAULT 0,
    rejected   INTEGER NOT NULL DEFAULT 0,
    finished   INTEGER NOT NULL DEFAULT 0,
    error_zh   TEXT,
    error_en   TEXT
);
CREATE INDEX import_jobs_unfinished ON import_jobs (id) WHERE finished = 0;

CREATE TABLE import_refusals (
    job      INTEGER NOT NULL REFERENCES import_jobs (id),
    n        INTEGER NOT NULL,
    row_no   INTEGER NOT NULL,
    col      TEXT NOT NULL,
    value    TEXT NOT NULL,
    zh       TEXT NOT NULL,
    en       TEXT NOT NULL,
    PRIMARY KEY (job, n)
) WITHOUT ROWID;
