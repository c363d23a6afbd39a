-- anxin SQLite schema, migration 6: each access log row is chained into the Merkle log.
--
-- `seq` is the log entry (`access_logged`) carrying the row's keyed hash, written in the same
-- transaction; the audit recomputes the hash and names a row removed or altered, even one
-- removed with the append-only triggers dropped. Rows from before this migration have none.
-- (SQLite has no TRUNCATE: its DELETE is already refused by the trigger of migration 3.)
ALTER TABLE access_log ADD COLUMN seq INTEGER;
