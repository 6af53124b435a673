package workflows

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/regulations"
	"github.com/breachflow/breachflow/store"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// a and hooks let workflow code name activities by method, keeping them typed.
var (
	a     *activities.Activities
	hooks *activities.Containment
)

// Incident runs one breach from launch to close: it interprets the pinned
// playbook, keeps every regulatory clock as a durable timer, and takes
// human actions as validated Updates.
func Incident(ctx workflow.Context, in *IncidentInput) (*IncidentResult, error) {
	w := &incident{in: *in}
	if err := w.setup(ctx); err != nil {
		return nil, err
	}
	return w.run(ctx)
}

// incident is the workflow's state; handlers write to it, run reads it.
type incident struct {
	in           IncidentInput
	pb           *playbooks.Playbook
	facts        breach.Facts
	severity     string
	status       string
	steps        []breach.StepState
	obligations  []breach.Obligation
	remediations []breach.Remediation
	timeline     []breach.TimelineEntry
	closedAt     *time.Time
	runs         int

	// auditQueue holds accepted actions until run writes them, in order,
	// to the store's hash chain; auditSeq numbers them for idempotency.
	auditQueue []activities.AuditInput
	auditSeq   int
	// gen moves whenever a handler changes state; settled is the gen the
	// main loop has fully processed (obligations recomputed, steps
	// advanced), so a handler can answer with a settled status.
	gen        int
	settled    int
	dirtyFacts bool
	// indexed is what the deadline index last received.
	indexed string
	// actions tracks containment webhooks in flight, by step.
	actions map[string]bool
	// notices are the customer-notice send runs; noticesStarted marks the
	// steps whose automatic run has started, sendRequested asks for
	// another run.
	notices        []breach.NoticeRun
	noticesStarted map[string]bool
	sendRequested  bool
	// roomBusy is set while the incident room is being synced; roomShown
	// is the picture it last accepted.
	roomBusy  bool
	roomShown string
}

func (w *incident) setup(ctx workflow.Context) error {
	if w.in.ID == "" || w.in.Playbook == nil {
		return temporal.NewNonRetryableApplicationError("incident id and playbook are required", breach.ErrInvalid, nil)
	}
	w.pb = w.in.Playbook
	w.status = breach.StatusActive
	w.actions = map[string]bool{}
	w.noticesStarted = map[string]bool{}
	if c := w.in.Carry; c != nil {
		w.facts, w.severity, w.steps, w.obligations = c.Facts, c.Severity, c.Steps, c.Obligations
		w.remediations, w.timeline, w.auditSeq, w.runs = c.Remediations, c.Timeline, c.AuditSeq, c.Runs
		w.notices = c.Notices
		for _, r := range c.Notices {
			w.noticesStarted[r.Step] = true
		}
	} else {
		w.facts, w.severity = w.in.Facts, w.in.Severity
		for _, s := range w.pb.Steps {
			w.steps = append(w.steps, breach.StepState{ID: s.ID, Title: s.Title, Kind: s.Kind, Owner: s.Owner,
				State: breach.StepPending, After: s.After, Optional: s.Optional})
		}
	}
	w.runs++
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (*breach.Status, error) { return w.snapshot(), nil }); err != nil {
		return err
	}
	return w.registerUpdates(ctx)
}

func (w *incident) run(ctx workflow.Context) (*IncidentResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	if w.in.Carry == nil {
		w.record(ctx, w.in.LaunchedAt, w.in.LaunchedBy, "incident.launched", "playbook:"+w.pb.ID,
			fmt.Sprintf("%s v%d, severity %s", w.pb.ID, w.pb.Version, w.severity),
			map[string]any{"playbook": w.pb.ID, "version": w.pb.Version, "digest": w.pb.Digest(), "severity": w.severity})
		w.dirtyFacts = true
		if w.in.Room == "" && workflow.GetVersion(ctx, "room-off-note", workflow.DefaultVersion, 1) == 1 {
			w.record(ctx, w.in.LaunchedAt, "system", "room.off", "",
				"Slack is off: work this incident through the API, CLI, dashboard and email", nil)
		}
	}
	for {
		gen := w.gen
		if w.dirtyFacts {
			w.dirtyFacts = false
			if err := w.evaluate(ctx); err != nil {
				return nil, err
			}
		}
		w.advance(ctx)
		w.startActions(ctx)
		w.startNotices(ctx)
		w.startOutreach(ctx)
		w.settled = gen
		w.flushAudit(actx)
		w.index(actx)
		w.upsertSearch(ctx)
		w.syncRoom(ctx, 24*time.Hour)
		if w.status == breach.StatusClosed {
			break
		}
		if w.shouldContinueAsNew(ctx) {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return nil, err
			}
			w.flushAudit(actx)
			in := w.in
			in.Carry = &Carry{Facts: w.facts, Severity: w.severity, Steps: w.steps, Obligations: w.obligations,
				Remediations: w.remediations, Timeline: w.timeline, AuditSeq: w.auditSeq, Runs: w.runs, Notices: w.notices}
			return nil, workflow.NewContinueAsNewError(ctx, "Incident", &in)
		}
		wake := func() bool { return w.gen != gen || len(w.auditQueue) > 0 }
		next, fire := w.nextClockEvent()
		if fire == nil {
			if err := workflow.Await(ctx, wake); err != nil {
				return nil, err
			}
			continue
		}
		if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
			woke, err := workflow.AwaitWithTimeout(ctx, wait, wake)
			if err != nil {
				return nil, err
			}
			if woke {
				continue // something changed: recompute and re-arm
			}
		}
		fire(ctx)
	}
	w.flushAudit(actx)
	w.index(actx)
	if w.in.Room != "" {
		// Show the room the incident closed, within minutes or not at all.
		if idle, _ := workflow.AwaitWithTimeout(ctx, 2*time.Minute, func() bool { return !w.roomBusy }); idle {
			w.syncRoom(ctx, 2*time.Minute)
			_ = workflow.Await(ctx, func() bool { return !w.roomBusy })
		}
	}
	if err := workflow.ExecuteActivity(actx, a.SetIncidentStatus, w.in.ID, breach.StatusClosed).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("mirror closed status", "error", err)
	}
	return &IncidentResult{ID: w.in.ID, ClosedAt: *w.closedAt}, nil
}

// shouldContinueAsNew is true when the server suggests it and no notice
// run is waiting for its answer, which a new run could not receive.
func (w *incident) shouldContinueAsNew(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() && !w.noticesRunning()
}

// evaluate recomputes obligations from facts, keeping the record of the
// ones that survive (a filed duty stays filed, reminders sent stay sent).
func (w *incident) evaluate(ctx workflow.Context) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	facts := w.facts
	facts.Filed = map[string]time.Time{}
	for _, o := range w.obligations {
		if o.Status == breach.ObligationFiled && o.FiledAt != nil {
			facts.Filed[o.ID] = *o.FiledAt
		}
	}
	var fresh []breach.Duty
	if err := workflow.ExecuteLocalActivity(lctx, EvaluateObligations, facts).Get(ctx, &fresh); err != nil {
		return fmt.Errorf("evaluate obligations: %w", err)
	}
	old := map[string]breach.Obligation{}
	for _, o := range w.obligations {
		old[o.ID] = o
	}
	now := workflow.Now(ctx)
	next := make([]breach.Obligation, 0, len(fresh))
	for _, r := range fresh {
		o := breach.Obligation{Duty: r, Status: breach.ObligationPending}
		if prev, ok := old[r.ID]; ok {
			o.Status, o.FiledAt, o.FiledBy, o.Reference = prev.Status, prev.FiledAt, prev.FiledBy, prev.Reference
			o.FilingNote, o.DelayReason, o.WaivedBy, o.WaiveReason = prev.FilingNote, prev.DelayReason, prev.WaivedBy, prev.WaiveReason
			o.Supplements = prev.Supplements
			if sameDue(prev.DueAt, r.DueAt) {
				o.Reminded, o.Escalated = prev.Reminded, prev.Escalated
			} else if o.Status == breach.ObligationOverdue {
				o.Status = breach.ObligationPending // re-armed on a new deadline
			}
		} else {
			w.record(ctx, now, "system", "obligation.added", "obligation:"+r.ID, r.Regime+" to "+r.RecipientName, map[string]any{"due_at": r.DueAt})
		}
		if o.Status == breach.ObligationPending && o.DueAt != nil && !o.DueAt.After(now) {
			o.Status = breach.ObligationOverdue
		}
		if o.Status == breach.ObligationPending && o.DueAt != nil {
			o.Reminded = max(o.Reminded, w.passedReminders(o.AnchorAt, o.DueAt, now))
		}
		next = append(next, o)
	}
	for id, prev := range old {
		if !containsObligation(next, id) && prev.Status != breach.ObligationFiled && prev.Status != breach.ObligationWaived {
			w.record(ctx, now, "system", "obligation.dropped", "obligation:"+id, "no longer required by the facts", nil)
		}
	}
	w.obligations = next
	return nil
}

func sameDue(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func containsObligation(obs []breach.Obligation, id string) bool {
	for _, o := range obs {
		if o.ID == id {
			return true
		}
	}
	return false
}

// obligationReminders are the instants a clock reminds at: the playbook's
// clock_reminders when it sets them, else 24/48/60/68/71 h of a 72 h clock,
// scaled to the clock's length.
func (w *incident) obligationReminders(anchor, due *time.Time) []time.Time {
	if anchor == nil || due == nil || !due.After(*anchor) {
		return nil
	}
	offsets := w.pb.ClockReminderOffsets(due.Sub(*anchor))
	if offsets == nil {
		offsets = regulations.ReminderOffsets(due.Sub(*anchor))
	}
	var out []time.Time
	for _, off := range offsets {
		out = append(out, anchor.Add(off))
	}
	return out
}

func (w *incident) passedReminders(anchor, due *time.Time, now time.Time) int {
	n := 0
	for _, t := range w.obligationReminders(anchor, due) {
		if !t.After(now) {
			n++
		}
	}
	return n
}

// overdueEscalation is how often an overdue duty is escalated again.
const overdueEscalation = 4 * time.Hour

// stepFacts is what playbook conditions see.
func (w *incident) stepFacts() playbooks.Facts {
	f := playbooks.Facts{Risk: w.facts.Risk, Flags: w.facts.Flags}
	seen := map[string]bool{}
	for _, o := range w.obligations {
		if !o.Exempt && !seen[o.Recipient] {
			seen[o.Recipient] = true
			f.Duties = append(f.Duties, o.Recipient)
		}
	}
	return f
}

func (w *incident) step(id string) *breach.StepState {
	for i := range w.steps {
		if w.steps[i].ID == id {
			return &w.steps[i]
		}
	}
	return nil
}

// advance moves pending steps whose predecessors are finished to ready
// (or skipped when their condition does not hold), until nothing moves.
func (w *incident) advance(ctx workflow.Context) {
	now := workflow.Now(ctx)
	for moved := true; moved; {
		moved = false
		for i := range w.steps {
			st := &w.steps[i]
			if st.State != breach.StepPending || !w.predecessorsFinished(st) {
				continue
			}
			spec, _ := w.pb.Step(st.ID)
			moved = true
			if !spec.Applies(w.stepFacts()) {
				st.State = breach.StepSkipped
				st.DoneAt = &now
				w.record(ctx, now, "system", "step.skipped", "step:"+st.ID, "its condition does not hold", nil)
				continue
			}
			st.State = breach.StepReady
			st.ReadyAt = &now
			if spec.Due != nil {
				due := spec.Due.Deadline(w.in.LaunchedAt, w.facts.AwareAt, now)
				st.DueAt = &due
				st.Reminded = 0
				for _, r := range w.pb.RemindersFor(spec) {
					if !due.Add(-r.D()).After(now) {
						st.Reminded++
					}
				}
			}
			w.record(ctx, now, "system", "step.ready", "step:"+st.ID, st.Title, map[string]any{"due_at": st.DueAt})
		}
	}
	if w.autoCompleteRegulatorNotices(ctx) {
		w.advance(ctx)
	}
}

// autoCompleteRegulatorNotices finishes a ready regulator_notices step once
// every regulator duty is filed or waived.
func (w *incident) autoCompleteRegulatorNotices(ctx workflow.Context) bool {
	changed := false
	for i := range w.steps {
		st := &w.steps[i]
		if st.Kind != playbooks.KindRegulatorNotices || st.State != breach.StepReady {
			continue
		}
		open, any := 0, false
		for _, o := range w.obligations {
			if o.Recipient != "regulator" || o.Exempt {
				continue
			}
			any = true
			if o.Status != breach.ObligationFiled && o.Status != breach.ObligationWaived {
				open++
			}
		}
		if any && open == 0 {
			now := workflow.Now(ctx)
			st.State, st.DoneAt, st.DoneBy, st.Note = breach.StepDone, &now, "system", "every regulator notification is filed or waived"
			w.record(ctx, now, "system", "step.completed", "step:"+st.ID, st.Note, nil)
			changed = true
		}
	}
	return changed
}

func (w *incident) predecessorsFinished(st *breach.StepState) bool {
	for _, id := range st.After {
		p := w.step(id)
		if p == nil || (p.State != breach.StepDone && p.State != breach.StepSkipped) {
			return false
		}
	}
	return true
}

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

// nextClockEvent returns the soonest timer: a step reminder or
// escalation, or an obligation reminder, deadline or escalation.
func (w *incident) nextClockEvent() (time.Time, func(workflow.Context)) {
	var at time.Time
	var fire func(workflow.Context)
	consider := func(t time.Time, f func(workflow.Context)) {
		if fire == nil || t.Before(at) {
			at, fire = t, f
		}
	}
	for i := range w.steps {
		st := &w.steps[i]
		id := st.ID
		if st.State != breach.StepReady {
			continue
		}
		if hold := w.holdExpiry(st); hold != nil {
			consider(*hold, func(ctx workflow.Context) { w.expireHold(ctx, id) })
		}
		if st.DueAt == nil {
			continue
		}
		spec, _ := w.pb.Step(st.ID)
		rems := w.pb.RemindersFor(spec)
		sort.Slice(rems, func(i, j int) bool { return rems[i] > rems[j] })
		if st.Reminded < len(rems) {
			consider(st.DueAt.Add(-rems[st.Reminded].D()), func(ctx workflow.Context) { w.remindStep(ctx, id, len(rems)) })
		} else if esc := w.pb.EscalationFor(spec); esc != nil {
			consider(st.DueAt.Add(time.Duration(st.Escalated)*esc.Every.D()), func(ctx workflow.Context) { w.escalateStep(ctx, id, esc.To) })
		}
	}
	for i := range w.obligations {
		o := &w.obligations[i]
		if o.DueAt == nil || (o.Status != breach.ObligationPending && o.Status != breach.ObligationOverdue) {
			continue
		}
		id := o.ID
		rems := w.obligationReminders(o.AnchorAt, o.DueAt)
		switch {
		case o.Status == breach.ObligationPending && o.Reminded < len(rems):
			consider(rems[o.Reminded], func(ctx workflow.Context) { w.remindObligation(ctx, id) })
		case o.Status == breach.ObligationPending:
			consider(*o.DueAt, func(ctx workflow.Context) { w.markOverdue(ctx, id) })
		default:
			consider(o.DueAt.Add(time.Duration(o.Escalated)*overdueEscalation), func(ctx workflow.Context) { w.escalateObligation(ctx, id) })
		}
	}
	return at, fire
}

func (w *incident) remindStep(ctx workflow.Context, id string, total int) {
	st := w.step(id)
	st.Reminded++
	left := st.DueAt.Sub(workflow.Now(ctx)).Round(time.Minute)
	w.record(ctx, workflow.Now(ctx), "system", "step.reminded", "step:"+id,
		fmt.Sprintf("reminder %d of %d to %s: due in %s", st.Reminded, total, st.Owner, left), nil)
	w.notify(ctx, fmt.Sprintf("step-%s-remind-%d", id, st.Reminded), "reminder", "Step: "+st.Title, *st.DueAt, st.Owner)
}

func (w *incident) escalateStep(ctx workflow.Context, id, to string) {
	st := w.step(id)
	st.Escalated++
	late := workflow.Now(ctx).Sub(*st.DueAt).Round(time.Minute)
	w.record(ctx, workflow.Now(ctx), "system", "step.escalated", "step:"+id,
		fmt.Sprintf("escalated to %s: %s late (escalation %d)", to, late, st.Escalated), nil)
	w.notify(ctx, fmt.Sprintf("step-%s-escalate-%d", id, st.Escalated), "escalation", "Step: "+st.Title, *st.DueAt, st.Owner, to)
}

// notify sends a clock mail without holding up the clocks: Slack or SMTP
// being down must never stop a deadline from being tracked.
func (w *incident) notify(ctx workflow.Context, key, kind, subject string, due time.Time, roles ...string) {
	mctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute, MaximumAttempts: 20},
	})
	fut := workflow.ExecuteActivity(mctx, activities.SendClockMailName, activities.ClockMail{
		IncidentID: w.in.ID, Key: w.in.ID + "-" + key, Kind: kind, Title: w.in.Title, Subject: subject,
		DueAt: due, Now: workflow.Now(ctx), Roles: roles,
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
	rfut := workflow.ExecuteActivity(mctx, activities.RoomNoticeName, activities.RoomNotice{
		IncidentID: w.in.ID, Key: w.in.ID + "-" + key, Kind: kind, Subject: subject,
		DueAt: due, Now: workflow.Now(ctx), Roles: roles,
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
	fut := workflow.ExecuteActivity(rctx, activities.SyncRoomName, room)
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
		Members: w.in.Members}
	for _, o := range w.obligations {
		if o.Status != breach.ObligationPending && o.Status != breach.ObligationOverdue {
			continue
		}
		r.OpenObligations++
		if o.Status == breach.ObligationOverdue {
			r.Overdue++
		}
		if o.DueAt != nil && (r.NextDeadline == nil || o.DueAt.Before(*r.NextDeadline)) {
			t := *o.DueAt
			r.NextDeadline, r.NextDeadlineName = &t, o.Regime+" to "+o.RecipientName
		}
	}
	for _, st := range w.steps {
		r.Steps = append(r.Steps, activities.RoomStep{ID: st.ID, Title: st.Title, Kind: st.Kind, Owner: st.Owner,
			State: st.State, DueAt: st.DueAt, DoneBy: st.DoneBy, AckedBy: st.AckedBy, Note: st.Note})
	}
	return r
}

func (w *incident) obligation(id string) *breach.Obligation {
	for i := range w.obligations {
		if w.obligations[i].ID == id {
			return &w.obligations[i]
		}
	}
	return nil
}

func (w *incident) remindObligation(ctx workflow.Context, id string) {
	o := w.obligation(id)
	o.Reminded++
	left := o.DueAt.Sub(workflow.Now(ctx)).Round(time.Minute)
	w.record(ctx, workflow.Now(ctx), "system", "obligation.reminded", "obligation:"+id,
		fmt.Sprintf("%s to %s due in %s", o.Regime, o.RecipientName, left), nil)
	w.notify(ctx, fmt.Sprintf("ob-%s-remind-%d", id, o.Reminded), "reminder", o.Regime+" to "+o.RecipientName, *o.DueAt, "legal")
}

func (w *incident) markOverdue(ctx workflow.Context, id string) {
	o := w.obligation(id)
	o.Status = breach.ObligationOverdue
	w.record(ctx, workflow.Now(ctx), "system", "obligation.overdue", "obligation:"+id,
		o.Regime+" deadline passed", map[string]any{"due_at": o.DueAt})
	w.notify(ctx, "ob-"+id+"-overdue", "overdue", o.Regime+" to "+o.RecipientName, *o.DueAt, "legal", "admin")
}

func (w *incident) escalateObligation(ctx workflow.Context, id string) {
	o := w.obligation(id)
	o.Escalated++
	late := workflow.Now(ctx).Sub(*o.DueAt).Round(time.Minute)
	w.record(ctx, workflow.Now(ctx), "system", "obligation.escalated", "obligation:"+id,
		fmt.Sprintf("%s to %s is %s overdue", o.Regime, o.RecipientName, late), nil)
	w.notify(ctx, fmt.Sprintf("ob-%s-escalate-%d", id, o.Escalated), "escalation", o.Regime+" to "+o.RecipientName, *o.DueAt, "legal", "admin")
}

func (w *incident) nextDeadline() *time.Time {
	var next *time.Time
	for _, o := range w.obligations {
		if (o.Status == breach.ObligationPending || o.Status == breach.ObligationOverdue) && o.DueAt != nil {
			if next == nil || o.DueAt.Before(*next) {
				t := *o.DueAt
				next = &t
			}
		}
	}
	return next
}

func (w *incident) phase() string {
	if w.status == breach.StatusClosed {
		return breach.StatusClosed
	}
	for _, st := range w.steps {
		if st.State == breach.StepReady {
			return st.ID
		}
	}
	return "awaiting-close"
}

func (w *incident) upsertSearch(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SearchStatus.ValueSet(w.status),
		SearchSeverity.ValueSet(w.severity),
		SearchPlaybook.ValueSet(w.pb.ID),
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

// record adds a timeline entry and queues the matching audit event.
func (w *incident) record(_ workflow.Context, at time.Time, actor, action, target, note string, details map[string]any) {
	w.timeline = append(w.timeline, breach.TimelineEntry{At: at, Actor: actor, Action: action, Target: target, Note: note})
	w.auditSeq++
	if details == nil {
		details = map[string]any{}
	}
	if note != "" {
		details["note"] = note
	}
	w.auditQueue = append(w.auditQueue, activities.AuditInput{
		IncidentID: w.in.ID, Key: fmt.Sprintf("%s#%d", w.in.ID, w.auditSeq), At: at,
		Actor: actor, Action: action, Target: target, Details: details,
	})
}

// flushAudit writes queued audit events in one activity, in order, so
// the store's hash chain has the workflow's order; each event's key makes
// a retried write idempotent. Events that arrive meanwhile go next time.
func (w *incident) flushAudit(actx workflow.Context) {
	for len(w.auditQueue) > 0 {
		batch := w.auditQueue
		w.auditQueue = nil
		if err := workflow.ExecuteActivity(actx, a.RecordAuditBatch, batch).Get(actx, nil); err != nil {
			workflow.GetLogger(actx).Error("audit", "first", batch[0].Key, "error", err)
		}
	}
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
	if err := workflow.ExecuteActivity(actx, a.IndexObligations, w.in.ID, rows).Get(actx, nil); err != nil {
		workflow.GetLogger(actx).Error("index obligations", "error", err)
		return
	}
	w.indexed = sig
}

func (w *incident) snapshot() *breach.Status {
	// What a step reports as comes from the pinned spec on every query, not
	// from state, so incidents pinned before reports_as existed report too.
	steps := append([]breach.StepState(nil), w.steps...)
	for i := range steps {
		if spec, ok := w.pb.Step(steps[i].ID); ok {
			steps[i].ReportsAs = playbooks.ReportRole(spec.ID, spec.ReportsAs)
		}
	}
	obs := append([]breach.Obligation(nil), w.obligations...)
	sort.SliceStable(obs, func(i, j int) bool {
		if obs[i].DueAt == nil || obs[j].DueAt == nil {
			return obs[j].DueAt == nil && obs[i].DueAt != nil
		}
		return obs[i].DueAt.Before(*obs[j].DueAt)
	})
	return &breach.Status{
		ID:              w.in.ID,
		Title:           w.in.Title,
		Summary:         w.in.Summary,
		Severity:        w.severity,
		Status:          w.status,
		Phase:           w.phase(),
		PlaybookID:      w.pb.ID,
		PlaybookVersion: w.pb.Version,
		ExternalRef:     w.in.ExternalRef,
		LaunchedBy:      w.in.LaunchedBy,
		LaunchedAt:      w.in.LaunchedAt,
		Facts:           w.facts,
		NextDeadline:    w.nextDeadline(),
		Obligations:     obs,
		Steps:           steps,
		Remediations:    append([]breach.Remediation{}, w.remediations...),
		Timeline:        append([]breach.TimelineEntry(nil), w.timeline...),
		Restricted:      w.in.Restricted,
		ClosedAt:        w.closedAt,
		Runs:            w.runs,
		Notices:         append([]breach.NoticeRun(nil), w.notices...),
	}
}
