package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store/dburl"
)

// readyz reads GET /readyz: its status and its body's checks and failed list.
func readyz(t *testing.T, base string) (int, map[string]any, []any) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Checks map[string]any `json:"checks"`
		Failed []any          `json:"failed"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("readyz body %q: %v", raw, err)
	}
	return resp.StatusCode, body.Checks, body.Failed
}

// TestReadyzAndTemporalOutage: /readyz answers 503 naming the store when
// the store is closed, and naming Temporal when the Temporal server is
// stopped; /healthz stays 200 (liveness only). With Temporal stopped, a
// launch, an action and a read of an incident answer 503 with
// Retry-After, and the refused launch records nothing.
func TestReadyzAndTemporalOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	dir := t.TempDir()
	stack := startTestDev(t, dir)
	t.Cleanup(func() { _ = stack.Stop() })
	base := "http://" + stack.httpAddr
	c := apiClient{t: t, base: base}
	if code, checks, _ := readyz(t, base); code != 200 || checks["store"] != "ok" || checks["temporal"] != "ok" {
		t.Fatalf("readyz with everything up = %d %v", code, checks)
	}
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{"playbook": "customer-data-breach", "title": "Before the outage"}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)

	t.Run("store closed", func(t *testing.T) {
		st, err := dburl.Open(context.Background(), migratedStore(t, filepath.Join(dir, "closed.db")))
		if err != nil {
			t.Fatal(err)
		}
		catalog, err := playbooks.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.New(api.Deps{Store: st, Temporal: stack.client, Playbooks: catalog}).Handler())
		defer srv.Close()
		if code, _, _ := readyz(t, srv.URL); code != 200 {
			t.Fatalf("readyz before the store closed = %d", code)
		}
		st.Close()
		code, checks, failed := readyz(t, srv.URL)
		if code != 503 || checks["store"] != "unreachable" || checks["temporal"] != "ok" || !slices.Equal(failed, []any{"store"}) {
			t.Errorf("readyz with the store closed = %d %v failed=%v, want 503 naming the store", code, checks, failed)
		}
	})

	t.Run("temporal stopped", func(t *testing.T) {
		if err := stack.temporal.Stop(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code, checks, failed := readyz(t, base)
		t.Logf("readyz answered %d after %s", code, time.Since(start).Round(time.Millisecond))
		if code != 503 || checks["temporal"] != "unreachable" || checks["store"] != "ok" || !slices.Equal(failed, []any{"temporal"}) {
			t.Errorf("readyz with Temporal stopped = %d %v failed=%v, want 503 naming temporal", code, checks, failed)
		}
		if code, _ := c.do("GET", "/healthz", "", nil, nil); code != 200 {
			t.Errorf("healthz with Temporal stopped = %d, want 200 (liveness only)", code)
		}
		before, err := stack.store.UnrestrictedIncidents(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/v1/incidents", map[string]any{"playbook": "customer-data-breach", "title": "During the outage"}},
			{"POST", "/v1/incidents/" + id + "/remediations", map[string]any{"title": "rotate the keys"}},
			{"GET", "/v1/incidents/" + id, nil},
		} {
			start := time.Now()
			code, retry, body := doWithHeader(t, base, call.method, call.path, stack.token, call.body)
			t.Logf("%s %s with Temporal stopped: %d after %s", call.method, call.path, code, time.Since(start).Round(time.Millisecond))
			if code != 503 || retry == "" {
				t.Errorf("%s %s = %d Retry-After %q %v, want 503 with Retry-After", call.method, call.path, code, retry, body)
			}
		}
		after, err := stack.store.UnrestrictedIncidents(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("the refused launch recorded an incident: %d before, %d after", len(before), len(after))
		}
	})
}

// doWithHeader sends one request and returns its status, its Retry-After
// and its problem body.
func doWithHeader(t *testing.T, base, method, path, token string, body any) (int, string, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out
}
