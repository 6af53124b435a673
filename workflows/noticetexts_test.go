package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"go.temporal.io/sdk/activity"
)

const noticeTextsPlaybook = `id: notice-texts-test
version: 1
title: Notice texts test
description: Approve the notice, then send it.
steps:
  - id: approve-notice
    title: Approve the customer notice
    kind: approval
    owner: legal
  - id: customer-notices
    title: Send customer notices
    kind: customer_notices
    owner: responder
    after: [approve-notice]
`

// TestNoticeTextsGateTheSend: legal writes the notice texts per locale
// through a validated Update; a run is refused, naming the locale, while a
// locale with customers (zh-CN here) has none, and nothing is sent to
// anyone; once both are written the batches carry them.
func TestNoticeTextsGateTheSend(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start})
	h.pinPlaybook(in, "notice-texts.yaml", noticeTextsPlaybook)
	csv := "external_id,email,locale\nA,a@example.com,en-GB\nB,b@example.com,zh\nC,c@example.com,\n"
	h.importCustomers(in.ID, csv)
	var batches []breach.NoticeBatch
	h.env.RegisterActivityWithOptions(func(_ context.Context, b breach.NoticeBatch) (*breach.BatchResult, error) {
		batches = append(batches, b)
		return &breach.BatchResult{}, nil
	}, activity.RegisterOptions{Name: "SendNoticeBatch"})

	m := time.Minute
	en := breach.SetNoticeText{Actor: legal, Locale: "en", WhatHappened: "A file was public.", WhatWeAreDoing: "We closed it."}
	zh := breach.SetNoticeText{Actor: legal, Locale: "zh-CN", WhatHappened: "一个文件曾被公开。", WhatWeAreDoing: "我们已将其关闭。"}
	refuse := func(d time.Duration, mutate func(*breach.SetNoticeText), want string) {
		bad := en
		mutate(&bad)
		h.act(d, UpdateSetNoticeText, bad, want)
	}
	refuse(1*m, func(s *breach.SetNoticeText) { s.Locale = "fr" }, "locale must be one of en, zh-CN")
	refuse(1*m, func(s *breach.SetNoticeText) { s.Locale = "zh" }, "locale must be one of en, zh-CN")
	refuse(1*m, func(s *breach.SetNoticeText) { s.WhatHappened = " \n" }, "en: what_happened is required")
	refuse(1*m, func(s *breach.SetNoticeText) { s.WhatHappened, s.WhatWeAreDoing = "", "" },
		"en: what_happened and what_we_are_doing are required")
	refuse(1*m, func(s *breach.SetNoticeText) { s.WhatWeAreDoing = strings.Repeat("字", breach.MaxNoticeTextLen+1) },
		"what_we_are_doing is 4001 characters; at most 4000")
	refuse(1*m, func(s *breach.SetNoticeText) { s.Actor = responder }, "needs the legal role")
	refuse(1*m, func(s *breach.SetNoticeText) { s.Actor = viewer }, "needs the legal role")
	h.act(2*m, UpdateSetNoticeText, en, "")
	checked := 0
	h.check(3*m, func(st *breach.Status) {
		checked++
		if got := st.NoticeTexts["en"]; got.WhatHappened != en.WhatHappened || got.WhatWeAreDoing != en.WhatWeAreDoing || got.WrittenBy != "lena" {
			t.Errorf("en texts = %+v", got)
		}
		if _, ok := st.NoticeTexts["zh-CN"]; ok || timelineHas(st, "notice_text.written", "notice:en") != 1 {
			t.Errorf("texts %v, timeline %v", st.NoticeTexts, st.Timeline)
		}
	})
	// The approval readies the send; its automatic run is refused.
	h.act(4*m, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "approve"}, "")
	h.check(5*m, func(st *breach.Status) {
		checked++
		var note string
		for _, e := range st.Timeline {
			if e.Action == "notices.refused" {
				note = e.Note
			}
		}
		if !strings.Contains(note, "zh-CN: what_happened and what_we_are_doing are not written (1 customer)") ||
			strings.Contains(note, "en:") || len(st.Notices) != 0 || len(batches) != 0 {
			t.Errorf("refusal %q, runs %v, %d batches; want zh-CN named and nothing sent", note, st.Notices, len(batches))
		}
	})
	customers := map[string]int{"en": 2, "zh-CN": 1}
	h.act(6*m, UpdateSendNotices, breach.SendNotices{Actor: responder, Customers: customers},
		"no notice is sent to anyone until legal writes the notice texts of every locale with customers: zh-CN: what_happened and what_we_are_doing are not written (1 customer)")
	h.act(7*m, UpdateSetNoticeText, zh, "")
	// Adding the zh-CN wording changed what was approved: approve again.
	h.act(7*m+30*time.Second, UpdateSendNotices, breach.SendNotices{Actor: responder, Customers: customers}, "the notice must be approved first")
	h.act(7*m+40*time.Second, UpdateDecide, breach.Decide{Actor: legal, Step: "approve-notice", Decision: "approve"}, "")
	h.act(8*m, UpdateSendNotices, breach.SendNotices{Actor: responder, Customers: customers}, "")
	h.check(20*m, func(st *breach.Status) {
		checked++
		if len(st.Notices) != 1 || len(batches) == 0 {
			t.Fatalf("runs %v, %d batches; want one run that sent", st.Notices, len(batches))
		}
		for _, b := range batches {
			if b.Incident.NoticeTexts["zh-CN"].WhatHappened != zh.WhatHappened || b.Incident.NoticeTexts["en"].WhatWeAreDoing != en.WhatWeAreDoing {
				t.Errorf("batch carries texts %+v", b.Incident.NoticeTexts)
			}
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour)
	h.env.ExecuteWorkflow(Incident, in)
	if checked != 3 {
		t.Fatalf("%d of 3 checks ran", checked)
	}
}

const noticeVersionPlaybook = `id: notice-version-test
version: 1
title: Notice version test
description: Two legal approvals of one wording release the notices.
steps:
  - id: approve-notice
    title: Approve the customer notice
    kind: approval
    owner: legal
    quorum: 2
    approvers: [legal]
  - id: customer-notices
    title: Send customer notices
    kind: customer_notices
    owner: responder
    after: [approve-notice]
`

// TestNoticeApprovalVersion: each approval of the notice records the
// wording (its hash) it approved; a decision on a wording that changed
// since it was read is refused; a change of wording between the two
// approvals, or after the step is done, clears the approvals and sends
// the step back, and another send run is refused until it is approved
// again.
func TestNoticeApprovalVersion(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start})
	h.pinPlaybook(in, "notice-version.yaml", noticeVersionPlaybook)
	lou := breach.Actor{Name: "lou", Role: breach.RoleLegal}
	m := time.Minute
	v1 := map[string]breach.NoticeText{"en": {WhatHappened: "A file was public.", WhatWeAreDoing: "We closed it."}}
	v2 := map[string]breach.NoticeText{"en": {WhatHappened: "A file was public for two days.", WhatWeAreDoing: "We closed it."}}
	ver1, ver2 := breach.NoticeTextsVersion(v1), breach.NoticeTextsVersion(v2)
	if ver1 == "" || ver1 == ver2 || breach.NoticeTextsVersion(map[string]breach.NoticeText{"en": {WhatHappened: "A file was public.",
		WhatWeAreDoing: "We closed it.", WrittenBy: "someone else"}}) != ver1 {
		t.Fatalf("versions %q %q: want distinct, independent of the writer", ver1, ver2)
	}
	write := func(texts map[string]breach.NoticeText) breach.SetNoticeText {
		return breach.SetNoticeText{Actor: legal, Locale: "en", WhatHappened: texts["en"].WhatHappened, WhatWeAreDoing: texts["en"].WhatWeAreDoing}
	}
	approve := func(a breach.Actor, version string) breach.Decide {
		return breach.Decide{Actor: a, Step: "approve-notice", Decision: "approve", Version: version}
	}
	checked := 0
	h.act(1*m, UpdateSetNoticeText, write(v1), "")
	h.act(2*m, UpdateDecide, approve(legal, ver1), "")
	h.act(3*m, UpdateDecide, approve(lou, ver2), "the notice wording changed since you read it (version "+ver2+", now "+ver1+")")
	h.act(4*m, UpdateSetNoticeText, write(v2), "")
	h.check(5*m, func(st *breach.Status) {
		checked++
		s := stepState(st, "approve-notice")
		if st.NoticeVersion != ver2 || s.State != breach.StepReady || len(s.Approvals) != 0 || timelineHas(st, "step.reopened", "step:approve-notice") != 1 {
			t.Errorf("after a change between approvals: version %s, step %s with %+v; want %s, ready with none, reopened once", st.NoticeVersion, s.State, s.Approvals, ver2)
		}
	})
	// The same wording written again changes nothing.
	h.act(6*m, UpdateDecide, approve(legal, ""), "")
	h.act(7*m, UpdateSetNoticeText, write(v2), "")
	h.act(8*m, UpdateDecide, approve(lou, ver2), "")
	h.check(9*m, func(st *breach.Status) {
		checked++
		s := stepState(st, "approve-notice")
		if s.State != breach.StepDone || s.ApprovedVersion != ver2 || len(s.Approvals) != 2 || s.Approvals[0].Version != ver2 || s.Approvals[1].Version != ver2 {
			t.Errorf("after two approvals of %s: %+v", ver2, s)
		}
		if c := stepState(st, "customer-notices"); c.State != breach.StepReady || timelineHas(st, "step.reopened", "step:approve-notice") != 1 {
			t.Errorf("customer-notices %s; want ready, no second reopening", c.State)
		}
	})
	// After the approval, a change of wording takes it back.
	h.act(10*m, UpdateSetNoticeText, write(v1), "")
	h.check(11*m, func(st *breach.Status) {
		checked++
		s := stepState(st, "approve-notice")
		if s.State != breach.StepReady || s.ApprovedVersion != "" || len(s.Approvals) != 0 || s.Needs == nil || s.Needs.Count != 2 {
			t.Errorf("after a change of the approved wording: %+v; want ready, needing two approvals", s)
		}
		if c := stepState(st, "customer-notices"); c.State != breach.StepPending {
			t.Errorf("customer-notices %s; want pending again", c.State)
		}
	})
	h.act(12*m, UpdateSendNotices, breach.SendNotices{Actor: responder}, "the notice must be approved first")
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour)
	h.env.ExecuteWorkflow(Incident, in)
	if checked != 3 {
		t.Fatalf("%d of 3 checks ran", checked)
	}
}
