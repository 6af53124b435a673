package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/workflows"
	"github.com/spf13/pflag"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
)

// devConfig is a dev configuration on free ports in dir.
func devConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	env := map[string]string{
		"BREACHFLOW_DATA_DIR":          dir,
		"BREACHFLOW_HTTP_ADDR":         "127.0.0.1:0",
		"BREACHFLOW_DEV_TEMPORAL_PORT": "0",
		"BREACHFLOW_DEV_UI_PORT":       "0",
		"BREACHFLOW_DEV_SMTP_ADDR":     "127.0.0.1:0",
		"BREACHFLOW_ALERT_SOURCES":     "monitoring:" + docSourceToken,
	}
	cfg, err := config.Flags(pflag.NewFlagSet("t", pflag.ContinueOnError), func(k string) string { return env[k] })()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startTestDev(t *testing.T, dir string) *devStack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	s, err := startDev(ctx, devConfig(t, dir), devOptions{Out: &out, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	if !strings.Contains(out.String(), s.token) || !strings.Contains(out.String(), "http://"+s.httpAddr) {
		t.Fatalf("banner lacks the token or the API URL:\n%s", out.String())
	}
	return s
}

type apiClient struct {
	t    *testing.T
	base string
}

// stepState is the state of a step of an incident, as the API shows it.
// stepOf returns step id of a status answer, failing when it has none.
func stepOf(t *testing.T, status map[string]any, id string) map[string]any {
	t.Helper()
	steps, _ := status["steps"].([]any)
	for _, s := range steps {
		if m, _ := s.(map[string]any); m["id"] == id {
			return m
		}
	}
	t.Fatalf("status has no step %s: %v", id, status)
	return nil
}

func (c apiClient) stepState(token, id, step string) string {
	c.t.Helper()
	_, st := c.do("GET", "/v1/incidents/"+id, token, nil, nil)
	steps, _ := st["steps"].([]any)
	for _, s := range steps {
		if m := s.(map[string]any); m["id"] == step {
			return fmt.Sprint(m["state"])
		}
	}
	return ""
}

func (c apiClient) do(method, path, token string, body any, hdr map[string]string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		c.t.Errorf("%s %s: %d with Content-Type %q, want application/problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// eventually polls f until it returns true or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestDevStackEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	dir := t.TempDir()
	stack := startTestDev(t, dir)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stack.Stop()
		}
	})
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token

	// Tokens for the other roles, made the way an operator makes them.
	ctx := context.Background()
	viewer, _, err := stack.store.CreateToken(ctx, "vic-viewer", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	responder, _, err := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}

	if code, _ := c.do("GET", "/healthz", "", nil, nil); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	if code, body := c.do("GET", "/readyz", "", nil, nil); code != 200 {
		t.Fatalf("readyz = %d %v", code, body)
	}

	// Authentication and roles.
	if code, _ := c.do("GET", "/v1/incidents", "", nil, nil); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	if code, _ := c.do("GET", "/v1/incidents", "bf_wrong", nil, nil); code != 401 {
		t.Fatalf("wrong token: %d, want 401", code)
	}
	title := "CRM export on a public bucket zq7"
	awareAt := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	launch := map[string]any{
		"playbook": "customer-data-breach", "title": title, "severity": "high",
		"external_ref": "SIEM-4411", "aware_at": awareAt.Format(time.RFC3339),
		"data_categories": []string{"contact", "financial"}, "jurisdictions": []string{"DE", "US-CA"},
	}
	if code, _ := c.do("POST", "/v1/incidents", viewer, launch, nil); code != 403 {
		t.Fatalf("viewer launch: %d, want 403", code)
	}

	// Bad input: clear problems naming the field, nothing started.
	for _, tc := range []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{"malformed", `{"playbook":`, 400, ""},
		{"unknown field", `{"playbook":"customer-data-breach","title":"x","colour":"red"}`, 400, "colour"},
		{"wrong type", `{"playbook":"customer-data-breach","title":7}`, 400, "title"},
		{"unknown playbook", map[string]any{"playbook": "nope", "title": "x"}, 422, "playbook"},
		{"bad time", map[string]any{"playbook": "customer-data-breach", "title": "x", "aware_at": "yesterday"}, 422, "aware_at"},
		{"future aware_at", map[string]any{"playbook": "customer-data-breach", "title": "x", "aware_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, 422, "aware_at"},
		{"bad jurisdiction", map[string]any{"playbook": "customer-data-breach", "title": "x", "jurisdictions": []string{"Germany"}}, 422, "jurisdictions[0]"},
		{"oversized", `{"title":"` + strings.Repeat("a", 2<<20) + `"}`, 413, ""},
	} {
		code, body := c.do("POST", "/v1/incidents", responder, tc.body, nil)
		if code != tc.code {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, code, tc.code, body)
			continue
		}
		if tc.field != "" && !strings.Contains(fmt.Sprint(body["errors"]), "field:"+tc.field+" ") {
			t.Errorf("%s: problem %v does not name field %s", tc.name, body, tc.field)
		}
	}

	code, created := c.do("POST", "/v1/incidents", responder, launch, map[string]string{"Idempotency-Key": "launch-1"})
	if code != 201 {
		t.Fatalf("launch: %d %v", code, created)
	}
	id, _ := created["id"].(string)
	if !strings.HasPrefix(id, "BR-") {
		t.Fatalf("id = %q", id)
	}
	wantDue := awareAt.Add(72 * time.Hour).Format(time.RFC3339)
	if got := fmt.Sprint(created["obligations"]); !strings.Contains(got, "gdpr-art33") || !strings.Contains(got, wantDue) {
		t.Fatalf("launch obligations = %s, want gdpr-art33 due %s", got, wantDue)
	}
	// The answer is the workflow's own first status (Update-with-Start):
	// its timeline already records the launch and the first ready step.
	if got := fmt.Sprint(created["timeline"]); !strings.Contains(got, "incident.launched") || !strings.Contains(got, "step.ready") {
		t.Fatalf("launch timeline = %s, want the workflow's launch and first ready step", got)
	}

	// Repeats return the same incident: by Idempotency-Key, then by external_ref.
	code, again := c.do("POST", "/v1/incidents", responder, launch, map[string]string{"Idempotency-Key": "launch-1"})
	if code != 200 || again["id"] != id {
		t.Fatalf("repeat by key: %d id=%v, want 200 %s", code, again["id"], id)
	}
	code, again = c.do("POST", "/v1/incidents", responder, launch, nil)
	if code != 200 || again["id"] != id {
		t.Fatalf("repeat by external_ref: %d id=%v, want 200 %s", code, again["id"], id)
	}

	// Status from the workflow's query, with the 72-hour clock.
	var status map[string]any
	eventually(t, 30*time.Second, "status query", func() bool {
		code, status = c.do("GET", "/v1/incidents/"+id, viewer, nil, nil)
		return code == 200
	})
	if status["title"] != title || status["status"] != "active" || status["launched_by"] != "rita-responder" {
		t.Fatalf("status = %v", status)
	}
	if nd, _ := status["next_deadline"].(string); nd != wantDue {
		t.Fatalf("next_deadline = %q, want %s", nd, wantDue)
	}
	if code, _ := c.do("GET", "/v1/incidents/BR-ZZZZZZ", viewer, nil, nil); code != 404 {
		t.Fatalf("unknown incident: %d, want 404", code)
	}

	// Listed through visibility with the typed search attributes.
	// Its row carries the workflow's phase, which the workflow writes to
	// the store as it moves.
	phase, _ := status["phase"].(string)
	if phase == "" {
		t.Fatalf("status has no phase: %v", status)
	}
	eventually(t, 30*time.Second, "incident in list with its phase", func() bool {
		code, list := c.do("GET", "/v1/incidents?status=active&severity=high&playbook=customer-data-breach", viewer, nil, nil)
		rows, _ := list["incidents"].([]any)
		for _, r := range rows {
			if row, _ := r.(map[string]any); code == 200 && row["id"] == id && row["title"] == title && row["phase"] == phase {
				return true
			}
		}
		return false
	})
	if code, _ := c.do("GET", "/v1/incidents?status="+url.QueryEscape("open' OR 1=1"), viewer, nil, nil); code != 400 {
		t.Fatalf("bad status filter: %d, want 400", code)
	}

	// History on the server holds no plaintext title: read it raw, with a
	// client that has no codec.
	raw, err := client.Dial(client.Options{HostPort: stack.temporal.FrontendHostPort()})
	if err != nil {
		t.Fatal(err)
	}
	it := raw.GetWorkflowHistory(ctx, workflows.IncidentWorkflowID(id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		b, _ := proto.Marshal(ev)
		if bytes.Contains(b, []byte(title)) || bytes.Contains(b, []byte("zq7")) {
			t.Fatalf("history event %d (%s) holds the plaintext title", ev.GetEventId(), ev.GetEventType())
		}
	}
	desc, err := raw.DescribeWorkflowExecution(ctx, workflows.IncidentWorkflowID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := proto.Marshal(desc); bytes.Contains(b, []byte(title)) {
		t.Fatal("workflow description (memo, search attributes) holds the plaintext title")
	}
	raw.Close()
	if events < 3 {
		t.Fatalf("history has %d events; expected the workflow to have run", events)
	}

	// A second incident whose 72-hour clock runs out 25 s from now: the
	// timer must survive a restart of the whole stack.
	soon := time.Now().Add(-72*time.Hour + 25*time.Second).UTC().Truncate(time.Second)
	code, late := c.do("POST", "/v1/incidents", admin, map[string]any{
		"playbook": "customer-data-breach", "title": "Lost laptop", "aware_at": soon.Format(time.RFC3339), "jurisdictions": []string{"FR"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch 2: %d %v", code, late)
	}
	lateID := late["id"].(string)
	eventually(t, 30*time.Second, "second incident running", func() bool {
		code, _ := c.do("GET", "/v1/incidents/"+lateID, viewer, nil, nil)
		return code == 200
	})

	// A second dev on the same data dir is refused, clearly.
	_, err = startDev(ctx, devConfig(t, dir), devOptions{TemporalLogLevel: "fatal"})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second dev on the same dir: %v, want an 'in use' error", err)
	}

	if err := stack.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	stopped = true

	stack2 := startTestDev(t, dir)
	t.Cleanup(func() { _ = stack2.Stop() })
	if stack2.token != admin {
		t.Fatalf("admin token changed across restart")
	}
	c2 := apiClient{t: t, base: "http://" + stack2.httpAddr}
	eventually(t, 60*time.Second, "first incident after restart", func() bool {
		code, st := c2.do("GET", "/v1/incidents/"+id, viewer, nil, nil)
		return code == 200 && st["title"] == title && st["next_deadline"] == wantDue
	})
	eventually(t, 90*time.Second, "the restarted clock to fire", func() bool {
		code, st := c2.do("GET", "/v1/incidents/"+lateID, viewer, nil, nil)
		return code == 200 && strings.Contains(fmt.Sprint(st["obligations"]), "status:overdue")
	})
	code, st := c2.do("GET", "/v1/incidents/"+lateID, viewer, nil, nil)
	if code != 200 || !strings.Contains(fmt.Sprint(st["timeline"]), "obligation.overdue") {
		t.Fatalf("timeline lacks the overdue entry: %v", st["timeline"])
	}
}
