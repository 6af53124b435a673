package workflows

import (
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// remedyCodesChange is the GetVersion id of remedy codes: before a send
// starts, the incident checks that the pool covers every customer in the
// playbook's remedy scope, waits for legal when it does not, and the send
// run gives each of them a code. Histories from before it never check.
const remedyCodesChange = "remedy-codes"

// remedyScope is the pinned playbook's remedy, for send runs started
// under remedyCodesChange; nil otherwise or when the playbook offers none.
func (w *incident) remedyScope(ctx workflow.Context) *breach.RemedyScope {
	if w.pb.Remedy == nil || workflow.GetVersion(ctx, remedyCodesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	return w.pb.Remedy.Scope()
}

// remedyCovered counts the pool against the customers in scope. When it
// falls short, nothing is sent to anyone: the step says how many codes
// are missing (timeline, audit, Slack card, dashboard) and waits until
// legal tops the pool up (UpdateRemedyPoolChanged), which sends again.
// Counts only cross into history, never a code or a customer.
func (w *incident) remedyCovered(ctx workflow.Context, st *breach.StepState) bool {
	if w.pb.Remedy == nil {
		return true
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	var cov breach.RemedyCoverage
	if err := workflow.ExecuteActivity(actx, a.RemedyCoverage, w.in.ID, *w.pb.Remedy.Scope()).Get(ctx, &cov); err != nil {
		w.record(ctx, workflow.Now(ctx), "system", "notices.refused", "step:"+st.ID,
			"could not count the remedy codes; nothing was sent, send again: "+err.Error(), nil)
		return false
	}
	if cov.Missing() == 0 {
		if st.Waiting != "" {
			st.Waiting = ""
		}
		return true
	}
	msg := breach.RemedyCodesMissing(cov, w.pb.Remedy.Product)
	st.Waiting = msg
	w.record(ctx, workflow.Now(ctx), "system", "notices.waiting", "step:"+st.ID, msg,
		map[string]any{"missing": cov.Missing(), "in_scope": cov.InScope, "assigned": cov.Assigned, "free": cov.Free})
	return false
}

func (w *incident) validateRemedyPoolChanged(_ workflow.Context, in breach.RemedyPoolChanged) error {
	if err := w.admit(in.Actor, breach.RoleLegal); err != nil {
		return err
	}
	if in.Added < 1 {
		return reject(breach.ErrInvalid, "no codes were added")
	}
	return nil
}

// remedyPoolChanged records legal's top-up and, when a send waits for
// codes, tries it again.
func (w *incident) remedyPoolChanged(ctx workflow.Context, in breach.RemedyPoolChanged) (*breach.Status, error) {
	note := "legal added remedy codes to the pool"
	if st := w.noticeStep(); st != nil && st.Waiting != "" && !w.noticesRunning() {
		w.sendRequested = true
		note += "; the waiting send tries again"
	}
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "remedy.pool_topped_up", "", note, map[string]any{"added": in.Added, "role": in.Actor.Role})
	return w.settle(ctx)
}
