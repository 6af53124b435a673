package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/store"
)

// Store is what intake needs of the store.
type Store interface {
	RecordAlert(ctx context.Context, in store.AlertRecord, window time.Duration) (store.AlertRecord, bool, error)
	GetAlert(ctx context.Context, id int64) (store.AlertRecord, error)
	DecideAlert(ctx context.Context, d store.AlertDecision) (store.AlertRecord, error)
	NoteAlert(ctx context.Context, e store.AlertEvent, ruleID string) error
	AlertStorm(ctx context.Context, ruleID string, alertID int64, at time.Time, window time.Duration) (int64, error)
	IncidentByExternalRef(ctx context.Context, ref string) (store.Incident, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
}

// LaunchRequest is an incident launch a rule asks for. The launcher runs
// it through the same validation and idempotency as POST /v1/incidents.
type LaunchRequest struct {
	Playbook       string
	Title          string
	Severity       string
	ExternalRef    string
	Restricted     bool
	Members        []string
	Jurisdictions  []string
	DataCategories []string
	Times          map[string]time.Time // time facts taken from the alert; never aware_at
	Labels         map[string]string    // facts taken from a label's value (jurisdictions, choice, choices)
	IdempotencyKey string               // deterministic per alert group
	By             string               // "rule:<id>"
}

// Launcher launches incidents; api.Server implements it with the launch
// path of POST /v1/incidents.
type Launcher interface {
	LaunchFromAlert(ctx context.Context, r LaunchRequest) (incidentID string, err error)
}

// Intake stores, de-duplicates and routes alerts.
type Intake struct {
	Store    Store
	Keys     store.Sealer // seals each alert's body and text; required
	Rules    *Rules
	Launcher Launcher
	Now      func() time.Time
	Log      *slog.Logger
	// Triaged, when set, is told of each new alert that waits in triage
	// (the Slack triage card).
	Triaged func(ctx context.Context, a store.AlertRecord)
}

// Outcome is what became of one received alert.
type Outcome struct {
	AlertID     int64  `json:"alert_id"`
	Fingerprint string `json:"fingerprint"`
	Duplicate   bool   `json:"duplicate"` // a repeat within the window: counted, not routed
	Count       int64  `json:"count"`
	State       string `json:"state"`
	Rule        string `json:"rule,omitempty"`
	IncidentID  string `json:"incident_id,omitempty"`
	Note        string `json:"note,omitempty"`
}

// sealedBody is what an alert keeps sealed.
type sealedBody struct {
	Text string          `json:"text,omitempty"`
	Raw  json.RawMessage `json:"raw,omitempty"`
}

// additional binds a sealed alert body to its source and fingerprint.
func additional(source, fp string) []byte { return []byte("alert:" + source + ":" + fp) }

// Open recovers the text and raw body sealed with an alert.
func Open(kr store.Sealer, a store.AlertRecord) (text string, raw json.RawMessage, err error) {
	if len(a.Sealed) == 0 {
		return "", nil, nil
	}
	b, err := kr.Open(a.KeyID, a.Sealed, additional(a.Source, a.Fingerprint))
	if err != nil {
		return "", nil, fmt.Errorf("alerts: open alert %d: %w", a.ID, err)
	}
	var sb sealedBody
	if err := json.Unmarshal(b, &sb); err != nil {
		return "", nil, fmt.Errorf("alerts: open alert %d: %w", a.ID, err)
	}
	return sb.Text, sb.Raw, nil
}

// Receive stores each alert from source and routes the new ones. An
// error stops at the alert it happened on; outcomes so far are returned.
func (in *Intake) Receive(ctx context.Context, source string, list []Alert) ([]Outcome, error) {
	out := make([]Outcome, 0, len(list))
	for _, a := range list {
		o, err := in.receive(ctx, source, a)
		if err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (in *Intake) receive(ctx context.Context, source string, a Alert) (Outcome, error) {
	now := in.Now().UTC()
	body, err := json.Marshal(sealedBody{Text: a.Text, Raw: a.Raw})
	if err != nil {
		return Outcome{}, fmt.Errorf("alerts: seal: %w", err)
	}
	keyID, sealed, err := in.Keys.Seal(body, additional(source, a.Fingerprint))
	if err != nil {
		return Outcome{}, fmt.Errorf("alerts: seal: %w", err)
	}
	rec := store.AlertRecord{
		Source: source, Fingerprint: a.Fingerprint, Title: a.Title, Severity: a.Severity, SrcStatus: a.Status,
		Labels: a.Labels, KeyID: keyID, Sealed: sealed, LastSeen: now,
	}
	if !a.StartsAt.IsZero() {
		t := a.StartsAt
		rec.StartsAt = &t
	}
	got, created, err := in.Store.RecordAlert(ctx, rec, in.Rules.DedupWindow)
	if err != nil {
		return Outcome{}, err
	}
	o := Outcome{AlertID: got.ID, Fingerprint: got.Fingerprint, Duplicate: !created, Count: got.Count,
		State: got.State, Rule: got.RuleID, IncidentID: got.IncidentID}
	if !created {
		return o, nil
	}
	o, err = in.route(ctx, source, a, got, now)
	if err == nil && o.State == store.AlertOpen && in.Triaged != nil {
		if rec, gerr := in.Store.GetAlert(ctx, got.ID); gerr == nil {
			in.Triaged(ctx, rec)
		}
	}
	return o, err
}

// route applies the first matching rule to a new alert.
func (in *Intake) route(ctx context.Context, source string, a Alert, rec store.AlertRecord, now time.Time) (Outcome, error) {
	o := Outcome{AlertID: rec.ID, Fingerprint: rec.Fingerprint, Count: rec.Count, State: store.AlertOpen}
	r := in.Rules.Route(source, a)
	if r == nil {
		return o, in.Store.NoteAlert(ctx, store.AlertEvent{AlertID: rec.ID, At: now, Actor: "source:" + source,
			Action: "received", Reason: "no rule matched: waiting in triage"}, "")
	}
	o.Rule = r.ID
	actor := "rule:" + r.ID
	triage := func(why string) (Outcome, error) {
		o.Note = why
		return o, in.Store.NoteAlert(ctx, store.AlertEvent{AlertID: rec.ID, At: now, Actor: actor, Action: "routed", Reason: why}, r.ID)
	}
	switch r.Action {
	case ActionTriage:
		return triage("the rule queues it for triage")
	case ActionAttach:
		ref := a.Labels[r.Attach.ExternalRefLabel]
		inc, err := in.Store.IncidentByExternalRef(ctx, ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return triage(fmt.Sprintf("no incident with external_ref %q: waiting in triage", ref))
		case err != nil:
			return o, err
		case inc.Status != store.StatusActive:
			return triage(fmt.Sprintf("incident %s with external_ref %q is closed: waiting in triage", inc.ID, ref))
		}
		return in.decide(ctx, o, rec, store.AlertAttached, inc.ID, actor, "", now)
	}
	// Launch: a burst under a storm window shares its first alert's
	// request and key, so the launch path answers every one with the same
	// incident.
	first := rec
	key := "alert:" + strconv.FormatInt(rec.ID, 10)
	if r.Storm != nil {
		id, err := in.Store.AlertStorm(ctx, r.ID, rec.ID, now, time.Duration(r.Storm.Window))
		if err != nil {
			return o, err
		}
		if id != rec.ID {
			if first, err = in.Store.GetAlert(ctx, id); err != nil {
				return o, err
			}
		}
		key = "alert-storm:" + r.ID + ":" + strconv.FormatInt(id, 10)
	}
	req := launchRequest(r, first, key)
	incident, err := in.Launcher.LaunchFromAlert(ctx, req)
	if err != nil {
		in.Log.Warn("alert launch failed; the alert waits in triage", "alert", rec.ID, "rule", r.ID, "error", err)
		return triage("launch failed: " + err.Error())
	}
	state, why := store.AlertLaunched, "launched by rule "+r.ID+"; its aware_at is the launch time, not the alert's, until a person states it"
	if first.ID != rec.ID {
		state, why = store.AlertAttached, fmt.Sprintf("storm of rule %s: joins the incident of alert %d", r.ID, first.ID)
	}
	return in.decide(ctx, o, rec, state, incident, actor, why, now)
}

// decide records a rule's decision on the alert and on the incident's
// audit trail.
func (in *Intake) decide(ctx context.Context, o Outcome, rec store.AlertRecord, state, incident, actor, why string, now time.Time) (Outcome, error) {
	got, err := in.Store.DecideAlert(ctx, store.AlertDecision{AlertID: rec.ID, State: state, RuleID: o.Rule,
		IncidentID: incident, Actor: actor, Reason: why, At: now})
	if err != nil {
		return o, err
	}
	if err := AuditOnIncident(ctx, in.Store, got, actor, now); err != nil {
		return o, err
	}
	o.State, o.IncidentID = got.State, got.IncidentID
	return o, nil
}

// Auditor appends to an incident's audit trail.
type Auditor interface {
	AppendAudit(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
}

// AuditOnIncident records on the incident's audit trail that the alert
// was launched into or attached to it: source, rule, first seen, count.
func AuditOnIncident(ctx context.Context, au Auditor, a store.AlertRecord, actor string, at time.Time) error {
	details, err := json.Marshal(map[string]any{
		"alert_id": a.ID, "source": a.Source, "rule": a.RuleID, "title": a.Title,
		"first_seen": a.FirstSeen, "count": a.Count,
	})
	if err != nil {
		return err
	}
	_, err = au.AppendAudit(ctx, store.AuditEvent{
		IncidentID: a.IncidentID, Key: "alert:" + strconv.FormatInt(a.ID, 10), At: at, Actor: actor,
		Action: "alert." + a.State, Target: "alert:" + strconv.FormatInt(a.ID, 10), Details: details,
	})
	return err
}

// launchRequest builds the launch a rule asks for from the alert that
// opened its group, so every alert of the group asks for the same one.
func launchRequest(r *Rule, first store.AlertRecord, key string) LaunchRequest {
	l := r.Launch
	req := LaunchRequest{
		Playbook: l.Playbook, Title: l.Title, Severity: l.Severity, Restricted: l.Restricted,
		Members: l.Members, Jurisdictions: l.Jurisdictions, DataCategories: l.DataCategories,
		IdempotencyKey: key, By: "rule:" + r.ID,
	}
	if req.Title == "" {
		req.Title = first.Title
	}
	if req.Severity == "" {
		req.Severity = first.Severity
	}
	if l.ExternalRefLabel != "" {
		req.ExternalRef = first.Labels[l.ExternalRefLabel]
	}
	for fact, field := range l.Facts {
		if label, ok := strings.CutPrefix(field, "labels."); ok {
			if v := first.Labels[label]; v != "" {
				if req.Labels == nil {
					req.Labels = map[string]string{}
				}
				req.Labels[fact] = v
			}
			continue
		}
		if first.StartsAt != nil { // starts_at
			if req.Times == nil {
				req.Times = map[string]time.Time{}
			}
			req.Times[fact] = *first.StartsAt
		}
	}
	return req
}
