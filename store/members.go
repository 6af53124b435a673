package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// MaxPrincipalLen bounds a member's principal name.
const MaxPrincipalLen = 200

// validPrincipal accepts a token name, "slack:<user id>" or an email: up
// to MaxPrincipalLen characters, no spaces or control characters.
func validPrincipal(p string) error {
	if p == "" || len(p) > MaxPrincipalLen || strings.IndexFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: principal %q: want 1–%d characters without spaces", ErrInvalid, p, MaxPrincipalLen)
	}
	return nil
}

func (s *SQL) addMember(ctx context.Context, tx *sql.Tx, id, principal, by string, at time.Time) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_members (incident_id, principal, added_by, added_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`), id, principal, by, s.timeArg(at))
	return err
}

// restricted reads whether an incident is restricted, inside tx.
func (s *SQL) restricted(ctx context.Context, tx *sql.Tx, id string) (bool, error) {
	var r bool
	err := tx.QueryRowContext(ctx, s.q(`SELECT restricted FROM incidents WHERE id = ?`), id).Scan(&r)
	return r, notFound(err)
}

// IncidentMembers lists an incident's members, sorted.
func (s *SQL) IncidentMembers(ctx context.Context, id string) ([]string, error) {
	if _, err := s.GetIncident(ctx, id); err != nil {
		return nil, fmt.Errorf("store: incident members: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT principal FROM incident_members WHERE incident_id = ? ORDER BY principal`), id)
	if err != nil {
		return nil, fmt.Errorf("store: incident members %q: %w", id, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("store: incident members %q: %w", id, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// IsIncidentMember reports whether principal is a member of the incident.
func (s *SQL) IsIncidentMember(ctx context.Context, id, principal string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM incident_members WHERE incident_id = ? AND principal = ?`), id, principal).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: is incident member: %w", err)
	}
	return true, nil
}

// AddIncidentMember makes principal a member of a restricted incident.
func (s *SQL) AddIncidentMember(ctx context.Context, id, principal, by string) (bool, error) {
	if err := validPrincipal(principal); err != nil {
		return false, fmt.Errorf("store: add incident member: %w", err)
	}
	added := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := s.restricted(ctx, tx, id)
		if err != nil {
			return err
		}
		if !r {
			return fmt.Errorf("%w: incident %s is not restricted, so it has no members", ErrInvalid, id)
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_members (incident_id, principal, added_by, added_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`), id, principal, by, s.timeArg(now()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		added = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: add incident member: %w", err)
	}
	return added, nil
}

// RemoveIncidentMember ends principal's membership of the incident.
func (s *SQL) RemoveIncidentMember(ctx context.Context, id, principal string) (bool, error) {
	removed := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.restricted(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM incident_members WHERE incident_id = ? AND principal = ?`), id, principal)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		removed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: remove incident member: %w", err)
	}
	return removed, nil
}

// HiddenIncidents lists the restricted incidents principal is no member of.
func (s *SQL) HiddenIncidents(ctx context.Context, principal string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT i.id FROM incidents i WHERE i.restricted = TRUE
		AND NOT EXISTS (SELECT 1 FROM incident_members m WHERE m.incident_id = i.id AND m.principal = ?)`), principal)
	if err != nil {
		return nil, fmt.Errorf("store: hidden incidents: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: hidden incidents: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// UnrestrictedIncidents lists the ids of incidents the index holds as
// unrestricted, oldest first: the candidates of a restriction backfill.
func (s *SQL) UnrestrictedIncidents(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM incidents WHERE restricted = FALSE ORDER BY created_at, id`))
	if err != nil {
		return nil, fmt.Errorf("store: unrestricted incidents: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: unrestricted incidents: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unrestricted incidents: %w", err)
	}
	return out, nil
}

// RestrictIncident marks an incident restricted in the index with members,
// in one transaction; changed is false when it already was (nothing is
// written then). It brings the index in line with an incident whose
// workflow is restricted, such as one launched before the index held
// restriction.
func (s *SQL) RestrictIncident(ctx context.Context, id string, members []string, by string) (changed bool, err error) {
	for _, m := range members {
		if strings.TrimSpace(m) == "" {
			return false, fmt.Errorf("store: restrict incident: %w: empty member", ErrInvalid)
		}
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE incidents SET restricted = TRUE WHERE id = ? AND restricted = FALSE`), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				_, err = s.restricted(ctx, tx, id) // ErrNotFound for an unknown incident
			}
			return err
		}
		changed = true
		at := now()
		for _, m := range members {
			if err := s.addMember(ctx, tx, id, m, by, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: restrict incident %q: %w", id, err)
	}
	return changed, nil
}
