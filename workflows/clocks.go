package workflows

import (
	"fmt"
	"sort"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/regulations"
	"github.com/breachflow/breachflow/templates"
	"go.temporal.io/sdk/workflow"
)

// The regulatory clocks: obligations recomputed from the facts, and the
// one timer the main loop waits on — the soonest step reminder or
// escalation, or obligation reminder, deadline or escalation.

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
	var late []lateClock
	for _, r := range fresh {
		o := breach.Obligation{Duty: r, Status: breach.ObligationPending}
		prev, known := old[r.ID]
		if known {
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
			passed := w.passedReminders(o.AnchorAt, o.DueAt, now)
			if passed > o.Reminded && w.remindsLateClocks(ctx) {
				why := "when the clock was set"
				if known && prev.DueAt != nil && !sameDue(prev.DueAt, o.DueAt) {
					why = "when the deadline moved"
				} else if known && prev.DueAt != nil {
					why = "unsent"
				}
				late = append(late, lateClock{id: o.ID, from: o.Reminded + 1, to: passed, why: why})
			}
			o.Reminded = max(o.Reminded, passed)
		}
		next = append(next, o)
	}
	for id, prev := range old {
		if !containsObligation(next, id) && prev.Status != breach.ObligationFiled && prev.Status != breach.ObligationWaived {
			w.record(ctx, now, "system", "obligation.dropped", "obligation:"+id, "no longer required by the facts", nil)
		}
	}
	w.obligations = next
	for _, l := range late {
		w.remindLate(ctx, l)
	}
	return nil
}

// lateClockReminder is the change that made a clock set with reminder
// points already behind it remind at once instead of skipping them.
const lateClockReminder = "late-clock-reminder"

// remindsLateClocks asks for the version only when a clock is late, so
// histories without late clocks carry no marker.
func (w *incident) remindsLateClocks(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, lateClockReminder, workflow.DefaultVersion, 1) >= 1
}

// lateClock is a clock whose reminder points from..to (1-based) had passed
// when evaluate saw it, and why they were not sent at their time.
type lateClock struct {
	id       string
	from, to int
	why      string
}

// remindLate sends one reminder now in place of the reminder points that
// had passed, and says in the timeline which ones it stands for. Its key
// names the deadline, so a clock re-armed onto another late deadline
// reminds again and a replay of the same one does not.
func (w *incident) remindLate(ctx workflow.Context, l lateClock) {
	o := w.obligation(l.id)
	now := workflow.Now(ctx)
	total := len(w.obligationReminders(o.AnchorAt, o.DueAt))
	points := fmt.Sprintf("reminder %d of %d had", l.to, total)
	if l.from < l.to {
		points = fmt.Sprintf("reminders %d–%d of %d had", l.from, l.to, total)
	}
	w.record(ctx, now, "system", "obligation.reminded", "obligation:"+l.id,
		fmt.Sprintf("%s to %s due in %s (%s passed %s; reminding now)", o.Regime, o.RecipientName, templates.Span(o.DueAt.Sub(now)), points, l.why),
		map[string]any{"due_at": o.DueAt, "late_from": l.from, "late_to": l.to, "reminders": total})
	w.notify(ctx, fmt.Sprintf("ob-%s-late-%s", l.id, o.DueAt.UTC().Format("20060102T150405Z")), "reminder", o.Regime+" to "+o.RecipientName, *o.DueAt, "legal")
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
	left := templates.Span(st.DueAt.Sub(workflow.Now(ctx)))
	w.record(ctx, workflow.Now(ctx), "system", "step.reminded", "step:"+id,
		fmt.Sprintf("reminder %d of %d to %s: due in %s", st.Reminded, total, st.Owner, left), nil)
	w.notify(ctx, fmt.Sprintf("step-%s-remind-%d", id, st.Reminded), "reminder", "Step: "+st.Title, *st.DueAt, st.Owner)
}

func (w *incident) escalateStep(ctx workflow.Context, id, to string) {
	st := w.step(id)
	st.Escalated++
	late := templates.Span(workflow.Now(ctx).Sub(*st.DueAt))
	w.record(ctx, workflow.Now(ctx), "system", "step.escalated", "step:"+id,
		fmt.Sprintf("escalated to %s: %s late (escalation %d)", to, late, st.Escalated), nil)
	w.notify(ctx, fmt.Sprintf("step-%s-escalate-%d", id, st.Escalated), "escalation", "Step: "+st.Title, *st.DueAt, st.Owner, to)
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
	left := templates.Span(o.DueAt.Sub(workflow.Now(ctx)))
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
	late := templates.Span(workflow.Now(ctx).Sub(*o.DueAt))
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
