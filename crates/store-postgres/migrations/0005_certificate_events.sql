-- anxin schema, migration 5: the certificates the log has issued, found without reading the
-- whole log (the school office's identification ledger reads every school attestation).
--
-- Partial: only certificate events are indexed, so an ingest of contributions costs nothing
-- more. Queries repeat `kind = 'certificate_issued'` so the planner may use it.
CREATE INDEX events_certificates ON events (seq) WHERE kind = 'certificate_issued';
