package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

func newAlert(fp string, at time.Time) store.AlertRecord {
	return store.AlertRecord{Source: "am", Fingerprint: fp, Title: "DataExfiltration", Severity: "high",
		Labels: map[string]string{"alertname": "DataExfiltration"}, KeyID: "k1", Sealed: []byte{1, 2, 3}, LastSeen: at}
}

func testAlertsDedupWindow(t *testing.T, s store.Store) {
	c := ctx(t)
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	a, created, err := s.RecordAlert(c, newAlert("fp1", t0), time.Hour)
	if err != nil || !created || a.Count != 1 || a.State != store.AlertOpen || a.Labels["alertname"] != "DataExfiltration" || string(a.Sealed) != "\x01\x02\x03" {
		t.Fatalf("first RecordAlert = %+v, %v, %v", a, created, err)
	}
	repeat := newAlert("fp1", t0.Add(30*time.Minute))
	repeat.SrcStatus = "resolved"
	b, created, err := s.RecordAlert(c, repeat, time.Hour)
	if err != nil || created || b.ID != a.ID || b.Count != 2 || !b.LastSeen.Equal(t0.Add(30*time.Minute)) || !b.FirstSeen.Equal(t0) || b.SrcStatus != "resolved" {
		t.Fatalf("repeat in window = %+v, %v, %v", b, created, err)
	}
	// Another source with the same fingerprint is another alert.
	other := newAlert("fp1", t0)
	other.Source = "splunk"
	if o, created, err := s.RecordAlert(c, other, time.Hour); err != nil || !created || o.ID == a.ID {
		t.Fatalf("other source = %+v, %v, %v", o, created, err)
	}
	// Past the window (from last seen) a repeat opens a new alert.
	d, created, err := s.RecordAlert(c, newAlert("fp1", t0.Add(30*time.Minute+61*time.Minute)), time.Hour)
	if err != nil || !created || d.ID == a.ID || d.Count != 1 {
		t.Fatalf("repeat after window = %+v, %v, %v", d, created, err)
	}
	old, err := s.GetAlert(c, a.ID)
	if err != nil || old.Count != 2 {
		t.Fatalf("old alert = %+v, %v", old, err)
	}
	if _, err := s.GetAlert(c, 99999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown alert: %v", err)
	}
	if _, _, err := s.RecordAlert(c, store.AlertRecord{Source: "am"}, time.Hour); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("no fingerprint: %v", err)
	}
}

func testAlertsConcurrentCopies(t *testing.T, s store.Store) {
	c := ctx(t)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[int64]bool{}
	created := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, isNew, err := s.RecordAlert(c, newAlert("burst", at.Add(time.Duration(i)*time.Millisecond)), time.Hour)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[a.ID] = true
			if isNew {
				created++
			}
		}()
	}
	wg.Wait()
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d copies made %d alerts, %d created", n, len(ids), created)
	}
	for id := range ids {
		a, err := s.GetAlert(c, id)
		if err != nil || a.Count != n {
			t.Fatalf("count = %d, %v; want %d", a.Count, err, n)
		}
	}
}

func testAlertsDecide(t *testing.T, s store.Store) {
	c := ctx(t)
	inc := newIncident(t, s)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	a, _, err := s.RecordAlert(c, newAlert("d1", at), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideAlert(c, store.AlertDecision{AlertID: a.ID, State: store.AlertDismissed, Actor: "rita"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("dismiss without reason: %v", err)
	}
	if _, err := s.DecideAlert(c, store.AlertDecision{AlertID: a.ID, State: store.AlertAttached, IncidentID: "BR-NOPE00", Actor: "rita"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("attach to unknown incident: %v", err)
	}
	if err := s.NoteAlert(c, store.AlertEvent{AlertID: a.ID, Actor: "rule:x", Action: "routed", Reason: "triage"}, "x"); err != nil {
		t.Fatal(err)
	}
	got, err := s.DecideAlert(c, store.AlertDecision{AlertID: a.ID, State: store.AlertAttached, IncidentID: inc, Actor: "rita", At: at.Add(time.Minute)})
	if err != nil || got.State != store.AlertAttached || got.IncidentID != inc || got.DecidedBy != "rita" || got.RuleID != "x" || got.DecidedAt == nil || !got.DecidedAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("attach = %+v, %v", got, err)
	}
	// A retried attach is harmless; any other decision is refused.
	if _, err := s.DecideAlert(c, store.AlertDecision{AlertID: a.ID, State: store.AlertAttached, IncidentID: inc, Actor: "rita"}); err != nil {
		t.Fatalf("repeat attach: %v", err)
	}
	if _, err := s.DecideAlert(c, store.AlertDecision{AlertID: a.ID, State: store.AlertDismissed, Actor: "rita", Reason: "noise"}); !errors.Is(err, store.ErrAlertDecided) {
		t.Fatalf("dismiss after attach: %v", err)
	}
	evs, err := s.ListAlertEvents(c, a.ID)
	if err != nil || len(evs) != 2 || evs[0].Action != "routed" || evs[1].Action != store.AlertAttached || evs[1].IncidentID != inc || evs[1].Actor != "rita" {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	if _, err := s.(dbStore).DB().ExecContext(c, `DELETE FROM alert_events`); err == nil {
		t.Fatal("alert_events accepted a DELETE")
	}
	// A dismissed alert stays dismissed when it fires again.
	b, _, _ := s.RecordAlert(c, newAlert("d2", at), time.Hour)
	if _, err := s.DecideAlert(c, store.AlertDecision{AlertID: b.ID, State: store.AlertDismissed, Actor: "rita", Reason: "test traffic"}); err != nil {
		t.Fatal(err)
	}
	again, created, err := s.RecordAlert(c, newAlert("d2", at.Add(time.Minute)), time.Hour)
	if err != nil || created || again.State != store.AlertDismissed || again.Reason != "test traffic" || again.Count != 2 {
		t.Fatalf("fired again = %+v, %v, %v", again, created, err)
	}
	open, err := s.ListAlerts(c, store.AlertFilter{State: store.AlertOpen})
	if err != nil || len(open) != 0 {
		t.Fatalf("open alerts = %+v, %v", open, err)
	}
	onInc, err := s.ListAlerts(c, store.AlertFilter{IncidentID: inc})
	if err != nil || len(onInc) != 1 || onInc[0].ID != a.ID {
		t.Fatalf("alerts on incident = %+v, %v", onInc, err)
	}
}

func testAlertsListOldestFirst(t *testing.T, s store.Store) {
	c := ctx(t)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for i, fp := range []string{"c", "a", "b"} {
		if _, _, err := s.RecordAlert(c, newAlert(fp, at.Add(time.Duration(i)*time.Minute)), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListAlerts(c, store.AlertFilter{State: store.AlertOpen})
	if err != nil || len(got) != 3 || got[0].Fingerprint != "c" || got[2].Fingerprint != "b" {
		t.Fatalf("list = %+v, %v", got, err)
	}
	page, err := s.ListAlerts(c, store.AlertFilter{Limit: 1, AfterID: got[0].ID})
	if err != nil || len(page) != 1 {
		t.Fatalf("page = %+v, %v", page, err)
	}
}

func testAlertsStorm(t *testing.T, s store.Store) {
	c := ctx(t)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var ids []int64
	for _, fp := range []string{"s1", "s2", "s3"} {
		a, _, err := s.RecordAlert(c, newAlert(fp, at), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	for i, tc := range []struct {
		alert int64
		at    time.Time
		want  int64
	}{
		{ids[0], at, ids[0]},
		{ids[1], at.Add(9 * time.Minute), ids[0]},
		{ids[2], at.Add(11 * time.Minute), ids[2]}, // the burst opened more than 10m ago
	} {
		got, err := s.AlertStorm(c, "r", tc.alert, tc.at, 10*time.Minute)
		if err != nil || got != tc.want {
			t.Fatalf("case %d: AlertStorm = %d, %v; want %d", i, got, err, tc.want)
		}
	}
	if got, err := s.AlertStorm(c, "other", ids[1], at, 10*time.Minute); err != nil || got != ids[1] {
		t.Fatalf("other rule = %d, %v", got, err)
	}
}

func testIncidentByExternalRef(t *testing.T, s store.Store) {
	c := ctx(t)
	in, _, err := s.CreateIncident(c, store.Incident{PlaybookID: "p", PlaybookVersion: 1, Severity: "high", ExternalRef: "db-7", CreatedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.IncidentByExternalRef(c, "db-7")
	if err != nil || got.ID != in.ID {
		t.Fatalf("IncidentByExternalRef = %+v, %v", got, err)
	}
	for _, ref := range []string{"", "db-8"} {
		if _, err := s.IncidentByExternalRef(c, ref); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ref %q: %v", ref, err)
		}
	}
}

func testAlertCards(t *testing.T, s store.Store) {
	c := ctx(t)
	a, _, err := s.RecordAlert(c, newAlert("card", time.Now()), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetAlertCard(c, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("card before any: %v", err)
	}
	if err := s.PutAlertCard(c, 99999, "C1", "1.1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("card of unknown alert: %v", err)
	}
	if err := s.PutAlertCard(c, a.ID, "", "1.1"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("card without channel: %v", err)
	}
	for _, ts := range []string{"1.1", "2.2"} {
		if err := s.PutAlertCard(c, a.ID, "C1", ts); err != nil {
			t.Fatal(err)
		}
	}
	if ch, ts, err := s.GetAlertCard(c, a.ID); err != nil || ch != "C1" || ts != "2.2" {
		t.Fatalf("card = %s %s %v", ch, ts, err)
	}
}
