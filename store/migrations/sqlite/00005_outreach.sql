-- +goose Up
-- outreach_tasks holds one personal call per high-tier customer, for the
-- customer's account manager, made before the mass notice goes out.
CREATE TABLE outreach_tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    subject_id      INTEGER NOT NULL,
    account_manager TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'done')),
    note            TEXT NOT NULL,
    done_by         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    done_at         TEXT,
    UNIQUE (incident_id, subject_id)
);

-- +goose Down
DROP TABLE outreach_tasks;
