package templates

import (
	"strings"
	"testing"
	"time"
)

func reminderInput(t *testing.T, kind, now string) ReminderInput {
	t.Helper()
	return ReminderInput{
		Kind:        kind,
		IncidentID:  "BR-7K3F9Q",
		IncidentURL: "http://127.0.0.1:8080/v1/incidents/BR-7K3F9Q",
		Title:       "CRM export on a public bucket",
		Subject:     "GDPR Art. 33 notification to Lead supervisory authority",
		DueAt:       at(t, "2026-11-26T08:00:00Z"),
		Now:         at(t, now),
		Owner:       "legal",
	}
}

func TestRenderReminderKinds(t *testing.T) {
	tests := []struct {
		kind, now   string
		wantSubject string
		wantBody    []string
		golden      string
	}{
		{kind: KindReminder, now: "2026-11-25T08:00:30Z",
			wantSubject: "[BR-7K3F9Q] Reminder: GDPR Art. 33 notification to Lead supervisory authority due in 23h59m",
			wantBody:    []string{"is due in 23h59m.", "Due:      2026-11-26T08:00:00Z (Thu 26 Nov 2026 08:00 UTC)", "Open the incident: http://127.0.0.1:8080/v1/incidents/BR-7K3F9Q"},
			golden:      "reminder"},
		{kind: KindOverdue, now: "2026-11-26T10:00:00Z",
			wantSubject: "[BR-7K3F9Q] OVERDUE by 2h: GDPR Art. 33 notification to Lead supervisory authority",
			wantBody:    []string{"is overdue by 2h.", "record the reasons for the delay"},
			golden:      "overdue"},
		{kind: KindEscalation, now: "2026-11-26T14:00:00Z",
			wantSubject: "[BR-7K3F9Q] ESCALATION: GDPR Art. 33 notification to Lead supervisory authority overdue by 6h",
			wantBody:    []string{"Escalation to legal:", "overdue by 6h", "Sent by breachflow to legal"},
			golden:      "escalation"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			m, err := RenderReminder(reminderInput(t, tt.kind, tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.wantSubject {
				t.Errorf("Subject = %q\nwant      %q", m.Subject, tt.wantSubject)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(m.Text, want) {
					t.Errorf("Text lacks %q", want)
				}
			}
			if !strings.Contains(m.HTML, `<a href="http://127.0.0.1:8080/v1/incidents/BR-7K3F9Q"`) {
				t.Error("HTML lacks the incident link")
			}
			golden(t, "mail-"+tt.golden+".txt.golden", "Subject: "+m.Subject+"\n\n"+m.Text)
			golden(t, "mail-"+tt.golden+".html.golden", m.HTML)
		})
	}
}

func TestRenderReminderEdges(t *testing.T) {
	tests := []struct {
		name, kind, now, wantSubject string
	}{
		{"reminder at the deadline", KindReminder, "2026-11-26T08:00:20Z", "[BR-7K3F9Q] Reminder: S due now"},
		{"late reminder", KindReminder, "2026-11-26T08:45:00Z", "[BR-7K3F9Q] OVERDUE by 45m: S"},
		{"overdue fired on time", KindOverdue, "2026-11-26T08:00:00Z", "[BR-7K3F9Q] OVERDUE: S"},
		{"escalation fired on time", KindEscalation, "2026-11-26T08:00:00Z", "[BR-7K3F9Q] ESCALATION: S overdue"},
		{"long clock", KindReminder, "2026-11-20T07:00:00Z", "[BR-7K3F9Q] Reminder: S due in 6d1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := reminderInput(t, tt.kind, tt.now)
			in.Subject = "S"
			m, err := RenderReminder(in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.wantSubject)
			}
		})
	}
}

func TestRenderReminderEscapes(t *testing.T) {
	in := reminderInput(t, KindOverdue, "2026-11-26T10:00:00Z")
	in.Title = "<script>alert(1)</script>"
	in.Subject = "Step: Draft\r\nBcc: victim@attacker.example"
	in.IncidentURL = "javascript:alert(1)"
	m, err := RenderReminder(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("Subject carries a line break: %q", m.Subject)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("title is not escaped in HTML")
	}
	if strings.Contains(m.HTML, `href="javascript:`) {
		t.Error("unsafe URL scheme reached an href")
	}
	if strings.Contains(m.Text, "Draft\r\n") || strings.Contains(m.Text, "\nBcc:") {
		t.Error("subject line break reached the text body")
	}
}

func TestRenderReminderErrors(t *testing.T) {
	tests := map[string]func(*ReminderInput){
		"unknown kind": func(in *ReminderInput) { in.Kind = "nag" },
		"no id":        func(in *ReminderInput) { in.IncidentID = " \n" },
		"no subject":   func(in *ReminderInput) { in.Subject = "" },
		"no due":       func(in *ReminderInput) { in.DueAt = time.Time{} },
		"no now":       func(in *ReminderInput) { in.Now = time.Time{} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			in := reminderInput(t, KindReminder, "2026-11-25T08:00:00Z")
			mutate(&in)
			if _, err := RenderReminder(in); err == nil || !strings.HasPrefix(err.Error(), "render reminder: ") {
				t.Errorf("err = %v, want a render reminder error", err)
			}
		})
	}
}
