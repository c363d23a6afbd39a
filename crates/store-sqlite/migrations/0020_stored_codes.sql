-- anxin SQLite schema, migration 20 (issue 18): a contribution's codes as small integers.
--
-- After migration 19 a log entry took 255 bytes at 1.4 M entries and 260 at 14 M. Each row still
-- spelled out its insurance ('unemployment'), payer ('self'), status ('paid') and gap reason,
-- and the slot index spelled the first two again. Each is now the integer of its code in
-- `stored_codes`, one byte in a row or an index entry.
--
-- The ids are fixed, and within each list they follow the codes' alphabetical order, so rows and
-- the slot index sort exactly as they did when the codes were text. `anxin-store-sqlite` writes
-- and reads these ids (`codes.rs`); a test checks that its lists are this table. A code added
-- later takes the next id of its list, in a migration of its own.
CREATE TABLE stored_codes (
    list TEXT NOT NULL,
    id   INTEGER NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (list, id),
    UNIQUE (list, code)
) WITHOUT ROWID;
INSERT INTO stored_codes (list, id, code) VALUES
    ('insurance', 1, 'injury'),
    ('insurance', 2, 'maternity'),
    ('insurance', 3, 'medical'),
    ('insurance', 4, 'pension'),
    ('insurance', 5, 'unemployment'),
    ('payer', 1, 'employer'),
    ('payer', 2, 'platform'),
    ('payer', 3, 'self'),
    ('payer', 4, 'subsidy'),
    ('payer', 5, 'voucher'),
    ('status', 1, 'backpaid'),
    ('status', 2, 'deferred'),
    ('status', 3, 'excused'),
    ('status', 4, 'paid'),
    ('status', 5, 'unpaid'),
    ('reason', 1, 'care'),
    ('reason', 2, 'childbirth'),
    ('reason', 3, 'illness'),
    ('reason', 4, 'other'),
    ('reason', 5, 'platform_rule'),
    ('reason', 6, 'unemployment');

-- The old table is renamed first, so that no view is left naming a table that is not there
-- while the new one is made (the postings view reads `contributions`, remade below).
ALTER TABLE contribution_rows RENAME TO contribution_text;
CREATE TABLE contribution_rows (
    seq         INTEGER PRIMARY KEY,
    pid         INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    insurance   INTEGER NOT NULL,
    region      INTEGER NOT NULL,
    payer       INTEGER NOT NULL,
    payer_code  TEXT NOT NULL,
    base_fen    INTEGER NOT NULL,
    amount_fen  INTEGER NOT NULL,
    account_fen INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    reason      INTEGER,
    paid_on     TEXT
);
-- A stored code in no list (an edited row) becomes -1, which is no code either: the row then
-- reads as corrupt, as it did before, and the audit names it.
INSERT INTO contribution_rows
SELECT c.seq, c.pid, c.month,
       coalesce((SELECT id FROM stored_codes WHERE list = 'insurance' AND code = c.insurance), -1),
       c.region,
       coalesce((SELECT id FROM stored_codes WHERE list = 'payer' AND code = c.payer), -1),
       c.payer_code, c.base_fen, c.amount_fen, c.account_fen,
       coalesce((SELECT id FROM stored_codes WHERE list = 'status' AND code = c.status), -1),
       CASE WHEN c.reason IS NULL THEN NULL
            ELSE coalesce((SELECT id FROM stored_codes WHERE list = 'reason' AND code = c.reason), -1)
       END,
       c.paid_on
  FROM contribution_text c
 ORDER BY c.seq;
DROP VIEW contributions;
DROP TABLE contribution_text;
-- One record per person, month, insurance, region and payer; also the per-person lookup.
CREATE UNIQUE INDEX contributions_slot
    ON contribution_rows (pid, month, insurance, region, payer, payer_code);
-- A platform's report on its own workers (migration 4).
CREATE INDEX contributions_payer
    ON contribution_rows (payer_code, pid, month, insurance, status, amount_fen)
    WHERE payer_code <> '';

-- The rows as they read before migration 20, codes as text.
CREATE VIEW contributions (seq, record_id, person, month, insurance, region, payer, payer_code,
                           base_fen, amount_fen, account_fen, status, reason, paid_on) AS
SELECT c.seq, coalesce(e.key, ''), p.person, c.month,
       (SELECT code FROM stored_codes WHERE list = 'insurance' AND id = c.insurance),
       c.region,
       (SELECT code FROM stored_codes WHERE list = 'payer' AND id = c.payer),
       c.payer_code, c.base_fen, c.amount_fen, c.account_fen,
       (SELECT code FROM stored_codes WHERE list = 'status' AND id = c.status),
       (SELECT code FROM stored_codes WHERE list = 'reason' AND id = c.reason),
       c.paid_on
  FROM contribution_rows c
  JOIN person_ids p ON p.pid = c.pid
  LEFT JOIN events e ON e.seq = c.seq;

-- The postings view (migration 2), the same rule read from the rows as stored: its filters
-- compare ids (status 1 backpaid and 4 paid; payer 1 employer, 2 platform, 3 self, 4 subsidy,
-- 5 voucher), and a code is spelled out only in the account name of a leg it gives, the
-- insurance by a CASE (as fast as the text was; a lookup in `stored_codes` per leg took 1.2×
-- as long). Read through the view above, the legs took 2.8× as long: every filter turned
-- every row's codes into text. A test checks each insurance's account names.
DROP VIEW postings;
CREATE VIEW postings (seq, leg, account, amount_fen) AS
-- Leg 0: the payer (a subsidy or voucher fund pays the worker first).
SELECT c.seq, 0,
       CASE c.payer
           WHEN 3 THEN 'worker:' || lower(hex(p.person))
           WHEN 2 THEN 'org:' || c.payer_code
           WHEN 1 THEN 'org:' || c.payer_code
           ELSE 'fund:' || (SELECT code FROM stored_codes WHERE list = 'payer' AND id = c.payer)
                || ':' || printf('%06d', c.region)
       END,
       -c.amount_fen
  FROM contribution_rows c JOIN person_ids p ON p.pid = c.pid
 WHERE c.status IN (1, 4) AND c.amount_fen <> 0
UNION ALL
SELECT c.seq, 1, 'worker:' || lower(hex(p.person)), c.amount_fen
  FROM contribution_rows c JOIN person_ids p ON p.pid = c.pid
 WHERE c.status IN (1, 4) AND c.amount_fen <> 0 AND c.payer IN (4, 5)
UNION ALL
SELECT c.seq, 2, 'worker:' || lower(hex(p.person)), -c.amount_fen
  FROM contribution_rows c JOIN person_ids p ON p.pid = c.pid
 WHERE c.status IN (1, 4) AND c.amount_fen <> 0 AND c.payer IN (4, 5)
UNION ALL
-- The pooling fund gets what the personal account does not.
SELECT c.seq, CASE WHEN c.payer IN (4, 5) THEN 3 ELSE 1 END,
       'pool:' || CASE c.insurance WHEN 1 THEN 'injury' WHEN 2 THEN 'maternity' WHEN 3 THEN 'medical'
                          WHEN 4 THEN 'pension' WHEN 5 THEN 'unemployment' END
           || ':' || printf('%06d', c.region),
       c.amount_fen - c.account_fen
  FROM contribution_rows c JOIN person_ids p ON p.pid = c.pid
 WHERE c.status IN (1, 4) AND c.amount_fen <> 0 AND c.amount_fen <> c.account_fen
UNION ALL
SELECT c.seq, CASE WHEN c.payer IN (4, 5) THEN 3 ELSE 1 END
            + CASE WHEN c.amount_fen <> c.account_fen THEN 1 ELSE 0 END,
       'personal:' || CASE c.insurance WHEN 1 THEN 'injury' WHEN 2 THEN 'maternity' WHEN 3 THEN 'medical'
                          WHEN 4 THEN 'pension' WHEN 5 THEN 'unemployment' END
           || ':' || lower(hex(p.person)),
       c.account_fen
  FROM contribution_rows c JOIN person_ids p ON p.pid = c.pid
 WHERE c.status IN (1, 4) AND c.amount_fen <> 0 AND c.account_fen <> 0;
