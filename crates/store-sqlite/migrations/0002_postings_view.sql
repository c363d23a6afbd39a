-- anxin SQLite schema, migration 2: the double entries become a view over contributions.
--
-- Each contribution's postings are fully determined by its row (payer → pooling fund and
-- personal account; subsidy or voucher fund → worker → funds). Storing them as rows tripled
-- the writes of an ingest and added a copy that could drift; as a view they are the posting
-- rule itself, in SQL, and the audit checks that this rule gives exactly the legs the
-- records service derives from each event (`ContributionEvent::postings`).
DROP TABLE postings;

CREATE VIEW postings (seq, leg, account, amount_fen) AS
-- Leg 0: the payer (a subsidy or voucher fund pays the worker first).
SELECT seq, 0,
       CASE payer
           WHEN 'self' THEN 'worker:' || lower(hex(person))
           WHEN 'platform' THEN 'org:' || payer_code
           WHEN 'employer' THEN 'org:' || payer_code
           ELSE 'fund:' || payer || ':' || printf('%06d', region)
       END,
       -amount_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0
UNION ALL
SELECT seq, 1, 'worker:' || lower(hex(person)), amount_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND payer IN ('subsidy', 'voucher')
UNION ALL
SELECT seq, 2, 'worker:' || lower(hex(person)), -amount_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND payer IN ('subsidy', 'voucher')
UNION ALL
-- The pooling fund gets what the personal account does not.
SELECT seq, CASE WHEN payer IN ('subsidy', 'voucher') THEN 3 ELSE 1 END,
       'pool:' || insurance || ':' || printf('%06d', region), amount_fen - account_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND amount_fen <> account_fen
UNION ALL
SELECT seq, CASE WHEN payer IN ('subsidy', 'voucher') THEN 3 ELSE 1 END
            + CASE WHEN amount_fen <> account_fen THEN 1 ELSE 0 END,
       'personal:' || insurance || ':' || lower(hex(person)), account_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND account_fen <> 0;
