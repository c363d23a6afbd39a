-- Cases (issue 15): every step of a case, projected from its `case_step` event; the `cases`
-- view is each case's latest step. Rebuilt and checked by the audit from the events alone.
CREATE TABLE case_steps (
    seq           BIGINT PRIMARY KEY,
    case_id       TEXT NOT NULL,
    step          INTEGER NOT NULL,
    case_kind     TEXT NOT NULL,
    action        TEXT NOT NULL,
    state         TEXT NOT NULL,
    person        BYTEA NOT NULL,
    region        INTEGER NOT NULL,
    holder_role   TEXT NOT NULL,
    holder_region INTEGER NOT NULL,
    level         INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    at            BIGINT NOT NULL,
    since         BIGINT NOT NULL,
    due           BIGINT,
    clock         TEXT,
    outcome       TEXT,
    subject       TEXT,
    party         TEXT,
    UNIQUE (case_id, step)
);
CREATE INDEX case_steps_person ON case_steps (person);
CREATE VIEW cases AS
    SELECT s.* FROM case_steps s
    WHERE s.step = (SELECT MAX(t.step) FROM case_steps t WHERE t.case_id = s.case_id);
