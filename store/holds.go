package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrHeld reports that an incident under legal hold refused a deletion.
var ErrHeld = errors.New("store: incident is under legal hold")

// Hold is one legal hold of an incident, placed and perhaps lifted.
type Hold struct {
	ID         int64
	IncidentID string
	PlacedBy   string
	PlacedAt   time.Time
	Reason     string
	LiftedBy   string    // "" while the hold stands
	LiftedAt   time.Time // zero while the hold stands
	LiftReason string
}

// Active reports whether the hold still stands.
func (h Hold) Active() bool { return h.LiftedAt.IsZero() }

// HoldChange is who places or lifts a hold, when and why.
type HoldChange struct {
	IncidentID string
	By         string // token name
	Reason     string // kept for the record; required
	At         time.Time
}

// maxHoldReason bounds a hold's reason, as other free texts are bounded.
const maxHoldReason = 4000

func (h HoldChange) check(op string) (HoldChange, error) {
	h.Reason = strings.TrimSpace(h.Reason)
	switch {
	case h.IncidentID == "":
		return h, fmt.Errorf("store: %s: %w: incident id is empty", op, ErrInvalid)
	case h.By == "":
		return h, fmt.Errorf("store: %s: %w: by is empty", op, ErrInvalid)
	case h.Reason == "":
		return h, fmt.Errorf("store: %s: %w: a reason is required", op, ErrInvalid)
	case len(h.Reason) > maxHoldReason:
		return h, fmt.Errorf("store: %s: %w: the reason is longer than %d characters", op, ErrInvalid, maxHoldReason)
	}
	if h.At.IsZero() {
		h.At = now()
	}
	h.At = h.At.UTC().Truncate(time.Microsecond)
	return h, nil
}

const holdColumns = "id, incident_id, placed_by, placed_at, reason, lifted_by, lifted_at, lift_reason"

func scanHold(row interface{ Scan(...any) error }) (Hold, error) {
	var h Hold
	err := row.Scan(&h.ID, &h.IncidentID, &h.PlacedBy, dbTime{&h.PlacedAt}, &h.Reason, &h.LiftedBy, dbTime{&h.LiftedAt}, &h.LiftReason)
	return h, err
}

// activeHold returns the incident's standing hold inside tx, or
// sql.ErrNoRows.
func (s *SQL) activeHold(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, incidentID string) (Hold, error) {
	return scanHold(q.QueryRowContext(ctx, s.q(`SELECT `+holdColumns+` FROM legal_holds
		WHERE incident_id = ? AND lifted_at IS NULL`), incidentID))
}

// holdAudit is the audit event of a hold change, written in its
// transaction; its key makes a retried change harmless.
func holdAudit(action string, h Hold, c HoldChange) (AuditEvent, error) {
	details, err := json.Marshal(map[string]any{"hold": h.ID, "reason": c.Reason})
	if err != nil {
		return AuditEvent{}, err
	}
	return AuditEvent{IncidentID: h.IncidentID, Key: action + ":" + strconv.FormatInt(h.ID, 10), At: c.At,
		Actor: c.By, Action: action, Target: "incident", Details: details}, nil
}

// PlaceHold puts the incident under legal hold and appends "hold.placed"
// to its audit trail in the same transaction. ErrNotFound for an unknown
// incident, ErrConflict when a hold already stands.
func (s *SQL) PlaceHold(ctx context.Context, c HoldChange) (Hold, error) {
	return s.changeHold(ctx, c, "place hold", "hold.placed", func(tx *sql.Tx, c HoldChange) (Hold, error) {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), c.IncidentID).Scan(&one); err != nil {
			return Hold{}, notFound(err)
		}
		if _, err := s.activeHold(ctx, tx, c.IncidentID); err == nil {
			return Hold{}, fmt.Errorf("%w: incident %s is already under legal hold", ErrConflict, c.IncidentID)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return Hold{}, err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO legal_holds (incident_id, placed_by, placed_at, reason)
			VALUES (?, ?, ?, ?)`), c.IncidentID, c.By, s.timeArg(c.At), c.Reason); err != nil {
			return Hold{}, err
		}
		return s.activeHold(ctx, tx, c.IncidentID)
	})
}

// LiftHold lifts the incident's standing hold and appends "hold.lifted"
// in the same transaction. ErrNotFound when no hold stands.
func (s *SQL) LiftHold(ctx context.Context, c HoldChange) (Hold, error) {
	return s.changeHold(ctx, c, "lift hold", "hold.lifted", func(tx *sql.Tx, c HoldChange) (Hold, error) {
		h, err := s.activeHold(ctx, tx, c.IncidentID)
		if err != nil {
			return Hold{}, notFound(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE legal_holds SET lifted_by = ?, lifted_at = ?, lift_reason = ?
			WHERE id = ?`), c.By, s.timeArg(c.At), c.Reason, h.ID); err != nil {
			return Hold{}, err
		}
		h.LiftedBy, h.LiftedAt, h.LiftReason = c.By, c.At, c.Reason
		return h, nil
	})
}

// changeHold checks c, then in one transaction holding the incident's lock
// applies the change (given the checked c) and appends action to the
// audit trail.
func (s *SQL) changeHold(ctx context.Context, c HoldChange, op, action string, apply func(*sql.Tx, HoldChange) (Hold, error)) (Hold, error) {
	c, err := c.check(op)
	if err != nil {
		return Hold{}, err
	}
	var out Hold
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockIncident(ctx, tx, c.IncidentID); err != nil {
			return err
		}
		h, err := apply(tx, c)
		if err != nil {
			return err
		}
		e, err := holdAudit(action, h, c)
		if err != nil {
			return err
		}
		if _, err := s.appendAuditTx(ctx, tx, e); err != nil {
			return err
		}
		out = h
		return nil
	})
	if err != nil {
		return Hold{}, fmt.Errorf("store: %s on %q: %w", op, c.IncidentID, err)
	}
	return out, nil
}

// ListHolds returns every hold of the incident, the oldest first.
func (s *SQL) ListHolds(ctx context.Context, incidentID string) ([]Hold, error) {
	out, err := queryAll(ctx, s.db, scanHold, s.q(`SELECT `+holdColumns+` FROM legal_holds
		WHERE incident_id = ? ORDER BY id`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: list holds of %q: %w", incidentID, err)
	}
	return out, nil
}

// PurgeSubjects deletes a closed incident's affected customers (their
// sealed names and emails, data elements and locales) and appends
// "subjects.purged" with the count, in one transaction. Notices keep
// their delivery record: the proof of notification outlives the data.
// So do the remedy codes given and the notice pages' reads, as counts:
// the codes given lose their (sealed) value, so no code can be tied to
// a customer's notice any more, and the notice pages lose their link —
// subject, salt and token hash — so no token opens them again.
// ErrHeld while a legal hold stands, ErrConflict while the incident is
// active, ErrNotFound for an unknown incident.
func (s *SQL) PurgeSubjects(ctx context.Context, c HoldChange) (int, error) {
	c, err := c.check("purge subjects")
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockIncident(ctx, tx, c.IncidentID); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM incidents WHERE id = ?`), c.IncidentID).Scan(&status); err != nil {
			return notFound(err)
		}
		if h, err := s.activeHold(ctx, tx, c.IncidentID); err == nil {
			return fmt.Errorf("%w since %s (placed by %s: %s)", ErrHeld, h.PlacedAt.Format(time.RFC3339), h.PlacedBy, h.Reason)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if status != StatusClosed {
			return fmt.Errorf("%w: incident %s is %s; customer data is purged only after it closes", ErrConflict, c.IncidentID, status)
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM subjects WHERE incident_id = ?`), c.IncidentID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		codes, err := tx.ExecContext(ctx, s.q(`UPDATE remedy_codes SET code_sealed = ? WHERE incident_id = ? AND subject_id IS NOT NULL`),
			[]byte{}, c.IncidentID)
		if err != nil {
			return err
		}
		erased, err := codes.RowsAffected()
		if err != nil {
			return err
		}
		// A page keeps its jurisdiction, read and acknowledgement for the
		// delivery report; -id and "purged:id" stay unique and match no
		// subject and no token's SHA-256.
		pages, err := tx.ExecContext(ctx, s.q(`UPDATE notice_pages SET subject_id = -id, salt = 'purged',
			token_hash = 'purged:' || CAST(id AS TEXT) WHERE incident_id = ? AND subject_id > 0`), c.IncidentID)
		if err != nil {
			return err
		}
		unlinked, err := pages.RowsAffected()
		if err != nil {
			return err
		}
		details, err := json.Marshal(map[string]any{"subjects": n, "reason": c.Reason, "remedy_codes_erased": erased, "notice_pages_unlinked": unlinked})
		if err != nil {
			return err
		}
		_, err = s.appendAuditTx(ctx, tx, AuditEvent{IncidentID: c.IncidentID, Key: "subjects.purged:" + c.At.Format(timeLayout),
			At: c.At, Actor: c.By, Action: "subjects.purged", Target: "subjects", Details: details})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge subjects of %q: %w", c.IncidentID, err)
	}
	return int(n), nil
}
