package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDeadlinesCommandPrintsTheBoard(t *testing.T) {
	var gotQuery, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/deadlines" {
			http.NotFound(w, r)
			return
		}
		gotQuery, gotAuth = r.URL.RawQuery, r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"deadlines":[
 {"incident_id":"BR-7K3F9Q","severity":"high","obligation":"gdpr-art33","regime":"GDPR Art. 33","jurisdiction":"EU",
  "recipient_name":"Lead supervisory authority","due_at":"2026-11-26T08:00:00Z","status":"pending"},
 {"incident_id":"BR-7K3F9Q","severity":"high","obligation":"sec-8k-item105","regime":"SEC 8-K Item 1.05","jurisdiction":"US",
  "recipient_name":"SEC","status":"pending","missing_facts":["materiality_at"]}]}`))
	}))
	defer srv.Close()
	now := func() time.Time { return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) }
	cmd := newDeadlinesCommand(func(k string) string {
		return map[string]string{"BREACHFLOW_TOKEN": "bf_t", "BREACHFLOW_API_URL": srv.URL}[k]
	}, now)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--within", "48h", "--jurisdiction", "EU"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer bf_t" || !strings.Contains(gotQuery, "within=48h") || !strings.Contains(gotQuery, "jurisdiction=EU") {
		t.Fatalf("request: auth %q query %q", gotAuth, gotQuery)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "DUE") {
		t.Fatalf("table:\n%s", out.String())
	}
	if !strings.Contains(lines[1], "gdpr-art33") || !strings.Contains(lines[1], "in 1d") && !strings.Contains(lines[1], "in 24h") {
		t.Errorf("GDPR row %q lacks the obligation or the time left", lines[1])
	}
	if !strings.Contains(lines[2], "no fixed time") || !strings.Contains(lines[2], "missing [materiality_at]") {
		t.Errorf("SEC row %q does not show the missing fact", lines[2])
	}
}
