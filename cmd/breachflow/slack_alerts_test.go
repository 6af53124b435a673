package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/slacktest"
)

// TestSlackTriageLaunch launches a playbook from an alert's Slack card on
// the dev stack: the card appears in the triage channel, Launch opens the
// form, its submission launches through the API's launch path, and the
// card says who launched which incident.
func TestSlackTriageLaunch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	fake := slacktest.New(t)
	triage := fake.AddChannel("breach-triage", true)
	cfg := devConfig(t, t.TempDir())
	cfg.SlackToken, cfg.SlackSigningKey, cfg.SlackAPIURL = "xoxb-test", slackSecret, fake.URL()
	cfg.SlackUsers, cfg.SlackTriage = "URESP001=responder", triage
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	stack, err := startDev(ctx, cfg, devOptions{Out: &out, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	base := "http://" + stack.httpAddr
	code, res := postAlert(t, base, docSourceToken, "/v1/alerts", []byte(`{"title":"Unusual export volume","severity":"high","labels":{"host":"crm-1"}}`))
	if code != http.StatusAccepted {
		t.Fatalf("alert: %d %v", code, res)
	}
	cards := fake.Messages(triage)
	if len(cards) != 1 || !strings.Contains(cards[0].Blocks, slack.ActionAlertLaunch) {
		t.Fatalf("triage channel: %+v", cards)
	}
	inter := base + "/slack/interactions"
	send := func(body string) int {
		resp, err := http.DefaultClient.Do(slacktest.SignedRequest(inter, slackSecret, time.Now(), body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := send(slacktest.BlockAction("URESP001", triage, cards[0].TS, slack.ActionAlertLaunch, "1")); c != 200 || len(fake.Requests("views.open")) != 1 {
		t.Fatalf("launch click: %d, %d forms", c, len(fake.Requests("views.open")))
	}
	values := map[string]map[string]any{
		slack.AlertPlaybook:      {slack.AlertPlaybook: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "customer-data-breach"}}},
		slack.AlertJurisdictions: {slack.AlertJurisdictions: map[string]any{"type": "plain_text_input", "value": "de"}},
	}
	if c := send(slacktest.ViewSubmission("URESP001", slack.ViewAlertLaunch, slack.AlertMeta(1, triage, cards[0].TS), values)); c != 200 {
		t.Fatalf("launch form: %d", c)
	}
	a, err := stack.store.GetAlert(context.Background(), 1)
	if err != nil || a.State != "launched" || a.IncidentID == "" || a.DecidedBy == "" || !strings.Contains(a.Reason, "aware_at") {
		t.Fatalf("alert after the Slack launch: %+v, %v", a, err)
	}
	api := apiClient{t: t, base: base}
	_, inc := api.do("GET", "/v1/incidents/"+a.IncidentID, stack.token, nil, nil)
	if !strings.Contains(fmt.Sprint(inc["facts"]), "DE") || len(inc["alerts"].([]any)) != 1 {
		t.Fatalf("incident %v", inc)
	}
	card := fake.Messages(triage)[0]
	if card.Updates != 1 || !strings.Contains(card.Blocks, "Launched "+a.IncidentID) {
		t.Fatalf("card after launch: %+v", card)
	}
}
