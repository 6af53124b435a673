package workflows

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
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
	// auditHead is the chain head the store answered the last write with.
	auditHead *breach.AuditHead
	// gen moves whenever a handler changes state; settled is the gen the
	// main loop has fully processed (obligations recomputed, steps
	// advanced), so a handler can answer with a settled status.
	gen     int
	settled int
	// ended is set when the main loop has stopped for good (the incident
	// closed): nothing will settle again, so waiting handlers answer now.
	ended bool
	// passes counts the main loop's passes; the launch Update waits for
	// the first, so the launcher sees computed obligations and ready steps.
	passes     int
	dirtyFacts bool
	// indexed is what the deadline index last received.
	indexed string
	// searched is what the search attributes were last set to.
	searched string
	// phaseIndexed is the phase the store's index last received.
	phaseIndexed string
	// actions tracks containment webhooks in flight, by step.
	actions map[string]bool
	// notices are the customer-notice send runs; noticesStarted marks the
	// steps whose automatic run has started, sendRequested asks for
	// another run.
	notices        []breach.NoticeRun
	noticesStarted map[string]bool
	sendRequested  bool
	// noticeTexts are legal's texts of the customer notice, by locale.
	noticeTexts map[string]breach.NoticeText
	// roomBusy is set while the incident room is being synced; roomShown
	// is the picture it last accepted.
	roomBusy  bool
	roomShown string
	// remedyShortTold is how many codes the room was last told are
	// missing; 0 when it was not told, or was told they are covered.
	remedyShortTold int
	// members of a restricted incident: those named at launch, then as
	// admins add and remove them (UpdateSetMember).
	members []string
}

func (w *incident) setup(ctx workflow.Context) error {
	if w.in.ID == "" || w.in.Playbook == nil {
		return temporal.NewNonRetryableApplicationError("incident id and playbook are required", breach.ErrInvalid, nil)
	}
	w.pb = w.in.Playbook
	w.status = breach.StatusActive
	w.actions = map[string]bool{}
	w.noticesStarted = map[string]bool{}
	w.members = slices.Clone(w.in.Members)
	if c := w.in.Carry; c != nil {
		w.facts, w.severity, w.steps, w.obligations = c.Facts, c.Severity, c.Steps, c.Obligations
		w.remediations, w.timeline, w.auditSeq, w.runs = c.Remediations, c.Timeline, c.AuditSeq, c.Runs
		w.notices, w.noticeTexts, w.auditHead = c.Notices, c.NoticeTexts, c.AuditHead
		w.remedyShortTold = c.RemedyShortTold
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

// answerAtCloseChange is the GetVersion id of answering every handler
// before a closed incident's run ends.
const answerAtCloseChange = "answer-handlers-at-close"

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
		w.passes++
		w.flushAudit(actx)
		w.index(actx)
		w.indexPhase(actx)
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
			in.Members = w.members
			in.Carry = &Carry{Facts: w.facts, Severity: w.severity, Steps: w.steps, Obligations: w.obligations,
				Remediations: w.remediations, Timeline: w.timeline, AuditSeq: w.auditSeq, Runs: w.runs, Notices: w.notices,
				NoticeTexts: w.noticeTexts, AuditHead: w.auditHead, RemedyShortTold: w.remedyShortTold}
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
	// A change that arrived while the closing pass ran (an async result,
	// then the close itself) is never settled: release its handler, and let
	// every handler answer before the run ends, so no caller is left
	// without an answer (TMPRL1102). An answer is a protocol message in
	// history, so runs recorded before this change keep ending unanswered.
	if workflow.GetVersion(ctx, answerAtCloseChange, workflow.DefaultVersion, 1) == 1 {
		w.ended = true
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return nil, err
		}
	}
	w.flushAudit(actx)
	w.index(actx)
	w.indexPhase(actx)
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
			w.stepReadied(ctx, st, spec)
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

// needs says who must still approve an unfinished approval step with a
// quorum; nil for every other step.
func (w *incident) needs(st *breach.StepState, spec *playbooks.Step) *breach.ApprovalNeeds {
	if spec.Kind != playbooks.KindApproval || spec.Needed() < 2 || (st.State != breach.StepReady && st.State != breach.StepPending) {
		return nil
	}
	n := &breach.ApprovalNeeds{Quorum: spec.Needed(), Count: spec.Needed() - len(st.Approvals), Roles: slices.Clone(spec.ApproverRoles())}
	for _, a := range st.Approvals {
		n.Excluded = append(n.Excluded, a.By)
	}
	if spec.ExcludeLauncher && !slices.Contains(n.Excluded, w.in.LaunchedBy) {
		n.Excluded = append(n.Excluded, w.in.LaunchedBy)
	}
	return n
}

func (w *incident) snapshot() *breach.Status {
	// What a step reports as comes from the pinned spec on every query, not
	// from state, so incidents pinned before reports_as existed report too.
	steps := append([]breach.StepState(nil), w.steps...)
	for i := range steps {
		if spec, ok := w.pb.Step(steps[i].ID); ok {
			steps[i].ReportsAs = playbooks.ReportRole(spec.ID, spec.ReportsAs)
			steps[i].Approvals = slices.Clone(steps[i].Approvals)
			steps[i].Needs = w.needs(&steps[i], spec)
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
		Members:         slices.Clone(w.members),
		ClosedAt:        w.closedAt,
		Runs:            w.runs,
		Notices:         append([]breach.NoticeRun(nil), w.notices...),
		NoticeTexts:     maps.Clone(w.noticeTexts),
		NoticeVersion:   breach.NoticeTextsVersion(w.noticeTexts),
		AuditHead:       w.auditHead,
	}
}
