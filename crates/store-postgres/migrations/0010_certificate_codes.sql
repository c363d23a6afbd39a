-- anxin PostgreSQL schema, migration 10: certificates found by their short verification
-- code (issue 13).
--
-- The log holds only a certificate's hash; to show anyone who types the code what is
-- certified, the document and its signature are kept here, sealed with the data key and
-- bound to the holder (the document names them). `code` is the 16-character code without
-- dashes: a keyed hash of the document's hash, so it cannot be read from the public log.
-- Not a projection (the log cannot rebuild it): the lookup checks each row against the log
-- entry at `seq` and refuses one that does not match.
CREATE TABLE certificate_codes (
    code   TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    person BYTEA NOT NULL,
    sealed BYTEA NOT NULL
);
