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
	"unicode/utf8"
)

// AccessGrant is a time-boxed permission to read an incident's decrypted
// customer contacts (two-person control): its requester asks with a
// reason, a different person approves, and only then, only the requester,
// only for this incident and only until ExpiresAt may read.
type AccessGrant struct {
	ID            int64
	IncidentID    string
	Scope         string // GrantScopeContacts
	RequestedBy   string // principal (token name); never a customer
	RequesterRole string
	Reason        string
	Duration      time.Duration // the time box, counted from the approval
	Status        string        // GrantRequested or GrantApproved
	RequestedAt   time.Time
	ApprovedBy    string
	ApproverRole  string
	ApprovedAt    *time.Time
	ExpiresAt     *time.Time
}

// Access grant scopes and statuses.
const (
	// GrantScopeContacts covers every read of decrypted customer contacts:
	// the outreach call list and any export of names and emails.
	GrantScopeContacts = "contacts"
	GrantRequested     = "requested"
	GrantApproved      = "approved"
)

// MaxGrantDuration caps the time box of an access grant: a working day,
// after which whoever still needs the contacts asks again.
const MaxGrantDuration = 8 * time.Hour

// MaxGrantReason bounds a grant's reason.
const MaxGrantReason = 1000

// ErrSelfApproval reports an access grant approved by its own requester.
var ErrSelfApproval = errors.New("store: a grant needs a second person's approval; its requester cannot approve it")

// Active reports whether g lets principal read at time at: approved, its
// requester, inside its time box.
func (g AccessGrant) Active(principal string, at time.Time) bool {
	return g.Status == GrantApproved && g.RequestedBy == principal && g.ApprovedAt != nil && g.ExpiresAt != nil &&
		!at.Before(*g.ApprovedAt) && at.Before(*g.ExpiresAt)
}

// Expired reports whether g was approved and its time box has ended by at.
func (g AccessGrant) Expired(at time.Time) bool {
	return g.Status == GrantApproved && g.ExpiresAt != nil && !at.Before(*g.ExpiresAt)
}

const grantColumns = `id, incident_id, scope, requested_by, requester_role, reason, duration_seconds, status,
	requested_at, approved_by, approver_role, approved_at, expires_at`

func scanGrant(row interface{ Scan(...any) error }) (AccessGrant, error) {
	var (
		g                 AccessGrant
		seconds           int64
		approved, expires time.Time
	)
	err := row.Scan(&g.ID, &g.IncidentID, &g.Scope, &g.RequestedBy, &g.RequesterRole, &g.Reason, &seconds, &g.Status,
		dbTime{&g.RequestedAt}, &g.ApprovedBy, &g.ApproverRole, dbTime{&approved}, dbTime{&expires})
	g.Duration = time.Duration(seconds) * time.Second
	if !approved.IsZero() {
		g.ApprovedAt = &approved
	}
	if !expires.IsZero() {
		g.ExpiresAt = &expires
	}
	return g, err
}

// grantAudit is the audit event of a grant's life; its details name the
// grant, never a customer.
func grantAudit(g AccessGrant, actor, action string, at time.Time, extra map[string]any) AuditEvent {
	details := map[string]any{"grant": g.ID, "scope": g.Scope, "requested_by": g.RequestedBy,
		"reason": g.Reason, "duration": g.Duration.String()}
	if g.ExpiresAt != nil {
		details["expires_at"] = g.ExpiresAt.UTC().Format(time.RFC3339)
	}
	for k, v := range extra {
		details[k] = v
	}
	raw, _ := json.Marshal(details) // maps of strings and numbers always marshal
	return AuditEvent{IncidentID: g.IncidentID, At: at, Actor: actor, Action: action,
		Target: "grant:" + strconv.FormatInt(g.ID, 10), Details: raw}
}

// RequestGrant stores a new access grant request (Status requested) and
// its "grant.requested" audit event in one transaction. The reason is
// required and the duration must be positive and at most
// MaxGrantDuration (ErrInvalid); ErrNotFound for an unknown incident.
func (s *SQL) RequestGrant(ctx context.Context, g AccessGrant) (AccessGrant, error) {
	g.Reason = strings.TrimSpace(g.Reason)
	switch {
	case g.Scope != GrantScopeContacts:
		return AccessGrant{}, fmt.Errorf("store: request grant: %w: scope must be %s", ErrInvalid, GrantScopeContacts)
	case g.RequestedBy == "":
		return AccessGrant{}, fmt.Errorf("store: request grant: %w: requested_by is empty", ErrInvalid)
	case g.Reason == "" || utf8.RuneCountInString(g.Reason) > MaxGrantReason || !utf8.ValidString(g.Reason):
		return AccessGrant{}, fmt.Errorf("store: request grant: %w: reason is required, at most %d characters", ErrInvalid, MaxGrantReason)
	case g.Duration < time.Second || g.Duration > MaxGrantDuration:
		return AccessGrant{}, fmt.Errorf("store: request grant: %w: duration must be between 1s and %s", ErrInvalid, MaxGrantDuration)
	}
	if g.RequestedAt.IsZero() {
		g.RequestedAt = now()
	}
	g.RequestedAt = g.RequestedAt.UTC().Truncate(time.Microsecond)
	g.Duration = g.Duration.Truncate(time.Second)
	var out AccessGrant
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkIncident(ctx, tx, g.IncidentID); err != nil {
			return err
		}
		var err error
		out, err = scanGrant(tx.QueryRowContext(ctx, s.q(`INSERT INTO access_grants
			(incident_id, scope, requested_by, requester_role, reason, duration_seconds, status, requested_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+grantColumns),
			g.IncidentID, g.Scope, g.RequestedBy, g.RequesterRole, g.Reason, int64(g.Duration/time.Second), GrantRequested, s.timeArg(g.RequestedAt)))
		if err != nil {
			return err
		}
		_, err = s.appendAuditTx(ctx, tx, grantAudit(out, g.RequestedBy, "grant.requested", g.RequestedAt,
			map[string]any{"role": g.RequesterRole}))
		return err
	})
	if err != nil {
		return AccessGrant{}, fmt.Errorf("store: request grant on %q: %w", g.IncidentID, err)
	}
	return out, nil
}

// ApproveGrant approves a requested grant at time at by a person other
// than its requester, starting its time box, and appends "grant.approved"
// in the same transaction. ErrNotFound when the incident has no such
// grant, ErrSelfApproval when by requested it, ErrConflict when it is
// already approved.
func (s *SQL) ApproveGrant(ctx context.Context, incidentID string, id int64, by, role string, at time.Time) (AccessGrant, error) {
	if by == "" {
		return AccessGrant{}, fmt.Errorf("store: approve grant: %w: approver is empty", ErrInvalid)
	}
	at = at.UTC().Truncate(time.Microsecond)
	var out AccessGrant
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		g, err := scanGrant(tx.QueryRowContext(ctx, s.q(`SELECT `+grantColumns+` FROM access_grants
			WHERE incident_id = ? AND id = ?`), incidentID, id))
		if err != nil {
			return notFound(err)
		}
		switch {
		case g.RequestedBy == by:
			return ErrSelfApproval
		case g.Status != GrantRequested:
			return fmt.Errorf("%w: grant %d is already %s by %s", ErrConflict, id, g.Status, g.ApprovedBy)
		}
		expires := at.Add(g.Duration)
		out, err = scanGrant(tx.QueryRowContext(ctx, s.q(`UPDATE access_grants
			SET status = ?, approved_by = ?, approver_role = ?, approved_at = ?, expires_at = ?
			WHERE id = ? AND status = ? RETURNING `+grantColumns),
			GrantApproved, by, role, s.timeArg(at), s.timeArg(expires), id, GrantRequested))
		if err != nil {
			return err
		}
		_, err = s.appendAuditTx(ctx, tx, grantAudit(out, by, "grant.approved", at, map[string]any{"role": role}))
		return err
	})
	if err != nil {
		return AccessGrant{}, fmt.Errorf("store: approve grant %d on %q: %w", id, incidentID, err)
	}
	return out, nil
}

// ListGrants returns the incident's access grants by id, oldest first.
func (s *SQL) ListGrants(ctx context.Context, incidentID string) ([]AccessGrant, error) {
	out, err := queryAll(ctx, s.db, scanGrant, s.q(`SELECT `+grantColumns+` FROM access_grants WHERE incident_id = ? ORDER BY id`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: list grants of %q: %w", incidentID, err)
	}
	if out == nil {
		out = []AccessGrant{}
	}
	return out, nil
}
