package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Everything the incident asks of the world: containment webhooks, clock
// mail, the Slack room, the audit chain, the deadline index and search
// attributes. None of it may hold up a clock: each call runs beside the
// main loop and records its failure in the timeline.

// startActions calls the containment webhook of every ready action step
// once; the result lands in the step, and a failure leaves it for a human.
func (w *incident) startActions(ctx workflow.Context) {
	for i := range w.steps {
		st := &w.steps[i]
		if st.Kind != playbooks.KindAction || st.State != breach.StepReady || st.ActionResult != "" || w.actions[st.ID] {
			continue
		}
		spec, _ := w.pb.Step(st.ID)
		id := st.ID
		w.actions[id] = true
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
		})
		fut := workflow.ExecuteActivity(actx, hooks.CallWebhook, activities.WebhookInput{
			IncidentID: w.in.ID, StepID: id, Action: spec.Action, RequestedBy: "system",
		})
		workflow.Go(ctx, func(gctx workflow.Context) {
			var res activities.WebhookResult
			err := fut.Get(gctx, &res)
			now := workflow.Now(gctx)
			st := w.step(id)
			if st == nil || st.State != breach.StepReady {
				return
			}
			if err != nil {
				st.ActionResult = "failed: " + err.Error()
				w.record(gctx, now, "system", "action.failed", "step:"+id, spec.Action+" webhook failed; complete the step by hand once contained", map[string]any{"error": err.Error()})
			} else {
				st.ActionResult = fmt.Sprintf("ok: HTTP %d from %s", res.Status, res.URL)
				st.State, st.DoneAt, st.DoneBy, st.Note = breach.StepDone, &now, "system", "containment webhook "+spec.Action+" succeeded"
				w.record(gctx, now, "system", "action.succeeded", "step:"+id, st.ActionResult, map[string]any{"status": res.Status, "delivery": res.DeliveryID})
			}
			w.gen++
		})
	}
}

// notify sends a clock mail without holding up the clocks: Slack or SMTP
// being down must never stop a deadline from being tracked.
func (w *incident) notify(ctx workflow.Context, key, kind, subject string, due time.Time, roles ...string) {
	mctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute, MaximumAttempts: 20},
	})
	fut := workflow.ExecuteActivity(mctx, mail.SendClockMail, activities.ClockMail{
		IncidentID: w.in.ID, Key: w.in.ID + "-" + key, Kind: kind, Title: w.in.Title, Subject: subject,
		DueAt: due, Now: workflow.Now(ctx), Roles: roles, Restricted: w.in.Restricted, Members: w.restrictedTo(),
	})
	workflow.Go(ctx, func(gctx workflow.Context) {
		var res activities.MailResult
		if err := fut.Get(gctx, &res); err != nil {
			w.record(gctx, workflow.Now(gctx), "system", "mail.failed", "mail:"+key, kind+" mail not sent: "+err.Error(), nil)
			w.gen++
		}
	})
	if w.in.Room == "" {
		return
	}
	rfut := workflow.ExecuteActivity(mctx, chat.PostRoomNotice, activities.RoomNotice{
		IncidentID: w.in.ID, Key: w.in.ID + "-" + key, Kind: kind, Subject: subject,
		DueAt: due, Now: workflow.Now(ctx), Roles: roles, Restricted: w.in.Restricted, Members: w.restrictedTo(),
	})
	workflow.Go(ctx, func(gctx workflow.Context) {
		if err := rfut.Get(gctx, nil); err != nil {
			w.record(gctx, workflow.Now(gctx), "system", "room.failed", "room:"+key, kind+" not posted to Slack: "+err.Error(), nil)
			w.gen++
		}
	})
}

// syncRoom brings the incident room up to date without holding up the
// clocks: one sync at a time, and only when the picture changed. Slack
// being down delays the room, never a deadline.
func (w *incident) syncRoom(ctx workflow.Context, patience time.Duration) {
	if w.in.Room == "" || w.roomBusy {
		return
	}
	room := w.room()
	raw, _ := json.Marshal(room)
	sig := string(raw)
	if sig == w.roomShown {
		return
	}
	room.AsOf = workflow.Now(ctx)
	w.roomBusy = true
	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: patience,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: 5 * time.Minute},
	})
	fut := workflow.ExecuteActivity(rctx, chat.SyncIncidentRoom, room)
	workflow.Go(ctx, func(gctx workflow.Context) {
		err := fut.Get(gctx, nil)
		w.roomBusy = false
		w.roomShown = sig // on failure too: the next change tries again, not a loop
		if err != nil {
			w.record(gctx, workflow.Now(gctx), "system", "room.failed", "room", "Slack room not updated: "+err.Error(), nil)
		}
		w.gen++
	})
}

// room is the incident room's picture: no customer data, counts only.
func (w *incident) room() activities.Room {
	r := activities.Room{IncidentID: w.in.ID, Title: w.in.Title, Severity: w.severity, Status: w.status,
		Phase: w.phase(), PlaybookID: w.pb.ID, LaunchedBy: w.in.LaunchedBy, LaunchedAt: w.in.LaunchedAt,
		Members: w.members, Restricted: w.in.Restricted}
	r.AddObligations(w.obligations)
	for _, st := range w.steps {
		rs := activities.RoomStep{ID: st.ID, Title: st.Title, Kind: st.Kind, Owner: st.Owner,
			State: st.State, DueAt: st.DueAt, DoneBy: st.DoneBy, AckedBy: st.AckedBy, Note: st.Note, Waiting: st.Waiting}
		for _, a := range st.Approvals {
			rs.Approvals = append(rs.Approvals, a.By)
		}
		if spec, ok := w.pb.Step(st.ID); ok {
			if n := w.needs(&st, spec); n != nil && n.Count > 0 {
				rs.Needs = breach.DescribeNeeds(*n)
			}
		}
		r.Steps = append(r.Steps, rs)
	}
	return r
}

// searchOnChangeChange is the GetVersion id of setting the search
// attributes only when they changed since the last pass: every upsert is
// a history event and a write to Temporal's visibility store, and most
// passes (a launch runs several in one workflow task) change none.
const searchOnChangeChange = "search-upsert-on-change"

func (w *incident) upsertSearch(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SearchStatus.ValueSet(w.status),
		SearchSeverity.ValueSet(w.severity),
		SearchPlaybook.ValueSet(w.pb.ID),
	}
	sig := w.status + "|" + w.severity + "|" + w.pb.ID + "|"
	if next := w.nextDeadline(); next != nil {
		updates = append(updates, SearchNextDeadline.ValueSet(*next))
		sig += next.UTC().Format(time.RFC3339Nano)
	} else {
		updates = append(updates, SearchNextDeadline.ValueUnset())
	}
	onChange := workflow.GetVersion(ctx, searchOnChangeChange, workflow.DefaultVersion, 1) == 1
	if onChange && sig == w.searched {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Error("upsert search attributes", "error", err)
		return
	}
	w.searched = sig
}

// auditCheckpointChange is the GetVersion id of keeping the audit chain's
// head in workflow state after every write, so a chain cut short in the
// store no longer matches what the workflow saw written.
const auditCheckpointChange = "audit-checkpoint"

// flushAudit writes queued audit events in one activity, in order, so
// the store's hash chain has the workflow's order; each event's key makes
// a retried write idempotent. Events that arrive meanwhile go next time.
// The head the store answers becomes the workflow's checkpoint.
func (w *incident) flushAudit(actx workflow.Context) {
	for len(w.auditQueue) > 0 {
		batch := w.auditQueue
		w.auditQueue = nil
		if workflow.GetVersion(actx, auditCheckpointChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			if err := workflow.ExecuteActivity(actx, a.RecordAuditBatch, batch).Get(actx, nil); err != nil {
				workflow.GetLogger(actx).Error("audit", "first", batch[0].Key, "error", err)
			}
			continue
		}
		var head store.ChainHead
		if err := w.write(actx, &head, a.RecordAuditChain, batch); err != nil {
			workflow.GetLogger(actx).Error("audit", "first", batch[0].Key, "error", err)
			continue
		}
		w.auditHead = &head
	}
}

// localWritesChange is the GetVersion id of making a pass's own store
// writes (the audit chain, the deadline index) local activities: they
// run in the workflow task that queued them, so a launch is one workflow
// task instead of three, and an update's pass one instead of up to three.
const localWritesChange = "pass-writes-local"

// localWriteWait is how long a pass's store write is retried as a local
// activity, inside its workflow task, before it is handed to an activity
// task.
var localWriteWait = time.Minute

// write runs one of the pass's store writes and waits for it, its result
// into result (nil for none). On runs that reached localWritesChange it is
// a local activity; when that fails for a reason a retry could mend (the
// store has been away longer than localWriteWait), the same write goes to
// an activity task, which retries without end and without adding to the
// history, as every write did on runs recorded before the change. A write
// refused for good returns its error. The caller waits, so the writes keep
// the workflow's order.
func (w *incident) write(actx workflow.Context, result any, activity any, args ...any) error {
	if workflow.GetVersion(actx, localWritesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.ExecuteActivity(actx, activity, args...).Get(actx, result)
	}
	o := workflow.GetActivityOptions(actx)
	lctx := workflow.WithLocalActivityOptions(actx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: localWriteWait, StartToCloseTimeout: min(o.StartToCloseTimeout, localWriteWait), RetryPolicy: o.RetryPolicy})
	err := workflow.ExecuteLocalActivity(lctx, activity, args...).Get(actx, result)
	var app *temporal.ApplicationError
	if err == nil || errors.As(err, &app) && app.NonRetryable() {
		return err
	}
	workflow.GetLogger(actx).Warn("store write handed to an activity task", "error", err)
	return workflow.ExecuteActivity(actx, activity, args...).Get(actx, result)
}

// index writes the obligations to the store's deadline index when they
// changed since the last write.
func (w *incident) index(actx workflow.Context) {
	rows := make([]store.ObligationRow, 0, len(w.obligations))
	for _, o := range w.obligations {
		rows = append(rows, store.ObligationRow{
			IncidentID: w.in.ID, ObligationID: o.ID, Regime: o.Regime, Jurisdiction: o.Jurisdiction,
			Recipient: o.Recipient, RecipientName: o.RecipientName, Deadline: o.Deadline, Standard: o.Standard,
			DueAt: o.DueAt, Status: o.Status, MissingFacts: o.MissingFacts, NeedsLegalConfirmation: o.NeedsLegalConfirmation,
		})
	}
	raw, _ := json.Marshal(rows)
	sig := string(raw)
	if sig == w.indexed {
		return
	}
	if err := w.write(actx, nil, a.IndexObligations, w.in.ID, rows); err != nil {
		workflow.GetLogger(actx).Error("index obligations", "error", err)
		return
	}
	w.indexed = sig
}

// phaseIndexChange is the GetVersion id of writing the incident's phase
// to the store's index when it changes, so the incident list shows it
// without asking each workflow.
const phaseIndexChange = "index-phase"

// indexPhase writes the phase to the store's index when it changed since
// the last write.
func (w *incident) indexPhase(actx workflow.Context) {
	if workflow.GetVersion(actx, phaseIndexChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	phase := w.phase()
	if phase == w.phaseIndexed {
		return
	}
	if err := w.write(actx, nil, a.IndexPhase, w.in.ID, phase); err != nil {
		workflow.GetLogger(actx).Error("index phase", "error", err)
		return
	}
	w.phaseIndexed = phase
}

// restrictedTo is who a restricted incident's reminders may reach: its
// members (nil for an unrestricted incident, which tells the roles).
func (w *incident) restrictedTo() []string {
	if !w.in.Restricted {
		return nil
	}
	return slices.Clone(w.members)
}
