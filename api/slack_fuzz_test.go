package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/slacktest"
)

// FuzzSlackEndpoints posts correctly signed but otherwise arbitrary bodies
// to both Slack endpoints. Nobody is mapped to a role, so nothing may reach
// a workflow (there is no Temporal client: that would be a 500); every
// body must be answered — refused or replied to — without a server error.
func FuzzSlackEndpoints(f *testing.F) {
	for _, seed := range []string{
		"",
		"payload=",
		"payload=not-json",
		"payload=%7B%7D",
		"payload=%7B%22type%22%3A%22block_actions%22%7D",
		slacktest.BlockAction("URESP001", "C1", "1.1", slack.ActionComplete, "BR-ABCDEF|triage"),
		slacktest.BlockAction("URESP001", "C1", "1.1", "no-such-action", "x|y|z"),
		slacktest.SlashCommand("URESP001", "C1", "declare"),
		slacktest.SlashCommand("URESP001", "C1", "status BR-ABCDEF"),
		slacktest.ViewSubmission("URESP001", "reject", "BR-ABCDEF|approve|C1", nil),
		"command=%2Fbreach&text=%00%ff&user_id=",
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	srv, _, _ := slackAPIFor(f, "")
	f.Fuzz(func(t *testing.T, body string, command bool) {
		path := "/slack/interactions"
		if command {
			path = "/slack/commands"
		}
		code, _ := send(t, slacktest.SignedRequest(srv.URL+path, testSecret, time.Now(), body))
		if code >= http.StatusInternalServerError {
			t.Fatalf("%s %q: %d", path, body, code)
		}
	})
}
