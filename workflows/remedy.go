package workflows

import (
	"fmt"
	"time"

	"github.com/breachflow/breachflow/activities"
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
		w.tellRoomRemedy(ctx, cov, "")
		return true
	}
	msg := breach.RemedyCodesMissing(cov, w.pb.Remedy.Product)
	st.Waiting = msg
	w.tellRoomRemedy(ctx, cov, msg)
	w.record(ctx, workflow.Now(ctx), "system", "notices.waiting", "step:"+st.ID, msg,
		map[string]any{"missing": cov.Missing(), "in_scope": cov.InScope, "assigned": cov.Assigned, "free": cov.Free})
	return false
}

// remedyRoomChange is the GetVersion id of telling the incident room, in
// a message of its own, that the remedy pool is short before sending
// starts (besides the step card), and again once it is covered. Histories
// from before it post nothing.
const remedyRoomChange = "e2e17-remedy-short-room"

// tellRoomRemedy posts the shortage to the incident room once per number
// of codes missing — a recount that finds the same shortage stays quiet —
// and, after a shortage, once that the pool covers everyone. Counts only:
// never a customer or a code. Slack being down delays the message, never
// the send.
func (w *incident) tellRoomRemedy(ctx workflow.Context, cov breach.RemedyCoverage, msg string) {
	missing := cov.Missing()
	if w.in.Room == "" || missing == w.remedyShortTold {
		return
	}
	if workflow.GetVersion(ctx, remedyRoomChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	kind, subject := activities.RoomNoticeRemedyShort, msg
	if missing == 0 {
		kind = activities.RoomNoticeRemedyCovered
		subject = fmt.Sprintf("the pool now covers all %d customers offered %s; the send goes on", cov.InScope, w.pb.Remedy.Product)
	}
	w.remedyShortTold = missing
	now := workflow.Now(ctx)
	key := fmt.Sprintf("%s-%s-%d-%d", w.in.ID, kind, missing, now.UnixMilli())
	mctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute, MaximumAttempts: 20},
	})
	fut := workflow.ExecuteActivity(mctx, chat.PostRoomNotice, activities.RoomNotice{
		IncidentID: w.in.ID, Key: key, Kind: kind, Subject: subject, Now: now,
		Restricted: w.in.Restricted, Members: w.restrictedTo(),
	})
	workflow.Go(ctx, func(gctx workflow.Context) {
		if err := fut.Get(gctx, nil); err != nil {
			w.record(gctx, workflow.Now(gctx), "system", "room.failed", "room:"+kind, kind+" not posted to Slack: "+err.Error(), nil)
			w.gen++
		}
	})
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
