package workflows

import (
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Legal's texts of the customer notice live in the workflow's state, next
// to the facts they describe: they are incident content, not customer
// data (payloads are encrypted all the same), every change is on the
// timeline and in the audit chain, and a send run takes them in the
// incident it carries, so every batch of a run says the same thing.

func (w *incident) validateSetNoticeText(_ workflow.Context, in breach.SetNoticeText) error {
	if err := w.admit(in.Actor, breach.RoleLegal); err != nil {
		return err
	}
	if err := in.Check(); err != nil {
		return reject(breach.ErrInvalid, "%v", err)
	}
	if w.noticesRunning() {
		// The run sends the texts it started with; a change now would be
		// read as if it reached customers.
		return reject(breach.ErrConflict, "%s: it sends the texts it started with; change them when it has finished", breach.NoticeRunInProgress)
	}
	return nil
}

func (w *incident) setNoticeText(ctx workflow.Context, in breach.SetNoticeText) (*breach.Status, error) {
	now := workflow.Now(ctx)
	if w.noticeTexts == nil {
		w.noticeTexts = map[string]breach.NoticeText{}
	}
	t := breach.NoticeText{WhatHappened: strings.TrimSpace(in.WhatHappened), WhatWeAreDoing: strings.TrimSpace(in.WhatWeAreDoing),
		FAQ: strings.TrimSpace(in.FAQ), Contact: strings.TrimSpace(in.Contact), WrittenBy: in.Actor.Name, WrittenAt: now}
	w.noticeTexts[in.Locale] = t
	w.record(ctx, now, in.Actor.Name, "notice_text.written", "notice:"+in.Locale, "the "+in.Locale+" notice texts were written",
		noticeTextDetails(in, t))
	return w.settle(ctx)
}

// noticeTextsWritten counts the customers of each notice locale and, when
// legal has not written the texts of a locale that has customers, refuses
// the run on the timeline. Nothing is sent to anyone then: legal needs one
// notice, told once, in each customer's language, and a run that sends
// some locales would look finished while others wait.
func (w *incident) noticeTextsWritten(ctx workflow.Context, stepID string) bool {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	var customers map[string]int
	if err := workflow.ExecuteActivity(actx, a.CustomerLocales, w.in.ID).Get(ctx, &customers); err != nil {
		w.record(ctx, workflow.Now(ctx), "system", "notices.refused", "step:"+stepID,
			"could not count the customers by locale; nothing was sent, send again: "+err.Error(), nil)
		return false
	}
	missing := breach.MissingNoticeTexts(w.noticeTexts, customers)
	if len(missing) == 0 {
		return true
	}
	w.record(ctx, workflow.Now(ctx), "system", "notices.refused", "step:"+stepID,
		breach.NoticeTextsMissing+": "+strings.Join(missing, "; "), map[string]any{"missing": missing})
	return false
}

// noticeTextDetails is the audit record of a text change; the page's FAQ
// and contact appear only when written, so older records keep their shape.
func noticeTextDetails(in breach.SetNoticeText, t breach.NoticeText) map[string]any {
	d := map[string]any{"locale": in.Locale, "what_happened": t.WhatHappened, "what_we_are_doing": t.WhatWeAreDoing, "role": in.Actor.Role}
	if t.FAQ != "" {
		d["faq"] = t.FAQ
	}
	if t.Contact != "" {
		d["contact"] = t.Contact
	}
	return d
}
