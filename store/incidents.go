package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// incidentAlphabet is Crockford's base32: no I, L, O or U, so an ID read
// aloud on a bridge call or copied by hand survives.
const incidentAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewIncidentID returns "BR-" followed by six random Crockford base32
// characters (30 bits): short enough to say, and CreateIncident retries the
// rare collision.
func NewIncidentID() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: new incident id: %w", err)
	}
	out := []byte("BR-")
	for _, c := range b {
		out = append(out, incidentAlphabet[c&31])
	}
	return string(out), nil
}

const incidentColumns = `id, playbook_id, playbook_version, severity, status,
	external_ref, idempotency_key, request_digest, created_by, created_at, restricted, title, phase`

func scanIncident(row interface{ Scan(...any) error }, more ...any) (Incident, error) {
	var in Incident
	err := row.Scan(append([]any{&in.ID, &in.PlaybookID, &in.PlaybookVersion, &in.Severity, &in.Status,
		&in.ExternalRef, &in.IdempotencyKey, &in.RequestDigest, &in.CreatedBy, dbTime{&in.CreatedAt}, &in.Restricted, &in.Title, &in.Phase}, more...)...)
	return in, err
}

func validStatus(s string) bool { return s == StatusActive || s == StatusClosed }

// CreateIncident inserts in unless an incident with the same non-empty
// IdempotencyKey or ExternalRef exists, in which case that one is returned
// with created=false (a matching IdempotencyKey wins over ExternalRef).
// Uniqueness is enforced by partial unique indexes and ON CONFLICT DO
// NOTHING, so concurrent duplicates resolve to exactly one insert.
func (s *SQL) CreateIncident(ctx context.Context, in Incident) (Incident, bool, error) {
	if in.PlaybookID == "" {
		return Incident{}, false, fmt.Errorf("store: create incident: %w: playbook id is empty", ErrInvalid)
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	if !validStatus(in.Status) {
		return Incident{}, false, fmt.Errorf("store: create incident: %w: unknown status %q", ErrInvalid, in.Status)
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = now()
	}
	if len(in.Members) > 0 && !in.Restricted {
		return Incident{}, false, fmt.Errorf("store: create incident: %w: members given for an unrestricted incident", ErrInvalid)
	}
	for _, m := range in.Members {
		if err := validPrincipal(m); err != nil {
			return Incident{}, false, fmt.Errorf("store: create incident: %w", err)
		}
	}
	generated := in.ID == ""
	for attempt := 0; ; attempt++ {
		if generated {
			id, err := NewIncidentID()
			if err != nil {
				return Incident{}, false, err
			}
			in.ID = id
		}
		got, created, err := s.createIncidentOnce(ctx, in)
		if errors.Is(err, ErrConflict) && generated && attempt < 5 {
			continue // a random ID collided with another incident's; draw again
		}
		if err != nil {
			return Incident{}, false, fmt.Errorf("store: create incident: %w", err)
		}
		return got, created, nil
	}
}

func (s *SQL) createIncidentOnce(ctx context.Context, in Incident) (Incident, bool, error) {
	var got Incident
	created := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO incidents (`+incidentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			in.ID, in.PlaybookID, in.PlaybookVersion, in.Severity, in.Status,
			in.ExternalRef, in.IdempotencyKey, in.RequestDigest, in.CreatedBy, s.timeArg(in.CreatedAt), in.Restricted, in.Title, in.Phase)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			created = true
			for _, m := range in.Members {
				if err := s.addMember(ctx, tx, in.ID, m, in.CreatedBy, in.CreatedAt); err != nil {
					return err
				}
			}
			got, err = scanIncident(tx.QueryRowContext(ctx, s.q(`SELECT `+incidentColumns+` FROM incidents WHERE id = ?`), in.ID))
			return err
		}
		// Something unique clashed. In PostgreSQL's READ COMMITTED the
		// conflicting row is committed by now (ON CONFLICT waited for it),
		// and SQLite has one writer, so a plain lookup finds it.
		for _, by := range []struct{ col, val string }{
			{"idempotency_key", in.IdempotencyKey},
			{"external_ref", in.ExternalRef},
		} {
			if by.val == "" {
				continue
			}
			got, err = scanIncident(tx.QueryRowContext(ctx, s.q(`SELECT `+incidentColumns+` FROM incidents WHERE `+by.col+` = ?`), by.val))
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return fmt.Errorf("%w: incident id %q is taken", ErrConflict, in.ID)
	})
	return got, created, err
}

// GetIncident returns the incident with this ID, or ErrNotFound.
func (s *SQL) GetIncident(ctx context.Context, id string) (Incident, error) {
	in, err := scanIncident(s.db.QueryRowContext(ctx, s.q(`SELECT `+incidentColumns+` FROM incidents WHERE id = ?`), id))
	if err != nil {
		return Incident{}, fmt.Errorf("store: get incident %q: %w", id, notFound(err))
	}
	return in, nil
}

// SetIncidentStatus sets the status to StatusActive or StatusClosed.
func (s *SQL) SetIncidentStatus(ctx context.Context, id, status string) error {
	if !validStatus(status) {
		return fmt.Errorf("store: set incident status: %w: unknown status %q", ErrInvalid, status)
	}
	return s.setIncident(ctx, id, "status", status)
}

// MaxPhaseLen bounds a phase: a step id, "awaiting-close" or "closed".
const MaxPhaseLen = 100

// SetIncidentPhase records the phase the incident's workflow is in, for
// lists and boards; ErrNotFound for an unknown id.
func (s *SQL) SetIncidentPhase(ctx context.Context, id, phase string) error {
	if phase == "" || len(phase) > MaxPhaseLen {
		return fmt.Errorf("store: set incident phase: %w: want 1 to %d bytes, got %d", ErrInvalid, MaxPhaseLen, len(phase))
	}
	return s.setIncident(ctx, id, "phase", phase)
}

// setIncident sets one column (a constant of the caller's, never input)
// of one incident; ErrNotFound for an unknown id.
func (s *SQL) setIncident(ctx context.Context, id, column, value string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE incidents SET `+column+` = ? WHERE id = ?`), value, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set incident %s %q: %w", column, id, err)
	}
	return nil
}

// IncidentFilter selects the incidents ListIncidents returns, newest
// first; the zero value means all, up to DefaultIncidentLimit.
type IncidentFilter struct {
	Status     string // StatusActive or StatusClosed; "" = any
	Severity   string // "" = any
	PlaybookID string // "" = any
	// VisibleTo leaves out restricted incidents this principal is no
	// member of; "" = none left out (an admin).
	VisibleTo string
	// After continues a listing after this incident (the last of the
	// previous page); nil = from the newest.
	After *IncidentCursor
	Limit int // 0 = DefaultIncidentLimit; at most MaxIncidentLimit
}

// IncidentCursor is where a page of ListIncidents ended.
type IncidentCursor struct {
	CreatedAt time.Time
	ID        string
}

// IncidentListing is a row of ListIncidents: the incident and the
// soonest due time of its open obligations (nil when none is due).
type IncidentListing struct {
	Incident
	NextDeadline *time.Time
}

// Limits of ListIncidents.
const (
	DefaultIncidentLimit = 50
	MaxIncidentLimit     = 500
)

// ListIncidents returns the incidents f selects, newest first (by
// CreatedAt, then ID), each with its next deadline from the obligations
// index. Restricted incidents the principal may not see are left out in
// the query, so a page holds Limit rows whenever that many remain.
func (s *SQL) ListIncidents(ctx context.Context, f IncidentFilter) ([]IncidentListing, error) {
	query, args, err := s.incidentListQuery(f)
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	defer rows.Close()
	var out []IncidentListing
	for rows.Next() {
		var next time.Time
		in, err := scanIncident(rows, dbTime{&next})
		if err != nil {
			return nil, fmt.Errorf("store: list incidents: %w", err)
		}
		row := IncidentListing{Incident: in}
		if !next.IsZero() {
			row.NextDeadline = &next
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	return out, nil
}

// incidentListQuery builds ListIncidents' SQL and arguments from a filter.
func (s *SQL) incidentListQuery(f IncidentFilter) (string, []any, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return "", nil, fmt.Errorf("%w: negative limit %d", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultIncidentLimit
	case limit > MaxIncidentLimit:
		limit = MaxIncidentLimit
	}
	if f.Status != "" && !validStatus(f.Status) {
		return "", nil, fmt.Errorf("%w: unknown status %q", ErrInvalid, f.Status)
	}
	where := []string{"1 = 1"}
	args := []any{ObligationPending, ObligationOverdue} // the select list's, first in the text
	if f.Status != "" {
		where = append(where, "i.status = ?")
		args = append(args, f.Status)
	}
	if f.Severity != "" {
		where = append(where, "i.severity = ?")
		args = append(args, f.Severity)
	}
	if f.PlaybookID != "" {
		where = append(where, "i.playbook_id = ?")
		args = append(args, f.PlaybookID)
	}
	if f.VisibleTo != "" {
		where = append(where, "(i.restricted = ? OR EXISTS (SELECT 1 FROM incident_members m WHERE m.incident_id = i.id AND m.principal = ?))")
		args = append(args, false, f.VisibleTo)
	}
	if f.After != nil {
		at := s.timeArg(f.After.CreatedAt)
		where = append(where, "(i.created_at < ? OR (i.created_at = ? AND i.id < ?))")
		args = append(args, at, at, f.After.ID)
	}
	args = append(args, limit)
	// The page is cut first (on the incidents_newest index), so the next
	// deadline is looked up for its rows only, not for every incident.
	cols := "i." + strings.Join(strings.Fields(incidentColumns), " i.")
	query := `SELECT ` + cols + `,
		(SELECT MIN(o.due_at) FROM obligations o WHERE o.incident_id = i.id AND o.status IN (?, ?))
		FROM (SELECT * FROM incidents i WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY i.created_at DESC, i.id DESC LIMIT ?) i
		ORDER BY i.created_at DESC, i.id DESC`
	return s.q(query), args, nil
}
