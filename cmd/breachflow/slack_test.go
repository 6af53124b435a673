package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/slacktest"
)

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// TestSlackIncidentRoom drives the dev stack with Slack pointed at a
// slacktest server: a launch opens the room, signed clicks work the
// steps, bad requests are refused, and an outage (429 with Retry-After,
// then 500s) delays the room but not the incident.
func TestSlackIncidentRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	fake := slacktest.New(t)
	fake.AddUser("U0000ANN", "ann@example.com")
	h := startSlackDev(t, fake, "URESP001=responder,ULEGAL01=legal,UVIEW001=viewer,ann@example.com=responder", "")
	c, admin := h.api, h.admin

	launch := func(title string) string {
		t.Helper()
		code, body := c.do("POST", "/v1/incidents", admin, map[string]any{"playbook": "customer-data-breach", "title": title,
			"severity": "high", "data_categories": []string{"contact"}, "jurisdictions": []string{"DE", "US-CA"}}, nil)
		if code != 201 {
			t.Fatalf("launch: %d %v", code, body)
		}
		return body["id"].(string)
	}
	stepState, card, post, click := h.stepState, h.card, h.post, h.click
	interactions := h.interactions

	// 1. A launch opens the room: private channel, people invited, header
	// pinned, the ready step's card with its buttons.
	id := launch("CRM export on a public bucket")
	name := "breach-" + strings.ToLower(id)
	var ch slacktest.Channel
	eventually(t, 60*time.Second, "the room with its header and triage card", func() bool {
		var ok bool
		ch, ok = fake.ChannelByName(name)
		return ok && len(ch.Pins) == 1 && len(card(ch.ID, id, "step:triage")) == 1
	})
	if !ch.Private {
		t.Fatalf("channel %s is public", name)
	}
	for _, u := range []string{"URESP001", "ULEGAL01", "UVIEW001", "U0000ANN"} {
		if !slices.Contains(ch.Members, u) {
			t.Errorf("%s not invited: %v", u, ch.Members)
		}
	}
	header := card(ch.ID, id, "header")
	if len(header) != 1 || ch.Pins[0] != header[0].TS || !strings.Contains(header[0].Blocks, "Next deadline") {
		t.Fatalf("header card %+v, pins %v", header, ch.Pins)
	}
	if !strings.Contains(ch.Topic, id) || !strings.Contains(ch.Topic, "high") {
		t.Fatalf("topic %q", ch.Topic)
	}
	// /breach status in the room answers the caller only.
	commands := strings.TrimSuffix(interactions, "interactions") + "commands"
	statusCode, answer := h.send("status", slacktest.SignedRequest(commands, slackSecret, time.Now(), slacktest.SlashCommand("URESP001", ch.ID, "status")))
	if statusCode != 200 || !strings.Contains(answer, `"response_type":"ephemeral"`) || !strings.Contains(answer, id) {
		t.Fatalf("/breach status: %d %s, want an ephemeral answer naming %s", statusCode, answer, id)
	}
	triage := card(ch.ID, id, "step:triage")[0]
	if !strings.Contains(triage.Blocks, slack.ActionComplete) || !strings.Contains(triage.Blocks, slack.ActionAcknowledge) {
		t.Fatalf("triage card lacks its buttons: %s", triage.Blocks)
	}

	// Customers are imported: no name or email of theirs reaches Slack.
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision,tier\n")
	for i := range 20 {
		fmt.Fprintf(&csv, "C%d,Zelda Quixote%d,zelda.q%d@customers.example,en,US,US-CA,low\n", i, i, i)
	}
	req, _ := http.NewRequest("POST", c.base+"/v1/incidents/"+id+"/subjects", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "text/csv")
	if code := post("import", req); code != 200 && code != 201 {
		t.Fatalf("import subjects: %d", code)
	}

	// 2. Bad requests are refused and change nothing.
	body := slacktest.BlockAction("URESP001", ch.ID, triage.TS, slack.ActionComplete, slack.StepValue(id, "triage"))
	if code := post("forged", slacktest.SignedRequest(interactions, "0123456789abcdef-not-it", time.Now(), body)); code != 401 {
		t.Fatalf("forged click: %d, want 401", code)
	}
	if code := post("stale", slacktest.SignedRequest(interactions, slackSecret, time.Now().Add(-10*time.Minute), body)); code != 401 {
		t.Fatalf("stale click: %d, want 401", code)
	}
	if code := click("UVIEW001", ch.ID, slack.ActionComplete, id, "triage"); code != 200 {
		t.Fatalf("viewer click: %d", code)
	}
	if code := click("UNOBODY1", ch.ID, slack.ActionComplete, id, "triage"); code != 200 {
		t.Fatalf("unmapped click: %d", code)
	}
	if code := click("URESP001", ch.ID, "breachflow.nope", id, "triage"); code != 400 {
		t.Fatalf("unknown action: %d, want 400", code)
	}
	if s := stepState(id, "triage"); s != "ready" {
		t.Fatalf("after refused clicks triage is %q, want ready", s)
	}
	var refusals []string
	for _, r := range fake.Requests("chat.postEphemeral") {
		refusals = append(refusals, r.Form.Get("user")+": "+r.Form.Get("text"))
	}
	if len(refusals) != 2 || !strings.Contains(refusals[0], "UVIEW001: Refused") || !strings.Contains(refusals[1], "UNOBODY1") {
		t.Fatalf("ephemeral refusals %q", refusals)
	}

	// 3. Valid clicks: acknowledge, then complete; the card changes in place.
	if code := click("U0000ANN", ch.ID, slack.ActionAcknowledge, id, "triage"); code != 200 {
		t.Fatalf("ack: %d", code)
	}
	at := time.Now()
	if code := post("complete", slacktest.SignedRequest(interactions, slackSecret, at, body)); code != 200 {
		t.Fatalf("complete: %d", code)
	}
	if s := stepState(id, "triage"); s != "done" {
		t.Fatalf("triage is %q after the click, want done", s)
	}
	// The very same signed request again (same body, timestamp, signature).
	if code := post("replayed", slacktest.SignedRequest(interactions, slackSecret, at, body)); code != 401 {
		t.Fatalf("replayed click: %d, want 401", code)
	}
	eventually(t, 30*time.Second, "the triage card updated in place", func() bool {
		cs := card(ch.ID, id, "step:triage")
		return len(cs) == 1 && cs[0].TS == triage.TS && strings.Contains(cs[0].Blocks, "Done by slack:URESP001") &&
			strings.Contains(cs[0].Blocks, "Acknowledged by ann@example.com") && !strings.Contains(cs[0].Blocks, slack.ActionComplete)
	})
	eventually(t, 30*time.Second, "cards of the next steps", func() bool { return len(card(ch.ID, id, "step:contain-source")) == 1 })

	// No customer's name or email in anything sent to Slack.
	for _, r := range fake.Requests("") {
		if strings.Contains(r.Body, "Zelda") || strings.Contains(r.Body, "customers.example") || strings.Contains(r.Body, "Quixote") {
			t.Fatalf("%s carried customer data: %.300s", r.Method, r.Body)
		}
	}

	// 4. Slack rate-limits, then fails: the incident carries on, the room
	// arrives once Slack is back, once.
	fake.Fail(
		slacktest.Fault{Method: "conversations.create", Status: http.StatusTooManyRequests, RetryAfter: 3},
		slacktest.Fault{Method: "conversations.create", Status: http.StatusInternalServerError},
		slacktest.Fault{Method: "conversations.create", Status: http.StatusInternalServerError},
	)
	id2 := launch("Lost laptop")
	eventually(t, 30*time.Second, "the second incident's triage ready", func() bool { return stepState(id2, "triage") == "ready" })
	code, _ := c.do("POST", "/v1/incidents/"+id2+"/steps/triage/complete", admin, map[string]any{"note": "confirmed"}, nil)
	if code != 200 {
		t.Fatalf("complete during the outage: %d", code)
	}
	if fake.PendingFaults() == 0 {
		t.Fatal("Slack recovered before the incident moved on; the outage proves nothing")
	}
	name2 := "breach-" + strings.ToLower(id2)
	var ch2 slacktest.Channel
	eventually(t, 90*time.Second, "the room after the outage", func() bool {
		var ok bool
		ch2, ok = fake.ChannelByName(name2)
		if !ok {
			return false
		}
		cs := card(ch2.ID, id2, "step:triage")
		return len(cs) == 1 && strings.Contains(cs[0].Blocks, "Done by admin")
	})
	creates := fake.Requests("conversations.create")
	var tries []slacktest.Request
	for _, r := range creates {
		if r.Form.Get("name") == name2 {
			tries = append(tries, r)
		}
	}
	if len(tries) != 4 || tries[0].Status != 429 || tries[1].Status != 500 || tries[3].Status != 200 {
		t.Fatalf("conversations.create for %s: %d tries %+v, want 429, 500, 500, 200", name2, len(tries), tries)
	}
	if gap := tries[1].At.Sub(tries[0].At); gap < 3*time.Second {
		t.Fatalf("retried %s after a 429 with Retry-After: 3", gap)
	}
	if n := len(card(ch2.ID, id2, "header")); n != 1 {
		t.Fatalf("%d header cards after the outage, want 1", n)
	}
	if n := len(fake.Channels()); n != 2+countIMs(fake) {
		t.Fatalf("%d channels, want 2 rooms", n)
	}
}

// slackDev is the dev stack with Slack pointed at a slacktest server,
// with the calls the Slack tests make on it.
type slackDev struct {
	t            *testing.T
	fake         *slacktest.Server
	stack        *devStack
	api          apiClient
	admin        string
	interactions string // the /slack/interactions URL
}

// startSlackDev starts the dev stack with Slack on: users is
// BREACHFLOW_SLACK_USERS, playbookDir BREACHFLOW_PLAYBOOK_DIR ("" for
// the shipped playbooks only). The banner must say Slack is on.
func startSlackDev(t *testing.T, fake *slacktest.Server, users, playbookDir string) *slackDev {
	t.Helper()
	cfg := devConfig(t, t.TempDir())
	cfg.SlackToken, cfg.SlackSigningKey, cfg.SlackAPIURL = "xoxb-test", slackSecret, fake.URL()
	cfg.SlackUsers = users
	cfg.PlaybookDir = playbookDir
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	stack, err := startDev(ctx, cfg, devOptions{Out: &out, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	if !strings.Contains(out.String(), "Slack        "+fake.URL()) {
		t.Fatalf("banner does not say Slack is on:\n%s", out.String())
	}
	base := "http://" + stack.httpAddr
	return &slackDev{t: t, fake: fake, stack: stack, api: apiClient{t: t, base: base}, admin: stack.token, interactions: base + "/slack/interactions"}
}

// status is GET /v1/incidents/{id} as the admin.
func (h *slackDev) status(id string) map[string]any {
	h.t.Helper()
	code, st := h.api.do("GET", "/v1/incidents/"+id, h.admin, nil, nil)
	if code != 200 {
		h.t.Fatalf("GET incident %s: %d %v", id, code, st)
	}
	return st
}

// stepState is the state of step of incident id over the API.
func (h *slackDev) stepState(id, step string) string { return h.api.stepState(h.admin, id, step) }

// card is the message of the room of id under key, found by its metadata.
func (h *slackDev) card(channel, id, key string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range h.fake.Messages(channel) {
		if strings.Contains(m.Metadata, `"incident":"`+id+`"`) && strings.Contains(m.Metadata, `"card":"`+key+`"`) {
			out = append(out, m)
		}
	}
	return out
}

// post sends req and answers its status code.
func (h *slackDev) post(what string, req *http.Request) int {
	h.t.Helper()
	code, _ := h.send(what, req)
	return code
}

// send sends req and answers its status code and body.
func (h *slackDev) send(what string, req *http.Request) (int, string) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// click is user clicking the button action of step of incident id, signed now.
func (h *slackDev) click(user, channel, action, id, step string) int {
	h.t.Helper()
	return h.post("click", slacktest.SignedRequest(h.interactions, slackSecret, time.Now(),
		slacktest.BlockAction(user, channel, "1.1", action, slack.StepValue(id, step))))
}

func countIMs(s *slacktest.Server) int {
	n := 0
	for _, c := range s.Channels() {
		if c.IsIM {
			n++
		}
	}
	return n
}
