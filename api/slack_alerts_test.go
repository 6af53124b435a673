package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/slacktest"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
)

// TestSlackTriageCard posts an alert that waits in triage and decides it
// from its Slack card: the card appears in the triage channel, a viewer
// cannot open a decision, a dismissal needs a reason and updates the card.
func TestSlackTriageCard(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/app.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, _ := codec.NewKey("k1")
	keys, _ := codec.ParseKeys(key)
	cat, _ := playbooks.Embedded()
	rules, _ := alerts.LoadRules("", cat)
	srcs, _ := alerts.ParseSources("plain:tok-plain-000000000001")
	fake := slacktest.New(t)
	channel := fake.AddChannel("breach-triage", true)
	users, _ := slack.ParseUsers("URESP001=responder,UVIEW001=viewer")
	s := New(Deps{Store: st, Playbooks: cat, Keys: keys,
		Slack:  &Slack{SigningSecret: testSecret, Users: users, API: slack.NewClient("xoxb-test", fake.URL()), TriageChannel: channel},
		Alerts: &AlertDeps{Sources: srcs, Rules: rules, Rate: 100, Burst: 100}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &dashEnv{t: t, srv: srv, store: st}
	if resp := e.send("/v1/alerts", "tok-plain-000000000001", []byte(`{"title":"Disk almost full","text":"owner jane.doe@example.com","labels":{"host":"db-1"}}`)); resp.StatusCode != 202 {
		t.Fatal(resp.StatusCode)
	}
	msgs := fake.Messages(channel)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Blocks, slack.ActionAlertDismiss) || !strings.Contains(msgs[0].Blocks, "host=db-1") {
		t.Fatalf("triage channel: %+v", msgs)
	}
	if strings.Contains(msgs[0].Blocks+msgs[0].Text, "jane.doe") {
		t.Fatal("the card carries the alert's text")
	}
	// A repeat posts no second card.
	e.send("/v1/alerts", "tok-plain-000000000001", []byte(`{"title":"Disk almost full","labels":{"host":"db-1"}}`))
	if n := len(fake.Messages(channel)); n != 1 {
		t.Fatalf("%d cards after a repeat", n)
	}
	ts := msgs[0].TS
	inter := srv.URL + "/slack/interactions"
	now := time.Now()
	// A viewer's click opens nothing.
	send(t, slacktest.SignedRequest(inter, testSecret, now, slacktest.BlockAction("UVIEW001", channel, ts, slack.ActionAlertDismiss, "1")))
	if n := len(fake.Requests("views.open")); n != 0 {
		t.Fatalf("a viewer opened %d forms", n)
	}
	send(t, slacktest.SignedRequest(inter, testSecret, now, slacktest.BlockAction("URESP001", channel, ts, slack.ActionAlertDismiss, "1")))
	if n := len(fake.Requests("views.open")); n != 1 {
		t.Fatalf("the responder's click opened %d forms", n)
	}
	meta := slack.AlertMeta(1, channel, ts)
	code, out := send(t, slacktest.SignedRequest(inter, testSecret, now, slacktest.ViewSubmission("URESP001", slack.ViewAlertDismiss, meta,
		map[string]map[string]any{slack.AlertReason: {slack.AlertReason: map[string]any{"type": "plain_text_input", "value": " "}}})))
	if code != 200 || out["response_action"] != "errors" {
		t.Fatalf("dismiss without reason: %d %v", code, out)
	}
	code, _ = send(t, slacktest.SignedRequest(inter, testSecret, now, slacktest.ViewSubmission("URESP001", slack.ViewAlertDismiss, meta,
		map[string]map[string]any{slack.AlertReason: {slack.AlertReason: map[string]any{"type": "plain_text_input", "value": "ops noise"}}})))
	a, _ := st.GetAlert(ctx, 1)
	if code != 200 || a.State != store.AlertDismissed || a.Reason != "ops noise" {
		t.Fatalf("dismiss from Slack: %d %+v", code, a)
	}
	card := fake.Messages(channel)[0]
	if card.Updates != 1 || !strings.Contains(card.Blocks, "Dismissed by") || strings.Contains(card.Blocks, slack.ActionAlertLaunch) {
		t.Fatalf("card after the decision: %+v", card)
	}
	// A decision made over the API updates the card too.
	e.send("/v1/alerts", "tok-plain-000000000001", []byte(`{"title":"Disk almost full","labels":{"host":"db-2"}}`))
	second := fake.Messages(channel)[1]
	open, _ := st.ListAlerts(ctx, store.AlertFilter{State: store.AlertOpen})
	if len(open) != 1 {
		t.Fatalf("open alerts %+v", open)
	}
	req := httptest.NewRequest("POST", fmt.Sprintf("%s/v1/alerts/%d/dismiss", srv.URL, open[0].ID), strings.NewReader(`{"reason":"planned"}`))
	req.RequestURI = ""
	admin, _, _ := st.CreateToken(ctx, "ada-admin", "admin")
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	if code, out := send(t, req); code != 200 {
		t.Fatalf("API dismissal: %d %v", code, out)
	}
	if m := fake.Messages(channel)[1]; m.TS != second.TS || m.Updates != 1 || !strings.Contains(m.Blocks, "Dismissed by ada-admin") {
		t.Fatalf("card after an API decision: %+v", m)
	}
	// The card's buttons on a decided alert say so instead of a form.
	send(t, slacktest.SignedRequest(inter, testSecret, now, slacktest.BlockAction("URESP001", channel, ts, slack.ActionAlertAttach, "1")))
	if n := len(fake.Requests("views.open")); n != 1 {
		t.Fatalf("a decided alert opened a form (%d)", n)
	}
}
