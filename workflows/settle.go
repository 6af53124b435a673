package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/regulations"
	"go.temporal.io/sdk/workflow"
)

// settleDutiesChange is the GetVersion id of settling subjects duties by
// the notice run: incidents whose runs finished before it files nothing.
const settleDutiesChange = "notices-settle-duties"

// filedBySystem is who filed a duty that the system fulfilled itself: a
// subjects duty settled by the notice run that reached its customers.
const filedBySystem = "system"

// settleSubjectDuties files, as the system, every open subjects duty whose
// customers the finished run reached. A duty is reached when the run has
// notices in its jurisdiction (regulations.Reaches: the same code, a
// subdivision of its country, any EEA state for the EU), none of them is
// still unsent, and at least one was sent. A duty with no customer in the
// run, or whose every notice failed or was suppressed, stays open for
// legal; an exempt, filed or waived duty is left as it is.
func (w *incident) settleSubjectDuties(ctx workflow.Context, now time.Time, run *breach.NoticeRun, res *NotifyResult) {
	var open []*breach.Obligation
	for i := range w.obligations {
		o := &w.obligations[i]
		if o.Recipient == breach.RecipientSubjects && !o.Exempt &&
			(o.Status == breach.ObligationPending || o.Status == breach.ObligationOverdue) {
			open = append(open, o)
		}
	}
	if len(open) == 0 || len(res.Jurisdictions) == 0 {
		return
	}
	if workflow.GetVersion(ctx, settleDutiesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	for _, o := range open {
		reached, t := reachedBy(o.Jurisdiction, res.Jurisdictions)
		if t.Total == 0 || t.Pending+t.Sending > 0 || t.Sent == 0 {
			continue
		}
		at := now
		note := deliveryNote(w.in.ID, reached, t)
		if o.DueAt != nil && at.After(*o.DueAt) {
			note += fmt.Sprintf("; sent after the deadline (%s)", o.DueAt.UTC().Format(time.RFC3339))
		}
		o.Status, o.FiledAt, o.FiledBy, o.Reference, o.FilingNote = breach.ObligationFiled, &at, filedBySystem, run.WorkflowID, note
		w.record(ctx, now, filedBySystem, "obligation.filed", "obligation:"+o.ID, note, map[string]any{
			"filed_at": at, "reference": run.WorkflowID, "jurisdictions": reached,
			"sent": t.Sent, "failed": t.Failed, "suppressed": t.Suppressed,
		})
		w.dirtyFacts = true // a filing can start a chained clock
	}
}

// reachedBy sums the run's counts over the jurisdictions that reach a duty
// of jurisdiction duty, and names them in order.
func reachedBy(duty string, counts map[string]breach.NoticeTally) ([]string, breach.NoticeTally) {
	var names []string
	for j := range counts {
		if regulations.Reaches(duty, j) {
			names = append(names, j)
		}
	}
	slices.Sort(names) // map order is random; history must not be
	var sum breach.NoticeTally
	for _, j := range names {
		t := counts[j]
		sum.Sent += t.Sent
		sum.Failed += t.Failed
		sum.Suppressed += t.Suppressed
		sum.Pending += t.Pending
		sum.Sending += t.Sending
		sum.Total += t.Total
	}
	return names, sum
}

// deliveryNote is the filing note of a settled duty: what the run did for
// its customers, and where to find those it did not reach.
func deliveryNote(incidentID string, reached []string, t breach.NoticeTally) string {
	note := fmt.Sprintf("customer notices %s: %d sent", strings.Join(reached, ", "), t.Sent)
	if t.Suppressed > 0 {
		note += fmt.Sprintf(", %d suppressed", t.Suppressed)
	}
	if t.Failed > 0 {
		note += fmt.Sprintf(", %d failed: see GET /v1/incidents/%s/notices?status=failed", t.Failed, incidentID)
	}
	return note + fmt.Sprintf(" (delivery report: GET /v1/incidents/%s/notices/report)", incidentID)
}
