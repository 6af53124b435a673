package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The customer-notice fan-out. An incident's customer_notices step starts
// a NotifyCustomers child workflow; it pages subject ids from the store
// (never holding an address), makes sure each subject has a pending
// notice, and runs a bounded window of batch activities on their own task
// queue, continuing as new before its history grows large.
const NoticesTaskQueue = "breachflow-notices"

// Fan-out defaults: a page of subject ids becomes Page/Batch batches, of
// which Window run at once.
const (
	DefaultNoticePage = 2000
	// DefaultNoticeBatch is the notices of one batch activity. At 200 the
	// per-batch work (a Temporal activity and its workflow tasks, the
	// claim, the subjects, codes and pages read for it) cost a quarter of
	// each notice's CPU; 500 halves that, and 1,000 saved nothing more
	// (bench notify). What a killed worker's batch can repeat is bounded
	// by the sends recorded as it goes (markEvery), not by its size.
	DefaultNoticeBatch = 500
	// noticeBatchV0 is the batch of runs started before noticeBatchChange.
	noticeBatchV0 = 200
	// DefaultNoticeWindow is the batches in flight at once: more than the
	// notices workers run together (two workers of
	// BREACHFLOW_NOTICE_BATCHES=4 run eight), so that batches wait in the
	// task queue and a worker always has the next one at hand; a batch
	// lost with a killed worker holds only its own slot until its
	// heartbeat times out.
	DefaultNoticeWindow = 16
	// noticeWindowV0 is the window of runs started before the
	// notices-heartbeat change.
	noticeWindowV0 = 8
	// NoticeHeartbeatTimeout is how long a batch may go without a
	// heartbeat before Temporal takes it for lost and retries it. The
	// sender heartbeats every second whatever its sends are doing (the
	// notices worker sends heartbeats at most a second apart), so only a
	// dead or cut-off worker misses it.
	NoticeHeartbeatTimeout = 5 * time.Second
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
	// Remedy is the playbook's remedy: PrepareNotices gives the customers
	// in its scope a code before their notices are sent. nil: none.
	Remedy *breach.RemedyScope `json:"remedy,omitempty"`
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
	// Jurisdictions are the tally's counts per jurisdiction: a subjects
	// duty is settled by the run that reached its customers.
	Jurisdictions map[string]breach.NoticeTally `json:"jurisdictions,omitempty"`
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
	r, err := newNotifyRun(*in)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// notifyRun is one run of the fan-out. in is the run's own copy of its
// input, with the cursor and counts it carries to the next run.
type notifyRun struct {
	in NotifyInput
	// startedHere counts the batches this run started, inFlight those
	// not finished yet; lastErr is the last batch failure.
	startedHere int
	inFlight    int
	lastErr     error
	// window is how many batches may be in flight (in.Window or the
	// default of the run's version).
	window int
}

func newNotifyRun(in NotifyInput) (*notifyRun, error) {
	if in.IncidentID == "" || in.Incident == nil {
		return nil, temporal.NewNonRetryableApplicationError("incident id and incident are required", breach.ErrInvalid, nil)
	}
	if in.Kind == "" {
		in.Kind = breach.NoticeKindCustomer
	}
	in.Page = positive(in.Page, DefaultNoticePage)
	in.RunBatches = positive(in.RunBatches, noticeRunBatches)
	in.Runs++
	return &notifyRun{in: in}, nil
}

// noticeBatchChange is the GetVersion id of DefaultNoticeBatch going from
// 200 to 500. Replay alone would not need it (the ranges a run batches
// come from PrepareNotices' recorded result), but with it a run started
// with 200 keeps 200 to its end, across continue-as-new, instead of
// changing size midway when its workers roll.
const noticeBatchChange = "cost13-notice-batch-500"

// prepareHeartbeatChange is the GetVersion id of giving PrepareNotices a
// heartbeat timeout.
const prepareHeartbeatChange = "roll13-prepare-heartbeat"

// run pages through the subjects, keeping a window of batches in flight,
// and continues as new before its history grows large.
func (r *notifyRun) run(ctx workflow.Context) (*NotifyResult, error) {
	shortOpts := workflow.ActivityOptions{
		TaskQueue:           NoticesTaskQueue,
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 30 * time.Second},
	}
	batchOpts := workflow.ActivityOptions{
		TaskQueue:           NoticesTaskQueue,
		StartToCloseTimeout: 10 * time.Minute,
		// A batch heartbeats as it goes; a worker that dies is noticed
		// within this and its batch is given to another.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 12},
	}
	if workflow.GetVersion(ctx, "notices-heartbeat", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		r.in.Window = positive(r.in.Window, noticeWindowV0) // carried on, as runs before the change did
	} else {
		// A killed worker's batch is retried within seconds, and a wider
		// window keeps the other workers busy meanwhile. A page takes
		// well under a second; one lost with its worker is retried soon.
		shortOpts.StartToCloseTimeout = 30 * time.Second
		batchOpts.HeartbeatTimeout = NoticeHeartbeatTimeout
		batchOpts.RetryPolicy.InitialInterval = time.Second
	}
	r.window = positive(r.in.Window, DefaultNoticeWindow)
	if r.in.Batch <= 0 {
		r.in.Batch = noticeBatchV0
		if workflow.GetVersion(ctx, noticeBatchChange, workflow.DefaultVersion, 1) == 1 {
			r.in.Batch = DefaultNoticeBatch
		}
	}
	short := workflow.WithActivityOptions(ctx, shortOpts)
	batches := workflow.WithActivityOptions(ctx, batchOpts)
	// A page lost with a killed worker held the whole send up until its
	// start-to-close timeout (30 s); it heartbeats after each step now, so
	// it is retried as soon as a lost batch is.
	prepare := short
	if workflow.GetVersion(ctx, prepareHeartbeatChange, workflow.DefaultVersion, 1) == 1 {
		prepOpts := shortOpts
		prepOpts.HeartbeatTimeout = NoticeHeartbeatTimeout
		prepOpts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second}
		prepare = workflow.WithActivityOptions(ctx, prepOpts)
	}
	for {
		var page breach.PreparedPage
		err := workflow.ExecuteActivity(prepare, a.PrepareNotices, breach.NoticePage{
			IncidentID: r.in.IncidentID, Kind: r.in.Kind, After: r.in.Cursor, Limit: r.in.Page, Batch: r.in.Batch, Remedy: r.in.Remedy,
		}).Get(ctx, &page)
		if err != nil {
			return nil, fmt.Errorf("prepare notices after subject %d: %w", r.in.Cursor, err)
		}
		for _, rg := range page.Ranges {
			if err := r.startBatch(ctx, batches, rg); err != nil {
				return nil, err
			}
		}
		r.in.Cursor = page.Next
		if page.Done {
			break
		}
		if r.startedHere >= r.in.RunBatches || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := r.drain(ctx); err != nil {
				return nil, err
			}
			return nil, workflow.NewContinueAsNewError(ctx, NotifyCustomers, &r.in)
		}
	}
	if err := r.drain(ctx); err != nil {
		return nil, err
	}
	return r.finish(ctx, short)
}

// startBatch waits for room in the window, then starts the batch of one
// range; its counts are added when it ends.
func (r *notifyRun) startBatch(ctx, batches workflow.Context, rg breach.NoticeRange) error {
	if err := workflow.Await(ctx, func() bool { return r.inFlight < r.window }); err != nil {
		return err
	}
	r.inFlight++
	r.in.Batches++
	r.startedHere++
	fut := workflow.ExecuteActivity(batches, sender.SendNoticeBatch, breach.NoticeBatch{
		IncidentID: r.in.IncidentID, Kind: r.in.Kind, Range: rg, Incident: r.in.Incident,
	})
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { r.inFlight-- }()
		var res breach.BatchResult
		if err := fut.Get(gctx, &res); err != nil {
			// Its notices stay pending or sending; the sweep takes them.
			r.lastErr = err
			workflow.GetLogger(gctx).Warn("notice batch failed", "after", rg.After, "through", rg.Through, "error", err)
			return
		}
		r.in.Done.Sent += res.Sent
		r.in.Done.Failed += res.Failed
	})
	return nil
}

// drain waits for every batch in flight.
func (r *notifyRun) drain(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return r.inFlight == 0 })
}

// finish counts the notices; while a crashed batch left some claimed or
// pending it sweeps every subject again, at most noticeSweeps times.
func (r *notifyRun) finish(ctx, short workflow.Context) (*NotifyResult, error) {
	var count breach.NoticeCount
	if err := workflow.ExecuteActivity(short, a.CountNotices, r.in.IncidentID, r.in.Kind).Get(ctx, &count); err != nil {
		return nil, fmt.Errorf("count notices: %w", err)
	}
	tally := count.NoticeTally
	if tally.Pending+tally.Sending > 0 && r.in.Sweep < noticeSweeps {
		// A crashed batch leaves claims behind; once their lease has run
		// out, go over every subject again. Sent notices are skipped.
		if err := workflow.Sleep(ctx, breach.NoticeClaimLease+5*time.Second); err != nil {
			return nil, err
		}
		r.in.Sweep++
		r.in.Cursor = 0
		return nil, workflow.NewContinueAsNewError(ctx, NotifyCustomers, &r.in)
	}
	if tally.Pending+tally.Sending > 0 && r.lastErr != nil {
		workflow.GetLogger(ctx).Error("notices left unsent", "pending", tally.Pending, "sending", tally.Sending, "error", r.lastErr)
	}
	return &NotifyResult{Tally: tally, Jurisdictions: count.Jurisdictions, Batches: r.in.Batches, Runs: r.in.Runs, Sweeps: r.in.Sweep}, nil
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
	if workflow.GetVersion(ctx, "notice-texts", workflow.DefaultVersion, 1) == 1 && !w.noticeTextsWritten(ctx, st.ID) {
		return // refused on the timeline; legal writes the texts, then someone sends again
	}
	if workflow.GetVersion(ctx, remedyCodesChange, workflow.DefaultVersion, 1) == 1 && !w.remedyCovered(ctx, st) {
		return // waits on the timeline, Slack and the dashboard; topping up the pool sends again
	}
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
		IncidentID: w.in.ID, Kind: breach.NoticeKindCustomer, Incident: incident, Remedy: w.remedyScope(ctx),
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
		if w.lettersOutstanding(ctx, now, stepID) {
			break
		}
		st.State, st.DoneAt, st.DoneBy, st.Note = breach.StepDone, &now, "system", note
		w.record(ctx, now, "system", "step.completed", "step:"+st.ID, note, nil)
		if w.facts.SubjectsNotifiedAt == nil {
			w.facts.SubjectsNotifiedAt = &now
			w.dirtyFacts = true
		}
	}
	w.settleSubjectDuties(ctx, now, run, res)
}

func (w *incident) validateSendNotices(_ workflow.Context, in breach.SendNotices) error {
	need := breach.RoleResponder
	if in.Recount && breach.RoleSatisfies(in.Actor.Role, breach.RoleLegal) {
		need = breach.RoleLegal
	}
	if err := w.admit(in.Actor, need); err != nil {
		return err
	}
	st := w.noticeStep()
	if st == nil {
		return reject(breach.ErrConflict, "no customer-notice step is ready: the notice must be approved first")
	}
	if w.noticesRunning() {
		return reject(breach.ErrConflict, breach.NoticeRunInProgress)
	}
	if a := w.noticeApproval(); a != nil && (a.State == breach.StepPending || a.State == breach.StepReady) {
		return reject(breach.ErrConflict, "step %s is not approved: the notice wording changed after approval, or it was never approved", a.ID)
	}
	if missing := breach.MissingNoticeTexts(w.noticeTexts, in.Customers); len(missing) > 0 {
		return reject(breach.ErrConflict, "%s: %s", breach.NoticeTextsMissing, strings.Join(missing, "; "))
	}
	return nil
}

func (w *incident) sendNotices(ctx workflow.Context, in breach.SendNotices) (*breach.Status, error) {
	w.sendRequested = true
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "notices.requested", "", "another notice run", map[string]any{"role": in.Actor.Role})
	return w.settle(ctx)
}

// lettersOutstanding keeps the customer_notices step open while customers
// email could not reach wait for a letter (docs/letters.md): the step
// completes when a later run (the API starts one when a batch is printed
// or substitute notice is decided) finds none waiting.
func (w *incident) lettersOutstanding(ctx workflow.Context, now time.Time, stepID string) bool {
	if workflow.GetVersion(ctx, "letters-channel", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumInterval: 30 * time.Second, MaximumAttempts: 5}})
	var lc breach.LetterCount
	if err := workflow.ExecuteActivity(actx, a.CountLetters, w.in.ID).Get(ctx, &lc); err != nil {
		w.record(ctx, now, "system", "notices.letters_unknown", "step:"+stepID,
			"could not count the customers waiting for a letter; the step completes on the email notices: "+err.Error(), nil)
		return false
	}
	if lc.Waiting+lc.Pending == 0 {
		return false
	}
	w.record(ctx, now, "system", "notices.letters_waiting", "step:"+stepID,
		fmt.Sprintf("%d customers email could not reach wait for a letter (%d in a batch not yet printed); the step completes once their letters are printed or substitute notice covers them",
			lc.Waiting+lc.Pending, lc.Pending), map[string]any{"waiting": lc.Waiting, "pending": lc.Pending})
	return true
}
