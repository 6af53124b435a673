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
