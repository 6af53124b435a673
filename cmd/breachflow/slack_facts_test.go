package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/slacktest"
)

// factsPlaybook has one legal step that needs two facts.
const factsPlaybook = `id: slack-facts
version: 1
title: Slack facts
description: Legal assesses the risk once discovery is dated.
steps:
  - id: assess
    title: Assess the risk
    kind: task
    owner: legal
    requires: [risk, determined_at]
`

// TestSlackFactModal works a step that needs facts from Slack on the dev
// stack: Complete opens a modal asking for exactly the missing facts, a
// missing or refused value is a field error that changes nothing, the
// values are set as PATCH sets them (risk is legal's), and then the step
// completes. /breach declare offers the clock facts of the launch form.
func TestSlackFactModal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "slack-facts.yaml"), []byte(factsPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := slacktest.New(t)
	h := startSlackDev(t, fake, "URESP001=responder,ULEGAL01=legal", pbDir)
	code, body := h.api.do("POST", "/v1/incidents", h.admin, map[string]any{"playbook": "slack-facts", "title": "Facts from Slack", "jurisdictions": []string{"DE"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, body)
	}
	id := body["id"].(string)
	var ch slacktest.Channel
	eventually(t, 60*time.Second, "the room of "+id, func() bool {
		var ok bool
		ch, ok = fake.ChannelByName("breach-" + strings.ToLower(id))
		return ok
	})
	eventually(t, 30*time.Second, "assess ready", func() bool { return h.stepState(id, "assess") == "ready" })

	// Complete opens the modal for risk and determined_at; nothing is sent.
	before := len(fake.Requests("views.open"))
	if code := h.click("ULEGAL01", ch.ID, slack.ActionComplete, id, "assess"); code != 200 {
		t.Fatalf("complete click: %d", code)
	}
	opens := fake.Requests("views.open")
	if len(opens) != before+1 {
		t.Fatalf("%d views.open after Complete, want %d", len(opens), before+1)
	}
	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			Type    string `json:"type"`
			BlockID string `json:"block_id"`
			Element struct {
				Type string `json:"type"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(opens[len(opens)-1].Form.Get("view")), &view); err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, b := range view.Blocks {
		if b.Type == "input" {
			inputs = append(inputs, b.BlockID+":"+b.Element.Type)
		}
	}
	if view.CallbackID != slack.ViewFacts || strings.Join(inputs, " ") != "risk:static_select determined_at:datetimepicker" {
		t.Fatalf("modal %s with inputs %v, want the facts modal asking for determined_at and risk", view.CallbackID, inputs)
	}
	if h.stepState(id, "assess") != "ready" {
		t.Fatal("the click completed the step without its facts")
	}
	submit := func(user string, values map[string]map[string]any) map[string]any {
		t.Helper()
		_, raw := h.send("facts", slacktest.SignedRequest(h.interactions, slackSecret, time.Now(),
			slacktest.ViewSubmission(user, slack.ViewFacts, view.PrivateMetadata, values)))
		var out map[string]any
		_ = json.Unmarshal([]byte(raw), &out)
		return out
	}
	risk := func(v string) map[string]any {
		return map[string]any{"risk": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}}
	}
	determined := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	when := map[string]any{"determined_at": map[string]any{"type": "datetimepicker", "selected_date_time": determined.Unix()}}

	// determined_at left out: an error under it, nothing set.
	out := submit("ULEGAL01", map[string]map[string]any{"risk": risk("high"), "determined_at": {"determined_at": map[string]any{"type": "datetimepicker"}}})
	if errs, _ := out["errors"].(map[string]any); out["response_action"] != "errors" || errs["determined_at"] == nil {
		t.Fatalf("without determined_at: %v", out)
	}
	// A responder may not decide the risk: PATCH's rule, in the modal.
	out = submit("URESP001", map[string]map[string]any{"risk": risk("high"), "determined_at": when})
	if errs, _ := out["errors"].(map[string]any); errs == nil || !strings.Contains(fmt.Sprint(errs), "legal's decision") {
		t.Fatalf("responder setting risk: %v", out)
	}
	if f := h.status(id)["facts"].(map[string]any); f["risk"] != "unassessed" || f["determined_at"] != nil {
		t.Fatalf("refused submissions changed the facts: %v", f)
	}

	out = submit("ULEGAL01", map[string]map[string]any{"risk": risk("high"), "determined_at": when})
	if out != nil {
		t.Fatalf("legal's submission answered %v, want an empty 200 (the modal closes)", out)
	}
	f := h.status(id)["facts"].(map[string]any)
	if f["risk"] != "high" || f["determined_at"] != determined.UTC().Format(time.RFC3339) {
		t.Fatalf("facts after the modal: %v", f)
	}
	eventually(t, 10*time.Second, "the ephemeral confirmation", func() bool {
		for _, r := range fake.Requests("chat.postEphemeral") {
			if r.Form.Get("user") == "ULEGAL01" && strings.Contains(r.Form.Get("text"), "Set determined_at, risk on "+id) {
				return true
			}
		}
		return false
	})
	if code := h.click("ULEGAL01", ch.ID, slack.ActionComplete, id, "assess"); code != 200 {
		t.Fatalf("second complete click: %d", code)
	}
	eventually(t, 30*time.Second, "assess done", func() bool { return h.stepState(id, "assess") == "done" })

	// /breach declare offers the launch form's clock facts as date-time
	// pickers; one picked is the incident's fact.
	base := strings.TrimSuffix(h.interactions, "/slack/interactions")
	before = len(fake.Requests("views.open"))
	if code := h.post("declare", slacktest.SignedRequest(base+"/slack/commands", slackSecret, time.Now(), slacktest.SlashCommand("URESP001", ch.ID, "declare"))); code != 200 {
		t.Fatalf("declare: %d", code)
	}
	opens = fake.Requests("views.open")
	if len(opens) != before+1 {
		t.Fatal("declare opened no modal")
	}
	if err := json.Unmarshal([]byte(opens[len(opens)-1].Form.Get("view")), &view); err != nil {
		t.Fatal(err)
	}
	pickers := map[string]bool{}
	for _, b := range view.Blocks {
		if b.Type == "input" && b.Element.Type == "datetimepicker" {
			pickers[b.BlockID] = true
		}
	}
	for _, name := range []string{"occurred_at", "discovered_at", "determined_at", "assessed_at", "extortion_paid_at"} {
		if !pickers[name] {
			t.Errorf("the declare modal has no date-time picker for %s (pickers %v)", name, pickers)
		}
	}
	occurred := time.Now().Add(-30 * time.Hour).Truncate(time.Second)
	_, raw := h.send("declare submit", slacktest.SignedRequest(h.interactions, slackSecret, time.Now(),
		slacktest.ViewSubmission("URESP001", slack.ViewDeclare, ch.ID, map[string]map[string]any{
			slack.DeclarePlaybook: {slack.DeclarePlaybook: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "slack-facts"}}},
			slack.DeclareTitle:    {slack.DeclareTitle: map[string]any{"type": "plain_text_input", "value": "Declared with clock facts"}},
			"occurred_at":         {"occurred_at": map[string]any{"type": "datetimepicker", "selected_date_time": occurred.Unix()}},
		})))
	if raw != "" {
		t.Fatalf("declare submission answered %s", raw)
	}
	var declared string
	eventually(t, 10*time.Second, "the declare confirmation", func() bool {
		for _, r := range fake.Requests("chat.postEphemeral") {
			if m := regexp.MustCompile(`Declared (BR-\w+)`).FindStringSubmatch(r.Form.Get("text")); m != nil && m[1] != id {
				declared = m[1]
				return true
			}
		}
		return false
	})
	if f := h.status(declared)["facts"].(map[string]any); f["occurred_at"] != occurred.UTC().Format(time.RFC3339) {
		t.Fatalf("declared incident's facts %v, want occurred_at %s", f, occurred.UTC().Format(time.RFC3339))
	}
}
