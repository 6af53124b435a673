-- +goose Up
-- outreach_tasks holds one personal call per high-tier customer, for the
-- customer's account manager, made before the mass notice goes out.
CREATE TABLE outreach_tasks (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id     TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    subject_id      BIGINT NOT NULL,
    account_manager TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'done')),
    note            TEXT NOT NULL,
    done_by         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    done_at         TIMESTAMPTZ,
    UNIQUE (incident_id, subject_id)
);

-- +goose Down
DROP TABLE outreach_tasks;
