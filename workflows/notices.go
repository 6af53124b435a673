package workflows

import (
	"fmt"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The customer-notice fan-out. An incident's customer_notices step starts
// a NotifyCustomers child workflow; it pages subject ids from the store
// (never holding an address), makes sure each subject has a pending
// notice, and runs a bounded window of batch activities on their own task
// queue, continuing as new before its history grows large. The activities
// are registered by package activities/notify under these names.
const (
	NoticesTaskQueue   = "breachflow-notices"
	PrepareNoticesName = "PrepareNotices"  // activities.Activities.PrepareNotices
	SendNoticesName    = "SendNoticeBatch" // notify.Sender.SendNoticeBatch
	CountNoticesName   = "CountNotices"    // activities.Activities.CountNotices
)

// Fan-out defaults: a page of subject ids becomes Page/Batch batches, of
// which Window run at once.
const (
	DefaultNoticePage   = 2000
	DefaultNoticeBatch  = 200
	DefaultNoticeWindow = 8
	// noticeRunBatches is how many batches one run starts before it
	// continues as new.
	noticeRunBatches = 500
	// noticeSweeps is how often a run goes over every subject again to
	// pick up notices a crashed batch left behind.
	noticeSweeps = 3
)

// NotifyInput starts (or continues) a NotifyCustomers run.
type NotifyInput struct {
	IncidentID string         `json:"incident_id"`
	Kind       string         `json:"kind"`
	Incident   *breach.Status `json:"incident"`
	Page       int            `json:"page,omitempty"`
	Batch      int            `json:"batch,omitempty"`
	Window     int            `json:"window,omitempty"`
	// RunBatches is how many batches one run starts before it continues
	// as new, keeping each history short (each batch adds about six
	// events); 0 means the default, 500.
	RunBatches int `json:"run_batches,omitempty"`
	// Carried across continue-as-new.
	Cursor  int64              `json:"cursor,omitempty"`
	Sweep   int                `json:"sweep,omitempty"`
	Done    breach.BatchResult `json:"done"`
	Batches int                `json:"batches,omitempty"`
	Runs    int                `json:"runs,omitempty"`
}

// NotifyResult is how a send run ended, counted from the store.
type NotifyResult struct {
	Tally   breach.NoticeTally `json:"tally"`
	Batches int                `json:"batches"`
	Runs    int                `json:"runs"`
	// Sweeps counts the passes over every subject made for notices a
	// crashed batch left behind that no retry of that batch took back.
	Sweeps int `json:"sweeps"`
}

// NoticesWorkflowID names the send run of a step.
func NoticesWorkflowID(incidentID, step string) string {
	return "notices/" + incidentID + "/" + step
}

// NotifyCustomers sends an incident's notices of one kind to every
// subject in the store, once each. A notice already sent is skipped by
// the batch that claims it, so running it again (a retry of failed
// notices, subjects added after the first run) sends only what is due.
func NotifyCustomers(ctx workflow.Context, in *NotifyInput) (*NotifyResult, error) {
	if in.IncidentID == "" || in.Incident == nil {
		return nil, temporal.NewNonRetryableApplicationError("incident id and incident are required", breach.ErrInvalid, nil)
	}
	if in.Kind == "" {
		in.Kind = breach.NoticeKindCustomer
	}
	in.Page = positive(in.Page, DefaultNoticePage)
	in.Batch = positive(in.Batch, DefaultNoticeBatch)
	in.Window = positive(in.Window, DefaultNoticeWindow)
	in.RunBatches = positive(in.RunBatches, noticeRunBatches)
	startedHere := 0
	in.Runs++
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           NoticesTaskQueue,
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 30 * time.Second},
	})
	batches := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           NoticesTaskQueue,
		StartToCloseTimeout: 10 * time.Minute,
		// A batch heartbeats after every notice; a worker that dies is
		// noticed within this and its batch is given to another.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 12},
	})
	inFlight := 0
	var lastErr error
	for {
		var page breach.PreparedPage
		err := workflow.ExecuteActivity(short, PrepareNoticesName, breach.NoticePage{
			IncidentID: in.IncidentID, Kind: in.Kind, After: in.Cursor, Limit: in.Page, Batch: in.Batch,
		}).Get(ctx, &page)
		if err != nil {
			return nil, fmt.Errorf("prepare notices after subject %d: %w", in.Cursor, err)
		}
		for _, r := range page.Ranges {
			if err := workflow.Await(ctx, func() bool { return inFlight < in.Window }); err != nil {
				return nil, err
			}
			inFlight++
			in.Batches++
			startedHere++
			fut := workflow.ExecuteActivity(batches, SendNoticesName, breach.NoticeBatch{
				IncidentID: in.IncidentID, Kind: in.Kind, Range: r, Incident: in.Incident,
			})
			workflow.Go(ctx, func(gctx workflow.Context) {
				defer func() { inFlight-- }()
				var res breach.BatchResult
				if err := fut.Get(gctx, &res); err != nil {
					// Its notices stay pending or sending; the sweep takes them.
					lastErr = err
					workflow.GetLogger(gctx).Warn("notice batch failed", "after", r.After, "through", r.Through, "error", err)
					return
				}
				in.Done.Sent += res.Sent
				in.Done.Failed += res.Failed
			})
		}
		in.Cursor = page.Next
		if page.Done {
			break
		}
		if startedHere >= in.RunBatches || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return inFlight == 0 }); err != nil {
				return nil, err
			}
			return nil, workflow.NewContinueAsNewError(ctx, NotifyCustomers, in)
		}
	}
	if err := workflow.Await(ctx, func() bool { return inFlight == 0 }); err != nil {
		return nil, err
	}
	var tally breach.NoticeTally
	if err := workflow.ExecuteActivity(short, CountNoticesName, in.IncidentID, in.Kind).Get(ctx, &tally); err != nil {
		return nil, fmt.Errorf("count notices: %w", err)
	}
	if tally.Pending+tally.Sending > 0 && in.Sweep < noticeSweeps {
		// A crashed batch leaves claims behind; once their lease has run
		// out, go over every subject again. Sent notices are skipped.
		if err := workflow.Sleep(ctx, store.NoticeClaimLease+5*time.Second); err != nil {
			return nil, err
		}
		in.Sweep++
		in.Cursor = 0
		return nil, workflow.NewContinueAsNewError(ctx, NotifyCustomers, in)
	}
	if tally.Pending+tally.Sending > 0 && lastErr != nil {
		workflow.GetLogger(ctx).Error("notices left unsent", "pending", tally.Pending, "sending", tally.Sending, "error", lastErr)
	}
	return &NotifyResult{Tally: tally, Batches: in.Batches, Runs: in.Runs, Sweeps: in.Sweep}, nil
}

func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// noticeStep is the customer_notices step notices are sent for: the first
// one that is ready, else the first one done.
func (w *incident) noticeStep() *breach.StepState {
	var done *breach.StepState
	for i := range w.steps {
		st := &w.steps[i]
		if st.Kind != playbooks.KindCustomerNotices {
			continue
		}
		if st.State == breach.StepReady {
			return st
		}
		if st.State == breach.StepDone && done == nil {
			done = st
		}
	}
	return done
}

func (w *incident) noticesRunning() bool {
	for _, r := range w.notices {
		if r.FinishedAt == nil {
			return true
		}
	}
	return false
}

// startNotices starts the send run of a customer_notices step when it
// becomes ready (its approval is given by then: the playbook orders it
// after the approval), and again when someone asks for another run.
func (w *incident) startNotices(ctx workflow.Context) {
	if w.noticesRunning() {
		return
	}
	st := w.noticeStep()
	if st == nil {
		return
	}
	auto := st.State == breach.StepReady && !w.noticesStarted[st.ID]
	if !auto && !w.sendRequested {
		return
	}
	if workflow.GetVersion(ctx, "customer-notices-fanout", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return // started before the fan-out existed: the step is completed by hand
	}
	w.sendRequested = false
	w.noticesStarted[st.ID] = true
	id := NoticesWorkflowID(w.in.ID, st.ID)
	if n := len(w.notices); n > 0 {
		id = fmt.Sprintf("%s-%d", id, n+1)
	}
	now := workflow.Now(ctx)
	w.notices = append(w.notices, breach.NoticeRun{WorkflowID: id, Step: st.ID, StartedAt: now})
	w.record(ctx, now, "system", "notices.started", "step:"+st.ID, "sending customer notices", map[string]any{"workflow_id": id})
	incident := w.snapshot()
	incident.Timeline, incident.Steps, incident.Obligations, incident.Remediations, incident.Notices = nil, nil, nil, nil, nil
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id,
		// The run must finish even if the incident's run continues as new.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
	})
	fut := workflow.ExecuteChildWorkflow(cctx, NotifyCustomers, &NotifyInput{
		IncidentID: w.in.ID, Kind: breach.NoticeKindCustomer, Incident: incident,
	})
	stepID := st.ID
	workflow.Go(ctx, func(gctx workflow.Context) {
		var res NotifyResult
		err := fut.Get(gctx, &res)
		w.finishNotices(gctx, id, stepID, &res, err)
		w.gen++
	})
}

// finishNotices records how a send run ended and, when every notice is
// settled, completes the step.
func (w *incident) finishNotices(ctx workflow.Context, id, stepID string, res *NotifyResult, err error) {
	now := workflow.Now(ctx)
	var run *breach.NoticeRun
	for i := range w.notices {
		if w.notices[i].WorkflowID == id {
			run = &w.notices[i]
		}
	}
	run.FinishedAt = &now
	if err != nil {
		run.Error = err.Error()
		w.record(ctx, now, "system", "notices.failed", "step:"+stepID, "the notice run stopped: "+err.Error(), nil)
		return
	}
	t := res.Tally
	run.Result = &t
	note := fmt.Sprintf("%d notices: %d sent, %d failed, %d suppressed", t.Total, t.Sent, t.Failed, t.Suppressed)
	if t.Pending+t.Sending > 0 {
		note += fmt.Sprintf(", %d still unsent", t.Pending+t.Sending)
	}
	w.record(ctx, now, "system", "notices.finished", "step:"+stepID, note, map[string]any{"tally": t, "batches": res.Batches})
	st := w.step(stepID)
	switch {
	case st == nil || st.State != breach.StepReady:
	case t.Total == 0:
		w.record(ctx, now, "system", "notices.none", "step:"+stepID,
			"no affected customers are imported: import them and send again, or complete the step by hand", nil)
	case t.Pending+t.Sending == 0:
		st.State, st.DoneAt, st.DoneBy, st.Note = breach.StepDone, &now, "system", note
		w.record(ctx, now, "system", "step.completed", "step:"+st.ID, note, nil)
		if w.facts.SubjectsNotifiedAt == nil {
			w.facts.SubjectsNotifiedAt = &now
			w.dirtyFacts = true
		}
	}
}

func (w *incident) validateSendNotices(_ workflow.Context, in breach.SendNotices) error {
	if err := w.admit(in.Actor, breach.RoleResponder); err != nil {
		return err
	}
	st := w.noticeStep()
	if st == nil {
		return reject(breach.ErrConflict, "no customer-notice step is ready: the notice must be approved first")
	}
	if w.noticesRunning() {
		return reject(breach.ErrConflict, breach.NoticeRunInProgress)
	}
	return nil
}

func (w *incident) sendNotices(ctx workflow.Context, in breach.SendNotices) (*breach.Status, error) {
	w.sendRequested = true
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "notices.requested", "", "another notice run", map[string]any{"role": in.Actor.Role})
	return w.settle(ctx)
}

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
