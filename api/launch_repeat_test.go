package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// launchTemporal plays the Temporal server for launches: a workflow
// started with Update-with-Start answers with its input's facts, and a
// query answers the same status. Any other call panics (the embedded nil
// client), so a test that reaches further is caught.
type launchTemporal struct {
	client.Client
	mu      sync.Mutex
	pending *workflows.IncidentInput
	started map[string]*breach.Status
}

// CheckHealth answers as a reachable frontend does.
func (*launchTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func (f *launchTemporal) NewWithStartWorkflowOperation(_ client.StartWorkflowOptions, _ any, args ...any) client.WithStartWorkflowOperation {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = args[0].(*workflows.IncidentInput)
	return nil
}

func (f *launchTemporal) UpdateWithStartWorkflow(context.Context, client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.pending
	st := &breach.Status{ID: in.ID, Title: in.Title, Severity: in.Severity, Status: breach.StatusActive,
		PlaybookID: in.PlaybookID, ExternalRef: in.ExternalRef, LaunchedAt: in.LaunchedAt, Facts: in.Facts}
	if f.started == nil {
		f.started = map[string]*breach.Status{}
	}
	f.started[in.ID] = st
	return statusHandle{st}, nil
}

func (f *launchTemporal) QueryWorkflow(_ context.Context, workflowID, _, _ string, _ ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.started[strings.TrimPrefix(workflowID, "incident/")]
	if !ok {
		return nil, serviceerror.NewNotFound("no workflow " + workflowID)
	}
	return statusValue{st}, nil
}

// statusHandle is an update's outcome: the workflow's status.
type statusHandle struct{ st *breach.Status }

func (h statusHandle) WorkflowID() string { return workflows.IncidentWorkflowID(h.st.ID) }
func (statusHandle) RunID() string        { return "run" }
func (statusHandle) UpdateID() string     { return "launch" }
func (h statusHandle) Get(_ context.Context, v any) error {
	*v.(*breach.Status) = *h.st
	return nil
}

// statusValue is a query's answer: the same status.
type statusValue struct{ st *breach.Status }

func (statusValue) HasValue() bool { return true }
func (q statusValue) Get(v any) error {
	*v.(*breach.Status) = *q.st
	return nil
}

// launch posts body to /v1/incidents with key as its Idempotency-Key.
func (e *dashEnv) launch(key, body string) (int, breach.Status, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st breach.Status
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(b, &st); err != nil {
			e.t.Fatalf("launch answer %s: %v", b, err)
		}
	}
	return resp.StatusCode, st, string(b)
}

// TestLaunchRepeats: the same Idempotency-Key with the same request (in
// any key order) answers 200 with the first incident; with a different
// request it is refused 422, naming the key. A repeated external_ref is a
// repeat whatever else changed: a SIEM re-firing its alert.
func TestLaunchRepeats(t *testing.T) {
	tc := &launchTemporal{}
	e := newDashEnvWith(t, func(d *Deps) { d.Temporal = tc })
	body := `{"playbook":"customer-data-breach","title":"Exposed bucket","severity":"high","jurisdictions":["DE"]}`
	code, first, raw := e.launch("siem-4411", body)
	if code != http.StatusCreated {
		t.Fatalf("first launch: %d %s", code, raw)
	}
	reordered := `{"jurisdictions":["DE"], "severity":"high", "title":"Exposed bucket", "playbook":"customer-data-breach"}`
	code, again, raw := e.launch("siem-4411", reordered)
	if code != http.StatusOK || again.ID != first.ID {
		t.Fatalf("same key, same body: %d %s; want 200 with %s", code, raw, first.ID)
	}
	for name, other := range map[string]string{
		"title":    `{"playbook":"customer-data-breach","title":"Another breach","severity":"high","jurisdictions":["DE"]}`,
		"fact":     `{"playbook":"customer-data-breach","title":"Exposed bucket","severity":"high","jurisdictions":["DE","FR"]}`,
		"severity": `{"playbook":"customer-data-breach","title":"Exposed bucket","jurisdictions":["DE"]}`,
	} {
		code, _, raw := e.launch("siem-4411", other)
		if code != http.StatusUnprocessableEntity || !strings.Contains(raw, `siem-4411`) || !strings.Contains(raw, `"Idempotency-Key"`) {
			t.Errorf("same key, other %s: %d %s; want 422 naming the key", name, code, raw)
		}
	}
	if len(tc.started) != 1 {
		t.Errorf("%d workflows started, want 1", len(tc.started))
	}

	alert := `{"playbook":"customer-data-breach","title":"SIEM alert 77","external_ref":"siem:alert-77","summary":"3 hosts"}`
	code, a, raw := e.launch("", alert)
	if code != http.StatusCreated {
		t.Fatalf("alert launch: %d %s", code, raw)
	}
	refired := strings.Replace(alert, "3 hosts", "5 hosts", 1)
	if code, b, raw := e.launch("", refired); code != http.StatusOK || b.ID != a.ID {
		t.Errorf("re-fired alert with a changed summary: %d %s; want 200 with %s", code, raw, a.ID)
	}
	if code, b, raw := e.launch("retry-of-77", refired); code != http.StatusOK || b.ID != a.ID {
		t.Errorf("re-fired alert under a new key: %d %s; want 200 with %s", code, raw, a.ID)
	}
}

// TestLaunchAssumesDiscovery: a launch without discovered_at takes it as
// aware_at and says so in facts.assumed; one that sends it is taken at
// its word.
func TestLaunchAssumesDiscovery(t *testing.T) {
	e := newDashEnvWith(t, func(d *Deps) { d.Temporal = &launchTemporal{} })
	code, st, raw := e.launch("", `{"playbook":"customer-data-breach","title":"x","aware_at":"2026-01-05T08:00:00Z","jurisdictions":["US-CA"]}`)
	aware := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if code != http.StatusCreated || st.Facts.DiscoveredAt == nil || !st.Facts.DiscoveredAt.Equal(aware) ||
		!st.Facts.IsAssumed("discovered_at") || !strings.Contains(raw, `"assumed":["discovered_at"]`) {
		t.Fatalf("launch without discovered_at: %d %s; want discovered_at = aware_at, assumed", code, raw)
	}
	code, st, raw = e.launch("", `{"playbook":"customer-data-breach","title":"x","aware_at":"2026-01-05T08:00:00Z","discovered_at":"2026-01-04T22:00:00Z"}`)
	if code != http.StatusCreated || st.Facts.DiscoveredAt == nil || !st.Facts.DiscoveredAt.Equal(aware.Add(-10*time.Hour)) ||
		len(st.Facts.Assumed) != 0 || strings.Contains(raw, `"assumed"`) {
		t.Fatalf("launch with discovered_at: %d %s; want it as sent, not assumed", code, raw)
	}
	if code, _, raw := e.launch("", `{"playbook":"customer-data-breach","title":"x","assumed":["discovered_at"]}`); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		t.Errorf("a launch naming assumed itself: %d %s; want it refused", code, raw)
	}
}

// TestDashboardIncidentWaitsForAnchor: the incident page marks an assumed
// discovery, and shows a clock whose anchor is missing as waiting for it,
// never with its length as if it ran.
func TestDashboardIncidentWaitsForAnchor(t *testing.T) {
	tc := &launchTemporal{}
	e := newDashEnvWith(t, func(d *Deps) { d.Temporal = tc })
	_, st, raw := e.launch("", `{"playbook":"customer-data-breach","title":"x","jurisdictions":["US-CA","HK"]}`)
	if st.ID == "" {
		t.Fatalf("launch: %s", raw)
	}
	tc.mu.Lock()
	tc.started[st.ID].Obligations = []breach.Obligation{{Duty: breach.Duty{ID: "hk-pdpo", Regime: "PDPO", Jurisdiction: "HK",
		Recipient: "regulator", RecipientName: "PCPD", Anchor: "determined_at", Deadline: "30 calendar days",
		MissingFacts: []string{"determined_at"}}, Status: breach.ObligationPending}}
	tc.mu.Unlock()
	c := e.browser()
	e.signIn(c, e.admin)
	resp, page := e.get(c, "/incidents/"+st.ID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("incident page: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `id="assumed-discovered_at"`) {
		t.Error("the incident page does not say discovered_at was assumed")
	}
	row := rowOf(page, `id="ob-hk-pdpo"`)
	if !strings.Contains(row, "waiting for determined_at") || strings.Contains(row, "30 calendar days") {
		t.Errorf("a clock without its anchor:\n%s\nwant it waiting for determined_at, without its length", row)
	}
}
