package workflows

import (
	"fmt"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Outreach: before the mass notice, account managers personally call the
// high-tier customers. The step opens one task per such customer and
// holds back the steps after it until the calls are done or its hold
// runs out.

// startOutreach opens the personal calls of a ready outreach step: one
// task per high-tier customer, for their account manager. The step ends
// when the calls are done (the API completes it with the last one) or
// when the playbook's hold runs out, whichever is first.
func (w *incident) startOutreach(ctx workflow.Context) {
	for i := range w.steps {
		st := &w.steps[i]
		if st.Kind != playbooks.KindOutreach || st.State != breach.StepReady || st.Outreach != nil {
			continue
		}
		if workflow.GetVersion(ctx, "outreach-tasks", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return // started before outreach tasks existed: completed by hand
		}
		st.Outreach = &breach.OutreachTally{} // opening; counted below
		id := st.ID
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
		})
		fut := workflow.ExecuteActivity(actx, a.CreateOutreachTasks, w.in.ID)
		workflow.Go(ctx, func(gctx workflow.Context) {
			var t breach.OutreachTally
			now := workflow.Now(gctx)
			if err := fut.Get(gctx, &t); err != nil {
				w.record(gctx, now, "system", "outreach.failed", "step:"+id, "outreach tasks not opened: "+err.Error(), nil)
				w.gen++
				return
			}
			if st := w.step(id); st != nil {
				st.Outreach = &t
			}
			note := fmt.Sprintf("%d personal calls to high-tier customers for their account managers", t.Open+t.Done)
			if t.Open+t.Done == 0 {
				note = "no high-tier customers are imported: complete the step when outreach is done or not needed"
			}
			w.record(gctx, now, "system", "outreach.opened", "step:"+id, note, map[string]any{"open": t.Open, "done": t.Done})
			w.gen++
		})
	}
}

// holdExpiry is when a ready outreach step stops holding back the steps
// after it; nil when it has no hold or its tasks were never opened.
func (w *incident) holdExpiry(st *breach.StepState) *time.Time {
	spec, ok := w.pb.Step(st.ID)
	if !ok || spec.Hold == nil || st.Kind != playbooks.KindOutreach || st.Outreach == nil || st.ReadyAt == nil {
		return nil
	}
	t := st.ReadyAt.Add(spec.Hold.D())
	return &t
}

// expireHold ends an outreach step whose hold ran out: the mass notice
// goes ahead, and the record says how many calls were still open.
func (w *incident) expireHold(ctx workflow.Context, id string) {
	st := w.step(id)
	if st == nil || st.State != breach.StepReady {
		return
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5}})
	var t breach.OutreachTally
	open := "an unknown number of"
	if err := workflow.ExecuteActivity(actx, a.CountOutreach, w.in.ID).Get(ctx, &t); err == nil {
		st.Outreach = &t
		open = fmt.Sprint(t.Open)
	}
	now := workflow.Now(ctx)
	spec, _ := w.pb.Step(id)
	st.State, st.DoneAt, st.DoneBy = breach.StepDone, &now, "system"
	st.Note = fmt.Sprintf("the %s hold ran out with %s calls open: the mass notice goes ahead", spec.Hold, open)
	w.record(ctx, now, "system", "step.completed", "step:"+id, st.Note, nil)
	w.gen++
}
