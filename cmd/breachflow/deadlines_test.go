package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
)

// TestClockRunsOutInRealTime launches with aware_at 71 h 59 min ago: the
// GDPR clock must turn overdue and the escalation mail reach the SMTP
// catcher within a couple of minutes of wall-clock time. It also checks
// legal's deadline board, the calendar feed and the draft report.
func TestClockRunsOutInRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	ctx := context.Background()
	legal, _, _ := stack.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)
	viewer, _, _ := stack.store.CreateToken(ctx, "vic-viewer", breach.RoleViewer)

	launched := time.Now()
	aware := launched.Add(-71*time.Hour - 59*time.Minute).UTC().Truncate(time.Second)
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{
		"playbook": "customer-data-breach", "title": "Payroll export emailed to the wrong list",
		"aware_at": aware.Format(time.RFC3339), "jurisdictions": []string{"DE"}, "data_categories": []string{"financial"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)

	// Legal's board lists it, soonest first, within the next hour.
	eventually(t, 30*time.Second, "the deadline board", func() bool {
		code, board := c.do("GET", "/v1/deadlines?within=1h", viewer, nil, nil)
		return code == 200 && strings.Contains(fmt.Sprint(board["deadlines"]), "obligation:gdpr-art33") && strings.Contains(fmt.Sprint(board["deadlines"]), id)
	})
	if code, _ := c.do("GET", "/v1/deadlines?within=soon", viewer, nil, nil); code != 400 {
		t.Fatalf("bad within: %d, want 400", code)
	}

	// The escalation reaches the mail catcher in real time.
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	msg, err := stack.mail.Wait(wctx, func(m mailcatcher.Message) bool {
		return strings.Contains(m.Subject, id) && strings.Contains(strings.ToUpper(m.Subject), "ESCALATION")
	})
	if err != nil {
		t.Fatalf("no escalation mail for %s in the catcher: %v (got %d messages)", id, err, stack.mail.Total())
	}
	t.Logf("escalation mail %q arrived %s after launch", msg.Subject, time.Since(launched).Round(time.Second))
	if !strings.Contains(strings.Join(msg.To, ","), "legal@localhost") || !strings.Contains(string(msg.Raw), "GDPR Art. 33") {
		t.Fatalf("escalation mail to %v lacks legal or the regime:\n%s", msg.To, msg.Raw)
	}
	eventually(t, 30*time.Second, "overdue status", func() bool {
		_, st := c.do("GET", "/v1/incidents/"+id, viewer, nil, nil)
		return strings.Contains(fmt.Sprint(st["obligations"]), "status:overdue")
	})

	// Calendar feed with a calendar token (no bearer header).
	code, ct := c.do("POST", "/v1/calendar-tokens", legal, map[string]any{}, nil)
	if code != 201 {
		t.Fatalf("calendar token: %d %v", code, ct)
	}
	resp, err := http.Get(c.base + ct["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(feed), "BEGIN:VCALENDAR") || !strings.Contains(string(feed), id+"-gdpr-art33@breachflow") || !strings.Contains(string(feed), "BEGIN:VALARM") {
		t.Fatalf("calendar feed %d:\n%s", resp.StatusCode, feed)
	}
	if resp, _ := http.Get(c.base + "/v1/deadlines.ics?token=bfcal_wrong"); resp.StatusCode != 401 {
		t.Fatalf("wrong calendar token: %d, want 401", resp.StatusCode)
	}

	// The draft report for the regulator lists what is still missing.
	code, rep := c.do("GET", "/v1/incidents/"+id+"/obligations/gdpr-art33/report?format=json", legal, nil, nil)
	if code != 200 || !strings.Contains(fmt.Sprint(rep["markdown"]), "GDPR Art. 33") || len(rep["missing"].([]any)) == 0 {
		t.Fatalf("report: %d %v", code, rep)
	}
	if code, _ := c.do("GET", "/v1/incidents/"+id+"/obligations/gdpr-art33/report", viewer, nil, nil); code != 403 {
		t.Fatalf("viewer reading the draft report: %d, want 403", code)
	}

	// Filing late needs the reasons for the delay; then the clock stops.
	if code, _ := c.do("POST", "/v1/incidents/"+id+"/obligations/gdpr-art33/file", legal, map[string]any{"reference": "BfDI-1"}, nil); code != 422 {
		t.Fatalf("late filing without delay_reason: %d, want 422", code)
	}
	if code, body := c.do("POST", "/v1/incidents/"+id+"/obligations/gdpr-art33/file", legal, map[string]any{"reference": "BfDI-1", "delay_reason": "the scope was only known at 72 h"}, nil); code != 200 {
		t.Fatalf("filing: %d %v", code, body)
	}
	eventually(t, 30*time.Second, "filed obligation off the board", func() bool {
		_, board := c.do("GET", "/v1/deadlines?incident="+id, viewer, nil, nil)
		return !strings.Contains(fmt.Sprint(board["deadlines"]), "obligation:gdpr-art33 ")
	})
}
