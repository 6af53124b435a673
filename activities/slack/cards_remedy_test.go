package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
)

// A ready step that waits (for remedy codes) says why on its card; once
// it is done the warning is gone.
func TestStepCardShowsWaiting(t *testing.T) {
	r := activities.Room{IncidentID: "BR-AAAAAA", Status: "active", AsOf: time.Now()}
	st := activities.RoomStep{ID: "customer-notices", Title: "Send customer notices", Kind: "customer_notices", Owner: "responder",
		State: "ready", Waiting: "100 codes missing: 2000 customers are offered credit-monitoring"}
	_, blocks := StepCard(r, st)
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Waiting: 100 codes missing") {
		t.Errorf("the card does not say why the step waits: %s", raw)
	}
	st.State = "done"
	_, blocks = StepCard(r, st)
	raw, _ = json.Marshal(blocks)
	if strings.Contains(string(raw), "codes missing") {
		t.Errorf("a done step still shows the wait: %s", raw)
	}
}

// The room's word on the remedy pool has no deadline: it says what is
// missing, or that the pool covers everyone, and no "due".
func TestNoticeTextRemedyPool(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	short := NoticeText(activities.RoomNotice{IncidentID: "BR-AAAAAA", Kind: "remedy_short", Now: now,
		Subject: "100 codes missing: 2000 customers are offered credit-monitoring"})
	if want := "⚠️ Remedy codes short — BR-AAAAAA: 100 codes missing: 2000 customers are offered credit-monitoring"; short != want {
		t.Errorf("short = %q, want %q", short, want)
	}
	covered := NoticeText(activities.RoomNotice{IncidentID: "BR-AAAAAA", Kind: "remedy_covered", Now: now, Subject: "the pool now covers all 2000 customers"})
	if !strings.HasPrefix(covered, "✅ Remedy codes covered — BR-AAAAAA: ") || strings.Contains(covered, "due") {
		t.Errorf("covered = %q", covered)
	}
	due := NoticeText(activities.RoomNotice{IncidentID: "BR-AAAAAA", Kind: "reminder", Now: now, DueAt: now.Add(2 * time.Hour), Subject: "GDPR Art. 33"})
	if !strings.Contains(due, "due ") {
		t.Errorf("a reminder lost its due time: %q", due)
	}
}
