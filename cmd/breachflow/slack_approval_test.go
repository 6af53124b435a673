package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/slacktest"
	"github.com/breachflow/breachflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
)

// approvalPlaybooks are two short playbooks with a legal approval: one
// sends a rejection back to the draft, the other has no on_reject.
var approvalPlaybooks = map[string]string{
	"slack-approval.yaml": `id: slack-approval
version: 1
title: Slack approval
description: Draft, two legal people approve (a rejection sends the draft back), then finish.
steps:
  - id: draft
    title: Draft the notice
    kind: task
    owner: responder
  - id: approve
    title: Approve the notice
    kind: approval
    owner: legal
    after: [draft]
    on_reject: [draft]
    quorum: 2
    approvers: [legal]
  - id: after
    title: Finish
    kind: task
    owner: responder
    after: [approve]
`,
	"slack-approval-final.yaml": `id: slack-approval-final
version: 1
title: Slack approval without a way back
description: Legal approves; a rejection stands.
steps:
  - id: approve
    title: Approve the notice
    kind: approval
    owner: legal
  - id: after
    title: Finish
    kind: task
    owner: responder
    after: [approve]
`,
}

// TestSlackApproval works a legal approval from Slack on the dev stack:
// Reject opens the reason modal, an empty reason is a field error that
// changes nothing, a reason rejects the step (sending the draft back, or
// standing when the playbook has no on_reject), Approve is legal's alone
// and turns the card in place, and a closed incident's buttons do nothing.
func TestSlackApproval(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	pbDir := t.TempDir()
	for name, y := range approvalPlaybooks {
		if err := os.WriteFile(filepath.Join(pbDir, name), []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fake := slacktest.New(t)
	h := startSlackDev(t, fake, "URESP001=responder,ULEGAL01=legal,ULEGAL02=legal", pbDir)
	c, admin := h.api, h.admin

	launch := func(playbook string) (string, slacktest.Channel) {
		t.Helper()
		code, body := c.do("POST", "/v1/incidents", admin, map[string]any{"playbook": playbook, "title": "Notice wording", "severity": "medium"}, nil)
		if code != 201 {
			t.Fatalf("launch %s: %d %v", playbook, code, body)
		}
		id := body["id"].(string)
		var ch slacktest.Channel
		eventually(t, 60*time.Second, "the room of "+id, func() bool {
			var ok bool
			ch, ok = fake.ChannelByName("breach-" + strings.ToLower(id))
			return ok
		})
		return id, ch
	}
	// readyCard waits for the step's card to carry its approval buttons.
	readyCard := func(ch, id, step string) slacktest.Message {
		t.Helper()
		var m slacktest.Message
		eventually(t, 30*time.Second, "the "+step+" card with Approve and Reject", func() bool {
			cs := h.card(ch, id, "step:"+step)
			if len(cs) != 1 {
				return false
			}
			m = cs[0]
			return strings.Contains(m.Blocks, slack.ActionApprove) && strings.Contains(m.Blocks, slack.ActionReject)
		})
		return m
	}
	// ephemerals are the ephemeral messages sent to user so far.
	ephemerals := func(user string) []string {
		var out []string
		for _, r := range fake.Requests("chat.postEphemeral") {
			if r.Form.Get("user") == user {
				out = append(out, r.Form.Get("text"))
			}
		}
		return out
	}
	// openReject clicks Reject as user and answers the modal's private
	// metadata from the views.open Slack received.
	openReject := func(user, ch, id, step string) string {
		t.Helper()
		before := len(fake.Requests("views.open"))
		if code := h.click(user, ch, slack.ActionReject, id, step); code != 200 {
			t.Fatalf("reject click: %d", code)
		}
		opens := fake.Requests("views.open")
		if len(opens) != before+1 {
			t.Fatalf("%d views.open after the Reject click, want %d", len(opens), before+1)
		}
		raw := opens[len(opens)-1].Form.Get("view")
		var view struct {
			Type            string `json:"type"`
			CallbackID      string `json:"callback_id"`
			PrivateMetadata string `json:"private_metadata"`
		}
		if err := json.Unmarshal([]byte(raw), &view); err != nil {
			t.Fatalf("views.open view %q: %v", raw, err)
		}
		if view.Type != "modal" || view.CallbackID != slack.ViewReject || opens[len(opens)-1].Form.Get("trigger_id") == "" ||
			!strings.Contains(raw, `"block_id":"`+slack.ReasonBlock+`"`) || !strings.Contains(raw, `"action_id":"`+slack.ReasonAction+`"`) {
			t.Fatalf("views.open is not the reject modal: %s", raw)
		}
		return view.PrivateMetadata
	}
	submit := func(user, meta, reason string) (int, string) {
		t.Helper()
		body := slacktest.ViewSubmission(user, slack.ViewReject, meta, map[string]map[string]any{
			slack.ReasonBlock: {slack.ReasonAction: map[string]any{"type": "plain_text_input", "value": reason}}})
		return h.send("submit", slacktest.SignedRequest(h.interactions, slackSecret, time.Now(), body))
	}
	timeline := func(id, action string) []map[string]any {
		var out []map[string]any
		tl, _ := h.status(id)["timeline"].([]any)
		for _, e := range tl {
			if m := e.(map[string]any); m["action"] == action {
				out = append(out, m)
			}
		}
		return out
	}

	id, room := launch("slack-approval")
	if code, body := c.do("POST", "/v1/incidents/"+id+"/steps/draft/complete", admin, map[string]any{"note": "drafted"}, nil); code != 200 {
		t.Fatalf("complete draft: %d %v", code, body)
	}
	first := readyCard(room.ID, id, "approve")

	// 1. Legal clicks Reject: the modal opens. A blank reason comes back
	// as an error under the reason field and changes nothing.
	meta := openReject("ULEGAL01", room.ID, id, "approve")
	if meta != slack.StepValue(id, "approve")+"|"+room.ID {
		t.Fatalf("modal metadata %q", meta)
	}
	code, body := submit("ULEGAL01", meta, "  \n ")
	var answer struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &answer) != nil || answer.ResponseAction != "errors" ||
		!strings.Contains(answer.Errors[slack.ReasonBlock], "reason is required") {
		t.Fatalf("blank reason answered %d %s, want a field error on %q", code, body, slack.ReasonBlock)
	}
	if s := h.stepState(id, "approve"); s != "ready" {
		t.Fatalf("after a blank reason approve is %q, want ready", s)
	}
	if n := len(timeline(id, "step.rejected")); n != 0 {
		t.Fatalf("%d step.rejected events after a blank reason", n)
	}

	// 2. With a reason the step is rejected and, as the playbook says,
	// the draft is reopened and the approval waits for it again.
	const reason = "Art. 34 needs the DPO contact"
	if code, body := submit("ULEGAL01", meta, reason); code != 200 || strings.Contains(body, "errors") {
		t.Fatalf("reject with a reason: %d %s", code, body)
	}
	rej := timeline(id, "step.rejected")
	if len(rej) != 1 || rej[0]["note"] != reason || rej[0]["target"] != "step:approve" || rej[0]["actor"] != "slack:ULEGAL01" {
		t.Fatalf("step.rejected events %v", rej)
	}
	if re := timeline(id, "step.reopened"); len(re) != 1 || re[0]["target"] != "step:draft" {
		t.Fatalf("step.reopened events %v", re)
	}
	if a, d := h.stepState(id, "approve"), h.stepState(id, "draft"); a != "pending" || d != "ready" {
		t.Fatalf("after the rejection approve is %q and draft %q, want pending and ready", a, d)
	}
	if got := ephemerals("ULEGAL01"); len(got) != 1 || !strings.Contains(got[0], "Step approve of "+id+" rejected") {
		t.Fatalf("legal was told %q", got)
	}
	eventually(t, 30*time.Second, "the approve card without buttons while the draft is redone", func() bool {
		cs := h.card(room.ID, id, "step:approve")
		return len(cs) == 1 && cs[0].TS == first.TS && !strings.Contains(cs[0].Blocks, slack.ActionApprove)
	})

	// The same on a playbook without on_reject: the rejection stands, the
	// next step never becomes ready and the card says who rejected it.
	id2, room2 := launch("slack-approval-final")
	readyCard(room2.ID, id2, "approve")
	meta2 := openReject("ULEGAL01", room2.ID, id2, "approve")
	if code, body := submit("ULEGAL01", meta2, "not this wording"); code != 200 || strings.Contains(body, "errors") {
		t.Fatalf("reject on the final playbook: %d %s", code, body)
	}
	if a, n := h.stepState(id2, "approve"), h.stepState(id2, "after"); a != "rejected" || n != "pending" {
		t.Fatalf("without on_reject approve is %q and after %q, want rejected and pending", a, n)
	}
	eventually(t, 30*time.Second, "the rejected card", func() bool {
		cs := h.card(room2.ID, id2, "step:approve")
		return len(cs) == 1 && strings.Contains(cs[0].Blocks, "Rejected by slack:ULEGAL01") && !strings.Contains(cs[0].Blocks, slack.ActionReject)
	})

	// 3. Second round: the draft is redone from Slack, the approval is
	// ready again on the same card. A responder's Approve is refused
	// ephemerally; legal's is done and turns the card in place.
	if code := h.click("URESP001", room.ID, slack.ActionComplete, id, "draft"); code != 200 {
		t.Fatalf("complete the draft again: %d", code)
	}
	again := readyCard(room.ID, id, "approve")
	if again.TS != first.TS {
		t.Fatalf("the approve card was posted anew (%s, first %s)", again.TS, first.TS)
	}
	if code := h.click("URESP001", room.ID, slack.ActionApprove, id, "approve"); code != 200 {
		t.Fatalf("responder approve: %d", code)
	}
	if got := ephemerals("URESP001"); len(got) != 1 || !strings.HasPrefix(got[0], "Refused:") || !strings.Contains(got[0], "belongs to legal") {
		t.Fatalf("responder was told %q", got)
	}
	// Nor does the responder get a reason form that could only be refused.
	opens := len(fake.Requests("views.open"))
	if code := h.click("URESP001", room.ID, slack.ActionReject, id, "approve"); code != 200 {
		t.Fatalf("responder reject: %d", code)
	}
	if got := ephemerals("URESP001"); len(got) != 2 || !strings.HasPrefix(got[1], "Refused:") || !strings.Contains(got[1], "belongs to legal") {
		t.Fatalf("responder's Reject: told %q", got)
	}
	if n := len(fake.Requests("views.open")); n != opens {
		t.Fatal("a responder's Reject opened the reason form")
	}
	if s := h.stepState(id, "approve"); s != "ready" {
		t.Fatalf("after the responder's clicks approve is %q, want ready", s)
	}
	if n := len(timeline(id, "step.approved")); n != 0 {
		t.Fatalf("%d step.approved events after a refused Approve", n)
	}
	if code := h.click("ULEGAL01", room.ID, slack.ActionApprove, id, "approve"); code != 200 {
		t.Fatalf("legal approve: %d", code)
	}
	// Two-person control: one legal approval waits, and the card says who
	// approved and who is still needed; the same person again is refused.
	if s := h.stepState(id, "approve"); s != "ready" {
		t.Fatalf("after one legal Approve approve is %q, want ready (it needs two people)", s)
	}
	eventually(t, 30*time.Second, "the approve card naming the first approver and the one still needed", func() bool {
		cs := h.card(room.ID, id, "step:approve")
		return len(cs) == 1 && strings.Contains(cs[0].Blocks, "Approved by slack:ULEGAL01") &&
			strings.Contains(cs[0].Blocks, "Needs 1 more approval (legal), not by slack:ULEGAL01") && strings.Contains(cs[0].Blocks, slack.ActionApprove)
	})
	if code := h.click("ULEGAL01", room.ID, slack.ActionApprove, id, "approve"); code != 200 {
		t.Fatalf("legal approve again: %d", code)
	}
	if got := ephemerals("ULEGAL01"); len(got) == 0 || !strings.Contains(got[len(got)-1], "already approved by slack:ULEGAL01; needs a second approver") {
		t.Fatalf("the same approver twice was told %q", got)
	}
	if code := h.click("ULEGAL02", room.ID, slack.ActionApprove, id, "approve"); code != 200 {
		t.Fatalf("second legal approve: %d", code)
	}
	if s := h.stepState(id, "approve"); s != "done" {
		t.Fatalf("after the second legal Approve approve is %q, want done", s)
	}
	if ap := timeline(id, "step.approved"); len(ap) != 1 || ap[0]["actor"] != "slack:ULEGAL02" {
		t.Fatalf("step.approved events %v", ap)
	}
	eventually(t, 30*time.Second, "the approve card turned in place", func() bool {
		cs := h.card(room.ID, id, "step:approve")
		return len(cs) == 1 && cs[0].TS == first.TS && strings.Contains(cs[0].Blocks, "Done by slack:ULEGAL01 and slack:ULEGAL02") &&
			!strings.Contains(cs[0].Blocks, slack.ActionApprove) && !strings.Contains(cs[0].Blocks, slack.ActionReject) &&
			!strings.Contains(cs[0].Blocks, `"type":"actions"`)
	})
	updated := false
	for _, r := range fake.Requests("chat.update") {
		if r.Form.Get("ts") == first.TS && r.Status == 200 && strings.Contains(r.Form.Get("blocks"), "Done by slack:ULEGAL01") {
			updated = true
		}
	}
	if !updated {
		t.Fatalf("no chat.update of the approve card (ts %s) to done", first.TS)
	}
	if n := len(h.card(room.ID, id, "step:approve")); n != 1 {
		t.Fatalf("%d approve cards, want 1", n)
	}

	// An access grant to the customers' contacts is announced in the room
	// with who is still needed, and its approval too; never its reason.
	legalTok, _, err := h.stack.store.CreateToken(context.Background(), "lena-legal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	code, grant := c.do("POST", "/v1/incidents/"+id+"/grants", admin, map[string]any{"reason": "ring Hana Key", "duration": "1h"}, nil)
	if code != 201 {
		t.Fatalf("grant request: %d %v", code, grant)
	}
	if code, _ := c.do("POST", fmt.Sprintf("/v1/incidents/%s/grants/%v/approve", id, grant["id"]), legalTok, nil, nil); code != 200 {
		t.Fatalf("grant approval: %d", code)
	}
	var asked, approved bool
	for _, m := range fake.Messages(room.ID) {
		if strings.Contains(m.Text, "Hana") {
			t.Fatalf("a grant's reason reached Slack: %q", m.Text)
		}
		asked = asked || strings.Contains(m.Text, "asks to read the customers' contacts of "+id) &&
			strings.Contains(m.Text, "Needs approval by a second person with the legal role")
		approved = approved || strings.Contains(m.Text, "lena-legal approved access grant")
	}
	if !asked || !approved {
		t.Fatalf("room messages lack the grant request (%v) or its approval (%v): %+v", asked, approved, fake.Messages(room.ID))
	}

	// 4. The incident is finished and closed; a click on a button of its
	// old card is refused ephemerally and touches nothing.
	eventually(t, 30*time.Second, "the last step ready", func() bool { return h.stepState(id, "after") == "ready" })
	if code := h.click("URESP001", room.ID, slack.ActionComplete, id, "after"); code != 200 {
		t.Fatalf("complete after: %d", code)
	}
	if code, body := c.do("POST", "/v1/incidents/"+id+"/close", admin, map[string]any{"note": "done"}, nil); code != 200 {
		t.Fatalf("close: %d %v", code, body)
	}
	eventsBefore := len(h.status(id)["timeline"].([]any))
	opensBefore := len(fake.Requests("views.open"))
	clickClosed := func(when string) {
		t.Helper()
		for _, a := range []struct{ user, action, step string }{
			{"ULEGAL01", slack.ActionApprove, "approve"},
			{"ULEGAL01", slack.ActionReject, "approve"},
			{"URESP001", slack.ActionComplete, "after"},
		} {
			n := len(ephemerals(a.user))
			if code := h.click(a.user, room.ID, a.action, id, a.step); code != 200 {
				t.Fatalf("%s on the closed incident (%s): %d", a.action, when, code)
			}
			got := ephemerals(a.user)
			if len(got) != n+1 || !strings.Contains(got[n], "incident "+id+" is closed") {
				t.Fatalf("%s on the closed incident (%s): told %q", a.action, when, got[n:])
			}
		}
	}
	clickClosed("just closed")
	// Once the workflow has ended Temporal answers NotFound; the clicks
	// must still read "closed", not "no incident".
	eventually(t, 30*time.Second, "the incident's workflow to end", func() bool {
		d, err := h.stack.client.DescribeWorkflowExecution(context.Background(), workflows.IncidentWorkflowID(id), "")
		return err == nil && d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
	clickClosed("workflow ended")
	if n := len(fake.Requests("views.open")); n != opensBefore {
		t.Fatalf("Reject on a closed incident opened a modal")
	}
	st := h.status(id)
	if st["status"] != "closed" || len(st["timeline"].([]any)) != eventsBefore {
		t.Fatalf("the clicks on a closed incident changed it: status %v, %d events (was %d)", st["status"], len(st["timeline"].([]any)), eventsBefore)
	}
}
