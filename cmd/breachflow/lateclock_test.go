package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/mailcatcher"
)

// TestLateClockMailsAtLaunch launches with aware_at 71 h 30 min ago, when
// every reminder point of the GDPR 72 h clock has passed: legal must get
// one reminder mail within seconds, and the timeline must say which
// reminders it stands for. The run is then worked to close; with
// BREACHFLOW_WRITE_HISTORIES=1 its history is saved for the replay test as
// the one that takes the late-clock-reminder branch.
func TestLateClockMailsAtLaunch(t *testing.T) {
	stack, c := replayStack(t)

	launched := time.Now()
	aware := launched.Add(-71*time.Hour - 30*time.Minute).UTC().Truncate(time.Second)
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{
		"playbook": "customer-data-breach", "title": "Late clock run", "severity": "high",
		"aware_at": aware.Format(time.RFC3339), "jurisdictions": []string{"DE", "US-NY"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	reminder := func(m mailcatcher.Message) bool {
		return strings.Contains(m.Subject, "["+id+"] Reminder: GDPR Art. 33")
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	msg, err := stack.mail.Wait(wctx, reminder)
	if err != nil {
		t.Fatalf("no GDPR Art. 33 reminder for %s within 10 s of launch: %v (%d messages caught)", id, err, stack.mail.Total())
	}
	t.Logf("reminder %q arrived %s after launch", msg.Subject, time.Since(launched).Round(time.Millisecond))
	if !strings.Contains(msg.Subject, "due in 29m") && !strings.Contains(msg.Subject, "due in 30m") {
		t.Errorf("reminder subject %q, want about 30 minutes left", msg.Subject)
	}
	if !strings.Contains(strings.Join(msg.To, ","), "legal@localhost") || !strings.Contains(msg.MessageID, id+"-ob-gdpr-art33-late-") {
		t.Errorf("reminder to %v with Message-ID %s, want legal and the late-reminder key", msg.To, msg.MessageID)
	}
	var note string
	eventually(t, 10*time.Second, "the reminder in the timeline", func() bool {
		_, st := c.do("GET", "/v1/incidents/"+id, stack.token, nil, nil)
		for _, e := range st["timeline"].([]any) {
			if e := e.(map[string]any); e["action"] == "obligation.reminded" && e["target"] == "obligation:gdpr-art33" {
				note = fmt.Sprint(e["note"])
			}
		}
		return note != ""
	})
	if !strings.Contains(note, "reminders 1–5 of 5 had passed when the clock was set; reminding now") {
		t.Errorf("timeline note %q does not say which reminders had passed", note)
	}

	workToClose(t, c, stack.token, secondLegal(t, stack), id)
	n := 0
	for _, m := range stack.mail.All() {
		if reminder(m) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d GDPR Art. 33 reminder mails for %s, want exactly 1", n, id)
	}
	saveHistory(t, stack, id, "late-clock-customer-data-breach")
}
