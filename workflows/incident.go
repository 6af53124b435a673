package workflows

import (
	"fmt"
	"sort"
	"time"

	"github.com/breachflow/breachflow/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// a lets workflow code name activities by method, keeping them typed.
var a *activities.Activities

// Incident runs one breach from launch to close: it interprets the pinned
// playbook and keeps every regulatory clock as a durable timer.
func Incident(ctx workflow.Context, in *IncidentInput) (*IncidentResult, error) {
	w := &incident{in: *in}
	if err := w.setup(ctx); err != nil {
		return nil, err
	}
	return w.run(ctx)
}

// incident is the workflow's state; handlers write to it, run reads it.
type incident struct {
	in          IncidentInput
	facts       Facts
	status      string
	phase       string
	obligations []Obligation
	timeline    []TimelineEntry
	// factsVersion moves whenever facts change, so clocks re-arm.
	factsVersion int
}

func (w *incident) setup(ctx workflow.Context) error {
	if w.in.ID == "" {
		return temporal.NewNonRetryableApplicationError("incident id is required", "BadInput", nil)
	}
	w.facts = w.in.Facts
	w.status = StatusActive
	w.phase = "triage"
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (*Status, error) {
		return w.snapshot(), nil
	})
}

func (w *incident) run(ctx workflow.Context) (*IncidentResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	w.record(ctx, w.in.LaunchedAt, w.in.LaunchedBy, "incident.launched", "playbook:"+w.in.PlaybookID,
		fmt.Sprintf("%s v%d, severity %s", w.in.PlaybookID, w.in.PlaybookVersion, w.in.Severity))
	w.audit(actx, "launch", w.in.LaunchedAt, w.in.LaunchedBy, "incident.launched", "playbook:"+w.in.PlaybookID,
		map[string]any{"playbook": w.in.PlaybookID, "version": w.in.PlaybookVersion, "severity": w.in.Severity})

	if err := w.evaluate(ctx); err != nil {
		return nil, err
	}
	w.upsertSearch(ctx)

	for w.status != StatusClosed {
		seen := w.factsVersion
		next, fire := w.nextClockEvent()
		if fire == nil {
			if err := workflow.Await(ctx, func() bool { return w.factsVersion != seen || w.status == StatusClosed }); err != nil {
				return nil, err
			}
			continue
		}
		wait := next.Sub(workflow.Now(ctx))
		if wait > 0 {
			changed, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return w.factsVersion != seen || w.status == StatusClosed })
			if err != nil {
				return nil, err
			}
			if changed {
				continue // facts moved: re-evaluate and re-arm
			}
		}
		fire(ctx, actx)
	}
	return &IncidentResult{ID: w.in.ID, ClosedAt: workflow.Now(ctx)}, nil
}

// evaluate recomputes obligations from facts, keeping the state of the
// ones that survive (a filed duty stays filed).
func (w *incident) evaluate(ctx workflow.Context) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var fresh []Obligation
	if err := workflow.ExecuteLocalActivity(lctx, EvaluateObligations, w.facts).Get(ctx, &fresh); err != nil {
		return fmt.Errorf("evaluate obligations: %w", err)
	}
	old := map[string]Obligation{}
	for _, o := range w.obligations {
		old[o.ID] = o
	}
	now := workflow.Now(ctx)
	for i := range fresh {
		if prev, ok := old[fresh[i].ID]; ok && (prev.Status == ObligationFiled || prev.Status == ObligationWaived) {
			fresh[i].Status = prev.Status
		}
		if fresh[i].Status == ObligationPending && fresh[i].DueAt != nil && !fresh[i].DueAt.After(now) {
			fresh[i].Status = ObligationOverdue
		}
	}
	w.obligations = fresh
	return nil
}

// nextClockEvent returns the soonest clock event and what to do then.
func (w *incident) nextClockEvent() (time.Time, func(workflow.Context, workflow.Context)) {
	var at time.Time
	var fire func(workflow.Context, workflow.Context)
	for i := range w.obligations {
		o := &w.obligations[i]
		if o.Status != ObligationPending || o.DueAt == nil {
			continue
		}
		if fire == nil || o.DueAt.Before(at) {
			at = *o.DueAt
			id := o.ID
			fire = func(ctx, actx workflow.Context) { w.markOverdue(ctx, actx, id) }
		}
	}
	return at, fire
}

func (w *incident) markOverdue(ctx, actx workflow.Context, id string) {
	for i := range w.obligations {
		o := &w.obligations[i]
		if o.ID != id || o.Status != ObligationPending {
			continue
		}
		o.Status = ObligationOverdue
		now := workflow.Now(ctx)
		w.record(ctx, now, "system", "obligation.overdue", "obligation:"+id, o.Regime+" deadline passed")
		w.audit(actx, fmt.Sprintf("overdue:%s:%d", id, o.DueAt.Unix()), now, "system", "obligation.overdue", "obligation:"+id,
			map[string]any{"due_at": o.DueAt})
	}
	w.upsertSearch(ctx)
}

func (w *incident) nextDeadline() *time.Time {
	var next *time.Time
	for _, o := range w.obligations {
		if (o.Status == ObligationPending || o.Status == ObligationOverdue) && o.DueAt != nil {
			if next == nil || o.DueAt.Before(*next) {
				t := *o.DueAt
				next = &t
			}
		}
	}
	return next
}

func (w *incident) upsertSearch(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SearchStatus.ValueSet(w.status),
		SearchSeverity.ValueSet(w.in.Severity),
		SearchPlaybook.ValueSet(w.in.PlaybookID),
	}
	if next := w.nextDeadline(); next != nil {
		updates = append(updates, SearchNextDeadline.ValueSet(*next))
	} else {
		updates = append(updates, SearchNextDeadline.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Error("upsert search attributes", "error", err)
	}
}

// record adds a timeline entry (workflow state, shown in status).
func (w *incident) record(_ workflow.Context, at time.Time, actor, action, target, note string) {
	w.timeline = append(w.timeline, TimelineEntry{At: at, Actor: actor, Action: action, Target: target, Note: note})
}

// audit appends to the store's hash-chained audit log. It waits for the
// write so the chain's order is the workflow's order.
func (w *incident) audit(actx workflow.Context, key string, at time.Time, actor, action, target string, details map[string]any) {
	err := workflow.ExecuteActivity(actx, a.RecordAudit, activities.AuditInput{
		IncidentID: w.in.ID, Key: key, At: at, Actor: actor, Action: action, Target: target, Details: details,
	}).Get(actx, nil)
	if err != nil {
		workflow.GetLogger(actx).Error("audit", "key", key, "error", err)
	}
}

func (w *incident) snapshot() *Status {
	obs := append([]Obligation(nil), w.obligations...)
	sort.SliceStable(obs, func(i, j int) bool {
		if obs[i].DueAt == nil || obs[j].DueAt == nil {
			return obs[j].DueAt == nil && obs[i].DueAt != nil
		}
		return obs[i].DueAt.Before(*obs[j].DueAt)
	})
	return &Status{
		ID:              w.in.ID,
		Title:           w.in.Title,
		Summary:         w.in.Summary,
		Severity:        w.in.Severity,
		Status:          w.status,
		Phase:           w.phase,
		PlaybookID:      w.in.PlaybookID,
		PlaybookVersion: w.in.PlaybookVersion,
		ExternalRef:     w.in.ExternalRef,
		LaunchedBy:      w.in.LaunchedBy,
		LaunchedAt:      w.in.LaunchedAt,
		Facts:           w.facts,
		NextDeadline:    w.nextDeadline(),
		Obligations:     obs,
		Timeline:        append([]TimelineEntry(nil), w.timeline...),
	}
}
