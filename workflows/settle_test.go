package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

const settlePlaybook = `id: settle-test
version: 1
title: Settle test
description: Tell every customer, then review.
steps:
  - id: notify
    title: Notify the customers
    kind: customer_notices
    owner: responder
  - id: review
    title: Review
    kind: task
    owner: responder
    after: [notify]
`

// stubNoticeBatch stands in for notify.Sender.SendNoticeBatch (the real
// one is exercised against an SMTP peer in activities/notify and the
// dev-stack tests): it claims the range's notices in the store and marks
// every US-TX notice and the first US-CA one failed for good, the rest sent.
func stubNoticeBatch(st *store.SQL) func(context.Context, breach.NoticeBatch) (*breach.BatchResult, error) {
	var mu sync.Mutex
	failedCA := false
	return func(ctx context.Context, in breach.NoticeBatch) (*breach.BatchResult, error) {
		mu.Lock()
		defer mu.Unlock()
		ns, err := st.ListNotices(ctx, in.IncidentID, store.NoticePending, 0, store.MaxNoticePage)
		if err != nil {
			return nil, err
		}
		var ids []int64
		for _, n := range ns {
			if n.SubjectID > in.Range.After && n.SubjectID <= in.Range.Through {
				ids = append(ids, n.SubjectID)
			}
		}
		claimed, err := st.ClaimNotices(ctx, in.IncidentID, in.Kind, ids)
		if err != nil {
			return nil, err
		}
		var res breach.BatchResult
		for _, n := range claimed {
			if n.Jurisdiction == "US-TX" || n.Jurisdiction == "US-CA" && !failedCA {
				failedCA = failedCA || n.Jurisdiction == "US-CA"
				if err := st.MarkNoticeFailed(ctx, n.ID, "550 5.1.1 no such mailbox", true); err != nil {
					return nil, err
				}
				res.Failed++
				continue
			}
			if err := st.MarkNoticeSent(ctx, n.ID, time.Now()); err != nil {
				return nil, err
			}
			res.Sent++
		}
		return &res, nil
	}
}

// TestNoticeRunSettlesSubjectDuties: a run that reaches a duty's customers
// files that duty as the system, with the run as its reference and the
// failures counted in its note; a duty with no customer in the run, or
// whose every notice failed, stays open for legal; the incident closes
// without anyone filing the settled duties.
func TestNoticeRunSettlesSubjectDuties(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	h.env.RegisterActivityWithOptions(stubNoticeBatch(h.store), activity.RegisterOptions{Name: "SendNoticeBatch"})
	// California's 30-day clock runs out first: once settled, it must no
	// longer drive the next deadline.
	discovered, assessed := h.start.Add(-29*24*time.Hour), h.start
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start.Add(-time.Hour), DiscoveredAt: &discovered, AssessedAt: &assessed,
		Risk: "high", Jurisdictions: []string{"DE", "FR", "US-CA", "US-TX", "GB"}, DataCategories: []string{"contact", "financial"}})
	h.pinPlaybook(in, "settle.yaml", settlePlaybook)
	// Germany and France (GDPR: the EU), three Californians (one bounces),
	// two Texans (both bounce), nobody in Great Britain.
	csv := "external_id,email,country,subdivision\nD1,d1@example.de,DE,\nF1,f1@example.fr,FR,\n" +
		"C1,c1@example.com,US,US-CA\nC2,c2@example.com,US,US-CA\nC3,c3@example.com,US,US-CA\n" +
		"T1,t1@example.com,US,US-TX\nT2,t2@example.com,US,US-TX\n"
	h.importCustomers(in.ID, csv)
	runID := NoticesWorkflowID(in.ID, "notify")
	// The step is ready at once; its automatic run waits for legal's
	// notice texts (every customer here reads English), then a responder
	// sends.
	h.act(time.Minute, UpdateSetNoticeText, breach.SetNoticeText{Actor: legal, Locale: "en",
		WhatHappened: "A file was public.", WhatWeAreDoing: "We closed it."}, "")
	h.act(2*time.Minute, UpdateSendNotices, breach.SendNotices{Actor: responder, Customers: map[string]int{"en": 7}}, "")
	checked := 0
	h.check(time.Hour, func(st *breach.Status) {
		checked++
		if len(st.Notices) != 1 || st.Notices[0].FinishedAt == nil || st.Notices[0].Result.Sent != 4 || st.Notices[0].Result.Failed != 3 {
			t.Fatalf("notice runs = %+v, want one finished run with 4 sent and 3 failed", st.Notices)
		}
		finished := *st.Notices[0].FinishedAt
		for _, tc := range []struct{ id, note string }{
			{"gdpr-art34", "customer notices DE, FR: 2 sent (delivery report: GET /v1/incidents/BR-TEST01/notices/report)"},
			{"us-ca-residents", "customer notices US-CA: 2 sent, 1 failed: see GET /v1/incidents/BR-TEST01/notices?status=failed (delivery report: GET /v1/incidents/BR-TEST01/notices/report)"},
		} {
			o := find(st, tc.id)
			if o.Status != breach.ObligationFiled || o.FiledBy != "system" || o.FiledAt == nil || !o.FiledAt.Equal(finished) ||
				o.Reference != runID || o.FilingNote != tc.note {
				t.Errorf("%s = %s by %q at %v, reference %q, note %q; want filed by the system at %v, reference %q, note %q",
					tc.id, o.Status, o.FiledBy, o.FiledAt, o.Reference, o.FilingNote, finished, runID, tc.note)
			}
			if timelineHas(st, "obligation.filed", "obligation:"+tc.id) != 1 {
				t.Errorf("%s: no obligation.filed in the timeline", tc.id)
			}
		}
		// Every Texan bounced; no customer lives in Great Britain.
		for _, id := range []string{"us-tx-individuals", "uk-gdpr-art34"} {
			if o := find(st, id); o.ID == "" || o.Status == breach.ObligationFiled || o.FiledBy != "" {
				t.Errorf("%s = %+v, want it present and open", id, o)
			}
		}
		if ca := find(st, "us-ca-residents"); st.NextDeadline == nil || ca.DueAt == nil || !st.NextDeadline.After(*ca.DueAt) {
			t.Errorf("next deadline %v, want later than the settled California duty's %v", st.NextDeadline, ca.DueAt)
		}
	})
	// Legal amends the system's filing with a supplement once the bounced
	// Californian got a letter.
	h.act(2*time.Hour, UpdateFileObligation, breach.FileObligation{Actor: legal, Obligation: "us-ca-residents", Supplement: true,
		FiledAt: h.start.Add(2 * time.Hour), Reference: "letter-2026-11-23", Note: "the bounced customer was sent a letter"}, "")
	h.act(2*time.Hour+time.Minute, UpdateFileObligation, breach.FileObligation{Actor: legal, Obligation: "gdpr-art34",
		FiledAt: h.start.Add(2 * time.Hour)}, "already filed")
	h.check(3*time.Hour, func(st *breach.Status) {
		checked++
		if o := find(st, "us-ca-residents"); o.FiledBy != "system" || len(o.Supplements) != 1 || o.Supplements[0].FiledBy != legal.Name {
			t.Errorf("us-ca-residents after the supplement = %+v", o)
		}
	})
	h.act(4*time.Hour, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "review"}, "")
	h.act(5*time.Hour, UpdateClose, breach.CloseIncident{Actor: responder}, "still open")
	// Legal files the regulator duties and waives what is left; the
	// settled subjects duties are not touched.
	h.env.RegisterDelayedCallback(func() {
		v, _ := h.env.QueryWorkflow(QueryStatus)
		var st breach.Status
		_ = v.Get(&st)
		for _, o := range st.Obligations {
			if o.Status == breach.ObligationFiled || o.Status == breach.ObligationWaived || o.Exempt {
				continue
			}
			if o.Recipient == breach.RecipientSubjects && o.ID != "us-tx-individuals" && o.ID != "uk-gdpr-art34" {
				t.Errorf("subjects duty %s is %s after the run", o.ID, o.Status)
			}
			if o.Recipient == breach.RecipientRegulator {
				h.env.UpdateWorkflow(UpdateFileObligation, "file-"+o.ID, &testsuite.TestUpdateCallback{
					OnAccept: func() {}, OnReject: func(err error) { t.Errorf("file %s: %v", o.ID, err) }, OnComplete: func(any, error) {},
				}, breach.FileObligation{Actor: legal, Obligation: o.ID, FiledAt: h.env.Now(), Reference: "REF-" + o.ID, DelayReason: "test"})
			} else {
				h.env.UpdateWorkflow(UpdateWaiveObligation, "waive-"+o.ID, &testsuite.TestUpdateCallback{
					OnAccept: func() {}, OnReject: func(err error) { t.Errorf("waive %s: %v", o.ID, err) }, OnComplete: func(any, error) {},
				}, breach.WaiveObligation{Actor: legal, Obligation: o.ID, Reason: "handled outside this test"})
			}
		}
	}, 6*time.Hour)
	h.act(7*time.Hour, UpdateClose, breach.CloseIncident{Actor: responder, Note: "done"}, "")
	h.env.ExecuteWorkflow(Incident, in)
	if checked != 2 {
		t.Fatalf("%d of 2 checks ran", checked)
	}
	if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
		t.Fatalf("incident did not close: %v", h.env.GetWorkflowError())
	}
}
