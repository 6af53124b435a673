package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Alert states.
const (
	AlertOpen      = "open"      // waiting in triage
	AlertLaunched  = "launched"  // started an incident
	AlertAttached  = "attached"  // evidence on an existing incident
	AlertDismissed = "dismissed" // a person decided it is nothing
)

// AlertRecord is one stored alert: a (source, fingerprint) within one
// de-duplication window. Sealed holds the alert's body and text, sealed
// by the caller under KeyID; the store never sees them in the clear.
type AlertRecord struct {
	ID          int64
	Source      string
	Fingerprint string
	Title       string
	Severity    string
	SrcStatus   string // firing or resolved, as last reported
	Labels      map[string]string
	StartsAt    *time.Time
	KeyID       string
	Sealed      []byte
	State       string
	RuleID      string // the rule that routed it; "" for none
	IncidentID  string // launched or attached to; "" for none
	Count       int64
	FirstSeen   time.Time
	LastSeen    time.Time
	DecidedBy   string // who launched, attached or dismissed it
	DecidedAt   *time.Time
	Reason      string
}

// AlertEvent is one decision about an alert, kept append-only.
type AlertEvent struct {
	ID         int64
	AlertID    int64
	At         time.Time
	Actor      string // token name, "rule:<id>" or "source:<name>"
	Action     string // received, routed, launched, attached, dismissed
	IncidentID string
	Reason     string
}

// AlertFilter selects alerts for ListAlerts.
type AlertFilter struct {
	State      string // "" = any
	IncidentID string // "" = any
	AfterID    int64  // paging: ids after this (oldest first)
	Limit      int    // default 100, at most 1000
}

// AlertDecision moves an alert out of triage (or records a rule's route).
type AlertDecision struct {
	AlertID    int64
	State      string // AlertLaunched, AlertAttached or AlertDismissed
	RuleID     string // kept when empty
	IncidentID string
	Actor      string
	Reason     string
	At         time.Time
}

// ErrAlertDecided reports a decision on an alert that is no longer open.
var ErrAlertDecided = errors.New("store: alert already decided")

const alertColumns = `id, source, fingerprint, title, severity, src_status, labels, starts_at, key_id, sealed,
	state, rule_id, COALESCE(incident_id, ''), count, first_seen, last_seen, decided_by, decided_at, reason`

func scanAlert(row interface{ Scan(...any) error }) (AlertRecord, error) {
	var a AlertRecord
	var labels string
	var starts, decided time.Time
	err := row.Scan(&a.ID, &a.Source, &a.Fingerprint, &a.Title, &a.Severity, &a.SrcStatus, &labels, dbTime{&starts},
		&a.KeyID, &a.Sealed, &a.State, &a.RuleID, &a.IncidentID, &a.Count, dbTime{&a.FirstSeen}, dbTime{&a.LastSeen},
		&a.DecidedBy, dbTime{&decided}, &a.Reason)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return a, fmt.Errorf("store: bad stored labels of alert %d: %w", a.ID, err)
	}
	if !starts.IsZero() {
		a.StartsAt = &starts
	}
	if !decided.IsZero() {
		a.DecidedAt = &decided
	}
	return a, nil
}

// RecordAlert stores an alert, or counts a repeat: when the current row
// of (Source, Fingerprint) was last seen within window of in.LastSeen, its
// count grows by one and last_seen and src_status move (nothing else, so a
// dismissed alert stays dismissed); otherwise that row is closed and a new
// open row starts. Safe under concurrent calls: a burst of copies makes
// exactly one row.
func (s *SQL) RecordAlert(ctx context.Context, in AlertRecord, window time.Duration) (AlertRecord, bool, error) {
	if in.Source == "" || in.Fingerprint == "" || in.Title == "" {
		return AlertRecord{}, false, fmt.Errorf("store: record alert: %w: source, fingerprint and title are required", ErrInvalid)
	}
	if in.SrcStatus == "" {
		in.SrcStatus = "firing"
	}
	if in.LastSeen.IsZero() {
		in.LastSeen = now()
	}
	labels, err := json.Marshal(in.Labels)
	if err != nil {
		return AlertRecord{}, false, fmt.Errorf("store: record alert: %w", err)
	}
	if in.Labels == nil {
		labels = []byte("{}")
	}
	var out AlertRecord
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET is_current = 0
			WHERE source = ? AND fingerprint = ? AND is_current = 1 AND last_seen < ?`),
			in.Source, in.Fingerprint, s.timeArg(in.LastSeen.Add(-window))); err != nil {
			return err
		}
		var err error
		out, err = scanAlert(tx.QueryRowContext(ctx, s.q(`INSERT INTO alerts (source, fingerprint, is_current, title, severity,
			src_status, labels, starts_at, key_id, sealed, state, rule_id, count, first_seen, last_seen, decided_by, reason)
			VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, 'open', '', 1, ?, ?, '', '')
			ON CONFLICT (source, fingerprint) WHERE is_current = 1 DO UPDATE SET count = alerts.count + 1,
			last_seen = CASE WHEN excluded.last_seen > alerts.last_seen THEN excluded.last_seen ELSE alerts.last_seen END,
			src_status = excluded.src_status
			RETURNING `+alertColumns),
			in.Source, in.Fingerprint, in.Title, in.Severity, in.SrcStatus, string(labels), s.nullTime(in.StartsAt),
			in.KeyID, in.Sealed, s.timeArg(in.LastSeen), s.timeArg(in.LastSeen)))
		return err
	})
	if err != nil {
		return AlertRecord{}, false, fmt.Errorf("store: record alert: %w", err)
	}
	return out, out.Count == 1, nil
}

// GetAlert returns one alert or ErrNotFound.
func (s *SQL) GetAlert(ctx context.Context, id int64) (AlertRecord, error) {
	a, err := scanAlert(s.db.QueryRowContext(ctx, s.q(`SELECT `+alertColumns+` FROM alerts WHERE id = ?`), id))
	if err != nil {
		return AlertRecord{}, fmt.Errorf("store: get alert: %w", notFound(err))
	}
	return a, nil
}

// ListAlerts lists alerts oldest first (ids grow with arrival).
func (s *SQL) ListAlerts(ctx context.Context, f AlertFilter) ([]AlertRecord, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	where := []string{"id > ?"}
	args := []any{f.AfterID}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if f.IncidentID != "" {
		where, args = append(where, "incident_id = ?"), append(args, f.IncidentID)
	}
	args = append(args, f.Limit)
	out, err := queryAll(ctx, s.db, scanAlert, s.q(`SELECT `+alertColumns+` FROM alerts WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list alerts: %w", err)
	}
	return out, nil
}

// DecideAlert records a decision on an open alert: its new state, rule
// and incident, who and when, and an event. A decision on an alert that
// is not open is ErrAlertDecided (wrapped), and writes nothing, except
// that attaching an alert to the incident it already belongs to is a
// no-op success, so a retried decision is harmless.
func (s *SQL) DecideAlert(ctx context.Context, d AlertDecision) (AlertRecord, error) {
	switch d.State {
	case AlertLaunched, AlertAttached:
		if d.IncidentID == "" {
			return AlertRecord{}, fmt.Errorf("store: decide alert: %w: incident id is required", ErrInvalid)
		}
	case AlertDismissed:
		if strings.TrimSpace(d.Reason) == "" {
			return AlertRecord{}, fmt.Errorf("store: decide alert: %w: a dismissal needs a reason", ErrInvalid)
		}
	default:
		return AlertRecord{}, fmt.Errorf("store: decide alert: %w: state %q", ErrInvalid, d.State)
	}
	if d.Actor == "" {
		return AlertRecord{}, fmt.Errorf("store: decide alert: %w: actor is required", ErrInvalid)
	}
	if d.At.IsZero() {
		d.At = now()
	}
	var out AlertRecord
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanAlert(tx.QueryRowContext(ctx, s.q(`SELECT `+alertColumns+` FROM alerts WHERE id = ?`), d.AlertID))
		if err != nil {
			return notFound(err)
		}
		if cur.State != AlertOpen {
			if d.State != AlertDismissed && cur.IncidentID == d.IncidentID && cur.State == d.State {
				out = cur
				return nil
			}
			return fmt.Errorf("%w: alert %d is %s", ErrAlertDecided, cur.ID, cur.State)
		}
		if d.IncidentID != "" {
			var one int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), d.IncidentID).Scan(&one); err != nil {
				return fmt.Errorf("incident %s: %w", d.IncidentID, notFound(err))
			}
		}
		rule := cur.RuleID
		if d.RuleID != "" {
			rule = d.RuleID
		}
		var incident any
		if d.IncidentID != "" {
			incident = d.IncidentID
		}
		out, err = scanAlert(tx.QueryRowContext(ctx, s.q(`UPDATE alerts SET state = ?, rule_id = ?, incident_id = ?,
			decided_by = ?, decided_at = ?, reason = ? WHERE id = ? RETURNING `+alertColumns),
			d.State, rule, incident, d.Actor, s.timeArg(d.At), d.Reason, d.AlertID))
		if err != nil {
			return err
		}
		return s.appendAlertEvent(ctx, tx, AlertEvent{AlertID: d.AlertID, At: d.At, Actor: d.Actor, Action: d.State, IncidentID: d.IncidentID, Reason: d.Reason})
	})
	if err != nil {
		return AlertRecord{}, fmt.Errorf("store: decide alert: %w", err)
	}
	return out, nil
}

// NoteAlert records an event about an alert that leaves it open, such as
// a rule routing it to triage; a ruleID that is not empty is also set as
// the alert's rule. ErrNotFound for an unknown alert.
func (s *SQL) NoteAlert(ctx context.Context, e AlertEvent, ruleID string) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("store: note alert: %w: actor and action are required", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if ruleID != "" {
			res, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET rule_id = ? WHERE id = ?`), ruleID, e.AlertID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		return s.appendAlertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("store: note alert: %w", notFound(err))
	}
	return nil
}

func (s *SQL) appendAlertEvent(ctx context.Context, tx *sql.Tx, e AlertEvent) error {
	var incident any
	if e.IncidentID != "" {
		incident = e.IncidentID
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO alert_events (alert_id, at, actor, action, incident_id, reason)
		VALUES (?, ?, ?, ?, ?, ?)`), e.AlertID, s.timeArg(e.At), e.Actor, e.Action, incident, e.Reason)
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		return ErrNotFound
	}
	return err
}

// ListAlertEvents returns an alert's events in order.
func (s *SQL) ListAlertEvents(ctx context.Context, alertID int64) ([]AlertEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, alert_id, at, actor, action, COALESCE(incident_id, ''), reason
		FROM alert_events WHERE alert_id = ? ORDER BY id`), alertID)
	if err != nil {
		return nil, fmt.Errorf("store: list alert events: %w", err)
	}
	defer rows.Close()
	var out []AlertEvent
	for rows.Next() {
		var e AlertEvent
		if err := rows.Scan(&e.ID, &e.AlertID, dbTime{&e.At}, &e.Actor, &e.Action, &e.IncidentID, &e.Reason); err != nil {
			return nil, fmt.Errorf("store: list alert events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list alert events: %w", err)
	}
	return out, nil
}

// AlertStorm returns the first alert of ruleID's open burst: alertID
// itself when no burst of the rule opened within window before at (it
// then opens one), else the alert that opened it. Concurrent callers of
// one burst all get the same first alert.
func (s *SQL) AlertStorm(ctx context.Context, ruleID string, alertID int64, at time.Time, window time.Duration) (int64, error) {
	if ruleID == "" || alertID == 0 {
		return 0, fmt.Errorf("store: alert storm: %w: rule and alert are required", ErrInvalid)
	}
	var first int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO alert_storms (rule_id, first_alert_id, opened_at) VALUES (?, ?, ?)
			ON CONFLICT (rule_id) DO UPDATE SET first_alert_id = excluded.first_alert_id, opened_at = excluded.opened_at
			WHERE alert_storms.opened_at < ?`),
			ruleID, alertID, s.timeArg(at), s.timeArg(at.Add(-window))); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT first_alert_id FROM alert_storms WHERE rule_id = ?`), ruleID).Scan(&first)
	})
	if err != nil {
		return 0, fmt.Errorf("store: alert storm: %w", err)
	}
	return first, nil
}

// IncidentByExternalRef returns the incident with this external
// reference, or ErrNotFound.
func (s *SQL) IncidentByExternalRef(ctx context.Context, ref string) (Incident, error) {
	if ref == "" {
		return Incident{}, fmt.Errorf("store: incident by external ref: %w", ErrNotFound)
	}
	var id string
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT id FROM incidents WHERE external_ref = ?`), ref).Scan(&id); err != nil {
		return Incident{}, fmt.Errorf("store: incident by external ref: %w", notFound(err))
	}
	return s.GetIncident(ctx, id)
}

// PutAlertCard records where an alert's Slack card is; ErrNotFound for an
// unknown alert. Recording it again moves it.
func (s *SQL) PutAlertCard(ctx context.Context, alertID int64, channel, ts string) error {
	if channel == "" || ts == "" {
		return fmt.Errorf("store: put alert card: %w: channel and ts are required", ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM alerts WHERE id = ?`), alertID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO alert_cards (alert_id, channel_id, ts, posted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (alert_id) DO UPDATE SET channel_id = excluded.channel_id, ts = excluded.ts, posted_at = excluded.posted_at`),
			alertID, channel, ts, s.timeArg(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put alert card: %w", err)
	}
	return nil
}

// GetAlertCard returns where an alert's Slack card is, or ErrNotFound.
func (s *SQL) GetAlertCard(ctx context.Context, alertID int64) (channel, ts string, err error) {
	err = s.db.QueryRowContext(ctx, s.q(`SELECT channel_id, ts FROM alert_cards WHERE alert_id = ?`), alertID).Scan(&channel, &ts)
	if err != nil {
		return "", "", fmt.Errorf("store: get alert card: %w", notFound(err))
	}
	return channel, ts, nil
}
