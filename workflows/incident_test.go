package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

var (
	responder = breach.Actor{Name: "rita", Role: breach.RoleResponder}
	legal     = breach.Actor{Name: "lena", Role: breach.RoleLegal}
	legal2    = breach.Actor{Name: "liu", Role: breach.RoleLegal}
	viewer    = breach.Actor{Name: "vic", Role: breach.RoleViewer}
)

// harness runs an Incident in the time-skipping test environment with the
// real activities on a real SQLite store; humans are delayed callbacks.
type harness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	store *store.SQL
	start time.Time
	seq   int
	mails []activities.ClockMail
}

func newHarness(t *testing.T, hooks activities.Webhooks) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Incident, workflow.RegisterOptions{Name: "Incident"})
	env.RegisterWorkflowWithOptions(NotifyCustomers, workflow.RegisterOptions{Name: "NotifyCustomers"})
	env.RegisterActivity(&activities.Activities{Store: st})
	env.RegisterActivity(&activities.Containment{Hooks: hooks})
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	h := &harness{t: t, env: env, store: st, start: start}
	// Mail leaves at the SMTP edge; here we record what the workflow asked
	// to send (the real sender is exercised by the dev-stack tests), under
	// the activity type name of notify.Notifier.SendClockMail.
	env.RegisterActivityWithOptions(func(_ context.Context, in activities.ClockMail) (*activities.MailResult, error) {
		h.mails = append(h.mails, in)
		return &activities.MailResult{MessageID: "<" + in.Key + "@breachflow>", Recipients: 1}, nil
	}, activity.RegisterOptions{Name: "SendClockMail"})
	return h
}

func (h *harness) input(pbID string, facts breach.Facts) *IncidentInput {
	h.t.Helper()
	cat, err := playbooks.Embedded()
	if err != nil {
		h.t.Fatal(err)
	}
	pb, ok := cat.Get(pbID)
	if !ok {
		h.t.Fatalf("no playbook %s", pbID)
	}
	id := "BR-TEST01"
	if _, _, err := h.store.CreateIncident(context.Background(), store.Incident{ID: id, PlaybookID: pb.ID, PlaybookVersion: pb.Version, Severity: "high", CreatedBy: "rita"}); err != nil {
		h.t.Fatal(err)
	}
	return &IncidentInput{ID: id, Title: "CRM export on a public bucket", Severity: "high", PlaybookID: pb.ID,
		PlaybookVersion: pb.Version, Facts: facts, LaunchedBy: "rita", LaunchedAt: h.start, Playbook: pb}
}

// act sends an Update at offset d after start; wantErr "" means it must be
// accepted, otherwise it must be refused with an error containing wantErr.
func (h *harness) act(d time.Duration, name string, arg any, wantErr string) {
	h.seq++
	id := fmt.Sprintf("u%d", h.seq)
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {
				if wantErr != "" {
					h.t.Errorf("at %s %s %+v was accepted; want refusal %q", d, name, arg, wantErr)
				}
			},
			OnReject: func(err error) {
				if wantErr == "" || !strings.Contains(err.Error(), wantErr) {
					h.t.Errorf("at %s %s %+v refused: %v (want %q)", d, name, arg, err, wantErr)
				}
			},
			OnComplete: func(_ any, err error) {
				if err != nil {
					h.t.Errorf("at %s %s failed: %v", d, name, err)
				}
			},
		}, arg)
	}, d)
}

// check queries the status at offset d.
func (h *harness) check(d time.Duration, f func(*breach.Status)) {
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryStatus)
		if err != nil {
			h.t.Errorf("query at %s: %v", d, err)
			return
		}
		var st breach.Status
		if err := v.Get(&st); err != nil {
			h.t.Fatal(err)
		}
		f(&st)
	}, d)
}

func stepState(st *breach.Status, id string) breach.StepState {
	for _, s := range st.Steps {
		if s.ID == id {
			return s
		}
	}
	return breach.StepState{}
}

func timelineHas(st *breach.Status, action, target string) int {
	n := 0
	for _, e := range st.Timeline {
		if e.Action == action && e.Target == target {
			n++
		}
	}
	return n
}

func TestCustomerDataBreachEndToEnd(t *testing.T) {
	var calls atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Breachflow-Signature") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	// rotate-credentials has a receiver; disable-account has none, so its
	// step must wait for a human.
	h := newHarness(t, activities.Webhooks{URLs: map[string]string{"rotate-credentials": receiver.URL}, Secret: []byte("0123456789abcdef")})
	aware := h.start.Add(-time.Hour)
	in := h.input("customer-data-breach", breach.Facts{AwareAt: aware, Jurisdictions: []string{"DE", "US-CA"},
		DataCategories: []string{"contact", "financial"}, Risk: "unassessed"})
	m := time.Minute

	h.check(1*m, func(st *breach.Status) {
		if s := stepState(st, "triage"); s.State != breach.StepReady || !s.DueAt.Equal(h.start.Add(2*time.Hour)) {
			t.Errorf("triage = %+v, want ready and due at launch+2h", s)
		}
		if s := stepState(st, "contain-source"); s.State != breach.StepPending {
			t.Errorf("contain-source = %s before triage is done", s.State)
		}
		if st.NextDeadline == nil || !st.NextDeadline.Equal(aware.Add(72*time.Hour)) {
			t.Errorf("next deadline = %v, want the GDPR 72 h clock %v", st.NextDeadline, aware.Add(72*time.Hour))
		}
	})
	h.act(2*m, UpdateCompleteStep, breach.CompleteStep{Actor: viewer, Step: "triage"}, "belongs to responder")
	h.act(3*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "contain-source"}, "not ready: waiting for triage")
	h.act(4*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "no-such-step"}, "has no step")
	h.act(10*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "triage", Note: "confirmed public bucket"}, "")
	h.act(11*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "triage"}, "already done")
	h.check(12*m, func(st *breach.Status) {
		if s := stepState(st, "rotate-credentials"); s.State != breach.StepDone || !strings.HasPrefix(s.ActionResult, "ok: HTTP 200") {
			t.Errorf("rotate-credentials = %+v, want done by its webhook", s)
		}
		if s := stepState(st, "disable-accounts"); s.State != breach.StepReady || !strings.HasPrefix(s.ActionResult, "failed") {
			t.Errorf("disable-accounts = %+v, want ready with a failed webhook", s)
		}
		for _, id := range []string{"contain-source", "preserve-evidence"} {
			if s := stepState(st, id); s.State != breach.StepReady {
				t.Errorf("%s = %s, want ready in parallel after triage", id, s.State)
			}
		}
	})
	h.act(30*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "disable-accounts", Note: "disabled by hand"}, "")
	h.act(31*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "contain-source", Evidence: []string{"s3 policy diff"}}, "")
	h.act(32*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "preserve-evidence"}, "")
	// Scope needs the affected counts: refused, then a facts change mid-run.
	h.act(40*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "scope-impact"}, "needs affected")
	h.act(41*m, UpdatePatchFacts, breach.PatchFacts{Actor: responder, Set: []string{"affected"}, Facts: breach.Facts{Affected: map[string]int{"DE": 1200, "US-CA": 600}}}, "")
	h.act(42*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "scope-impact"}, "")
	// Risk is legal's call.
	h.act(50*m, UpdatePatchFacts, breach.PatchFacts{Actor: responder, Set: []string{"risk"}, Facts: breach.Facts{Risk: "high"}}, "legal's decision")
	h.act(51*m, UpdateCompleteStep, breach.CompleteStep{Actor: legal, Step: "assess-risk"}, "needs risk")
	h.act(52*m, UpdatePatchFacts, breach.PatchFacts{Actor: legal, Set: []string{"risk"}, Facts: breach.Facts{Risk: "high"}}, "")
	h.act(53*m, UpdateCompleteStep, breach.CompleteStep{Actor: legal, Step: "assess-risk", Note: "financial data, high risk"}, "")
	h.check(54*m, func(st *breach.Status) {
		for _, id := range []string{"regulator-notices", "high-tier-outreach", "draft-notice"} {
			if s := stepState(st, id); s.State != breach.StepReady {
				t.Errorf("%s = %s after a high-risk assessment, want ready", id, s.State)
			}
		}
		if st.Facts.AssessedAt == nil {
			t.Error("assessed_at not recorded when the risk assessment completed")
		}
	})
	// draft-notice is due 24 h after it became ready (53 m); leave it late.
	draftDue := h.start.Add(53*m + 24*time.Hour)
	h.check(53*m+30*time.Hour, func(st *breach.Status) {
		s := stepState(st, "draft-notice")
		spec, _ := in.Playbook.Step("draft-notice")
		want := len(in.Playbook.RemindersFor(spec))
		if want == 0 || s.Reminded != want || timelineHas(st, "step.reminded", "step:draft-notice") != want {
			t.Errorf("draft-notice reminded %d times, want the playbook's %d before %s", s.Reminded, want, draftDue)
		}
		if s.Escalated < 2 || timelineHas(st, "step.escalated", "step:draft-notice") != s.Escalated {
			t.Errorf("draft-notice escalated %d times by 6 h late, want at least 2 (every 4h from due)", s.Escalated)
		}
	})
	h.act(53*m+31*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "draft-notice"}, "")
	h.act(53*m+32*time.Hour, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "reject"}, "needs a reason")
	h.act(53*m+33*time.Hour, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "reject", Reason: "missing the DPO contact"}, "")
	h.act(53*m+34*time.Hour, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "approve"}, "not ready")
	h.check(53*m+34*time.Hour+m, func(st *breach.Status) {
		if s := stepState(st, "draft-notice"); s.State != breach.StepReady {
			t.Errorf("draft-notice = %s after the rejection, want reopened", s.State)
		}
	})
	h.act(53*m+35*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "draft-notice", Note: "added DPO contact"}, "")
	h.act(53*m+36*time.Hour, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "approve"}, "")
	// Two-person control: a second legal person releases the notice.
	h.act(53*m+36*time.Hour+m/2, UpdateDecide, breach.Decide{Actor: legal2, Step: "approve-notice", Decision: "approve"}, "")
	h.act(53*m+36*time.Hour+m, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "reject", Reason: "changed my mind"}, "already done")
	h.act(53*m+37*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "high-tier-outreach"}, "")
	h.act(53*m+38*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "customer-notices"}, "")
	h.act(53*m+39*time.Hour, UpdateAddRemediation, breach.AddRemediation{Actor: responder, Title: "Block public ACLs org-wide", Owner: "platform"}, "")
	h.act(53*m+40*time.Hour, UpdateClose, breach.CloseIncident{Actor: responder}, "still open")
	// Legal files or waives every duty; filing the regulator ones
	// completes the regulator_notices step by itself.
	h.env.RegisterDelayedCallback(func() {
		v, _ := h.env.QueryWorkflow(QueryStatus)
		var st breach.Status
		_ = v.Get(&st)
		for _, o := range st.Obligations {
			if o.Status == breach.ObligationFiled || o.Status == breach.ObligationWaived || o.Exempt {
				continue
			}
			if o.Recipient == "regulator" {
				h.env.UpdateWorkflow(UpdateFileObligation, "file-"+o.ID, &testsuite.TestUpdateCallback{
					OnAccept: func() {}, OnReject: func(err error) { t.Errorf("file %s: %v", o.ID, err) }, OnComplete: func(any, error) {},
				}, breach.FileObligation{Actor: legal, Obligation: o.ID, FiledAt: h.env.Now(), Reference: "REF-" + o.ID, DelayReason: "scoping took longer"})
			} else {
				h.env.UpdateWorkflow(UpdateWaiveObligation, "waive-"+o.ID, &testsuite.TestUpdateCallback{
					OnAccept: func() {}, OnReject: func(err error) { t.Errorf("waive %s: %v", o.ID, err) }, OnComplete: func(any, error) {},
				}, breach.WaiveObligation{Actor: legal, Obligation: o.ID, Reason: "covered by the customer notice"})
			}
		}
	}, 53*m+41*time.Hour)
	h.check(53*m+41*time.Hour+m, func(st *breach.Status) {
		if s := stepState(st, "regulator-notices"); s.State != breach.StepDone || s.DoneBy != "system" {
			t.Errorf("regulator-notices = %+v, want done by the system once every regulator duty is filed", s)
		}
	})
	h.act(53*m+42*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "remediation"}, "")
	h.act(53*m+43*time.Hour, UpdateCompleteRemediation, breach.CompleteRemediation{Actor: responder, ID: "R1", Evidence: "SCP applied"}, "")
	h.act(53*m+44*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "post-incident-review"}, "")
	h.act(53*m+45*time.Hour, UpdateClose, breach.CloseIncident{Actor: responder, Note: "all done"}, "")

	h.env.ExecuteWorkflow(Incident, in)
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("incident did not close")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("rotate-credentials webhook called %d times, want 1", calls.Load())
	}
	report, err := h.store.VerifyAudit(context.Background(), in.ID)
	if err != nil || !report.OK || report.Events < 30 {
		t.Fatalf("audit chain = %+v, %v; want a verifying chain of every action", report, err)
	}
	events, _ := h.store.ListAudit(context.Background(), in.ID)
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Action+"/"+e.Actor] = true
	}
	for _, want := range []string{"incident.launched/rita", "step.completed/rita", "facts.changed/lena", "step.rejected/lena",
		"step.approval_recorded/lena", "step.approved/liu", "obligation.filed/lena", "step.escalated/system", "incident.closed/rita"} {
		if !seen[want] {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func TestObligationClockRemindsEscalatesAndRearms(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	aware := h.start
	in := h.input("customer-data-breach", breach.Facts{AwareAt: aware, Jurisdictions: []string{"FR"}, Risk: "unassessed"})
	h.check(23*time.Hour, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Reminded != 0 {
			t.Errorf("reminded %d before 24 h", o.Reminded)
		}
	})
	h.check(24*time.Hour+time.Second, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Reminded != 1 {
			t.Errorf("reminded %d at 24 h, want 1", o.Reminded)
		}
	})
	// At 30 h legal learns awareness was really 10 h earlier: the clock re-arms.
	h.act(30*time.Hour, UpdatePatchFacts, breach.PatchFacts{Actor: legal, Set: []string{"aware_at"}, Facts: breach.Facts{AwareAt: aware.Add(-10 * time.Hour)}}, "")
	h.check(30*time.Hour+time.Second, func(st *breach.Status) {
		o := find(st, "gdpr-art33")
		if !o.DueAt.Equal(aware.Add(62 * time.Hour)) {
			t.Errorf("due = %v after aware_at moved (facts aware %v, timeline %+v), want %v", o.DueAt, st.Facts.AwareAt, st.Timeline[len(st.Timeline)-1], aware.Add(62*time.Hour))
		}
		if o.Reminded != 1 {
			t.Errorf("reminded = %d, want 1 (40 h have elapsed on the new clock: only the 24 h point is past)", o.Reminded)
		}
	})
	h.check(62*time.Hour+time.Second, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Status != breach.ObligationOverdue || o.Reminded != 5 {
			t.Errorf("at the deadline: %+v, want overdue after 5 reminders", o)
		}
	})
	h.check(70*time.Hour+time.Second, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Escalated != 3 {
			t.Errorf("escalated %d times by 8 h overdue, want 3 (at 0, 4 and 8 h)", o.Escalated)
		}
	})
	h.act(71*time.Hour, UpdateFileObligation, breach.FileObligation{Actor: legal, Obligation: "gdpr-art33", FiledAt: aware.Add(71 * time.Hour)}, "delay_reason is required")
	h.act(72*time.Hour, UpdateFileObligation, breach.FileObligation{Actor: legal, Obligation: "gdpr-art33", FiledAt: aware.Add(72 * time.Hour), Reference: "CNIL-1", DelayReason: "awareness was backdated"}, "")
	// Phased reporting (Art. 33(4)): a supplement links to the initial filing.
	h.act(73*time.Hour, UpdateFileObligation, breach.FileObligation{Actor: legal, Obligation: "gdpr-art34", FiledAt: aware.Add(73 * time.Hour), Supplement: true}, "file the initial report before a supplement")
	h.act(74*time.Hour, UpdateFileObligation, breach.FileObligation{Actor: legal, Obligation: "gdpr-art33", FiledAt: aware.Add(74 * time.Hour), Reference: "CNIL-1-a", Note: "root cause", Supplement: true}, "")
	h.check(100*time.Hour, func(st *breach.Status) {
		o := find(st, "gdpr-art33")
		if o.Status != breach.ObligationFiled || o.Escalated != 3 || o.Reference != "CNIL-1" {
			t.Errorf("after filing: %+v, want filed and no more escalations", o)
		}
		if len(o.Supplements) != 1 || o.Supplements[0].Reference != "CNIL-1-a" {
			t.Errorf("supplements = %+v, want the one filed at 74 h", o.Supplements)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 101*time.Hour)
	h.env.ExecuteWorkflow(Incident, in)
	kinds := map[string]int{}
	for _, m := range h.mails {
		if strings.Contains(m.Subject, "GDPR Art. 33") {
			kinds[m.Kind]++
			if m.Kind != "reminder" && !strings.Contains(strings.Join(m.Roles, ","), "legal") {
				t.Errorf("%s mail to %v, want legal among the recipients", m.Kind, m.Roles)
			}
		}
	}
	// One reminder mail at 24 h before aware_at moved; at the move one at
	// once for the re-armed clock's passed 24 h point; then the points not
	// yet passed (48, 60, 68, 71 h) each mail once; then the overdue notice
	// and three escalations.
	if kinds["reminder"] != 6 || kinds["overdue"] != 1 || kinds["escalation"] != 3 {
		t.Errorf("GDPR clock mails = %v, want 6 reminders, 1 overdue, 3 escalations", kinds)
	}
}

func find(st *breach.Status, id string) breach.Obligation {
	for _, o := range st.Obligations {
		if o.ID == id {
			return o
		}
	}
	return breach.Obligation{}
}

func TestContinueAsNewCarriesState(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("insider-exfiltration", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"DE"}, Risk: "unassessed"})
	h.act(time.Minute, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "triage", Note: "badge logs"}, "")
	h.act(2*time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: responder, Title: "Offboarding checklist"}, "")
	h.env.RegisterDelayedCallback(func() { h.env.SetContinueAsNewSuggested(true) }, 3*time.Minute)
	// The server's suggestion only counts at the next workflow task: wake it.
	h.act(4*time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: responder, Title: "Review DLP rules"}, "")
	h.env.ExecuteWorkflow(Incident, in)
	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !asCAN(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new when suggested", err)
	}
	var next IncidentInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Carry == nil || next.Carry.Runs != 1 || len(next.Carry.Remediations) != 2 {
		t.Fatalf("carried state = %+v", next.Carry)
	}
	if events, _ := h.store.ListAudit(context.Background(), in.ID); next.Carry.AuditHead == nil ||
		len(events) == 0 || *next.Carry.AuditHead != store.HeadOf(events[len(events)-1]) {
		t.Fatalf("carried audit checkpoint %+v, want the chain's head (%d events)", next.Carry.AuditHead, len(events))
	}
	// The next run picks up where the last left off.
	h2 := newHarness(t, activities.Webhooks{})
	h2.store = h.store
	h2.check(time.Minute, func(st *breach.Status) {
		if st.Runs != 2 || stepState(st, "triage").State != breach.StepDone || stepState(st, "triage").Note != "badge logs" ||
			len(st.Remediations) != 2 || timelineHas(st, "step.completed", "step:triage") != 1 {
			t.Errorf("after continue-as-new: runs=%d triage=%+v remediations=%d", st.Runs, stepState(st, "triage"), len(st.Remediations))
		}
	})
	h2.env.RegisterDelayedCallback(func() { h2.env.CancelWorkflow() }, 2*time.Minute)
	h2.env.ExecuteWorkflow(Incident, &next)
}

// TestAuditCheckpoint: after each write the workflow holds the chain's
// head as the store answered it, MAC included, and the chain verifies
// against it.
func TestAuditCheckpoint(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	spec, err := store.NewAuditKey("a1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := store.ParseAuditKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	h.store.SetAuditKeys(keys)
	in := h.input("insider-exfiltration", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"DE"}, Risk: "unassessed"})
	h.act(time.Minute, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "triage", Note: "badge logs"}, "")
	checked := 0
	for _, at := range []time.Duration{30 * time.Second, 2 * time.Minute} {
		h.check(at, func(st *breach.Status) {
			events, err := h.store.ListAudit(context.Background(), in.ID)
			if err != nil || len(events) == 0 {
				t.Fatalf("audit at %s: %d events, %v", at, len(events), err)
			}
			head := store.HeadOf(events[len(events)-1])
			if st.AuditHead == nil || *st.AuditHead != head || head.MAC == "" || head.KeyID != "a1" {
				t.Errorf("at %s the checkpoint is %+v, want the head %+v with its MAC", at, st.AuditHead, head)
			}
			if rep := store.VerifyAuditChain(events, keys, st.AuditHead); !rep.OK || rep.Checkpoint != head.Seq {
				t.Errorf("at %s the chain against the checkpoint: %+v", at, rep)
			}
			checked++
		})
	}
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 3*time.Minute)
	h.env.ExecuteWorkflow(Incident, in)
	if checked != 2 {
		t.Fatalf("%d checks ran, want 2", checked)
	}
}

func asCAN(err error, target **workflow.ContinueAsNewError) bool {
	return errors.As(err, target)
}

func TestPlaybookSetsClockReminders(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"FR"}, Risk: "unassessed"})
	pb := *in.Playbook
	pb.ClockReminders = []playbooks.Duration{playbooks.Duration(12 * time.Hour), playbooks.Duration(70 * time.Hour)}
	in.Playbook = &pb
	h.check(12*time.Hour-time.Second, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Reminded != 0 {
			t.Errorf("reminded %d before the playbook's 12 h point", o.Reminded)
		}
	})
	h.check(12*time.Hour+time.Second, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Reminded != 1 {
			t.Errorf("reminded %d at 12 h, want 1", o.Reminded)
		}
	})
	h.check(71*time.Hour, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Reminded != 2 {
			t.Errorf("reminded %d by 71 h, want the playbook's 2 (not the default 5)", o.Reminded)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 71*time.Hour+time.Minute)
	h.env.ExecuteWorkflow(Incident, in)
}
