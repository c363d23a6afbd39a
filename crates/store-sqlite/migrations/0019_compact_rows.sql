-- anxin SQLite schema, migration 19 (issue 18): fewer bytes a log entry, nothing read differently.
--
-- At 10 million workers a log entry took 381 bytes; most of them were copies:
--  * a contribution's person key (32 bytes) was stored in its row, again in the slot index and
--    again in the payer index. Each person key is now stored once, in `person_ids`, and the rows
--    and indexes hold its small integer `pid` (given in the order persons first contribute, so a
--    new person's rows also land at the end of the slot index instead of at random places);
--  * a contribution's record ID was stored in its row and again as its event's `key`. It is now
--    only the event's key (`contribution_row` makes them equal, and the stored bytes are checked
--    against the rebuilt ones before a body is left empty);
--  * each event's kind was its name (up to 21 bytes). It is now an integer from `event_kinds`.
--
-- `contributions` stays, as a view with the same columns as the table it replaces, so every
-- read (and the postings view over it) reads as before; writes go to `contribution_rows`.
-- The ids of the kinds below are fixed: `events_certificates` names kind 5.
CREATE TABLE event_kinds (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO event_kinds (id, name) VALUES
    (1, 'contribution_recorded'),
    (2, 'person_registered'),
    (3, 'org_registered'),
    (4, 'child_registered'),
    (5, 'certificate_issued'),
    (6, 'access_logged'),
    (7, 'case_step'),
    (8, 'case_evidence'),
    (9, 'transfer_step'),
    (10, 'alert_step');
-- Any other kind a log holds keeps its name, under the next id.
INSERT OR IGNORE INTO event_kinds (name) SELECT DISTINCT kind FROM events ORDER BY kind;

CREATE TABLE events_compact (
    seq  INTEGER PRIMARY KEY,
    key  TEXT NOT NULL UNIQUE,
    kind INTEGER NOT NULL,
    body BLOB NOT NULL,
    leaf BLOB NOT NULL
);
INSERT INTO events_compact (seq, key, kind, body, leaf)
SELECT e.seq, e.key, k.id, e.body, e.leaf
  FROM events e JOIN event_kinds k ON k.name = e.kind
 ORDER BY e.seq;
DROP TABLE events;
ALTER TABLE events_compact RENAME TO events;
CREATE INDEX events_certificates ON events (seq) WHERE kind = 5;

CREATE TABLE person_ids (
    pid    INTEGER PRIMARY KEY,
    person BLOB NOT NULL UNIQUE
);
INSERT INTO person_ids (person)
SELECT person FROM contributions GROUP BY person ORDER BY min(seq);

CREATE TABLE contribution_rows (
    seq         INTEGER PRIMARY KEY,
    pid         INTEGER NOT NULL,
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
INSERT INTO contribution_rows
SELECT c.seq, p.pid, c.month, c.insurance, c.region, c.payer, c.payer_code, c.base_fen,
       c.amount_fen, c.account_fen, c.status, c.reason, c.paid_on
  FROM contributions c JOIN person_ids p ON p.person = c.person
 ORDER BY c.seq;
DROP TABLE contributions;
-- One record per person, month, insurance, region and payer; also the per-person lookup.
CREATE UNIQUE INDEX contributions_slot
    ON contribution_rows (pid, month, insurance, region, payer, payer_code);
-- A platform's report on its own workers (migration 4), by pid.
CREATE INDEX contributions_payer
    ON contribution_rows (payer_code, pid, month, insurance, status, amount_fen)
    WHERE payer_code <> '';

-- The rows as they read before: a row whose log entry was deleted still reads (its record ID
-- then empty), so the audit names it.
CREATE VIEW contributions (seq, record_id, person, month, insurance, region, payer, payer_code,
                           base_fen, amount_fen, account_fen, status, reason, paid_on) AS
SELECT c.seq, coalesce(e.key, ''), p.person, c.month, c.insurance, c.region, c.payer,
       c.payer_code, c.base_fen, c.amount_fen, c.account_fen, c.status, c.reason, c.paid_on
  FROM contribution_rows c
  JOIN person_ids p ON p.pid = c.pid
  LEFT JOIN events e ON e.seq = c.seq;
