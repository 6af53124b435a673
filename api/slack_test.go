package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/slacktest"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// slackAPI is the API with Slack on, no Temporal: every case here must be
// refused or answered before a workflow is touched (a nil client would
// panic into a 500).
func slackAPI(t testing.TB) (*httptest.Server, *slacktest.Server, store.Store) {
	return slackAPIFor(t, "URESP001=responder,UVIEW001=viewer,ann@example.com=legal")
}

// slackAPIFor is slackAPI with the given BREACHFLOW_SLACK_USERS.
func slackAPIFor(t testing.TB, userSpec string) (*httptest.Server, *slacktest.Server, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/app.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cat, err := playbooks.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	fake := slacktest.New(t)
	fake.AddUser("U0000ANN", "ann@example.com")
	users, err := slack.ParseUsers(userSpec)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Store: st, Playbooks: cat, Slack: &Slack{SigningSecret: testSecret, Users: users, API: slack.NewClient("xoxb-test", fake.URL())}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, fake, st
}

func send(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestSlackSignatureVerification(t *testing.T) {
	srv, _, _ := slackAPI(t)
	cmd := srv.URL + "/slack/commands"
	body := slacktest.SlashCommand("URESP001", "C1", "help")
	now := time.Now()

	if code, out := send(t, slacktest.SignedRequest(cmd, testSecret, now, body)); code != 200 || !strings.Contains(out["text"].(string), "/breach declare") {
		t.Fatalf("valid help: %d %v", code, out)
	}
	cases := []struct {
		name string
		req  *http.Request
	}{
		{"replayed", slacktest.SignedRequest(cmd, testSecret, now, body)},
		{"replayed with the signature's hex upper-cased", func() *http.Request {
			r := slacktest.SignedRequest(cmd, testSecret, now, body)
			r.Header.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0=")))
			return r
		}()},
		{"forged", slacktest.SignedRequest(cmd, "not-the-secret-at-all", time.Now(), body)},
		{"stale", slacktest.SignedRequest(cmd, testSecret, now.Add(-6*time.Minute), body)},
		{"future", slacktest.SignedRequest(cmd, testSecret, now.Add(6*time.Minute), body)},
		{"body changed", func() *http.Request {
			r := slacktest.SignedRequest(cmd, testSecret, now.Add(time.Second), body)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "help", "deadlines", 1)))
			r.ContentLength = -1
			return r
		}()},
		{"no signature", func() *http.Request {
			r := slacktest.SignedRequest(cmd, testSecret, now.Add(2*time.Second), body)
			r.Header.Del("X-Slack-Signature")
			return r
		}()},
		{"garbage signature", func() *http.Request {
			r := slacktest.SignedRequest(cmd, testSecret, now.Add(3*time.Second), body)
			r.Header.Set("X-Slack-Signature", "v0=zz")
			return r
		}()},
	}
	for _, tc := range cases {
		if code, _ := send(t, tc.req); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", tc.name, code)
		}
	}
	// The interactions endpoint verifies the same way.
	click := slacktest.BlockAction("URESP001", "C1", "1.1", slack.ActionComplete, "BR-ABCDEF|triage")
	if code, _ := send(t, slacktest.SignedRequest(srv.URL+"/slack/interactions", "forged-secret-1234", now, click)); code != 401 {
		t.Errorf("forged click: %d, want 401", code)
	}
}

func TestSlackOffAnswers404(t *testing.T) {
	s := New(Deps{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	code, _ := send(t, slacktest.SignedRequest(srv.URL+"/slack/commands", testSecret, time.Now(), slacktest.SlashCommand("U1", "C1", "help")))
	if code != 404 {
		t.Fatalf("Slack off: %d, want 404", code)
	}
}

func TestSlackBadInteractionsTouchNoWorkflow(t *testing.T) {
	srv, fake, st := slackAPI(t)
	// The incident the buttons name is in the store's index (authorization
	// reads it); no workflow runs.
	if _, _, err := st.CreateIncident(context.Background(), store.Incident{ID: "BR-ABCDEF", PlaybookID: "customer-data-breach", Severity: "high", CreatedBy: "rita"}); err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, map[string]any) {
		t.Helper()
		return send(t, slacktest.SignedRequest(srv.URL+"/slack/interactions", testSecret, time.Now(), body))
	}
	for _, tc := range []struct {
		name string
		body string
		code int
	}{
		{"no payload", "foo=bar", 400},
		{"malformed payload", "payload=%7Bnot+json", 400},
		{"unknown type", `payload={"type":"dialog_submission"}`, 400},
		{"unknown action id", slacktest.BlockAction("URESP001", "C1", "1.1", "breachflow.delete_everything", "BR-ABCDEF|triage"), 400},
		{"bad value", slacktest.BlockAction("URESP001", "C1", "1.1", slack.ActionComplete, "triage"), 400},
		{"bad incident id", slacktest.BlockAction("URESP001", "C1", "1.1", slack.ActionComplete, "BR-<script>|triage"), 400},
		{"unknown view", slacktest.ViewSubmission("URESP001", "breachflow.other", "", nil), 400},
		{"reject form without metadata", slacktest.ViewSubmission("URESP001", slack.ViewReject, "x", nil), 400},
	} {
		if code, out := post(tc.body); code != tc.code {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.code)
		}
	}

	// A modal without a reason is sent back with the error under the field.
	code, out := post(slacktest.ViewSubmission("URESP001", slack.ViewReject, "BR-ABCDEF|approve-notice|C1",
		map[string]map[string]any{slack.ReasonBlock: {slack.ReasonAction: map[string]any{"type": "plain_text_input", "value": "   "}}}))
	if code != 200 || out["response_action"] != "errors" || !strings.Contains(jsonString(out["errors"]), slack.ReasonBlock) {
		t.Fatalf("no reason: %d %v", code, out)
	}

	// Someone not in BREACHFLOW_SLACK_USERS: an ephemeral refusal.
	if code, _ := post(slacktest.BlockAction("UNKNOWN1", "C1", "1.1", slack.ActionComplete, "BR-ABCDEF|triage")); code != 200 {
		t.Fatalf("unmapped click: %d", code)
	}
	eph := fake.Requests("chat.postEphemeral")
	if len(eph) != 1 || eph[0].Form.Get("user") != "UNKNOWN1" || !strings.Contains(eph[0].Form.Get("text"), "BREACHFLOW_SLACK_USERS") {
		t.Fatalf("ephemeral refusals %+v", eph)
	}

	// Reject opens the reason modal (no Update yet); a user mapped by
	// email is recognised through users.info.
	if code, _ := post(slacktest.BlockAction("U0000ANN", "C1", "1.1", slack.ActionReject, "BR-ABCDEF|approve-notice")); code != 200 {
		t.Fatalf("reject click: %d", code)
	}
	views := fake.Requests("views.open")
	if len(views) != 1 || !strings.Contains(views[0].Form.Get("view"), "BR-ABCDEF|approve-notice|C1") || views[0].Form.Get("trigger_id") == "" {
		t.Fatalf("views.open %+v", views)
	}
	if n := len(fake.Requests("chat.postEphemeral")); n != 1 {
		t.Fatalf("%d ephemerals; the mapped user was refused", n)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSlackCommands(t *testing.T) {
	srv, fake, st := slackAPI(t)
	cmd := func(user, text string) (int, map[string]any) {
		t.Helper()
		return send(t, slacktest.SignedRequest(srv.URL+"/slack/commands", testSecret, time.Now(), slacktest.SlashCommand(user, "C1", text)))
	}
	if _, out := cmd("UNKNOWN1", "status"); !strings.Contains(out["text"].(string), "BREACHFLOW_SLACK_USERS") || out["response_type"] != "ephemeral" {
		t.Fatalf("unmapped status: %v", out)
	}
	if _, out := cmd("URESP001", "status"); !strings.Contains(out["text"].(string), "hosts no incident") {
		t.Fatalf("status in a channel without incident: %v", out)
	}
	if _, out := cmd("URESP001", "status nonsense"); !strings.Contains(out["text"].(string), "not an incident id") {
		t.Fatalf("status with a bad id: %v", out)
	}
	if _, out := cmd("URESP001", "launch-missiles"); !strings.Contains(out["text"].(string), "Unknown subcommand") {
		t.Fatalf("unknown subcommand: %v", out)
	}

	// Deadlines from the store's index, to the caller only.
	ctx := context.Background()
	inc, _, err := st.CreateIncident(ctx, store.Incident{PlaybookID: "customer-data-breach", Severity: "high", CreatedBy: "rita"})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(71 * time.Hour)
	if err := st.PutObligations(ctx, inc.ID, []store.ObligationRow{{ObligationID: "gdpr-art33", Regime: "GDPR Art. 33",
		Jurisdiction: "EU", Recipient: "regulator", RecipientName: "lead supervisory authority", Deadline: "72 hours",
		DueAt: &due, Status: store.ObligationPending, UpdatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	code, out := cmd("U0000ANN", "deadlines")
	if code != 200 || out["response_type"] != "ephemeral" || !strings.Contains(out["text"].(string), inc.ID) || !strings.Contains(out["text"].(string), "GDPR Art. 33") {
		t.Fatalf("deadlines: %d %v", code, out)
	}

	// Declare: a viewer is refused, a responder gets the form.
	if _, out := cmd("UVIEW001", "declare"); !strings.Contains(out["text"].(string), "it needs responder") {
		t.Fatalf("viewer declare: %v", out)
	}
	if code, _ := cmd("URESP001", "declare"); code != 200 {
		t.Fatalf("declare: %d", code)
	}
	views := fake.Requests("views.open")
	if len(views) != 1 || !strings.Contains(views[0].Form.Get("view"), slack.ViewDeclare) || !strings.Contains(views[0].Form.Get("view"), "customer-data-breach") {
		t.Fatalf("declare modal %+v", views)
	}

	// A declare form with bad fields comes back with the errors under them.
	post := slacktest.ViewSubmission("URESP001", slack.ViewDeclare, "C1", map[string]map[string]any{
		slack.DeclarePlaybook:      {slack.DeclarePlaybook: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "customer-data-breach"}}},
		slack.DeclareTitle:         {slack.DeclareTitle: map[string]any{"type": "plain_text_input", "value": " "}},
		slack.DeclareJurisdictions: {slack.DeclareJurisdictions: map[string]any{"type": "plain_text_input", "value": "DE, Germany"}},
		slack.DeclareAwareAt:       {slack.DeclareAwareAt: map[string]any{"type": "plain_text_input", "value": "yesterday"}},
	})
	code, out = send(t, slacktest.SignedRequest(srv.URL+"/slack/interactions", testSecret, time.Now(), post))
	errs := jsonString(out["errors"])
	if code != 200 || out["response_action"] != "errors" || !strings.Contains(errs, `"title"`) || !strings.Contains(errs, `"jurisdictions"`) || !strings.Contains(errs, `"aware_at"`) {
		t.Fatalf("bad declare: %d %v", code, out)
	}
}
