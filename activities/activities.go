// Package activities holds breachflow's Temporal activities: the side
// effects workflows ask for — audit records in the store, mail, Slack,
// containment webhooks. Each is idempotent, so a retry repeats nothing.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/breachflow/breachflow/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Activities holds the dependencies activities use.
type Activities struct {
	Store Store
}

// Store is what the activities read and write in the store: the audit
// chain, the incident index, the deadline index and the store side of the
// notice fan-out and outreach.
type Store interface {
	AppendAudit(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
	AppendAuditEvents(ctx context.Context, events []store.AuditEvent) ([]store.AuditEvent, error)
	SetIncidentStatus(ctx context.Context, id, status string) error
	SetIncidentPhase(ctx context.Context, id, phase string) error
	PutObligations(ctx context.Context, incidentID string, rows []store.ObligationRow) error
	ListSubjectIDs(ctx context.Context, incidentID string, afterID int64, limit int) ([]int64, error)
	EnsureNotices(ctx context.Context, incidentID, kind string, subjectIDs []int64, messageID func(subjectID int64) string) (int, error)
	NoticeCounts(ctx context.Context, incidentID, kind string) (map[string]map[string]int, error)
	SubjectLocales(ctx context.Context, incidentID string) (map[string]int, error)
	CreateOutreachTasks(ctx context.Context, incidentID string) (created, open, done int, err error)
	OutreachCounts(ctx context.Context, incidentID string) (open, done int, err error)
	AddIncidentMember(ctx context.Context, id, principal, by string) (bool, error)
	RemoveIncidentMember(ctx context.Context, id, principal string) (bool, error)
	AssignRemedyCodes(ctx context.Context, incidentID string, sc store.RemedyScope, subjectIDs []int64) (assigned, missing int, err error)
	RemedyCoverage(ctx context.Context, incidentID string, sc store.RemedyScope) (store.RemedyCoverage, error)

	LetterCandidates(ctx context.Context, incidentID string) ([]int64, error)
}

// AuditInput is one audit event to append.
type AuditInput struct {
	IncidentID string         `json:"incident_id"`
	Key        string         `json:"key"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	Target     string         `json:"target,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
}

// RecordAudit appends an event to the incident's hash-chained audit log.
// The key makes it idempotent: a retried activity finds its event stored.
func (a *Activities) RecordAudit(ctx context.Context, in AuditInput) error {
	_, err := a.appendAudit(ctx, in)
	return err
}

func (a *Activities) appendAudit(ctx context.Context, in AuditInput) (store.AuditEvent, error) {
	out, err := a.appendAuditEvents(ctx, []AuditInput{in})
	if err != nil {
		return store.AuditEvent{}, err
	}
	return out[0], nil
}

// appendAuditEvents appends events in order, in one store transaction.
func (a *Activities) appendAuditEvents(ctx context.Context, in []AuditInput) ([]store.AuditEvent, error) {
	if len(in) == 0 {
		return nil, nil
	}
	events := make([]store.AuditEvent, 0, len(in))
	for _, ev := range in {
		details, err := json.Marshal(ev.Details)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError("audit details", "BadAuditDetails", err)
		}
		if ev.Details == nil {
			details = []byte("{}")
		}
		events = append(events, store.AuditEvent{IncidentID: ev.IncidentID, Key: ev.Key, At: ev.At,
			Actor: ev.Actor, Action: ev.Action, Target: ev.Target, Details: details})
	}
	out, err := a.Store.AppendAuditEvents(ctx, events)
	if err != nil {
		return nil, fmt.Errorf("record audit %s (%d events): %w", in[0].Key, len(in), err)
	}
	return out, nil
}

// RecordAuditBatch appends events in order; a retry skips the ones
// already stored (each has its key), so the chain never holds a duplicate.
func (a *Activities) RecordAuditBatch(ctx context.Context, events []AuditInput) error {
	_, err := a.appendAuditEvents(ctx, events)
	return err
}

// RecordAuditChain appends events in order like RecordAuditBatch, in one
// store transaction, and returns the chain head the last of them became,
// which the workflow keeps as its checkpoint of the chain (see
// store.VerifyAuditChain).
func (a *Activities) RecordAuditChain(ctx context.Context, events []AuditInput) (store.ChainHead, error) {
	out, err := a.appendAuditEvents(ctx, events)
	if err != nil || len(out) == 0 {
		return store.ChainHead{}, err
	}
	return store.HeadOf(out[len(out)-1]), nil
}

// SetIncidentStatus mirrors the incident's status into the store's index.
func (a *Activities) SetIncidentStatus(ctx context.Context, id, status string) error {
	if err := a.Store.SetIncidentStatus(ctx, id, status); err != nil {
		return fmt.Errorf("set incident status: %w", err)
	}
	return nil
}

// IndexPhase records the incident's phase in the store's index, which
// the incident list and the dashboard read. A phase the store refuses,
// or an incident it does not hold, is not retried.
func (a *Activities) IndexPhase(ctx context.Context, id, phase string) error {
	err := a.Store.SetIncidentPhase(ctx, id, phase)
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("index phase: "+err.Error(), "BadPhase", err)
	}
	if err != nil {
		return fmt.Errorf("index phase: %w", err)
	}
	return nil
}

// MemberChange is one change to who may see a restricted incident.
type MemberChange struct {
	IncidentID string `json:"incident_id"`
	Principal  string `json:"principal"`
	Member     bool   `json:"member"` // true adds, false removes
	By         string `json:"by"`
}

// SetIncidentMember makes the store's index of a restricted incident's
// members (which every route's authorization reads) follow the workflow.
// Adding a member twice or removing a non-member changes nothing, so a
// retry is harmless; input the store refuses is not retried.
func (a *Activities) SetIncidentMember(ctx context.Context, in MemberChange) error {
	var err error
	if in.Member {
		_, err = a.Store.AddIncidentMember(ctx, in.IncidentID, in.Principal, in.By)
	} else {
		_, err = a.Store.RemoveIncidentMember(ctx, in.IncidentID, in.Principal)
	}
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("set incident member: "+err.Error(), "BadMember", err)
	}
	if err != nil {
		return fmt.Errorf("set incident member: %w", err)
	}
	return nil
}

// IndexObligations replaces the incident's rows in the deadline index that
// legal's board and calendar feed read.
func (a *Activities) IndexObligations(ctx context.Context, incidentID string, rows []store.ObligationRow) error {
	if err := a.Store.PutObligations(ctx, incidentID, rows); err != nil {
		return fmt.Errorf("index obligations: %w", err)
	}
	activity.GetLogger(ctx).Info("obligations indexed", "obligations", len(rows))
	return nil
}
