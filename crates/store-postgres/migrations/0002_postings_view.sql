-- anxin PostgreSQL schema, migration 2: the double entries become a view over contributions.
--
-- Each contribution's postings are fully determined by its row (payer → pooling fund and
-- personal account; subsidy or voucher fund → worker → funds). Storing them as rows tripled
-- the writes of an ingest and added a copy that could drift; as a view they are the posting
-- rule itself, in SQL, and the audit checks that this rule gives exactly the legs the
-- records service derives from each event (`ContributionEvent::postings`).
DROP TABLE postings;

CREATE VIEW postings (seq, leg, account, amount_fen) AS
SELECT seq, 0,
       (CASE payer
           WHEN 'self' THEN 'worker:' || encode(person, 'hex')
           WHEN 'platform' THEN 'org:' || payer_code
           WHEN 'employer' THEN 'org:' || payer_code
           ELSE 'fund:' || payer || ':' || lpad(region::text, 6, '0')
       END) COLLATE "C",
       -amount_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0
UNION ALL
SELECT seq, 1, ('worker:' || encode(person, 'hex')) COLLATE "C", amount_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND payer IN ('subsidy', 'voucher')
UNION ALL
SELECT seq, 2, ('worker:' || encode(person, 'hex')) COLLATE "C", -amount_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND payer IN ('subsidy', 'voucher')
UNION ALL
SELECT seq, CASE WHEN payer IN ('subsidy', 'voucher') THEN 3 ELSE 1 END,
       ('pool:' || insurance || ':' || lpad(region::text, 6, '0')) COLLATE "C", amount_fen - account_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND amount_fen <> account_fen
UNION ALL
SELECT seq, CASE WHEN payer IN ('subsidy', 'voucher') THEN 3 ELSE 1 END
            + CASE WHEN amount_fen <> account_fen THEN 1 ELSE 0 END,
       ('personal:' || insurance || ':' || encode(person, 'hex')) COLLATE "C", account_fen
  FROM contributions
 WHERE status IN ('paid', 'backpaid') AND amount_fen <> 0 AND account_fen <> 0;
