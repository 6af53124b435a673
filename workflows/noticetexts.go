package workflows

import (
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
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
	w.reopenNoticeApproval(ctx, now, in.Locale)
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

// noticeApprovalVersion is the GetVersion id of approving a version of
// the notice wording: the approval records the wording's hash, and a
// change of wording after approval reopens the approval. Before it, an
// approval stood whatever the texts became.
const noticeApprovalVersion = "notice-approval-version"

// noticeApproval is the approval step that releases the customer
// notices: the first approval step a customer_notices step waits for.
func (w *incident) noticeApproval() *breach.StepState {
	for _, st := range w.steps {
		if st.Kind != playbooks.KindCustomerNotices {
			continue
		}
		for _, id := range st.After {
			if a := w.step(id); a != nil && a.Kind == playbooks.KindApproval {
				return a
			}
		}
	}
	return nil
}

// reopenNoticeApproval sends the notice's approval back when its wording
// changed after approvals were given: the approvals of the old wording do
// not count for the new, and the notices wait until it is approved again.
func (w *incident) reopenNoticeApproval(ctx workflow.Context, now time.Time, locale string) {
	st := w.noticeApproval()
	if st == nil || (len(st.Approvals) == 0 && st.State != breach.StepDone) {
		return
	}
	version := breach.NoticeTextsVersion(w.noticeTexts)
	approved := st.ApprovedVersion
	if st.State != breach.StepDone {
		approved = st.Approvals[len(st.Approvals)-1].Version
	} else if st.Decision != "approve" {
		return
	}
	if approved == version {
		return
	}
	if workflow.GetVersion(ctx, noticeApprovalVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	st.Approvals, st.ApprovedVersion, st.Decision, st.DoneBy = nil, "", "", ""
	st.State, st.ReadyAt, st.DueAt, st.DoneAt, st.Reminded, st.Escalated = breach.StepPending, nil, nil, nil, 0, 0
	for i := range w.steps {
		if n := &w.steps[i]; n.Kind == playbooks.KindCustomerNotices && n.State == breach.StepReady && slices.Contains(n.After, st.ID) {
			n.State, n.ReadyAt, n.DueAt = breach.StepPending, nil, nil
		}
	}
	w.record(ctx, now, "system", "step.reopened", "step:"+st.ID,
		"the "+locale+" notice wording changed after approval; it needs approval again",
		map[string]any{"approved_version": approved, "version": version})
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
