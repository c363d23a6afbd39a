-- anxin PostgreSQL schema, migration 4: a platform's report on its own workers (what one
-- payer paid, person by person and month by month).
--
-- Partial: only rows with a payer's credit code (platforms and employers) are indexed, so the
-- contributions people pay themselves — most of them — cost an ingest nothing more. Queries
-- repeat `payer_code <> ''` so the planner may use it. Covering (INCLUDE): a page of workers,
-- and the month summary, can be index-only scans.
CREATE INDEX contributions_payer
    ON contributions (payer_code, person) INCLUDE (month, insurance, status, amount_fen)
    WHERE payer_code <> '';
