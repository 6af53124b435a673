package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
)

const outreachPlaybook = `id: outreach-test
version: 1
title: Outreach test
description: Call the key customers, then tell everyone.
steps:
  - id: outreach
    title: Personal outreach to high-tier customers
    kind: outreach
    owner: responder
    hold: 2h
  - id: announce
    title: Announce
    kind: task
    owner: responder
    after: [outreach]
`

// TestOutreachHoldRunsOut: the outreach step opens one task per high-tier
// customer (two of three here), holds the next step back, and lets it go
// when the hold runs out with the calls still open, saying so.
func TestOutreachHoldRunsOut(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start})
	h.pinPlaybook(in, "outreach.yaml", outreachPlaybook)
	csv := "external_id,email,tier,account_manager\nA,a@example.com,high,amy\nB,b@example.com,low,amy\nC,c@example.com,high,bob\n"
	h.importCustomers(in.ID, csv)
	checked := 0
	h.check(time.Hour, func(st *breach.Status) {
		checked++
		o := st.Steps[0]
		if o.State != breach.StepReady || o.Outreach == nil || o.Outreach.Open != 2 || st.Steps[1].State != breach.StepPending {
			t.Errorf("at 1h: outreach %+v (tally %+v), announce %s; want ready with 2 open calls and announce held back", o, o.Outreach, st.Steps[1].State)
		}
	})
	h.check(2*time.Hour+time.Minute, func(st *breach.Status) {
		checked++
		o := st.Steps[0]
		if o.State != breach.StepDone || o.DoneBy != "system" || !strings.Contains(o.Note, "2h hold ran out with 2 calls open") || st.Steps[1].State != breach.StepReady {
			t.Errorf("after the hold: outreach %s by %s (%q), announce %s", o.State, o.DoneBy, o.Note, st.Steps[1].State)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 3*time.Hour)
	h.env.ExecuteWorkflow(Incident, in)
	if checked != 2 {
		t.Fatalf("%d of 2 checks ran", checked)
	}
	tasks, err := h.store.ListOutreachTasks(context.Background(), in.ID, store.OutreachOpen)
	if err != nil || len(tasks) != 2 || tasks[0].AccountManager != "amy" || tasks[1].AccountManager != "bob" {
		t.Fatalf("open tasks %+v, %v", tasks, err)
	}
}

// pinPlaybook parses a test playbook and pins it into in, as a launch does.
func (h *harness) pinPlaybook(in *IncidentInput, name, src string) {
	h.t.Helper()
	pb, err := playbooks.Parse(name, []byte(src))
	if err != nil {
		h.t.Fatal(err)
	}
	in.Playbook, in.PlaybookID, in.PlaybookVersion = pb, pb.ID, pb.Version
}

// importCustomers seals and stores the customers of csv for incident id,
// as the API's import does.
func (h *harness) importCustomers(id, csv string) {
	h.t.Helper()
	key, _ := codec.NewKey("k1")
	kr, _ := codec.ParseKeys(key)
	var recs []store.SubjectRecord
	if _, err := subjects.Import(strings.NewReader(csv), subjects.Options{}, func(s subjects.Subject) error {
		r, err := subjects.Seal(id, s, kr, []byte("0123456789abcdef0123456789abcdef"))
		recs = append(recs, r)
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := h.store.UpsertSubjects(context.Background(), id, recs); err != nil {
		h.t.Fatal(err)
	}
}
