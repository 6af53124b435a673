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
	SetIncidentStatus(ctx context.Context, id, status string) error
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
	details, err := json.Marshal(in.Details)
	if err != nil {
		return store.AuditEvent{}, temporal.NewNonRetryableApplicationError("audit details", "BadAuditDetails", err)
	}
	if in.Details == nil {
		details = []byte("{}")
	}
	e, err := a.Store.AppendAudit(ctx, store.AuditEvent{
		IncidentID: in.IncidentID,
		Key:        in.Key,
		At:         in.At,
		Actor:      in.Actor,
		Action:     in.Action,
		Target:     in.Target,
		Details:    details,
	})
	if err != nil {
		return store.AuditEvent{}, fmt.Errorf("record audit %s: %w", in.Key, err)
	}
	return e, nil
}

// RecordAuditBatch appends events in order; a retry skips the ones
// already stored (each has its key), so the chain never holds a duplicate.
func (a *Activities) RecordAuditBatch(ctx context.Context, events []AuditInput) error {
	for _, ev := range events {
		if err := a.RecordAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// RecordAuditChain appends events in order like RecordAuditBatch and
// returns the chain head the last of them became, which the workflow keeps
// as its checkpoint of the chain (see store.VerifyAuditChain).
func (a *Activities) RecordAuditChain(ctx context.Context, events []AuditInput) (store.ChainHead, error) {
	var head store.ChainHead
	for _, ev := range events {
		e, err := a.appendAudit(ctx, ev)
		if err != nil {
			return store.ChainHead{}, err
		}
		head = store.HeadOf(e)
	}
	return head, nil
}

// SetIncidentStatus mirrors the incident's status into the store's index.
func (a *Activities) SetIncidentStatus(ctx context.Context, id, status string) error {
	if err := a.Store.SetIncidentStatus(ctx, id, status); err != nil {
		return fmt.Errorf("set incident status: %w", err)
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
