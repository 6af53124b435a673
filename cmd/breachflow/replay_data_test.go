package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// replayKey encrypts the histories saved for the replay test. It protects
// nothing: those histories hold only made-up test incidents.
const replayKey = "replay1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// TestEveryPlaybookRunsToClose drives each shipped playbook from launch to
// close with an admin doing every step. With BREACHFLOW_WRITE_HISTORIES=1
// it saves each run's history to workflows/testdata for the replay test.
func TestEveryPlaybookRunsToClose(t *testing.T) {
	stack, c := replayStack(t)
	for _, pb := range []string{"customer-data-breach", "insider-exfiltration", "ransomware-extortion"} {
		t.Run(pb, func(t *testing.T) {
			c.t = t
			started := time.Now()
			id := driveToClose(t, c, stack.token, secondLegal(t, stack), pb)
			events := saveHistory(t, stack, id, pb)
			t.Logf("%s: closed in %s, %d history events", pb, time.Since(started).Round(time.Millisecond), events)
		})
	}
}

// driveToClose launches pb and works it like a tireless admin: sets the
// facts steps require, completes or approves every ready step, files the
// regulator duties and waives the rest, then closes.
func driveToClose(t *testing.T, c apiClient, token, second, pb string) string {
	t.Helper()
	code, inc := c.do("POST", "/v1/incidents", token, map[string]any{
		"playbook": pb, "title": "Replay run of " + pb, "severity": "high",
		"aware_at": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"DE", "US-NY"},
		"flags": []string{"nydfs_regulated", "extortion_payment"}, "extortion_paid_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
	}, nil)
	if code != 201 {
		t.Fatalf("launch %s: %d %v", pb, code, inc)
	}
	id := inc["id"].(string)
	out := workToClose(t, c, token, second, id)
	// The list reads the phase the workflow last wrote to the store.
	eventually(t, 10*time.Second, "closed phase in the incident list", func() bool {
		_, list := c.do("GET", "/v1/incidents?status=closed", token, nil, nil)
		rows, _ := list["incidents"].([]any)
		for _, r := range rows {
			if row, _ := r.(map[string]any); row["id"] == id {
				return row["phase"] == "closed"
			}
		}
		return false
	})
	return out
}

// replayStack starts a dev stack whose payloads are sealed with
// replayKey, so a run's history can be saved for the replay test, and
// returns it with an API client; both end with the test.
func replayStack(t *testing.T) (*devStack, apiClient) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	cfg := devConfig(t, t.TempDir())
	cfg.EncryptionKeys = replayKey
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	return stack, apiClient{t: t, base: "http://" + stack.httpAddr}
}

// secondLegal mints the legal token that gives an approval step's second
// approval: two-person control needs two distinct people.
func secondLegal(t *testing.T, stack *devStack) string {
	t.Helper()
	tok, _, err := stack.store.CreateToken(context.Background(), "second-legal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// workToClose sets the facts steps require on a launched incident and
// works it to close as driveToClose describes; second gives the second
// approval of a step that needs two.
func workToClose(t *testing.T, c apiClient, token, second, id string) string {
	t.Helper()
	base := "/v1/incidents/" + id
	if code, body := c.do("PATCH", base, token, map[string]any{"affected": map[string]int{"DE": 40, "US-NY": 12}, "risk": "high"}, nil); code != 200 {
		t.Fatalf("patch: %d %v", code, body)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		_, st := c.do("GET", base, token, nil, nil)
		if st["status"] == "closed" {
			return id
		}
		acted := false
		for _, s := range st["steps"].([]any) {
			step := s.(map[string]any)
			if step["state"] != "ready" {
				continue
			}
			path := fmt.Sprintf("%s/steps/%s/complete", base, step["id"])
			body := map[string]any{"note": "done"}
			by := token
			if step["kind"] == "approval" {
				path = fmt.Sprintf("%s/steps/%s/decide", base, step["id"])
				body = map[string]any{"decision": "approve"}
				if approvals, _ := step["approvals"].([]any); len(approvals) > 0 {
					by = second
				}
			}
			if code, resp := c.do("POST", path, by, body, nil); code != 200 && code != 409 {
				t.Fatalf("%s: %d %v", path, code, resp)
			}
			acted = true
		}
		for _, o := range st["obligations"].([]any) {
			ob := o.(map[string]any)
			if ob["status"] == "filed" || ob["status"] == "waived" || ob["exempt"] == true {
				continue
			}
			if ob["recipient"] == "regulator" {
				c.do("POST", fmt.Sprintf("%s/obligations/%s/file", base, ob["id"]), token, map[string]any{"reference": "R", "delay_reason": "replay run"}, nil)
			} else {
				c.do("POST", fmt.Sprintf("%s/obligations/%s/waive", base, ob["id"]), token, map[string]any{"reason": "replay run"}, nil)
			}
			acted = true
		}
		if !acted {
			if code, _ := c.do("POST", base+"/close", token, map[string]any{"note": "replay run"}, nil); code == 200 {
				continue
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Fatalf("%s did not close within 90 s", id)
	return ""
}

func saveHistory(t *testing.T, stack *devStack, id, pb string) int {
	t.Helper()
	if err := stack.client.GetWorkflow(context.Background(), workflows.IncidentWorkflowID(id), "").Get(context.Background(), nil); err != nil {
		t.Fatalf("%s workflow: %v", pb, err)
	}
	it := stack.client.GetWorkflowHistory(context.Background(), workflows.IncidentWorkflowID(id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var hist historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	last := hist.Events[len(hist.Events)-1]
	if last.GetEventType() != enums.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		t.Fatalf("%s history ends with %s, want a completed workflow", pb, last.GetEventType())
	}
	// Every Update the run accepted was answered before it ended: none of
	// the callers (the close's above all) was left with an error.
	answered := map[string]bool{}
	for _, ev := range hist.Events {
		if a := ev.GetWorkflowExecutionUpdateCompletedEventAttributes(); a != nil {
			answered[a.GetMeta().GetUpdateId()] = true
		}
	}
	for _, ev := range hist.Events {
		if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && !answered[a.GetProtocolInstanceId()] {
			t.Errorf("%s: Update %s (%s) was accepted and never answered", pb, a.GetProtocolInstanceId(), a.GetAcceptedRequest().GetInput().GetName())
		}
	}
	checkSearchUpserts(t, pb, &hist)
	if os.Getenv("BREACHFLOW_WRITE_HISTORIES") != "" {
		raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "workflows", "testdata", "history-"+pb+".json"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return len(hist.Events)
}

// checkSearchUpserts: every search-attribute upsert in a closed run's
// history changes a value (each is a visibility write: "search-upsert-on-change"),
// and the last ones say the incident is closed.
func checkSearchUpserts(t *testing.T, pb string, hist *historypb.History) {
	t.Helper()
	state := map[string]string{}
	for _, ev := range hist.Events {
		a := ev.GetUpsertWorkflowSearchAttributesEventAttributes()
		if a == nil {
			continue
		}
		changed := false
		for name, p := range a.GetSearchAttributes().GetIndexedFields() {
			if v := string(p.GetData()); state[name] != v {
				state[name], changed = v, true
			}
		}
		if !changed {
			t.Errorf("%s: upsert at event %d sets the search attributes to what they were", pb, ev.GetEventId())
		}
	}
	if state["BreachStatus"] != `"closed"` {
		t.Errorf("%s: BreachStatus is %s at the end of a closed run", pb, state["BreachStatus"])
	}
}
