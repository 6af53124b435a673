package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// TestHoldRoutes: only legal (or admin) places and lifts a hold, each
// with a reason; a refused request writes nothing; the purge of a held
// incident is refused; every change is in the audit trail.
func TestHoldRoutes(t *testing.T) {
	// Temporal knows no workflow of the incident: the store's status stands.
	e := newDashEnvWith(t, func(d *Deps) { d.Temporal = &launchTemporal{} })
	ctx := context.Background()
	legal, _, err := e.store.CreateToken(ctx, "lou-legal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	const id = "BR-7K3F9Q"
	if _, _, err := e.store.CreateIncident(ctx, store.Incident{ID: id, PlaybookID: "customer-data-breach", PlaybookVersion: 1,
		Severity: "high", CreatedBy: "t", CreatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	base := "/v1/incidents/" + id + "/hold"
	send := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	audited := func() []string {
		t.Helper()
		events, err := e.store.ListAudit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range events {
			out = append(out, ev.Action+" by "+ev.Actor)
		}
		return out
	}
	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"viewer places", "POST", base, e.viewer, `{"reason":"x"}`, http.StatusForbidden},
		{"no reason", "POST", base, legal, `{"reason":"  "}`, http.StatusUnprocessableEntity},
		{"unknown incident", "POST", "/v1/incidents/BR-0000AA/hold", legal, `{"reason":"x"}`, http.StatusNotFound},
		{"lift without a hold", "POST", base + "/lift", legal, `{"reason":"x"}`, http.StatusConflict},
	} {
		if code, body := send(tc.method, tc.path, tc.token, tc.body); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
	if got := audited(); len(got) != 0 {
		t.Fatalf("refused requests wrote %v", got)
	}
	code, body := send("POST", base, legal, `{"reason":"litigation hold, case 26-1187"}`)
	var st HoldState
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusCreated || !st.Held || st.Hold.PlacedBy != "lou-legal" {
		t.Fatalf("place: %d %s", code, body)
	}
	if code, _ := send("POST", base, legal, `{"reason":"again"}`); code != http.StatusConflict {
		t.Errorf("a second hold: %d, want 409", code)
	}
	if code, body := send("DELETE", "/v1/incidents/"+id+"/subjects?reason=retention", e.admin, ""); code != http.StatusConflict || !strings.Contains(body, "legal hold") {
		t.Errorf("purge under hold: %d %s", code, body)
	}
	if code, _ := send("DELETE", "/v1/incidents/"+id+"/subjects?reason=retention", legal, ""); code != http.StatusForbidden {
		t.Errorf("purge by legal: %d, want 403 (admin only)", code)
	}
	if code, body := send("GET", base, e.viewer, ""); code != 200 || !strings.Contains(body, `"held":true`) {
		t.Errorf("a viewer reads the hold: %d %s", code, body)
	}
	if code, body := send("DELETE", base+"?reason=case+settled", legal, ""); code != 200 || !strings.Contains(body, `"held":false`) ||
		!strings.Contains(body, `"lift_reason":"case settled"`) {
		t.Errorf("lift: %d %s", code, body)
	}
	if code, body := send("DELETE", "/v1/incidents/"+id+"/subjects?reason=retention", e.admin, ""); code != http.StatusConflict || !strings.Contains(body, "still active") {
		t.Errorf("purge of an active incident: %d %s", code, body)
	}
	if got := strings.Join(audited(), ", "); got != "hold.placed by lou-legal, hold.lifted by lou-legal" {
		t.Errorf("audit: %s", got)
	}
}

// finishedFirst plays Temporal's answer to a close whose workflow ended
// before the Update's answer went out, and the closed status after it.
type finishedFirst struct {
	client.Client
}

// CheckHealth answers as a reachable frontend does.
func (finishedFirst) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func (finishedFirst) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, temporal.NewNonRetryableApplicationError("Workflow Update failed because the Workflow completed before the Update completed.",
		"AcceptedUpdateCompletedWorkflow", nil)
}

func (finishedFirst) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return statusValue{&breach.Status{ID: "BR-7K3F9Q", Status: breach.StatusClosed}}, nil
}

// TestCloseThatFinishedFirstIsClosed: the close took effect when the
// workflow finished before answering; the caller gets the closed status,
// not a 500.
func TestCloseThatFinishedFirstIsClosed(t *testing.T) {
	e := newDashEnvWith(t, func(d *Deps) { d.Temporal = finishedFirst{} })
	if _, _, err := e.store.CreateIncident(context.Background(), store.Incident{ID: "BR-7K3F9Q", PlaybookID: "customer-data-breach",
		PlaybookVersion: 1, Severity: "high", CreatedBy: "t", CreatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	code, body := e.bearerPost("/v1/incidents/BR-7K3F9Q/close", e.admin, `{"note":"done"}`)
	if code != http.StatusOK || !strings.Contains(body, `"status":"closed"`) {
		t.Fatalf("close: %d %s, want 200 with the closed status", code, body)
	}
}
