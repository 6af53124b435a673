package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// refusingAPI answers the first refusals requests 503 with Retry-After: 1,
// as the API does while Temporal or the store is away, and then 201 with
// an incident; it records each request's Idempotency-Key.
type refusingAPI struct {
	srv       *httptest.Server
	mu        sync.Mutex
	refusals  int
	keys      []string
	refusedAt []time.Time
}

func newRefusingAPI(t *testing.T, refusals int) *refusingAPI {
	a := &refusingAPI{refusals: refusals}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a.mu.Lock()
		a.keys = append(a.keys, r.Header.Get("Idempotency-Key"))
		refuse := len(a.keys) <= a.refusals
		if refuse {
			a.refusedAt = append(a.refusedAt, time.Now())
		}
		a.mu.Unlock()
		if refuse {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"title":"Service Unavailable","status":503,"detail":"Temporal is unreachable; retry later"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, incidentJSON)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *refusingAPI) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.keys...)
}

// TestIncidentCmdWaitsOnRetryAfter: a launch refused with 503 and
// Retry-After is sent again after the wait the API asked for, with the
// same Idempotency-Key, and succeeds; a request that cannot be sent again
// safely — a POST without a key, an upload — is not, and its 503 reaches
// the caller at once.
func TestIncidentCmdWaitsOnRetryAfter(t *testing.T) {
	a := newRefusingAPI(t, 2)
	out, err := runIncident(t, map[string]string{"BREACHFLOW_API_URL": a.srv.URL, "BREACHFLOW_TOKEN": "tok-123"}, "launch",
		"--playbook", "customer-data-breach", "--title", "CRM export on a public bucket", "--severity", "high",
		"--aware-at", "2026-11-23T08:00:00Z", "--jurisdiction", "DE", "--idempotency-key", "launch-42")
	if err != nil {
		t.Fatalf("launch after two refusals: %v", err)
	}
	assertContains(t, out, "Launched BR-7K3F9Q.")
	if keys := a.requests(); len(keys) != 3 || keys[0] != "launch-42" || keys[1] != "launch-42" || keys[2] != "launch-42" {
		t.Fatalf("the API got Idempotency-Keys %q, want launch-42 three times", keys)
	}
	a.mu.Lock()
	gap := a.refusedAt[1].Sub(a.refusedAt[0])
	a.mu.Unlock()
	if gap < 900*time.Millisecond {
		t.Errorf("sent again %s after the refusal, want the 1 s Retry-After asked", gap)
	}

	for _, req := range []apiRequest{
		{method: http.MethodPost, path: "/v1/incidents/BR-7K3F9Q/notices/send"},
		{method: http.MethodPost, path: "/v1/incidents/BR-7K3F9Q/subjects", upload: strings.NewReader("external_id\nC1\n"), contentType: "text/csv"},
	} {
		a := newRefusingAPI(t, 2)
		c := &incidentAPI{base: a.srv.URL, token: "tok-123", http: &http.Client{Timeout: 5 * time.Second}}
		_, err := c.do(context.Background(), req)
		var apiErr *apiError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
			t.Errorf("%s %s refused: err = %v, want the 503", req.method, req.path, err)
		}
		if n := len(a.requests()); n != 1 {
			t.Errorf("%s %s was sent %d times, want once (it cannot be repeated safely)", req.method, req.path, n)
		}
	}
}
