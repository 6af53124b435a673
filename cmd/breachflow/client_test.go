package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientNow is the CLI's clock in these tests.
var clientNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// incidentJSON is an IncidentStatus shaped like the API contract.
const incidentJSON = `{
 "id": "BR-7K3F9Q", "title": "CRM export on a public bucket", "summary": "", "severity": "high",
 "status": "active", "phase": "triage", "playbook": "customer-data-breach", "playbook_version": 3,
 "external_ref": "SIEM-4411", "launched_by": "ann", "launched_at": "2026-11-23T08:05:00Z",
 "facts": {"aware_at": "2026-11-23T08:00:00Z", "discovered_at": "2026-11-23T08:00:00Z", "jurisdictions": ["DE", "US-CA"],
  "risk": "unassessed", "assumed": ["discovered_at"]},
 "next_deadline": "2026-11-23T12:13:00Z",
 "obligations": [
  {"id": "gdpr-art33", "regime": "GDPR", "jurisdiction": "EU", "recipient": "regulator", "recipient_name": "BfDI",
   "anchor": "aware_at", "due_at": "2026-11-26T08:00:00Z", "standard": "72h", "deadline": "72 hours",
   "status": "pending", "missing_facts": [], "needs_legal_confirmation": false, "source": "", "note": ""},
  {"id": "ca-1798.82", "regime": "CCPA", "jurisdiction": "US-CA", "recipient": "subjects", "recipient_name": "",
   "anchor": "aware_at", "deadline": "without unreasonable delay", "status": "pending"},
  {"id": "hk-pdpo", "regime": "PDPO", "jurisdiction": "HK", "recipient": "regulator", "recipient_name": "PCPD",
   "anchor": "determined_at", "deadline": "30 calendar days", "status": "pending", "missing_facts": ["determined_at"]}
 ],
 "steps": [
  {"id": "contain-source", "title": "Contain", "kind": "task", "owner": "responder", "state": "ready",
   "after": [], "due_at": "2026-11-23T07:00:00Z", "reminded": 1, "escalated": 0},
  {"id": "legal-review", "title": "Review", "kind": "approval", "owner": "legal", "state": "pending",
   "after": ["contain-source"], "reminded": 0, "escalated": 0}
 ],
 "remediations": [], "timeline": []
}`

// apiCall is one request the fake API received.
type apiCall struct {
	method, path, query string
	header              http.Header
	body                map[string]any
}

// cannedResponse is what the fake API answers a route with.
type cannedResponse struct {
	status      int
	contentType string
	body        string
}

// fakeAPI plays breachflow's HTTP API: it records each request and answers
// from canned responses keyed by "METHOD /escaped/path".
type fakeAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []apiCall
	routes map[string]cannedResponse
}

func newFakeAPI(t *testing.T, routes map[string]cannedResponse) *fakeAPI {
	t.Helper()
	f := &fakeAPI{routes: routes}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Errorf("request body is not a JSON object: %q", raw)
			}
		}
		key := r.Method + " " + r.URL.EscapedPath()
		f.mu.Lock()
		f.calls = append(f.calls, apiCall{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
		resp, ok := f.routes[key]
		f.mu.Unlock()
		if !ok {
			t.Errorf("unexpected request %s", key)
			resp = cannedResponse{404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404,"detail":"no route"}`}
		}
		if resp.contentType == "" {
			resp.contentType = "application/json"
		}
		w.Header().Set("Content-Type", resp.contentType)
		w.WriteHeader(resp.status)
		io.WriteString(w, resp.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) only(t *testing.T) apiCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) != 1 {
		t.Fatalf("API got %d requests, want 1", len(f.calls))
	}
	return f.calls[0]
}

// runIncident runs `breachflow incident args…` with env as its environment.
func runIncident(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	cmd := newIncidentCommand(func(k string) string { return env[k] }, func() time.Time { return clientNow })
	var out, stderr bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// envFor points the CLI at the fake API with a token.
func envFor(f *fakeAPI) map[string]string {
	return map[string]string{"BREACHFLOW_API_URL": f.srv.URL, "BREACHFLOW_TOKEN": "tok-123"}
}

func assertAuthorized(t *testing.T, c apiCall, token string) {
	t.Helper()
	if got := c.header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q, want Bearer %s", got, token)
	}
}

func assertBody(t *testing.T, c apiCall, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.body, w) {
		got, _ := json.Marshal(c.body)
		t.Errorf("request body = %s\nwant %s", got, want)
	}
	if ct := c.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func assertContains(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// lineWith finds the output line that starts with prefix and splits it
// into its columns.
func lineWith(t *testing.T, out, prefix string) []string {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return strings.Fields(line)
		}
	}
	t.Fatalf("no line starts with %q:\n%s", prefix, out)
	return nil
}

func TestIncidentCmdLaunch(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		says   string
	}{
		{"new incident", http.StatusCreated, "Launched BR-7K3F9Q."},
		{"repeat", http.StatusOK, "BR-7K3F9Q already exists"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, map[string]cannedResponse{"POST /v1/incidents": {status: tt.status, body: incidentJSON}})
			out, err := runIncident(t, map[string]string{"BREACHFLOW_API_URL": f.srv.URL + "/"}, "launch", "--token", "flag-token",
				"--playbook", "customer-data-breach", "--title", "CRM export on a public bucket", "--severity", "high",
				"--external-ref", "SIEM-4411", "--aware-at", "2026-11-23T08:00:00Z",
				"--jurisdiction", "DE", "--jurisdiction", "US-CA", "--category", "contact,financial",
				"--flag", "public_company", "--affected", "DE=1200", "--idempotency-key", "launch-42")
			if err != nil {
				t.Fatalf("launch: %v", err)
			}
			c := f.only(t)
			if c.method != http.MethodPost || c.path != "/v1/incidents" {
				t.Errorf("request = %s %s", c.method, c.path)
			}
			assertAuthorized(t, c, "flag-token")
			if k := c.header.Get("Idempotency-Key"); k != "launch-42" {
				t.Errorf("Idempotency-Key = %q", k)
			}
			assertBody(t, c, `{"playbook":"customer-data-breach","title":"CRM export on a public bucket","severity":"high",
				"external_ref":"SIEM-4411","aware_at":"2026-11-23T08:00:00Z","jurisdictions":["DE","US-CA"],
				"data_categories":["contact","financial"],"flags":["public_company"],"affected":{"DE":1200}}`)
			assertContains(t, out, tt.says, "CRM export on a public bucket", "active (phase triage)",
				"customer-data-breach v3", "2026-11-23 12:13 UTC (in 2h13m)")
			if got := lineWith(t, out, "gdpr-art33"); strings.Join(got, " ") != "gdpr-art33 EU regulator: BfDI 2026-11-26 08:00 UTC (in 2d22h) pending" {
				t.Errorf("obligation row = %q", got)
			}
			if got := lineWith(t, out, "ca-1798.82"); strings.Join(got, " ") != "ca-1798.82 US-CA subjects without unreasonable delay pending" {
				t.Errorf("obligation row = %q", got)
			}
			if got := lineWith(t, out, "hk-pdpo"); strings.Join(got, " ") != "hk-pdpo HK regulator: PCPD waiting for determined_at pending" {
				t.Errorf("a clock without its anchor shows %q, want it waiting, not its length", got)
			}
			if got := lineWith(t, out, "Discovered"); !strings.Contains(strings.Join(got, " "), "(assumed") {
				t.Errorf("discovery row = %q, want it marked assumed", got)
			}
			if got := lineWith(t, out, "contain-source"); strings.Join(got, " ") != "contain-source responder ready 2026-11-23 07:00 UTC (overdue 3h)" {
				t.Errorf("step row = %q", got)
			}
			if got := lineWith(t, out, "legal-review"); strings.Join(got, " ") != "legal-review legal pending -" {
				t.Errorf("step row = %q", got)
			}
		})
	}
}

func TestIncidentCmdLaunchChecksLocally(t *testing.T) {
	f := newFakeAPI(t, nil)
	for _, args := range [][]string{
		{"launch", "--title", "x"},
		{"launch", "--playbook", "p", "--title", "x", "--aware-at", "yesterday"},
		{"decide", "BR-7K3F9Q", "approve-notice", "--reject"},
		{"decide", "BR-7K3F9Q", "approve-notice", "--approve", "--reject", "--reason", "r"},
		{"decide", "BR-7K3F9Q", "approve-notice"},
		{"show"},
	} {
		if _, err := runIncident(t, envFor(f), args...); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("invalid commands reached the API: %+v", f.calls)
	}
}

func TestIncidentCmdList(t *testing.T) {
	f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents": {status: 200, body: `{"incidents":[
		{"id":"BR-7K3F9Q","title":"CRM export","status":"active","severity":"high","playbook":"customer-data-breach",
		 "next_deadline":"2026-11-23T12:13:00Z","launched_at":"2026-11-23T08:05:00Z"},
		{"id":"BR-AAAAAA","title":"Lost laptop","status":"active","severity":"high","playbook":"device-loss",
		 "next_deadline":"2026-11-23T07:00:00Z","launched_at":"2026-11-20T08:05:00Z"},
		{"id":"BR-BBBBBB","title":"Old","status":"active","severity":"high","playbook":"device-loss",
		 "launched_at":"2026-11-01T08:05:00Z"}],
		"next_page_token":"abc"}`}})
	out, err := runIncident(t, envFor(f), "list", "--status", "active", "--severity", "high", "--playbook", "customer-data-breach")
	if err != nil {
		t.Fatal(err)
	}
	c := f.only(t)
	assertAuthorized(t, c, "tok-123")
	if c.method != http.MethodGet || c.query != "playbook=customer-data-breach&severity=high&status=active" {
		t.Errorf("request = %s %s?%s", c.method, c.path, c.query)
	}
	for prefix, want := range map[string]string{
		"ID ":       "ID SEVERITY STATUS PLAYBOOK NEXT DEADLINE TITLE",
		"BR-7K3F9Q": "BR-7K3F9Q high active customer-data-breach in 2h13m CRM export",
		"BR-AAAAAA": "BR-AAAAAA high active device-loss overdue 3h Lost laptop",
		"BR-BBBBBB": "BR-BBBBBB high active device-loss - Old",
		"More":      "More: --page-token abc",
	} {
		if got := strings.Join(lineWith(t, out, prefix), " "); got != want {
			t.Errorf("row %q = %q, want %q", prefix, got, want)
		}
	}
	// tabwriter aligns the columns: every row's severity starts where the header's does.
	col := strings.Index(out, "SEVERITY")
	for _, id := range []string{"BR-7K3F9Q", "BR-AAAAAA"} {
		line := out[strings.Index(out, id):]
		if strings.Index(line, "high") != col {
			t.Errorf("%s: columns not aligned:\n%s", id, out)
		}
	}
}

func TestIncidentCmdJSONPrintsRawResponse(t *testing.T) {
	f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents/BR-7K3F9Q": {status: 200, body: incidentJSON}})
	out, err := runIncident(t, envFor(f), "show", "BR-7K3F9Q", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if out != incidentJSON+"\n" {
		t.Errorf("--json output differs from the response:\n%s", out)
	}
	assertAuthorized(t, f.only(t), "tok-123")
}

func TestIncidentCmdStepChanges(t *testing.T) {
	tests := []struct {
		name string
		args []string
		path string
		body string
		key  string
		says string
	}{
		{name: "complete", args: []string{"complete", "BR-7K3F9Q", "contain-source", "--note", "bucket made private",
			"--evidence", "JIRA-1, JIRA-2", "--evidence", "https://wiki/x", "--idempotency-key", "c-1"},
			path: "/v1/incidents/BR-7K3F9Q/steps/contain-source/complete",
			body: `{"note":"bucket made private","evidence":["JIRA-1, JIRA-2","https://wiki/x"]}`, key: "c-1",
			says: "Completed step contain-source of BR-7K3F9Q."},
		{name: "complete without evidence", args: []string{"complete", "BR-7K3F9Q", "a/b?"},
			path: "/v1/incidents/BR-7K3F9Q/steps/a%2Fb%3F/complete", body: `{"note":"","evidence":[]}`,
			says: "Completed step a/b? of BR-7K3F9Q."},
		{name: "approve", args: []string{"decide", "BR-7K3F9Q", "legal-review", "--approve"},
			path: "/v1/incidents/BR-7K3F9Q/steps/legal-review/decide", body: `{"decision":"approve"}`,
			says: "Approved step legal-review of BR-7K3F9Q."},
		{name: "reject", args: []string{"decide", "BR-7K3F9Q", "legal-review", "--reject", "--reason", "wording", "--idempotency-key", "d-9"},
			path: "/v1/incidents/BR-7K3F9Q/steps/legal-review/decide", body: `{"decision":"reject","reason":"wording"}`, key: "d-9",
			says: "Rejected step legal-review of BR-7K3F9Q."},
		{name: "close", args: []string{"close", "BR-7K3F9Q", "--note", "all filed"},
			path: "/v1/incidents/BR-7K3F9Q/close", body: `{"note":"all filed"}`, says: "Closed BR-7K3F9Q."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, map[string]cannedResponse{"POST " + tt.path: {status: 200, body: incidentJSON}})
			out, err := runIncident(t, envFor(f), tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			c := f.only(t)
			assertAuthorized(t, c, "tok-123")
			assertBody(t, c, tt.body)
			if k := c.header.Get("Idempotency-Key"); k != tt.key {
				t.Errorf("Idempotency-Key = %q, want %q", k, tt.key)
			}
			assertContains(t, out, tt.says)
			if got := strings.Join(lineWith(t, out, "Status"), " "); got != "Status active (phase triage)" {
				t.Errorf("status line = %q", got)
			}
		})
	}
}

func TestIncidentCmdProblems(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		route    string
		resp     cannedResponse
		wantErr  []string
		jsonOut  bool
		notInErr []string
	}{
		{name: "422 with field errors", args: []string{"launch", "--playbook", "p", "--title", "t", "--aware-at", "2030-01-01T00:00:00Z"},
			route: "POST /v1/incidents",
			resp: cannedResponse{422, "application/problem+json", `{"type":"about:blank","title":"Unprocessable Entity","status":422,
				"detail":"the launch request is invalid","instance":"/v1/incidents",
				"errors":[{"field":"aware_at","message":"is in the future"},{"field":"playbook","message":"unknown playbook \"p\""}]}`},
			wantErr: []string{"422 Unprocessable Entity: the launch request is invalid\n  aware_at: is in the future\n  playbook: unknown playbook \"p\""}},
		{name: "409 close with blockers", args: []string{"close", "BR-7K3F9Q"}, route: "POST /v1/incidents/BR-7K3F9Q/close",
			resp: cannedResponse{409, "application/problem+json", `{"type":"about:blank","title":"Conflict","status":409,
				"detail":"the incident cannot close yet","blockers":["step contain-source is pending","obligation gdpr-art33 is pending"]}`},
			wantErr: []string{"409 Conflict: the incident cannot close yet", "\n  - step contain-source is pending\n  - obligation gdpr-art33 is pending"}},
		{name: "401 names the token", args: []string{"show", "BR-7K3F9Q"}, route: "GET /v1/incidents/BR-7K3F9Q",
			resp:    cannedResponse{401, "application/problem+json", `{"title":"Unauthorized","status":401,"detail":"unknown token"}`},
			wantErr: []string{"401 Unauthorized: unknown token", "BREACHFLOW_TOKEN"}},
		{name: "proxy HTML", args: []string{"show", "BR-7K3F9Q"}, route: "GET /v1/incidents/BR-7K3F9Q",
			resp:     cannedResponse{502, "text/html", "<html>\x1b[2J" + strings.Repeat("bad gateway ", 100) + "</html>"},
			wantErr:  []string{"502 Bad Gateway: <html>[2Jbad gateway bad gateway"},
			notInErr: []string{"\x1b", "</html>"}},
		{name: "--json prints the problem too", args: []string{"show", "BR-7K3F9Q", "--json"}, route: "GET /v1/incidents/BR-7K3F9Q",
			resp:    cannedResponse{404, "application/problem+json", `{"title":"Not Found","status":404,"detail":"no incident BR-7K3F9Q"}`},
			wantErr: []string{"404 Not Found: no incident BR-7K3F9Q"}, jsonOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, map[string]cannedResponse{tt.route: tt.resp})
			out, err := runIncident(t, envFor(f), tt.args...)
			if err == nil {
				t.Fatalf("want an error; output:\n%s", out)
			}
			assertContains(t, err.Error(), tt.wantErr...)
			for _, s := range tt.notInErr {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			if tt.jsonOut != (out == tt.resp.body+"\n") {
				t.Errorf("stdout = %q (json %v)", out, tt.jsonOut)
			}
		})
	}
}

func TestIncidentCmdTokenAndURL(t *testing.T) {
	f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents": {status: 200, body: `{"incidents":[]}`}})
	_, err := runIncident(t, map[string]string{"BREACHFLOW_API_URL": f.srv.URL, "BREACHFLOW_DATA_DIR": t.TempDir()}, "list")
	if err == nil || !strings.Contains(err.Error(), "BREACHFLOW_TOKEN") {
		t.Errorf("missing token: err = %v, want one naming BREACHFLOW_TOKEN", err)
	}
	if len(f.calls) != 0 {
		t.Error("a request went out without a token")
	}
	if _, err := runIncident(t, map[string]string{"BREACHFLOW_TOKEN": "x"}, "list", "--api", "ftp://host"); err == nil || !strings.Contains(err.Error(), "BREACHFLOW_API_URL") {
		t.Errorf("bad API URL: err = %v", err)
	}
	out, err := runIncident(t, envFor(f), "list")
	if err != nil || !strings.Contains(out, "No incidents.") {
		t.Errorf("list from the environment's URL: %v %q", err, out)
	}
	// --help must never print the token from the environment.
	help, _ := runIncident(t, envFor(f), "list", "--help")
	if strings.Contains(help, "tok-123") || !strings.Contains(help, "--token") {
		t.Errorf("help:\n%s", help)
	}
}

func TestIncidentCmdFindsTheDevToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin-token"), []byte("bf_devtoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents": {status: 200, body: `{"incidents":[]}`}})
	// No token given, the API on this machine: dev's admin token is used.
	if _, err := runIncident(t, map[string]string{"BREACHFLOW_API_URL": f.srv.URL, "BREACHFLOW_DATA_DIR": dir}, "list"); err != nil {
		t.Fatal(err)
	}
	assertAuthorized(t, f.only(t), "bf_devtoken")
	// A token given wins over the file.
	if _, err := runIncident(t, map[string]string{"BREACHFLOW_API_URL": f.srv.URL, "BREACHFLOW_DATA_DIR": dir, "BREACHFLOW_TOKEN": "tok-123"}, "list"); err != nil {
		t.Fatal(err)
	}
	assertAuthorized(t, f.calls[1], "tok-123")
	// A remote API never gets the local dev token.
	_, err := runIncident(t, map[string]string{"BREACHFLOW_DATA_DIR": dir}, "list", "--api", "https://breachflow.example.com")
	if err == nil || !strings.Contains(err.Error(), "no API token") {
		t.Errorf("remote API without a token: err = %v, want no API token", err)
	}
	// The default data directory is ./data.
	t.Chdir(filepath.Dir(dir))
	if err := os.Rename(dir, "data"); err != nil {
		t.Fatal(err)
	}
	if _, err := runIncident(t, map[string]string{"BREACHFLOW_API_URL": f.srv.URL}, "list"); err != nil {
		t.Fatal(err)
	}
	assertAuthorized(t, f.calls[2], "bf_devtoken")
}

func TestIncidentCmdAudit(t *testing.T) {
	events := `"events":[{"seq":1,"key":"k1","at":"2026-11-23T08:05:00Z","actor":"ann","action":"incident.launched","target":"BR-7K3F9Q","details":{},"prev_hash":"","hash":"aa"},
		{"seq":2,"key":"k2","at":"2026-11-23T09:00:00Z","actor":"bob","action":"step.completed","target":"contain-source","details":{},"prev_hash":"aa","hash":"bb"}]`
	t.Run("verified", func(t *testing.T) {
		f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents/BR-7K3F9Q/audit": {status: 200,
			body: `{` + events + `,"chain":{"ok":true,"events":2,"broken_at":0,"reason":""}}`}})
		out, err := runIncident(t, envFor(f), "audit", "BR-7K3F9Q")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(lineWith(t, out, "2 "), " "); got != "2 2026-11-23 09:00 UTC bob step.completed contain-source" {
			t.Errorf("event row = %q", got)
		}
		assertContains(t, out, "Chain verified: 2 events.")
	})
	t.Run("broken", func(t *testing.T) {
		f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents/BR-7K3F9Q/audit": {status: 200,
			body: `{` + events + `,"chain":{"ok":false,"events":2,"broken_at":2,"reason":"hash mismatch"}}`}})
		out, err := runIncident(t, envFor(f), "audit", "BR-7K3F9Q")
		if err == nil || !strings.Contains(err.Error(), "broken at event 2") {
			t.Errorf("err = %v, want a broken-chain error", err)
		}
		assertContains(t, out, "Chain BROKEN at event 2: hash mismatch")
	})
}

func TestClientShortDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "<1m"},
		{59 * time.Second, "<1m"},
		{45 * time.Minute, "45m"},
		{3 * time.Hour, "3h"},
		{2*time.Hour + 13*time.Minute + 40*time.Second, "2h13m"},
		{70 * time.Hour, "2d22h"},
		{48*time.Hour + 5*time.Minute, "2d"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	due := clientNow.Add(-3 * time.Hour)
	if got := relDeadline(&due, clientNow); got != "overdue 3h" {
		t.Errorf("relDeadline = %q", got)
	}
}

// FuzzClientProblem feeds arbitrary problem documents to the error path:
// it never panics and never lets a control character reach the terminal.
func FuzzClientProblem(f *testing.F) {
	f.Add(`{"title":"Conflict","status":409,"detail":"x","blockers":["a"]}`, "application/problem+json", 409)
	f.Add(`{"errors":[{"field":"a\u001b[2J","message":"b\u0007"}]}`, "application/problem+json", 422)
	f.Add("<html>\x00\x1b", "text/html", 502)
	f.Add(`{"errors":null,"detail":7}`, "application/json; charset=utf-8", 400)
	f.Fuzz(func(t *testing.T, body, contentType string, status int) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}}
		msg := newAPIError(apiRequest{method: "GET", path: "/v1/incidents"}, resp, []byte(body)).Error()
		for _, r := range msg {
			if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
				t.Fatalf("control character %U in %q", r, msg)
			}
		}
	})
}

// TestIncidentCmdShowsWhoMustStillApprove: a quorum approval that has one
// of its two approvals says who approved and who is still needed.
func TestIncidentCmdShowsWhoMustStillApprove(t *testing.T) {
	body := strings.Replace(incidentJSON, `"owner": "legal", "state": "pending",`,
		`"owner": "legal", "state": "ready", "approvals": [{"by": "lena", "role": "legal", "at": "2026-11-23T09:00:00Z"}],
   "needs": {"quorum": 2, "count": 1, "roles": ["legal"], "excluded": ["lena"]},`, 1)
	if body == incidentJSON {
		t.Fatal("the canned incident has no pending legal-review step to change")
	}
	f := newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents/BR-7K3F9Q": {status: 200, body: body}})
	out, err := runIncident(t, envFor(f), "show", "BR-7K3F9Q")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(lineWith(t, out, "legal-review"), " "); got != "legal-review legal ready (1 of 2 approvals by lena; needs 1 more approval (legal), not by lena) -" {
		t.Errorf("legal-review line = %q", got)
	}
}

func TestIncidentCmdMembers(t *testing.T) {
	list := `{"incident":"BR-7K3F9Q","restricted":true,"members":["lena-legal","slack:U024BE7LH"]}`
	f := newFakeAPI(t, map[string]cannedResponse{
		"PUT /v1/incidents/BR-7K3F9Q/members/lena-legal":      {status: 200, body: `{"incident":"BR-7K3F9Q","restricted":true,"members":["lena-legal","rui"]}`},
		"DELETE /v1/incidents/BR-7K3F9Q/members/rui":          {status: 200, body: list},
		"PUT /v1/incidents/BR-7K3F9Q/members/slack:U024BE7LH": {status: 200, body: list},
	})
	out, err := runIncident(t, envFor(f), "members", "BR-7K3F9Q", "--add", "lena-legal", "--add", "slack:U024BE7LH", "--remove", "rui")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.calls {
		assertAuthorized(t, c, "tok-123")
		got = append(got, c.method+" "+c.path)
	}
	want := []string{"PUT /v1/incidents/BR-7K3F9Q/members/lena-legal", "PUT /v1/incidents/BR-7K3F9Q/members/slack:U024BE7LH",
		"DELETE /v1/incidents/BR-7K3F9Q/members/rui"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	assertContains(t, out, "Members of BR-7K3F9Q", "lena-legal", "slack:U024BE7LH")
	if strings.Contains(out, "rui") {
		t.Errorf("the list printed is not the last answer:\n%s", out)
	}

	f = newFakeAPI(t, map[string]cannedResponse{"GET /v1/incidents/BR-7K3F9Q/members": {status: 404, contentType: "application/problem+json",
		body: `{"type":"about:blank","title":"Not Found","status":404,"detail":"no incident BR-7K3F9Q"}`}})
	if _, err := runIncident(t, envFor(f), "members", "BR-7K3F9Q"); err == nil || !strings.Contains(err.Error(), "no incident BR-7K3F9Q") {
		t.Errorf("a hidden incident's members: err %v, want the API's 404", err)
	}
}

func TestIncidentCmdLaunchRestricted(t *testing.T) {
	f := newFakeAPI(t, map[string]cannedResponse{"POST /v1/incidents": {status: http.StatusCreated, body: incidentJSON}})
	if _, err := runIncident(t, envFor(f), "launch", "--playbook", "insider-exfiltration", "--title", "Payroll export copied",
		"--restricted", "--member", "lena-legal", "--member", "slack:U024BE7LH"); err != nil {
		t.Fatal(err)
	}
	assertBody(t, f.only(t), `{"playbook":"insider-exfiltration","title":"Payroll export copied","restricted":true,
		"members":["lena-legal","slack:U024BE7LH"]}`)
}
