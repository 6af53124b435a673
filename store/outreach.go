package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OutreachTask is one personal call to a high-tier customer by their
// account manager before the mass notice. It names the customer by
// subject id; the caller opens the sealed contact data for the person who
// makes the call.
type OutreachTask struct {
	ID             int64
	IncidentID     string
	SubjectID      int64
	AccountManager string // "" when the import named none
	Status         string // OutreachOpen or OutreachDone
	Note           string
	DoneBy         string
	CreatedAt      time.Time
	DoneAt         *time.Time
}

// Outreach task statuses.
const (
	OutreachOpen = "open"
	OutreachDone = "done"
)

const outreachColumns = `id, incident_id, subject_id, account_manager, status, note, done_by, created_at, done_at`

// CreateOutreachTasks creates an open task for every high-tier subject of
// the incident that has none yet, and returns how many it created and how
// many are open and done in all. Calling it again after a re-upload adds
// tasks for new high-tier customers only. ErrNotFound for an unknown incident.
func (s *SQL) CreateOutreachTasks(ctx context.Context, incidentID string) (created, open, done int, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO outreach_tasks
			(incident_id, subject_id, account_manager, status, note, done_by, created_at)
			SELECT incident_id, id, account_manager, ?, '', '', ? FROM subjects WHERE incident_id = ? AND tier = ?
			ON CONFLICT (incident_id, subject_id) DO NOTHING`), OutreachOpen, s.timeArg(now()), incidentID, SubjectTierHigh)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		created = int(n)
		return err
	})
	if err == nil {
		open, done, err = s.OutreachCounts(ctx, incidentID)
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("store: create outreach tasks for %q: %w", incidentID, err)
	}
	return created, open, done, nil
}

// OutreachCounts counts the incident's open and done outreach tasks.
func (s *SQL) OutreachCounts(ctx context.Context, incidentID string) (open, done int, err error) {
	err = s.db.QueryRowContext(ctx, s.q(`SELECT
		COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0)
		FROM outreach_tasks WHERE incident_id = ?`), OutreachOpen, OutreachDone, incidentID).Scan(&open, &done)
	if err != nil {
		return 0, 0, fmt.Errorf("store: outreach counts for %q: %w", incidentID, err)
	}
	return open, done, nil
}

// ListOutreachTasks lists the incident's tasks by id; status "" means all.
func (s *SQL) ListOutreachTasks(ctx context.Context, incidentID, status string) ([]OutreachTask, error) {
	query := `SELECT ` + outreachColumns + ` FROM outreach_tasks WHERE incident_id = ?`
	args := []any{incidentID}
	switch status {
	case "":
	case OutreachOpen, OutreachDone:
		query += ` AND status = ?`
		args = append(args, status)
	default:
		return nil, fmt.Errorf("store: list outreach tasks: %w: unknown status %q", ErrInvalid, status)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list outreach tasks for %q: %w", incidentID, err)
	}
	defer rows.Close()
	out := []OutreachTask{}
	for rows.Next() {
		var (
			t    OutreachTask
			done time.Time
		)
		if err := rows.Scan(&t.ID, &t.IncidentID, &t.SubjectID, &t.AccountManager, &t.Status, &t.Note, &t.DoneBy,
			dbTime{&t.CreatedAt}, dbTime{&done}); err != nil {
			return nil, fmt.Errorf("store: list outreach tasks for %q: %w", incidentID, err)
		}
		if !done.IsZero() {
			t.DoneAt = &done
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CompleteOutreachTask marks a task done by who, with a note (no personal
// data). Completing a done task again is a no-op; a task of another
// incident or none at all is ErrNotFound.
func (s *SQL) CompleteOutreachTask(ctx context.Context, incidentID string, taskID int64, by, note string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM outreach_tasks WHERE id = ? AND incident_id = ?`), taskID, incidentID).Scan(&status)
		if err := notFound(err); err != nil {
			return fmt.Errorf("store: complete outreach task %d: %w", taskID, err)
		}
		if status == OutreachDone {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE outreach_tasks SET status = ?, note = ?, done_by = ?, done_at = ? WHERE id = ?`),
			OutreachDone, note, by, s.timeArg(now()), taskID)
		return err
	})
}
