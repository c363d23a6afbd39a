-- anxin PostgreSQL schema, migration 6: the access log refuses TRUNCATE too, and each row is
-- chained into the Merkle log.
--
-- The row triggers of migration 3 refuse UPDATE and DELETE but TRUNCATE fires no row trigger:
-- a statement trigger refuses it. `seq` is the log entry (`access_logged`) carrying the row's
-- keyed hash, written in the same transaction; the audit recomputes the hash and names a row
-- removed or altered, even with the triggers disabled. Rows from before this migration have
-- none.
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
ALTER TABLE access_log ADD COLUMN seq BIGINT;
