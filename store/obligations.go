package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ObligationRow is one regulatory duty of one incident, as indexed for the deadline board.
type ObligationRow struct {
	IncidentID             string
	ObligationID           string     // e.g. "gdpr-art33"; unique per incident
	Regime                 string     // "GDPR Art. 33"
	Jurisdiction           string     // "EU", "US-CA"
	Recipient              string     // regulator|subjects|media|credit_bureaus|other
	RecipientName          string     // e.g. "Berlin DPA"
	Deadline               string     // "72 hours"
	Standard               string     // "without undue delay" or ""
	DueAt                  *time.Time // nil: no fixed due time (a fact is missing, or "as soon as feasible")
	Status                 string     // pending|overdue|filed|waived
	MissingFacts           []string   // stored as JSON text; read back as nil when empty
	NeedsLegalConfirmation bool
	UpdatedAt              time.Time // now when zero on PutObligations
	// Filled from the incidents table on reads (not written by PutObligations):
	Severity       string
	IncidentStatus string
}

// DeadlineFilter selects the rows ListDeadlines returns; the zero value
// means every pending or overdue obligation, up to DefaultDeadlineLimit.
type DeadlineFilter struct {
	DueBefore    *time.Time // only rows with DueAt <= this (rows with nil DueAt are excluded when set)
	Statuses     []string   // empty = pending and overdue
	Jurisdiction string     // exact match ("US" does not match "US-CA"); "" = any
	IncidentID   string     // "" = any
	ActiveOnly   bool       // only incidents whose status is active
	Limit        int        // 0 = DefaultDeadlineLimit; larger than MaxDeadlineLimit is cut to it
	VisibleTo    string     // leave out restricted incidents this principal is no member of; "" = none left out
}

// Obligation statuses, as the Incident workflow reports them.
const (
	ObligationPending = "pending"
	ObligationOverdue = "overdue"
	ObligationFiled   = "filed"
	ObligationWaived  = "waived"
)

// Limits on how many rows one ListDeadlines call returns.
const (
	DefaultDeadlineLimit = 500
	MaxDeadlineLimit     = 5000
)

func validObligationStatus(s string) bool {
	switch s {
	case ObligationPending, ObligationOverdue, ObligationFiled, ObligationWaived:
		return true
	}
	return false
}

func validRecipient(r string) bool {
	switch r {
	case "regulator", "subjects", "media", "credit_bureaus", "other":
		return true
	}
	return false
}

// normalizeObligations checks rows and returns copies in stored form: the
// incident ID set, times in UTC at microsecond precision, UpdatedAt filled.
func normalizeObligations(incidentID string, rows []ObligationRow) ([]ObligationRow, error) {
	if incidentID == "" {
		return nil, fmt.Errorf("%w: incident id is empty", ErrInvalid)
	}
	stamp := now()
	seen := make(map[string]bool, len(rows))
	out := make([]ObligationRow, len(rows))
	for i, r := range rows {
		switch {
		case r.IncidentID != "" && r.IncidentID != incidentID:
			return nil, fmt.Errorf("%w: row %d belongs to incident %q, not %q", ErrInvalid, i, r.IncidentID, incidentID)
		case r.ObligationID == "":
			return nil, fmt.Errorf("%w: row %d has no obligation id", ErrInvalid, i)
		case seen[r.ObligationID]:
			return nil, fmt.Errorf("%w: obligation id %q appears twice", ErrInvalid, r.ObligationID)
		case !validRecipient(r.Recipient):
			return nil, fmt.Errorf("%w: obligation %q has unknown recipient %q", ErrInvalid, r.ObligationID, r.Recipient)
		case !validObligationStatus(r.Status):
			return nil, fmt.Errorf("%w: obligation %q has unknown status %q", ErrInvalid, r.ObligationID, r.Status)
		}
		seen[r.ObligationID] = true
		r.IncidentID = incidentID
		if r.DueAt != nil {
			d := r.DueAt.UTC().Truncate(time.Microsecond)
			r.DueAt = &d
		}
		if r.UpdatedAt.IsZero() {
			r.UpdatedAt = stamp
		}
		r.UpdatedAt = r.UpdatedAt.UTC().Truncate(time.Microsecond)
		r.MissingFacts = append([]string(nil), r.MissingFacts...)
		// Reads do not fill these from the row, so writing them would
		// only mislead a reader of the caller's code.
		r.Severity, r.IncidentStatus = "", ""
		out[i] = r
	}
	return out, nil
}

const obligationColumns = `incident_id, obligation_id, regime, jurisdiction, recipient, recipient_name,
	deadline, standard, due_at, status, missing_facts, needs_legal_confirmation, updated_at`

// PutObligations replaces the obligation rows of one incident atomically:
// rows that are not in the new set disappear. The incident must exist
// (ErrNotFound otherwise); writing the same set again changes nothing but
// UpdatedAt where the caller left it zero. Concurrent calls for one
// incident are serialised, and the last to commit wins.
func (s *SQL) PutObligations(ctx context.Context, incidentID string, rows []ObligationRow) error {
	rows, err := normalizeObligations(incidentID, rows)
	if err != nil {
		return fmt.Errorf("store: put obligations: %w", err)
	}
	// On PostgreSQL two concurrent replacements would each delete only the
	// rows they can see and then collide on insert; locking the incident row
	// orders them. NO KEY UPDATE still lets audit inserts check their
	// foreign key. SQLite's write lock already orders every writer.
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR NO KEY UPDATE"
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`+lock), incidentID).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM obligations WHERE incident_id = ?`), incidentID); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ins, err := tx.PrepareContext(ctx, s.q(`INSERT INTO obligations (`+obligationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, r := range rows {
			facts := r.MissingFacts
			if facts == nil {
				facts = []string{}
			}
			factsJSON, err := json.Marshal(facts)
			if err != nil {
				return err
			}
			var due any
			if r.DueAt != nil {
				due = s.timeArg(*r.DueAt)
			}
			if _, err := ins.ExecContext(ctx, r.IncidentID, r.ObligationID, r.Regime, r.Jurisdiction,
				r.Recipient, r.RecipientName, r.Deadline, r.Standard, due, r.Status,
				string(factsJSON), r.NeedsLegalConfirmation, s.timeArg(r.UpdatedAt)); err != nil {
				return fmt.Errorf("obligation %q: %w", r.ObligationID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put obligations for %q: %w", incidentID, err)
	}
	return nil
}

// deadlineQuery builds ListDeadlines' SQL and arguments from a filter.
func (s *SQL) deadlineQuery(f DeadlineFilter) (string, []any, error) {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{ObligationPending, ObligationOverdue}
	}
	limit := f.Limit
	switch {
	case limit < 0:
		return "", nil, fmt.Errorf("%w: negative limit %d", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultDeadlineLimit
	case limit > MaxDeadlineLimit:
		limit = MaxDeadlineLimit
	}
	var (
		where []string
		args  []any
	)
	marks := make([]string, len(statuses))
	for i, st := range statuses {
		if !validObligationStatus(st) {
			return "", nil, fmt.Errorf("%w: unknown obligation status %q", ErrInvalid, st)
		}
		marks[i] = "?"
		args = append(args, st)
	}
	where = append(where, "o.status IN ("+strings.Join(marks, ", ")+")")
	if f.DueBefore != nil {
		where = append(where, "o.due_at IS NOT NULL AND o.due_at <= ?")
		args = append(args, s.timeArg(*f.DueBefore))
	}
	if f.Jurisdiction != "" {
		where = append(where, "o.jurisdiction = ?")
		args = append(args, f.Jurisdiction)
	}
	if f.IncidentID != "" {
		where = append(where, "o.incident_id = ?")
		args = append(args, f.IncidentID)
	}
	if f.ActiveOnly {
		where = append(where, "i.status = ?")
		args = append(args, StatusActive)
	}
	if f.VisibleTo != "" {
		where = append(where, "(i.restricted = ? OR EXISTS (SELECT 1 FROM incident_members m WHERE m.incident_id = i.id AND m.principal = ?))")
		args = append(args, false, f.VisibleTo)
	}
	args = append(args, limit)
	// Fixed-width text times (SQLite) sort like timestamps (PostgreSQL), and
	// the key columns sort bytewise in both (COLLATE "C" on PostgreSQL).
	// The order is the obligations_due index's, so the page is read in
	// order and the query stops at its limit instead of sorting every open
	// duty. CROSS JOIN is an inner join that keeps SQLite's planner from
	// starting at the incidents (PostgreSQL plans it as any join).
	query := `SELECT o.incident_id, o.obligation_id, o.regime, o.jurisdiction, o.recipient,
		o.recipient_name, o.deadline, o.standard, o.due_at, o.status, o.missing_facts,
		o.needs_legal_confirmation, o.updated_at, i.severity, i.status
		FROM obligations o CROSS JOIN incidents i
		WHERE i.id = o.incident_id AND ` + strings.Join(where, " AND ") + `
		ORDER BY (o.due_at IS NULL), o.due_at, o.incident_id, o.obligation_id
		LIMIT ?`
	return s.q(query), args, nil
}

// ListDeadlines returns the obligations f selects, each with its incident's
// severity and status, ordered by DueAt ascending with nil DueAt last, then
// by incident ID and obligation ID.
func (s *SQL) ListDeadlines(ctx context.Context, f DeadlineFilter) ([]ObligationRow, error) {
	query, args, err := s.deadlineQuery(f)
	if err != nil {
		return nil, fmt.Errorf("store: list deadlines: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list deadlines: %w", err)
	}
	defer rows.Close()
	var out []ObligationRow
	for rows.Next() {
		var (
			r     ObligationRow
			due   time.Time
			facts []byte
		)
		if err := rows.Scan(&r.IncidentID, &r.ObligationID, &r.Regime, &r.Jurisdiction, &r.Recipient,
			&r.RecipientName, &r.Deadline, &r.Standard, dbTime{&due}, &r.Status, &facts,
			&r.NeedsLegalConfirmation, dbTime{&r.UpdatedAt}, &r.Severity, &r.IncidentStatus); err != nil {
			return nil, fmt.Errorf("store: list deadlines: %w", err)
		}
		if !due.IsZero() {
			r.DueAt = &due
		}
		if err := json.Unmarshal(facts, &r.MissingFacts); err != nil {
			return nil, fmt.Errorf("store: list deadlines: missing facts of %s/%s: %w", r.IncidentID, r.ObligationID, err)
		}
		if len(r.MissingFacts) == 0 {
			r.MissingFacts = nil
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list deadlines: %w", err)
	}
	return out, nil
}
