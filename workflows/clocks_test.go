package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/templates"
)

// art33Mails are the clock mails about the GDPR Art. 33 duty, in order.
func (h *harness) art33Mails() []activities.ClockMail {
	var out []activities.ClockMail
	for _, m := range h.mails {
		if strings.Contains(m.Subject, "GDPR Art. 33") {
			out = append(out, m)
		}
	}
	return out
}

func timelineNotes(st *breach.Status, action, target string) []string {
	var out []string
	for _, e := range st.Timeline {
		if e.Action == action && e.Target == target {
			out = append(out, e.Note)
		}
	}
	return out
}

// A clock launched with 30 minutes left has every reminder point behind
// it: one reminder goes out at once and the timeline says which ones it
// stands for; a fact change that leaves the deadline alone sends nothing
// more; the overdue notice follows at 72 h.
func TestLateClockRemindsOnceAtLaunch(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	aware := h.start.Add(-71*time.Hour - 30*time.Minute)
	due := aware.Add(72 * time.Hour)
	in := h.input("customer-data-breach", breach.Facts{AwareAt: aware, Jurisdictions: []string{"FR"}, Risk: "unassessed"})
	h.check(time.Minute, func(st *breach.Status) {
		o := find(st, "gdpr-art33")
		if o.Status != breach.ObligationPending || o.Reminded != 5 {
			t.Errorf("gdpr-art33 = %s reminded %d, want pending with its 5 points accounted for", o.Status, o.Reminded)
		}
		notes := timelineNotes(st, "obligation.reminded", "obligation:gdpr-art33")
		want := "due in 30m (reminders 1–5 of 5 had passed when the clock was set; reminding now)"
		if len(notes) != 1 || !strings.Contains(notes[0], want) {
			t.Errorf("reminder timeline = %q, want one entry containing %q", notes, want)
		}
		if mails := h.art33Mails(); len(mails) != 1 {
			t.Errorf("%d GDPR Art. 33 mails a minute after launch, want the one reminder", len(mails))
		}
	})
	// A fact that does not move the deadline must not remind again.
	h.act(10*time.Minute, UpdatePatchFacts, breach.PatchFacts{Actor: responder, Set: []string{"affected"}, Facts: breach.Facts{Affected: map[string]int{"FR": 40}}}, "")
	h.check(29*time.Minute, func(st *breach.Status) {
		if n := timelineHas(st, "obligation.reminded", "obligation:gdpr-art33"); n != 1 {
			t.Errorf("%d reminder entries after an unrelated fact change, want still 1", n)
		}
	})
	h.check(30*time.Minute+time.Second, func(st *breach.Status) {
		if o := find(st, "gdpr-art33"); o.Status != breach.ObligationOverdue {
			t.Errorf("gdpr-art33 = %s at 72 h, want overdue", o.Status)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 31*time.Minute)
	h.env.ExecuteWorkflow(Incident, in)

	mails := h.art33Mails()
	if len(mails) < 2 {
		t.Fatalf("GDPR Art. 33 mails = %+v, want the immediate reminder then the overdue notice", mails)
	}
	first := mails[0]
	wantKey := "BR-TEST01-ob-gdpr-art33-late-" + due.Format("20060102T150405Z")
	if first.Kind != "reminder" || first.Key != wantKey || !first.Now.Equal(h.start) || !first.DueAt.Equal(due) ||
		strings.Join(first.Roles, ",") != "legal" {
		t.Errorf("first mail = %+v, want a reminder to legal keyed %s, sent at launch", first, wantKey)
	}
	// The timeline names the time left as the mail does.
	m, err := templates.RenderReminder(templates.ReminderInput{Kind: first.Kind, IncidentID: first.IncidentID,
		Subject: first.Subject, DueAt: first.DueAt, Now: first.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.Subject, " due in 30m") {
		t.Errorf("mail subject %q, want it to end \"due in 30m\" like the timeline", m.Subject)
	}
	// The deadline also starts the escalations; count the rest.
	kinds := map[string]int{}
	for _, m := range mails {
		kinds[m.Kind]++
		if m.Kind == "overdue" && !m.Now.Equal(due) {
			t.Errorf("overdue notice at %v, want at the deadline %v", m.Now, due)
		}
	}
	if kinds["reminder"] != 1 || kinds["overdue"] != 1 {
		t.Errorf("GDPR Art. 33 mails by kind = %v, want exactly 1 reminder and 1 overdue", kinds)
	}
}

// Moving aware_at back so the deadline lands 2 h ahead puts four reminder
// points behind the re-armed clock: one reminder at once, then the fifth
// at its time and the overdue notice at the new deadline.
func TestLateClockRemindsOnceWhenTheDeadlineMoves(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"FR"}, Risk: "unassessed"})
	moved := h.start.Add(-60 * time.Hour)
	due := moved.Add(72 * time.Hour) // start + 12 h
	h.check(10*time.Hour-time.Minute, func(st *breach.Status) {
		if n := timelineHas(st, "obligation.reminded", "obligation:gdpr-art33"); n != 0 || len(h.art33Mails()) != 0 {
			t.Errorf("%d reminders before the first 24 h point, want 0", n)
		}
	})
	h.act(10*time.Hour, UpdatePatchFacts, breach.PatchFacts{Actor: legal, Set: []string{"aware_at"}, Facts: breach.Facts{AwareAt: moved}}, "")
	h.check(10*time.Hour+time.Second, func(st *breach.Status) {
		o := find(st, "gdpr-art33")
		if !o.DueAt.Equal(due) || o.Reminded != 4 {
			t.Errorf("gdpr-art33 due %v reminded %d, want due %v with 4 points behind it", o.DueAt, o.Reminded, due)
		}
		notes := timelineNotes(st, "obligation.reminded", "obligation:gdpr-art33")
		want := "due in 2h (reminders 1–4 of 5 had passed when the deadline moved; reminding now)"
		if len(notes) != 1 || !strings.Contains(notes[0], want) {
			t.Errorf("reminder timeline = %q, want one entry containing %q", notes, want)
		}
	})
	h.check(11*time.Hour+time.Second, func(st *breach.Status) {
		notes := timelineNotes(st, "obligation.reminded", "obligation:gdpr-art33")
		if len(notes) != 2 || !strings.HasSuffix(notes[1], "due in 1h") {
			t.Errorf("reminder timeline at 71 h = %q, want the fifth reminder, due in 1h", notes)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 12*time.Hour+time.Minute)
	h.env.ExecuteWorkflow(Incident, in)

	// The deadline also starts the escalations; the rest, in order:
	var got []string
	for _, m := range h.art33Mails() {
		if m.Kind != "escalation" {
			got = append(got, m.Kind+" "+strings.TrimPrefix(m.Key, "BR-TEST01-")+" at +"+m.Now.Sub(h.start).String())
		}
	}
	want := []string{
		"reminder ob-gdpr-art33-late-" + due.Format("20060102T150405Z") + " at +10h0m0s",
		"reminder ob-gdpr-art33-remind-5 at +11h0m0s",
		"overdue ob-gdpr-art33-overdue at +12h0m0s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("GDPR Art. 33 mails:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
