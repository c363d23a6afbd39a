-- Steps on monitor alerts (issue 16): every step a grid worker takes on an alert of the
-- monthly run (acknowledge, contact, close), projected from its `alert_step` event. The alert
-- is named by the run's month and the monitor's pseudonym, never a resident ID. Rebuilt and
-- checked by the audit from the events alone.
CREATE TABLE alert_steps (
    seq        INTEGER PRIMARY KEY,
    alert_id   TEXT NOT NULL,
    step       INTEGER NOT NULL,
    month      TEXT NOT NULL,
    area       TEXT NOT NULL,
    alert_kind TEXT NOT NULL,
    person     TEXT NOT NULL,
    action     TEXT NOT NULL,
    state      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    via        TEXT,
    contact_at INTEGER,
    note       TEXT,
    outcome    TEXT,
    UNIQUE (alert_id, step)
);
CREATE INDEX alert_steps_month ON alert_steps (month, alert_id, step);
